"""The whole PMMTalk model, top to bottom.

    batch.audio --AudioEncoder (Whisper windows + head | wav2vec 2.0 in chunks | filterbank; the same live
        and offline)--> audio (B, T, d)
    batch.phone_ids, word_vectors | visemes --TextEncoder--> text (B, T, d)   (if the text branch is on)
    batch.mouths --VisualEncoder--> visual (B, T, d)                      (if the visual branch is on)
    CrossModalAlignment(audio, text | visual) -> temporal KL, semantic cosine losses
    Fusion(audio, text, visual, which are present) -> (B, T, d) --Decoder(style)--> coeffs (B, T, 32) in 0..1
    audio --ClosureGate--> the chance the lips are closed (B, T): shuts them at inference (if ``closure_gate``)

In training, whole branches are dropped per utterance (``modality_dropout``) so the model keeps
working when the text comes late or the visual branch is off.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .align import CrossModalAlignment, Fusion
from .batch import Batch
from .config import ModelConfig
from .decoder import Decoder
from .encoders.audio import AudioEncoder
from .gate import ClosureGate, close_lips
from ..rig import NUM_COEFFS
from .losses import closure_loss, gate_loss, motion_loss, position_loss, total_loss


@dataclass
class Output:
    coeffs: torch.Tensor
    """(B, T, 32) in 0..1."""
    losses: dict[str, torch.Tensor]
    """Loss parts (position and motion only when the batch has reference coefficients) and ``total``."""
    closed: torch.Tensor | None = None
    """``closure_gate``: (B, T) the gate's chance that the lips are closed (already applied to
    ``coeffs`` in eval mode); None without a gate."""


class PMMTalk(nn.Module):
    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        if config.audio_encoder == "mel":
            from .encoders.filterbank import MelAudioEncoder

            self.audio = MelAudioEncoder(config)
        elif config.audio_encoder == "whisper":
            from .encoders.whisper import WhisperAudioEncoder

            self.audio = WhisperAudioEncoder(config)
        else:
            self.audio = AudioEncoder(config)
        self.modalities = ("audio",)
        self.text = None
        self.visual = None
        if config.text:
            from .encoders.text import TextEncoder

            self.text = TextEncoder(config)
            self.modalities += ("text",)
        if config.visual:
            from .encoders.visual import VisualEncoder

            self.visual = nn.Sequential(VisualEncoder(config), nn.Linear(config.visual_dim, config.d_model))
            self.modalities += ("visual",)
        self.alignment = CrossModalAlignment.from_config(config, self.modalities)
        self.fusion = Fusion(config.d_model, self.modalities)
        self.decoder = Decoder(config)
        self.gate = ClosureGate(config.d_model, config.gate_threshold) if config.closure_gate else None
        self.compute = "cpu"
        """Where the pretrained networks run in inference (``inference.set_compute``)."""
        self.half = False
        """... in float16 (wav2vec 2.0, Wav2Lip)."""
        if config.viseme_residual:  # start as the viseme track itself: the decoder learns corrections
            nn.init.zeros_(self.decoder.head.weight)
            nn.init.zeros_(self.decoder.head.bias)

    def encode(self, batch: Batch) -> tuple[dict[str, torch.Tensor], dict[str, torch.Tensor]]:
        """Per-branch features (B, T, d_model) and which utterances have each branch (B,) bool."""
        num_frames = batch.num_frames
        batch_size = batch.audio.shape[0]
        device = batch.audio.device
        if batch.speech is not None:  # the Whisper branch's frozen features, precomputed (training's cache)
            features = {"audio": self.audio(batch.audio, batch.audio_lengths, num_frames, speech=batch.speech)}
        else:
            features = {"audio": self.audio(batch.audio, batch.audio_lengths, num_frames)}
        present = {"audio": torch.ones(batch_size, dtype=torch.bool, device=device)}
        if self.text is not None:
            has_text = (batch.visemes if self.text.input == "visemes" else batch.phone_ids) is not None
            text_present = batch.text_present if batch.text_present is not None else \
                torch.full((batch_size,), has_text, dtype=torch.bool, device=device)
            present["text"] = self._dropped(text_present & has_text)
            if has_text:
                features["text"] = self.text(batch.phone_ids, batch.word_vectors, batch.frame_mask, batch.visemes)
            else:
                features["text"] = torch.zeros_like(features["audio"])
        if self.training and self.config.objective.audio_dropout > 0 and "text" in present:
            # the audio goes where the text stays, so the model learns what the text alone says
            drop = torch.rand(batch_size, device=device) < self.config.objective.audio_dropout
            present["audio"] = ~(drop & present["text"])
        if self.visual is not None:
            has_visual = batch.mouths is not None
            visual_present = batch.visual_present if batch.visual_present is not None else \
                torch.full((batch_size,), has_visual, dtype=torch.bool, device=device)
            present["visual"] = self._dropped(visual_present & has_visual)
            if has_visual:
                features["visual"] = self.visual[1](self.visual[0](batch.mouths, batch.frame_mask))
            else:
                features["visual"] = torch.zeros_like(features["audio"])
        return features, present

    def _dropped(self, present: torch.Tensor) -> torch.Tensor:
        """Modality dropout: in training, each utterance loses the branch with the configured chance."""
        if not self.training or self.config.objective.modality_dropout <= 0:
            return present
        keep = torch.rand(present.shape, device=present.device) >= self.config.objective.modality_dropout
        return present & keep

    def prior(self, batch: Batch, present: dict[str, torch.Tensor]) -> torch.Tensor | None:
        """The track the decoder corrects (``viseme_residual``): (B, T, 32), the viseme track's
        coefficients; None for other models or when no utterance has the text."""
        if not self.config.viseme_residual or batch.visemes is None or not bool(present["text"].any()):
            return None  # no track to correct: the decoder's output is the whole prediction (unscaled)
        return batch.visemes[..., :NUM_COEFFS]

    def forward(self, batch: Batch) -> Output:
        features, present = self.encode(batch)
        losses = self.alignment(features, present, batch.frame_mask)
        fused = self.fusion(features, present)
        prior = self.prior(batch, present)
        coeffs = self.decoder(fused, batch.styles, batch.frame_mask, prior, present.get("text") if prior is not None else None)
        closed_logits = self.gate(features["audio"]) if self.gate is not None else None
        if closed_logits is not None and not self.training:  # learned in training, applied after
            coeffs = close_lips(coeffs, torch.sigmoid(closed_logits), self.gate.threshold)
        if batch.coeffs is not None:
            losses["position"] = position_loss(coeffs, batch.coeffs, batch.frame_mask)
            losses["motion"] = motion_loss(coeffs, batch.coeffs, batch.frame_mask)
            if self.config.objective.w_closure:
                losses["closure"] = closure_loss(coeffs, batch.coeffs, batch.frame_mask)
            if closed_logits is not None:
                losses["gate"] = gate_loss(closed_logits, batch.coeffs, batch.frame_mask)
        losses["total"] = total_loss(losses, self.config.objective)
        return Output(coeffs, losses, None if closed_logits is None else torch.sigmoid(closed_logits))

