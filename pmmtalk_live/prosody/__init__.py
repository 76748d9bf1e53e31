"""Prosody from live speech: pitch, loudness, speech, accents, emphasis, stress, rising intonation, pauses,
rate.

The expression layer reads it to move brows, eyes and head. Causal with a bounded look-ahead, and
speaker-adaptive through running statistics only; see docs/prosody.md.

    stream = ProsodyStream(fps=60, lookahead_s=0.1)
    stream.process(hop)                       # float32 16 kHz samples, any length
    frames = stream.take(k, stream.frames_ready() - k)

    frames = prosody_track(samples, fps=60, lookahead_s=0.1)   # a recording: the same numbers
"""

from __future__ import annotations

import numpy as np

from .pitch import HOP, PitchEstimate, estimate
from .stream import ProsodyFrames, ProsodyStream

__all__ = ["ProsodyFrames", "ProsodyStream", "prosody_track", "PitchEstimate", "estimate", "HOP"]


def prosody_track(samples: np.ndarray, fps: float, lookahead_s: float) -> ProsodyFrames:
    """A whole (N,) float32 16 kHz recording through ``ProsodyStream`` in HOP-sample hops, then flushed."""
    stream = ProsodyStream(fps, lookahead_s)
    for start in range(0, len(samples), HOP):
        stream.process(samples[start:start + HOP])
    stream.flush()
    return stream.take(0, stream.frames_ready())
