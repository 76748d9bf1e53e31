"""The audio branch: wav2vec 2.0 features at 50 Hz, resampled to the model's frame rate.

    audio (B, N) 16 kHz --Wav2Vec2Model--> (B, N/320, hidden) at 50 Hz --linear in time--> (B, T, hidden)
        --Linear--> (B, T, d_model)

The encoder is a pretrained checkpoint (a local folder, or a hub id when online: e.g.
``facebook/wav2vec2-base-960h`` for English, ``TencentGameMate/chinese-wav2vec2-base`` for Mandarin) or,
where no pretrained weights exist (offline), a small wav2vec 2.0 built from ``ModelConfig`` sizes and
trained from scratch with the rest of the model. The convolutional feature encoder of a pretrained
model is always frozen (as in PMMTalk and FaceFormer); ``freeze_audio`` freezes the transformer too.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from ...errors import PmmtalkError
from ..config import ModelConfig

WAV2VEC_HOP_SAMPLES = 320
"""wav2vec 2.0's frame step at 16 kHz (20 ms, 50 Hz)."""
WAV2VEC_CENTRE_S = 0.0125
"""Where frame 0's receptive field (400 samples) is centred: frame i shows time i * 0.02 + 0.0125 s."""


class AudioEncoderError(PmmtalkError):
    """A wav2vec 2.0 checkpoint that cannot be loaded."""


def load_wav2vec2(config: ModelConfig) -> nn.Module:
    """The wav2vec 2.0 model ``config`` names: pretrained (folder or hub id) or built from its sizes."""
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    if config.audio_checkpoint:
        source = config.audio_checkpoint
        local = Path(source).expanduser()
        try:
            model = Wav2Vec2Model.from_pretrained(str(local) if local.exists() else source)
        except (OSError, ValueError) as error:
            where = "the folder has no wav2vec 2.0 checkpoint" if local.exists() else \
                "not found locally and no network (download it once, or give a local folder)"
            raise AudioEncoderError(f"cannot load wav2vec 2.0 from '{source}': {where} "
                                    f"({str(error).splitlines()[0][:120]})") from None
        model.freeze_feature_encoder()
        return model
    wav2vec_config = Wav2Vec2Config(
        hidden_size=config.audio_hidden, num_hidden_layers=config.audio_layers,
        num_attention_heads=config.audio_heads, intermediate_size=config.audio_intermediate,
        conv_dim=(config.audio_conv_dim,) * 7, feat_extract_norm="layer", do_stable_layer_norm=True,
        hidden_dropout=config.dropout, attention_dropout=config.dropout, activation_dropout=config.dropout,
        feat_proj_dropout=config.dropout, layerdrop=0.0, mask_time_prob=0.0)
    return Wav2Vec2Model(wav2vec_config)


def frame_positions(num_frames: int, fps: float) -> torch.Tensor:
    """Fractional wav2vec frame index showing each model frame's time k / fps, shape (num_frames,)."""
    times = torch.arange(num_frames, dtype=torch.float32) / fps
    return (times - WAV2VEC_CENTRE_S) * (16000 / WAV2VEC_HOP_SAMPLES)


def resample_frames(features: torch.Tensor, num_frames: int, fps: float) -> torch.Tensor:
    """(B, S, H) at 50 Hz -> (B, num_frames, H) at ``fps``, linear in time, clamped at the ends."""
    positions = frame_positions(num_frames, fps).clamp(0, features.shape[1] - 1).to(features.device)
    low = positions.floor().long()
    high = (low + 1).clamp(max=features.shape[1] - 1)
    weight = (positions - low).to(features.dtype)[None, :, None]
    return features[:, low] * (1 - weight) + features[:, high] * weight


class AudioEncoder(nn.Module):
    """(B, N) audio -> (B, T, d_model) features at ``config.fps``."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.wav2vec = load_wav2vec2(config)
        hidden = self.wav2vec.config.hidden_size
        if config.freeze_audio:
            for parameter in self.wav2vec.parameters():
                parameter.requires_grad_(False)
        self.project = nn.Linear(hidden, config.d_model)
        # layer-norm feature extractors take a padding mask; group-norm ones (wav2vec2-base) must not
        self._use_mask = self.wav2vec.config.feat_extract_norm == "layer"

    def forward(self, audio: torch.Tensor, audio_lengths: torch.Tensor, num_frames: int) -> torch.Tensor:
        if audio.shape[1] < 400:  # shorter than one wav2vec receptive field
            audio = nn.functional.pad(audio, (0, 400 - audio.shape[1]))
        mask = None
        if self._use_mask:
            mask = (torch.arange(audio.shape[1], device=audio.device)[None] < audio_lengths[:, None]).long()
        hidden = self.wav2vec(audio, attention_mask=mask).last_hidden_state
        return self.project(resample_frames(hidden, num_frames, self.config.fps))
