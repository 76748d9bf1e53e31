"""The loudness envelope: how loud the speech is, per animation frame, in 0..1.

Loudness is measured in dB of RMS over a short window centred on each frame, then mapped to 0..1
between a floor (``floor_db`` below the speech's reference level) and the reference level. The
reference is the 95th percentile of the frame levels, so a quiet recording and a loud one animate
alike; the floor keeps background noise at 0.
"""

from __future__ import annotations

import numpy as np

WINDOW_S = 0.03
"""RMS window; about two frames at 60 fps, short enough to see a stop's closure."""


def frame_levels_db(samples: np.ndarray, sample_rate_hz: int, fps: float, num_frames: int) -> np.ndarray:
    """RMS level in dBFS of a ``WINDOW_S`` window centred on each frame time k / fps, shape (num_frames,)."""
    win = max(1, int(WINDOW_S * sample_rate_hz))
    power = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    centres = np.round(np.arange(num_frames) * sample_rate_hz / fps).astype(np.int64)
    lo = np.clip(centres - win // 2, 0, len(samples))
    hi = np.clip(centres + win // 2, 0, len(samples))
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
