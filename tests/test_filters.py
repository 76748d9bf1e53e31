"""The smoothing filters behave as their tuning advice says: converge, no overshoot, less lag when fast."""

from __future__ import annotations

import numpy as np
import pytest

from pmmtalk_live.retarget.filters import CriticallyDampedFilter, OneEuroFilter

FPS = 60.0
DT_S = 1.0 / FPS


def run(curve_filter, frames: np.ndarray, dt_s: float = DT_S) -> np.ndarray:
    """Filter a (T, num_curves) array frame by frame."""
    return np.stack([curve_filter.step(frame, dt_s) for frame in frames])


def step_input(num_frames: int, num_curves: int = 3) -> np.ndarray:
    frames = np.zeros((num_frames, num_curves))
    frames[1:] = [0.8, 0.3, 1.0][:num_curves]
    return frames


FILTERS = {
    "one_euro": lambda: OneEuroFilter(min_cutoff_hz=2.0, beta=0.5),
    "spring": lambda: CriticallyDampedFilter(half_life_s=0.05),
}


@pytest.mark.parametrize("make", FILTERS.values(), ids=FILTERS.keys())
def test_a_step_is_reached_within_a_second(make):
    out = run(make(), step_input(int(FPS)))
    np.testing.assert_allclose(out[-1], [0.8, 0.3, 1.0], atol=1e-3)
    assert out[1, 0] < 0.8  # smoothed, not a jump


@pytest.mark.parametrize("make", FILTERS.values(), ids=FILTERS.keys())
def test_never_overshoots_a_step(make):
    out = run(make(), step_input(2 * int(FPS)))
    assert np.all(out <= [0.8, 0.3, 1.0])
    assert np.all(np.diff(out, axis=0) >= -1e-12)  # rises monotonically, no ringing


def test_spring_covers_half_a_step_in_its_half_life():
    spring = CriticallyDampedFilter(half_life_s=0.1)
    rate_hz = 1000.0
    out = run(spring, step_input(int(rate_hz) + 1, 1), dt_s=1 / rate_hz)[:, 0]
    assert out[1 + 100] == pytest.approx(0.4, abs=0.01)  # 100 ms after the step: half of 0.8


def test_one_euro_lags_less_on_fast_motion_than_on_slow():
    """The point of One-Euro: a fast jaw opening is followed closely, a slow drift is smoothed hard."""

    def lag_s(speed_per_s: float) -> float:
        t = np.arange(int(0.5 * FPS)) * DT_S
        ramp = (speed_per_s * t)[:, None]
        out = run(OneEuroFilter(min_cutoff_hz=1.0, beta=1.0), ramp)
        return float((ramp[-1, 0] - out[-1, 0]) / speed_per_s)

    slow, fast = lag_s(0.1), lag_s(5.0)
    assert fast < 0.5 * slow
    assert slow > 0.08 and fast < 0.04


@pytest.mark.parametrize("make", FILTERS.values(), ids=FILTERS.keys())
def test_reduces_jitter_on_a_held_pose(make):
    rng = np.random.default_rng(0)
    noisy = 0.5 + 0.02 * rng.standard_normal((3 * int(FPS), 4))
    out = run(make(), noisy)
    settled = slice(int(FPS), None)
    assert out[settled].var(axis=0).max() < 0.25 * noisy[settled].var(axis=0).min()
    assert out[settled].mean() == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("make", FILTERS.values(), ids=FILTERS.keys())
def test_reset_forgets_the_past(make):
    rng = np.random.default_rng(1)
    first, second = rng.random((20, 3)), rng.random((20, 3))
    used = make()
    run(used, first)
    used.reset()
    np.testing.assert_array_equal(run(used, second), run(make(), second))
    assert np.array_equal(run(make(), second)[0], second[0])  # the first frame passes through


@pytest.mark.parametrize("make", FILTERS.values(), ids=FILTERS.keys())
def test_curves_are_filtered_independently(make):
    rng = np.random.default_rng(2)
    frames = np.cumsum(rng.standard_normal((40, 3)), axis=0)
    together = run(make(), frames)
    for i in range(3):
        np.testing.assert_allclose(together[:, i], run(make(), frames[:, i:i + 1])[:, 0], rtol=0, atol=1e-12)


def test_bad_parameters_and_frames_are_refused():
    with pytest.raises(ValueError):
        OneEuroFilter(min_cutoff_hz=0.0)
    with pytest.raises(ValueError):
        CriticallyDampedFilter(half_life_s=-1.0)
    spring = CriticallyDampedFilter(half_life_s=0.05)
    spring.step(np.zeros(3), DT_S)
    with pytest.raises(ValueError):
        spring.step(np.zeros(4), DT_S)
    with pytest.raises(ValueError):
        spring.step(np.zeros(3), 0.0)


def test_per_curve_parameters_match_separate_filters():
    """Regions with different settings share one filter object in the retargeter."""
    rng = np.random.default_rng(4)
    frames = rng.random((40, 2))
    shared = run(OneEuroFilter(min_cutoff_hz=np.array([1.0, 4.0]), beta=np.array([0.0, 2.0])), frames)
    np.testing.assert_array_equal(shared[:, 0], run(OneEuroFilter(1.0, 0.0), frames[:, :1])[:, 0])
    np.testing.assert_array_equal(shared[:, 1], run(OneEuroFilter(4.0, 2.0), frames[:, 1:])[:, 0])
    springs = run(CriticallyDampedFilter(half_life_s=np.array([0.02, 0.2])), frames)
    np.testing.assert_array_equal(springs[:, 1], run(CriticallyDampedFilter(0.2), frames[:, 1:])[:, 0])
