"""The ``visemes`` pseudo-text: the streaming phone recogniser's co-articulated viseme track.

    audio hops --phonetic.VisemeStream (streaming pocketsphinx -> render_phones)--> (n, 32) + activity (n,)
        --> visemes (n, VISEME_DIM) per model frame, final once the frame's look-ahead is in

Live, the recogniser's phones for a frame are only known once some audio after it has been heard, and
the best path can still change until then; a model trained on the phones of a whole-file recognition
would see cleaner text than it gets live. So the text the model trains on is made exactly the way it
is made live: ``viseme_track`` runs the live recogniser over the recording in 10 ms hops (the engine's
hop) at the model's look-ahead (``text_lookahead_s``), and ``LiveVisemes`` is the same thing fed by the
stream. Offline inference uses ``viseme_track`` too, so offline and live give the same numbers.
"""

from __future__ import annotations

import numpy as np

from ..phonetic import HOP_SAMPLES, VisemeStream, render_phones
from ..tracks import Phone
from .config import VISEME_DIM, ModelConfig


def text_lookahead_s(config: ModelConfig) -> float:
    """The recogniser's look-ahead: as long as the audio encoder's (``filterbank.latency_s`` or
    ``whisper.latency_s``), so a frame's text is final when its audio features are."""
    if config.audio_encoder == "whisper":
        from .encoders.whisper import latency_s
    else:
        from .encoders.filterbank import latency_s

    return latency_s(config)


class LiveVisemes:
    """``TextFrames`` for ``text_input: visemes``: push audio, read each frame's visemes once ready.

    Not thread-safe; one per stream. ``frames`` must ask for frames in order (those before are forgotten).
    """

    def __init__(self, config: ModelConfig, decoder=None):
        """``decoder``: an earlier stream's pocketsphinx decoder to reuse (``release_decoder``)."""
        self.config = config
        self.stream = VisemeStream(config.fps, text_lookahead_s(config), decoder=decoder)
        self._rows = np.zeros((0, VISEME_DIM), np.float32)  # frames from _first on
        self._first = 0

    @property
    def ready(self) -> int:
        """Frames 0 .. ready - 1 are final."""
        return self._first + len(self._rows)

    def push(self, samples: np.ndarray) -> None:
        self._take(self.stream.process(samples))

    def release_decoder(self):
        """Hand the recogniser's decoder to the next stream (a gap in the audio starts one)."""
        return self.stream.recogniser.release_decoder()

    def flush(self) -> None:
        """End of stream: every frame up to the last sample becomes ready."""
        self._take(self.stream.flush())

    def frames(self, first_frame: int, num_frames: int) -> dict[str, np.ndarray]:
        """{"visemes": (num_frames, VISEME_DIM)} for frames ``first_frame ..`` (all ready)."""
        if first_frame < self._first or first_frame + num_frames > self.ready:
            raise ValueError(f"frames {first_frame}..{first_frame + num_frames - 1} are not ready "
                             f"(have {self._first}..{self.ready - 1})")
        start = first_frame - self._first
        out = self._rows[start:start + num_frames]
        self._rows, self._first = self._rows[start + num_frames:], first_frame + num_frames
        return {"visemes": out}

    def _take(self, live) -> None:
        if live.num_frames:
            assert live.first_frame == self.ready, "the recogniser skipped frames"
            rows = np.concatenate([live.coeffs, live.activity[:, None]], 1).astype(np.float32)
            self._rows = np.concatenate([self._rows, rows])


def viseme_track(samples: np.ndarray, config: ModelConfig, num_frames: int,
                 hop_samples: int = HOP_SAMPLES, phones: list[Phone] | None = None) -> np.ndarray:
    """A whole recording's viseme track as live makes it (pushed in ``hop_samples`` hops):
    (num_frames, VISEME_DIM) float32 (padded with its last row or cut, if the count differs).

    ``phones``: known timed phones (a transcript's forced alignment) rendered instead of the
    recognised ones, with the same live activity: the text branch then gets what it would get from a
    recogniser that never errs."""
    source = LiveVisemes(config)
    samples = np.asarray(samples, np.float32).reshape(-1)
    for start in range(0, len(samples), hop_samples):
        source.push(samples[start:start + hop_samples])
    source.flush()
    rows = source._rows
    if len(rows) < num_frames:
        pad = rows[-1:] if len(rows) else np.zeros((1, VISEME_DIM), np.float32)
        rows = np.concatenate([rows, np.repeat(pad, num_frames - len(rows), 0)])
    rows = rows[:num_frames].copy()
    if phones is not None:
        activity = rows[:, -1]
        rows[:, :-1] = render_phones(phones, num_frames, config.fps, activity).values
    return rows
