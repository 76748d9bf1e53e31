"""The closure gate (``ModelConfig.closure_gate``): the audio's own evidence that the lips are closed.

    audio features (B, T, d) --Linear, GELU, Linear--> logit of the chance the lips are closed (B, T)
    at inference: coeffs (B, T, 32) --close_lips(chance above threshold)--> coeffs with the lips together

The decoder follows the viseme track, and where the live recogniser misses a bilabial (a real voice
after synthetic ones, a noisy room) the track's lips stay open and the decoder's correction is too
small to shut them. The gate reads the audio branch alone, not the fused features, so the track
cannot talk it out of a closure it hears. It is trained against the label's closed lips
(``losses.gate_loss``, weight ``w_gate``) and applied only at inference, from the threshold that
``train.calibrate`` chooses on held-out voices.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from .decoder import numpy_gelu
from .frozen import array, weights_once
from ..rig import JAW_OPEN_INDEX as _JAW, LIP_OPENER_INDICES as _LIP_OPENERS, MOUTH_CLOSE_INDEX as _CLOSE

GATE_HIDDEN = 64


class ClosureGate(nn.Module):
    """Audio features (..., d_model) -> logits (...,) of the chance that the lips are closed."""

    def __init__(self, d_model: int, threshold: float):
        super().__init__()
        self.layers = nn.Sequential(nn.Linear(d_model, GATE_HIDDEN), nn.GELU(), nn.Linear(GATE_HIDDEN, 1))
        self.threshold = threshold
        """The chance above which ``close`` shuts the lips (1.0: never)."""

    def forward(self, audio: torch.Tensor) -> torch.Tensor:
        return self.layers(audio)[..., 0]

    def close(self, coeffs: torch.Tensor, audio: torch.Tensor) -> torch.Tensor:
        """coeffs (..., 32) and the audio features of the same frames (..., d_model) -> coeffs with
        the gate applied (``close_lips``)."""
        return close_lips(coeffs, torch.sigmoid(self(audio)), self.threshold)


class GateStream:
    """A ``ClosureGate`` in numpy on weights copied once, for the live session's one frame per call
    (torch's per-call overhead would cost more than the arithmetic). Equals the torch gate within
    float32 rounding."""

    def __init__(self, gate: ClosureGate):
        self.first, self.last = weights_once(lambda: _numpy_gate(gate), gate)
        self.threshold = gate.threshold

    def close(self, coeffs: np.ndarray, audio: np.ndarray) -> np.ndarray:
        """coeffs (n, 32), audio features (n, d_model) -> coeffs (n, 32) float32, the gate applied."""
        hidden = numpy_gelu(np.asarray(audio, np.float32) @ self.first[0] + self.first[1])
        chance = 1.0 / (1.0 + np.exp(-(hidden @ self.last[0] + self.last[1])))
        coeffs = np.asarray(coeffs, np.float32)
        if self.threshold >= 1.0:
            return coeffs
        # close_lips, in numpy
        closing = np.clip((chance.astype(np.float32) - self.threshold) / (1.0 - self.threshold), 0.0, 1.0)
        out = coeffs.copy()
        jaw, close = coeffs[:, _JAW], coeffs[:, _CLOSE]
        out[:, _CLOSE] = close + closing * np.maximum(jaw - close, 0.0)
        out[:, _LIP_OPENERS] = coeffs[:, _LIP_OPENERS] * (1.0 - closing[:, None])
        return out


def _numpy_gate(gate: ClosureGate) -> tuple[tuple, tuple]:
    """The gate's two layers as float32 numpy arrays laid out for ``GateStream`` (read-only)."""
    first, last = gate.layers[0], gate.layers[2]
    return (array(first.weight).T.copy(), array(first.bias)), (array(last.weight)[0], np.float32(float(last.bias.detach()[0])))


def close_lips(coeffs: torch.Tensor, chance: torch.Tensor, threshold: float) -> torch.Tensor:
    """The gate applied: coeffs (..., 32), the chance p the lips are closed (...,) -> coeffs whose lip
    aperture (``rig.lip_aperture``) is scaled by 1 - g, g = (p - threshold) / (1 - threshold)
    clipped to 0..1: untouched up to the threshold, shut at certainty, and continuous in between (no
    jump as p crosses the threshold, and a faint chance barely moves the lips). mouthClose rises
    towards jawOpen (lips together over an open jaw, as in a bilabial) and the lip openers shrink;
    the jaw and every other channel keep their values. A threshold of 1 leaves everything as it is."""
    if threshold >= 1.0:
        return coeffs
    closing = ((chance - threshold) / (1.0 - threshold)).clamp(0.0, 1.0)
    jaw, close = coeffs[..., _JAW], coeffs[..., _CLOSE]
    out = coeffs.clone()
    out[..., _CLOSE] = close + closing * (jaw - close).clamp(min=0.0)
    out[..., _LIP_OPENERS] = coeffs[..., _LIP_OPENERS] * (1.0 - closing[..., None])
    return out
