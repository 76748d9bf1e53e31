"""The PMMTalk model's sizes and switches, as plain data (saved beside every checkpoint as YAML).

Frame rate: the model works at ``fps`` frames per second (every branch's features are resampled to
it); inference resamples the output to the rate asked for (30 or 60 fps).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from ..tracks import SAMPLE_RATE_HZ

PHONES = ("<pad>", "SIL") + tuple(
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH".split())
"""The phone vocabulary of the pseudo-text branch: index 0 = no phone (padding / text not there yet)."""
PHONE_INDEX = {p: i for i, p in enumerate(PHONES)}

WORD_DIM = 384
"""all-MiniLM-L6-v2's embedding size: the per-frame word-meaning vector of the text branch."""


@dataclass
class ModelConfig:
    fps: int = 30
    # --- audio branch: wav2vec 2.0 -----------------------------------------------------------------
    audio_checkpoint: str | None = None
    """A local folder or a hub id (``facebook/wav2vec2-base-960h``); None = a model from scratch with
    the sizes below (no pretrained weights exist offline)."""
    audio_hidden: int = 256
    audio_layers: int = 4
    audio_heads: int = 4
    audio_intermediate: int = 1024
    audio_conv_dim: int = 256
    freeze_audio: bool = False
    """Freeze the pretrained wav2vec 2.0 (its feature encoder is always frozen)."""
    audio_chunk_frames: int = 6
    """wav2vec 2.0 attends over a whole window, so live and offline both encode the audio in chunks of
    this many frames, each seeing ``audio_context_s`` before it and the look-ahead after it: the
    same numbers live and offline (see ``encoders/audio.py``)."""
    audio_context_s: float = 1.0
    audio_architecture: dict | None = None
    """The pretrained wav2vec 2.0's own config, recorded by training: a trained run rebuilds the
    encoder from it (its weights are in the run's safetensors), with no download."""
    # --- text branch: recogniser -> words and phones ---------------------------------------------------
    text: bool = True
    recognizer: str = "pocketsphinx"
    """``pocketsphinx`` (phones, streaming), ``faster-whisper`` (shipped tiny.en, word times + aligned
    phones), ``whisper:<folder or hub id>`` (transformers)."""
    phone_dim: int = 64
    word_encoder: str | None = "minilm"
    """``minilm`` (the shipped all-MiniLM-L6-v2), a local folder / hub id of a sentence encoder, or
    None for phones only."""
    # --- visual branch: Wav2Lip -> mouth features ------------------------------------------------------
    visual: bool = False
    wav2lip_checkpoint: str | None = None
    """``wav2lip.pth`` / ``wav2lip_gan.pth``; the branch is off without it."""
    reference_face: str | None = None
    """A face image (cropped to 96x96); None = the bundled default face the project draws itself."""
    visual_dim: int = 128
    # --- alignment, fusion and decoder -----------------------------------------------------------------
    d_model: int = 256
    decoder_layers: int = 4
    decoder_heads: int = 4
    decoder_ff: int = 1024
    dropout: float = 0.1
    lookahead_frames: int = 3
    """Frames after the current one the decoder may attend to (3 at 30 fps = 100 ms)."""
    context_frames: int = 150
    """Frames before the current one it may attend to (bounds the live cache: 5 s at 30 fps)."""
    align_temperature: float = 0.1
    speakers: list[str] = field(default_factory=list)
    """Training subjects; an extra 'neutral' style is always there and is the default."""
    # --- losses and training-time behaviour -------------------------------------------------------------
    w_position: float = 1.0
    w_motion: float = 0.5
    w_temporal: float = 0.1
    w_semantic: float = 0.1
    modality_dropout: float = 0.3
    """Per utterance and branch (text, visual) in training: the branch is dropped, so the model works
    when the text is late or the visual branch is off."""

    @property
    def samples_per_frame(self) -> float:
        return SAMPLE_RATE_HZ / self.fps

    @property
    def num_styles(self) -> int:
        return len(self.speakers) + 1

    def style_index(self, speaker: str | None) -> int:
        """0 = neutral; training subjects from 1."""
        return self.speakers.index(speaker) + 1 if speaker in self.speakers else 0

    def save(self, path: str | Path) -> None:
        Path(path).write_text(yaml.safe_dump(dataclasses.asdict(self), sort_keys=False))

    @classmethod
    def load(cls, path: str | Path) -> "ModelConfig":
        data = yaml.safe_load(Path(path).read_text()) or {}
        return cls.from_dict(data)

    @classmethod
    def from_dict(cls, data: dict) -> "ModelConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - names
        if unknown:
            raise ValueError(f"unknown model settings: {', '.join(sorted(unknown))}")
        return cls(**data)


def tiny_config(**overrides) -> ModelConfig:
    """A few-thousand-parameter model for tests: builds and runs in milliseconds."""
    base = dict(audio_hidden=32, audio_layers=1, audio_heads=2, audio_intermediate=64, audio_conv_dim=32,
                phone_dim=8, word_encoder=None, visual_dim=16, d_model=32, decoder_layers=1, decoder_heads=2,
                decoder_ff=64, dropout=0.0, context_frames=30)
    base.update(overrides)
    return ModelConfig(**base)


def paper_config(**overrides) -> ModelConfig:
    """PMMTalk's sizes: wav2vec 2.0 base (768-dim, 12 layers), Whisper tiny text, Wav2Lip visual."""
    base = dict(audio_checkpoint="facebook/wav2vec2-base-960h", audio_hidden=768, audio_layers=12, audio_heads=12,
                audio_intermediate=3072, audio_conv_dim=512, recognizer="faster-whisper", visual=True,
                d_model=512, decoder_layers=6, decoder_heads=8, decoder_ff=2048)
    base.update(overrides)
    return ModelConfig(**base)
