"""The idle layer: blinks, gaze saccades and head sway, on the channels the model does not predict.

``IdleLayer.step()`` makes one frame over ``rig.IDLE_CHANNELS`` (live, 60 times a second);
``IdleLayer.render(n)`` stacks ``n`` steps into a ``CurveTrack`` (offline), so both agree exactly.
A seed fixes everything; blinks, gaze and head each draw from their own stream of it, so switching
one off leaves the others frame for frame as they were.

- **Blinks**: both lids together (eyeBlinkLeft == eyeBlinkRight), a fast close (30 % of the lid's
  travel time), a short hold so that some frame shows the lid shut at any frame rate, a slower open.
  100-400 ms in all. Between blinks: at least 0.5 s, plus a gamma-distributed wait, about 17 blinks a
  minute at rest; one blink in ten is followed at once by a second (a double blink).
- **Gaze**: both eyes together (conjugate), fixations of 0.3-3 s joined by 30-60 ms saccades of a
  few degrees, pulled back towards the centre (the viewer), and now and then straight back to it.
  Written twice, as eye yaw/pitch (radians, at most 0.1 and 0.06 x gaze_scale) and as the eyeLook*
  blendshapes, which agree (1.0 stands for 0.5 rad).
- **Head**: three incommensurate sines per axis with random frequencies and phases: smooth, never
  repeating in practice, at most ``HEAD_PEAK_RAD`` x head_scale at rest (0.05, 0.035, 0.025 rad).
- Brows, tongue, eyeSquint*, eyeWide* and the eye rolls stay at 0: they belong to the animator or
  the preset.

Speech activity (``step(activity)``, 0..1, e.g. a smoothed loudness) makes a talker's face busier:
blinks come up to 50 % more often (about 23 a minute at 1.0) and the head sways up to 80 % wider,
following the activity with a 0.4 s lag so the head never jumps.

Rotation signs follow ARKit's face axes: positive yaw turns toward the character's own left,
positive pitch looks down. Looking left therefore means eyeLookOutLeft and eyeLookInRight.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .. import rig
from ..tracks import CurveTrack


@dataclass(frozen=True)
class IdleSettings:
    """What the idle layer does; a retarget preset's ``idle:`` section fills these."""

    blinks: bool = True
    blink_scale: float = 1.0
    """Multiplies the blink amplitude (1 = a full close of the lids)."""
    gaze: bool = True
    gaze_scale: float = 1.0
    """Multiplies the saccade amplitude."""
    head: bool = True
    head_scale: float = 1.0
    """Multiplies the head sway amplitude."""


IDLE_OFF = IdleSettings(blinks=False, gaze=False, head=False)
"""No idle motion (``--no-idle``)."""

BLINK_MIN_GAP_S = 0.5
"""The eyes stay open at least this long between two blinks (double blinks aside)."""
BLINK_MEAN_WAIT_S = 3.1
"""Mean of the gamma-distributed wait after the minimum gap, at rest: ~17 blinks a minute in all."""
BLINK_WAIT_SHAPE = 2.0
"""Gamma shape of that wait: 2 gives the skewed spread of real inter-blink intervals."""
BLINK_MOTION_S = (0.10, 0.20, 0.35)
"""Lid travel time (close + open, without the hold): lower clip, median, upper clip (log-normal)."""
BLINK_CLOSE_FRACTION = 0.3
"""Share of the travel time spent closing; the opening takes the rest."""
BLINK_HOLD_S = 0.02
"""Shut-lid hold; stretched to a little over one frame at low frame rates, so that some frame always
shows the lid fully closed."""
DOUBLE_BLINK_PROB = 0.1
DOUBLE_BLINK_GAP_S = (0.06, 0.2)
BLINK_SPEECH_BOOST = 0.5
"""At activity 1 the wait between blinks runs this much faster."""
BLINK_BOUNDARY_PULL_S = 1.5
"""At a phrase boundary, a blink due within this long comes now: people blink at pauses."""

GAZE_LIMIT_RAD = (0.1, 0.06)
"""Largest eye yaw and pitch at gaze_scale 1."""
SACCADE_DEG = (1.0, 4.0)
"""A saccade's size before the pull to the centre, uniform in this range (degrees)."""
SACCADE_VERTICAL = 0.6
"""Vertical saccades are smaller than horizontal ones by this factor."""
GAZE_CENTRE_PULL = 0.4
"""Each saccade first moves this share of the way back to the centre."""
GAZE_CENTRE_RETURN_PROB = 0.25
"""Chance that a saccade goes straight back to (near) the centre: eye contact with the viewer."""
FIXATION_S = (0.3, 1.0, 3.0)
"""Fixation duration: lower clip, median (log-normal), upper clip."""
EYE_LOOK_FULL_RAD = 0.5
"""Eye rotation that an eyeLook* blendshape of 1.0 stands for."""

HEAD_PEAK_RAD = (0.05, 0.035, 0.025)
"""Largest head yaw, pitch and roll at head_scale 1 and no speech."""
HEAD_SWAY_HZ = (0.07, 0.17, 0.31)
"""The three sines' base frequencies (each axis jitters them by -20..+25 %)."""
HEAD_SWAY_WEIGHTS = (0.55, 0.3, 0.15)
"""Their share of the peak: slow sways large, quick ones small."""
HEAD_SPEECH_BOOST = 0.8
ACTIVITY_LAG_S = 0.4

_INDEX = {name: i for i, name in enumerate(rig.IDLE_CHANNELS)}
_BLINK = [_INDEX["eyeBlinkLeft"], _INDEX["eyeBlinkRight"]]
_EYE_YAW = [_INDEX["leftEyeYaw"], _INDEX["rightEyeYaw"]]
_EYE_PITCH = [_INDEX["leftEyePitch"], _INDEX["rightEyePitch"]]
_LOOK_LEFT = [_INDEX["eyeLookOutLeft"], _INDEX["eyeLookInRight"]]  # the character's own left
_LOOK_RIGHT = [_INDEX["eyeLookInLeft"], _INDEX["eyeLookOutRight"]]
_LOOK_DOWN = [_INDEX["eyeLookDownLeft"], _INDEX["eyeLookDownRight"]]
_LOOK_UP = [_INDEX["eyeLookUpLeft"], _INDEX["eyeLookUpRight"]]
_HEAD = slice(_INDEX["headYaw"], _INDEX["headRoll"] + 1)
assert rig.IDLE_CHANNELS[_HEAD] == ("headYaw", "headPitch", "headRoll")


class IdleLayer:
    """Blinks, gaze and head sway over ``rig.IDLE_CHANNELS``, one frame per ``step`` at ``fps``.

    ``settings`` is read at every step: assigning a new ``IdleSettings`` takes effect on the next
    frame. Switched off and on again, blinks and gaze resume where they paused; the head sway is a
    function of time and comes back at the phase it has reached.
    """

    def __init__(self, settings: IdleSettings, fps: float, seed: int = 0) -> None:
        if not fps > 0:
            raise ValueError(f"fps must be positive, got {fps}")
        self.settings = settings
        self.fps = float(fps)
        blink_rng, gaze_rng, head_rng = (np.random.default_rng(s)
                                         for s in np.random.SeedSequence(seed).spawn(3))
        self._blinks = _Blinks(blink_rng, self.fps)
        self._gaze = _Gaze(gaze_rng)
        self._head = _HeadSway(head_rng)
        self._activity_follow = 1.0 - math.exp(-1.0 / (self.fps * ACTIVITY_LAG_S))
        self._activity = 0.0  # speech activity, lagged
        self._frame = 0

    def step(self, activity: float = 0.0, boundary: bool = False) -> np.ndarray:
        """The next frame: float32 (len(rig.IDLE_CHANNELS),) in that order.

        ``activity`` (0..1, clipped) is how much the character is speaking now; ``boundary``: a phrase
        ends here (the expression layer says so), and a blink due soon comes now.
        """
        settings = self.settings
        dt = 1.0 / self.fps
        activity = min(max(float(activity), 0.0), 1.0)
        self._activity += (activity - self._activity) * self._activity_follow
        values = np.zeros(len(rig.IDLE_CHANNELS), np.float32)
        if settings.blinks:
            if boundary:
                self._blinks.pull(BLINK_BOUNDARY_PULL_S)
            lid = self._blinks.step(dt, activity)
            values[_BLINK] = lid * min(max(settings.blink_scale, 0.0), 1.0)
        if settings.gaze:
            yaw, pitch = self._gaze.step(dt)
            yaw *= settings.gaze_scale
            pitch *= settings.gaze_scale
            values[_EYE_YAW] = yaw
            values[_EYE_PITCH] = pitch
            values[_LOOK_LEFT if yaw > 0 else _LOOK_RIGHT] = min(abs(yaw) / EYE_LOOK_FULL_RAD, 1.0)
            values[_LOOK_DOWN if pitch > 0 else _LOOK_UP] = min(abs(pitch) / EYE_LOOK_FULL_RAD, 1.0)
        if settings.head:
            gain = settings.head_scale * (1.0 + HEAD_SPEECH_BOOST * self._activity)
            values[_HEAD] = self._head.at(self._frame / self.fps) * gain
        self._frame += 1
        return values

    def render(self, num_frames: int, activity: np.ndarray | None = None) -> CurveTrack:
        """The next ``num_frames`` steps as a track over ``rig.IDLE_CHANNELS`` at ``fps``.

        ``activity``: speech activity per frame, shape (num_frames,), or None for silence.
        """
        if activity is None:
            activity = np.zeros(num_frames)
        elif len(activity) != num_frames:
            raise ValueError(f"activity has {len(activity)} values for {num_frames} frames")
        values = np.zeros((num_frames, len(rig.IDLE_CHANNELS)), np.float32)
        for k in range(num_frames):
            values[k] = self.step(activity[k])
        return CurveTrack(rig.IDLE_CHANNELS, values, self.fps)


class _Blinks:
    """Lid closure over time, 0 (open) .. 1 (shut)."""

    def __init__(self, rng: np.random.Generator, fps: float) -> None:
        self._rng = rng
        self._hold_s = max(BLINK_HOLD_S, 1.01 / fps)
        self._refractory_s = 0.0  # real seconds before the wait starts counting
        self._wait_s = self._draw_wait()  # runs faster while speaking
        self._elapsed_s: float | None = None  # time into the current blink, None between blinks

    def _draw_wait(self) -> float:
        return self._rng.gamma(BLINK_WAIT_SHAPE, BLINK_MEAN_WAIT_S / BLINK_WAIT_SHAPE)

    def _start_blink(self) -> None:
        low, median, high = BLINK_MOTION_S
        motion_s = min(max(median * math.exp(0.3 * self._rng.standard_normal()), low), high)
        self._close_s = BLINK_CLOSE_FRACTION * motion_s
        self._open_s = motion_s - self._close_s
        self._elapsed_s = 0.0

    def _end_blink(self) -> None:
        self._elapsed_s = None
        if self._rng.random() < DOUBLE_BLINK_PROB:
            self._refractory_s = self._rng.uniform(*DOUBLE_BLINK_GAP_S)
            self._wait_s = 0.0
        else:
            self._refractory_s = BLINK_MIN_GAP_S
            self._wait_s = self._draw_wait()

    def pull(self, within_s: float) -> None:
        """Start the next blink at once if it is due within ``within_s`` (and the eyes may blink)."""
        if self._elapsed_s is None and self._refractory_s <= 0.0 and self._wait_s <= within_s:
            self._wait_s = 0.0

    def step(self, dt: float, activity: float) -> float:
        if self._elapsed_s is None:
            if self._refractory_s > 0.0:
                self._refractory_s -= dt
                return 0.0
            self._wait_s -= dt * (1.0 + BLINK_SPEECH_BOOST * activity)
            if self._wait_s > 0.0:
                return 0.0
            self._start_blink()
        elapsed = self._elapsed_s
        if elapsed < self._close_s:
            lid = math.sin(0.5 * math.pi * elapsed / self._close_s) ** 2
        elif elapsed < self._close_s + self._hold_s:
            lid = 1.0
        else:
            # The lid opens fast, then eases into the open position.
            lid = max(1.0 - (elapsed - self._close_s - self._hold_s) / self._open_s, 0.0) ** 2
        self._elapsed_s = elapsed + dt
        if self._elapsed_s >= self._close_s + self._hold_s + self._open_s:
            self._end_blink()
        return lid


class _Gaze:
    """Conjugate eye direction, (yaw, pitch) radians at gaze_scale 1."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._rng = rng
        self._from = self._to = (0.0, 0.0)
        self._move_s = 0.0
        self._hold_s = self._draw_fixation()
        self._elapsed_s = 0.0

    def _draw_fixation(self) -> float:
        low, median, high = FIXATION_S
        return min(max(median * math.exp(0.6 * self._rng.standard_normal()), low), high)

    def _start_saccade(self) -> None:
        yaw, pitch = self._to
        if self._rng.random() < GAZE_CENTRE_RETURN_PROB:
            target_yaw, target_pitch = self._rng.normal(0.0, math.radians(0.3), 2)
        else:
            size = math.radians(self._rng.uniform(*SACCADE_DEG))
            angle = self._rng.uniform(0.0, 2.0 * math.pi)
            keep = 1.0 - GAZE_CENTRE_PULL
            target_yaw = keep * yaw + size * math.cos(angle)
            target_pitch = keep * pitch + size * SACCADE_VERTICAL * math.sin(angle)
        yaw_limit, pitch_limit = GAZE_LIMIT_RAD
        target = (min(max(target_yaw, -yaw_limit), yaw_limit),
                  min(max(target_pitch, -pitch_limit), pitch_limit))
        # Main-sequence duration: about 21 ms + 2.2 ms per degree, kept to 30-60 ms.
        size_deg = math.degrees(math.hypot(target[0] - yaw, target[1] - pitch))
        self._move_s = min(max(0.021 + 0.0022 * size_deg, 0.03), 0.06)
        self._from, self._to = self._to, target
        self._hold_s = self._draw_fixation()
        self._elapsed_s = 0.0

    def step(self, dt: float) -> tuple[float, float]:
        if self._elapsed_s >= self._move_s + self._hold_s:
            self._start_saccade()
        elapsed = self._elapsed_s
        self._elapsed_s = elapsed + dt
        if elapsed >= self._move_s:
            return self._to
        w = 0.5 - 0.5 * math.cos(math.pi * elapsed / self._move_s)
        (yaw0, pitch0), (yaw1, pitch1) = self._from, self._to
        return yaw0 + (yaw1 - yaw0) * w, pitch0 + (pitch1 - pitch0) * w


class _HeadSway:
    """Head (yaw, pitch, roll) radians at head_scale 1: a sum of three sines per axis."""

    def __init__(self, rng: np.random.Generator) -> None:
        hz = np.asarray(HEAD_SWAY_HZ) * rng.uniform(0.8, 1.25, size=(3, 3))  # (axis, sine)
        self._omega = 2.0 * np.pi * hz
        self._phase = rng.uniform(0.0, 2.0 * np.pi, size=(3, 3))
        self._amplitude = np.outer(HEAD_PEAK_RAD, HEAD_SWAY_WEIGHTS)

    def at(self, t_s: float) -> np.ndarray:
        """(yaw, pitch, roll) at time ``t_s``, shape (3,)."""
        return (self._amplitude * np.sin(self._omega * t_s + self._phase)).sum(axis=1)
