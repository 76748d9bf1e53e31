"""Cross-modal alignment and fusion: audio, pseudo-text and pseudo-visual features are made to agree on
*when* things happen (temporal level) and on *what* happens (semantic level), then merged frame by frame.

    audio features (B, T, d_model), detached: the anchor
    other modality's features --Projection--> (B, T, d_model)
        temporal: KL(affinity(audio) || affinity(other))   same frame-to-frame structure over time
        semantic: 1 - cos(audio_t, other_t)                same content, frame by frame
    encoder features + presence per utterance --Fusion--> (B, T, d_model) for the decoder

Every encoder hands over d_model-wide features at the model's frame rate. The alignment losses only
shape training; at inference only ``Fusion`` runs, and it is per-frame, so it streams as it is.

Audio is the anchor of both losses: the real signal, from which the pseudo modalities are derived.
Its features are detached and not projected, so the pseudo modalities learn to agree with audio and
the losses cannot pull audio towards them. When audio took part (its own projection, gradients into
its encoder), both sides collapsed to one constant vector that satisfies both losses trivially
(semantic 0.0002, temporal 0.0000 after 900 steps) and the audio branch carried almost nothing to
the decoder (its features' standard deviation over time: 0.05; with audio as the anchor, 0.48).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .config import ModelConfig


def _affinity_logits(x: torch.Tensor, mask: torch.Tensor, temperature: float) -> tuple[torch.Tensor, torch.Tensor]:
    """-> logits (B, T, T) = cos(x_i, x_j) / temperature, a very negative number where not allowed, and
    allowed (B, T, T): i and j both real frames and j != i (a frame's similarity to itself is always 1
    and would swamp the others at a low temperature)."""
    x = F.normalize(x, dim=-1)
    logits = x @ x.transpose(1, 2) / temperature
    T = x.shape[1]
    allowed = mask[:, :, None] & mask[:, None, :] & ~torch.eye(T, dtype=torch.bool, device=x.device)
    return logits.masked_fill(~allowed, torch.finfo(logits.dtype).min), allowed


def affinity(x: torch.Tensor, mask: torch.Tensor, temperature: float) -> torch.Tensor:
    """Features (B, T, D), real frames (B, T) bool -> (B, T, T): row i is a distribution over the other
    real frames j, softmax of cos(x_i, x_j) / temperature. Rows of padded frames (and of an utterance's
    only frame) are all 0."""
    logits, allowed = _affinity_logits(x, mask, temperature)
    return logits.softmax(-1) * allowed


def temporal_kl(reference: torch.Tensor, other: torch.Tensor, mask: torch.Tensor, temperature: float) -> torch.Tensor:
    """KL(affinity(reference) || affinity(other)), summed over j, averaged over real frames i -> scalar >= 0.

    reference, other (B, T, D); mask (B, T) bool. The reference (audio) is detached: it is the real
    signal, the pseudo modalities are derived from it and noisier, so they learn audio's timing rather
    than pull audio's towards theirs. The direction KL(audio || other) is mass-covering: the other
    modality must put weight on every frame audio relates frame i to.
    """
    logits_ref, allowed = _affinity_logits(reference.detach(), mask, temperature)
    logits_other, _ = _affinity_logits(other, mask, temperature)
    log_p, log_q = logits_ref.log_softmax(-1), logits_other.log_softmax(-1)
    kl = torch.where(allowed, log_p.exp() * (log_p - log_q), 0.0).sum(-1)  # (B, T)
    rows = allowed.any(-1)
    return kl.sum() / rows.sum().clamp(min=1)


def semantic_loss(a: torch.Tensor, b: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """1 - cos(a_t, b_t) averaged over real frames -> scalar in [0, 2]. a, b (B, T, D); mask (B, T) bool."""
    distance = 1 - F.cosine_similarity(a, b, dim=-1)  # (B, T)
    return (distance * mask).sum() / mask.sum().clamp(min=1)


class Projection(nn.Module):
    """A pseudo modality's features (B, T, d_model) -> the audio features' space (B, T, d_model)."""

    def __init__(self, d_model: int):
        super().__init__()
        self.linear = nn.Linear(d_model, d_model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.linear(x)


def _presence(present: dict[str, torch.Tensor] | None, name: str, batch: int, device) -> torch.Tensor:
    """(B,) bool; a modality not named in ``present`` is there for every utterance."""
    if present is not None and present.get(name) is not None:
        return present[name]
    return torch.ones(batch, dtype=torch.bool, device=device)


class CrossModalAlignment(nn.Module):
    """Projections of each pseudo modality into the audio features' space, and the two alignment losses
    over the given (audio, other) pairs, each pair counted only on utterances where both are there.

    forward(features {name: (B, T, d_model) or None}, present {name: (B,) bool}, frame_mask (B, T) bool)
    -> {"temporal": scalar, "semantic": scalar}, averaged over the pairs that had any utterance (0 if none).
    """

    def __init__(self, d_model: int, pairs: tuple[tuple[str, str], ...] = (("audio", "text"), ("audio", "visual")),
                 temperature: float = 0.1):
        super().__init__()
        if any(anchor != "audio" for anchor, _ in pairs):
            raise ValueError(f"alignment pairs must be (audio, other), got {pairs}")
        self.pairs, self.temperature = tuple(pairs), temperature
        names = dict.fromkeys(other for _, other in pairs)  # ordered, unique
        self.projections = nn.ModuleDict({name: Projection(d_model) for name in names})

    @classmethod
    def from_config(cls, config: ModelConfig, modalities: tuple[str, ...]) -> "CrossModalAlignment":
        """Audio paired with each other modality in ``modalities`` (e.g. ("audio", "text", "visual"))."""
        pairs = tuple(("audio", name) for name in modalities if name != "audio")
        return cls(config.d_model, pairs, config.align_temperature)

    def forward(self, features: dict[str, torch.Tensor | None], present: dict[str, torch.Tensor] | None,
                frame_mask: torch.Tensor) -> dict[str, torch.Tensor]:
        batch, device = frame_mask.shape[0], frame_mask.device
        shared = {name: self.projections[name](x) for name, x in features.items()
                  if x is not None and name in self.projections}
        if features.get("audio") is not None:
            shared["audio"] = features["audio"].detach()
        temporal = semantic = torch.zeros((), device=device)
        counted = 0
        for a, b in self.pairs:
            if a not in shared or b not in shared:
                continue
            both = _presence(present, a, batch, device) & _presence(present, b, batch, device)
            if not both.any():
                continue
            mask = frame_mask & both[:, None]
            temporal = temporal + temporal_kl(shared[a], shared[b], mask, self.temperature)
            semantic = semantic + semantic_loss(shared[a], shared[b], mask)
            counted += 1
        counted = max(counted, 1)
        return {"temporal": temporal / counted, "semantic": semantic / counted}


class Fusion(nn.Module):
    """Per-frame fusion of the modalities: concatenate (audio | text | visual) and mix with one Linear.

    A modality missing for an utterance (text not recognised yet, visual branch off) is replaced by its
    learned "absent" embedding, so the model sees absence as a value of its own rather than as zeros it
    might confuse with silence. Concatenation (rather than a gated sum) keeps every modality in its own
    input columns, so the Linear learns how much each one matters. No mixing across time: streamable as is.

    forward(features {name: (B, T, d_model) or None}, present {name: (B,) bool} or None) -> (B, T, d_model).
    A modality that is None, or not in ``features``, is absent for every utterance.
    """

    def __init__(self, d_model: int, modalities: tuple[str, ...] = ("audio", "text", "visual")):
        super().__init__()
        self.modalities = tuple(modalities)
        self.absent = nn.ParameterDict({name: nn.Parameter(0.02 * torch.randn(d_model)) for name in self.modalities})
        self.mix = nn.Linear(len(self.modalities) * d_model, d_model)

    def forward(self, features: dict[str, torch.Tensor | None],
                present: dict[str, torch.Tensor] | None = None) -> torch.Tensor:
        some = next(x for x in features.values() if x is not None)
        B, T, D = some.shape
        parts = []
        for name in self.modalities:
            absent = self.absent[name].expand(B, T, D)
            x = features.get(name)
            if x is None:
                parts.append(absent)
            else:
                here = _presence(present, name, B, x.device)
                parts.append(torch.where(here[:, None, None], x, absent))
        return self.mix(torch.cat(parts, -1))
