"""The expression layer and the emotions (animators/expression.py, animators/emotion.py): what moves
the face above the mouth, and the promise that no emotion stops the lips closing or opening."""

from __future__ import annotations

import numpy as np
import pytest

from pmmtalk_live import rig
from pmmtalk_live.animators.emotion import ARTICULATION, EMOTIONS, NEUTRAL, POSES, Emotion, EmotionBlend, parse_emotion
from pmmtalk_live.animators.expression import EXPRESSION_OFF, ExpressionSettings, FaceLayers, phrase_boundary
from pmmtalk_live.animators.idle import IDLE_OFF, IdleSettings
from pmmtalk_live.prosody import ProsodyFrames

FPS = 60.0
SOURCE = {name: i for i, name in enumerate(rig.SOURCE_CHANNELS)}
BROWS = [SOURCE[n] for n in ("browInnerUp", "browOuterUpLeft", "browOuterUpRight", "browDownLeft", "browDownRight")]


def prosody(n: int, **values) -> ProsodyFrames:
    """n frames of prosody, every field 0 unless given (a constant or an array)."""
    fields = ("f0_hz", "pitch", "voiced", "loudness", "speech", "accent", "emphasis", "stress", "rising", "pause",
              "rate")
    arrays = {f: np.broadcast_to(np.asarray(values.get(f, 0.0), np.float32), (n,)).copy() for f in fields}
    return ProsodyFrames(first_frame=0, **arrays)


def coeffs(**values) -> np.ndarray:
    row = np.zeros(rig.NUM_COEFFS, np.float32)
    for name, value in values.items():
        row[rig.CHANNEL_INDEX[name]] = value
    return row


def run(layers: FaceLayers, p: ProsodyFrames | None, row: np.ndarray, n: int) -> np.ndarray:
    return np.stack([layers.frame(row, 0.5, p, k) for k in range(n)])


def aperture(frames: np.ndarray) -> np.ndarray:
    return rig.lip_aperture(frames, rig.SOURCE_CHANNELS)


def test_parse_emotion():
    assert parse_emotion("happy") == Emotion("happy", 0.6)
    assert parse_emotion(" Sad:0.3 ") == Emotion("sad", 0.3)
    for bad, reason in (("joyful", "unknown emotion"), ("happy:2", "0..1"), ("happy:lots", "not a number")):
        with pytest.raises(ValueError, match=reason):
            parse_emotion(bad)


def test_without_prosody_or_emotion_the_layers_are_the_idle_layer():
    layers = FaceLayers(FPS, IdleSettings(), ExpressionSettings(), seed=3)
    from pmmtalk_live.animators.idle import IdleLayer

    idle = IdleLayer(IdleSettings(), FPS, seed=3)
    row = coeffs(jawOpen=0.4, mouthSmileLeft=0.1)
    for k in range(200):
        assert np.array_equal(layers.frame(row, 0.3, None), rig.source_frames(row, idle.step(0.3)))


def test_accents_and_rising_intonation_raise_the_brows_and_pauses_relax_them():
    n = 240
    accent = np.zeros(n)
    accent[30:36] = 1.0
    rising = np.zeros(n)
    rising[100:130] = 1.0
    p = prosody(n, speech=np.r_[np.ones(150), np.zeros(90)], accent=accent, emphasis=accent, stress=accent,
                rising=rising, pause=np.r_[np.zeros(150), np.arange(90) / FPS], pitch=3.0)
    frames = run(FaceLayers(FPS, IDLE_OFF, ExpressionSettings()), p, coeffs(), n)
    inner = frames[:, SOURCE["browInnerUp"]]
    assert inner[38] > 0.2 and inner[38] > 3 * inner[25]  # raised just after the accent
    assert frames[125, SOURCE["browOuterUpLeft"]] > 0.15 > inner[125]  # the question lift: outer brows
    assert inner[-1] < 0.02  # relaxed in the pause
    assert frames[:, SOURCE["headPitch"]][40] > 0.02  # a nod on the (stressed) accent
    assert abs(frames[:, SOURCE["headRoll"]][170]) > 0.01  # a tilt at the phrase's end


def test_brows_raise_on_accents_only_and_the_head_nods_on_stressed_syllables_only():
    """A loud syllable without a pitch accent raises no brows; a loud syllable spoken low (emphasis
    without stress) gives no nod but a frown; a stressed one nods."""
    n = 90
    pulse = np.zeros(n)
    pulse[30:36] = 1.0
    layers = lambda: FaceLayers(FPS, IDLE_OFF, ExpressionSettings())  # noqa: E731
    loud = run(layers(), prosody(n, speech=1.0, emphasis=pulse), coeffs(), n)
    assert loud[:, SOURCE["browInnerUp"]].max() < 0.01 and np.abs(loud[:, SOURCE["headPitch"]]).max() < 0.001
    assert loud[:, SOURCE["browDownLeft"]].max() > 0.05
    accented = run(layers(), prosody(n, speech=1.0, accent=pulse), coeffs(), n)
    assert accented[:, SOURCE["browInnerUp"]].max() > 0.2
    stressed = run(layers(), prosody(n, speech=1.0, emphasis=pulse, stress=pulse), coeffs(), n)
    assert stressed[:, SOURCE["headPitch"]].max() > 0.02


def test_nothing_moves_on_noise_or_silence_and_settings_scale_each_region():
    n = 120
    quiet = prosody(n)
    frames = run(FaceLayers(FPS, IDLE_OFF, ExpressionSettings()), quiet, coeffs(), n)
    assert np.abs(frames).max() == 0.0
    busy = prosody(n, speech=1.0, accent=np.tile([1.0] + [0.0] * 29, 4), emphasis=0.5, pitch=-3.0)
    full = run(FaceLayers(FPS, IDLE_OFF, ExpressionSettings()), busy, coeffs(), n)
    off = run(FaceLayers(FPS, IDLE_OFF, ExpressionSettings(brows=0.0)), busy, coeffs(), n)
    assert full[:, BROWS].std() > 0.03 and off[:, BROWS].max() == 0.0
    assert np.abs(run(FaceLayers(FPS, IDLE_OFF, EXPRESSION_OFF), busy, coeffs(), n)).max() == 0.0


def test_a_phrase_boundary_is_one_frame():
    pauses = np.arange(60) / FPS
    assert sum(phrase_boundary(p, FPS) for p in pauses) == 1


@pytest.mark.parametrize("name", EMOTIONS)
def test_no_emotion_keeps_the_lips_from_closing_or_opening(name):
    """At full intensity: a bilabial closure (the jaw a little open, mouthClose closing the lips) stays
    closed; an open vowel stays open, its size changed by the emotion's articulation only (sad 15 %
    smaller at full intensity, 9 % at the default 0.6)."""
    emotion = Emotion(name, 1.0)
    closure = coeffs(jawOpen=0.25, mouthClose=0.25, mouthPressLeft=0.3, mouthPressRight=0.3)
    vowel = coeffs(jawOpen=0.6, mouthLowerDownLeft=0.3, mouthLowerDownRight=0.3, mouthUpperUpLeft=0.2,
                   mouthUpperUpRight=0.2)
    for row, reference in ((closure, 0.0), (vowel, float(aperture(rig.source_frames(vowel, np.zeros(29))[None])[0]))):
        layers = FaceLayers(FPS, IDLE_OFF, ExpressionSettings(blend_ms=0.0), emotion=emotion)
        got = aperture(run(layers, prosody(10, speech=1.0), row, 10))[-1]
        if reference == 0.0:
            assert got < rig.CLOSED_APERTURE / 10
        else:
            assert got > 5 * rig.CLOSED_APERTURE
            assert abs(got / reference - ARTICULATION[name]) < 0.02


def test_an_emotion_blends_in_over_its_time():
    blend = EmotionBlend(FPS, NEUTRAL, blend_s=0.4)
    blend.set(Emotion("happy", 1.0))
    smile = SOURCE["mouthSmileLeft"]
    values = []
    for _ in range(int(1.2 * FPS)):
        blend.step()
        values.append(blend.pose[smile])
    target = POSES["happy"]["mouthSmileLeft"]
    assert values[0] < 0.1 * target and values[int(0.4 * FPS)] == pytest.approx(target * (1 - np.exp(-1)), rel=0.05)
    assert values[-1] > 0.94 * target


def test_the_emotion_setting_and_option(tmp_path):
    import subprocess
    import sys

    from pmmtalk_live.config import load_config
    from pmmtalk_live.errors import ConfigError
    from pmmtalk_live.sinks.csv_take import read_take
    from tests.conftest import EXAMPLE_WAV, REPO

    assert load_config(None, {"emotion": "sad:0.3"}).emotion == Emotion("sad", 0.3)
    assert load_config(None, {}).emotion == NEUTRAL
    with pytest.raises(ConfigError, match="unknown emotion 'glad'"):
        load_config(None, {"emotion": "glad"})

    cli = [sys.executable, "-m", "pmmtalk_live.cli", "animate", str(EXAMPLE_WAV), "--animator", "phonetic", "-q"]
    refused = subprocess.run(cli + ["--emotion", "happy:3"], capture_output=True, text=True, cwd=REPO)
    assert refused.returncode == 2 and "emotion intensity must be 0..1" in refused.stderr
    smiles = {}
    for name in ("neutral", "happy"):
        done = subprocess.run(cli + ["--emotion", name, "--preset", "metahuman", "-o", str(tmp_path / name)],
                              capture_output=True, text=True, cwd=REPO)
        assert done.returncode == 0, done.stderr
        take = read_take(next((tmp_path / name).glob("*_raw.csv")))
        smiles[name] = float(take.column("MouthSmileLeft").mean())
    assert smiles["happy"] >= 0.25 > smiles["neutral"]
