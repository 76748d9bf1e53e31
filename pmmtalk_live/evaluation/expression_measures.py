"""Measures of the face above the mouth against independent references, for ``expression_report``.

- **events** in a curve (``rise_events``): local maxima that rise at least ``min_rise`` above the lowest
  value since the previous event; a brow raise is one in BrowInnerUp, a nod one in HeadPitch once the
  slow idle sway is taken out (``without_sway``);
- **reference events** from Praat (``praat_accents``, ``stressed_vowels``): pitch accents and stressed
  syllables, by a tracker that shares nothing with ours (``praat-parselmouth``);
- **coincidence** (``coincidence``): the share of events within ``window_s`` of a reference event,
  against a control: the same events circularly shifted by random offsets inside the spoken span of
  their recording, ``shuffles`` times, giving the rate chance gives, a z and a one-sided p; beside
  it, the share of reference events with an event within ``window_s`` (how many the face marks);
- **speech and pauses** (``speech_mask``, ``settled_pause_mask``) from the reference phones.

Times in seconds, tracks as (T,) arrays at ``fps``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..tracks import Phone

VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"})
"""The ARPAbet vowels: the syllable nuclei of the reference phones."""
ACCENT_PROMINENCE_ST = 2.0
"""A Praat F0 peak is an accent when it stands this many semitones above the F0 minima on both sides
within ``ACCENT_REACH_S`` (on the one side with voicing, at the edge of a voiced stretch)."""
ACCENT_REACH_S = 0.3
ACCENT_MIN_GAP_S = 0.15
STRESSED_SHARE = 0.4
"""Per recording, this share of the vowels with the highest z(intensity) + z(pitch) is stressed."""
PAUSE_MIN_S = 0.3
"""A silence this long is a pause; its first ``PAUSE_MIN_S`` is left to the face to settle."""
SWAY_WINDOW_S = 0.5
"""The moving average taken out of HeadPitch before looking for nods (the idle sway is slower)."""


# --- events in a curve -----------------------------------------------------------------------------

def rise_events(track: np.ndarray, fps: float, min_rise: float) -> np.ndarray:
    """Times (s) of the local maxima of ``track`` (T,) that rise ``min_rise`` or more above the lowest
    value since the previous such maximum (or the start). A plateau counts once, at its first frame."""
    x = np.asarray(track, np.float64)
    times, low = [], np.inf
    for i in range(len(x)):
        low = min(low, x[i])
        if 0 < i < len(x) - 1 and x[i] > x[i - 1] and x[i] >= x[i + 1] and x[i] - low >= min_rise:
            times.append(i / fps)
            low = x[i]
    return np.asarray(times, np.float64)


def without_sway(track: np.ndarray, fps: float, window_s: float = SWAY_WINDOW_S) -> np.ndarray:
    """``track`` (T,) minus its centred moving average over ``window_s`` (edges: the average of what
    there is)."""
    x = np.asarray(track, np.float64)
    n = max(1, int(round(window_s * fps)))
    kernel = np.ones(n)
    mean = np.convolve(x, kernel, "same") / np.convolve(np.ones_like(x), kernel, "same")
    return x - mean


# --- coincidence with a shuffled-timing control ----------------------------------------------------------

@dataclass
class Recording:
    """One recording's events and reference events (s) and its spoken span ``(start_s, end_s)``: the
    control shifts events inside it."""

    events_s: np.ndarray
    reference_s: np.ndarray
    span_s: tuple[float, float]


@dataclass
class Coincidence:
    events: int
    hits: int
    chance_rate: float
    chance_std: float
    p_value: float
    """One-sided: the share of shuffles whose hit rate reached the observed one (counting the observed)."""
    references: int = 0
    found: int = 0
    """Reference events inside the spans, and those with an event within the window."""

    @property
    def hit_rate(self) -> float:
        return self.hits / self.events if self.events else float("nan")

    @property
    def found_rate(self) -> float:
        return self.found / self.references if self.references else float("nan")

    @property
    def z(self) -> float:
        return (self.hit_rate - self.chance_rate) / self.chance_std if self.chance_std > 0 else float("nan")


def _hits(events_s: np.ndarray, reference_s: np.ndarray, window_s: float) -> int:
    if len(events_s) == 0 or len(reference_s) == 0:
        return 0
    nearest = np.abs(np.asarray(events_s)[:, None] - np.asarray(reference_s)[None, :]).min(axis=1)
    return int(np.count_nonzero(nearest <= window_s))


def _in_span(times: np.ndarray, span: tuple[float, float]) -> np.ndarray:
    return times[(times >= span[0]) & (times < span[1])]


def coincidence(recordings: list[Recording], window_s: float, shuffles: int = 1000, seed: int = 0) -> Coincidence:
    """Events within ``window_s`` of a reference event, pooled over recordings (only events inside their
    recording's span count), against the same events circularly shifted inside each span by a uniform
    random offset, ``shuffles`` times (one offset per recording and shuffle)."""
    rng = np.random.default_rng(seed)
    spans = [(_in_span(r.events_s, r.span_s), r.reference_s, r.span_s) for r in recordings]
    events = sum(len(e) for e, _, _ in spans)
    hits = sum(_hits(e, ref, window_s) for e, ref, _ in spans)
    references = sum(len(_in_span(ref, span)) for _, ref, span in spans)
    found = sum(_hits(_in_span(ref, span), e, window_s) for e, ref, span in spans)
    if events == 0:
        return Coincidence(0, 0, float("nan"), float("nan"), float("nan"), references, 0)
    shuffled = np.zeros(shuffles)
    for k in range(shuffles):
        for e, ref, (lo, hi) in spans:
            if len(e):
                moved = lo + (e - lo + rng.uniform(0.0, hi - lo)) % (hi - lo)
                shuffled[k] += _hits(moved, ref, window_s)
    rates = shuffled / events
    p = (1 + np.count_nonzero(shuffled >= hits)) / (shuffles + 1)
    return Coincidence(events, hits, float(rates.mean()), float(rates.std()), float(p), references, found)


# --- speech and pauses from the reference phones ------------------------------------------------------------

def spoken_span(phones: list[Phone]) -> tuple[float, float]:
    """From the first spoken phone's start to the last one's end (s)."""
    spoken = [p for p in phones if p.label != "SIL"]
    return (spoken[0].start_s, spoken[-1].end_s) if spoken else (0.0, 0.0)


def speech_mask(phones: list[Phone], num_frames: int, fps: float) -> np.ndarray:
    """(num_frames,) bool: the frame's time lies in a spoken (not SIL) phone."""
    times = np.arange(num_frames) / fps
    mask = np.zeros(num_frames, bool)
    for p in phones:
        if p.label != "SIL":
            mask |= (times >= p.start_s) & (times < p.end_s)
    return mask


def pause_age(phones: list[Phone], num_frames: int, fps: float) -> np.ndarray:
    """(num_frames,) seconds since the silence a frame lies in began (SIL phones, gaps, before the
    first and after the last spoken phone; a silence at the start began at 0); NaN in speech."""
    speech = speech_mask(phones, num_frames, fps)
    age = np.full(num_frames, np.nan)
    start = 0
    for i in range(num_frames):
        if speech[i]:
            start = i + 1
        else:
            age[i] = (i - start) / fps
    return age


def settled_pause_mask(phones: list[Phone], num_frames: int, fps: float, min_s: float = PAUSE_MIN_S) -> np.ndarray:
    """(num_frames,) bool: frames of silences at least ``min_s`` long, leaving out each silence's first
    ``min_s`` (the face's time to settle)."""
    return pause_age(phones, num_frames, fps) >= min_s


# --- Praat references ---------------------------------------------------------------------------------

def require_praat():
    """The ``parselmouth`` module; ImportError with one line saying how to install it."""
    try:
        import parselmouth
    except ImportError:
        raise ImportError("the expression report needs Praat: pip install praat-parselmouth "
                          "(a dev dependency)") from None
    return parselmouth


@dataclass
class PraatTracks:
    """Praat's analysis of one recording on a 10 ms grid: ``times_s``, ``f0_st`` (semitones re 100 Hz,
    NaN where unvoiced) and ``intensity_db``."""

    times_s: np.ndarray
    f0_st: np.ndarray
    intensity_db: np.ndarray


def praat_tracks(samples: np.ndarray, sample_rate_hz: int, step_s: float = 0.01) -> PraatTracks:
    """Praat's autocorrelation pitch (75-500 Hz) and intensity of (N,) float samples."""
    parselmouth = require_praat()
    sound = parselmouth.Sound(np.asarray(samples, np.float64), sampling_frequency=sample_rate_hz)
    pitch = sound.to_pitch(time_step=step_s, pitch_floor=75.0, pitch_ceiling=500.0)
    times = pitch.xs()
    f0 = pitch.selected_array["frequency"]
    f0_st = np.where(f0 > 0, 12.0 * np.log2(np.maximum(f0, 1e-9) / 100.0), np.nan)
    intensity = sound.to_intensity(minimum_pitch=75.0, time_step=step_s)
    db = np.interp(times, intensity.xs(), intensity.values[0])
    return PraatTracks(np.asarray(times), f0_st, db)


def praat_accents(tracks: PraatTracks, prominence_st: float = ACCENT_PROMINENCE_ST,
                  reach_s: float = ACCENT_REACH_S) -> np.ndarray:
    """Pitch accents (s): voiced F0 maxima (the highest within ``ACCENT_MIN_GAP_S``) standing
    ``prominence_st`` above the voiced minima before and after them within ``reach_s`` (both, where
    both sides have voicing), as loud as the recording's median voiced intensity or louder."""
    t, f0, db = tracks.times_s, tracks.f0_st, tracks.intensity_db
    voiced = ~np.isnan(f0)
    if voiced.sum() < 3:
        return np.zeros(0)
    loud = np.median(db[voiced])
    step = t[1] - t[0] if len(t) > 1 else 0.01
    reach, gap = int(round(reach_s / step)), max(1, int(round(ACCENT_MIN_GAP_S / step)))
    accents: list[float] = []
    for i in np.flatnonzero(voiced):
        near = f0[max(0, i - gap):i + gap + 1]
        if f0[i] < np.nanmax(near) or db[i] < loud:
            continue
        sides = [f0[max(0, i - reach):i], f0[i + 1:i + reach + 1]]
        bases = [np.nanmin(side) for side in sides if np.any(~np.isnan(side))]
        if bases and f0[i] - max(bases) >= prominence_st and (not accents or t[i] - accents[-1] >= ACCENT_MIN_GAP_S):
            accents.append(float(t[i]))
    return np.asarray(accents)


def stressed_vowels(tracks: PraatTracks, phones: list[Phone], share: float = STRESSED_SHARE) -> np.ndarray:
    """Centres (s) of the vowels among ``phones`` whose z(mean intensity) + z(peak F0) is in the top
    ``share`` of the recording's vowels (a vowel with no voiced frame gets the median F0)."""
    vowels = [p for p in phones if p.label in VOWELS]
    if not vowels:
        return np.zeros(0)
    t = tracks.times_s
    loudness, pitch = [], []
    for p in vowels:
        inside = (t >= p.start_s) & (t < p.end_s)
        if not inside.any():
            inside = np.abs(t - 0.5 * (p.start_s + p.end_s)) == np.abs(t - 0.5 * (p.start_s + p.end_s)).min()
        loudness.append(tracks.intensity_db[inside].mean())
        f0 = tracks.f0_st[inside]
        pitch.append(np.nanmax(f0) if np.any(~np.isnan(f0)) else np.nan)
    pitch_arr = np.asarray(pitch)
    pitch_arr[np.isnan(pitch_arr)] = np.nanmedian(pitch_arr) if np.any(~np.isnan(pitch_arr)) else 0.0
    score = _z(np.asarray(loudness)) + _z(pitch_arr)
    keep = max(1, int(round(share * len(vowels))))
    chosen = np.argsort(-score, kind="stable")[:keep]
    return np.sort([0.5 * (vowels[i].start_s + vowels[i].end_s) for i in chosen])


def _z(x: np.ndarray) -> np.ndarray:
    std = x.std()
    return (x - x.mean()) / std if std > 0 else np.zeros_like(x)
