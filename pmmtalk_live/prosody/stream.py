"""ProsodyStream: live audio in, prosody per output frame out, with a bounded look-ahead.

Audio is analysed on a 10 ms step grid (step j is centred on sample j * HOP and needs the audio up to
j * HOP + WINDOW / 2); output frame k shows time k / fps and reads the step nearest that time,
or the latest step its look-ahead allows, together with the accents, nuclei and stresses confirmed by then.
A frame depends only on the audio before k / fps + lookahead_s, so streaming in any pieces and
analysing a whole recording give the same numbers.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..tracks import SAMPLE_RATE_HZ, num_frames_for
from .pitch import HOP, WINDOW
from .tracker import STEP_FIELDS, STEP_S, Event, ProsodyTracker

ACCENT_SPREAD_STEPS = 6
EMPHASIS_SPREAD_STEPS = 8
"""An accent (emphasis, stress) shows on the frames within this many steps of its peak, fading linearly."""
FRAME_FIELDS = STEP_FIELDS + ("accent", "emphasis", "stress")
PAUSE = STEP_FIELDS.index("pause")


@dataclass(frozen=True)
class ProsodyFrames:
    """Prosody per output frame (frame k shows stream time k / fps), all float32 arrays of shape (n,).

    ``f0_hz``: pitch in Hz, 0 where unvoiced. ``pitch``: semitones above the median F0 of the
    speaker's last 5 s of voicing (0 where unvoiced). ``voiced``: 0..1, a frame is voiced from 0.5.
    ``loudness``: 0..1, 0 at the noise floor, about 1 at the speaker's loud syllables. ``speech``: 0..1 speaking now.
    ``accent``: 0..1 pitch-accent strength around an accented syllable's F0 peak. ``emphasis``: 0..1
    a syllable's loudness above its neighbours'. ``stress``: the emphasis of a syllable spoken at or
    above the speaker's median pitch (0 on a loud syllable spoken low). ``rising``: 0..1 rising
    intonation over the last voiced ~300 ms. ``pause``: seconds since speech stopped (0 while
    speaking). ``rate``: syllables per second over the last ~2 s (0 in long pauses).
    """

    first_frame: int
    f0_hz: np.ndarray
    pitch: np.ndarray
    voiced: np.ndarray
    loudness: np.ndarray
    speech: np.ndarray
    accent: np.ndarray
    emphasis: np.ndarray
    stress: np.ndarray
    rising: np.ndarray
    pause: np.ndarray
    rate: np.ndarray

    @property
    def num_frames(self) -> int:
        return len(self.f0_hz)


class ProsodyStream:
    """Feed hops with ``process`` (or ``skip`` lost audio), read ``take`` for frames below
    ``frames_ready``; ``flush`` at the end of the stream."""

    def __init__(self, fps: float, lookahead_s: float) -> None:
        self.fps = fps
        self.lookahead_s = lookahead_s
        # a peak can be confirmed as late as the look-ahead lets a frame at its time see
        beyond_window_s = lookahead_s - WINDOW / 2 / SAMPLE_RATE_HZ
        self.tracker = ProsodyTracker(confirm_steps=int(math.floor(beyond_window_s / STEP_S)))
        self._buffer = np.zeros(0, np.float32)
        self._buffer_start = 0
        """Stream sample index of _buffer[0]; audio before it is lost (or, before 0, silence)."""
        self._num_samples = 0
        self._flushed = False

    # --- audio in ----------------------------------------------------------------------------------

    def process(self, hop: np.ndarray) -> None:
        """Float32 16 kHz mono samples, any length."""
        self._buffer = np.concatenate([self._buffer, np.asarray(hop, np.float32)])
        self._num_samples += len(hop)
        self._analyse(self._num_samples)

    def skip(self, num_samples: int) -> None:
        """``num_samples`` of audio were lost: time moves on, steps whose windows touch them are blank."""
        self._num_samples += num_samples
        self._buffer = np.zeros(0, np.float32)
        self._buffer_start = self._num_samples
        self._analyse(self._num_samples)

    def flush(self) -> None:
        """No more audio: the steps up to the end are analysed (silence after it) and every frame is ready."""
        if self._flushed:
            return
        end = self._num_samples
        last_step = (end - 1) // HOP
        pad = max(0, last_step * HOP + WINDOW // 2 - end)
        self._buffer = np.concatenate([self._buffer, np.zeros(pad, np.float32)])
        self._analyse(end + pad)
        self._flushed = True

    def _analyse(self, available: int) -> None:
        """Push every step whose window ends within the first ``available`` samples."""
        tracker = self.tracker
        while tracker.step * HOP + WINDOW // 2 <= available:
            tracker.push(self._window(tracker.step * HOP - WINDOW // 2))
        keep_from = tracker.step * HOP - WINDOW // 2
        cut = keep_from - self._buffer_start
        if cut > 0:
            self._buffer = self._buffer[cut:]
            self._buffer_start = keep_from

    def _window(self, start: int) -> np.ndarray | None:
        """The WINDOW samples from stream sample ``start``; None where some were lost."""
        if start < self._buffer_start:
            if self._buffer_start > 0:
                return None
            head = np.zeros(-start, np.float32)
            return np.concatenate([head, self._buffer[:WINDOW + start]])
        offset = start - self._buffer_start
        return self._buffer[offset:offset + WINDOW]

    # --- frames out --------------------------------------------------------------------------------

    def frames_ready(self) -> int:
        """Frames [0, n) whose look-ahead is in (all of them once flushed)."""
        if self._flushed:
            return num_frames_for(self._num_samples / SAMPLE_RATE_HZ, self.fps) if self._num_samples else 0
        count = int(math.floor((self._num_samples / SAMPLE_RATE_HZ - self.lookahead_s) * self.fps)) + 2
        while count > 0 and self._samples_for(count - 1) > self._num_samples:
            count -= 1
        return count

    def take(self, first_frame: int, count: int) -> ProsodyFrames:
        """Frames first_frame .. first_frame + count (all ready); older frames may be forgotten after."""
        rows = [self._frame(k) for k in range(first_frame, first_frame + count)]
        if count:
            first_centre, first_last = self._steps_for(first_frame)
            self.tracker.drop_before(min(first_centre, first_last) - 1)
        columns = np.array(rows, np.float32).reshape(count, len(FRAME_FIELDS)).T
        return ProsodyFrames(first_frame, **dict(zip(FRAME_FIELDS, columns)))

    def _frame(self, frame: int) -> tuple[float, ...]:
        """One frame's values in FRAME_FIELDS order: the step row nearest its time (or the latest its
        look-ahead allows), then accent, emphasis and stress."""
        centre, last = self._steps_for(frame)
        tracker = self.tracker
        step = min(centre, last)
        if step < 0:
            row = (0.0,) * (len(STEP_FIELDS) - 2) + (frame / self.fps, 0.0)
        elif step < tracker.first_step:
            raise ValueError(f"prosody frame {frame} was forgotten: take frames in order")
        else:
            row = tracker.rows[step - tracker.first_step]
            if row[PAUSE] > 0.0:  # counted to the frame's own time, not its step's
                row = row[:PAUSE] + (row[PAUSE] + frame / self.fps - step * STEP_S,) + row[PAUSE + 1:]
        accent = _spread(tracker.accents, centre, last, ACCENT_SPREAD_STEPS)
        emphasis = _spread(tracker.nuclei, centre, last, EMPHASIS_SPREAD_STEPS)
        stress = _spread(tracker.stresses, centre, last, EMPHASIS_SPREAD_STEPS)
        return row + (accent, emphasis, stress)

    def _steps_for(self, frame: int) -> tuple[int, int]:
        """The step at the frame's time, and the last step its audio allows (-1: none)."""
        centre = int(round(frame / (STEP_S * self.fps)))
        last = (self._samples_for(frame) - WINDOW // 2) // HOP
        return centre, max(min(last, self.tracker.step - 1), -1)

    def _samples_for(self, frame: int) -> int:
        """How many stream samples frame ``frame`` may read: up to frame / fps + lookahead_s."""
        return int(math.floor((frame / self.fps + self.lookahead_s) * SAMPLE_RATE_HZ + 1e-6))


def _spread(events: list[Event], centre: int, last: int, spread: int) -> float:
    """The strongest event confirmed by step ``last`` near step ``centre``, fading linearly over
    ``spread`` steps."""
    out = 0.0
    for event in events:
        distance = abs(centre - event.peak)
        if distance <= spread and event.confirmed <= last:
            out = max(out, event.strength * (1.0 - distance / (spread + 1.0)))
    return out
