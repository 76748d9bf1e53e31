"""The idle layer: blinks, gaze saccades and head sway, on the channels the model does not predict."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class IdleSettings:
    """What the idle layer does; a retarget preset's ``idle:`` section fills these."""

    blinks: bool = True
    blink_scale: float = 1.0
    """Multiplies the blink amplitude (1 = a full close of the lids)."""
    gaze: bool = True
    gaze_scale: float = 1.0
    """Multiplies the saccade amplitude."""
    head: bool = True
    head_scale: float = 1.0
    """Multiplies the head sway amplitude."""
