"""Timed phones from speech with pocketsphinx: forced alignment of a transcript, or phone recognition.

Both return ``tracks.Phone`` lists in ARPAbet without stress, silence and noise as ``SIL``, times in
seconds from the start of the audio. pocketsphinx ships its US-English acoustic model, dictionary and
phone language model, so both work offline. Decoders are built once per process (loading the
dictionary is slow) and reused.
"""

from __future__ import annotations

import multiprocessing
import os
import re
import threading
from concurrent.futures import ProcessPoolExecutor
from functools import lru_cache

import numpy as np

from ..errors import AlignmentError, RecognizerError
from ..tracks import SAMPLE_RATE_HZ, Audio, Phone

FRAME_S = 0.01
"""pocketsphinx reports times in 10 ms frames."""

PAD_S = 0.3
"""Silence added at both ends: the alignment pass can fail when speech starts at sample 0."""

ARPABET = frozenset(
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH".split()
)

WIDE_BEAMS = dict(beam=1e-300, wbeam=1e-300, pbeam=1e-300, maxhmmpf=-1)
"""The aligner's second try, when the default beams lose every path through the transcript (noisy,
clipped or very loud speech): next to no pruning, a few times slower."""

_lock = threading.Lock()


@lru_cache(maxsize=2)
def _aligner(wide: bool = False):
    from pocketsphinx import Decoder

    # bestpath=False: the phone pass is held to the word pass's segmentation, and the lattice's best
    # path can give word boundaries no phone path meets ("Failed to stop utterance processing").
    return Decoder(samprate=SAMPLE_RATE_HZ, bestpath=False, loglevel="FATAL", **(WIDE_BEAMS if wide else {}))


def new_phone_decoder():
    """A fresh pocketsphinx decoder for phone recognition (about 0.13 s to build). Not thread-safe:
    one per stream (the live animator) or shared under ``_lock`` (``recognize_phones``)."""
    from pocketsphinx import Decoder, get_model_path

    # allphone search over the phone bigram LM; the narrow beams keep it fast (~0.04x real time).
    return Decoder(samprate=SAMPLE_RATE_HZ, allphone=get_model_path("en-us/en-us-phone.lm.bin"),
                   backtrace=True, beam=1e-20, pbeam=1e-20, lw=2.0, loglevel="FATAL")


@lru_cache(maxsize=1)
def _phone_decoder():
    return new_phone_decoder()


def _pcm16(audio: Audio) -> bytes:
    if audio.sample_rate_hz != SAMPLE_RATE_HZ:
        raise ValueError(f"phones need {SAMPLE_RATE_HZ} Hz audio, got {audio.sample_rate_hz}")
    pad = np.zeros(int(PAD_S * SAMPLE_RATE_HZ), np.float32)
    padded = np.concatenate([pad, audio.samples.astype(np.float32), pad])
    return (np.clip(padded, -1.0, 1.0) * 32767.0).astype("<i2").tobytes()


def normalize_label(label: str) -> str:
    """``AH0`` -> ``AH``; ``+NSN+``, ``<sil>``, ``SIL`` and anything unknown -> ``SIL``."""
    base = label.rstrip("012").upper()
    return base if base in ARPABET else "SIL"


def words_in_dictionary(text: str) -> tuple[list[str], list[str]]:
    """The transcript as dictionary words, and the words pocketsphinx's dictionary does not know."""
    decoder = _aligner()
    words = re.findall(r"[a-z0-9']+", text.lower().replace("-", " "))
    known, unknown = [], []
    for word in words:
        word = word.strip("'")
        if not word:
            continue
        (known if decoder.lookup_word(word) is not None else unknown).append(word)
    return known, unknown


def align_phones(audio: Audio, text: str) -> list[Phone]:
    """Forced alignment of ``text`` to ``audio``: every phone of every word with its start and end.

    Words missing from the dictionary are left out (their time goes to neighbours or silence). Tried
    with the default beams, then with ``WIDE_BEAMS``. Raises RecognizerError when the transcript has no
    known word, AlignmentError when neither try finds a path (a transcript far longer than the speech,
    or not what was said).
    """
    words, unknown = words_in_dictionary(text)
    if not words:
        raise RecognizerError(f"transcript has no word in the pronouncing dictionary: {text[:60]!r}")
    raw = _pcm16(audio)
    with _lock:
        alignment = _align(_aligner(), words, raw) or _align(_aligner(wide=True), words, raw)
        if alignment is None:
            raise AlignmentError(f"forced alignment found no path through the transcript ({len(words)} words "
                                 f"in {audio.duration_s:.2f} s of audio)")
        phones = []
        for word in alignment:
            name = re.sub(r"\(\d+\)$", "", word.name)
            for seg in word:
                phones.append(_phone(seg.name, seg.start, seg.start + seg.duration,
                                     None if name.startswith("<") else name))
    return _tidy(phones, audio.duration_s)


def _align(decoder, words: list[str], raw: bytes):
    """Two passes (words, then phones within them): the alignment, or None when no path is found."""
    try:
        decoder.set_align_text(" ".join(words))
        decoder.start_utt()
        decoder.process_raw(raw, full_utt=True)
        decoder.end_utt()
        decoder.set_alignment()  # RuntimeError when the word pass reached no end of the transcript
        decoder.start_utt()
        decoder.process_raw(raw, full_utt=True)
        decoder.end_utt()  # RuntimeError when the phone pass cannot meet the word boundaries
    except RuntimeError:
        return None
    return decoder.get_alignment()


PARALLEL_CHUNK_S = 6.0
"""Recordings of at least two such chunks are split at pauses and recognised on several cores: phone
recognition runs at about 20x real time on one core, the slowest stage of ``animate``."""


def recognize_phones(audio: Audio, workers: int | None = None) -> list[Phone]:
    """Phone recognition (no transcript): the most likely phone sequence with times.

    workers: processes to use for long recordings (default: the CPU count); 1 = this process only.
    """
    workers = workers or os.cpu_count() or 1
    pieces = min(workers, int(audio.duration_s // PARALLEL_CHUNK_S))
    if pieces < 2:
        return _recognize(audio)
    starts = _split_at_pauses(audio.samples, pieces)
    chunks = [Audio(audio.samples[a:b]) for a, b in zip(starts, starts[1:] + [len(audio.samples)])]
    # fork: the children start at once and share the parent's loaded model pages.
    with ProcessPoolExecutor(pieces, mp_context=multiprocessing.get_context("fork")) as pool:
        results = list(pool.map(_recognize, chunks))
    phones = []
    for start, chunk_phones in zip(starts, results):
        offset = start / SAMPLE_RATE_HZ
        phones += [Phone(p.label, round(p.start_s + offset, 3), round(p.end_s + offset, 3)) for p in chunk_phones]
    return _tidy(phones, audio.duration_s)


def _split_at_pauses(samples: np.ndarray, pieces: int, search_s: float = 1.5) -> list[int]:
    """Start samples of ``pieces`` chunks: each cut at the quietest 20 ms within ``search_s`` of an
    even split, so a cut falls in a pause rather than inside a phone."""
    hop = SAMPLE_RATE_HZ // 50
    frames = len(samples) // hop
    energy = np.square(samples[: frames * hop].reshape(frames, hop)).mean(axis=1)
    starts = [0]
    for k in range(1, pieces):
        centre = k * frames // pieces
        lo, hi = max(centre - int(search_s * 50), 1), min(centre + int(search_s * 50), frames - 1)
        starts.append(int(lo + np.argmin(energy[lo:hi])) * hop)
    return starts


def _recognize(audio: Audio) -> list[Phone]:
    raw = _pcm16(audio)
    with _lock:
        decoder = _phone_decoder()
        decoder.start_utt()
        decoder.process_raw(raw, full_utt=True)
        decoder.end_utt()
        phones = [_phone(seg.word, seg.start_frame, seg.end_frame + 1) for seg in decoder.seg()]
    return _tidy(phones, audio.duration_s)


def _phone(label: str, start_frame: int, end_frame: int, word: str | None = None) -> Phone:
    start_s = round(start_frame * FRAME_S - PAD_S, 3)
    end_s = round(end_frame * FRAME_S - PAD_S, 3)
    return Phone(normalize_label(label), start_s, end_s, word)


def _tidy(phones: list[Phone], duration_s: float) -> list[Phone]:
    """Clip to the audio, drop empty phones, merge neighbouring silences."""
    out: list[Phone] = []
    for p in phones:
        start, end = max(0.0, p.start_s), min(duration_s, p.end_s)
        if end <= start:
            continue
        if out and p.label == "SIL" and out[-1].label == "SIL":
            out[-1] = Phone("SIL", out[-1].start_s, end)
            continue
        out.append(Phone(p.label, start, end, p.word))
    return out
