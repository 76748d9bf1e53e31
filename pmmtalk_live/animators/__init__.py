"""Animators turn speech into the 32 model coefficients; the idle layer adds eyes, brows and head.

Two shapes of the same job:

- offline, ``Animator.animate(audio, fps, text) -> CurveTrack``: a whole recording at once;
- live, ``LiveAnimator``: 16 kHz audio goes in hop by hop, and out come the frames whose look-ahead
  is complete. The streaming engine (``stream/``) only knows this protocol, so another animator (the
  PMMTalk model) plugs in without touching the engine.

``make_animator`` and ``make_live_animator`` build one by name.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np

from ..tracks import Audio, CurveTrack, LiveCoeffs

ANIMATORS = ("phonetic", "pmmtalk")
DEFAULT_ANIMATOR = "pmmtalk"
DEFAULT_MODEL = "default"
"""The PMMTalk checkpoint shipped in the package (``pmmtalk_live/data/models/default``, ``make model``)."""
FPS_CHOICES = (30, 60)
"""Output frame rates: what Live Link Face takes and Unreal's sequencer use."""
DEFAULT_FPS = 60
DEFAULT_LOOKAHEAD_MS = 100.0
"""Live: audio after a frame the animator waits for (less = lower latency, less anticipation)."""
DEFAULT_COMPUTE = "cpu"
"""Where the PMMTalk model's pretrained networks run (``cuda`` / ``cuda:N`` on a GPU)."""


class Animator(Protocol):
    name: str

    def animate(self, audio: Audio, fps: float, text: str | None = None) -> CurveTrack:
        """The 32 coefficients of a whole recording, one frame per 1/fps s from the first sample."""
        ...


class LiveAnimator(Protocol):
    """Streaming speech -> coefficients. Frame k shows stream time k / fps (the first sample is at 0)
    and is finished once audio up to k / fps + lookahead_s has been processed."""

    name: str
    fps: float
    lookahead_s: float

    def process(self, samples: np.ndarray) -> LiveCoeffs:
        """Feed the next audio (float32 mono 16 kHz, shape (n,), contiguous with what came before);
        returns the frames now finished (often none or one), in order, with no gaps."""
        ...

    def skip(self, num_samples: int) -> int:
        """``num_samples`` of audio were lost or dropped (the engine fell behind): the stream moves on
        without them. Frames that can no longer be finished are not produced; returns how many."""
        ...

    def flush(self) -> LiveCoeffs:
        """End of stream: every frame up to the last sample, finished without look-ahead."""
        ...


def make_animator(name: str, ckpt: str | None = None, compute: str = "cpu") -> Animator:
    """``phonetic``, or ``pmmtalk`` with ``ckpt`` (a run folder or a packaged model name; None = the
    shipped ``DEFAULT_MODEL``) and its speech encoder on ``compute`` (``cpu``, ``cuda[:N]``)."""
    if name == "phonetic":
        from .phonetic import PhoneticAnimator

        return PhoneticAnimator()
    if name == "pmmtalk":
        from .pmmtalk import PMMTalkAnimator

        return PMMTalkAnimator(_need_ckpt(ckpt), compute=compute)
    raise ValueError(f"unknown animator {name!r} (choose from {', '.join(ANIMATORS)})")


def make_live_animator(name: str, fps: float, lookahead_s: float, ckpt=None,
                       compute: str = "cpu") -> LiveAnimator:
    """As ``make_animator``, streaming; ``ckpt`` may also be a loaded ``PMMTalk``, which several live
    animators share (each keeps its own stream state). The PMMTalk model may need more look-ahead
    than asked for (its audio chunks): read the animator's own ``lookahead_s``."""
    if name == "phonetic":
        from .live_phonetic import LivePhoneticAnimator

        return LivePhoneticAnimator(fps=fps, lookahead_s=lookahead_s)
    if name == "pmmtalk":
        from .pmmtalk import LivePMMTalkAnimator

        return LivePMMTalkAnimator(_need_ckpt(ckpt), fps=fps, lookahead_s=lookahead_s, compute=compute)
    raise ValueError(f"unknown animator {name!r} (choose from {', '.join(ANIMATORS)})")


def _need_ckpt(ckpt: str | None) -> str:
    return ckpt or DEFAULT_MODEL
