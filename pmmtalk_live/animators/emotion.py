"""Emotion poses: what each mood adds to the face, and how a change of mood blends in.

An emotion is a pose over source channels (brows, eyes, cheeks, nose, mouth corners, head posture),
scaled by its intensity (0..1), plus an *articulation* factor for the mouth. The pose never touches the
channels the lip aperture is made of (``rig.lip_aperture``: jawOpen, mouthClose, the lower-down and
upper-up shapes) except through the articulation factor, which scales jawOpen and mouthClose together
(and the lip openers): closed lips (aperture 0) stay closed, an open vowel stays open, only its size
changes. The poses follow FACS descriptions of the basic emotions (happy: AU6+12, sad: AU1+4+15,
angry: AU4+5+7+23, surprised: AU1+2+5, fearful: AU1+2+4+5+20, disgusted: AU9+15+16) mapped to ARKit
shapes; docs/expression.md shows each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import rig

DEFAULT_INTENSITY = 0.6

POSES: dict[str, dict[str, float]] = {
    "neutral": {},
    "happy": {"mouthSmileLeft": 0.75, "mouthSmileRight": 0.75, "cheekSquintLeft": 0.5, "cheekSquintRight": 0.5,
              "eyeSquintLeft": 0.3, "eyeSquintRight": 0.3, "mouthDimpleLeft": 0.25, "mouthDimpleRight": 0.25,
              "browOuterUpLeft": 0.1, "browOuterUpRight": 0.1, "headPitch": -0.04},
    "sad": {"browInnerUp": 0.7, "browDownLeft": 0.15, "browDownRight": 0.15, "mouthFrownLeft": 0.6,
            "mouthFrownRight": 0.6, "mouthShrugLower": 0.25, "eyeLookDownLeft": 0.15, "eyeLookDownRight": 0.15,
            "eyeSquintLeft": 0.1, "eyeSquintRight": 0.1, "headPitch": 0.1},
    "angry": {"browDownLeft": 0.8, "browDownRight": 0.8, "eyeSquintLeft": 0.35, "eyeSquintRight": 0.35,
              "eyeWideLeft": 0.1, "eyeWideRight": 0.1, "noseSneerLeft": 0.3, "noseSneerRight": 0.3,
              "mouthPressLeft": 0.2, "mouthPressRight": 0.2, "mouthFrownLeft": 0.25, "mouthFrownRight": 0.25,
              "jawForward": 0.1, "headPitch": 0.05},
    "surprised": {"browInnerUp": 0.8, "browOuterUpLeft": 0.8, "browOuterUpRight": 0.8, "eyeWideLeft": 0.7,
                  "eyeWideRight": 0.7, "mouthFunnel": 0.1, "headPitch": -0.06},
    "fearful": {"browInnerUp": 0.75, "browOuterUpLeft": 0.35, "browOuterUpRight": 0.35, "browDownLeft": 0.2,
                "browDownRight": 0.2, "eyeWideLeft": 0.6, "eyeWideRight": 0.6, "mouthStretchLeft": 0.5,
                "mouthStretchRight": 0.5, "headPitch": 0.04, "headYaw": 0.03},
    "disgusted": {"noseSneerLeft": 0.7, "noseSneerRight": 0.55, "browDownLeft": 0.4, "browDownRight": 0.4,
                  "eyeSquintLeft": 0.3, "eyeSquintRight": 0.3, "cheekSquintLeft": 0.3, "cheekSquintRight": 0.2,
                  "mouthFrownLeft": 0.35, "mouthFrownRight": 0.35, "mouthShrugUpper": 0.3, "headRoll": -0.04,
                  "headYaw": -0.05},
}
"""Each emotion's pose at intensity 1 over source channels (blendshapes 0..1, head rotations in radians)."""

ARTICULATION: dict[str, float] = {"neutral": 1.0, "happy": 1.0, "sad": 0.85, "angry": 1.08, "surprised": 1.05,
                                  "fearful": 0.95, "disgusted": 0.92}
"""How much each emotion scales the mouth's opening at intensity 1 (sad: smaller, angry: harder)."""

EMOTIONS: tuple[str, ...] = tuple(POSES)

_FORBIDDEN = {"jawOpen", "mouthClose", *rig.LIP_OPENERS}
assert not any(_FORBIDDEN & set(pose) for pose in POSES.values()), "a pose must not move the lip aperture"

_SOURCE_INDEX = {name: i for i, name in enumerate(rig.SOURCE_CHANNELS)}
_POSE_VECTORS = {name: np.zeros(len(rig.SOURCE_CHANNELS), np.float64) for name in POSES}
for _name, _pose in POSES.items():
    for _channel, _value in _pose.items():
        _POSE_VECTORS[_name][_SOURCE_INDEX[_channel]] = _value


@dataclass(frozen=True)
class Emotion:
    name: str = "neutral"
    intensity: float = DEFAULT_INTENSITY

    def __post_init__(self) -> None:
        if self.name not in POSES:
            raise ValueError(f"unknown emotion {self.name!r}; expected one of: {', '.join(EMOTIONS)}")
        if not (isinstance(self.intensity, (int, float)) and 0.0 <= self.intensity <= 1.0):
            raise ValueError(f"emotion intensity must be 0..1, got {self.intensity!r}")

    def __str__(self) -> str:
        return self.name if self.name == "neutral" else f"{self.name}:{self.intensity:g}"


NEUTRAL = Emotion("neutral", 0.0)


def parse_emotion(text: str) -> Emotion:
    """``NAME[:INTENSITY]`` (``happy``, ``sad:0.3``) -> Emotion; ValueError with a one-line reason."""
    name, _, intensity = str(text).strip().partition(":")
    name = name.strip().lower()
    if not intensity.strip():
        return Emotion(name, DEFAULT_INTENSITY)
    try:
        value = float(intensity)
    except ValueError:
        raise ValueError(f"emotion intensity {intensity.strip()!r} is not a number 0..1") from None
    return Emotion(name, value)


class EmotionBlend:
    """The pose and articulation in use, gliding towards the emotion asked for with a time constant of
    ``blend_s`` (a change is 95 % done after 3 ``blend_s``). ``step`` once per frame."""

    def __init__(self, fps: float, emotion: Emotion = NEUTRAL, blend_s: float = 0.4) -> None:
        self.fps = float(fps)
        self.blend_s = blend_s
        self.target = emotion
        self.pose = _pose_of(emotion)
        self.articulation = _articulation_of(emotion)

    def set(self, emotion: Emotion) -> None:
        self.target = emotion

    def step(self) -> None:
        follow = 1.0 if self.blend_s <= 0 else 1.0 - math.exp(-1.0 / (self.fps * self.blend_s))
        self.pose += (_pose_of(self.target) - self.pose) * follow
        self.articulation += (_articulation_of(self.target) - self.articulation) * follow


def _pose_of(emotion: Emotion) -> np.ndarray:
    return _POSE_VECTORS[emotion.name] * emotion.intensity


def _articulation_of(emotion: Emotion) -> float:
    return 1.0 + (ARTICULATION[emotion.name] - 1.0) * emotion.intensity
