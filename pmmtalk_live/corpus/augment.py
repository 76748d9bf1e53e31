"""Make clean synthetic speech sound like a real microphone, keeping the phone timings exact.

Two kinds of change:

- **Timing changes** move the phones with the audio: ``speed_perturb`` (resampling, 0.9-1.1x, every
  phone time scaled by exactly the same factor) and ``pad_silence`` (leading and trailing silence,
  phones shifted). The labels are rendered from the phones these return.
- **Acoustic changes** leave the timing alone (labels stay those of the clean timings):
  ``reverberate`` with a synthetic room impulse response (``room_impulse_response``), ``add_noise``
  (white, pink, brown, mains hum, babble of other synthetic speech) at a signal-to-noise ratio,
  ``equalize`` (peaking and shelving biquads), ``band_limit`` (telephone, 8 kHz sampling, cheap
  microphone) and ``apply_gain`` (with optional soft clipping).

``draw_chain(rng)`` draws one utterance's acoustic chain as plain data (a list of dicts, stored in its
meta.yaml); ``apply_chain`` applies it. All audio here is float32 mono at 16 kHz.
"""

from __future__ import annotations

import math

import numpy as np
from scipy.signal import butter, fftconvolve, lfilter, sosfilt

from ..audio.resample import resample
from ..tracks import SAMPLE_RATE_HZ, Phone

CLEAN_SHARE = 0.2
"""Utterances left without acoustic changes."""
SPEED_RANGE = (0.9, 1.1)
SILENCE_RANGE_S = (0.1, 0.6)
SNR_RANGE_DB = (5.0, 40.0)
RT60_RANGE_S = (0.1, 0.8)
GAIN_RANGE_DB = (-25.0, 6.0)
SPEECH_LEVEL_DBFS = -20.0
"""Speech is brought to this RMS (over its spoken part) before noise and gain."""
NOISE_KINDS = ("white", "pink", "brown", "hum", "babble")


# --- timing ------------------------------------------------------------------------------------------

def speed_factor_grid(factor: float) -> float:
    """``factor`` rounded to 0.01: resampling by 100 / (100 * factor) keeps the filter short."""
    return round(float(factor) * 100) / 100


def speed_perturb(samples: np.ndarray, phones: list[Phone], factor: float) -> tuple[np.ndarray, list[Phone]]:
    """Play ``samples`` ``factor`` times faster (pitch rises with it, like tape): the audio is read as if
    sampled at 16 kHz * factor and resampled to 16 kHz. Every phone time is divided by the exact
    factor used (``speed_factor_grid(factor)``)."""
    factor = speed_factor_grid(factor)
    from_hz = int(round(SAMPLE_RATE_HZ * factor))
    if from_hz == SAMPLE_RATE_HZ:
        return np.asarray(samples, np.float32), list(phones)
    out = resample(samples, from_hz, SAMPLE_RATE_HZ)
    scale = SAMPLE_RATE_HZ / from_hz
    duration_s = len(out) / SAMPLE_RATE_HZ
    moved = [Phone(p.label, p.start_s * scale, min(p.end_s * scale, duration_s), p.word) for p in phones]
    return out, moved


def pad_silence(samples: np.ndarray, phones: list[Phone], lead_s: float, trail_s: float
                ) -> tuple[np.ndarray, list[Phone]]:
    """Add ``lead_s`` of silence before and ``trail_s`` after; phones shift by ``lead_s`` and ``SIL``
    covers the new silence (merged with a pause already there)."""
    lead, trail = int(round(lead_s * SAMPLE_RATE_HZ)), int(round(trail_s * SAMPLE_RATE_HZ))
    out = np.concatenate([np.zeros(lead, np.float32), np.asarray(samples, np.float32), np.zeros(trail, np.float32)])
    shift = lead / SAMPLE_RATE_HZ
    end_s = len(out) / SAMPLE_RATE_HZ
    moved = [Phone(p.label, p.start_s + shift, p.end_s + shift, p.word) for p in phones]
    if moved and moved[0].label == "SIL":
        moved[0] = Phone("SIL", 0.0, moved[0].end_s)
    elif shift > 0:
        moved.insert(0, Phone("SIL", 0.0, shift))
    last_end = moved[-1].end_s if moved else 0.0
    if moved and moved[-1].label == "SIL":
        moved[-1] = Phone("SIL", moved[-1].start_s, end_s)
    elif end_s > last_end:
        moved.append(Phone("SIL", last_end, end_s))
    return out, moved


def spoken_span(phones: list[Phone]) -> tuple[float, float]:
    """(start, end) in seconds from the first to the last non-silent phone (the whole list if none)."""
    spoken = [p for p in phones if p.label != "SIL"] or phones
    return spoken[0].start_s, spoken[-1].end_s


# --- reverberation -------------------------------------------------------------------------------------

def room_impulse_response(rt60_s: float, rng: np.random.Generator, drr_db: float = 6.0,
                          sample_rate_hz: int = SAMPLE_RATE_HZ) -> np.ndarray:
    """A synthetic room: the direct path (1.0 at sample 0, so nothing is delayed), 3-8 early reflections
    in the first 25 ms, and a late tail of Gaussian noise decaying 60 dB in ``rt60_s``, scaled so that
    the direct path is ``drr_db`` louder than everything after it. Shape (1.2 * rt60_s * rate,), float32."""
    n = max(int(1.2 * rt60_s * sample_rate_hz), 16)
    t = np.arange(n) / sample_rate_hz
    ir = np.zeros(n)
    for _ in range(int(rng.integers(3, 9))):
        k = int(rng.uniform(0.001, 0.025) * sample_rate_hz)
        if k < n:
            ir[k] += rng.uniform(0.2, 0.6) * rng.choice((-1.0, 1.0))
    tail_start = int(0.005 * sample_rate_hz)
    decay = np.exp(-3.0 * math.log(10.0) * t / rt60_s)  # amplitude: -60 dB at rt60_s
    tail = rng.standard_normal(n) * decay
    tail[:tail_start] *= np.linspace(0.0, 1.0, tail_start)
    ir += tail
    ir[0] = 0.0
    # direct energy 1.0 over the rest's energy = drr
    ir *= math.sqrt(10.0 ** (-drr_db / 10.0) / max(float(np.sum(ir ** 2)), 1e-12))
    ir[0] = 1.0
    return ir.astype(np.float32)


def rt60_of(ir: np.ndarray, sample_rate_hz: int = SAMPLE_RATE_HZ) -> float:
    """The reverberation time of an impulse response: Schroeder's backward-integrated decay, the line
    fitted from -5 to -25 dB (T20), extrapolated to 60 dB."""
    energy = np.cumsum((np.asarray(ir, np.float64) ** 2)[::-1])[::-1]
    edc = 10.0 * np.log10(energy / energy[0] + 1e-30)
    fit = (edc <= -5.0) & (edc >= -25.0)
    t = np.arange(len(ir)) / sample_rate_hz
    slope, _ = np.polyfit(t[fit], edc[fit], 1)
    return -60.0 / slope


def reverberate(samples: np.ndarray, ir: np.ndarray) -> np.ndarray:
    """``samples`` convolved with ``ir`` (its first sample = the direct path), cut to the input length."""
    return fftconvolve(samples, ir)[: len(samples)].astype(np.float32)


# --- noise ---------------------------------------------------------------------------------------------

def colored_noise(kind: str, num_samples: int, rng: np.random.Generator) -> np.ndarray:
    """Unit-RMS noise: ``white`` (flat), ``pink`` (-3 dB per octave) or ``brown`` (-6 dB per octave)."""
    exponent = {"white": 0.0, "pink": 0.5, "brown": 1.0}[kind]
    spectrum = np.fft.rfft(rng.standard_normal(num_samples))
    freqs = np.fft.rfftfreq(num_samples, 1.0 / SAMPLE_RATE_HZ)
    spectrum *= 1.0 / np.maximum(freqs, 20.0) ** exponent  # below 20 Hz flat (no DC drift)
    spectrum[0] = 0.0
    return _unit_rms(np.fft.irfft(spectrum, num_samples))


def mains_hum(num_samples: int, rng: np.random.Generator, mains_hz: float = 50.0) -> np.ndarray:
    """Unit-RMS mains hum: ``mains_hz`` and its first harmonics with random levels and phases."""
    t = np.arange(num_samples) / SAMPLE_RATE_HZ
    hum = sum(rng.uniform(0.1, 1.0) / k * np.sin(2 * np.pi * mains_hz * k * t + rng.uniform(0, 2 * np.pi))
              for k in range(1, 8))
    return _unit_rms(hum)


def babble(num_samples: int, rng: np.random.Generator, talkers: list[np.ndarray]) -> np.ndarray:
    """Unit-RMS babble: 3 to 6 of ``talkers`` (16 kHz speech), each from a random point, looped, at
    equal level, summed."""
    out = np.zeros(num_samples)
    for _ in range(int(rng.integers(3, 7))):
        talker = talkers[int(rng.integers(len(talkers)))]
        start = int(rng.integers(len(talker)))
        looped = np.resize(np.roll(talker, -start), num_samples)
        out += _unit_rms(looped)
    return _unit_rms(out)


def add_noise(samples: np.ndarray, noise: np.ndarray, snr_db: float, span: slice = slice(None)) -> np.ndarray:
    """``samples`` + ``noise`` scaled so that the power of ``samples[span]`` (the spoken part) over the
    noise's mean power is ``snr_db``."""
    signal_power = float(np.mean(np.square(samples[span], dtype=np.float64)))
    noise_power = float(np.mean(np.square(noise, dtype=np.float64)))
    scale = math.sqrt(signal_power / max(noise_power, 1e-20) / 10.0 ** (snr_db / 10.0))
    return (samples + scale * noise).astype(np.float32)


def _unit_rms(x: np.ndarray) -> np.ndarray:
    return (x / max(float(np.sqrt(np.mean(np.square(x)))), 1e-12)).astype(np.float32)


# --- equalisation and band limits ------------------------------------------------------------------------

def biquad(kind: str, freq_hz: float, gain_db: float, q: float = 0.707,
           sample_rate_hz: int = SAMPLE_RATE_HZ) -> tuple[np.ndarray, np.ndarray]:
    """(b, a) of an RBJ-cookbook ``peaking``, ``lowshelf`` or ``highshelf`` filter."""
    a_gain = 10.0 ** (gain_db / 40.0)
    w0 = 2 * math.pi * freq_hz / sample_rate_hz
    cos_w, alpha = math.cos(w0), math.sin(w0) / (2 * q)
    if kind == "peaking":
        b = [1 + alpha * a_gain, -2 * cos_w, 1 - alpha * a_gain]
        a = [1 + alpha / a_gain, -2 * cos_w, 1 - alpha / a_gain]
    else:
        sq = 2 * math.sqrt(a_gain) * alpha
        sign = 1 if kind == "lowshelf" else -1
        b = [a_gain * ((a_gain + 1) - sign * (a_gain - 1) * cos_w + sq),
             sign * 2 * a_gain * ((a_gain - 1) - sign * (a_gain + 1) * cos_w),
             a_gain * ((a_gain + 1) - sign * (a_gain - 1) * cos_w - sq)]
        a = [(a_gain + 1) + sign * (a_gain - 1) * cos_w + sq,
             -sign * 2 * ((a_gain - 1) + sign * (a_gain + 1) * cos_w),
             (a_gain + 1) + sign * (a_gain - 1) * cos_w - sq]
    b, a = np.array(b), np.array(a)
    return b / a[0], a / a[0]


def equalize(samples: np.ndarray, bands: list[dict]) -> np.ndarray:
    """Apply each band ``{"kind", "freq_hz", "gain_db", "q"}`` (see ``biquad``) in turn."""
    out = np.asarray(samples, np.float64)
    for band in bands:
        b, a = biquad(band["kind"], band["freq_hz"], band["gain_db"], band.get("q", 0.707))
        out = lfilter(b, a, out)
    return out.astype(np.float32)


def band_limit(samples: np.ndarray, kind: str, low_hz: float = 0.0, high_hz: float = 0.0) -> np.ndarray:
    """``telephone``: 8th-order band-pass ``low_hz``-``high_hz`` (300-3400 Hz), sent through 8 kHz
    sampling; ``8khz``: down to 8 kHz and back (nothing above 4 kHz); ``cheap_mic``: high-pass at
    ``low_hz`` and 6th-order low-pass at ``high_hz``."""
    x = np.asarray(samples, np.float64)
    if kind in ("telephone", "8khz"):
        if kind == "telephone":
            x = sosfilt(butter(4, [low_hz, high_hz], "bandpass", fs=SAMPLE_RATE_HZ, output="sos"), x)
        narrow = resample(x, SAMPLE_RATE_HZ, 8000)
        return resample(narrow, 8000, SAMPLE_RATE_HZ)[: len(samples)].astype(np.float32)
    if kind == "cheap_mic":
        x = sosfilt(butter(2, low_hz, "highpass", fs=SAMPLE_RATE_HZ, output="sos"), x)
        x = sosfilt(butter(6, high_hz, "lowpass", fs=SAMPLE_RATE_HZ, output="sos"), x)
        return x.astype(np.float32)
    raise ValueError(f"unknown band limit {kind!r}")


# --- level ---------------------------------------------------------------------------------------------

def set_level(samples: np.ndarray, level_dbfs: float, span: slice = slice(None)) -> np.ndarray:
    """Scale so that the RMS of ``samples[span]`` is ``level_dbfs``."""
    rms = float(np.sqrt(np.mean(np.square(samples[span], dtype=np.float64))))
    return (samples * (10.0 ** (level_dbfs / 20.0) / max(rms, 1e-9))).astype(np.float32)


def apply_gain(samples: np.ndarray, gain_db: float, soft_clip: float | None = None) -> np.ndarray:
    """Multiply by ``gain_db``; with ``soft_clip`` = c, peaks are squashed smoothly towards c
    (``c * tanh(x / c)``: a preamp driven too hard). Anything beyond +-1 is clipped when written."""
    out = samples * 10.0 ** (gain_db / 20.0)
    if soft_clip is not None:
        out = soft_clip * np.tanh(out / soft_clip)
    return out.astype(np.float32)


# --- the chain ---------------------------------------------------------------------------------------------

def draw_chain(rng: np.random.Generator, babble_ok: bool = True) -> list[dict]:
    """One utterance's acoustic changes, in order, as plain data (empty for a clean utterance)."""
    if rng.random() < CLEAN_SHARE:
        return []
    chain: list[dict] = []
    if rng.random() < 0.5:
        chain.append({"name": "reverb", "rt60_s": round(float(rng.uniform(*RT60_RANGE_S)), 3),
                      "drr_db": round(float(rng.uniform(0.0, 12.0)), 2)})
    if rng.random() < 0.8:
        kinds = NOISE_KINDS if babble_ok else NOISE_KINDS[:-1]
        kind = str(rng.choice(kinds))
        noise = {"name": "noise", "kind": kind, "snr_db": round(float(rng.uniform(*SNR_RANGE_DB)), 2)}
        if kind == "hum":
            noise["mains_hz"] = float(rng.choice((50.0, 60.0)))
        chain.append(noise)
    if rng.random() < 0.5:
        bands = []
        for _ in range(int(rng.integers(1, 4))):
            kind = str(rng.choice(("peaking", "peaking", "lowshelf", "highshelf")))
            freq = {"peaking": (150.0, 6000.0), "lowshelf": (100.0, 400.0), "highshelf": (2000.0, 6000.0)}[kind]
            bands.append({"kind": kind, "freq_hz": round(float(np.exp(rng.uniform(*np.log(freq)))), 1),
                          "gain_db": round(float(rng.uniform(-10.0, 10.0)), 2),
                          "q": round(float(rng.uniform(0.5, 2.0)), 2) if kind == "peaking" else 0.707})
        chain.append({"name": "eq", "bands": bands})
    if rng.random() < 0.3:
        kind = str(rng.choice(("telephone", "8khz", "cheap_mic")))
        limit = {"name": "band_limit", "kind": kind}
        if kind == "telephone":
            limit.update(low_hz=300.0, high_hz=3400.0)
        elif kind == "cheap_mic":
            limit.update(low_hz=round(float(rng.uniform(80.0, 250.0)), 1),
                         high_hz=round(float(rng.uniform(3500.0, 7000.0)), 1))
        chain.append(limit)
    gain = {"name": "gain", "gain_db": round(float(rng.uniform(*GAIN_RANGE_DB)), 2)}
    if rng.random() < 0.1:
        gain["soft_clip"] = round(float(rng.uniform(0.2, 0.8)), 3)
    chain.append(gain)
    return chain


def apply_chain(samples: np.ndarray, chain: list[dict], rng: np.random.Generator, span: slice,
                talkers: list[np.ndarray] | None = None) -> np.ndarray:
    """Apply ``chain`` (from ``draw_chain``) to 16 kHz ``samples``; ``span`` is the spoken part (the
    SNR's reference). ``rng`` draws the noise and the room; ``talkers`` feed babble."""
    out = set_level(samples, SPEECH_LEVEL_DBFS, span)
    for step in chain:
        name = step["name"]
        if name == "reverb":
            out = reverberate(out, room_impulse_response(step["rt60_s"], rng, step["drr_db"]))
            out = set_level(out, SPEECH_LEVEL_DBFS, span)
        elif name == "noise":
            n = len(out)
            if step["kind"] == "hum":
                noise = mains_hum(n, rng, step["mains_hz"])
            elif step["kind"] == "babble":
                noise = babble(n, rng, talkers or [])
            else:
                noise = colored_noise(step["kind"], n, rng)
            out = add_noise(out, noise, step["snr_db"], span)
        elif name == "eq":
            out = equalize(out, step["bands"])
        elif name == "band_limit":
            out = band_limit(out, step["kind"], step.get("low_hz", 0.0), step.get("high_hz", 0.0))
        elif name == "gain":
            out = apply_gain(out, step["gain_db"], step.get("soft_clip"))
        else:
            raise ValueError(f"unknown augmentation {name!r}")
    return out
