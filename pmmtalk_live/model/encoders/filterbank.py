"""The ``mel`` audio branch: a log-mel filterbank and a causal dilated convolution stack.

    audio (B, N) 16 kHz --STFT (25 ms Hann, 10 ms hop)--> log-mel (B, 64, M) at 100 Hz
        --[spectral shape (mel - its mean), level (the mean)]--> causal convolutions (B, C, M)
        --frame i reads filterbank frame m_i--> (B, T, C) --Linear--> (B, T, d_model)

Model frame i (time t = i / fps) reads the convolution output at the last filterbank frame whose
window is centred at or before t + lookahead_frames / fps, so its features depend on the audio up to
``latency_s`` after t and on nothing later: the look-ahead is in the encoder, the decoder is causal.
The convolutions only look back (receptive field ``receptive_field`` frames), so ``MelStream`` gives
exactly the numbers of the offline pass, however the audio is cut.

Why not wav2vec 2.0 here: no pretrained wav2vec 2.0 weights can be reached offline, and one trained
from scratch on a few hours of CPU time learns less than a filterbank front end and costs about ten
times as much live (docs/model-card.md). ``audio_encoder: wav2vec2`` stays for users with the weights.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from torch import nn

from ...tracks import SAMPLE_RATE_HZ, num_frames_for
from ..config import ModelConfig
from .causal import ConvStream, conv_stack, receptive_field

WINDOW_SAMPLES = 400
"""25 ms analysis window."""
HOP_SAMPLES = 160
"""10 ms: 100 filterbank frames per second; frame m covers samples [160 m, 160 m + 400)."""
N_FFT = 512
NUM_BANDS = 64
FMIN_HZ, FMAX_HZ = 60.0, 7600.0
LOG_FLOOR = 1e-6
"""Added to the band power before the log: digital silence is about -60 dB under a quiet voice."""


@functools.lru_cache(maxsize=1)
def _bands() -> np.ndarray:
    """(N_FFT // 2 + 1, NUM_BANDS) triangular HTK-mel filters, float32."""
    def to_mel(hz):
        return 2595.0 * np.log10(1.0 + np.asarray(hz) / 700.0)

    def to_hz(mel):
        return 700.0 * (10.0 ** (np.asarray(mel) / 2595.0) - 1.0)

    edges = to_hz(np.linspace(to_mel(FMIN_HZ), to_mel(FMAX_HZ), NUM_BANDS + 2))
    freqs = np.linspace(0, SAMPLE_RATE_HZ / 2, N_FFT // 2 + 1)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    rising = (freqs[None] - lower) / (centre - lower)
    falling = (upper - freqs[None]) / (upper - centre)
    return np.maximum(0.0, np.minimum(rising, falling)).T.astype(np.float32)


def num_filterbank_frames(num_samples: int) -> int:
    """Complete analysis windows in ``num_samples`` samples."""
    return 0 if num_samples < WINDOW_SAMPLES else (num_samples - WINDOW_SAMPLES) // HOP_SAMPLES + 1


def filterbank(audio: torch.Tensor) -> torch.Tensor:
    """(B, N) float audio -> (B, NUM_BANDS + 1, M) features: per frame the log-mel spectral shape (each
    band minus the bands' mean) and that mean (the level), M = ``num_filterbank_frames(N)``."""
    if audio.shape[-1] < WINDOW_SAMPLES:
        return audio.new_zeros(audio.shape[0], NUM_BANDS + 1, 0)
    frames = audio.unfold(-1, WINDOW_SAMPLES, HOP_SAMPLES)  # (B, M, 400)
    window = torch.hann_window(WINDOW_SAMPLES, periodic=True, dtype=audio.dtype, device=audio.device)
    spectrum = torch.fft.rfft(frames * window, n=N_FFT)
    power = spectrum.real ** 2 + spectrum.imag ** 2
    bands = torch.from_numpy(_bands()).to(audio.device, audio.dtype)
    log_mel = torch.log(power @ bands + LOG_FLOOR)  # (B, M, 64)
    level = log_mel.mean(-1, keepdim=True)
    return torch.cat([log_mel - level, level / 10.0], -1).transpose(1, 2)


def filterbank_index(config: ModelConfig, first_frame: int, num_frames: int) -> np.ndarray:
    """The filterbank frame each model frame reads: the last one whose window centre (160 m + 200
    samples) is at or before the frame's time plus the look-ahead, int64 (num_frames,) (may be < 0
    at the very start: then frame 0 is read)."""
    frames = np.arange(first_frame, first_frame + num_frames, dtype=np.int64) + config.lookahead_frames
    # m = floor((k / fps * 16000 - 200) / 160), in integers when fps is whole
    fps = config.fps
    if float(fps).is_integer():
        fps = int(fps)
        return (frames * SAMPLE_RATE_HZ - (WINDOW_SAMPLES // 2) * fps) // (HOP_SAMPLES * fps)
    return np.floor((frames / fps * SAMPLE_RATE_HZ - WINDOW_SAMPLES // 2) / HOP_SAMPLES).astype(np.int64)


def latency_s(config: ModelConfig) -> float:
    """Audio after a frame's time its features depend on: the look-ahead and half a window."""
    return config.lookahead_frames / config.fps + (WINDOW_SAMPLES / 2) / SAMPLE_RATE_HZ


class MelAudioEncoder(nn.Module):
    """(B, N) audio, lengths (B,), frames T -> (B, T, d_model) features at ``config.fps``."""

    def __init__(self, config: ModelConfig):
        super().__init__()
        self.config = config
        channels = config.mel_channels
        self.convs = conv_stack(NUM_BANDS + 1, channels, config.mel_dilations, config.dropout)
        self.project = nn.Linear(channels, config.d_model)

    @property
    def receptive_field(self) -> int:
        """Filterbank frames one output frame depends on (itself and the ones before it)."""
        return receptive_field(self.config.mel_dilations)

    def forward(self, audio: torch.Tensor, audio_lengths: torch.Tensor, num_frames: int) -> torch.Tensor:
        if audio.shape[1] < WINDOW_SAMPLES:
            audio = nn.functional.pad(audio, (0, WINDOW_SAMPLES - audio.shape[1]))
        hidden = self.convs(filterbank(audio))  # (B, C, M)
        index = torch.from_numpy(filterbank_index(self.config, 0, num_frames)).to(audio.device)
        rows = []
        for b, length in enumerate(audio_lengths.tolist()):
            last = max(num_filterbank_frames(max(int(length), WINDOW_SAMPLES)) - 1, 0)
            rows.append(hidden[b, :, index.clamp(0, last)])
        out = self.project(torch.stack(rows).transpose(1, 2))
        return out

    def stream(self) -> "MelStream":
        return MelStream(self)


class MelStream:
    """The encoder live: push audio, get each model frame's features once its look-ahead is in, the
    numbers of ``MelAudioEncoder.forward`` on the whole stream (within float32 rounding).

    A 10 ms hop adds one filterbank frame: the filterbank is computed in numpy and the convolutions
    run as a ``ConvStream`` (numpy, weights copied once, one matrix product per layer and frame).
    Memory: part of one window of audio, the convolutions' histories and the outputs not yet read."""

    def __init__(self, encoder: MelAudioEncoder):
        self.config = encoder.config
        self.num_samples = 0
        self._audio = np.zeros(0, np.float32)  # from sample _audio_start on
        self._audio_start = 0
        self._num_fb = 0  # filterbank frames computed
        self._window = np.hanning(WINDOW_SAMPLES + 1)[:-1].astype(np.float32)  # periodic Hann, as torch's
        self._convs = ConvStream(encoder.convs, encoder.project)
        self._outputs = np.zeros((0, encoder.config.d_model), np.float32)  # projected, from _outputs_start on
        self._outputs_start = 0
        self._next_frame = 0

    def push(self, samples: np.ndarray) -> torch.Tensor:
        """float32 16 kHz samples -> features (n, d_model) of the next n model frames (n may be 0)."""
        self._audio = np.concatenate([self._audio, np.asarray(samples, np.float32).reshape(-1)])
        self.num_samples += len(samples)
        self._compute(num_filterbank_frames(self.num_samples))
        frames_in = num_frames_for(self.num_samples / SAMPLE_RATE_HZ, self.config.fps)
        wanted = np.maximum(filterbank_index(self.config, self._next_frame, max(frames_in - self._next_frame, 0)), 0)
        end = self._next_frame + int(np.searchsorted(wanted, self._num_fb))  # indices never decrease
        return self._emit(end, self._num_fb - 1)

    def flush(self) -> torch.Tensor:
        """End of stream -> the features of every frame left (those past the audio read its last
        filterbank frame, as offline)."""
        total = max(self.num_samples, WINDOW_SAMPLES)
        if self.num_samples < WINDOW_SAMPLES:  # offline pads a short stream to one window
            self._audio = np.concatenate([self._audio, np.zeros(WINDOW_SAMPLES - self.num_samples, np.float32)])
        self._compute(num_filterbank_frames(total))
        frames = num_frames_for(self.num_samples / SAMPLE_RATE_HZ, self.config.fps)
        return self._emit(frames, num_filterbank_frames(total) - 1)

    def _compute(self, num_fb: int) -> None:
        """Filterbank frames and their encoder outputs up to ``num_fb`` (exclusive)."""
        if num_fb <= self._num_fb:
            return
        first = self._num_fb * HOP_SAMPLES - self._audio_start
        count = num_fb - self._num_fb
        windows = np.lib.stride_tricks.sliding_window_view(self._audio[first:], WINDOW_SAMPLES)[::HOP_SAMPLES][:count]
        spectrum = np.fft.rfft(windows * self._window, n=N_FFT).astype(np.complex64)
        log_mel = np.log((spectrum.real ** 2 + spectrum.imag ** 2) @ _bands() + np.float32(LOG_FLOOR))
        level = log_mel.mean(1, keepdims=True)
        x = np.concatenate([log_mel - level, level / np.float32(10.0)], 1).astype(np.float32)  # (n, 65)
        self._outputs = np.concatenate([self._outputs, self._convs.push(x)])
        drop = num_fb * HOP_SAMPLES - self._audio_start
        self._audio, self._audio_start = self._audio[drop:], self._audio_start + drop
        self._num_fb = num_fb

    def _emit(self, end: int, last_fb: int) -> torch.Tensor:
        first = self._next_frame
        if end <= first:
            return torch.zeros(0, self._outputs.shape[1])
        index = np.clip(filterbank_index(self.config, first, end - first), 0, max(last_fb, 0))
        picked = self._outputs[index - self._outputs_start]
        self._next_frame = end
        # outputs before the next frame's filterbank frame are never read again
        keep_from = max(int(filterbank_index(self.config, end, 1)[0]), 0)
        drop = min(max(keep_from - self._outputs_start, 0), max(len(self._outputs) - 1, 0))
        self._outputs, self._outputs_start = self._outputs[drop:], self._outputs_start + drop
        return torch.from_numpy(np.ascontiguousarray(picked))
