"""The causal prosody state, one analysis step (10 ms) at a time.

Each step takes one 40 ms window (or None where audio was lost) and appends a row of ``STEP_FIELDS``
computed from that window and the steps before it; syllable nuclei and pitch accents are appended
as ``Event``s once confirmed. Everything speaker-specific is a running statistic:

- level: dB of the window's centre 25 ms; the noise floor is the minimum level of the last 2 s,
  the reference (loudness 1) the median of the recent syllable peaks plus 2 dB;
- pitch: semitones above the median F0 of the speaker's last 5 s of voicing;
- nuclei: peaks of the level, 3 dB above the dips on both sides (hysteresis), voiced and clear of
  the noise floor; emphasis is a nucleus's level above the median of the nuclei of the last 3 s;
- stresses: the emphasised nuclei spoken at or above the speaker's median pitch (a stressed
  syllable is louder than its neighbours and not low: intensity and F0 both mark it);
- accents: a voiced F0 maximum of the last 300 ms rising above the minimum since the previous
  accent by at least ``ACCENT_RISE_ST`` and a quarter of the speaker's pitch span (the 10th to 90th
  percentile of the last 5 s of voicing), on a syllable at least as loud as the speaker's median
  voiced level (an accent is an F0 excursion on a prominent syllable, not a rise on a weak one);
  confirmed once the F0 falls ``ACCENT_FALL_ST`` or ``confirm_steps`` later (the look-ahead's end).
"""

from __future__ import annotations

import bisect
import math
from collections import deque
from typing import NamedTuple

import numpy as np

from ..tracks import SAMPLE_RATE_HZ
from .pitch import HOP, THRESHOLD, WINDOW, PitchEstimate
from .pitch import estimate as estimate_pitch

STEP_S = HOP / SAMPLE_RATE_HZ
STEP_FIELDS = ("f0_hz", "voiced", "pitch", "loudness", "speech", "rising", "pause", "rate")
"""Columns of a step row: Hz, 0..1, semitones, 0..1, 0..1, 0..1, seconds, syllables per second."""

LEVEL_SAMPLES = 400
NOISE_WINDOW_STEPS = 200
INITIAL_FLOOR_DB = -70.0
"""The noise floor until an aperiodic step is heard."""
NOISE_MARGIN_DB = 6.0
VOICED_OVER_NOISE_DB = 8.0
NUCLEUS_OVER_NOISE_DB = 12.0
NUCLEUS_DIP_DB = 3.0
REFERENCE_OVER_PEAKS_DB = 2.0
DEFAULT_RANGE_DB = 30.0
"""Loudness spans the noise floor + margin .. this far above the floor until syllables are seen."""
SPEECH_ATTACK = 0.3
SPEECH_RELEASE = 0.04
"""Per-step smoothing of the speech indicator: about 30 ms to start, 250 ms to end."""
MEDIAN_STEPS = 500
"""The speaker's pitch is the median of this many voiced steps (5 s of voicing)."""
ACCENT_RISE_ST = 1.5
ACCENT_FULL_ST = 4.5
ACCENT_MIN_STRENGTH = 0.3
"""An accent rising ACCENT_RISE_ST has strength ACCENT_MIN_STRENGTH, growing to 1 at ACCENT_FULL_ST."""
ACCENT_SPAN_SHARE = 0.25
"""An accent also rises at least this share of the speaker's pitch span (10th to 90th percentile of
the last MEDIAN_STEPS voiced steps): a lively voice needs a larger excursion than a monotonous one."""
ACCENT_OVER_VOICED_DB = 0.0
"""An accent's peak is at least this loud against the median level of the speaker's last MEDIAN_STEPS
voiced steps: pitch accents fall on prominent syllables, which are louder than the speaker's typical
voiced sound; an F0 peak on a weak syllable or a fading phrase end is not one."""
ACCENT_FALL_ST = 0.5
ACCENT_WINDOW_STEPS = 30
PITCH_JUMP_ST = 4.0
"""A voiced step this far from the previous one is a tracking error or a new phrase: the accent
search restarts there."""
RISING_WINDOW_STEPS = 30
RISING_START_ST = 2.0
RISING_FULL_ST = 5.0
"""Rising is 0 up to this rise over the last RISING_WINDOW_STEPS voiced steps, 1 from this one, and
scaled by how far above the speaker's median the pitch has risen (0 at it, full RISING_HIGH_ST up):
a question ends high, an accent's rise in mid-range counts less."""
RISING_HIGH_ST = 3.0
RATE_WINDOW_STEPS = 200
EMPHASIS_WINDOW_STEPS = 300
EMPHASIS_START_DB = 2.0
EMPHASIS_FULL_DB = 8.0
"""Emphasis grows from 0 to 1 as a nucleus stands this far above the median of the nuclei of the
last EMPHASIS_WINDOW_STEPS (at least two of them)."""
STRESS_REACH_STEPS = 5
"""A nucleus's pitch is the highest voiced pitch within this many steps of its level peak (its vowel)."""
STRESS_MIN_ST = 0.0
"""An emphasised nucleus is stressed when its pitch is at least this far above the speaker's median."""


class Event(NamedTuple):
    """A peak at step ``peak``, known from step ``confirmed`` on, of ``strength`` 0..1."""

    peak: int
    confirmed: int
    strength: float


class ProsodyTracker:
    """Appends one row per step to ``rows`` (step - ``first_step`` indexes it) and events to
    ``accents``, ``nuclei`` and ``stresses``. ``confirm_steps``: how many steps after a peak it may be
    confirmed."""

    def __init__(self, confirm_steps: int) -> None:
        self.confirm_steps = max(1, confirm_steps)
        self.step = 0
        self.rows: list[tuple[float, ...]] = []
        self.first_step = 0
        self.accents: list[Event] = []
        self.nuclei: list[Event] = []
        self.stresses: list[Event] = []
        self._block_mins: deque[float] = deque(maxlen=NOISE_WINDOW_STEPS // 10 + 1)
        self._floor_db = INITIAL_FLOOR_DB
        self._peak_levels: deque[tuple[int, float]] = deque(maxlen=20)
        self._peak_median_db: float | None = None
        self._voiced_pitch = _SortedWindow(MEDIAN_STEPS)
        self._voiced_level = _SortedWindow(MEDIAN_STEPS)
        self._prev_f0 = 0.0
        self._recent_st: deque[float] = deque(maxlen=3)
        self._pitch_trail: deque[tuple[int, float]] = deque(maxlen=50)
        """(step, pitch) of the voiced steps of the last 0.5 s: a nucleus is confirmed after its peak."""
        self._rise_fit = _LineFit(RISING_WINDOW_STEPS)
        self._accent_st: deque[tuple[int, float]] = deque()
        self._candidate: tuple[int, float, float] | None = None
        self._nucleus = _PeakPicker(NUCLEUS_DIP_DB)
        self._speech = 0.0
        self._speech_flags: deque[float] = deque(maxlen=RATE_WINDOW_STEPS)
        self._speech_sum = 0.0
        self._last_speaking = -1
        self._rising = 0.0
        self._recent_nuclei: deque[int] = deque()

    # --- one step ----------------------------------------------------------------------------------

    def push(self, window: np.ndarray | None) -> None:
        """One (WINDOW,) float32 window centred on this step, or None where the audio was lost."""
        level = self._floor_db if window is None else self._level_db(window)
        if window is None or level < self._floor_db + VOICED_OVER_NOISE_DB:
            found = PitchEstimate(0.0, 1.0)  # too quiet to be voiced: YIN's cost saved
        else:
            found = estimate_pitch(window, self._prev_f0)
        # the zeros before the stream's first sample are not noise
        padded = self.step * HOP < WINDOW // 2
        floor = self._noise_floor(level, counts=window is not None and not padded and found.f0_hz <= 0.0)
        voiced = self._voicing(found, level, floor)
        f0 = found.f0_hz if voiced >= 0.5 else 0.0
        self._prev_f0 = f0
        st = self._relative_pitch(f0)
        if f0 > 0.0:
            self._voiced_level.add(level)
            self._pitch_trail.append((self.step, st))
        loudness = self._loudness(level, floor)
        speaking = self._speaking(f0 > 0.0)
        self._find_nucleus(level, floor, voiced >= 0.5)
        self._find_accent(st, f0 > 0.0, level)
        rising = self._rising_now(st, f0 > 0.0)
        pause = 0.0 if speaking else (self.step - self._last_speaking) * STEP_S
        self.rows.append((f0, voiced, st, loudness, self._speech, rising, pause, self._rate()))
        self.step += 1

    def drop_before(self, step: int) -> None:
        """Forget rows and events before ``step`` (memory stays bounded)."""
        cut = min(step - self.first_step, len(self.rows))
        if cut > 0:
            del self.rows[:cut]
            self.first_step += cut
        self.accents = [e for e in self.accents if e.peak >= step - ACCENT_WINDOW_STEPS]
        self.nuclei = [e for e in self.nuclei if e.peak >= step - ACCENT_WINDOW_STEPS]
        self.stresses = [e for e in self.stresses if e.peak >= step - ACCENT_WINDOW_STEPS]

    # --- level, noise floor, loudness ------------------------------------------------------------

    def _level_db(self, window: np.ndarray) -> float:
        mid = len(window) // 2
        centre = window[mid - LEVEL_SAMPLES // 2: mid + LEVEL_SAMPLES // 2].astype(np.float64)
        return 10.0 * math.log10(float(np.dot(centre, centre)) / LEVEL_SAMPLES + 1e-12)

    def _noise_floor(self, level: float, counts: bool) -> float:
        """Minimum level of the aperiodic steps (``counts``) of the last ~2 s, kept as minima of 10-step
        blocks; a steady vowel or hum is not noise. Without such steps, the floor stays where it was."""
        level = level if counts else math.inf
        if self.step % 10 == 0 or not self._block_mins:
            self._block_mins.append(level)
        else:
            self._block_mins[-1] = min(self._block_mins[-1], level)
        floor = min(self._block_mins)
        if floor < math.inf:
            self._floor_db = floor
        return self._floor_db

    def _reference_db(self, floor: float) -> float:
        """The level loudness 1 stands for: a little above the median of the recent syllable peaks."""
        if self._peak_median_db is None:
            return floor + DEFAULT_RANGE_DB
        return max(self._peak_median_db + REFERENCE_OVER_PEAKS_DB, floor + NUCLEUS_OVER_NOISE_DB)

    def _loudness(self, level: float, floor: float) -> float:
        low = floor + NOISE_MARGIN_DB
        return _ramp(level, low, max(self._reference_db(floor), low + 6.0))

    # --- pitch -------------------------------------------------------------------------------------

    def _voicing(self, estimate: PitchEstimate, level: float, floor: float) -> float:
        """0..1, 0.5 at the YIN threshold; 0 where the window is within reach of the noise floor."""
        if estimate.f0_hz <= 0.0 or level - floor < VOICED_OVER_NOISE_DB:
            return min(max((1.0 - estimate.aperiodicity) * 0.5, 0.0), 0.49)
        return min(max(0.5 + (THRESHOLD - estimate.aperiodicity) / (2 * THRESHOLD), 0.5), 1.0)

    def _relative_pitch(self, f0: float) -> float:
        """Semitones above the median of the last MEDIAN_STEPS voiced steps (0 where unvoiced)."""
        if f0 <= 0.0:
            return 0.0
        st = 12.0 * math.log2(f0 / 55.0)
        self._voiced_pitch.add(st)
        return st - self._voiced_pitch.quantile(0.5)

    def _smoothed_pitch(self, st: float, voiced: bool) -> float | None:
        """Median of the last three voiced steps, None when this step is unvoiced."""
        if not voiced:
            self._recent_st.clear()
            return None
        self._recent_st.append(st)
        return sorted(self._recent_st)[len(self._recent_st) // 2]

    # --- accents, nuclei, rising, rate ---------------------------------------------------------------

    def _find_accent(self, st: float, voiced: bool, level: float) -> None:
        value = self._smoothed_pitch(st, voiced)
        j = self.step
        while self._accent_st and self._accent_st[0][0] < j - ACCENT_WINDOW_STEPS:
            self._accent_st.popleft()
        if value is not None and self._accent_st and abs(value - self._accent_st[-1][1]) > PITCH_JUMP_ST:
            self._accent_st.clear()
            self._candidate = None
        cand = self._candidate
        if cand is not None and (j - cand[0] >= self.confirm_steps
                                 or (value is not None and cand[1] - value >= ACCENT_FALL_ST)):
            self._confirm_accent(cand, j)
            cand = self._candidate = None
        if value is None:
            return
        if cand is None or value > cand[1]:
            self._candidate = (j, value, level)
        self._accent_st.append((j, value))

    def _confirm_accent(self, cand: tuple[int, float, float], j: int) -> None:
        peak, value, level = cand
        before = [v for s, v in self._accent_st if s <= peak]
        if not before or level < self._voiced_level.quantile(0.5) + ACCENT_OVER_VOICED_DB or value < max(before):
            return
        rise = value - min(before)
        span = self._voiced_pitch.quantile(0.9) - self._voiced_pitch.quantile(0.1)
        if rise >= max(ACCENT_RISE_ST, ACCENT_SPAN_SHARE * span):
            growth = _ramp(rise, ACCENT_RISE_ST, ACCENT_FULL_ST)
            self.accents.append(Event(peak, j, ACCENT_MIN_STRENGTH + (1 - ACCENT_MIN_STRENGTH) * growth))
            # the next accent must rise again from what follows this one
            self._accent_st = deque((s, v) for s, v in self._accent_st if s >= peak)

    def _find_nucleus(self, level: float, floor: float, voiced: bool) -> None:
        peak = self._nucleus.push(self.step, level, voiced and level - floor >= NUCLEUS_OVER_NOISE_DB)
        if peak is None:
            return
        step, peak_db = peak
        recent = sorted(p for s, p in self._peak_levels if s >= step - EMPHASIS_WINDOW_STEPS)
        strength = 0.0
        if len(recent) >= 2:
            strength = _ramp(peak_db - recent[len(recent) // 2], EMPHASIS_START_DB, EMPHASIS_FULL_DB)
        self.nuclei.append(Event(step, self.step, strength))
        if strength > 0.0 and self._syllable_pitch(step) >= STRESS_MIN_ST:
            self.stresses.append(Event(step, self.step, strength))
        self._recent_nuclei.append(step)
        self._peak_levels.append((step, peak_db))
        if len(self._peak_levels) >= 3:
            peaks = sorted(p for _, p in self._peak_levels)
            self._peak_median_db = peaks[len(peaks) // 2]

    def _syllable_pitch(self, peak: int) -> float:
        """The highest voiced pitch within STRESS_REACH_STEPS of step ``peak`` (-inf: none)."""
        near = [st for s, st in self._pitch_trail if abs(s - peak) <= STRESS_REACH_STEPS]
        return max(near, default=-math.inf)

    def _rising_now(self, st: float, voiced: bool) -> float:
        """How far the last ~300 ms of voiced pitch rose (least-squares slope), 0..1; it fades in pauses."""
        if voiced:
            self._rise_fit.add(self.step, st, oldest=self.step - 2 * RISING_WINDOW_STEPS)
            slope = self._rise_fit.slope() if self._rise_fit.count >= 10 else 0.0
            rise = _ramp(slope * RISING_WINDOW_STEPS, RISING_START_ST, RISING_FULL_ST)
            self._rising = rise * _ramp(st, 0.0, RISING_HIGH_ST)
        if self._last_speaking >= 0 and self.step - self._last_speaking > 50:
            self._rising *= 0.97
        return self._rising

    def _speaking(self, evidence: bool) -> bool:
        target = 1.0 if evidence else 0.0
        rate = SPEECH_ATTACK if target > self._speech else SPEECH_RELEASE
        self._speech += (target - self._speech) * rate
        if len(self._speech_flags) == self._speech_flags.maxlen:
            self._speech_sum -= self._speech_flags[0]
        speaking = self._speech >= 0.5
        self._speech_flags.append(float(speaking))
        self._speech_sum += float(speaking)
        if speaking:
            self._last_speaking = self.step
        return speaking

    def _rate(self) -> float:
        """Nuclei of the last 2 s per second of speech in them (at least 1 s counted)."""
        while self._recent_nuclei and self._recent_nuclei[0] <= self.step - RATE_WINDOW_STEPS:
            self._recent_nuclei.popleft()
        return len(self._recent_nuclei) / max(self._speech_sum * STEP_S, 1.0)


def _ramp(value: float, zero: float, one: float) -> float:
    """0 at or below ``zero``, 1 at or above ``one``, linear between."""
    return min(max((value - zero) / (one - zero), 0.0), 1.0)


class _SortedWindow:
    """The last ``size`` values, kept sorted for their quantiles (a bisect per value: cheap at 500)."""

    def __init__(self, size: int) -> None:
        self._values: deque[float] = deque(maxlen=size)
        self._sorted: list[float] = []

    def add(self, value: float) -> None:
        if len(self._values) == self._values.maxlen:
            del self._sorted[bisect.bisect_left(self._sorted, self._values[0])]
        self._values.append(value)
        bisect.insort(self._sorted, value)

    def quantile(self, q: float) -> float:
        """The value at share ``q`` (0..1) of the sorted window (q 0.5: the upper median); it needs one value."""
        return self._sorted[min(int(q * len(self._sorted)), len(self._sorted) - 1)]


class _LineFit:
    """Least-squares slope of the last ``size`` points (step, value), kept as running sums."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._points: deque[tuple[int, float]] = deque()
        self._sums = [0.0, 0.0, 0.0, 0.0]  # step, step ** 2, value, step * value; steps from _base
        self._base = 0

    @property
    def count(self) -> int:
        return len(self._points)

    def add(self, step: int, value: float, oldest: int) -> None:
        """Add a point; forget the points before step ``oldest`` and beyond ``size``."""
        while self._points and (self._points[0][0] < oldest or len(self._points) >= self.size):
            self._update(*self._points.popleft(), sign=-1.0)
        if not self._points:  # small exact numbers again, however long the stream
            self._sums = [0.0, 0.0, 0.0, 0.0]
            self._base = step
        self._points.append((step, value))
        self._update(step, value, sign=1.0)

    def slope(self) -> float:
        n = len(self._points)
        s, ss, v, sv = self._sums
        spread = n * ss - s * s
        return (n * sv - s * v) / spread if spread > 0 else 0.0

    def _update(self, step: int, value: float, sign: float) -> None:
        sums, step = self._sums, step - self._base
        sums[0] += sign * step
        sums[1] += sign * step * step
        sums[2] += sign * value
        sums[3] += sign * step * value


class _PeakPicker:
    """Peaks that stand ``dip_db`` above the dips on both sides (classic peak detection with hysteresis)."""

    def __init__(self, dip_db: float) -> None:
        self.dip_db = dip_db
        self._max: tuple[int, float, bool] | None = None
        self._min = math.inf

    def push(self, step: int, value: float, eligible: bool) -> tuple[int, float] | None:
        """The (step, value) of a peak confirmed by this value, else None; ``eligible``: may peak here."""
        if self._max is None:
            self._min = min(self._min, value)
            if value > self._min + self.dip_db:
                self._max = (step, value, eligible)
            return None
        if value > self._max[1]:
            self._max = (step, value, eligible)
        if value < self._max[1] - self.dip_db:
            peak = self._max
            self._max, self._min = None, value
            return (peak[0], peak[1]) if peak[2] else None
        return None
