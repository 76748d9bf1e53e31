"""PMMTalk's training losses: position and motion of the coefficients, closed lips kept closed, the
closure gate's closed-lips chance, plus the alignment terms (``align.py``), weighted by the ``w_*``
fields of ``TrainingObjective`` (``ModelConfig.objective``).

pred, target: (B, T, 32) coefficients in 0..1; mask: (B, T) bool, True on real frames.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..rig import CLOSED_APERTURE, JAW_OPEN_INDEX, LIP_OPENER_INDICES, MOUTH_CLOSE_INDEX
from .config import TrainingObjective


def position_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over real frames and all 32 channels -> scalar."""
    squared = ((pred - target) ** 2).mean(-1)  # (B, T)
    return (squared * mask).sum() / mask.sum().clamp(min=1)


def motion_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error of frame-to-frame changes, over pairs of consecutive real frames -> scalar.
    Makes the motion (speed of the lips) match, not only the poses: position alone lets jitter through."""
    pred_motion, target_motion = pred[:, 1:] - pred[:, :-1], target[:, 1:] - target[:, :-1]
    return position_loss(pred_motion, target_motion, mask[:, 1:] & mask[:, :-1])


def lip_aperture(coeffs: torch.Tensor) -> torch.Tensor:
    """``rig.lip_aperture`` of (..., 32) coefficients, differentiable -> (...,), 0 = lips together."""
    jaw = (coeffs[..., JAW_OPEN_INDEX] - coeffs[..., MOUTH_CLOSE_INDEX]).clamp(0.0, 1.0)
    return jaw + 0.25 * coeffs[..., LIP_OPENER_INDICES].sum(-1)


def lips_closed(coeffs: torch.Tensor) -> torch.Tensor:
    """(..., 32) coefficients -> (...,) bool: the lip aperture is below ``CLOSED_APERTURE``."""
    return lip_aperture(coeffs) < CLOSED_APERTURE


def closure_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Over the real frames where the target's lips are closed (aperture below ``CLOSED_APERTURE``):
    the mean squared amount by which the prediction's aperture is wider than the target's -> scalar
    (0 when no frame is closed). Position loss alone lets a model unsure *when* a bilabial falls
    smear it into a half-open mouth (the mean of shut and open), so the closure never happens; this
    term charges only for lips left open where they should meet, not for closing elsewhere."""
    target_aperture = lip_aperture(target)
    closed = mask & (target_aperture < CLOSED_APERTURE)
    wider = (lip_aperture(pred) - target_aperture).clamp(min=0.0)
    return (wider ** 2 * closed).sum() / closed.sum().clamp(min=1)


def gate_loss(closed_logits: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``closure_gate``: binary cross-entropy of the closed-lips logits (B, T) against whether the
    target's lips are closed (``lips_closed``), over real frames -> scalar."""
    closed = lips_closed(target).to(closed_logits.dtype)
    cross_entropy = F.binary_cross_entropy_with_logits(closed_logits, closed, reduction="none")
    return (cross_entropy * mask).sum() / mask.sum().clamp(min=1)


def total_loss(parts: dict[str, torch.Tensor], weights: TrainingObjective) -> torch.Tensor:
    """{"position", "motion", "closure", "gate", "temporal", "semantic"} (any subset) -> sum of each times weights.w_<name>."""
    total = 0.0
    for name, value in parts.items():
        weight = getattr(weights, f"w_{name}", None)
        if weight is None:
            raise KeyError(f"no weight w_{name} in TrainingObjective for loss part {name!r}")
        total = total + weight * value
    return total
