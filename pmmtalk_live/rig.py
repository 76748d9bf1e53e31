"""The curve sets this project speaks: the model's 32 channels, the 61 Live Link Face names, groups.

Three spellings of the same ARKit shapes meet here:

- **source channels** (camelCase, Apple's spelling): what the animators produce. The first 32 are the
  model's coefficients (``MODEL_CHANNELS``, ARKit's lower face in ARKit's order); the rest
  (``IDLE_CHANNELS``) are eyes, brows, tongue, head and eye rotations, filled by the idle layer.
- **Live Link Face names** (PascalCase, Unreal's spelling) in wire (enum) order: ``LIVE_LINK_FACE_NAMES``.
- **CSV columns**: the Live Link Face take header, which swaps two pairs against the wire order.

Blendshape values are in 0..1; head and eye rotations are signed radians.
"""

from __future__ import annotations

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
"""The 32 coefficients PMMTalk predicts, in this order (../shared/reference/curves.md)."""

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
"""The 61 values of a Live Link Face packet, in wire order (live-link-face.md section 1)."""

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


def _check() -> None:
    assert NUM_COEFFS == 32 and NUM_LIVE_LINK_FACE == 61 and len(CSV_COLUMNS) == 63
    assert set(CSV_COLUMNS[2:]) == set(LIVE_LINK_FACE_NAMES)
    assert set(MODEL_CHANNELS) <= set(SOURCE_CHANNELS)
    assert sorted(REGION_OF) == sorted(SOURCE_CHANNELS), "each source channel in one region"
    assert sum(len(v) for v in REGIONS.values()) == len(SOURCE_CHANNELS)


_check()
