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
    return melspectrogram_of_emphasised(signal.lfilter([1.0, -PREEMPHASIS], [1.0], samples))


def melspectrogram_of_emphasised(emphasised: np.ndarray) -> np.ndarray:
    """``melspectrogram`` after the pre-emphasis filter."""
    return _mel_columns(_stft_frames(emphasised))


def _mel_columns(frames: np.ndarray) -> np.ndarray:
    """STFT frames (n, 800) of the emphasised audio -> normalised log-mel columns float32 (80, n)."""
    window = signal.get_window("hann", WIN_SAMPLES, fftbins=True)
    spectra = np.fft.rfft(frames * window, n=N_FFT, axis=1).T
    mel_db = _amp_to_db(mel_basis() @ np.abs(spectra)) - REF_LEVEL_DB
    normalised = 2 * MAX_ABS_VALUE * (mel_db - MIN_LEVEL_DB) / -MIN_LEVEL_DB - MAX_ABS_VALUE
    return np.clip(normalised, -MAX_ABS_VALUE, MAX_ABS_VALUE).astype(np.float32)


def window_lookahead_s(fps: float) -> float:
    """How much audio after a frame's time its window needs: 16 mel frames from the frame's column on,
    the last one centred 15 columns later and reaching half an FFT further."""
    return (WINDOW_MEL_FRAMES - 1) / MEL_FRAMES_PER_S + (N_FFT // 2) / SAMPLE_RATE_HZ + 1.0 / fps


class MelStream:
    """``melspectrogram`` of a stream, column by column as the audio comes, equal to the whole
    recording's (the pre-emphasis filter carries its state; a column is made once its 800 samples are
    in; ``flush`` makes the last ones with the end padding a whole recording gets). Keeps only the
    audio the next columns need."""

    def __init__(self):
        self._state = signal.lfilter_zi([1.0, -PREEMPHASIS], [1.0]) * 0.0
        self._emphasised = np.zeros(0, np.float64)  # from stream sample _first on
        self._first = 0
        self._head = np.zeros(0, np.float64)  # the first N_FFT // 2 + 1 samples: the start's reflection
        self._received = 0
        self.columns_made = 0

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Next audio -> the mel columns it completes: float32 (80, n)."""
        x = np.asarray(samples, np.float64).reshape(-1)
        out, self._state = signal.lfilter([1.0, -PREEMPHASIS], [1.0], x, zi=self._state)
        self._emphasised = np.concatenate([self._emphasised, out])
        self._received += len(x)
        if len(self._head) <= N_FFT // 2:
            self._head = np.concatenate([self._head, out])[:N_FFT // 2 + 1]
        if len(self._head) <= N_FFT // 2:
            return np.zeros((NUM_MELS, 0), np.float32)  # the start's reflection needs 401 samples
        complete = (self._received - N_FFT // 2) // HOP_SAMPLES + 1  # columns whose 800 samples are in
        return self._columns(complete, at_end=False)

    def flush(self) -> np.ndarray:
        """End of stream -> the remaining columns (a whole recording has len // 200 + 1)."""
        return self._columns(self._received // HOP_SAMPLES + 1, at_end=True)

    def _columns(self, end: int, at_end: bool) -> np.ndarray:
        """Columns ``columns_made .. end - 1``: column j is stream samples 200 j - 400 .. 200 j + 399,
        reflected at the start (and, ``at_end``, at the end), as ``melspectrogram`` pads."""
        if end <= self.columns_made:
            return np.zeros((NUM_MELS, 0), np.float32)
        n, pad = self._received, N_FFT // 2
        if n <= pad:  # a stream this short: nothing was made or forgotten, and it is zero-padded whole
            columns = melspectrogram_of_emphasised(self._emphasised)
            self.columns_made = end
            return columns
        t = (HOP_SAMPLES * np.arange(self.columns_made, end))[:, None] + np.arange(-pad, pad)[None, :]
        t = np.abs(t)  # numpy's reflect padding at the start: e[1], e[2], ...
        if at_end:
            t = np.where(t >= n, 2 * (n - 1) - t, t)
        frames = np.where(t < len(self._head), self._head[np.minimum(t, len(self._head) - 1)],
                          self._emphasised[np.clip(t - self._first, 0, len(self._emphasised) - 1)])
        self.columns_made = end
        self._forget()
        return _mel_columns(frames)

    def _forget(self) -> None:
        """Keep the samples from the next column's first one on."""
        keep_from = max(0, HOP_SAMPLES * self.columns_made - N_FFT // 2 - 1)  # the end's reflection reaches one further
        if keep_from > self._first:
            self._emphasised = self._emphasised[keep_from - self._first:]
            self._first = keep_from


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


def _stft_frames(samples: np.ndarray) -> np.ndarray:
    """(len // 200 + 1, 800): centred frames (reflect padding, as librosa 0.7)."""
    pad = N_FFT // 2
    mode = "reflect" if len(samples) > pad else "constant"
    padded = np.pad(samples, pad, mode=mode)
    num_cols = 1 + (len(padded) - N_FFT) // HOP_SAMPLES
    return np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP_SAMPLES][:num_cols]


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
