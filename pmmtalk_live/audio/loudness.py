"""The loudness envelope: how loud the speech is, per animation frame, in 0..1.

Loudness is measured in dB of RMS over a short window centred on each frame, then mapped to 0..1
between a floor (``floor_db`` below the speech's reference level) and the reference level. The
reference is the 95th percentile of the frame levels, so a quiet recording and a loud one animate
alike; the floor keeps background noise at 0.

``LiveLoudness`` is the same envelope for a live stream, frame by frame from the audio so far.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections import deque

import numpy as np

WINDOW_S = 0.03
"""RMS window; about two frames at 60 fps, short enough to see a stop's closure."""


def frame_levels_db(samples: np.ndarray, sample_rate_hz: int, fps: float, num_frames: int,
                    first_frame: int = 0, start_sample: int = 0) -> np.ndarray:
    """RMS level in dBFS of a ``WINDOW_S`` window centred on each frame time k / fps, shape (num_frames,),
    for frames ``first_frame ..``. ``samples[0]`` is sample ``start_sample`` of the stream; windows
    are cut to the samples given."""
    win = max(1, int(WINDOW_S * sample_rate_hz))
    power = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    frames = first_frame + np.arange(num_frames)
    centres = np.round(frames * sample_rate_hz / fps).astype(np.int64) - start_sample
    # (np.minimum/np.maximum rather than np.clip: the same, without np.clip's per-call overhead, which
    # is most of the time at a live frame or two per call)
    lo = np.minimum(np.maximum(centres - win // 2, 0), len(samples))
    hi = np.minimum(np.maximum(centres + win // 2, 0), len(samples))
    n = np.maximum(hi - lo, 1)
    mean_power = (power[hi] - power[lo]) / n
    return (10.0 * np.log10(mean_power + 1e-12)).astype(np.float32)


def loudness_envelope(samples: np.ndarray, sample_rate_hz: int, fps: float, num_frames: int,
                      floor_db: float = 35.0) -> np.ndarray:
    """Loudness per frame in 0..1, shape (num_frames,): 0 at or below the floor, 1 at the reference level."""
    levels = frame_levels_db(samples, sample_rate_hz, fps, num_frames)
    if num_frames == 0:
        return levels
    reference_db = float(np.percentile(levels, 95))
    if reference_db < -80.0:  # digital silence
        return np.zeros(num_frames, np.float32)
    return np.clip((levels - (reference_db - floor_db)) / floor_db, 0.0, 1.0).astype(np.float32)


# --- live: the same envelope, causally ---------------------------------------------------------------

REFERENCE_WINDOW_S = 20.0
"""The live reference level is the 95th percentile of the last this many seconds of speech frames."""

NOISE_RISE_DB_PER_S = 2.0
"""The live noise floor follows the quietest level down at once and creeps up this slowly."""

NOISE_MARGIN_DB = 10.0
"""Live loudness is 0 up to this far above the noise floor, so background noise leaves the mouth shut
(the floor is the quietest 10 ms, some 5-10 dB below the noise's usual 30 ms level)."""

PAUSE_OVER_NOISE_DB = 16.0
PAUSE_UNDER_REFERENCE_DB = 30.0
"""A 10 ms level is a pause (``is_quiet``) below the higher of noise floor + ``PAUSE_OVER_NOISE_DB``
and reference - ``PAUSE_UNDER_REFERENCE_DB``."""

MIN_SPEECH_OVER_NOISE_DB = 20.0
"""The live reference level is at least this far above the noise floor: before the first words, the
loudest thing heard is noise, and it must not count as speech."""

HOP_S = 0.01
"""Live noise tracking works on 10 ms blocks."""

SILENCE_DBFS = -80.0
"""Below this a level is digital silence (no microphone is that quiet)."""


def level_db(samples: np.ndarray) -> float:
    """RMS level of a block in dBFS (-120 for an empty block)."""
    if not len(samples):
        return -120.0
    return float(_block_levels_db(samples, len(samples))[0])


def _block_levels_db(samples: np.ndarray, block_size: int) -> np.ndarray:
    """RMS level in dBFS of each whole ``block_size`` block, shape (len // block_size,)."""
    blocks = samples[: len(samples) // block_size * block_size].reshape(-1, block_size)
    mean_square = np.add.reduce(np.square(blocks, dtype=np.float64), axis=1) / block_size  # = np.mean, less overhead
    return 10.0 * np.log10(mean_square + 1e-12)


class _RecentPercentile95:
    """``np.percentile(recent, 95)`` (linear interpolation) of the last ``size`` values added, kept
    sorted as they come: a live frame adds one level and asks once, and sorting or partitioning the
    whole window each time was most of the live loudness's time."""

    def __init__(self, size: int) -> None:
        self._recent: deque[float] = deque(maxlen=size)  # in arrival order
        self._sorted: list[float] = []

    def add(self, value: float) -> float:
        """Add ``value`` (kept at float32 precision, as the levels are) -> the 95th percentile now."""
        value = float(np.float32(value))
        if len(self._recent) == self._recent.maxlen:
            del self._sorted[bisect_left(self._sorted, self._recent[0])]
        self._recent.append(value)
        insort(self._sorted, value)
        position = 0.95 * (len(self._sorted) - 1)
        low = int(position)
        a, b = self._sorted[low], self._sorted[min(low + 1, len(self._sorted) - 1)]
        return a + (b - a) * (position - low)


class LiveLoudness:
    """``loudness_envelope`` for a live stream: frame by frame, in order, from the audio so far.

    Push audio as it comes (``push``); ask for the next frames' envelope once their windows are in
    (``envelope``; audio up to a frame's time + ``WINDOW_S / 2``; a window reaching past the audio
    pushed so far is cut there, like the offline envelope at the end of a file). Two things differ
    from the offline envelope, which sees the whole file:

    - the reference level is the 95th percentile of the recent *speech* frames (louder than the
      floor, the last ``REFERENCE_WINDOW_S``) instead of all frames of the file, so it adapts to a
      speaker getting louder or quieter and long pauses do not drag it down;
    - the floor is also at least ``NOISE_MARGIN_DB`` above a running noise floor (the quietest 10 ms
      level, rising slowly), so steady background noise gives 0.
    """

    def __init__(self, sample_rate_hz: int, fps: float, floor_db: float = 35.0):
        self.sample_rate_hz = sample_rate_hz
        self.fps = fps
        self.floor_db = floor_db
        self.reference_db: float | None = None  # None until the first sound
        self.noise_db: float | None = None
        self._audio = np.zeros(0, np.float32)  # from the oldest window still to measure, or the last gap
        self._audio_start = 0  # stream sample of _audio[0]
        self._block = np.zeros(0, np.float32)  # the 10 ms block being filled (noise floor)
        self._block_size = max(1, int(HOP_S * sample_rate_hz))
        self._speech_levels = _RecentPercentile95(max(1, int(REFERENCE_WINDOW_S * fps)))
        self._next_frame = 0

    @property
    def end_sample(self) -> int:
        """Stream sample just after the audio pushed so far."""
        return self._audio_start + len(self._audio)

    def push(self, samples: np.ndarray) -> np.ndarray:
        """The next audio, contiguous with the last (float32 mono, any length). Returns the level in
        dBFS of each 10 ms block it completed (blocks count from the stream start or the last gap)."""
        samples = np.asarray(samples, np.float32)
        self._audio = np.concatenate([self._audio, samples])
        block = np.concatenate([self._block, samples])
        full = len(block) // self._block_size * self._block_size
        levels = _block_levels_db(block[:full], self._block_size)
        for level in levels:
            self._track_noise(float(level))
        self._block = block[full:].copy()
        return levels

    def skip(self, num_samples: int) -> None:
        """``num_samples`` of audio are missing: windows after the gap start after it."""
        self._audio_start, self._audio = self.end_sample + num_samples, np.zeros(0, np.float32)
        self._block = np.zeros(0, np.float32)

    def is_quiet(self, level: float) -> bool:
        """Whether a level (dBFS) is a pause: near the noise floor, or far below the speech."""
        if self.noise_db is None:
            return True
        threshold = self.noise_db + PAUSE_OVER_NOISE_DB
        if self.reference_db is not None:
            threshold = max(threshold, self.reference_db - PAUSE_UNDER_REFERENCE_DB)
        return level < threshold

    def envelope(self, first_frame: int, num_frames: int) -> np.ndarray:
        """Loudness of frames ``first_frame ..`` in 0..1, shape (num_frames,). Frames come in order,
        each once (frames skipped over by a gap are never asked for)."""
        if first_frame < self._next_frame:
            raise ValueError(f"frame {first_frame} was already measured")
        levels = frame_levels_db(self._audio, self.sample_rate_hz, self.fps, num_frames, first_frame,
                                 self._audio_start)
        out = np.zeros(num_frames, np.float32)
        for i, level in enumerate(levels):
            floor = self._update_reference(float(level))
            if floor is not None:
                out[i] = min(max((level - floor) / (self.reference_db - floor), 0.0), 1.0)
        self._next_frame = first_frame + num_frames
        self._trim()
        return out

    def _update_reference(self, level: float) -> float | None:
        """Take one frame's level into the reference; returns the floor (dBFS) or None for silence."""
        if level < SILENCE_DBFS:
            return None if self.reference_db is None else self._floor()
        if self.reference_db is None or level > self._floor():
            self.reference_db = self._speech_levels.add(level)
            if self.noise_db is not None:  # before the first words the "speech" heard is noise
                self.reference_db = max(self.reference_db, self.noise_db + MIN_SPEECH_OVER_NOISE_DB)
        return self._floor()

    def _floor(self) -> float:
        floor = self.reference_db - self.floor_db
        if self.noise_db is not None:
            # (never within 6 dB of the reference: the noise floor may have crept up since)
            floor = max(floor, min(self.noise_db + NOISE_MARGIN_DB, self.reference_db - 6.0))
        return floor

    def _track_noise(self, level: float) -> None:
        if level < SILENCE_DBFS:
            return
        if self.noise_db is None or level < self.noise_db:
            self.noise_db = level
        else:
            self.noise_db += NOISE_RISE_DB_PER_S * HOP_S

    def _trim(self) -> None:
        """Drop audio no later frame's window reaches."""
        win = max(1, int(WINDOW_S * self.sample_rate_hz))
        keep_from = int(round(self._next_frame * self.sample_rate_hz / self.fps)) - win // 2 - 1
        drop = min(max(keep_from - self._audio_start, 0), len(self._audio))
        if drop:
            self._audio = self._audio[drop:]
            self._audio_start += drop
