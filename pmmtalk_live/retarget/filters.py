"""Smoothing filters for streams of curves: One-Euro and a critically damped spring.

Both filter a vector of curves at once (one independent filter per element, numpy state, no Python
loop over curves) and are causal: ``step(x, dt_s)`` takes the newest frame and returns the filtered
frame, so the live path and the offline path (which steps frame by frame) give the same numbers.
Parameters are numbers or per-curve arrays (shape (num_curves,)), so curves smoothed differently can
still share one filter. The first frame after construction or ``reset()`` passes through unchanged
and starts the state there, so a stream does not glide in from zero.
"""

from __future__ import annotations

import math
from typing import Protocol

import numpy as np


class Filter(Protocol):
    """A causal, stateful filter over a vector of curves."""

    def step(self, x: np.ndarray, dt_s: float) -> np.ndarray: ...

    def reset(self) -> None: ...

    def take_state(self, other: "Filter") -> None:
        """Go on from ``other``'s state (a filter of the same kind over the same curves, its parameters
        perhaps changed): no jump when a preset is tuned while it runs."""


def _check_frame(x: np.ndarray, state: np.ndarray | None, dt_s: float) -> np.ndarray:
    if not dt_s > 0:
        raise ValueError(f"dt_s must be > 0 s, got {dt_s}")
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"expected one frame of shape (num_curves,), got shape {x.shape}")
    if state is not None and state.shape != x.shape:
        raise ValueError(f"frame has {x.shape[0]} curves, the filter state {state.shape[0]}")
    return x


def _smoothing_factor(cutoff_hz: np.ndarray, dt_s: float) -> np.ndarray:
    """Weight of the new sample in a first-order low-pass at ``cutoff_hz`` sampled every ``dt_s``."""
    tau_s = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau_s / dt_s)


class OneEuroFilter:
    """The 1€ filter (Casiez, Roussel, Vogel, CHI 2012): a low-pass whose cutoff rises with speed.

    At rest the cutoff is ``min_cutoff_hz`` (low: removes jitter); each curve's cutoff grows by
    ``beta`` Hz per unit/s of its own (low-passed, at ``d_cutoff_hz``) speed, so fast motion such as a
    jaw opening on a plosive follows with little lag. Lower ``min_cutoff_hz`` for less jitter at rest,
    raise ``beta`` for less lag when moving.
    """

    def __init__(self, min_cutoff_hz: float | np.ndarray = 1.0, beta: float | np.ndarray = 0.0,
                 d_cutoff_hz: float | np.ndarray = 1.0):
        self.min_cutoff_hz = np.asarray(min_cutoff_hz, dtype=np.float64)
        self.beta = np.asarray(beta, dtype=np.float64)
        """Hz of extra cutoff per unit/s of speed."""
        self.d_cutoff_hz = np.asarray(d_cutoff_hz, dtype=np.float64)
        if not (np.all(self.min_cutoff_hz > 0) and np.all(self.d_cutoff_hz > 0) and np.all(self.beta >= 0)):
            raise ValueError(f"need min_cutoff_hz > 0, d_cutoff_hz > 0, beta >= 0; got "
                             f"{min_cutoff_hz}, {d_cutoff_hz}, {beta}")
        self._value: np.ndarray | None = None
        """Last filtered frame, shape (num_curves,)."""
        self._speed: np.ndarray | None = None
        """Last low-passed derivative, units per second, shape (num_curves,)."""

    def step(self, x: np.ndarray, dt_s: float) -> np.ndarray:
        """Filter one frame ``x`` (shape (num_curves,)) taken ``dt_s`` seconds after the last; float64."""
        x = _check_frame(x, self._value, dt_s)
        if self._value is None:
            self._value, self._speed = x.copy(), np.zeros_like(x)
            return x.copy()
        raw_speed = (x - self._value) / dt_s
        self._speed = self._speed + _smoothing_factor(self.d_cutoff_hz, dt_s) * (raw_speed - self._speed)
        cutoff_hz = self.min_cutoff_hz + self.beta * np.abs(self._speed)
        self._value = self._value + _smoothing_factor(cutoff_hz, dt_s) * (x - self._value)
        return self._value.copy()

    def reset(self) -> None:
        """Forget the state: the next frame passes through unchanged."""
        self._value = self._speed = None

    def take_state(self, other: "OneEuroFilter") -> None:
        self._value = None if other._value is None else other._value.copy()
        self._speed = None if other._speed is None else other._speed.copy()


HALF_LIFE_OMEGA = 1.6783469900166605
"""omega * half-life for a critically damped spring: the root of (1 + u) exp(-u) = 1/2."""


class CriticallyDampedFilter:
    """Each curve follows its input like a critically damped spring: smooth, and never overshoots a step.

    ``half_life_s`` is the time the spring takes to cover half of a step (angular frequency
    ``HALF_LIFE_OMEGA / half_life_s``). The spring is integrated exactly for an input held over the
    frame, so it is stable at any frame rate. It is second order: it also removes the velocity kinks
    a One-Euro filter lets through, at the price of a fixed lag of about ``1.2 * half_life_s`` on a ramp.
    """

    def __init__(self, half_life_s: float | np.ndarray):
        self.half_life_s = np.asarray(half_life_s, dtype=np.float64)
        if not np.all(self.half_life_s > 0):
            raise ValueError(f"half_life_s must be > 0, got {half_life_s}")
        self.omega = HALF_LIFE_OMEGA / self.half_life_s
        """Natural angular frequency, rad/s."""
        self._value: np.ndarray | None = None
        self._velocity: np.ndarray | None = None
        """Units per second, shape (num_curves,)."""

    def step(self, x: np.ndarray, dt_s: float) -> np.ndarray:
        """Filter one frame ``x`` (shape (num_curves,)) taken ``dt_s`` seconds after the last; float64."""
        x = _check_frame(x, self._value, dt_s)
        if self._value is None:
            self._value, self._velocity = x.copy(), np.zeros_like(x)
            return x.copy()
        # closed form of y'' = -omega^2 (y - x) - 2 omega y' over dt_s with x held constant
        offset = self._value - x
        drift = self._velocity + self.omega * offset
        decay = np.exp(-self.omega * dt_s)
        self._value = x + (offset + drift * dt_s) * decay
        self._velocity = (self._velocity - self.omega * drift * dt_s) * decay
        return self._value.copy()

    def reset(self) -> None:
        """Forget the state: the next frame passes through unchanged."""
        self._value = self._velocity = None

    def take_state(self, other: "CriticallyDampedFilter") -> None:
        self._value = None if other._value is None else other._value.copy()
        self._velocity = None if other._velocity is None else other._velocity.copy()
