"""Continuous-stream evaluation (``evaluation.stream_report``): recordings go back to back on frame
boundaries, one serve session carries them all without restarting the animator, the one track is cut
back at the recordings' own frames, and real animators (phonetic, a packaged model) give scored rows."""

from __future__ import annotations

import numpy as np
import pytest

from pmmtalk_live import evaluation, rig
from pmmtalk_live.evaluation import stream_report as se
from pmmtalk_live.animators import LiveCoeffs
from pmmtalk_live.config import ServeConfig
from pmmtalk_live.evaluation.reference import aligned_samples
from pmmtalk_live.tracks import SAMPLE_RATE_HZ, Audio, num_frames_for

FPS = 60


class SampleAtFrame:
    """A ``LiveAnimator`` whose frame k carries (in every channel) the stream's sample at time k / fps,
    numbered from the stream's start: it shows exactly which audio each frame belongs to."""

    name = "sample-at-frame"

    def __init__(self, fps: float) -> None:
        self.fps, self.lookahead_s = fps, 0.0
        self.heard = np.zeros(0, np.float32)
        self.next_frame = 0
        self.animators_built = 1

    def _sample_index(self, k: int) -> int:
        return int(round(k * SAMPLE_RATE_HZ / self.fps))

    def _emit(self, end_frame: int) -> LiveCoeffs:
        first, self.next_frame = self.next_frame, max(end_frame, self.next_frame)
        values = [self.heard[i] if i < len(self.heard) else 0.0
                  for i in map(self._sample_index, range(first, self.next_frame))]
        coeffs = np.repeat(np.asarray(values, np.float32)[:, None], rig.NUM_COEFFS, axis=1)
        return LiveCoeffs(first, coeffs.reshape(-1, rig.NUM_COEFFS), np.zeros(len(values), np.float32))

    def process(self, samples: np.ndarray) -> LiveCoeffs:
        self.heard = np.concatenate([self.heard, samples])
        end = self.next_frame
        while self._sample_index(end) < len(self.heard):
            end += 1
        return self._emit(end)

    def skip(self, num_samples: int) -> int:
        raise AssertionError("nothing may be skipped")

    def flush(self) -> LiveCoeffs:
        return self._emit(num_frames_for(len(self.heard) / SAMPLE_RATE_HZ, self.fps))


def test_back_to_back_puts_each_recording_on_a_frame_boundary_after_a_pause():
    recordings = [np.full(n, v, np.float32) for n, v in ((1234, 0.1), (777, 0.2), (5000, 0.3))]
    session = se.back_to_back(recordings, FPS, pause_s=0.5)
    end = 0
    for rec, start in zip(recordings, session.starts):
        assert start * FPS % SAMPLE_RATE_HZ == 0, start  # a whole frame
        assert start - end >= 0.5 * SAMPLE_RATE_HZ and not session.samples[end:start].any()
        assert np.array_equal(session.samples[start:start + len(rec)], rec)
        end = start + len(rec)
    assert len(session.samples) - end == 0.5 * SAMPLE_RATE_HZ


def test_one_session_is_cut_back_at_each_recordings_frames():
    """Levels 0.1, 0.2, 0.3 with silence between: through a real ServeSession (engine, hops, flush)
    each cut track holds its own level in every frame, first and last included; one frame early or
    late would show the pause's 0."""
    lengths = (800 * 3 + 100, 800 * 5 + 100, 800 + 100)  # the last frame falls inside the recording
    recordings = [np.full(n, 0.1 * (i + 1), np.float32) for i, n in enumerate(lengths)]
    session = se.back_to_back(recordings, FPS)
    animator = SampleAtFrame(FPS)
    run = se.serve_session(session.samples, ServeConfig(animator="phonetic", fps=FPS), animator)
    coeffs = run.coeffs
    assert len(coeffs) == num_frames_for(session.duration_s, FPS) and len(run.activity) == len(coeffs)
    tracks = session.cut(coeffs)
    for i, (track, n) in enumerate(zip(tracks, lengths)):
        assert len(track) == num_frames_for(n / SAMPLE_RATE_HZ, FPS)
        np.testing.assert_allclose(track, 0.1 * (i + 1), rtol=1e-6)
        first, count = session.frame_spans()[i]
        assert not coeffs[first - 1].any() and not coeffs[first + count].any()  # the pauses around it
    with pytest.raises(ValueError, match="the recordings need"):
        session.cut(coeffs[:-len(coeffs) // 2])


def test_the_frame_step_is_a_whole_number_of_frames():
    assert se.frame_step_samples(60) == 800 and se.frame_step_samples(30) == 1600
    with pytest.raises(ValueError):
        se.frame_step_samples(29.97)


def test_failed_alignment_is_left_out_and_named(librivox):
    good = next(u for u in evaluation.held_out_set() if u.name == "cards/002")
    bad = evaluation.Utterance("nonsense", Audio(good.audio.samples), "zzxq qqxv")
    samples, skipped = aligned_samples([good, bad], FPS)
    assert [s.name for s in samples] == ["cards/002"]
    assert list(skipped) == ["nonsense"] and "dictionary" in skipped["nonsense"]


@pytest.mark.usefixtures("one_thread")
def test_real_animators_give_every_row(librivox):
    """Two short held-out utterances, one session each for the shipped 'before' model and the
    phonetic animator: every row is scored over all the recordings' bilabials."""
    from pmmtalk_live.model.inference import packaged_models

    if se.BEFORE_CKPT not in packaged_models():
        pytest.skip(f"the packaged model {se.BEFORE_CKPT!r} is not shipped")
    utts = [u for u in evaluation.held_out_set() if u.name in ("cards/002", "goforward")]
    samples, skipped = aligned_samples(utts, FPS)
    rows = se.systems(se.BEFORE_CKPT, None)
    result = se.evaluate_set("held-out-real", samples, skipped, rows, ServeConfig(fps=FPS))
    assert list(result.rows) == [r.label for r in rows] + [se.LOUDNESS]
    for label, row in result.rows.items():
        assert row.lipsync.bilabials == 2, label  # the B of "clubs", the M of "meters"
        assert 0 <= row.lipsync.closures <= 2 and np.isfinite(row.lipsync.openness_correlation), label
    assert result.rows[rows[0].label].run.lookahead_s >= 0.1  # serve's default, or the model's own if longer
    report = se.render([result], "python -m pmmtalk_live.stream_evaluation", ServeConfig(), rows, 1.0)
    assert "| PMMTalk `mel-visemes`, live |" in report and "Issue 15's bar" in report
    assert "Left out, alignment failed: 0." in report


def test_a_missing_set_is_one_line(tmp_path, monkeypatch, capsys):
    from pmmtalk_live.evaluation import codec2_set

    monkeypatch.setitem(se.SETS, "codec2", ("codec2", lambda: codec2_set(folder=tmp_path)))
    assert se.main(["--sets", "codec2", "--ckpt-before", ""]) == 2
    assert "install Debian's codec2-examples" in capsys.readouterr().err
    assert se.main(["--sets", "nope"]) == 2
