"""Animators turn speech into the 32 model coefficients; the idle layer adds eyes, brows and head.

An animator has a ``name`` and ``animate(audio: Audio, fps: float, text: str | None) -> CurveTrack``
over ``rig.MODEL_CHANNELS``; ``make_animator`` builds one by name.
"""

from __future__ import annotations

from typing import Protocol

from ..tracks import Audio, CurveTrack

ANIMATORS = ("phonetic",)


class Animator(Protocol):
    name: str

    def animate(self, audio: Audio, fps: float, text: str | None = None) -> CurveTrack:
        """The 32 coefficients of a whole recording, one frame per 1/fps s from the first sample."""
        ...


def make_animator(name: str) -> Animator:
    if name == "phonetic":
        from .phonetic import PhoneticAnimator

        return PhoneticAnimator()
    raise ValueError(f"unknown animator {name!r} (choose from {', '.join(ANIMATORS)})")
