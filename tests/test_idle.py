"""The idle layer: blinks, gaze and head sway that a viewer would take for a living face."""

from __future__ import annotations

import time

import numpy as np
import pytest

from pmmtalk_live import rig
from pmmtalk_live.animators.idle import IdleLayer, IdleSettings

FPS = 60
TEN_MINUTES = 10 * 60 * FPS

EYE_ROTATIONS = ("leftEyeYaw", "leftEyePitch", "rightEyeYaw", "rightEyePitch")
EYE_LOOKS = tuple(c for c in rig.IDLE_CHANNELS if c.startswith("eyeLook"))
BLINKS = ("eyeBlinkLeft", "eyeBlinkRight")
HEAD = ("headYaw", "headPitch", "headRoll")
ROTATIONS = tuple(c for c in rig.IDLE_CHANNELS if rig.to_pascal(c) in rig.ROTATION_NAMES)


@pytest.fixture(scope="module")
def rest():
    return IdleLayer(IdleSettings(), FPS, seed=0).render(TEN_MINUTES)


@pytest.fixture(scope="module")
def speaking():
    return IdleLayer(IdleSettings(), FPS, seed=0).render(TEN_MINUTES, activity=np.ones(TEN_MINUTES))


def runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """(first, last + 1) frame of every run of True."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)))


def blink_starts_s(track) -> np.ndarray:
    return np.array([start for start, _ in runs(track.column("eyeBlinkLeft") > 0.5)]) / track.fps


def test_blink_rate_is_human_at_rest_and_higher_while_speaking(rest, speaking):
    rest_per_min = len(blink_starts_s(rest)) / 10
    speaking_per_min = len(blink_starts_s(speaking)) / 10
    assert 14 <= rest_per_min <= 22
    assert rest_per_min * 1.2 < speaking_per_min <= 30


def test_blinks_last_100_to_400_ms_close_fully_and_close_faster_than_they_open(rest):
    lid = rest.column("eyeBlinkLeft")
    blinks = [(start, stop) for start, stop in runs(lid > 0.02) if stop < len(lid)]  # not cut by the end
    assert len(blinks) > 100
    for start, stop in blinks:
        assert 0.1 <= (stop - start) / FPS <= 0.4
        shape = lid[start:stop]
        assert shape.max() == 1.0
        shut = np.flatnonzero(shape == 1.0)
        closing, opening = shut[0], len(shape) - 1 - shut[-1]
        assert closing < opening


def test_both_eyes_blink_together(rest):
    np.testing.assert_array_equal(rest.column("eyeBlinkLeft"), rest.column("eyeBlinkRight"))


def test_blinks_keep_a_minimum_gap_and_one_in_ten_or_so_is_double(rest):
    gaps = np.diff(blink_starts_s(rest))  # start to start
    double = gaps < 0.6  # a blink (0.1-0.4 s) and the minimum gap of 0.5 s take longer
    assert 0.04 <= double.mean() <= 0.2
    assert gaps[~double].min() >= 0.6
    assert 3.0 <= gaps[~double].mean() <= 4.5


def test_the_eyes_fixate_then_jump_quickly_by_a_few_degrees_both_together(rest):
    yaw, pitch = rest.column("leftEyeYaw"), rest.column("leftEyePitch")
    np.testing.assert_array_equal(yaw, rest.column("rightEyeYaw"))
    np.testing.assert_array_equal(pitch, rest.column("rightEyePitch"))
    moving = np.concatenate([[False], (np.diff(yaw) != 0) | (np.diff(pitch) != 0)])
    saccades = runs(moving)
    fixations = runs(~moving)[1:-1]  # the first and last are cut by the take's ends
    assert 300 < len(saccades) < 1500
    assert max(stop - start for start, stop in saccades) <= 0.06 * FPS + 1
    durations_s = np.array([stop - start for start, stop in fixations]) / FPS
    assert durations_s.min() >= 0.3 - 2 / FPS and durations_s.max() <= 3.0 + 2 / FPS
    jumps_deg = np.degrees([np.hypot(yaw[stop] - yaw[start - 1], pitch[stop] - pitch[start - 1])
                            for start, stop in saccades[:-1]])
    assert 1.0 <= np.median(jumps_deg) <= 6.0
    assert np.abs(yaw).max() <= 0.1 + 1e-6 and np.abs(pitch).max() <= 0.1 + 1e-6


def test_eye_look_blendshapes_agree_with_the_eye_rotations(rest):
    yaw, pitch = rest.column("leftEyeYaw"), rest.column("leftEyePitch")
    left, right = yaw > 0, yaw < 0  # the character's own left: the left eye looks out
    assert (rest.column("eyeLookOutLeft")[left] > 0).all() and (rest.column("eyeLookInRight")[left] > 0).all()
    assert not rest.column("eyeLookInLeft")[left].any() and not rest.column("eyeLookOutRight")[left].any()
    assert (rest.column("eyeLookInLeft")[right] > 0).all() and (rest.column("eyeLookOutRight")[right] > 0).all()
    down, up = pitch > 0, pitch < 0
    assert (rest.column("eyeLookDownLeft")[down] > 0).all() and not rest.column("eyeLookUpLeft")[down].any()
    assert (rest.column("eyeLookUpRight")[up] > 0).all() and not rest.column("eyeLookDownRight")[up].any()
    np.testing.assert_allclose(rest.column("eyeLookOutLeft") - rest.column("eyeLookInLeft"), yaw / 0.5, atol=1e-6)


def test_head_sways_smoothly_and_subtly_and_more_while_speaking(rest, speaking):
    for name in HEAD:
        angle = rest.column(name)
        assert 0.005 < angle.std() < 0.03
        assert np.abs(angle).max() <= 0.05 + 1e-6
        assert np.abs(np.diff(angle)).max() < 0.002  # radians per frame: no visible jump
    assert speaking.column("headYaw").std() > 1.5 * rest.column("headYaw").std()


def test_head_stays_smooth_when_speech_starts_and_stops():
    activity = np.zeros(1200)
    activity[300:600] = 1.0
    activity[900:] = 1.0
    head = np.stack([IdleLayer(IdleSettings(), FPS).render(1200, activity).column(n) for n in HEAD])
    assert np.abs(np.diff(head, axis=1)).max() < 0.003


def test_values_stay_in_range_and_channels_it_does_not_drive_stay_zero(rest):
    blendshapes = [i for i, c in enumerate(rest.names) if c not in ROTATIONS]
    rotations = [i for i, c in enumerate(rest.names) if c in ROTATIONS]
    assert rest.values[:, blendshapes].min() >= 0.0 and rest.values[:, blendshapes].max() <= 1.0
    assert np.abs(rest.values[:, rotations]).max() <= 0.1 + 1e-6  # radians: under 6 degrees
    untouched = [c for c in rest.names if c.startswith(("brow", "tongue", "eyeSquint", "eyeWide"))
                 or c.endswith("EyeRoll")]
    assert len(untouched) == 12
    assert not np.stack([rest.column(c) for c in untouched]).any()


def test_render_is_the_same_as_stepping():
    track = IdleLayer(IdleSettings(), FPS, seed=5).render(900)
    layer = IdleLayer(IdleSettings(), FPS, seed=5)
    stepped = np.stack([layer.step() for _ in range(900)])
    assert track.names == rig.IDLE_CHANNELS and track.fps == FPS
    assert stepped.dtype == np.float32 and stepped.shape == (900, len(rig.IDLE_CHANNELS))
    np.testing.assert_array_equal(track.values, stepped)


def test_a_seed_repeats_exactly_and_another_seed_differs():
    first = IdleLayer(IdleSettings(), FPS, seed=3).render(1800).values
    again = IdleLayer(IdleSettings(), FPS, seed=3).render(1800).values
    other = IdleLayer(IdleSettings(), FPS, seed=4).render(1800).values
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first[:, 20:23], other[:, 20:23])  # head
    assert not np.array_equal(first[:, 0], other[:, 0])  # blinks


@pytest.mark.parametrize("switch, channels", [("blinks", BLINKS), ("gaze", EYE_LOOKS + EYE_ROTATIONS),
                                              ("head", HEAD)])
def test_each_switch_turns_its_channels_off_and_leaves_the_rest_alone(switch, channels):
    on = IdleLayer(IdleSettings(), FPS, seed=1).render(3600)
    off = IdleLayer(IdleSettings(**{switch: False}), FPS, seed=1).render(3600)
    for name in rig.IDLE_CHANNELS:
        if name in channels:
            assert on.column(name).any() and not off.column(name).any(), name
        else:
            np.testing.assert_array_equal(off.column(name), on.column(name), err_msg=name)


def test_scales_scale_their_layer():
    base = IdleLayer(IdleSettings(), FPS, seed=2).render(3600)
    scaled = IdleLayer(IdleSettings(blink_scale=0.5, gaze_scale=2.0, head_scale=0.25), FPS, seed=2).render(3600)
    np.testing.assert_allclose(scaled.column("eyeBlinkLeft"), 0.5 * base.column("eyeBlinkLeft"), atol=1e-6)
    for name in EYE_ROTATIONS + EYE_LOOKS:
        np.testing.assert_allclose(scaled.column(name), 2.0 * base.column(name), atol=1e-6)
    for name in HEAD:
        np.testing.assert_allclose(scaled.column(name), 0.25 * base.column(name), atol=1e-6)
    # A lid cannot close more than fully.
    wide = IdleLayer(IdleSettings(blink_scale=3.0), FPS, seed=2).render(3600)
    np.testing.assert_array_equal(wide.column("eyeBlinkLeft"), base.column("eyeBlinkLeft"))


@pytest.mark.parametrize("fps", [24, 30])
def test_every_blink_shows_a_shut_frame_at_film_and_video_rates(fps):
    track = IdleLayer(IdleSettings(), fps, seed=0).render(120 * fps)
    lid = track.column("eyeBlinkLeft")
    blinks = runs(lid > 0)
    assert len(blinks) > 20
    assert all(lid[start:stop].max() == 1.0 for start, stop in blinks)


def test_a_step_costs_far_less_than_a_60_fps_frame():
    layer = IdleLayer(IdleSettings(), FPS)
    started = time.perf_counter()
    for _ in range(3000):
        layer.step(0.5)
    assert (time.perf_counter() - started) / 3000 < 0.001
