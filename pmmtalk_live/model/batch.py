"""What the model eats: a padded batch of utterances at the model's frame rate.

Frame k of an utterance shows time k / fps from its first sample; an utterance of ``n`` samples has
``tracks.num_frames_for(n / 16000, fps)`` frames. Branch inputs that are absent (text not recognised
yet, visual branch off) are None, or zero rows where ``*_present`` is False for an utterance.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import torch


@dataclass
class Batch:
    audio: torch.Tensor
    """(B, N) float32, 16 kHz, zero-padded after each utterance's end."""
    audio_lengths: torch.Tensor
    """(B,) int64: samples of each utterance."""
    frame_mask: torch.Tensor
    """(B, T) bool: True on an utterance's real frames."""
    styles: torch.Tensor
    """(B,) int64: speaking style, 0 = neutral, training subjects from 1 (``ModelConfig.style_index``)."""
    speech: torch.Tensor | None = None
    """(B, T, speech_dim) float32: the Whisper branch's frozen encoder features per frame, precomputed
    (``encoders.whisper.speech_track``); None = computed from ``audio``."""
    phone_ids: torch.Tensor | None = None
    """(B, T) int64: the recognised phone covering each frame (``config.PHONE_INDEX``; 0 = none)."""
    word_vectors: torch.Tensor | None = None
    """(B, T, WORD_DIM) float32: the meaning of the recognised word covering each frame (0 = none)."""
    visemes: torch.Tensor | None = None
    """(B, T, VISEME_DIM) float32 in 0..1: the live phone recogniser's viseme track (``text_input:
    visemes``): the phonetic animator's 32 coefficients and its activity."""
    text_present: torch.Tensor | None = None
    """(B,) bool: the utterance has pseudo-text."""
    mouths: torch.Tensor | None = None
    """(B, T, 3, 48, 96) float32 in 0..1: the lower half of each pseudo-visual (generated) face frame."""
    visual_present: torch.Tensor | None = None
    """(B,) bool: the utterance has pseudo-visual frames."""
    coeffs: torch.Tensor | None = None
    """(B, T, 32) float32 in 0..1: reference coefficients (training and evaluation)."""

    @property
    def num_frames(self) -> int:
        return self.frame_mask.shape[1]

    def to(self, device: torch.device | str) -> "Batch":
        return Batch(**{f.name: (v.to(device) if isinstance(v := getattr(self, f.name), torch.Tensor) else v)
                        for f in fields(self)})
