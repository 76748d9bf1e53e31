"""The synthetic corpus: a real build with real engines (flite, festival, espeak-ng), loadable, resumable,
extensible, with the labels the teacher gives its exact timings; the engines' timings against
pocketsphinx forced alignment; one-line errors for what is missing."""

from __future__ import annotations

import difflib
import os
import subprocess
import sys

import numpy as np
import pytest
import yaml

from pmmtalk_live.audio.loudness import loudness_envelope
from pmmtalk_live.phonetic import ARPABET, align_phones, render_phones, words_in_dictionary
from pmmtalk_live.tracks import SAMPLE_RATE_HZ, Audio, Phone, num_frames_for
from pmmtalk_live.corpus import build as corpus, espeak, voices
from pmmtalk_live.corpus.build import (FPS, Recipe, build_corpus, held_out_voices, make_utterance, plan_voices,
                                       recipe)
from pmmtalk_live.dataset import load_dataset, read_coeffs_file
from pmmtalk_live.corpus.texts import sentences, to_pinyin
from pmmtalk_live.corpus.voices import VOICE_BY_NAME, CorpusError, SynthRequest, Voice, synthesize

LABELS = ARPABET | {"SIL"}


def _first_seed_with(engines: set[str], count: int, languages=None) -> int:
    """The smallest seed whose first ``count`` utterances use all of ``engines``."""
    plan = plan_voices(languages)
    for seed in range(500):
        if engines <= {recipe(i, seed, plan).voice.engine for i in range(count)}:
            return seed
    raise AssertionError(f"no seed puts {engines} in the first {count} utterances")


def _ids(root) -> list[str]:
    return sorted(u.id for u in load_dataset(root))


def test_a_small_corpus_builds_loads_resumes_and_extends(tmp_path):
    out = tmp_path / "corpus"
    seed = _first_seed_with({"festival", "espeak"}, 2)

    first = build_corpus(out, hours=1 / 3600, jobs=1, seed=seed, show_progress=False)
    assert (first.built, first.existing, sum(first.failed.values())) == (1, 0, 0)
    assert len(_ids(out)) == 1

    again = build_corpus(out, hours=1 / 3600, jobs=1, seed=seed, show_progress=False)
    assert (again.built, again.existing) == (0, 1)

    # A larger target goes on from there, in worker processes this time.
    more = build_corpus(out, hours=(first.total_s + 0.5) / 3600, jobs=2, seed=seed, show_progress=False)
    assert (more.built, more.existing) == (1, 1)
    utterances = load_dataset(out)
    assert [u.id[:6] for u in utterances] == ["000000", "000001"]
    assert {VOICE_BY_NAME[u.subject].engine for u in utterances} == {"festival", "espeak"}

    settings = yaml.safe_load((out / "corpus.yaml").read_text())
    assert settings["seed"] == seed and settings["fps"] == FPS
    assert held_out_voices(out) == set(corpus.HELD_OUT) == set(settings["held_out"])
    for utt in utterances:
        assert utt.fps == FPS
        meta = yaml.safe_load((utt.audio_path.parent / "meta.yaml").read_text())
        rec = recipe(int(utt.id[:6]), seed, plan_voices())
        assert meta["subject"] == rec.voice.name and meta["transcript"] == rec.text
        assert meta["held_out"] == (rec.voice.name in corpus.HELD_OUT)
        assert meta["augmentation"] == [s for s in rec.chain]
        phones = [Phone(*p) for p in meta["phones"]]
        assert {p.label for p in phones} <= LABELS
        assert phones[0].start_s == 0.0 and phones[-1].end_s == pytest.approx(utt.duration_s, abs=1e-4)
        assert all(a.end_s == pytest.approx(b.start_s, abs=1e-4) for a, b in zip(phones, phones[1:]))
        _, values = read_coeffs_file(utt.coeffs_path)
        assert len(values) == num_frames_for(utt.duration_s, FPS) and values[:, 3].max() > 0.2  # the jaw moves

    with pytest.raises(CorpusError, match="seed"):
        build_corpus(out, hours=1, jobs=1, seed=seed + 1, show_progress=False)


def test_a_failing_utterance_is_counted_and_skipped(tmp_path, monkeypatch):
    real = corpus.synthesize

    def festival_fails(voice, requests, workdir):
        if voice.engine == "festival":
            return [CorpusError("festival broke")] * len(requests)
        return real(voice, requests, workdir)

    monkeypatch.setattr(corpus, "synthesize", festival_fails)
    seed = _first_seed_with({"festival", "flite"}, 2, ["en"])
    summary = build_corpus(tmp_path / "c", hours=6 / 3600, jobs=1, seed=seed, languages=["en"], show_progress=False)
    assert sum(summary.failed.values()) >= 1 and all(v.startswith("festival") for v in summary.failed)
    assert summary.built >= 1 and "failed per voice: festival" in str(summary)
    assert all(VOICE_BY_NAME[u.subject].engine != "festival" for u in load_dataset(tmp_path / "c"))


def test_labels_are_the_teachers_curves_of_the_final_timings():
    """Speed change and silence move the phones; the coefficients are render_phones of those phones
    with the loudness of that (clean) audio."""
    voice = VOICE_BY_NAME["flite-slt"]
    text = "The map is a simple picture of the world."
    speech = synthesize(voice, [SynthRequest(text)], None)[0]
    rec = Recipe(7, voice, text, 1.0, 1.0, 1.07, 0.25, 0.4, [])
    audio, coeffs, extra = make_utterance(rec, speech, [], seed=0)
    phones = [Phone(*p) for p in extra["phones"]]
    n = num_frames_for(len(audio) / SAMPLE_RATE_HZ, FPS)
    expected = render_phones(phones, n, FPS, loudness_envelope(audio, SAMPLE_RATE_HZ, FPS, n)).values
    np.testing.assert_allclose(coeffs, expected, atol=2e-3)  # meta.yaml keeps times to 0.1 ms
    assert phones[0] == Phone("SIL", 0.0, phones[0].end_s) and phones[0].end_s > 0.25
    engine_first = next(p for p in speech.phones if p.label != "SIL")
    moved_first = next(p for p in phones if p.label != "SIL")
    assert moved_first.start_s == pytest.approx(0.25 + engine_first.start_s / 1.07, abs=1e-3)


# --- timings against forced alignment --------------------------------------------------------------------

def _alignment_texts(count: int) -> list[str]:
    """Corpus sentences whose every word is in pocketsphinx's dictionary (so the aligner knows them)."""
    return [t for t in sentences("en")[:2000] if 8 <= len(t.split()) <= 14 and not words_in_dictionary(t)[1]][:count]


def boundary_offset_s(ours: list[Phone], reference: list[Phone]) -> tuple[float, float]:
    """(mean |start and end difference| over the phones both lists agree on, the share of ours matched)."""
    a = [p for p in ours if p.label != "SIL"]
    b = [p for p in reference if p.label != "SIL"]
    blocks = difflib.SequenceMatcher(a=[p.label for p in a], b=[p.label for p in b], autojunk=False)
    pairs = [(a[i + k], b[j + k]) for i, j, n in blocks.get_matching_blocks() for k in range(n)]
    offsets = [abs(x.start_s - y.start_s) for x, y in pairs] + [abs(x.end_s - y.end_s) for x, y in pairs]
    return float(np.mean(offsets)), len(pairs) / len(a)


def _offsets(voice: Voice, texts: list[str]) -> list[float]:
    """Each text through the generator (engine, speed change, silence; no acoustic changes), aligned."""
    out = []
    for k, (text, speech) in enumerate(zip(texts, synthesize(voice, [SynthRequest(t) for t in texts], None))):
        assert not isinstance(speech, Exception), speech
        rec = Recipe(k, voice, text, 1.0, 1.0, (0.92, 1.0, 1.08)[k % 3], 0.2, 0.3, [])
        audio, _, extra = make_utterance(rec, speech, [], seed=0)
        offset, matched = boundary_offset_s([Phone(*p) for p in extra["phones"]], align_phones(Audio(audio), text))
        assert matched > 0.75, (voice.name, text)
        out.append(offset)
    return out


@pytest.mark.parametrize("name", ["flite-slt", "flite-awb", "flite-kal16", "festival-kal", "festival-slt-hts"])
def test_flite_and_festival_timings_agree_with_forced_alignment(name):
    offsets = _offsets(VOICE_BY_NAME[name], _alignment_texts(3))
    print(f"{name}: mean boundary offset {1000 * np.mean(offsets):.1f} ms")
    assert np.mean(offsets) < 0.020


def test_espeak_timings_agree_with_forced_alignment():
    """espeak-ng's formant speech aligns less well (docs/corpus.md gives the figures): a looser bound."""
    offsets = _offsets(Voice("espeak-en-us-f2", "espeak", "en-us+f2", "en"), _alignment_texts(3))
    print(f"espeak en-us+f2: mean boundary offset {1000 * np.mean(offsets):.1f} ms")
    assert np.mean(offsets) < 0.030


def test_espeak_events_start_each_phone_and_stops_start_at_their_closure():
    speech = espeak.speak(Voice("e", "espeak", "en-us", "en"), SynthRequest("a papa"))
    p = [ph for ph in speech.phones if ph.label == "P"]
    assert len(p) == 2
    x, rate = speech.samples, speech.sample_rate_hz
    for ph in p:
        closure = x[int(ph.start_s * rate) + int(0.006 * rate): int(ph.start_s * rate) + int(0.02 * rate)]
        assert np.sqrt(np.mean(closure ** 2)) < 0.01  # the lips are shut: (near) silence
    assert speech.phones[-1].end_s == pytest.approx(len(x) / rate)


# --- phone sets and texts ----------------------------------------------------------------------------------

def test_every_engine_symbol_maps_to_a_project_label():
    assert {label for labels in espeak.ESPEAK_TO_ARPABET.values() for label in labels} <= LABELS
    assert {voices.radio_label(s)[0] for s in voices.RADIO_TO_ARPABET} <= LABELS
    assert voices.radio_label("ax") == ("AH", True) and voices.radio_label("pau") == ("SIL", True)
    assert espeak.espeak_labels("ts.h") == (("CH",), True) and espeak.espeak_labels("uei") == (("W", "EY"), True)
    # unknown symbols: the nearest class, flagged, never an error
    assert espeak.espeak_labels("o~:") == (("OW",), False)
    assert espeak.espeak_labels("p'") == (("P",), False)
    assert voices.radio_label("xx") == ("SIL", False)


def test_espeak_events_become_phones():
    rate = 1000
    samples = np.ones(1000, np.float32)
    events = [("p", 0), ("a", 100), ("_|", 300), ("m", 330), ("uei", 400), ("_:", 800), ("_", 1000)]
    phones, symbols, unknown = espeak.phones_from_events(events, samples, rate)
    assert [(p.label, p.start_s, p.end_s) for p in phones] == [
        ("P", 0.0, 0.1), ("AA", 0.1, 0.33), ("M", 0.33, 0.4), ("W", 0.4, 0.54), ("EY", 0.54, 0.8),
        ("SIL", 0.8, 1.0)]
    assert unknown == {}


def test_espeak_speaks_mandarin_german_and_spanish():
    for name in ("espeak-cmn", "espeak-de", "espeak-es"):
        voice = VOICE_BY_NAME[name]
        speech = espeak.speak(voice, SynthRequest(sentences(voice.language)[3], tempo=1.1, pitch=1.1))
        assert {p.label for p in speech.phones} <= LABELS
        spoken = [p for p in speech.phones if p.label != "SIL"]
        assert len(spoken) >= 6 and sum(speech.unknown.values()) <= 1
        assert speech.phones[-1].end_s == pytest.approx(len(speech.samples) / speech.sample_rate_hz, abs=1e-3)


def test_texts_come_from_the_fortunes_packages():
    for language in ("en", "de", "es"):
        texts = sentences(language)
        assert len(texts) > 1000
        assert all(4 <= len(t.split()) <= 25 and "http" not in t and not any(c.isdigit() for c in t) for t in texts)
    chinese = sentences("cmn")
    assert len(chinese) > 1000 and all(6 <= sum("\u4e00" <= c <= "\u9fff" for c in t) <= 40 for t in chinese)
    assert to_pinyin("春眠不觉晓，处处闻啼鸟。") == "chun1 mian2 bu4 jue2 xiao3, chu4 chu4 wen2 ti2 niao3."


def test_the_mix_is_mostly_english_and_holds_voices_out():
    plan = dict((v.name, share) for v, share in plan_voices())
    assert sum(plan.values()) == pytest.approx(1.0)
    english = sum(share for name, share in plan.items() if VOICE_BY_NAME[name].language == "en")
    assert english == pytest.approx(0.7)
    cmn = sum(share for name, share in plan.items() if VOICE_BY_NAME[name].language == "cmn")
    assert cmn > 0.5 * (1 - english)
    held = set(corpus.HELD_OUT)
    assert any(VOICE_BY_NAME[n].engine != "espeak" for n in held) and any(VOICE_BY_NAME[n].engine == "espeak" for n in held)
    assert recipe(12, 0, plan_voices()) == recipe(12, 0, plan_voices())  # decided by (seed, index)


# --- what is missing --------------------------------------------------------------------------------------

def test_a_missing_engine_is_one_line_naming_the_package(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(CorpusError, match=r"^flite is not installed: apt-get install flite$"):
        voices.check_engine("flite", [VOICE_BY_NAME["flite-slt"]])
    with pytest.raises(CorpusError, match=r"^festival is not installed: apt-get install festival "):
        voices.check_engine("festival", [VOICE_BY_NAME["festival-kal"]])
    monkeypatch.setattr(espeak, "LIBRARY", "libespeak-ng-missing.so.1")
    monkeypatch.setattr(espeak, "_lib", None)
    with pytest.raises(CorpusError, match=r"^espeak-ng is not installed .*apt-get install libespeak-ng1"):
        voices.check_engine("espeak", [VOICE_BY_NAME["espeak-de"]])


def test_the_cli_says_what_to_install(tmp_path):
    env = {**os.environ, "PATH": str(tmp_path / "bin")}
    result = subprocess.run([sys.executable, "-m", "pmmtalk_live.cli", "corpus", "build", "--hours", "0.01",
                             "--out", str(tmp_path / "c"), "--languages", "en", "-q"],
                            capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip() == "pmmtalk-live: error: flite is not installed: apt-get install flite"
