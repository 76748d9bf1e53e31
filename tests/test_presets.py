"""Retarget presets: the shipped ones load and do their job, bad files fail with file, line and key."""

from __future__ import annotations

import dataclasses
import textwrap
from pathlib import Path

import numpy as np
import pytest

from pmmtalk_live import rig
from pmmtalk_live.errors import PresetError
from pmmtalk_live.retarget.preset import (SHIPPED_PRESETS_DIR, check_preset, describe_preset,
                                          list_presets, load_preset)
from pmmtalk_live.retarget.schema import MAX_CURVE_NAME_BYTES, MAX_CURVES, SOURCE_INDEX, Smoothing
from pmmtalk_live.sinks import osc
from pmmtalk_live.sinks.csv_take import read_take, write_take
from pmmtalk_live.tracks import CurveTrack

FPS = 60.0
VRM_EXPRESSIONS = ("aa", "ih", "ou", "ee", "oh", "blink", "blinkLeft", "blinkRight")


def write(tmp_path: Path, text: str, name: str = "custom.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def source_frame(**values: float) -> np.ndarray:
    frame = np.zeros(len(rig.SOURCE_CHANNELS), np.float32)
    for name, value in values.items():
        frame[rig.SOURCE_CHANNELS.index(name)] = value
    return frame


def settle(preset, frames: int = 120, **values: float) -> dict[str, float]:
    """The preset's outputs once the filters have settled on a held pose."""
    retargeter = preset.retargeter(FPS)
    for _ in range(frames):
        out = retargeter.step(source_frame(**values))
    return dict(zip(preset.output_names, out.tolist()))


MINIMAL = """
description: test rig
idle: {blinks: true, gaze: true, head: true}
outputs:
  Jaw: {mix: {jawOpen: 1}}
"""


# --- the shipped presets ------------------------------------------------------------------------


def test_shipped_presets_load_with_the_right_curves():
    assert load_preset("arkit").output_names == rig.LIVE_LINK_FACE_NAMES
    assert load_preset("metahuman").output_names == rig.LIVE_LINK_FACE_NAMES
    assert load_preset("vrm").output_names == VRM_EXPRESSIONS
    for path in sorted(SHIPPED_PRESETS_DIR.glob("*.yaml")):
        assert check_preset(path).description


def test_list_shows_the_shipped_presets_with_descriptions(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PMMTALK_PRESETS", raising=False)
    infos = {info.name: info for info in list_presets()}
    assert {"arkit", "metahuman", "vrm"} <= set(infos)
    assert "MetaHuman" in infos["metahuman"].description
    assert infos["vrm"].path == SHIPPED_PRESETS_DIR / "vrm.yaml" and infos["vrm"].error is None


def test_arkit_is_the_identity_and_leaves_rotations_signed():
    rng = np.random.default_rng(0)
    values = rng.random((30, len(rig.SOURCE_CHANNELS))).astype(np.float32)
    rotations = [i for i, name in enumerate(rig.LIVE_LINK_FACE_NAMES) if name in rig.ROTATION_NAMES]
    values[:, rotations] -= 0.5  # signed radians
    out = load_preset("arkit").apply(CurveTrack(rig.SOURCE_CHANNELS, values, FPS))
    assert out.names == rig.LIVE_LINK_FACE_NAMES
    np.testing.assert_array_equal(out.values, values)
    assert out.column("HeadYaw").min() < 0


def test_metahuman_suppresses_mouth_close_and_still_closes_the_lips():
    metahuman = load_preset("metahuman")
    bilabial = settle(metahuman, jawOpen=0.3, mouthClose=0.3, mouthPressLeft=0.2, mouthPressRight=0.2)
    assert bilabial["MouthClose"] == 0.0
    assert bilabial["JawOpen"] == pytest.approx(0.0, abs=1e-4)  # the jaw shuts so the lips meet
    assert bilabial["MouthPressLeft"] == pytest.approx(0.35, abs=1e-4)
    vowel = settle(metahuman, jawOpen=0.5)
    assert vowel["MouthClose"] == 0.0
    assert vowel["JawOpen"] == pytest.approx(0.625, abs=1e-4)  # stronger jaw than the source


def test_vrm_aa_rises_with_jaw_open_and_blink_follows_both_eyes():
    vrm = load_preset("vrm")
    aa = [settle(vrm, jawOpen=jaw)["aa"] for jaw in (0.0, 0.2, 0.4, 0.6)]
    assert aa[0] == 0.0 and all(a < b for a, b in zip(aa, aa[1:]))
    puckered = settle(vrm, jawOpen=0.2, mouthPucker=0.6)
    assert puckered["ou"] > 0.5 and puckered["aa"] == 0.0
    closed = settle(vrm, frames=1, eyeBlinkLeft=1.0, eyeBlinkRight=1.0)
    assert (closed["blink"], closed["blinkLeft"], closed["blinkRight"]) == (1.0, 0.0, 0.0)
    wink = settle(vrm, frames=1, eyeBlinkLeft=1.0)
    assert wink["blinkLeft"] == 0.5 and wink["blinkRight"] == 0.0
    assert vrm.idle.blinks and not vrm.idle.gaze and not vrm.idle.head


# --- arithmetic and streaming -------------------------------------------------------------------


def test_mix_gain_offset_clamp_on_a_hand_computed_case(tmp_path):
    preset = check_preset(write(tmp_path, """
        description: arithmetic
        idle: {blinks: false, gaze: false, head: false}
        outputs:
          Mixed: {mix: {jawOpen: 0.5, mouthClose: 0.25}, gain: 2, offset: 0.1, clamp: [0, 0.8]}
          Lowered: {mix: {jawOpen: 1}, offset: -0.3}
          Constant: {mix: {}, offset: 0.25}
          Yaw: {mix: {headYaw: 2}}
          YawLimited: {mix: {headYaw: 1}, clamp: [-0.1, 0.1]}
        """))
    retargeter = preset.retargeter(FPS)
    out = retargeter.step(source_frame(jawOpen=0.4, mouthClose=0.2, headYaw=-0.4))
    # 2 * (0.5*0.4 + 0.25*0.2) + 0.1 = 0.6;  0.4 - 0.3 = 0.1;  rotations unclamped: 2 * -0.4 = -0.8
    np.testing.assert_allclose(out, [0.6, 0.1, 0.25, -0.8, -0.1], atol=1e-6)
    out = retargeter.step(source_frame(jawOpen=1.0, mouthClose=1.0, headYaw=0.05))
    np.testing.assert_allclose(out, [0.8, 0.7, 0.25, 0.1, 0.05], atol=1e-6)  # 1.6 clamped to 0.8
    out = retargeter.step(source_frame(jawOpen=0.1))
    assert out[1] == 0.0  # blendshapes clamp to 0..1 by default
    assert out.dtype == np.float32 and out.shape == (5,)


def test_apply_gives_exactly_the_streamed_frames(tmp_path):
    metahuman = load_preset("metahuman")  # One-Euro and springs: the state must carry over identically
    rng = np.random.default_rng(3)
    names = tuple(rng.permutation(rig.SOURCE_CHANNELS)[:40])  # any order, some channels absent
    values = rng.random((90, len(names))).astype(np.float32)
    track = CurveTrack(names, values, FPS)
    applied = metahuman.apply(track)

    retargeter = metahuman.retargeter(FPS)
    streamed = []
    for row in values:
        frame = np.zeros(len(rig.SOURCE_CHANNELS), np.float32)
        frame[[rig.SOURCE_CHANNELS.index(n) for n in names]] = row
        streamed.append(retargeter.step(frame))
    np.testing.assert_array_equal(applied.values, np.stack(streamed))
    assert applied.names == rig.LIVE_LINK_FACE_NAMES and applied.fps == FPS

    retargeter.reset()
    frame = np.zeros(len(rig.SOURCE_CHANNELS), np.float32)
    frame[[rig.SOURCE_CHANNELS.index(n) for n in names]] = values[0]
    np.testing.assert_array_equal(retargeter.step(frame), applied.values[0])


def test_smoothing_applies_to_its_region_only(tmp_path):
    preset = check_preset(write(tmp_path, """
        description: jaw smoothed, lips raw
        idle: {blinks: true, gaze: true, head: true}
        smoothing:
          jaw: {filter: spring, half_life_ms: 50}
          lips: none
        outputs:
          Jaw: {mix: {jawOpen: 1}}
          Funnel: {mix: {mouthFunnel: 1}}
          JawAsLips: {mix: {jawOpen: 1}, region: lips}
        """))
    retargeter = preset.retargeter(FPS)
    retargeter.step(source_frame())
    jaw, funnel, jaw_as_lips = retargeter.step(source_frame(jawOpen=1.0, mouthFunnel=1.0))
    assert 0.0 < jaw < 0.5 and funnel == 1.0 and jaw_as_lips == 1.0


def test_a_bad_frame_does_not_poison_the_stream():
    retargeter = load_preset("metahuman").retargeter(FPS)
    retargeter.step(source_frame(jawOpen=0.5))
    bad = source_frame(jawOpen=0.5)
    bad[0] = np.nan
    assert np.isfinite(retargeter.step(bad)).all()
    assert np.isfinite(retargeter.step(source_frame(jawOpen=0.5))).all()


def test_apply_refuses_channels_that_are_not_sources():
    with pytest.raises(ValueError, match="JawOpen"):
        load_preset("arkit").apply(CurveTrack(("JawOpen",), np.zeros((2, 1)), FPS))


# --- finding presets ----------------------------------------------------------------------------


def test_search_path_env_then_user_then_shipped(monkeypatch, tmp_path):
    env_dir, home = tmp_path / "env", tmp_path / "home"
    user_dir = home / ".config" / "pmmtalk-live" / "presets"
    env_dir.mkdir()
    user_dir.mkdir(parents=True)
    write(user_dir, MINIMAL.replace("test rig", "user rig"), "studio.yaml")
    write(user_dir, MINIMAL.replace("test rig", "user arkit"), "arkit.yaml")
    write(env_dir, MINIMAL.replace("test rig", "env arkit"), "arkit.yaml")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("PMMTALK_PRESETS", str(env_dir))

    assert load_preset("arkit").description == "env arkit"  # the env folder shadows the others
    assert load_preset("studio").description == "user rig"
    assert load_preset("vrm").path == SHIPPED_PRESETS_DIR / "vrm.yaml"
    assert load_preset(str(user_dir / "arkit.yaml")).description == "user arkit"  # a path is a path
    names = [info.name for info in list_presets()]
    assert names == sorted(set(names)) and {"studio", "arkit", "vrm"} <= set(names)


def test_unknown_name_lists_the_available_presets(monkeypatch, tmp_path):
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.delenv("PMMTALK_PRESETS", raising=False)
    with pytest.raises(PresetError) as caught:
        load_preset("metahumna")
    message = str(caught.value)
    assert "did you mean 'metahuman'?" in message and "arkit, metahuman, vrm" in message
    assert "\n" not in message


def test_a_broken_user_preset_is_listed_with_its_error(monkeypatch, tmp_path):
    write(tmp_path, "description: broken\n", "broken.yaml")
    monkeypatch.setenv("PMMTALK_PRESETS", str(tmp_path))
    infos = {info.name: info for info in list_presets()}
    assert "broken.yaml:1: outputs: required key is missing" in infos["broken"].error
    assert infos["vrm"].error is None


def test_describe_shows_mixes_ranges_filters_and_idle():
    text = describe_preset(load_preset("metahuman"))
    assert "JawOpen" in text and "1.25 * (jawOpen - mouthClose)" in text
    assert "MouthClose" in text and "0 (suppressed)" in text
    assert "unclamped, head: spring" in text
    assert "one_euro min_cutoff_hz=3 beta=1" in text
    assert "gaze: true" in text
    assert "gaze: false" in describe_preset(load_preset("vrm"))


# --- validation: every error names file, line and key -------------------------------------------

BAD_PRESETS = {
    "unknown source": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        outputs:
          JawOpen:
            mix: {jawOpn: 1}
        """, 5, "outputs.JawOpen.mix.jawOpn", "unknown source channel (did you mean 'jawOpen'?)"),
    "source in the wrong case": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        outputs:
          JawOpen: {mix: {JawOpen: 1}}
        """, 4, "outputs.JawOpen.mix.JawOpen", "did you mean 'jawOpen'?"),
    "typo in an output key": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        outputs:
          JawOpen:
            mix: {jawOpen: 1}
            gian: 2
        """, 6, "outputs.JawOpen.gian", "unknown key (did you mean 'gain'?)"),
    "typo at the top": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        smoothng: {}
        outputs: {Jaw: {mix: {jawOpen: 1}}}
        """, 3, "smoothng", "did you mean 'smoothing'?"),
    "not a number": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        outputs:
          JawOpen:
            mix: {jawOpen: 1}
            gain: loud
        """, 6, "outputs.JawOpen.gain", "expected a number, got 'loud'"),
    "a boolean is not a weight": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        outputs:
          JawOpen:
            mix:
              jawOpen: yes
        """, 6, "outputs.JawOpen.mix.jawOpen", "expected a number"),
    "exponent YAML reads as text": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        outputs:
          JawOpen: {mix: {jawOpen: 1e-3}}
        """, 4, "outputs.JawOpen.mix.jawOpen", "write exponents with a dot and a sign"),
    "missing mix": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        outputs:
          JawOpen:
            gain: 2
        """, 4, "outputs.JawOpen.mix", "required key is missing"),
    "missing description": ("""
        idle: {blinks: true, gaze: true, head: true}
        outputs: {Jaw: {mix: {jawOpen: 1}}}
        """, 1, "description", "required key is missing"),
    "missing idle section": ("""
        description: x
        outputs: {Jaw: {mix: {jawOpen: 1}}}
        """, 1, "idle", "required key is missing"),
    "missing idle switch": ("""
        description: x
        outputs: {Jaw: {mix: {jawOpen: 1}}}
        idle:
          blinks: true
          head: true
        """, 3, "idle.gaze", "required key is missing"),
    "idle switch not a boolean": ("""
        description: x
        outputs: {Jaw: {mix: {jawOpen: 1}}}
        idle:
          blinks: 2
          gaze: true
          head: true
        """, 4, "idle.blinks", "expected true or false, got '2'"),
    "bad filter name": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        smoothing:
          jaw: {filter: one-euro, min_cutoff_hz: 1, beta: 0}
        outputs: {Jaw: {mix: {jawOpen: 1}}}
        """, 4, "smoothing.jaw.filter", "unknown filter 'one-euro' (did you mean 'one_euro'?)"),
    "bad filter shorthand": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        smoothing:
          eyes: off
        outputs: {Jaw: {mix: {jawOpen: 1}}}
        """, 4, "smoothing.eyes.filter", "'off' is not a filter; write `none` for no smoothing"),
    "missing filter parameter": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        smoothing:
          jaw:
            filter: one_euro
            min_cutoff_hz: 1.0
        outputs: {Jaw: {mix: {jawOpen: 1}}}
        """, 4, "smoothing.jaw.beta", "required one_euro parameter is missing"),
    "parameter of another filter": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        smoothing:
          lips:
            filter: spring
            half_life_ms: 30
            beta: 1
        outputs: {Jaw: {mix: {jawOpen: 1}}}
        """, 7, "smoothing.lips.beta", "unknown spring parameter"),
    "misspelt filter key": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        smoothing:
          lips: {filtr: spring, half_life_ms: 30}
        outputs: {Jaw: {mix: {jawOpen: 1}}}
        """, 4, "smoothing.lips.filtr", "did you mean 'filter'?"),
    "negative half-life": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        smoothing:
          lips:
            filter: spring
            half_life_ms: -5
        outputs: {Jaw: {mix: {jawOpen: 1}}}
        """, 6, "smoothing.lips.half_life_ms", "must be >= 0.1 and <= 60000, got -5"),
    "unknown region": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        smoothing:
          mouth: none
        outputs: {Jaw: {mix: {jawOpen: 1}}}
        """, 4, "smoothing.mouth", "unknown region"),
    "unknown output region": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        outputs:
          Jaw:
            mix: {jawOpen: 1}
            region: jaws
        """, 6, "outputs.Jaw.region", "unknown region 'jaws' (did you mean 'jaw'?)"),
    "clamp min above max": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        outputs:
          Jaw:
            mix: {jawOpen: 1}
            clamp: [1, 0]
        """, 6, "outputs.Jaw.clamp", "low 1 is above high 0"),
    "clamp not a pair": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        outputs:
          Jaw: {mix: {jawOpen: 1}, clamp: 1}
        """, 4, "outputs.Jaw.clamp", "expected [low, high] or none"),
    "duplicate output": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        outputs:
          Jaw: {mix: {jawOpen: 1}}
          Lips: {mix: {mouthFunnel: 1}}
          Jaw: {mix: {jawOpen: 0.5}}
        """, 6, "outputs.Jaw", "duplicate key (first given on line 4)"),
    "duplicate source in a mix": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        outputs:
          Jaw:
            mix:
              jawOpen: 1
              jawOpen: 0.5
        """, 7, "outputs.Jaw.mix.jawOpen", "duplicate key"),
    "no outputs": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        outputs: {}
        """, 3, "outputs", "needs at least one output curve"),
    "outputs given as a list": ("""
        description: x
        idle: {blinks: true, gaze: true, head: true}
        outputs:
          - JawOpen
        """, 4, "outputs", "expected a mapping of names to values, got a list"),
    "unsafe python tag": ("""
        description: !!python/object/apply:os.system ["echo pwned"]
        idle: {blinks: true, gaze: true, head: true}
        outputs: {Jaw: {mix: {jawOpen: 1}}}
        """, 1, "description", "expected a single value, got a list"),
    "unsafe python scalar tag": ("""
        description: !!python/name:os.system
        idle: {blinks: true, gaze: true, head: true}
        outputs: {Jaw: {mix: {jawOpen: 1}}}
        """, 1, "description", "cannot read value"),
}


@pytest.mark.parametrize("text, line, key, message", BAD_PRESETS.values(), ids=BAD_PRESETS.keys())
def test_bad_preset_names_file_line_and_key(tmp_path, text, line, key, message):
    path = write(tmp_path, text)
    with pytest.raises(PresetError) as caught:
        check_preset(path)
    error = str(caught.value)
    assert error.startswith(f"{path}:{line}: {key}: "), error
    assert message in error and "\n" not in error


@pytest.mark.parametrize("content, expected", [
    (b"", ":1: empty file"),
    (b"# only a comment\n", ":1: empty file"),
    (b"outputs: {Jaw: [1, 2}\n", ":1: not valid YAML"),
    (b"description: x\n\tidle: true\n", ":2: not valid YAML"),
    (b"just some words\n", ":1: not a preset: expected a YAML mapping"),
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", ": not a text file"),
])
def test_files_that_are_not_presets(tmp_path, content, expected):
    path = tmp_path / "notes.yaml"
    path.write_bytes(content)
    with pytest.raises(PresetError) as caught:
        check_preset(path)
    assert str(caught.value).startswith(str(path)) and expected in str(caught.value)


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(PresetError, match="no such preset file"):
        load_preset(tmp_path / "nope.yaml")
    with pytest.raises(PresetError, match="is a folder"):
        check_preset(tmp_path)


def test_anchors_and_merge_keys_work(tmp_path):
    preset = check_preset(write(tmp_path, """
        description: shared settings through a YAML anchor
        idle: {blinks: true, gaze: true, head: true, head_scale: 0.5}
        smoothing:
          jaw: &soft {filter: spring, half_life_ms: 30}
          lips: *soft
        outputs:
          Jaw: &strong {mix: {jawOpen: 1}, gain: 1.5}
          JawSoft:
            <<: *strong
            gain: 0.5
        """))
    assert preset.smoothing["lips"].kind == "spring"
    assert [out.gain for out in preset.outputs] == [1.5, 0.5]
    assert preset.idle.head_scale == 0.5 and preset.idle.blink_scale == 1.0


# --- one validation: what passes `presets check` works in every use (issue 16, item 2) ------------

CHECK_REFUSES = {
    "a number of hundreds of digits": ("smoothing:\n  jaw: {filter: one_euro, min_cutoff_hz: 1, beta: 1" + "0" * 400 + "}\n",
                                       2, "smoothing.jaw.beta", "must be >= 0 and <= 1000"),
    "a number of thousands of digits": ("outputs:\n  Jaw: {mix: {jawOpen: 1" + "0" * 5000 + "}}\n",
                                        2, "outputs.Jaw.mix.jawOpen", "cannot read value: a number of 5001 digits"),
    "a spring too fast to stay finite": ("smoothing:\n  jaw: {filter: spring, half_life_ms: 1.0e-300}\n",
                                         2, "smoothing.jaw.half_life_ms", "must be >= 0.1 and <= 60000, got 1.0e-300"),
    "a weight beyond float32": ("outputs:\n  Yaw: {mix: {headYaw: 1.0e+300}, clamp: none}\n",
                                2, "outputs.Yaw.mix.headYaw", "must be >= -1000 and <= 1000"),
    "a gain too large": ("outputs:\n  Jaw: {mix: {jawOpen: 1}, gain: 5000}\n", 2, "outputs.Jaw.gain", "<= 1000"),
    "an idle scale too large": ("idle: {blinks: true, gaze: true, head: true, head_scale: 1.0e+300}\n",
                                1, "idle.head_scale", "must be >= 0 and <= 10"),
    "a comma in a curve name": ('outputs:\n  "Jaw,Open": {mix: {jawOpen: 1}}\n', 2, "outputs.Jaw,Open",
                                "cannot contain ','"),
    "a quote in a curve name": ("outputs:\n  'Jaw\"Open': {mix: {jawOpen: 1}}\n", 2, 'outputs.Jaw"Open',
                                "cannot contain '\"'"),
    "a newline in a curve name": ('outputs:\n  "Jaw\\nOpen": {mix: {jawOpen: 1}}\n', 2, "outputs.Jaw\\nOpen",
                                  "cannot contain '\\n'"),
    "a tab in a curve name": ('outputs:\n  "Jaw\\tOpen": {mix: {jawOpen: 1}}\n', 2, "outputs.Jaw\\tOpen",
                              "cannot contain '\\t'"),
    "names equal up to case": ("outputs:\n  JawOpen: {mix: {jawOpen: 1}}\n  jawopen: {mix: {jawOpen: 0.5}}\n",
                               3, "outputs.jawopen", "same name as 'JawOpen' (line 2) ignoring case"),
    "a take's own column": ("outputs:\n  timecode: {mix: {jawOpen: 1}}\n", 2, "outputs.timecode",
                            "'timecode' is a column of every take"),
    "a name with a trailing space": ('outputs:\n  "Jaw ": {mix: {jawOpen: 1}}\n', 2, "outputs.Jaw ",
                                     "cannot start or end with spaces"),
    "a name too long": ("outputs:\n  " + "J" * 65 + ": {mix: {jawOpen: 1}}\n", 2, "outputs." + "J" * 40 + "...",
                        "at most 64 bytes"),
}


@pytest.mark.parametrize("body, line, key, message", CHECK_REFUSES.values(), ids=CHECK_REFUSES.keys())
def test_check_refuses_what_would_fail_in_use(tmp_path, body, line, key, message):
    """Each of these passed `presets check` (or crashed it) and failed only later: at a take's CSV
    header, at the OSC size limit, or as NaN in the filters that stopped the take."""
    defaults = {"description": "description: x\n", "idle": "idle: {blinks: true, gaze: true, head: true}\n",
                "outputs": "outputs:\n  Jaw: {mix: {jawOpen: 1}}\n"}
    text = body + "".join(section for name, section in defaults.items() if not body.startswith(name))
    path = tmp_path / "custom.yaml"
    path.write_text(text)
    with pytest.raises(PresetError) as caught:
        check_preset(path)
    error = str(caught.value)
    assert error.startswith(f"{path}:{line}: {key}: "), error
    assert message in error and "\n" not in error and len(error) < len(str(path)) + 200


def curves_text(count: int, name=lambda i: f"Curve{i}") -> str:
    return "".join(f"  '{name(i)}': {{mix: {{jawOpen: 1}}}}\n" for i in range(count))


def test_too_many_curves_are_refused_at_check(tmp_path):
    path = write(tmp_path, MINIMAL.split("outputs:")[0] + "outputs:\n" + curves_text(MAX_CURVES + 1))
    with pytest.raises(PresetError, match=f"custom.yaml:3: outputs: {MAX_CURVES + 1} curves; a preset has at "
                                          f"most {MAX_CURVES}"):
        check_preset(path)
    path = write(tmp_path, MINIMAL.split("outputs:")[0] + "outputs:\n" + curves_text(5000))
    with pytest.raises(PresetError, match="5000 curves"):
        check_preset(path)


def test_the_largest_valid_preset_fits_every_sink(tmp_path):
    """MAX_CURVES curves with the longest names allowed (odd but legal characters) go through the OSC
    encoder with the longest subject and into a CSV take that reads back (Live Link Face packets carry
    the 61 ARKit curves whatever the preset)."""
    def name(i: int) -> str:  # 64 UTF-8 bytes: spaces inside, a semicolon, accents
        return f"Ré; {i:03d} " + "x" * (MAX_CURVE_NAME_BYTES - 9)
    path = write(tmp_path, MINIMAL.split("outputs:")[0] + "outputs:\n" + curves_text(MAX_CURVES, name))
    preset = check_preset(path)
    assert len(preset.output_names) == MAX_CURVES
    assert all(len(n.encode()) == MAX_CURVE_NAME_BYTES for n in preset.output_names)
    track = preset.apply(CurveTrack(("jawOpen",), np.full((3, 1), 0.5, np.float32), FPS))

    longest_subject = "S" * osc.MAX_SUBJECT_BYTES
    osc.check_names(preset.output_names, longest_subject)
    assert all(len(d) <= osc.MAX_DATAGRAM_BYTES for d in osc.encode_names(longest_subject, preset.output_names, FPS))
    frame = osc.encode_frame(longest_subject, osc.schema_id(preset.output_names), 0, 0.0, track.values[0])
    assert len(frame) <= osc.MAX_DATAGRAM_BYTES
    csv_path = write_take(tmp_path / "takes", track, None, slate="s", take=1, subject="Ada")
    taken = read_take(csv_path)
    assert taken.names[-MAX_CURVES:] == preset.output_names
    np.testing.assert_array_equal(taken.values[:, -MAX_CURVES:], track.values)


def test_valid_extremes_stay_finite(tmp_path):
    """Every number at the edge of its range, wild inputs, both frame rates: nothing becomes NaN or
    infinite (the half-life of 1e-300 ms that did is now out of range)."""
    preset = check_preset(write(tmp_path, """
        description: every knob at an end of its range
        idle: {blinks: true, gaze: true, head: true, gaze_scale: 10, head_scale: 10}
        smoothing:
          jaw: {filter: spring, half_life_ms: 0.1}
          head: {filter: spring, half_life_ms: 60000}
          lips: {filter: one_euro, min_cutoff_hz: 1.0e-300, beta: 1000, d_cutoff_hz: 1000}
          brows: {filter: one_euro, min_cutoff_hz: 1000, beta: 0, d_cutoff_hz: 1.0e-300}
        outputs:
          Jaw: {mix: {jawOpen: 1000, mouthClose: -1000}, gain: 1000, offset: -1000, clamp: none}
          Yaw: {mix: {headYaw: 1000, headPitch: 1000}, gain: 1000, offset: 1000}
          Lips: {mix: {mouthFunnel: 1000}, gain: -1000, clamp: [-1000, 1000]}
          Brow: {mix: {browInnerUp: -1000}, gain: 1000, clamp: none}
        """))
    rng = np.random.default_rng(0)
    for fps in (30.0, 60.0):
        retargeter = preset.retargeter(fps)
        for t in range(300):
            frame = rng.uniform(-np.pi, np.pi, len(rig.SOURCE_CHANNELS)).astype(np.float32) * (t % 2)
            assert np.isfinite(retargeter.step(frame)).all()


def test_an_error_quotes_little_of_a_linked_file(tmp_path):
    """A preset that is a link to some other text file: the error says what is wrong, in one short line,
    instead of quoting the other file."""
    other = tmp_path / "notes.txt"
    other.write_text("word " * 200 + "\n")
    link = tmp_path / "mine.yaml"
    link.symlink_to(other)
    with pytest.raises(PresetError) as caught:
        check_preset(link)
    error = str(caught.value)
    assert error.startswith(f"{link}:1: not a preset") and len(error) < len(str(link)) + 150, error
    assert error.count("word") < 10


def test_a_retargeter_changed_while_it_runs_goes_on_without_a_jump():
    """A tuned preset (the studio's slider, a file reload) keeps the smoothing state of the curves it
    smooths the same way: the first frame after the change is smoothed, not the raw target."""
    preset = load_preset("metahuman")
    old = preset.retargeter(60.0)
    frame = np.zeros(len(rig.SOURCE_CHANNELS), np.float32)
    for _ in range(30):
        old.step(frame)
    frame[SOURCE_INDEX["jawOpen"]] = 1.0
    jaw = preset.output_names.index("JawOpen")
    tuned = dataclasses.replace(preset, outputs=tuple(dataclasses.replace(o, gain=1.2) if o.name == "JawOpen" else o
                                                      for o in preset.outputs))
    fresh, carried = tuned.retargeter(60.0), tuned.retargeter(60.0)
    carried.continue_from(old)
    assert fresh.step(frame)[jaw] == pytest.approx(1.0)  # a fresh filter passes the first frame through
    assert 0.0 < carried.step(frame)[jaw] < 0.8  # the carried one is smoothed from where the jaw was (closed)

    other = dataclasses.replace(tuned, smoothing={**tuned.smoothing, "jaw": Smoothing("spring", (("half_life_ms", 40.0),))})
    changed_kind = other.retargeter(60.0)
    changed_kind.continue_from(old)  # the jaw's filter is another kind now: it starts afresh
    assert changed_kind.step(frame)[jaw] == pytest.approx(1.0)
