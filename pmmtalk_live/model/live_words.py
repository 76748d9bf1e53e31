"""The ``phones`` pseudo-text of a live stream: a recogniser re-decoding the audio not yet settled,
keeping what two passes agree on (``text_stream: true``).

    audio --every text_step_s: recognise the unsettled audio (at most text_window_s)--> timed words, phones
        --the words (or, from a phones-only recogniser, the phones) two passes in a row begin with: settled
        --text_frames--> phone_ids (n,), word_vectors (n, 384) per model frame, final once settled

A recogniser hearing the end of a stream cannot know the last word yet: it may be cut, and it changes
as more audio comes. So a pass runs every ``text_step_s`` of audio over everything after the settled
point, and the words that this pass and the one before begin with alike are settled, with this
pass's times (local agreement, as streaming Whisper systems do it). Where a pass hears nothing after
the settled words, the audio up to one step before its end is settled as silence; nothing stays
unsettled longer than ``text_window_s``: what is older is settled as the pass heard it. A frame's
text is final once its time is settled, so the text waits at most ``text_latency_s`` after a frame.

Passes end at fixed stream positions (multiples of the step), whatever the sizes of the pushes, and
offline inference and training run the same stream over the recording (``transcript_track``): live
and offline give the same numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tracks import SAMPLE_RATE_HZ, Audio, Phone
from .config import WORD_DIM, ModelConfig
from .encoders.text import WordEncoder, frame_index, shared_word_encoder, text_frames
from .recognizers import Recognizer, TimedWord, Transcript, make_recognizer

EVERY_FRAME_READY = 2 ** 62
"""``ready`` after the end of the stream: every frame's text is final."""


def text_latency_s(config: ModelConfig) -> float:
    """The longest a frame's text can wait for audio after its time: a window, and the step until
    the pass that settles it."""
    return config.text_window_s + config.text_step_s


@dataclass(frozen=True)
class _Unit:
    """What passes must agree on: a word (by its text), or a phone from a phones-only recogniser."""

    key: tuple[str, str]
    start_s: float
    end_s: float


class TranscriptStream:
    """Settled timed words and phones of a stream, as passes of ``recognizer`` agree (see the module).

    ``words`` and ``phones`` grow as they settle (times in seconds from the stream's first sample);
    ``settled_s``: everything before it is final. Not thread-safe.
    """

    def __init__(self, recognizer: Recognizer, step_s: float, window_s: float):
        self.recognizer = recognizer
        self.step = max(1, int(round(step_s * SAMPLE_RATE_HZ)))
        self.window_s = float(window_s)
        self.words: list[TimedWord] = []
        self.phones: list[Phone] = []
        self.settled_s = 0.0
        self.passes = 0
        self._audio = np.zeros(0, np.float32)  # stream samples from _origin on
        self._origin = 0
        self._received = 0
        self._next_pass = self.step  # the stream sample the next pass ends at
        self._pending: list[_Unit] = []  # the last pass's units after its settled ones
        self._flushed = False

    def push(self, samples: np.ndarray) -> None:
        if self._flushed:
            raise RuntimeError("push after flush")
        samples = np.asarray(samples, np.float32).reshape(-1)
        self._audio = np.concatenate([self._audio, samples])
        self._received += len(samples)
        while self._received >= self._next_pass:
            self._pass(self._next_pass, final=False)
            self._next_pass += self.step

    def flush(self) -> None:
        """End of stream: the last pass settles all it hears, and the whole stream is final."""
        if self._flushed:
            return
        self._flushed = True
        if self._received > self._origin:
            self._pass(self._received, final=True)
        self.settled_s = max(self.settled_s, self._received / SAMPLE_RATE_HZ)

    def forget_before(self, time_s: float) -> None:
        """Drop the settled words and phones that end before ``time_s`` (nothing will ask for them)."""
        self.words = [w for w in self.words if w.end_s > time_s]
        self.phones = [p for p in self.phones if p.end_s > time_s]

    def _pass(self, end: int, final: bool) -> None:
        """Recognise stream samples ``_origin .. end``, settle what agrees, keep the rest pending."""
        self.passes += 1
        offset_s = self._origin / SAMPLE_RATE_HZ
        heard = self.recognizer.recognize(Audio(self._audio[:end - self._origin]))
        words = [TimedWord(w.text, w.start_s + offset_s, w.end_s + offset_s) for w in heard.words]
        phones = [Phone(p.label, p.start_s + offset_s, p.end_s + offset_s, p.word) for p in heard.phones]
        units = ([_Unit(("word", w.text.lower()), w.start_s, w.end_s) for w in words] if words
                 else [_Unit(("phone", p.label), p.start_s, p.end_s) for p in phones])
        agreed = len(units) if final else _common_prefix(units, self._pending)
        settle_s = units[agreed - 1].end_s if agreed else self.settled_s
        end_s = end / SAMPLE_RATE_HZ
        if not final:
            if agreed == len(units):  # nothing heard after the agreed units: quiet, but a word may be starting
                settle_s = max(settle_s, end_s - self.step / SAMPLE_RATE_HZ)
            # the next pass must not re-decode more than a window: settle what this pass heard before that
            oldest_s = end_s + self.step / SAMPLE_RATE_HZ - self.window_s
            while agreed < len(units) and units[agreed].start_s < oldest_s:
                agreed += 1
            settle_s = max(settle_s, units[agreed - 1].end_s if agreed else settle_s, oldest_s)
        self._settle(words if words else [], phones, units[:agreed], max(settle_s, self.settled_s))
        self._pending = units[agreed:]
        origin = min(end, max(self._origin, int(np.floor(self.settled_s * SAMPLE_RATE_HZ))))
        self._audio = self._audio[origin - self._origin:]
        self._origin = origin

    def _settle(self, words: list[TimedWord], phones: list[Phone], units: list[_Unit], settle_s: float) -> None:
        """Keep the agreed words and the phones up to ``settle_s`` (starts before the settled point cut to it)."""
        before = self.settled_s
        for word in words[:len(units)]:
            self.words.append(TimedWord(word.text, max(word.start_s, before), word.end_s))
        for phone in phones:
            if phone.end_s <= settle_s + 1e-9 and phone.end_s > before:
                self.phones.append(Phone(phone.label, max(phone.start_s, before), phone.end_s, phone.word))
        self.settled_s = settle_s


def _common_prefix(units: list[_Unit], previous: list[_Unit]) -> int:
    count = 0
    for unit, earlier in zip(units, previous):
        if unit.key != earlier.key:
            break
        count += 1
    return count


class LiveTranscript:
    """``TextFrames`` for ``text_stream`` models: push audio, read each frame's phone ids and word
    vectors once its time is settled. ``frames`` must ask for frames in order (those before are forgotten).

    recognizer / word_encoder: given, or made from the config (``config.recognizer`` on ``compute``,
    ``config.word_encoder``).
    """

    def __init__(self, config: ModelConfig, recognizer: Recognizer | None = None,
                 word_encoder: WordEncoder | None = None, compute: str = "cpu"):
        self.config = config
        self.stream = TranscriptStream(recognizer or make_recognizer(config.recognizer, compute), config.text_step_s,
                                       config.text_window_s)
        if word_encoder is None and config.word_encoder:
            word_encoder = shared_word_encoder(config.word_encoder)
        self.word_encoder = word_encoder
        self._flushed = False

    @property
    def ready(self) -> int:
        """Frames 0 .. ready - 1 are final: those before the settled time."""
        return EVERY_FRAME_READY if self._flushed else frame_index(self.stream.settled_s, self.config.fps)

    def push(self, samples: np.ndarray) -> None:
        self.stream.push(samples)

    def flush(self) -> None:
        self.stream.flush()
        self._flushed = True

    def frames(self, first_frame: int, num_frames: int) -> dict[str, np.ndarray | None]:
        """{"phone_ids": (n,) int64, "word_vectors": (n, WORD_DIM) float32 or None without a word encoder}."""
        if first_frame + num_frames > self.ready:
            raise ValueError(f"frames {first_frame}..{first_frame + num_frames - 1} are not settled yet "
                             f"(ready: {self.ready})")
        heard = Transcript(self.stream.words, self.stream.phones, "")
        phone_ids, word_vectors = text_frames(heard, num_frames, self.config.fps, self.word_encoder, first_frame)
        self.stream.forget_before((first_frame + num_frames) / self.config.fps)
        return {"phone_ids": phone_ids, "word_vectors": word_vectors if self.word_encoder is not None else None}


def transcript_track(samples: np.ndarray, config: ModelConfig, num_frames: int,
                     hop_samples: int = SAMPLE_RATE_HZ // 100, compute: str = "cpu") -> tuple[np.ndarray, np.ndarray | None]:
    """A whole recording's text as a live stream makes it: phone_ids (num_frames,) int64 and
    word_vectors (num_frames, WORD_DIM) float32, or None without a word encoder; the recogniser on ``compute``."""
    source = LiveTranscript(config, compute=compute)
    samples = np.asarray(samples, np.float32).reshape(-1)
    for start in range(0, len(samples), hop_samples):
        source.push(samples[start:start + hop_samples])
    source.flush()
    given = source.frames(0, num_frames)
    vectors = given["word_vectors"]
    assert vectors is None or vectors.shape == (num_frames, WORD_DIM)
    return given["phone_ids"], vectors
