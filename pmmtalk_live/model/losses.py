"""PMMTalk's training losses: position and motion of the coefficients, plus the alignment terms
(``align.py``), weighted by the ``w_*`` fields of ``ModelConfig``.

pred, target: (B, T, 32) coefficients in 0..1; mask: (B, T) bool, True on real frames.
"""

from __future__ import annotations

import torch

from .config import ModelConfig


def position_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error over real frames and all 32 channels -> scalar."""
    squared = ((pred - target) ** 2).mean(-1)  # (B, T)
    return (squared * mask).sum() / mask.sum().clamp(min=1)


def motion_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean squared error of frame-to-frame changes, over pairs of consecutive real frames -> scalar.
    Makes the motion (speed of the lips) match, not only the poses: position alone lets jitter through."""
    pred_motion, target_motion = pred[:, 1:] - pred[:, :-1], target[:, 1:] - target[:, :-1]
    return position_loss(pred_motion, target_motion, mask[:, 1:] & mask[:, :-1])


def total_loss(parts: dict[str, torch.Tensor], config: ModelConfig) -> torch.Tensor:
    """{"position", "motion", "temporal", "semantic"} (any subset) -> sum of each times config.w_<name>."""
    total = 0.0
    for name, value in parts.items():
        weight = getattr(config, f"w_{name}", None)
        if weight is None:
            raise KeyError(f"no weight w_{name} in ModelConfig for loss part {name!r}")
        total = total + weight * value
    return total
