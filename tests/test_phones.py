"""pocketsphinx phone sources on real audio: the bundled example and the LibriVox dev set."""

import numpy as np
import pytest

from pmmtalk_live.phonetic import phones
from pmmtalk_live.errors import AlignmentError, RecognizerError
from pmmtalk_live.tracks import Audio
from tests.conftest import EXAMPLE_TEXT


def test_forced_alignment_times_every_word(example_audio):
    result = phones.align_phones(example_audio, EXAMPLE_TEXT)
    words = [p.word for p in result if p.word]
    assert "pam" in words and "pie" in words
    assert all(p.label in phones.ARPABET or p.label == "SIL" for p in result)
    # phones are in order, inside the audio, and not overlapping
    starts = np.array([p.start_s for p in result])
    ends = np.array([p.end_s for p in result])
    assert np.all(ends > starts) and np.all(starts[1:] >= ends[:-1] - 1e-9)
    assert starts[0] >= 0 and ends[-1] <= example_audio.duration_s + 1e-9
    # the first word starts after the leading silence, not at sample 0
    first = next(p for p in result if p.word)
    assert 0.0 < first.start_s < 0.6


def test_phone_recognition_finds_the_bilabials(example_audio):
    result = phones.recognize_phones(example_audio)
    labels = [p.label for p in result]
    assert len(result) > 40
    assert sum(label in ("P", "B", "M") for label in labels) >= 8  # Pam, Bob, big map, ...


def test_alignment_matches_recognition_timing(example_audio):
    aligned = phones.align_phones(example_audio, EXAMPLE_TEXT)
    recognised = phones.recognize_phones(example_audio)

    def speech_span(ps):
        speech = [p for p in ps if p.label != "SIL"]
        return speech[0].start_s, speech[-1].end_s

    a, r = speech_span(aligned), speech_span(recognised)
    assert abs(a[0] - r[0]) < 0.1 and abs(a[1] - r[1]) < 0.15


def test_words_outside_the_dictionary_are_dropped(example_audio):
    known, unknown = phones.words_in_dictionary("Hello zzqxv world")
    assert known == ["hello", "world"] and unknown == ["zzqxv"]


def test_transcript_without_known_words_is_a_clear_error(example_audio):
    with pytest.raises(RecognizerError, match="no word in the pronouncing dictionary"):
        phones.align_phones(example_audio, "zzqxv qqxz")


def test_silence_gives_silence():
    quiet = Audio(np.zeros(16000, np.float32))
    result = phones.recognize_phones(quiet)
    assert all(p.label == "SIL" for p in result)


def test_labels_are_normalised():
    assert phones.normalize_label("AH0") == "AH"
    assert phones.normalize_label("+NSN+") == "SIL"
    assert phones.normalize_label("<sil>") == "SIL"


def test_long_recordings_split_across_processes_agree(example_audio):
    gap = np.zeros(8000, np.float32)
    long = Audio(np.concatenate([example_audio.samples, gap, example_audio.samples]))
    serial = phones.recognize_phones(long, workers=1)
    parallel = phones.recognize_phones(long, workers=2)
    assert parallel[-1].end_s == pytest.approx(long.duration_s)
    labels_s = [p.label for p in serial if p.label != "SIL"]
    labels_p = [p.label for p in parallel if p.label != "SIL"]
    # the cut falls in the pause between the two copies: the same phones either way (give or take
    # one at the cut, where the decoder's context differs)
    assert abs(len(labels_s) - len(labels_p)) <= 2
    assert sum(a == b for a, b in zip(labels_s, labels_p)) >= 0.9 * len(labels_s)


HARD_TO_ALIGN = ("cq_ref-1", "ve9qrp-2", "speech_orig_16k-1", "vk5qi-1")
"""codec2-examples recordings whose right transcripts pocketsphinx's default beams lost when the
recording was loud (clipped) or noisy."""


@pytest.fixture(scope="module")
def hard_recordings():
    from pmmtalk_live.evaluation import codec2_set
    from pmmtalk_live.errors import EvalDataError

    try:
        return [u for u in codec2_set() if u.name.split("/")[1] in HARD_TO_ALIGN]
    except EvalDataError:
        pytest.skip("Debian's codec2-examples is not installed (make setup installs it as root)")


def _words(result) -> list[tuple[str, float]]:
    """(word, start) of each aligned word: a run of phones carrying it."""
    words = []
    for previous, p in zip([None] + result[:-1], result):
        if p.word and (previous is None or previous.word != p.word or previous.end_s < p.start_s - 1e-6):
            words.append((p.word, p.start_s))
    return words


def test_real_speech_with_its_transcript_aligns_when_loud_or_noisy(hard_recordings):
    """Real speech, the right transcript: loud enough to clip, or under white noise at -26 dBFS, every
    word is still aligned, in order, near where it is in the clean recording (median start within 0.1 s
    clipped, 0.2 s noisy)."""
    noise = np.random.default_rng(0).normal(0, 0.05, 16000 * 12).astype(np.float32)
    assert len(hard_recordings) == len(HARD_TO_ALIGN)
    for utt in hard_recordings:
        clean = _words(phones.align_phones(utt.audio, utt.text))
        assert [w for w, _ in clean] == utt.text.split()
        samples = utt.audio.samples
        # (the samples, the median word-start shift allowed): noise blurs the boundaries more
        for harder, within_s in ((np.clip(samples * 3, -1, 1), 0.1), (samples + noise[:len(samples)], 0.2)):
            words = _words(phones.align_phones(Audio(harder.astype(np.float32)), utt.text))
            assert [w for w, _ in words] == utt.text.split(), utt.name
            shift_s = np.abs(np.array([t for _, t in words]) - np.array([t for _, t in clean]))
            assert np.median(shift_s) < within_s, (utt.name, shift_s)


def test_a_transcript_that_cannot_fit_the_speech_is_an_alignment_error(example_audio):
    two_seconds = Audio(example_audio.samples[:32000])
    with pytest.raises(AlignmentError, match="no path through the transcript"):
        phones.align_phones(two_seconds, EXAMPLE_TEXT)  # 28 words in 2 s
    assert issubclass(AlignmentError, RecognizerError)
