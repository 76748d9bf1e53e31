"""Evaluation of predicted coefficients against captured ones: (T, 32) prediction vs (T, 32) reference,
both in ``rig.MODEL_CHANNELS`` order, 0..1, at the same fps.

- **lip error** (coefficient space): per frame the largest absolute error over the lip channels (the
  jaw and mouth channels of ``rig.REGIONS``), averaged over frames: the analogue of the lip vertex error
  of the speech-driven animation papers. Also the mean error over the lip channels.
- **lip vertex error**, when a blendshape basis is given (``basis`` (32, V, 3) displacements from the
  neutral mesh, ``lip_vertices`` indices): per frame the largest L2 distance over the lip vertices
  between ``coeffs @ basis`` of the two, averaged over frames; in the basis' units.
- **closure rate**: the reference's lip closures (runs of frames whose ``rig.lip_aperture`` is
  below ``rig.CLOSED_APERTURE``, not touching the utterance's first or last frame, which are rest)
  counted as events; the share of them during which the prediction also closes (within
  ``CLOSURE_TOLERANCE_MS`` of the event). A bilabial the model skips is a missed event.
- **jitter**: mean absolute second difference over all 32 channels, per frame (coefficient units);
  of the prediction and, for comparison, of the reference (at the same fps only).
- **lag**: the offset in ms, within +-``MAX_LAG_MS``, that maximises the correlation of the
  prediction's lip aperture with the reference's; positive = the prediction is late.

``evaluate`` pools utterances: errors and jitter weighted by frames, closures summed, the lag from
correlations summed over utterances.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from .. import rig
from ..rig import CLOSED_APERTURE
from ..tracks import CurveTrack
from .lipsync import lip_aperture

LIP_CHANNELS: tuple[str, ...] = rig.REGIONS["jaw"] + rig.REGIONS["lips"]
LIP_INDEX = np.array([rig.CHANNEL_INDEX[c] for c in LIP_CHANNELS])
MAX_LAG_MS = 300.0
CLOSURE_TOLERANCE_MS = 40.0
"""How far (either side) of a reference closure the prediction's closure may fall and still count."""


def _pair(prediction: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Both as float64 (T, 32); a length difference of one frame (rounding) is cut, more is an error."""
    prediction = np.asarray(prediction, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    for what, values in (("prediction", prediction), ("reference", reference)):
        if values.ndim != 2 or values.shape[1] != rig.NUM_COEFFS:
            raise ValueError(f"{what} must have shape (T, {rig.NUM_COEFFS}), got {values.shape}")
    if abs(len(prediction) - len(reference)) > 1:
        raise ValueError(f"prediction has {len(prediction)} frames, reference {len(reference)}")
    n = min(len(prediction), len(reference))
    return prediction[:n], reference[:n]


def aperture(coeffs: np.ndarray, fps: float = 30.0) -> np.ndarray:
    """``rig.lip_aperture`` of (T, 32) coefficients: (T,) float64, 0 = lips together."""
    return lip_aperture(CurveTrack(rig.MODEL_CHANNELS, np.asarray(coeffs, np.float32), fps))


def lip_errors(prediction: np.ndarray, reference: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per frame: (max, mean) absolute error over the lip channels, each (T,)."""
    prediction, reference = _pair(prediction, reference)
    error = np.abs(prediction[:, LIP_INDEX] - reference[:, LIP_INDEX])
    return error.max(axis=1), error.mean(axis=1)


def lip_vertex_errors(prediction: np.ndarray, reference: np.ndarray, basis: np.ndarray,
                      lip_vertices: Sequence[int] | np.ndarray) -> np.ndarray:
    """Per frame the largest L2 distance over ``lip_vertices`` of the two meshes, (T,).

    ``basis``: (32, V, 3) displacement of each blendshape at weight 1 from the neutral mesh.
    """
    prediction, reference = _pair(prediction, reference)
    basis = np.asarray(basis, dtype=np.float64)
    if basis.ndim != 3 or basis.shape[0] != rig.NUM_COEFFS or basis.shape[2] != 3:
        raise ValueError(f"basis must have shape ({rig.NUM_COEFFS}, V, 3), got {basis.shape}")
    lips = basis[:, np.asarray(lip_vertices, dtype=np.intp)]
    offsets = np.einsum("tc,cvd->tvd", prediction - reference, lips)
    return np.linalg.norm(offsets, axis=2).max(axis=1)


def closure_events(coeffs: np.ndarray, threshold: float = CLOSED_APERTURE) -> list[tuple[int, int]]:
    """The closures of (T, 32) coefficients: ``[start, stop)`` frame runs with aperture below
    ``threshold``, leaving out runs that touch the first or last frame (rest, not speech)."""
    closed = aperture(coeffs) < threshold
    edges = np.diff(np.concatenate([[0], closed.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return [(int(a), int(b)) for a, b in zip(starts, stops) if a > 0 and b < len(closed)]


def closures_hit(prediction: np.ndarray, reference: np.ndarray, fps: float,
                 threshold: float = CLOSED_APERTURE) -> tuple[int, int]:
    """(reference closures the prediction also closes, reference closures)."""
    prediction, reference = _pair(prediction, reference)
    events = closure_events(reference, threshold)
    predicted = aperture(prediction)
    slack = int(round(CLOSURE_TOLERANCE_MS / 1000.0 * fps))
    hits = sum(1 for a, b in events if predicted[max(a - slack, 0):b + slack].min() < threshold)
    return hits, len(events)


def jitter(coeffs: np.ndarray) -> float:
    """Mean absolute second difference over frames and the 32 channels (0 for under three frames)."""
    coeffs = np.asarray(coeffs, dtype=np.float64)
    return float(np.abs(np.diff(coeffs, n=2, axis=0)).mean()) if len(coeffs) >= 3 else 0.0


def _lag_correlations(prediction: np.ndarray, reference: np.ndarray, max_lag: int) -> np.ndarray:
    """For lags -max_lag..max_lag: (sum pred[t+lag] * ref[t], sum pred^2, sum ref^2) over the overlap,
    of the mean-removed apertures; shape (2 * max_lag + 1, 3)."""
    a = aperture(prediction)
    b = aperture(reference)
    a, b = a - a.mean(), b - b.mean()
    n = len(a)
    sums = np.zeros((2 * max_lag + 1, 3))
    for i, lag in enumerate(range(-max_lag, max_lag + 1)):
        lo, hi = max(0, -lag), min(n, n - lag)
        if hi - lo < 2:
            continue
        pa, rb = a[lo + lag:hi + lag], b[lo:hi]
        sums[i] = (pa @ rb, pa @ pa, rb @ rb)
    return sums


def _peak_lag_ms(sums: np.ndarray, max_lag: int, fps: float) -> float | None:
    with np.errstate(invalid="ignore", divide="ignore"):
        correlation = sums[:, 0] / np.sqrt(sums[:, 1] * sums[:, 2])
    if not np.isfinite(correlation).any():
        return None  # a flat aperture: no timing to read
    best = int(np.nanargmax(np.where(np.isfinite(correlation), correlation, -np.inf)))
    return (best - max_lag) * 1000.0 / fps


def lag_ms(prediction: np.ndarray, reference: np.ndarray, fps: float) -> float | None:
    """Offset of the prediction's lip aperture against the reference's, in ms (positive = late), from
    the peak of their correlation within +-``MAX_LAG_MS``, to a frame; None if either is flat."""
    prediction, reference = _pair(prediction, reference)
    max_lag = int(math.floor(MAX_LAG_MS / 1000.0 * fps))
    return _peak_lag_ms(_lag_correlations(prediction, reference, max_lag), max_lag, fps)


def evaluate(pairs: Iterable[tuple[np.ndarray, np.ndarray]], fps: float, *, basis: np.ndarray | None = None,
             lip_vertices: Sequence[int] | np.ndarray | None = None,
             closed_aperture: float = CLOSED_APERTURE) -> dict:
    """Every measure over (prediction, reference) pairs of (T, 32) at ``fps``, pooled; JSON-serialisable.

    Keys: ``utterances``, ``frames``, ``fps``, ``lip_max_error``, ``lip_mean_error``,
    ``lip_vertex_error`` (None without a basis), ``closure_events``, ``closures_hit``, ``closure_rate``
    (None without events), ``jitter_prediction``, ``jitter_reference``, ``lag_ms`` (None if flat).
    """
    if (basis is None) != (lip_vertices is None):
        raise ValueError("basis and lip_vertices go together")
    max_lag = int(math.floor(MAX_LAG_MS / 1000.0 * fps))
    frames = 0
    sums = {"lip_max": 0.0, "lip_mean": 0.0, "vertex": 0.0, "jitter_p": 0.0, "jitter_r": 0.0, "jitter_n": 0}
    hits = events = utterances = 0
    lag_sums = np.zeros((2 * max_lag + 1, 3))
    for prediction, reference in pairs:
        prediction, reference = _pair(prediction, reference)
        if len(prediction) == 0:
            continue
        utterances += 1
        frames += len(prediction)
        lip_max, lip_mean = lip_errors(prediction, reference)
        sums["lip_max"] += lip_max.sum()
        sums["lip_mean"] += lip_mean.sum()
        if basis is not None:
            sums["vertex"] += lip_vertex_errors(prediction, reference, basis, lip_vertices).sum()
        hit, count = closures_hit(prediction, reference, fps, closed_aperture)
        hits += hit
        events += count
        if len(prediction) >= 3:  # jitter weighted by the second differences each utterance has
            n = len(prediction) - 2
            sums["jitter_p"] += jitter(prediction) * n
            sums["jitter_r"] += jitter(reference) * n
            sums["jitter_n"] += n
        lag_sums += _lag_correlations(prediction, reference, max_lag)

    def mean(total: float, count: int) -> float | None:
        return float(total / count) if count else None

    return {
        "utterances": utterances,
        "frames": frames,
        "fps": float(fps),
        "lip_max_error": mean(sums["lip_max"], frames),
        "lip_mean_error": mean(sums["lip_mean"], frames),
        "lip_vertex_error": mean(sums["vertex"], frames) if basis is not None else None,
        "closure_events": events,
        "closures_hit": hits,
        "closure_rate": mean(hits, events),
        "jitter_prediction": mean(sums["jitter_p"], sums["jitter_n"]),
        "jitter_reference": mean(sums["jitter_r"], sums["jitter_n"]),
        "lag_ms": _peak_lag_ms(lag_sums, max_lag, fps) if frames else None,
    }
