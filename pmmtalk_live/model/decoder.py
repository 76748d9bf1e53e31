"""The decoder: fused per-frame features and a speaking style -> the 32 coefficients in 0..1.

    features (B, T, d_model) + style embedding (one per utterance, 0 = neutral)
      -> decoder_layers x [windowed self-attention + feed-forward]   (pre-norm residual blocks)
      -> LayerNorm -> Linear -> sigmoid -> coeffs (B, T, 32)

**Window.** Frame i attends to frames j with ``i - context_frames <= j <= i + L`` (L =
``config.decoder_lookahead``: ``lookahead_frames``, or 0 when the audio encoder looks ahead itself) in the
first block and ``i - context_frames <= j <= i`` in the later ones. Look-ahead adds up through the
blocks (a block that looks L ahead, fed by one that looked L ahead, sees 2L ahead), so if every block
looked ahead the live latency would grow with the depth. With only the first block looking ahead, frame
i's output depends on inputs up to i + L, whatever the depth: that is the model's whole
look-ahead (100 ms at 3 frames and 30 fps). The past reach does grow (depth x context_frames), but each
block only ever needs its own last context_frames keys, which is what bounds the live caches.

**Positions.** Each block has a learned bias per head and per offset j - i inside its window (started
as ALiBi, ``-slope * |j - i|``, and free to learn direction). Nothing depends on the absolute frame
number, so a frame far into a live stream is treated exactly like one in a short training clip, and
streaming equals offline on streams of any length.

**Streaming.** ``DecoderStream`` feeds frames as they arrive and returns every frame whose look-ahead
has arrived; it equals ``decoder(all_features)`` (eval mode) for any chunking, up to float rounding.
Offline ``Decoder.forward`` builds a (T, T) mask per head, which suits training clips; for hour-long
files use a ``DecoderStream`` (same result, memory bounded by context_frames).
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.special import erf
import torch.nn.functional as F
from torch import nn

from ..rig import NUM_COEFFS
from .config import ModelConfig
from .frozen import array, weights_once


class WindowedAttention(nn.Module):
    """Multi-head self-attention of frame i over frames j in [i - past, i + future], with a learned
    bias per head and per offset j - i."""

    def __init__(self, d_model: int, heads: int, past: int, future: int, dropout: float):
        super().__init__()
        assert d_model % heads == 0, f"d_model {d_model} is not a multiple of {heads} heads"
        self.heads, self.past, self.future, self.dropout = heads, past, future, dropout
        self.qkv = nn.Linear(d_model, 3 * d_model)
        self.proj = nn.Linear(d_model, d_model)
        slopes = 2.0 ** (-8.0 * torch.arange(1, heads + 1) / heads)  # ALiBi's geometric slopes
        offsets = torch.arange(-past, future + 1)
        self.offset_bias = nn.Parameter(-slopes[:, None] * offsets.abs()[None, :].float())  # (H, past + future + 1)

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, T, D) -> queries, keys, values, each (B, H, T, D / H)."""
        B, T, D = x.shape
        return self.qkv(x).view(B, T, 3, self.heads, D // self.heads).permute(2, 0, 3, 1, 4).unbind(0)

    def mask(self, q_pos: torch.Tensor, k_pos: torch.Tensor, key_real: torch.Tensor | None = None) -> torch.Tensor:
        """Frame numbers of the queries (Tq,) and keys (Tk,), real keys (B, Tk) bool or None (all real)
        -> additive attention mask (B or 1, H, Tq, Tk): the offset bias inside the window, -inf outside.

        A frame may always attend to itself, so a padded frame's row is never empty (no NaN); real
        frames never see padded ones.
        """
        offset = k_pos[None, :] - q_pos[:, None]  # (Tq, Tk)
        allowed = ((offset >= -self.past) & (offset <= self.future))[None]  # (1, Tq, Tk)
        if key_real is not None:
            allowed = allowed & (key_real[:, None, :] | (offset == 0))
        bias = self.offset_bias[:, (offset + self.past).clamp(0, self.past + self.future)]  # (H, Tq, Tk)
        return bias.masked_fill(~allowed[:, None], float("-inf"))

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """q (B, H, Tq, Dh), k and v (B, H, Tk, Dh), mask from ``mask`` -> (B, Tq, D)."""
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=self.dropout if self.training else 0.0)
        B, H, T, Dh = y.shape
        return self.proj(y.transpose(1, 2).reshape(B, T, H * Dh))


class Block(nn.Module):
    """Pre-norm transformer block: x + attention(norm(x)), then + feed-forward(norm(.)).

    Split in two halves (``split``, ``finish``) so the stream can cache keys and values between calls.
    """

    def __init__(self, config: ModelConfig, future: int):
        super().__init__()
        d = config.d_model
        self.norm1 = nn.LayerNorm(d)
        self.attn = WindowedAttention(d, config.decoder_heads, config.context_frames, future, config.dropout)
        self.drop = nn.Dropout(config.dropout)
        self.norm2 = nn.LayerNorm(d)
        self.ff = nn.Sequential(nn.Linear(d, config.decoder_ff), nn.GELU(), nn.Linear(config.decoder_ff, d),
                                nn.Dropout(config.dropout))

    def split(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """(B, T, D) block input -> queries, keys, values (B, H, T, D / H)."""
        return self.attn.split(self.norm1(x))

    def finish(self, x: torch.Tensor, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, mask: torch.Tensor):
        """Block input x (B, Tq, D) and its queries, keys/values of the frames it may see -> (B, Tq, D)."""
        x = x + self.drop(self.attn.attend(q, k, v, mask))
        return x + self.ff(self.norm2(x))

    def forward(self, x: torch.Tensor, positions: torch.Tensor, frame_mask: torch.Tensor | None) -> torch.Tensor:
        return self.finish(x, *self.split(x), self.attn.mask(positions, positions, frame_mask))


class Decoder(nn.Module):
    """Fused features (B, T, d_model), styles (B,) int64, frame_mask (B, T) bool or None
    -> coeffs (B, T, 32) in 0..1 (values on padded frames are meaningless)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.lookahead_frames = config.decoder_lookahead
        self.correction_scale = config.correction_scale
        self.context_frames = config.context_frames
        self.style = nn.Embedding(config.num_styles, config.d_model)
        nn.init.normal_(self.style.weight, std=0.02)
        self.blocks = nn.ModuleList(Block(config, future=config.decoder_lookahead if i == 0 else 0)
                                    for i in range(config.decoder_layers))
        self.norm = nn.LayerNorm(config.d_model)
        # the coefficients' logits; for a viseme_residual model, the correction to the track's logits
        self.head = nn.Linear(config.d_model, NUM_COEFFS)
        # viseme_residual only: the coefficients' logits where there is no track to correct (audio
        # only). A head of its own: one head, asked for a correction near 0 on most utterances and
        # for whole logits (about -4 for a closed channel) on the others, learned only a constant there
        self.alone = nn.Linear(config.d_model, NUM_COEFFS) if config.viseme_residual else None

    @property
    def whole_head(self) -> nn.Linear:
        """The Linear that gives whole logits (no track to correct)."""
        return self.head if self.alone is None else self.alone

    def forward(self, features: torch.Tensor, styles: torch.Tensor, frame_mask: torch.Tensor | None = None,
                prior: torch.Tensor | None = None, prior_present: torch.Tensor | None = None) -> torch.Tensor:
        """``prior``: (B, T, 32) the viseme track the output corrects (``viseme_residual``), or None;
        ``prior_present`` (B,) bool: the utterances that have it (None = all)."""
        x = features + self.style(styles)[:, None, :]
        positions = torch.arange(x.shape[1], device=x.device)
        for block in self.blocks:
            x = block(x, positions, frame_mask)
        return self.to_coeffs(x, prior, prior_present)

    def to_coeffs(self, x: torch.Tensor, prior: torch.Tensor | None = None,
                  prior_present: torch.Tensor | None = None) -> torch.Tensor:
        """Last block's output (..., D) [and the track it corrects (..., 32)] -> coeffs (..., 32) in 0..1."""
        hidden = self.norm(x)
        if prior is None:
            return torch.sigmoid(self.whole_head(hidden))
        scale = 1.0 if self.training else self.correction_scale  # training learns the whole correction
        clipped = prior.clamp(PRIOR_CLIP, 1 - PRIOR_CLIP)
        correction = self.head(hidden)
        corrected = (prior + torch.sigmoid(correction * scale + torch.logit(clipped)) - clipped).clamp(0.0, 1.0)
        if prior_present is None:
            return corrected
        return torch.where(prior_present[:, None, None], corrected, torch.sigmoid(self.whole_head(hidden)))


PRIOR_CLIP = 0.02
"""A ``viseme_residual`` decoder adds its output to the track's logit, the track clipped to
[PRIOR_CLIP, 1 - PRIOR_CLIP] (about +-3.9), and applies the change that makes to the track itself:
with no correction the output is the track exactly (0 stays 0), not its clipped value."""


class DecoderStream:
    """One live utterance through a ``Decoder``: feed features as they come, get coefficients back as
    soon as each frame's look-ahead has arrived.

    Put the decoder in eval mode first (dropout would make the stream differ from offline). Each block
    keeps the keys and values of its last context_frames frames (the first block also the look-ahead
    frames, and their queries while they wait), so memory is bounded whatever the stream's length.
    """

    def __init__(self, decoder: Decoder, style: int = 0):
        if decoder.training:
            raise ValueError("DecoderStream needs decoder.eval(): dropout would make it differ from offline")
        self.decoder = decoder
        with torch.no_grad():
            self.style = decoder.style.weight[style].clone()  # (D,)
        self.frames_in = 0   # features received
        self.frames_out = 0  # coefficient frames returned
        self.finished = False
        d, heads = len(self.style), decoder.blocks[0].attn.heads
        no_keys = self.style.new_zeros(1, heads, 0, d // heads)
        no_pos = torch.zeros(0, dtype=torch.long, device=self.style.device)
        # Per block: keys and values (1, H, K, Dh) at frame numbers (K,), and the frames it has seen but not
        # answered yet (only the first block's wait, for their look-ahead): inputs (1, W, D), queries, frame numbers.
        self.keys = [no_keys] * len(decoder.blocks)
        self.values = [no_keys] * len(decoder.blocks)
        self.key_pos = [no_pos] * len(decoder.blocks)
        self.waiting = [(self.style.new_zeros(1, 0, d), no_keys, no_pos)] * len(decoder.blocks)

    @torch.inference_mode()
    def push(self, features: torch.Tensor) -> torch.Tensor:
        """features (T_chunk, d_model) -> coeffs (n, 32) for the next n frames (n may be 0)."""
        if self.finished:
            raise RuntimeError("push after flush: start a new DecoderStream for the next utterance")
        positions = torch.arange(self.frames_in, self.frames_in + len(features), device=features.device)
        self.frames_in += len(features)
        ready_end = max(self.frames_out, self.frames_in - self.decoder.lookahead_frames)
        return self._advance((features + self.style)[None], positions, ready_end)

    @torch.inference_mode()
    def flush(self) -> torch.Tensor:
        """End of stream -> coeffs (n, 32) for the frames still waiting (their future does not exist)."""
        self.finished = True
        nothing = self.style.new_zeros(1, 0, len(self.style))
        return self._advance(nothing, self.key_pos[0][:0], self.frames_in)

    def _advance(self, x: torch.Tensor, positions: torch.Tensor, ready_end: int) -> torch.Tensor:
        """New inputs x (1, n, D) at frame numbers ``positions`` (n may be 0); answer every frame < ready_end."""
        for i, block in enumerate(self.decoder.blocks):
            q, k, v = block.split(x)
            self.keys[i] = torch.cat([self.keys[i], k], 2)
            self.values[i] = torch.cat([self.values[i], v], 2)
            self.key_pos[i] = torch.cat([self.key_pos[i], positions])
            old_x, old_q, old_pos = self.waiting[i]
            wait_x, wait_q, wait_pos = torch.cat([old_x, x], 1), torch.cat([old_q, q], 2), torch.cat([old_pos, positions])
            n = int((wait_pos < ready_end).sum())  # frames wait in order
            self.waiting[i] = wait_x[:, n:], wait_q[:, :, n:], wait_pos[n:]
            x, positions = wait_x[:, :n], wait_pos[:n]
            if n:
                mask = block.attn.mask(positions, self.key_pos[i])
                x = block.finish(x, wait_q[:, :, :n], self.keys[i], self.values[i], mask)
            # Every block answers frame ready_end next: older keys than its window's start are never needed again.
            keep = self.key_pos[i] >= ready_end - self.decoder.context_frames
            self.keys[i], self.values[i] = self.keys[i][:, :, keep], self.values[i][:, :, keep]
            self.key_pos[i] = self.key_pos[i][keep]
        self.frames_out = max(self.frames_out, ready_end)
        return self.decoder.to_coeffs(x[0])


class CausalDecoderStream:
    """``DecoderStream`` for a decoder with no look-ahead (``config.decoder_lookahead == 0``, the
    shipped model), in numpy: every frame is answered as soon as it arrives.

    At the engine's 10 ms hops a live call carries one frame or none, and torch's per-call overhead
    would cost more than the arithmetic, so the same layers run here on weights copied once. Equals
    ``decoder(all_features)`` in eval mode within float32 rounding (tests/test_model_filterbank.py).
    Memory: each block's keys and values of its last ``context_frames`` frames.
    """

    def __init__(self, decoder: Decoder, style: int = 0):
        if decoder.training:
            raise ValueError("CausalDecoderStream needs decoder.eval(): dropout would make it differ from offline")
        if decoder.lookahead_frames != 0:
            raise ValueError("CausalDecoderStream is for decoders without look-ahead; use DecoderStream")

        weights = weights_once(lambda: _numpy_decoder(decoder), decoder)
        self.style = weights["styles"][style]
        self.past = decoder.context_frames
        self.blocks = weights["blocks"]
        self.norm, self.head, self.whole_head = weights["norm"], weights["head"], weights["whole_head"]
        self.correction_scale = decoder.correction_scale
        d = len(self.style)
        self.keys = [np.zeros((b["heads"], 0, d // b["heads"]), np.float32) for b in self.blocks]
        self.values = [k.copy() for k in self.keys]
        self.frames_in = 0

    def push(self, features: torch.Tensor | np.ndarray, prior: np.ndarray | None = None) -> torch.Tensor:
        """features (n, d_model) [and the viseme track it corrects (n, 32), ``viseme_residual``] -> coeffs (n, 32)."""
        x = np.asarray(features, np.float32) + self.style
        n = len(x)
        if n == 0:
            return torch.zeros(0, NUM_COEFFS)
        first = self.frames_in
        self.frames_in += n
        for i, b in enumerate(self.blocks):
            heads = b["heads"]
            h = numpy_layer_norm(x, *b["norm1"])
            q, k, v = (h @ b["qkv"][0] + b["qkv"][1]).reshape(n, 3, heads, -1).transpose(1, 2, 0, 3)
            keys = np.concatenate([self.keys[i], k], 1)  # (H, K, Dh), the last K frames up to this chunk's last
            values = np.concatenate([self.values[i], v], 1)
            scores = q @ keys.transpose(0, 2, 1) * np.float32(1 / np.sqrt(q.shape[-1]))  # (H, n, K)
            if n == 1:  # the usual live call: every kept key is in the window, offsets -(K - 1) .. 0
                count = keys.shape[1]
                scores = scores + b["offset_bias"][:, None, self.past + 1 - count:self.past + 1]
            else:
                key_pos = np.arange(first + n - keys.shape[1], first + n)
                offset = key_pos[None, :] - np.arange(first, first + n)[:, None]  # (n, K)
                allowed = (offset >= -self.past) & (offset <= 0)
                scores = scores + b["offset_bias"][:, np.clip(offset + self.past, 0, self.past)]
                scores = np.where(allowed[None], scores, -np.inf)
            scores = np.exp(scores - scores.max(-1, keepdims=True))
            attended = (scores / scores.sum(-1, keepdims=True)) @ values  # (H, n, Dh)
            x = x + attended.transpose(1, 0, 2).reshape(n, -1) @ b["proj"][0] + b["proj"][1]
            hidden = numpy_gelu(numpy_layer_norm(x, *b["norm2"]) @ b["ff1"][0] + b["ff1"][1])
            x = x + hidden @ b["ff2"][0] + b["ff2"][1]
            self.keys[i], self.values[i] = keys[:, -self.past:], values[:, -self.past:]
        hidden = numpy_layer_norm(x, *self.norm)
        if prior is None:
            out = hidden @ self.whole_head[0] + self.whole_head[1]
            return torch.from_numpy((1.0 / (1.0 + np.exp(-out))).astype(np.float32))
        out = hidden @ self.head[0] + self.head[1]
        prior = np.asarray(prior, np.float32)
        clipped = np.clip(prior, PRIOR_CLIP, 1 - PRIOR_CLIP)
        logits = out * np.float32(self.correction_scale) + np.log(clipped / (1 - clipped))
        return torch.from_numpy(np.clip(prior + 1.0 / (1.0 + np.exp(-logits)) - clipped, 0.0, 1.0).astype(np.float32))

    def flush(self) -> torch.Tensor:
        """Nothing waits: every frame was answered when it came."""
        return torch.zeros(0, NUM_COEFFS)



def _numpy_decoder(decoder: Decoder) -> dict:
    """A causal decoder's weights as float32 numpy arrays laid out for ``CausalDecoderStream`` (read-only)."""
    blocks = []
    for block in decoder.blocks:
        attn = block.attn
        blocks.append(dict(
            norm1=(array(block.norm1.weight), array(block.norm1.bias), block.norm1.eps),
            qkv=(array(attn.qkv.weight).T.copy(), array(attn.qkv.bias)),
            proj=(array(attn.proj.weight).T.copy(), array(attn.proj.bias)),
            offset_bias=array(attn.offset_bias)[:, :attn.past + 1],  # offsets -past .. 0
            heads=attn.heads,
            norm2=(array(block.norm2.weight), array(block.norm2.bias), block.norm2.eps),
            ff1=(array(block.ff[0].weight).T.copy(), array(block.ff[0].bias)),
            ff2=(array(block.ff[2].weight).T.copy(), array(block.ff[2].bias))))
    return dict(styles=array(decoder.style.weight), blocks=blocks,
                norm=(array(decoder.norm.weight), array(decoder.norm.bias), decoder.norm.eps),
                head=(array(decoder.head.weight).T.copy(), array(decoder.head.bias)),
                whole_head=(array(decoder.whole_head.weight).T.copy(), array(decoder.whole_head.bias)))

def numpy_layer_norm(x: np.ndarray, weight: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    # sums, not .mean(): numpy's mean costs more in Python than the arithmetic at one frame per call
    scale = np.float32(1.0 / x.shape[-1])
    centred = x - np.add.reduce(x, -1, keepdims=True) * scale
    var = np.add.reduce(centred * centred, -1, keepdims=True) * scale
    return centred / np.sqrt(var + np.float32(eps)) * weight + bias


def numpy_gelu(x: np.ndarray) -> np.ndarray:
    """torch's exact GELU."""
    return (0.5 * x * (1.0 + erf(x * np.float32(1 / np.sqrt(2))))).astype(np.float32)
