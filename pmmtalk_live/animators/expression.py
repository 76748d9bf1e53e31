"""The expression layer: the face above the mouth speaks with the voice, and an emotion shapes it all.

    animator (32 coefficients) ─┐
    prosody (pitch, loudness, accents, pauses) ──▶ ExpressionLayer ──▶ 61 source channels ──▶ preset
    idle layer (blinks, gaze, sway) ─┘                ▲ emotion (EmotionBlend)

What drives each region (docs/expression.md has the figures):

- brows: raises on pitch accents only (an F0 excursion on a syllable at least as loud as the speaker's
  typical voiced sound: ``prosody.ProsodyFrames.accent``), an outer lift on rising (question)
  intonation; a slight frown on loud emphasis, more when spoken low; while speaking they follow the
  pitch a little (up above the speaker's median, down below it); all of it relaxes as soon as a pause
  starts (it follows ``speech``);
- eyes: a little squint on loud stressed syllables, a little widening on high accents; the idle
  layer's next blink is drawn to phrase boundaries (``phrase_boundary``);
- head: a nod (pitch down and back) on stressed syllables (louder than their neighbours and spoken
  at or above the speaker's median pitch: ``stress``), a tilt at phrase ends; the idle sway is
  reduced while speaking (it remains for silence);
- the emotion (``emotion.EmotionBlend``) adds its pose to brows, eyes, cheeks, nose, mouth corners and
  head, and scales the mouth's opening without ever closing an open vowel or opening a closure.

The prosody is speaker-relative (``prosody.ProsodyStream``), so a low and a high voice move the brows
alike; on noise and silence ``speech`` stays 0 and nothing here moves. Each region is scaled by the
preset's ``expression:`` section (``ExpressionSettings``), to tone it down for a stylised character.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import rig
from ..prosody import ProsodyFrames
from .emotion import NEUTRAL, Emotion, EmotionBlend
from .idle import IdleLayer, IdleSettings


@dataclass(frozen=True)
class ExpressionSettings:
    """A retarget preset's ``expression:`` section: each scale multiplies its region's motion (0 = none,
    1 = as designed); ``blend_ms`` is how quickly a new emotion takes over."""

    brows: float = 1.0
    eyes: float = 1.0
    head: float = 1.0
    cheeks: float = 1.0
    """Cheeks and nose (the smile's and the sneer's)."""
    mouth: float = 1.0
    """The emotion's mouth corners and its change of the mouth's opening."""
    emotion: float = 1.0
    """The whole emotion pose."""
    blend_ms: float = 400.0


EXPRESSION_OFF = ExpressionSettings(brows=0.0, eyes=0.0, head=0.0, cheeks=0.0, mouth=0.0, emotion=0.0)
"""No expression layer (``--no-idle`` switches it off with the idle layer)."""

# --- how much each cue moves the face at scale 1 -------------------------------------------------------

ACCENT_BROW = 0.35
"""Brow raise (inner and outer) on a full-strength pitch accent. Only accents raise the brows: a loud
syllable without an F0 excursion, or a high stretch without a loud syllable, does not."""
RISING_BROW = 0.2
"""Outer brow lift on fully rising intonation (a question's end)."""
TONIC_BROW = (0.05, 0.18)
"""While speaking, the brows follow the pitch a little: inner lift per 6 semitones above the speaker's
median, lowering per 4 semitones below it (brows and pitch move together in speech)."""
EMPHASIS_FROWN = 0.3
"""Brow lowering on a loud emphasis (full when spoken low, a third of it otherwise)."""
EMPHASIS_SQUINT = 0.15
ACCENT_WIDEN = 0.12
NOD_RAD = 0.06
"""Head pitch (down) on a fully stressed syllable (``stress`` 1: 8 dB above its neighbours' median,
spoken at or above the speaker's median pitch); a loud syllable spoken low frowns instead."""
TILT_RAD = 0.04
"""Head roll at a phrase end (alternating sides)."""
SWAY_CUT = 0.5
"""Share of the idle head sway taken away while speaking (the nods take its place)."""

ATTACK_S, RELEASE_S = 0.04, 0.2
"""How quickly a brow raise or a squint follows its cue, and how slowly it lets go."""
NOD_ATTACK_S, NOD_RELEASE_S = 0.05, 0.18
TILT_RELEASE_S = 0.9
SPEECH_ATTACK_S, SPEECH_RELEASE_S = 0.1, 0.12
"""How quickly the layer follows speech starting and stopping: in a pause the brows relax at once."""
BOUNDARY_S = 0.15
"""A pause this long after speech is a phrase boundary (a tilt, a blink drawn to it)."""

_SOURCE = {name: i for i, name in enumerate(rig.SOURCE_CHANNELS)}
_INNER, _OUTER = _SOURCE["browInnerUp"], [_SOURCE["browOuterUpLeft"], _SOURCE["browOuterUpRight"]]
_DOWN = [_SOURCE["browDownLeft"], _SOURCE["browDownRight"]]
_SQUINT = [_SOURCE["eyeSquintLeft"], _SOURCE["eyeSquintRight"]]
_WIDE = [_SOURCE["eyeWideLeft"], _SOURCE["eyeWideRight"]]
_YAW, _PITCH, _ROLL = _SOURCE["headYaw"], _SOURCE["headPitch"], _SOURCE["headRoll"]
_HEAD = [_YAW, _PITCH, _ROLL]
_ARTICULATED = [_SOURCE[name] for name in ("jawOpen", "mouthClose", *rig.LIP_OPENERS)]
_ROTATIONS = np.array([name in {rig.to_camel(n) for n in rig.ROTATION_NAMES} for name in rig.SOURCE_CHANNELS])


def _region_scales(settings: ExpressionSettings) -> np.ndarray:
    """Per source channel, the scale the emotion pose gets there: its region's, times ``emotion``."""
    by_region = {"brows": settings.brows, "eyes": settings.eyes, "head": settings.head,
                 "cheeks": settings.cheeks, "nose": settings.cheeks, "jaw": settings.mouth,
                 "lips": settings.mouth, "tongue": settings.mouth}
    return np.array([by_region[rig.REGION_OF[name]] for name in rig.SOURCE_CHANNELS]) * settings.emotion


def _ramp(x: float, low: float, high: float) -> float:
    """0 at ``low`` and below, 1 at ``high`` and above, linear between."""
    return min(max((x - low) / (high - low), 0.0), 1.0)


def phrase_boundary(pause_s: float, fps: float) -> bool:
    """Whether this frame is the one where a pause becomes a phrase boundary (``BOUNDARY_S`` long)."""
    return BOUNDARY_S <= pause_s < BOUNDARY_S + 1.0 / fps


class _Follower:
    """A value that follows its cue with one time constant up and another down (per frame)."""

    def __init__(self, fps: float, attack_s: float, release_s: float) -> None:
        self.up = 1.0 - math.exp(-1.0 / (fps * attack_s))
        self.down = 1.0 - math.exp(-1.0 / (fps * release_s))
        self.value = 0.0

    def step(self, cue: float) -> float:
        self.value += (cue - self.value) * (self.up if cue > self.value else self.down)
        return self.value


class FaceLayers:
    """Everything above the animator, one frame at a time: idle layer, expression layer, emotion, into
    the 61 source channels a preset mixes from. The live engine and offline ``animate`` both use it,
    so they give the same face for the same audio."""

    def __init__(self, fps: float, idle: IdleSettings, expression: ExpressionSettings, *, seed: int = 0,
                 emotion: Emotion = NEUTRAL) -> None:
        self.fps = float(fps)
        self.idle = IdleLayer(idle, fps, seed=seed)
        self.expression = expression
        self.emotion = EmotionBlend(fps, emotion, expression.blend_ms / 1000.0)
        self._accent = _Follower(fps, ATTACK_S, RELEASE_S)
        self._emphasis = _Follower(fps, ATTACK_S, RELEASE_S)
        self._rising = _Follower(fps, ATTACK_S * 2, RELEASE_S * 2)
        self._nod = _Follower(fps, NOD_ATTACK_S, NOD_RELEASE_S)
        self._tilt = _Follower(fps, 1.0 / fps, TILT_RELEASE_S)
        self._speech = _Follower(fps, SPEECH_ATTACK_S, SPEECH_RELEASE_S)
        self._tilt_side = 1.0
        self._scales = _region_scales(expression)

    def set_settings(self, idle: IdleSettings, expression: ExpressionSettings) -> None:
        self.idle.settings = idle
        self.expression = expression
        self.emotion.blend_s = expression.blend_ms / 1000.0
        self._scales = _region_scales(expression)

    def set_emotion(self, emotion: Emotion) -> None:
        self.emotion.set(emotion)

    def skip(self, num_frames: int) -> None:
        """Frames not computed (audio skipped): the layers' clocks keep time with the frames."""
        for _ in range(num_frames):
            self.idle.step(0.0)
            self.emotion.step()

    def frame(self, coeffs: np.ndarray, activity: float, prosody: ProsodyFrames | None, i: int = 0,
              out: np.ndarray | None = None) -> np.ndarray:
        """One frame's source channels: float32 (61,) in ``rig.SOURCE_CHANNELS`` order. ``coeffs``: the
        animator's 32 coefficients; ``activity``: its speech activity 0..1; ``prosody``: the frames'
        prosody (row ``i`` is this frame's), None where there is none (then only idle and emotion)."""
        boundary = prosody is not None and phrase_boundary(float(prosody.pause[i]), self.fps)
        idle = self.idle.step(activity, boundary=boundary)
        out = rig.source_frames(coeffs, idle, out=out)
        self.emotion.step()
        if prosody is not None:
            self._add_prosody(out, prosody, i, boundary)
        out += self.emotion.pose * self._scales
        out[_ARTICULATED] *= 1.0 + (self.emotion.articulation - 1.0) * self.expression.mouth * self.expression.emotion
        np.clip(out, 0.0, 1.0, out=out, where=~_ROTATIONS)
        return out

    def _add_prosody(self, out: np.ndarray, p: ProsodyFrames, i: int, boundary: bool) -> None:
        s = self.expression
        speech = self._speech.step(float(p.speech[i]))
        pitch = float(p.pitch[i])
        accent = self._accent.step(float(p.accent[i]))  # a pitch accent raises the brows
        emphasis = self._emphasis.step(float(p.emphasis[i]))
        rising = self._rising.step(float(p.rising[i]) * float(p.speech[i]))
        nod = self._nod.step(float(p.stress[i]))  # the head beats on the stressed syllables
        if boundary:
            self._tilt_side = -self._tilt_side
            self._tilt.value = 1.0
        tilt = self._tilt.step(0.0)
        high = _ramp(pitch, 0.0, 6.0)
        low = _ramp(-pitch, 0.0, 4.0)
        out[_INNER] += s.brows * speech * (ACCENT_BROW * accent + TONIC_BROW[0] * high)
        out[_OUTER] += s.brows * speech * (ACCENT_BROW * accent + RISING_BROW * rising)
        out[_DOWN] += s.brows * speech * (EMPHASIS_FROWN * emphasis * max(low, 1.0 / 3.0) + TONIC_BROW[1] * low)
        out[_SQUINT] += s.eyes * speech * EMPHASIS_SQUINT * emphasis
        out[_WIDE] += s.eyes * speech * ACCENT_WIDEN * accent * high
        out[_HEAD] *= 1.0 - SWAY_CUT * speech * min(s.head, 1.0)
        out[_PITCH] += s.head * NOD_RAD * nod
        out[_ROLL] += s.head * TILT_RAD * self._tilt_side * tilt
