"""The evaluation report's harness (``evaluation.model_report``) on a tiny untrained model and one short real
utterance: every system row is there, the model live equals it offline with text, the plots are
written, the held-out corpus voices load with their exact phones, and the verdict says PASS or FAIL
as hand-made numbers deserve."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
import yaml
from matplotlib.image import imread

from pmmtalk_live import evaluation
from pmmtalk_live.evaluation import lipsync as metrics, model_report as me
from pmmtalk_live.model.pmmtalk import PMMTalk
from pmmtalk_live.corpus import CORPUS_FILE
from pmmtalk_live.dataset import write_utterance

from .test_model_filterbank import small_config

pytestmark = pytest.mark.usefixtures("one_thread")
FPS = 60


@pytest.fixture(scope="module")
def model() -> PMMTalk:
    torch.manual_seed(0)
    return PMMTalk(small_config()).eval()


@pytest.fixture(scope="module")
def sample(librivox) -> me.Sample:
    """'four queen of clubs' (2 s, another speaker, one bilabial)."""
    utt = next(u for u in evaluation.held_out_set() if u.name == "cards/002")
    return me.real_samples([utt], FPS)[0]


@pytest.fixture(scope="module")
def result(model, sample):
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield me.evaluate(model, me.DataSet("dev", "Dev set", "One utterance.", [sample], real=True), FPS)
    torch.set_num_threads(threads)


def test_every_system_row_is_in_the_table(model, result):
    text = me.table(result.scores, model, FPS)
    lines = text.splitlines()[2:]
    assert len(lines) == len(me.rows()) == 3 * len(me.LOOKAHEADS_MS) + 4
    for (system, lookahead_ms), line in zip(me.rows(), lines):
        assert line.startswith(f"| {system} | {me._lookahead((system, lookahead_ms))} |")
    # the model's own latency (about 96 ms with the shipped shape) rules out 50 ms, and only that
    assert result.scores[(me.PMMTALK, 50)] is None and "| not available (needs 96 ms) |" in text
    assert result.scores[(me.PMMTALK, 100)] is not None and result.scores[(me.PMMTALK, 200)] is not None
    assert result.scores[(me.VISUAL, None)] is None and "no Wav2Lip weights" in text
    for key, scores in result.scores.items():
        if scores is not None:
            assert scores.figures["frames"] == len(result.example[0].coeffs), key
            assert scores.lipsync.bilabials == 1


def test_the_model_live_equals_offline_with_text_and_waiting_longer_changes_nothing(result):
    assert result.live_offline_diff is not None and result.live_offline_diff < 1e-4
    assert result.late_diff is not None and result.late_diff < 1e-6
    # without its text branch the model gives other curves (the ablation is a real one)
    tracks = result.example[1]
    assert np.abs(tracks[(me.AUDIO_ONLY, None)] - tracks[(me.AUDIO_TEXT, None)]).max() > 1e-3


def test_the_reference_is_the_teacher_on_the_forced_alignment(sample):
    from pmmtalk_live.animators.phonetic import PhoneticAnimator

    teacher = PhoneticAnimator().animate(sample.audio, FPS, "four queen of clubs")
    np.testing.assert_array_equal(sample.coeffs, teacher.values)
    # scored against itself, the reference closes every closure and every bilabial
    perfect = me.score_rows([sample], [{("reference", None): sample.coeffs}], FPS)[("reference", None)]
    assert perfect.figures["lip_max_error"] == 0 and perfect.figures["closure_rate"] == 1
    assert perfect.lipsync.closures == perfect.lipsync.bilabials == 1


def test_report_and_plots(tmp_path, model, result):
    plots = {"bars-dev": str(me.plot_bars(result, tmp_path / "bars-dev.png")),
             "example": str(me.plot_example(result, tmp_path / "example.png", FPS))}
    for path in plots.values():
        assert imread(path).shape[0] > 200
    prov = me.Provenance("python -m pmmtalk_live.model_evaluation --ckpt some/run", "some/run", "0123456789ab", False, "abc1234", "2026-01-01 00:00 UTC", "2 CPUs")
    speed = me.Speed(60.0, 0.2, 0.07, 1.5)
    report = me.render([result], speed, model, FPS, prov, plots)
    assert "make eval" in report and "0123456789ab" in report and "NOT made with the shipped model" in report
    assert "**Dev set: FAIL**" in report or "**Dev set: PASS**" in report
    assert report.count("- PASS: ") + report.count("- FAIL: ") == 2 * len(me.VERDICT_MEASURES)
    assert "PMMTalk default 0.200" in report and "load average 1.5" in report and "![Dev set](" in report
    assert "`python -m pmmtalk_live.model_evaluation --ckpt some/run`" in report


def test_speed_runs_on_one_core_and_restores_the_process(model, sample):
    affinity, threads = os.sched_getaffinity(0), torch.get_num_threads()
    speed = me.measure_speed(model, sample.audio.samples[:16000], FPS, cpu=min(affinity))
    assert speed.seconds == 1.0 and speed.model_rtf > 0 and speed.phonetic_rtf > 0
    assert os.sched_getaffinity(0) == affinity and torch.get_num_threads() == threads


def test_held_out_corpus_voices_load_with_their_exact_phones(tmp_path, sample):
    root = tmp_path / "corpus"
    timed = [[p.label, p.start_s, p.end_s] for p in sample.phones]
    for voice in ("flite-rms", "flite-slt"):
        write_utterance(root, f"000000-{voice}", sample.audio, sample.coeffs, FPS, voice, "four queen of clubs",
                        extra={"language": "en", "phones": timed})
    (root / CORPUS_FILE).write_text(yaml.safe_dump({"held_out": ["flite-rms"]}))
    [dataset] = me.corpus_sets(root, FPS)
    assert dataset.slug == "synthetic-flite-rms" and "(en)" in dataset.title and not dataset.real
    [loaded] = dataset.samples
    assert [(p.label, p.start_s, p.end_s) for p in loaded.phones] == [tuple(p) for p in timed]
    np.testing.assert_allclose(loaded.coeffs, sample.coeffs, atol=1e-5)


# --- the verdict on hand-made numbers ----------------------------------------------------------------------

def scores(lip_max=0.2, lip_mean=0.03, events=(3, 4), bilabials=(3, 4), correlation=0.7, jitter=0.01, lag=0.0):
    figures = {"lip_max_error": lip_max, "lip_mean_error": lip_mean, "closures_hit": events[0],
               "closure_events": events[1], "closure_rate": events[0] / events[1], "jitter_prediction": jitter,
               "jitter_reference": 0.005, "lag_ms": lag}
    return me.Scores(figures, metrics.LipSyncScores(bilabials[0], bilabials[1], 0.4, 0.05, correlation))


def table_of(model, phonetic, loudness):
    return {(me.PMMTALK, 100): model, (me.PHONETIC, 100): phonetic, (me.LOUDNESS, 100): loudness}


LOUD = scores(lip_max=0.3, lip_mean=0.04, events=(1, 4), bilabials=(0, 4), correlation=0.5)


def test_verdict_passes_a_model_as_good_as_the_phonetic_animator_and_better_than_the_loudness_jaw():
    checks = me.verdict(table_of(scores(), scores(), LOUD))
    assert [c.ok for c in checks] == [True] * 10
    assert me.check_lines(checks).count("- PASS: ") == 10
    better = scores(lip_max=0.1, events=(4, 4), correlation=0.8)
    assert all(c.ok for c in me.verdict(table_of(better, scores(), LOUD)))


def test_verdict_fails_each_figure_that_is_worse():
    worse = scores(lip_max=0.25, bilabials=(2, 4))  # worse than the phonetic animator on two measures
    checks = me.verdict(table_of(worse, scores(), LOUD))
    failed = [(c.measure.key, c.other) for c in checks if not c.ok]
    assert failed == [("lip_max_error", me.PHONETIC), ("bilabial_closure_rate", me.PHONETIC)]
    # a tie with the loudness jaw does not beat it
    tie = me.verdict(table_of(scores(correlation=0.5), scores(correlation=0.5), LOUD))
    assert [(c.measure.key, c.other) for c in tie if not c.ok] == [("openness_correlation", me.LOUDNESS)]
    # a missing figure (no closure events) cannot pass
    missing = scores()
    missing.figures["closure_rate"] = None
    assert [c.ok for c in me.verdict(table_of(missing, scores(), LOUD)) if c.measure.key == "closure_rate"] == [None, None]


def test_weak_points_name_each_measure_and_data_set_where_the_model_is_worse():
    dataset = me.DataSet("x", "Some set", "", [], real=True)
    result = me.Result(dataset, table_of(scores(jitter=0.02, lag=-50.0, correlation=0.5), scores(), LOUD), None, None)
    assert me.weak_points([result]) == [
        "- Some set: worse than phonetic live on openness correlation (0.50 vs 0.70); jitter (0.020 vs 0.010); "
        "lag (-50 ms vs +0 ms)",
        "- Some set: not better than loudness jaw on openness correlation (0.50 vs 0.50)"]
    # figures that round alike get the digits that tell them apart
    close = me.Result(dataset, table_of(scores(lip_max=0.12562), scores(lip_max=0.12551), LOUD), None, None)
    assert me.weak_points([close]) == ["- Some set: worse than phonetic live on max lip error (0.1256 vs 0.1255)"]
    checks = me.verdict(close.scores)
    assert "max lip error: PMMTalk live 0.1256 no worse than phonetic live 0.1255" in me.check_lines(checks)
    # jitter and lag are not the verdict's: the smooth, on-time loudness jaw is no bar on them
    assert me.weak_points([me.Result(dataset, table_of(scores(), scores(), LOUD), None, None)]) == []


def test_before_rows_compare_the_model_with_the_one_it_replaced(model, sample):
    """With a "before" model the report has its rows (live at the default look-ahead, offline) and a
    before-and-after section; the before model live equals it offline, as the model's own rows do."""
    torch.manual_seed(1)
    before = PMMTalk(small_config()).eval()
    with torch.no_grad():  # untrained, a model's output layers start at zero: make this one another model
        for p in before.parameters():
            p.add_(torch.randn_like(p) * 0.05)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        result = me.evaluate(model, me.DataSet("dev", "Dev set", "One utterance.", [sample], real=True), FPS,
                             before=before)
    finally:
        torch.set_num_threads(threads)
    assert list(result.scores) == me.rows(before=True) == me.rows() [:3 * len(me.LOOKAHEADS_MS)] + [
        (me.BEFORE_LIVE, me.DEFAULT_LOOKAHEAD_MS)] + me.rows()[3 * len(me.LOOKAHEADS_MS):] + [(me.BEFORE_OFFLINE, None)]
    tracks = result.example[1]
    live, offline = tracks[(me.BEFORE_LIVE, me.DEFAULT_LOOKAHEAD_MS)], tracks[(me.BEFORE_OFFLINE, None)]
    assert np.abs(live - offline).max() < 1e-4
    assert np.abs(offline - tracks[(me.AUDIO_TEXT, None)]).max() > 1e-3  # another model: other curves
    prov = me.Provenance("python -m pmmtalk_live.evaluation.model_report", "default", "0123456789ab", True, "abc1234",
                         "2026-01-01 00:00 UTC", "2 CPUs")
    report = me.render([result], None, model, FPS, prov, {}, before="mel-visemes")
    section = report.split("## Before and after", 1)[1].split("\n## ", 1)[0]
    assert "`mel-visemes`" in section and "stream-evaluation.md" in section
    after_live = result.scores[(me.PMMTALK, me.DEFAULT_LOOKAHEAD_MS)].lipsync.openness_correlation
    before_live = result.scores[(me.BEFORE_LIVE, me.DEFAULT_LOOKAHEAD_MS)].lipsync.openness_correlation
    assert section.count("| Dev set | ") == 2  # live and offline
    assert f"**{me._fmt_pair('openness_correlation', after_live, before_live)[0]}** " \
           f"({me._fmt_pair('openness_correlation', after_live, before_live)[1]})" in section
    assert "| PMMTalk before (the previous default), live | 100 ms |" in me.table(result.scores, model, FPS)
    assert "## Before and after" not in me.render([result], None, model, FPS, prov, {})
