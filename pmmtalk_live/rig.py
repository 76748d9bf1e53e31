"""The curve sets this project speaks: the model's 32 channels, the 61 Live Link Face names, groups.

Three spellings of the same ARKit shapes meet here:

- **source channels** (camelCase, Apple's spelling): what the animators produce. The first 32 are the
  model's coefficients (``MODEL_CHANNELS``, ARKit's lower face in ARKit's order); the rest
  (``IDLE_CHANNELS``) are eyes, brows, tongue, head and eye rotations, filled by the idle layer.
- **Live Link Face names** (PascalCase, Unreal's spelling) in wire (enum) order: ``LIVE_LINK_FACE_NAMES``.
- **CSV columns**: the Live Link Face take header, which swaps two pairs against the wire order.

Blendshape values are in 0..1; head and eye rotations are signed radians.

The **lip aperture** is how far apart the lips are, read from the curves (``lip_aperture``):

    aperture = clip(jawOpen - mouthClose, 0, 1)
               + 0.5 * mean(mouthLowerDownLeft/Right) + 0.5 * mean(mouthUpperUpLeft/Right)

``jawOpen - mouthClose`` is the ARKit convention (mouthClose brings the lips together while the jaw
is open); the lower-down and upper-up shapes pull the lips apart from the teeth. 0 means the lips
meet; an open "ah" reaches about 0.5 to 0.9. Below ``CLOSED_APERTURE`` the lips are closed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

MODEL_CHANNELS: tuple[str, ...] = (
    "jawForward", "jawLeft", "jawRight", "jawOpen",
    "mouthClose", "mouthFunnel", "mouthPucker", "mouthLeft", "mouthRight",
    "mouthSmileLeft", "mouthSmileRight", "mouthFrownLeft", "mouthFrownRight",
    "mouthDimpleLeft", "mouthDimpleRight", "mouthStretchLeft", "mouthStretchRight",
    "mouthRollLower", "mouthRollUpper", "mouthShrugLower", "mouthShrugUpper",
    "mouthPressLeft", "mouthPressRight", "mouthLowerDownLeft", "mouthLowerDownRight",
    "mouthUpperUpLeft", "mouthUpperUpRight",
    "cheekPuff", "cheekSquintLeft", "cheekSquintRight", "noseSneerLeft", "noseSneerRight",
)
"""The 32 coefficients PMMTalk predicts, in this order (docs/reference/curves.md)."""

NUM_COEFFS = len(MODEL_CHANNELS)
CHANNEL_INDEX: dict[str, int] = {name: i for i, name in enumerate(MODEL_CHANNELS)}

LIVE_LINK_FACE_NAMES: tuple[str, ...] = (
    "EyeBlinkLeft", "EyeLookDownLeft", "EyeLookInLeft", "EyeLookOutLeft", "EyeLookUpLeft",
    "EyeSquintLeft", "EyeWideLeft",
    "EyeBlinkRight", "EyeLookDownRight", "EyeLookInRight", "EyeLookOutRight", "EyeLookUpRight",
    "EyeSquintRight", "EyeWideRight",
    "JawForward", "JawLeft", "JawRight", "JawOpen",
    "MouthClose", "MouthFunnel", "MouthPucker", "MouthLeft", "MouthRight",
    "MouthSmileLeft", "MouthSmileRight", "MouthFrownLeft", "MouthFrownRight",
    "MouthDimpleLeft", "MouthDimpleRight", "MouthStretchLeft", "MouthStretchRight",
    "MouthRollLower", "MouthRollUpper", "MouthShrugLower", "MouthShrugUpper",
    "MouthPressLeft", "MouthPressRight", "MouthLowerDownLeft", "MouthLowerDownRight",
    "MouthUpperUpLeft", "MouthUpperUpRight",
    "BrowDownLeft", "BrowDownRight", "BrowInnerUp", "BrowOuterUpLeft", "BrowOuterUpRight",
    "CheekPuff", "CheekSquintLeft", "CheekSquintRight",
    "NoseSneerLeft", "NoseSneerRight",
    "TongueOut",
    "HeadYaw", "HeadPitch", "HeadRoll",
    "LeftEyeYaw", "LeftEyePitch", "LeftEyeRoll",
    "RightEyeYaw", "RightEyePitch", "RightEyeRoll",
)
"""The 61 values of a Live Link Face packet, in wire order (docs/reference/live-link-face.md section 1)."""

NUM_LIVE_LINK_FACE = len(LIVE_LINK_FACE_NAMES)
ROTATION_NAMES: frozenset[str] = frozenset(LIVE_LINK_FACE_NAMES[52:])
"""Signed head and eye rotations (radians); every other Live Link Face value is a 0..1 blendshape."""


def to_camel(name: str) -> str:
    """``JawOpen`` -> ``jawOpen`` (Apple's spelling)."""
    return name[:1].lower() + name[1:]


def to_pascal(name: str) -> str:
    """``jawOpen`` -> ``JawOpen`` (Unreal's spelling)."""
    return name[:1].upper() + name[1:]


SOURCE_CHANNELS: tuple[str, ...] = tuple(to_camel(n) for n in LIVE_LINK_FACE_NAMES)
"""Every channel a preset may read from: the 61 Live Link Face shapes in camelCase, wire order."""

IDLE_CHANNELS: tuple[str, ...] = tuple(c for c in SOURCE_CHANNELS if c not in CHANNEL_INDEX)
"""The 29 source channels the model does not predict (eyes, brows, tongue, head, eye rotations)."""

CSV_COLUMNS: tuple[str, ...] = (
    ("Timecode", "BlendshapeCount")
    + LIVE_LINK_FACE_NAMES[:14]
    + ("JawForward", "JawRight", "JawLeft", "JawOpen", "MouthClose", "MouthFunnel", "MouthPucker",
       "MouthRight", "MouthLeft")
    + LIVE_LINK_FACE_NAMES[23:]
)
"""The 63 columns of a Live Link Face CSV take, verbatim: note JawRight,JawLeft and MouthRight,MouthLeft."""

MODEL_COLUMNS = np.array([SOURCE_CHANNELS.index(c) for c in MODEL_CHANNELS])
IDLE_COLUMNS = np.array([SOURCE_CHANNELS.index(c) for c in IDLE_CHANNELS])
"""Where the model's 32 coefficients and the idle layer's 29 channels sit among the source channels."""


def source_frames(model: np.ndarray, idle: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """The animator's coefficients (..., 32, ``MODEL_CHANNELS`` order) and the idle layer's channels
    (..., 29, ``IDLE_CHANNELS`` order) as source channels (..., 61, ``SOURCE_CHANNELS`` order), what a
    preset mixes from: one frame live, a whole track offline. ``out``: an array to fill (no allocation)."""
    if out is None:
        out = np.empty(np.shape(model)[:-1] + (len(SOURCE_CHANNELS),), np.float32)
    out[..., MODEL_COLUMNS] = model
    out[..., IDLE_COLUMNS] = idle
    return out


REGIONS: dict[str, tuple[str, ...]] = {
    "jaw": ("jawForward", "jawLeft", "jawRight", "jawOpen"),
    "lips": tuple(c for c in MODEL_CHANNELS if c.startswith("mouth")),
    "cheeks": ("cheekPuff", "cheekSquintLeft", "cheekSquintRight"),
    "nose": ("noseSneerLeft", "noseSneerRight"),
    "eyes": tuple(c for c in SOURCE_CHANNELS if c.startswith(("eye", "leftEye", "rightEye"))),
    "brows": tuple(c for c in SOURCE_CHANNELS if c.startswith("brow")),
    "tongue": ("tongueOut",),
    "head": ("headYaw", "headPitch", "headRoll"),
}
"""Source channels by face region; every source channel is in exactly one region."""

REGION_OF: dict[str, str] = {c: region for region, chans in REGIONS.items() for c in chans}

LIP_OPENERS: tuple[str, ...] = ("mouthLowerDownLeft", "mouthLowerDownRight", "mouthUpperUpLeft", "mouthUpperUpRight")
"""The shapes that pull the lips apart from the teeth: the lower-down pair, then the upper-up pair."""

JAW_OPEN_INDEX, MOUTH_CLOSE_INDEX = CHANNEL_INDEX["jawOpen"], CHANNEL_INDEX["mouthClose"]
LIP_OPENER_INDICES: list[int] = [CHANNEL_INDEX[name] for name in LIP_OPENERS]
"""Where the lip aperture's channels sit among the model's 32 coefficients."""

CLOSED_APERTURE = 0.1
"""'Near zero': an aperture below this is closed lips (about a sixth of an open vowel's)."""


def lip_aperture(values: np.ndarray, names: Sequence[str] = MODEL_CHANNELS) -> np.ndarray:
    """Lip aperture per frame (see the module docstring): values (T, len(names)) -> (T,) float64, >= 0;
    a channel missing from ``names`` counts as 0."""
    def col(name: str) -> np.ndarray:
        return values[:, names.index(name)].astype(np.float64) if name in names else np.zeros(len(values))

    jaw = np.clip(col("jawOpen") - col("mouthClose"), 0.0, 1.0)
    lower = 0.5 * (col(LIP_OPENERS[0]) + col(LIP_OPENERS[1]))
    upper = 0.5 * (col(LIP_OPENERS[2]) + col(LIP_OPENERS[3]))
    return jaw + 0.5 * lower + 0.5 * upper


def _check() -> None:
    assert NUM_COEFFS == 32 and NUM_LIVE_LINK_FACE == 61 and len(CSV_COLUMNS) == 63
    assert set(CSV_COLUMNS[2:]) == set(LIVE_LINK_FACE_NAMES)
    assert set(MODEL_CHANNELS) <= set(SOURCE_CHANNELS)
    assert sorted(REGION_OF) == sorted(SOURCE_CHANNELS), "each source channel in one region"
    assert sum(len(v) for v in REGIONS.values()) == len(SOURCE_CHANNELS)


_check()
