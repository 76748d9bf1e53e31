"""Co-articulation: timed phones -> the 32 model coefficients (``render_phones``).

Each phone becomes one or two *segments* (diphthongs glide between two targets). A segment has a
target pose over the 32 channels (its viseme's pose) and a dominance function over time (Cohen and
Massaro, 1993): flat over the middle of the segment, falling off before it (anticipation) and after
it (carry-over). Every frame is the dominance-weighted mean of the targets, so neighbouring phones
overlap and blend and nothing switches on or off.

Two things no average can do are added on top:

- **Lip seal**: bilabials (P B M) must actually close the lips even when the jaw stays partly open
  from the neighbouring vowels (as in "a map"). The bilabials' share of the dominance at each frame
  drives ``mouthClose`` up to ``jawOpen`` and takes the lip-opening shapes away.
- **Loudness**: the opening shapes scale with the audio envelope, so shouting opens wider than
  murmuring, and a voice that fades fades the mouth with it.

``render_phones`` is a pure function of a timed phone list: the phonetic animator (offline and live,
``animators/``), the teacher that labels synthetic training data, the evaluation's reference, and the
model's ``visemes`` pseudo-text all render through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import rig
from ..tracks import CurveTrack, Phone

# --- the visemes -------------------------------------------------------------------------------

VISEME_OF_PHONE: dict[str, str] = {
    "SIL": "sil",
    "P": "PP", "B": "PP", "M": "PP",
    "F": "FF", "V": "FF",
    "TH": "TH", "DH": "TH",
    "T": "DD", "D": "DD",
    "N": "nn", "L": "nn",
    "K": "kk", "G": "kk", "NG": "kk",
    "CH": "CH", "JH": "CH", "SH": "CH", "ZH": "CH",
    "S": "SS", "Z": "SS",
    "R": "RR", "ER": "RR",
    "AA": "aa", "AE": "aa", "AH": "aa", "AO": "aa",
    "EH": "E",
    "IH": "ih", "IY": "ih", "Y": "ih",
    "UW": "ou", "UH": "ou", "W": "ou",
    "HH": "hh",
}
"""ARPAbet phone -> viseme (the Oculus names, plus ``hh`` for the aspirate that takes its vowel's shape).
Diphthongs (AW AY EY OW OY) are in ``DIPHTHONGS``."""

DIPHTHONGS: dict[str, tuple[str, str]] = {
    "AW": ("aa", "ou"), "AY": ("aa", "ih"), "EY": ("E", "ih"), "OW": ("oh", "ou"), "OY": ("oh", "ih"),
}
"""Phones that glide: the first target holds ``DIPHTHONG_SPLIT`` of the phone, the second the rest."""
DIPHTHONG_SPLIT = 0.6


def _both(name: str, value: float) -> dict[str, float]:
    """``mouthSmile`` -> both ``mouthSmileLeft`` and ``mouthSmileRight``."""
    return {f"{name}Left": value, f"{name}Right": value}


VISEME_POSES: dict[str, dict[str, float]] = {
    "sil": {},
    "PP": {"jawOpen": 0.05, "mouthClose": 0.05, **_both("mouthPress", 0.35),
           "mouthRollLower": 0.1, "mouthRollUpper": 0.06},
    "FF": {"jawOpen": 0.1, "mouthClose": 0.03, "mouthRollLower": 0.55, "mouthShrugUpper": 0.15,
           **_both("mouthUpperUp", 0.22)},
    "TH": {"jawOpen": 0.16, **_both("mouthUpperUp", 0.1), **_both("mouthStretch", 0.1)},
    "DD": {"jawOpen": 0.15, **_both("mouthStretch", 0.12), **_both("mouthUpperUp", 0.08),
           **_both("mouthLowerDown", 0.05)},
    "nn": {"jawOpen": 0.14, **_both("mouthStretch", 0.08), **_both("mouthLowerDown", 0.04)},
    "kk": {"jawOpen": 0.2, **_both("mouthStretch", 0.1), **_both("mouthLowerDown", 0.06)},
    "CH": {"jawOpen": 0.12, "mouthFunnel": 0.45, "mouthPucker": 0.2, "mouthShrugUpper": 0.25,
           "mouthShrugLower": 0.15, **_both("mouthUpperUp", 0.15), **_both("mouthLowerDown", 0.1)},
    "SS": {"jawOpen": 0.06, **_both("mouthStretch", 0.22), **_both("mouthSmile", 0.12),
           **_both("mouthUpperUp", 0.08), **_both("mouthLowerDown", 0.08)},
    "RR": {"jawOpen": 0.15, "mouthFunnel": 0.3, "mouthPucker": 0.3},
    "aa": {"jawOpen": 0.6, **_both("mouthLowerDown", 0.3), **_both("mouthUpperUp", 0.12),
           **_both("mouthStretch", 0.08)},
    "E": {"jawOpen": 0.38, **_both("mouthStretch", 0.3), **_both("mouthLowerDown", 0.2),
          **_both("mouthSmile", 0.1)},
    "ih": {"jawOpen": 0.2, **_both("mouthSmile", 0.25), **_both("mouthStretch", 0.3),
           **_both("mouthUpperUp", 0.08)},
    "oh": {"jawOpen": 0.38, "mouthFunnel": 0.5, "mouthPucker": 0.2, **_both("mouthLowerDown", 0.1)},
    "ou": {"jawOpen": 0.12, "mouthPucker": 0.65, "mouthFunnel": 0.3},
    "hh": {"jawOpen": 0.25, **_both("mouthLowerDown", 0.1)},
}
"""Target pose of each viseme over the 32 channels (absent channels are 0)."""

PHONE_POSES: dict[str, dict[str, float]] = {
    "AA": {"jawOpen": 0.66},
    "AE": {"jawOpen": 0.55, **_both("mouthStretch", 0.22)},
    "AH": {"jawOpen": 0.48},
    "AO": {"jawOpen": 0.58, "mouthFunnel": 0.25},
    "IY": {"jawOpen": 0.14, **_both("mouthSmile", 0.3)},
    "UH": {"jawOpen": 0.2, "mouthPucker": 0.45},
    "W": {"jawOpen": 0.06, "mouthPucker": 0.75},
    "ER": {"jawOpen": 0.22},
    "M": {**_both("mouthPress", 0.22)},
}
"""Per-phone adjustments on top of the viseme pose (only the channels that differ)."""


@dataclass(frozen=True)
class Dominance:
    """How strongly a viseme holds its target and how far its influence reaches.

    ``strength`` is the dominance on the segment's plateau; ``plateau`` the share of the segment's
    half-length held at full strength; ``anticipation_s`` and ``carryover_s`` the Gaussian widths of
    the fall-off before and after the plateau.
    """

    strength: float
    plateau: float = 0.6
    anticipation_s: float = 0.06
    carryover_s: float = 0.045


DOMINANCE: dict[str, Dominance] = {
    "sil": Dominance(0.6, plateau=0.8, anticipation_s=0.05, carryover_s=0.06),
    "PP": Dominance(6.0, plateau=0.7, anticipation_s=0.03, carryover_s=0.025),
    "FF": Dominance(3.0, plateau=0.6, anticipation_s=0.035, carryover_s=0.03),
    "TH": Dominance(1.2),
    "DD": Dominance(0.6, anticipation_s=0.04, carryover_s=0.03),
    "nn": Dominance(0.6, anticipation_s=0.04, carryover_s=0.03),
    "kk": Dominance(0.6, anticipation_s=0.04, carryover_s=0.03),
    "CH": Dominance(2.0, anticipation_s=0.07),
    "SS": Dominance(1.2),
    "RR": Dominance(1.2, anticipation_s=0.07),
    "aa": Dominance(1.0),
    "E": Dominance(1.0),
    "ih": Dominance(1.0),
    "oh": Dominance(1.4, anticipation_s=0.08),
    "ou": Dominance(1.6, anticipation_s=0.09, carryover_s=0.06),
    "hh": Dominance(0.3),
}
"""Consonants made with the lips (PP FF) dominate, so they reach their target whatever surrounds them;
tongue consonants (DD nn kk) are weak, so the lips keep the neighbouring vowel's shape; rounded vowels
anticipate far (lips round before an "oo" starts)."""

OPENING_CHANNELS: tuple[str, ...] = (
    "jawOpen", "mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight",
)
"""The channels that open the mouth: scaled by loudness, taken away by the lip seal."""

LOUDNESS_GAIN = (0.55, 1.15)
"""jawOpen and the other opening shapes are scaled from the first factor (silence) to the second
(the speech's reference level)."""

_VISEMES = tuple(VISEME_POSES)
_POSE_MATRIX = np.zeros((len(_VISEMES), rig.NUM_COEFFS), np.float32)
for _i, _v in enumerate(_VISEMES):
    for _ch, _val in VISEME_POSES[_v].items():
        _POSE_MATRIX[_i, rig.CHANNEL_INDEX[_ch]] = _val
_OPENING_IDX = np.array([rig.CHANNEL_INDEX[c] for c in OPENING_CHANNELS])
_JAW, _CLOSE = rig.CHANNEL_INDEX["jawOpen"], rig.CHANNEL_INDEX["mouthClose"]


def phone_pose(phone: str, viseme: str | None = None) -> np.ndarray:
    """Target pose of a phone (or of one half of a diphthong), shape (32,)."""
    return _pose(phone, viseme or viseme_of(phone)).copy()


@lru_cache(maxsize=1024)
def _pose(phone: str, viseme: str) -> np.ndarray:
    """``phone_pose``, built once per (phone, viseme) and read-only: the live renderer asks for the
    same few dozen poses every frame."""
    pose = _POSE_MATRIX[_VISEMES.index(viseme)].copy()
    if viseme == VISEME_OF_PHONE.get(phone):
        for ch, val in PHONE_POSES.get(phone, {}).items():
            pose[rig.CHANNEL_INDEX[ch]] = val
    pose.flags.writeable = False
    return pose


def viseme_of(phone: str) -> str:
    """The viseme of an ARPAbet phone (a diphthong's first half); unknown labels count as silence."""
    if phone in DIPHTHONGS:
        return DIPHTHONGS[phone][0]
    return VISEME_OF_PHONE.get(phone, "sil")


# --- rendering -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Segment:
    start_s: float
    end_s: float
    pose: np.ndarray
    dominance: Dominance
    bilabial: bool


def _segments(phones: list[Phone]) -> list[_Segment]:
    segments = []
    for p in phones:
        if p.end_s <= p.start_s:
            continue
        if p.label in DIPHTHONGS:
            first, second = DIPHTHONGS[p.label]
            mid = p.start_s + DIPHTHONG_SPLIT * p.duration_s
            parts = [(p.start_s, mid, first), (mid, p.end_s, second)]
        else:
            parts = [(p.start_s, p.end_s, viseme_of(p.label))]
        for start, end, viseme in parts:
            segments.append(_Segment(start, end, _pose(p.label, viseme), DOMINANCE[viseme],
                                     viseme == "PP"))
    return segments


REACH_WIDTHS = 3.0
"""A segment's influence is cut off this many fall-off widths past its plateau (exp(-9) ~ 1e-4)."""

REACH_S = REACH_WIDTHS * max(max(d.anticipation_s, d.carryover_s) for d in DOMINANCE.values())
"""How far before its start and after its end a phone can move the face (the plateau lies inside the
phone): a frame depends only on the phones within this distance."""


def render_phones(phones: list[Phone], num_frames: int, fps: float,
                  loudness: np.ndarray | None = None, first_frame: int = 0) -> CurveTrack:
    """The 32 coefficients for a timed phone list: co-articulated visemes, lip seal, loudness.

    phones: timed ARPAbet phones (``SIL`` for silence), times in seconds from frame 0.
    num_frames: frames to render; frame k shows time k / fps.
    loudness: optional (num_frames,) envelope in 0..1 scaling the opening shapes; None = constant 1.
    first_frame: render frames ``first_frame .. first_frame + num_frames - 1`` only (a window of a
        longer take: the live animator renders a few frames at a time, each exactly as the whole take
        would have it, given the phones within ``REACH_S`` of the window).
    Returns a CurveTrack over ``rig.MODEL_CHANNELS``, values in 0..1. Frames no phone reaches are
    the closed neutral pose.
    """
    times = (first_frame + np.arange(num_frames, dtype=np.float64)) / fps
    weighted = np.zeros((num_frames, rig.NUM_COEFFS), np.float64)
    total = np.full(num_frames, 1e-3)  # a faint pull to neutral where no phone reaches
    sealed = np.zeros(num_frames)

    for seg in _segments(phones):
        d = seg.dominance
        half = 0.5 * (seg.end_s - seg.start_s)
        centre = seg.start_s + half
        plateau = d.plateau * half
        lo = np.searchsorted(times, centre - plateau - REACH_WIDTHS * d.anticipation_s)
        hi = np.searchsorted(times, centre + plateau + REACH_WIDTHS * d.carryover_s, side="right")
        if hi <= lo:
            continue
        offset = times[lo:hi] - centre
        beyond = np.maximum(np.abs(offset) - plateau, 0.0)
        width = np.where(offset < 0, d.anticipation_s, d.carryover_s)
        dom = d.strength * np.exp(-((beyond / width) ** 2))
        weighted[lo:hi] += dom[:, None] * seg.pose
        total[lo:hi] += dom
        if seg.bilabial:
            sealed[lo:hi] += dom

    coeffs = weighted / total[:, None]
    seal = sealed / total

    if loudness is not None:
        loudness = np.asarray(loudness, np.float64)[:num_frames]
        gain = LOUDNESS_GAIN[0] + (LOUDNESS_GAIN[1] - LOUDNESS_GAIN[0]) * loudness
        coeffs[: len(gain), _OPENING_IDX] *= gain[:, None]

    # The lips meet however open the jaw is: mouthClose cancels jawOpen, the lip-opening shapes go.
    coeffs[:, _CLOSE] = np.maximum(coeffs[:, _CLOSE], seal * coeffs[:, _JAW])
    coeffs[:, _OPENING_IDX[1:]] *= (1.0 - seal)[:, None]
    return CurveTrack(rig.MODEL_CHANNELS, np.clip(coeffs, 0.0, 1.0), fps)
