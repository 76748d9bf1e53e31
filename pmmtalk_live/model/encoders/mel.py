"""Wav2Lip's audio front end: the mel spectrogram the public Wav2Lip generator was trained on.

Numbers from Wav2Lip's ``hparams.py`` and ``audio.py`` (which call librosa 0.7; this is the same
computation in numpy/scipy): 16 kHz, pre-emphasis 0.97, a centred STFT (n_fft = window = 800 samples,
50 ms; hop 200 samples, 12.5 ms, so 80 mel frames per second; Hann window; reflect padding), 80 Slaney
mel bands from 55 to 7600 Hz, dB relative to ``REF_LEVEL_DB``, floored at ``MIN_LEVEL_DB`` and scaled
symmetrically to [-4, 4] (silence = -4).

The generator hears a 16-frame (200 ms) window per video frame: ``mel_windows``.
"""

from __future__ import annotations

import functools

import numpy as np
from scipy import signal

from ...tracks import SAMPLE_RATE_HZ

N_FFT = 800
HOP_SAMPLES = 200
WIN_SAMPLES = 800
NUM_MELS = 80
FMIN_HZ = 55.0
FMAX_HZ = 7600.0
PREEMPHASIS = 0.97
REF_LEVEL_DB = 20.0
MIN_LEVEL_DB = -100.0
MAX_ABS_VALUE = 4.0
MEL_FRAMES_PER_S = SAMPLE_RATE_HZ / HOP_SAMPLES
"""80 mel frames per second."""
WINDOW_MEL_FRAMES = 16
"""Mel frames the generator hears per video frame (200 ms)."""


def melspectrogram(samples: np.ndarray) -> np.ndarray:
    """Normalised log-mel spectrogram of 16 kHz mono audio: float32 (80, len(samples) // 200 + 1) in [-4, 4].

    Column j is centred on sample ``j * 200``.
    """
    samples = np.asarray(samples, dtype=np.float64).reshape(-1)
    emphasised = signal.lfilter([1.0, -PREEMPHASIS], [1.0], samples)
    mel_db = _amp_to_db(mel_basis() @ np.abs(_stft(emphasised))) - REF_LEVEL_DB
    normalised = 2 * MAX_ABS_VALUE * (mel_db - MIN_LEVEL_DB) / -MIN_LEVEL_DB - MAX_ABS_VALUE
    return np.clip(normalised, -MAX_ABS_VALUE, MAX_ABS_VALUE).astype(np.float32)


def mel_windows(samples: np.ndarray, fps: float, num_frames: int) -> np.ndarray:
    """The generator's audio input per video frame: float32 (num_frames, 1, 80, 16).

    Frame k hears the 16 mel frames (200 ms) starting at mel frame ``int(80 * k / fps)``, as Wav2Lip's
    inference does; windows that run past the audio's end are padded with silence (-4).
    """
    if num_frames == 0:
        return np.zeros((0, 1, NUM_MELS, WINDOW_MEL_FRAMES), np.float32)
    mel = melspectrogram(samples)
    starts = (MEL_FRAMES_PER_S * np.arange(num_frames) / fps).astype(np.int64)
    needed = int(starts[-1]) + WINDOW_MEL_FRAMES
    if mel.shape[1] < needed:
        silence = np.full((NUM_MELS, needed - mel.shape[1]), -MAX_ABS_VALUE, np.float32)
        mel = np.concatenate([mel, silence], axis=1)
    return np.stack([mel[None, :, s:s + WINDOW_MEL_FRAMES] for s in starts])


@functools.lru_cache(maxsize=1)
def mel_basis() -> np.ndarray:
    """(80, 401) Slaney-scale, area-normalised triangular filters (librosa.filters.mel's defaults)."""
    fft_hz = np.linspace(0.0, SAMPLE_RATE_HZ / 2, 1 + N_FFT // 2)
    edges_hz = _mel_to_hz(np.linspace(_hz_to_mel(FMIN_HZ), _hz_to_mel(FMAX_HZ), NUM_MELS + 2))
    widths_hz = np.diff(edges_hz)
    ramps = edges_hz[:, None] - fft_hz[None, :]
    rising = -ramps[:-2] / widths_hz[:-1, None]
    falling = ramps[2:] / widths_hz[1:, None]
    weights = np.maximum(0.0, np.minimum(rising, falling))
    weights *= (2.0 / (edges_hz[2:] - edges_hz[:-2]))[:, None]
    weights.flags.writeable = False
    return weights


def _stft(samples: np.ndarray) -> np.ndarray:
    """Complex (401, len // 200 + 1): centred frames (reflect padding, as librosa 0.7), periodic Hann."""
    pad = N_FFT // 2
    mode = "reflect" if len(samples) > pad else "constant"
    padded = np.pad(samples, pad, mode=mode)
    num_cols = 1 + (len(padded) - N_FFT) // HOP_SAMPLES
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_SAMPLES][:num_cols]
    window = signal.get_window("hann", WIN_SAMPLES, fftbins=True)
    return np.fft.rfft(frames * window, n=N_FFT, axis=1).T


def _amp_to_db(amplitude: np.ndarray) -> np.ndarray:
    floor = 10.0 ** (MIN_LEVEL_DB / 20)
    return 20 * np.log10(np.maximum(floor, amplitude))


# Slaney's mel scale (librosa's default, htk=False): linear below 1 kHz, logarithmic above.
_F_SP = 200.0 / 3
_MIN_LOG_HZ = 1000.0
_MIN_LOG_MEL = _MIN_LOG_HZ / _F_SP
_LOG_STEP = np.log(6.4) / 27.0


def _hz_to_mel(hz):
    hz = np.asarray(hz, dtype=np.float64)
    return np.where(hz >= _MIN_LOG_HZ, _MIN_LOG_MEL + np.log(np.maximum(hz, 1e-10) / _MIN_LOG_HZ) / _LOG_STEP,
                    hz / _F_SP)


def _mel_to_hz(mel):
    mel = np.asarray(mel, dtype=np.float64)
    return np.where(mel >= _MIN_LOG_MEL, _MIN_LOG_HZ * np.exp(_LOG_STEP * (mel - _MIN_LOG_MEL)), _F_SP * mel)
