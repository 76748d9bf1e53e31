"""The causal convolution stack both frame-rate audio branches end in, and its numpy stream.

    features (B, C_in, M) --CausalConv(k=5)--> (B, C, M) --residual Blocks (dilated, k=3)--> ChannelNorm
        --> (B, C, M) ... the encoder picks frames, then --Linear--> d_model

Every convolution only looks back, so output frame m depends on input frames m - receptive_field + 1 .. m
and nothing later: ``ConvStream`` gives the numbers of the torch pass one new frame at a time. Used by
the filterbank encoder (``filterbank.py``, input: log-mel frames at 100 Hz) and the Whisper encoder
(``whisper.py``, input: Whisper features at the model's frame rate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from ..decoder import numpy_gelu as _gelu
from ..decoder import numpy_layer_norm as _layer_norm
from ..frozen import array, weights_once

FIRST_KERNEL = 5


class CausalConv(nn.Conv1d):
    """A 1-D convolution that only looks back: (B, C, M) -> (B, C_out, M), zeros before the start."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        reach = (self.kernel_size[0] - 1) * self.dilation[0]
        return super().forward(nn.functional.pad(x, (reach, 0)))


class ChannelNorm(nn.LayerNorm):
    """LayerNorm over the channels of (B, C, M), per frame (so it stays causal)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x.transpose(1, 2)).transpose(1, 2)


class Block(nn.Module):
    def __init__(self, channels: int, dilation: int, dropout: float):
        super().__init__()
        self.net = nn.Sequential(ChannelNorm(channels), CausalConv(channels, channels, 3, dilation=dilation),
                                 nn.GELU(), nn.Conv1d(channels, channels, 1), nn.Dropout(dropout))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.net(x)


def conv_stack(in_channels: int, channels: int, dilations: tuple[int, ...], dropout: float) -> nn.Sequential:
    """(B, in_channels, M) -> (B, channels, M): the input convolution, one residual block per
    dilation, a final ChannelNorm."""
    return nn.Sequential(CausalConv(in_channels, channels, FIRST_KERNEL),
                         *(Block(channels, d, dropout) for d in dilations), ChannelNorm(channels))


def receptive_field(dilations: tuple[int, ...]) -> int:
    """Input frames one output frame of ``conv_stack`` depends on (itself and the ones before it)."""
    return FIRST_KERNEL + 2 * sum(dilations)


class ConvStream:
    """``conv_stack`` + ``project`` in numpy on weights copied once, fed new input frames in order.

    torch's per-call overhead would cost more than the arithmetic of one frame, so each causal
    convolution keeps the inputs it still reaches back to (zeros before the stream, as the torch pass
    pads) and a new frame costs one matrix product per layer. Equals the torch pass within float32
    rounding, however the frames are cut."""

    def __init__(self, convs: nn.Sequential, project: nn.Linear):
        self._layers = weights_once(lambda: _numpy_layers(convs, project), convs, project)
        self._history = [np.zeros((layer.reach, layer.weight.shape[0] // layer.kernel), np.float32)
                         for layer in self._layers.convs]

    def push(self, x: np.ndarray) -> np.ndarray:
        """New input frames (n, C_in) float32 -> their outputs (n, d_model) float32, projected."""
        layers = self._layers
        x = self._causal(0, np.asarray(x, np.float32))
        for i, (norm, pointwise) in enumerate(zip(layers.block_norms, layers.pointwise)):
            h = self._causal(i + 1, _layer_norm(x, *norm))
            x = x + (_gelu(h) @ pointwise[0] + pointwise[1])
        x = _layer_norm(x, *layers.out_norm)
        return x @ layers.project[0] + layers.project[1]

    def _causal(self, i: int, x: np.ndarray) -> np.ndarray:
        """Causal convolution ``i`` on new frames x (n, C_in), fed its history -> (n, C_out)."""
        layer = self._layers.convs[i]
        full = np.concatenate([self._history[i], x])
        self._history[i] = full[len(full) - layer.reach:]
        n = len(x)  # tap k of output frame j reads full[j + k * dilation]
        stacked = np.concatenate([full[k * layer.dilation:k * layer.dilation + n] for k in range(layer.kernel)], 1)
        return stacked @ layer.weight + layer.bias  # (n, K * C_in) @ (K * C_in, C_out)


@dataclass
class _Conv:
    weight: np.ndarray  # (K * C_in, C_out): tap k's inputs at rows k * C_in ..
    bias: np.ndarray
    kernel: int
    dilation: int

    @property
    def reach(self) -> int:
        return (self.kernel - 1) * self.dilation


@dataclass
class _Layers:
    convs: list[_Conv]
    block_norms: list[tuple[np.ndarray, np.ndarray, float]]
    pointwise: list[tuple[np.ndarray, np.ndarray]]
    out_norm: tuple[np.ndarray, np.ndarray, float]
    project: tuple[np.ndarray, np.ndarray]


def _numpy_layers(convs: nn.Sequential, project: nn.Linear) -> _Layers:
    """A ``conv_stack``'s and its projection's weights as float32 numpy arrays laid out for ``ConvStream``."""
    def conv(c: nn.Conv1d) -> _Conv:
        weight = array(c.weight).transpose(2, 1, 0).reshape(-1, c.out_channels)  # (K, C_in, C_out) flattened
        return _Conv(weight, array(c.bias), c.kernel_size[0], c.dilation[0])

    def norm(n: nn.LayerNorm) -> tuple[np.ndarray, np.ndarray, float]:
        return array(n.weight), array(n.bias), n.eps

    layers = list(convs)
    blocks = layers[1:-1]
    return _Layers(
        convs=[conv(layers[0])] + [conv(b.net[1]) for b in blocks],
        block_norms=[norm(b.net[0]) for b in blocks],
        pointwise=[(array(b.net[3].weight)[:, :, 0].T.copy(), array(b.net[3].bias)) for b in blocks],
        out_norm=norm(layers[-1]),
        project=(array(project.weight).T.copy(), array(project.bias)))
