"""Pitch of one analysis window: YIN (de Cheveigné and Kawahara, 2002).

One window is ``WINDOW`` samples (40 ms at 16 kHz) centred on its hop's time, analysed at 8 kHz; its
lags cover ``F0_MIN_HZ`` .. ``F0_MAX_HZ``. The period is the first dip of the cumulative mean
normalized difference below ``PERIOD_THRESHOLD`` (the first, so a subharmonic is not taken; else the
deepest dip), refined by parabolic interpolation; where a dip near the previous period is about as
deep, it is kept (octave-jump protection). The window is voiced when that dip is under ``THRESHOLD``.
docs/prosody.md measures it against Praat.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from ..tracks import SAMPLE_RATE_HZ

HOP = 160
"""Samples per analysis step (10 ms): the pitch and prosody grid."""

WINDOW = 640
"""Samples per analysis window (40 ms), centred on the step's time."""

ANALYSIS_RATE_HZ = SAMPLE_RATE_HZ // 2
"""YIN runs on the window low-passed ([1, 2, 1] / 4) and halved: half the cost, same pitch range."""

F0_MIN_HZ = 60.0
F0_MAX_HZ = 500.0
TAU_MIN = int(ANALYSIS_RATE_HZ / F0_MAX_HZ)
TAU_MAX = int(math.ceil(ANALYSIS_RATE_HZ / F0_MIN_HZ))
HALF_WINDOW = WINDOW // 2 - 1
"""Samples of the halved window."""
INTEGRATION = HALF_WINDOW - TAU_MAX - 1
"""Samples summed per lag (23 ms): the window holds every lag's shifted copy."""

PERIOD_THRESHOLD = 0.2
"""The period is the first dip of the normalized difference below this (YIN's absolute threshold),
else the deepest dip."""

THRESHOLD = 0.45
"""A window whose chosen dip is below this is periodic enough to be voiced."""

OCTAVE_TOLERANCE = 0.1
"""A dip near the previous period wins if it is at most this much shallower than the first dip."""


class PitchEstimate(NamedTuple):
    """``f0_hz`` (0 when no dip is under THRESHOLD) and ``aperiodicity``: the dip's depth, 0 for a
    perfectly periodic window, about 1 for noise."""

    f0_hz: float
    aperiodicity: float


_LAGS = np.arange(1, TAU_MAX + 1, dtype=np.float64)


def normalized_difference(window: np.ndarray) -> np.ndarray:
    """YIN's cumulative mean normalized difference of one (WINDOW,) window, shape (TAU_MAX + 1,)."""
    x = _halve(window.astype(np.float64))
    # direct correlation: at these sizes faster than the FFT route (numpy's per-call costs dominate)
    corr = np.correlate(x, x[:INTEGRATION], "valid")[:TAU_MAX + 1]
    energy = np.empty(len(x) + 1)
    energy[0] = 0.0
    np.multiply(x, x, out=energy[1:])
    np.cumsum(energy, out=energy)
    shifted = energy[INTEGRATION:INTEGRATION + TAU_MAX + 1] - energy[:TAU_MAX + 1]
    diff = energy[INTEGRATION] + shifted - 2.0 * corr
    out = np.empty(TAU_MAX + 1)
    out[0] = 1.0
    out[1:] = diff[1:] * _LAGS / (np.cumsum(diff[1:]) + 1e-12)
    return out


def estimate(window: np.ndarray, previous_f0_hz: float = 0.0) -> PitchEstimate:
    """The pitch of one (WINDOW,) float window; ``previous_f0_hz`` (0: none) guards against octave jumps."""
    cmnd = normalized_difference(window)
    lowest = float(cmnd[TAU_MIN:TAU_MAX].min())
    dips = _dips(cmnd) if lowest < THRESHOLD else ()
    if len(dips) == 0:
        return PitchEstimate(0.0, min(lowest, 1.0))
    tau = _choose(cmnd, dips, previous_f0_hz)
    period, depth = _parabola(cmnd, tau)
    if depth >= THRESHOLD:
        return PitchEstimate(0.0, min(depth, 1.0))
    return PitchEstimate(ANALYSIS_RATE_HZ / period, max(depth, 0.0))


_HALF_BAND = np.array([0.25, 0.5, 0.25])


def _halve(x: np.ndarray) -> np.ndarray:
    """(WINDOW,) at 16 kHz -> (HALF_WINDOW,) at 8 kHz through a [1, 2, 1] / 4 low-pass."""
    return np.convolve(x, _HALF_BAND, "valid")[::2]


def _dips(cmnd: np.ndarray) -> np.ndarray:
    """Lags of local minima under THRESHOLD, ascending."""
    mid = cmnd[TAU_MIN:TAU_MAX]
    is_dip = (mid <= cmnd[TAU_MIN - 1:TAU_MAX - 1]) & (mid < cmnd[TAU_MIN + 1:TAU_MAX + 1])
    return np.flatnonzero(is_dip & (mid < THRESHOLD)) + TAU_MIN


def _choose(cmnd: np.ndarray, dips: np.ndarray, previous_f0_hz: float) -> int:
    """The first dip under PERIOD_THRESHOLD (else the deepest), unless one near the previous period is
    nearly as deep."""
    under = dips[cmnd[dips] < PERIOD_THRESHOLD]
    first = int(under[0]) if len(under) else int(dips[np.argmin(cmnd[dips])])
    if previous_f0_hz <= 0.0 or len(dips) == 1:
        return first
    previous_tau = ANALYSIS_RATE_HZ / previous_f0_hz
    near = dips[np.abs(dips - previous_tau) < 0.15 * previous_tau]
    if len(near) and cmnd[near[0]] <= cmnd[first] + OCTAVE_TOLERANCE:
        return int(near[0])
    return first


def _parabola(cmnd: np.ndarray, tau: int) -> tuple[float, float]:
    """Sub-sample lag and depth of the dip at ``tau`` from a parabola through its neighbours."""
    a, b, c = cmnd[tau - 1], cmnd[tau], cmnd[tau + 1]
    curvature = a - 2.0 * b + c
    if curvature <= 0.0:
        return float(tau), float(b)
    shift = 0.5 * (a - c) / curvature
    return tau + shift, float(b - 0.25 * (a - c) * shift)
