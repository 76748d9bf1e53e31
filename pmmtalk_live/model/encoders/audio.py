"""The audio branch: wav2vec 2.0 features at 50 Hz, resampled to the model's frame rate.

    audio (B, N) 16 kHz --Wav2Vec2Model--> (B, N/320, hidden) at 50 Hz --linear in time--> (B, T, hidden)
        --Linear--> (B, T, d_model)

The encoder is a pretrained checkpoint (a local folder, or a hub id when online: e.g.
``facebook/wav2vec2-base-960h`` for English, ``TencentGameMate/chinese-wav2vec2-base`` for Mandarin) or,
where no pretrained weights exist (offline), a small wav2vec 2.0 built from ``ModelConfig`` sizes and
trained from scratch with the rest of the model. The convolutional feature encoder of a pretrained
model is always frozen (as in PMMTalk and FaceFormer); ``freeze_audio`` freezes the transformer too.

**Chunks.** wav2vec 2.0 attends over its whole input (and its positional convolution reaches 64 frames,
1.28 s, either way), so a frame's features would depend on audio far in the future. To stream, the
audio is encoded in chunks of ``audio_chunk_frames`` model frames from frame 0: chunk [c0, c1) runs
wav2vec on the window from ``c0 / fps - audio_context_s`` (not before the first sample) to
``(c1 - 1) / fps + lookahead_frames / fps`` (not after the last sample), and keeps frames c0 .. c1 - 1,
resampled from the window's own 50 Hz frames. Offline (training included) and live use the same
windows (``chunk_window``), so they give the same numbers: a window's features depend on its samples
only, never on the audio after it or on the padding of a batch. The price is compute: every window is
encoded in full for the frames of one chunk, a factor of (context + chunk + look-ahead) / chunk over
whole-utterance encoding (1 s + 0.2 s + 0.1 s over 0.2 s = 6.5 with the defaults); a longer chunk costs
less but adds latency (a frame waits for its chunk's last frame's look-ahead), a shorter context costs
less but lets wav2vec see less. ``audio_chunk_frames: 0`` encodes whole utterances (cheapest, offline
only: it cannot stream).

**Where it runs.** ``place(device, half)`` puts wav2vec 2.0 alone on a GPU (``serve/animate --compute
cuda``), in float16 if asked; its input goes there and its output comes back as float32 to where the
projection is, so callers hand in and get back CPU tensors either way.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...errors import PmmtalkError
from ...tracks import SAMPLE_RATE_HZ, num_frames_for
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

    if config.audio_architecture:  # a trained run: the shape only, its weights come from the run
        model = Wav2Vec2Model(Wav2Vec2Config.from_dict(config.audio_architecture))
        model.freeze_feature_encoder()
        return model
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


def frame_positions(num_frames: int, fps: float, first_frame: int = 0, start_sample: int = 0) -> torch.Tensor:
    """Fractional wav2vec frame index showing the time k / fps of model frames k = first_frame ..
    first_frame + num_frames - 1, shape (num_frames,), for wav2vec run on audio from ``start_sample``."""
    times = np.arange(first_frame, first_frame + num_frames) / fps - start_sample / SAMPLE_RATE_HZ
    return torch.from_numpy((times - WAV2VEC_CENTRE_S) * (SAMPLE_RATE_HZ / WAV2VEC_HOP_SAMPLES)).float()


def resample_frames(features: torch.Tensor, num_frames: int, fps: float, first_frame: int = 0,
                    start_sample: int = 0) -> torch.Tensor:
    """(B, S, H) at 50 Hz -> (B, num_frames, H) at ``fps``, linear in time, clamped at the ends
    (frames as in ``frame_positions``)."""
    positions = frame_positions(num_frames, fps, first_frame, start_sample)
    positions = positions.clamp(0, features.shape[1] - 1).to(features.device)
    low = positions.floor().long()
    high = (low + 1).clamp(max=features.shape[1] - 1)
    weight = (positions - low).to(features.dtype)[None, :, None]
    return features[:, low] * (1 - weight) + features[:, high] * weight


MIN_WINDOW_SAMPLES = 400
"""wav2vec 2.0's receptive field: a shorter window is zero-padded to it (the zeros count as audio)."""


@dataclass(frozen=True)
class ChunkWindow:
    """Model frames ``first_frame .. end_frame - 1``, encoded from stream samples ``start_sample ..
    end_sample - 1``."""

    first_frame: int
    end_frame: int
    start_sample: int
    end_sample: int


def chunk_window(config: ModelConfig, first_frame: int, end_frame: int, num_samples: int | None = None) -> ChunkWindow:
    """The audio window of the chunk of frames [first_frame, end_frame): ``audio_context_s`` before it,
    the look-ahead after its last frame, cut to the stream (``num_samples``: its length if known)."""
    start = max(0, round((first_frame / config.fps - config.audio_context_s) * SAMPLE_RATE_HZ))
    end = round((end_frame - 1 + config.lookahead_frames) / config.fps * SAMPLE_RATE_HZ)
    if num_samples is not None:
        end = min(end, num_samples)
    return ChunkWindow(first_frame, end_frame, start, end)


def chunk_windows(config: ModelConfig, num_samples: int) -> list[ChunkWindow]:
    """Every chunk of an utterance of ``num_samples`` samples, in order."""
    num_frames = num_frames_for(num_samples / SAMPLE_RATE_HZ, config.fps)
    step = config.audio_chunk_frames
    return [chunk_window(config, c0, min(c0 + step, num_frames), num_samples) for c0 in range(0, num_frames, step)]


WINDOWS_PER_CALL = 64
"""Chunk windows wav2vec encodes at once (memory bound for long files)."""


class AudioEncoder(nn.Module):
    """(B, N) audio -> (B, T, d_model) features at ``config.fps``."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        self.wav2vec = load_wav2vec2(config)
        hidden = self.wav2vec.config.hidden_size
        if config.objective.freeze_audio:
            for parameter in self.wav2vec.parameters():
                parameter.requires_grad_(False)
        self.project = nn.Linear(hidden, config.d_model)
        # layer-norm feature extractors take a padding mask; group-norm ones (wav2vec2-base) must not
        self._use_mask = self.wav2vec.config.feat_extract_norm == "layer"

    def place(self, device: torch.device, half: bool = False) -> None:
        """Run wav2vec 2.0 on ``device`` (float16 when ``half``); the projection stays where it is."""
        self.wav2vec.to(device=device, dtype=torch.float16 if half else torch.float32)

    def _wav2vec(self, audio: torch.Tensor, mask: torch.Tensor | None) -> torch.Tensor:
        """wav2vec 2.0 where it was placed: audio (B, N) -> hidden (B, S, H) float32 on the projection's device."""
        weight = next(self.wav2vec.parameters())
        if weight.device != audio.device or weight.dtype != audio.dtype:
            audio = audio.to(weight.device, weight.dtype)
            mask = None if mask is None else mask.to(weight.device)
        hidden = self.wav2vec(audio, attention_mask=mask).last_hidden_state
        return hidden.to(self.project.weight.device, self.project.weight.dtype)

    def forward(self, audio: torch.Tensor, audio_lengths: torch.Tensor, num_frames: int) -> torch.Tensor:
        """audio (B, N), lengths (B,), frames T -> (B, T, d_model): in chunks (``audio_chunk_frames``),
        or whole utterances when it is 0. Frames after an utterance's last are zero (chunked)."""
        if self.config.audio_chunk_frames <= 0:
            return self.encode_whole(audio, audio_lengths, num_frames)
        windows = [(i, w) for i, length in enumerate(audio_lengths.tolist())
                   for w in chunk_windows(self.config, int(length))]
        out = audio.new_zeros(audio.shape[0], num_frames, self.project.out_features)
        cuts = [(audio[i, w.start_sample:w.end_sample], w) for i, w in windows]
        for (i, w), features in zip(windows, self.encode_windows(cuts)):
            end = min(w.end_frame, num_frames)
            out[i, w.first_frame:end] = features[:end - w.first_frame]
        return out

    def encode_windows(self, windows: list[tuple[torch.Tensor, ChunkWindow]]) -> list[torch.Tensor]:
        """Chunks [(samples, window)], ``samples`` (end_sample - start_sample,): the window's audio
        -> each chunk's features (end_frame - first_frame, d_model).

        Windows of a layer-norm wav2vec are padded to one length and masked (the padding changes
        nothing); a group-norm one (wav2vec2-base) normalises over the whole input, so its windows
        run in groups of equal length, never padded.
        """
        cuts = []
        for samples, w in windows:
            assert len(samples) == w.end_sample - w.start_sample, "window audio does not match its window"
            if len(samples) < MIN_WINDOW_SAMPLES:
                samples = nn.functional.pad(samples, (0, MIN_WINDOW_SAMPLES - len(samples)))
            cuts.append(samples)
        if self._use_mask:
            groups = [list(range(len(cuts)))]
        else:
            by_length: dict[int, list[int]] = {}
            for i, samples in enumerate(cuts):
                by_length.setdefault(len(samples), []).append(i)
            groups = list(by_length.values())
        out: list[torch.Tensor | None] = [None] * len(cuts)
        for group in groups:
            for first in range(0, len(group), WINDOWS_PER_CALL):
                part = group[first:first + WINDOWS_PER_CALL]
                lengths = torch.tensor([len(cuts[i]) for i in part], device=cuts[part[0]].device)
                padded = nn.utils.rnn.pad_sequence([cuts[i] for i in part], batch_first=True)
                mask = None
                if self._use_mask:
                    mask = (torch.arange(padded.shape[1], device=padded.device)[None] < lengths[:, None]).long()
                hidden = self._wav2vec(padded, mask)
                frames = self.wav2vec._get_feat_extract_output_lengths(lengths).tolist()
                for row, i in enumerate(part):
                    w = windows[i][1]
                    own = hidden[row:row + 1, :int(frames[row])]
                    out[i] = self.project(resample_frames(own, w.end_frame - w.first_frame, self.config.fps,
                                                          w.first_frame, w.start_sample))[0]
        return out

    def stream(self) -> "ChunkedStream":
        return ChunkedStream(self)

    def encode_whole(self, audio: torch.Tensor, audio_lengths: torch.Tensor, num_frames: int) -> torch.Tensor:
        """Whole utterances at once (``audio_chunk_frames: 0``): each frame sees the whole utterance."""
        if audio.shape[1] < MIN_WINDOW_SAMPLES:
            audio = nn.functional.pad(audio, (0, MIN_WINDOW_SAMPLES - audio.shape[1]))
        mask = None
        if self._use_mask:
            mask = (torch.arange(audio.shape[1], device=audio.device)[None] < audio_lengths[:, None]).long()
        hidden = self._wav2vec(audio, mask)
        return self.project(resample_frames(hidden, num_frames, self.config.fps))


class ChunkedStream:
    """The chunked encoder live: push audio, get each chunk's features once its window is in; equal to
    ``AudioEncoder.forward`` on the whole stream. Memory: one chunk window of audio."""

    def __init__(self, encoder: AudioEncoder):
        if encoder.config.audio_chunk_frames <= 0:
            raise ValueError("this model encodes whole utterances (audio_chunk_frames: 0), it cannot stream")
        self.encoder = encoder
        self.config = encoder.config
        self.num_samples = 0
        self._audio = np.zeros(0, np.float32)  # from _audio_start: the next chunk's window onwards
        self._audio_start = 0
        self._next_frame = 0  # first frame of the next chunk to encode

    @torch.no_grad()
    def push(self, samples: np.ndarray) -> torch.Tensor:
        """float32 16 kHz samples -> features (n, d_model) of the next n model frames (whole chunks)."""
        samples = np.asarray(samples, np.float32).reshape(-1)
        self._audio = np.concatenate([self._audio, samples])
        self.num_samples += len(samples)
        frames_in = num_frames_for(self.num_samples / SAMPLE_RATE_HZ, self.config.fps)
        out = []
        while True:
            first = self._next_frame
            window = chunk_window(self.config, first, first + self.config.audio_chunk_frames)
            # the whole window is in, and its frames exist (the stream cannot end before them)
            if window.end_sample > self.num_samples or window.end_frame > frames_in:
                break
            out.append(self._encode(window))
        return self._rows(out)

    @torch.no_grad()
    def flush(self) -> torch.Tensor:
        """End of stream -> the features of every frame left, the last chunks cut at the end of the
        audio exactly as offline."""
        num_frames = num_frames_for(self.num_samples / SAMPLE_RATE_HZ, self.config.fps)
        out = []
        while self._next_frame < num_frames:
            first = self._next_frame
            end = min(first + self.config.audio_chunk_frames, num_frames)
            out.append(self._encode(chunk_window(self.config, first, end, self.num_samples)))
        return self._rows(out)

    def _encode(self, window: ChunkWindow) -> torch.Tensor:
        samples = self._audio[window.start_sample - self._audio_start:window.end_sample - self._audio_start]
        features = self.encoder.encode_windows([(torch.from_numpy(samples), window)])[0]
        self._next_frame = window.end_frame
        keep_from = chunk_window(self.config, self._next_frame, self._next_frame + 1).start_sample
        drop = min(max(keep_from - self._audio_start, 0), len(self._audio))
        self._audio, self._audio_start = self._audio[drop:], self._audio_start + drop
        return features

    def _rows(self, parts: list[torch.Tensor]) -> torch.Tensor:
        return torch.cat(parts) if parts else torch.zeros(0, self.encoder.project.out_features)


def latency_s(config: ModelConfig) -> float:
    """Audio after a frame's time its features depend on: up to the end of its chunk, and the
    look-ahead after that."""
    return (config.audio_chunk_frames - 1 + config.lookahead_frames) / config.fps
