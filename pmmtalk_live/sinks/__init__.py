"""Sinks take output frames (``tracks.CurveFrame``) to where they are used: OSC to our Unreal plugin
(``osc.py``), Live Link Face UDP packets for stock Unreal (``livelinkface.py``), CSV takes
(``csv_take.py``).

A live sink has ``send(frame)`` and ``close()``. ``send`` never raises for network trouble (a
receiver that is not running, a full buffer): it counts the failure in ``errors`` and goes on, so one
broken destination never stops the others or the recording.
"""

from __future__ import annotations

from typing import Protocol

from ..tracks import CurveFrame
from .livelinkface import DEFAULT_PORT as DEFAULT_LIVELINK_PORT
from .osc import DEFAULT_PORT as DEFAULT_OSC_PORT
from .osc import DEFAULT_SUBJECT

__all__ = ["Sink", "DEFAULT_OSC_PORT", "DEFAULT_LIVELINK_PORT", "DEFAULT_SUBJECT", "DEFAULT_SLATE"]

DEFAULT_SLATE = "live"
"""The slate of takes recorded while serving, until ``--slate`` or a remote ``/Slate`` names another."""


class Sink(Protocol):
    subject: str
    """The Live Link subject its frames carry (remote ``/ChangeSubject`` may change it)."""
    description: str
    """One line for the serve banner, e.g. "OSC to 127.0.0.1:9000, subject 'pmmtalk'"."""
    sent: int
    """Datagrams (or rows) delivered."""
    errors: int
    """Sends that failed (counted, not raised)."""

    def send(self, frame: CurveFrame) -> None: ...

    def close(self) -> None: ...
