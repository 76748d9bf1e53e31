"""Lip-sync measures on the 32 coefficients against a reference phone list.

The **lip aperture** (how far apart the lips are, read from the curves) is the rig's:
``rig.lip_aperture``. From it, against reference phones (normally from forced alignment of a transcript):

- **bilabial closure rate**: share of P/B/M phones inside words and not next to a pause during which
  the aperture falls below ``CLOSED_APERTURE``;
- **open-vowel / bilabial aperture**: mean aperture over open-vowel phones (AA AE AH AO AW AY) and
  over bilabials, and their ratio;
- **openness correlation**: Pearson correlation of the aperture with a phone-derived openness track
  (each phone's typical mouth opening, ``PHONE_OPENNESS``, as a step track at the frame rate).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import rig
from ..rig import CLOSED_APERTURE
from ..tracks import CurveTrack, Phone

BILABIALS = frozenset({"P", "B", "M"})
OPEN_VOWELS = frozenset({"AA", "AE", "AH", "AO", "AW", "AY"})

PHONE_OPENNESS: dict[str, float] = {
    "AA": 1.0, "AE": 0.9, "AH": 0.75, "AO": 0.85, "AW": 0.9, "AY": 0.9,
    "EH": 0.6, "EY": 0.55, "ER": 0.35, "IH": 0.35, "IY": 0.25, "OW": 0.6, "OY": 0.6,
    "UH": 0.3, "UW": 0.2, "HH": 0.4,
    "P": 0.0, "B": 0.0, "M": 0.0, "F": 0.1, "V": 0.1, "TH": 0.2, "DH": 0.2,
    "T": 0.2, "D": 0.2, "N": 0.2, "L": 0.25, "S": 0.1, "Z": 0.1,
    "SH": 0.2, "ZH": 0.2, "CH": 0.2, "JH": 0.2, "K": 0.3, "G": 0.3, "NG": 0.3,
    "R": 0.3, "W": 0.1, "Y": 0.2, "SIL": 0.0,
}
"""Typical mouth opening of each phone, 0 (lips together) to 1 (wide open "ah"), from phonetics
(vowel height): the reference the aperture is correlated with."""


def lip_aperture(track: CurveTrack) -> np.ndarray:
    """``rig.lip_aperture`` of a track's curves: per frame, shape (T,), >= 0."""
    return rig.lip_aperture(track.values, track.names)


def openness_track(phones: list[Phone], num_frames: int, fps: float) -> np.ndarray:
    """The phone-derived openness per frame, shape (num_frames,)."""
    track = np.zeros(num_frames)
    times = np.arange(num_frames) / fps
    for p in phones:
        lo, hi = np.searchsorted(times, [p.start_s, p.end_s])
        track[lo:hi] = PHONE_OPENNESS.get(p.label, 0.0)
    return track


def interior_bilabials(phones: list[Phone]) -> list[Phone]:
    """P/B/M phones inside a word with speech (not silence) on both sides."""
    out = []
    for i, p in enumerate(phones):
        if p.label not in BILABIALS or i == 0 or i == len(phones) - 1:
            continue
        if phones[i - 1].label == "SIL" or phones[i + 1].label == "SIL":
            continue
        out.append(p)
    return out


def _span(aperture: np.ndarray, p: Phone, fps: float) -> np.ndarray:
    """The aperture over a phone's frames (at least the nearest frame)."""
    lo = int(np.ceil(p.start_s * fps))
    hi = int(np.floor(p.end_s * fps)) + 1
    if hi <= lo:
        lo = min(int(round(0.5 * (p.start_s + p.end_s) * fps)), len(aperture) - 1)
        hi = lo + 1
    return aperture[max(lo, 0):min(hi, len(aperture))]


@dataclass
class LipSyncScores:
    closures: int
    bilabials: int
    open_vowel_aperture: float
    bilabial_aperture: float
    openness_correlation: float

    @property
    def closure_rate(self) -> float:
        return self.closures / self.bilabials if self.bilabials else float("nan")

    @property
    def aperture_ratio(self) -> float:
        return self.open_vowel_aperture / max(self.bilabial_aperture, 1e-6)


def score(track: CurveTrack, reference: list[Phone]) -> LipSyncScores:
    """Score one utterance's coefficients against its reference phones."""
    aperture = lip_aperture(track)
    bilabials = interior_bilabials(reference)
    closures = sum(1 for p in bilabials if _span(aperture, p, track.fps).min() < CLOSED_APERTURE)
    open_ap = [_span(aperture, p, track.fps).mean() for p in reference if p.label in OPEN_VOWELS]
    bil_ap = [_span(aperture, p, track.fps).mean() for p in reference if p.label in BILABIALS]
    openness = openness_track(reference, track.num_frames, track.fps)
    corr = float(np.corrcoef(aperture, openness)[0, 1]) if aperture.std() > 0 else 0.0
    return LipSyncScores(closures, len(bilabials), float(np.mean(open_ap)) if open_ap else float("nan"),
                         float(np.mean(bil_ap)) if bil_ap else float("nan"), corr)


def pooled(scores: list[LipSyncScores], weights: list[int] | None = None) -> LipSyncScores:
    """Scores over several utterances: closures summed, apertures and correlation averaged
    (weighted by ``weights``, e.g. frame counts, when given)."""
    w = np.asarray(weights if weights is not None else [1] * len(scores), np.float64)

    def avg(values: list[float]) -> float:
        v = np.asarray(values, np.float64)
        ok = ~np.isnan(v)
        return float(np.average(v[ok], weights=w[ok])) if ok.any() else float("nan")

    return LipSyncScores(sum(s.closures for s in scores), sum(s.bilabials for s in scores),
                         avg([s.open_vowel_aperture for s in scores]),
                         avg([s.bilabial_aperture for s in scores]),
                         avg([s.openness_correlation for s in scores]))


def loudness_jaw(loudness: np.ndarray, fps: float) -> CurveTrack:
    """The loudness-only baseline: jawOpen follows the audio envelope, every other channel 0."""
    values = np.zeros((len(loudness), rig.NUM_COEFFS), np.float32)
    values[:, rig.CHANNEL_INDEX["jawOpen"]] = loudness * PHONE_OPENNESS["AA"] * 0.66
    return CurveTrack(rig.MODEL_CHANNELS, values, fps)
