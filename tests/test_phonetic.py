"""The phonetic core on hand-made phone lists: poses, co-articulation, lip seal, loudness; and its place
below the animators and the model."""

import ast
from pathlib import Path

import numpy as np
import pytest

from pmmtalk_live import rig
from pmmtalk_live.phonetic import DIPHTHONGS, VISEME_OF_PHONE, render_phones
from pmmtalk_live.evaluation.lipsync import PHONE_OPENNESS, lip_aperture
from pmmtalk_live.tracks import Phone

PACKAGE = Path(rig.__file__).parent


def phone_list(spec, start=0.3):
    """[("M", 0.08), ("AA", 0.15)] -> timed phones after `start` s of silence, then silence."""
    out, t = [Phone("SIL", 0.0, start)], start
    for label, dur in spec:
        out.append(Phone(label, t, t + dur))
        t += dur
    out.append(Phone("SIL", t, t + 0.4))
    return out, t + 0.4


def render(spec, fps=60, loudness=None):
    phones, end = phone_list(spec)
    n = int(end * fps) + 1
    return phones, render_phones(phones, n, fps, loudness)


def frames_of(phone, fps):
    return slice(int(np.ceil(phone.start_s * fps)), int(np.floor(phone.end_s * fps)) + 1)


@pytest.mark.parametrize("fps", [30, 60])
def test_frame_count_channels_and_range(fps):
    phones, end = phone_list([("HH", 0.06), ("AH", 0.1), ("L", 0.06), ("OW", 0.2)])
    n = int(end * fps) + 1
    track = render_phones(phones, n, fps)
    assert track.names == rig.MODEL_CHANNELS
    assert track.values.shape == (n, 32) and track.values.dtype == np.float32
    assert track.values.min() >= 0.0 and track.values.max() <= 1.0


def test_every_arpabet_phone_has_a_viseme():
    arpabet = set(PHONE_OPENNESS) - {"SIL"}
    assert arpabet <= set(VISEME_OF_PHONE) | set(DIPHTHONGS)


def test_bilabials_close_the_lips_between_open_vowels():
    # "a map": open vowel, M, open vowel, P, silence; the jaw stays partly open but the lips meet
    phones, track = render([("AH", 0.1), ("M", 0.07), ("AE", 0.14), ("P", 0.08)])
    aperture = lip_aperture(track)
    for p in phones:
        if p.label in ("M", "P"):
            assert aperture[frames_of(p, 60)].min() < 0.05, p
        if p.label in ("AH", "AE"):
            assert aperture[frames_of(p, 60)].max() > 0.35, p


def test_labiodentals_roll_the_lower_lip():
    phones, track = render([("AA", 0.12), ("F", 0.09), ("AA", 0.12)])
    f = phones[2]
    roll = track.column("mouthRollLower")[frames_of(f, 60)]
    assert roll.max() > 0.4
    assert track.column("mouthRollLower")[frames_of(phones[1], 60)].min() < 0.2


def test_rounded_vowels_pucker_and_anticipate():
    phones, track = render([("S", 0.1), ("UW", 0.18)])
    pucker = track.column("mouthPucker")
    uw = phones[2]
    assert pucker[frames_of(uw, 60)].max() > 0.5
    # lips start rounding before the vowel begins (anticipatory co-articulation)
    before = int(uw.start_s * 60) - 1
    assert pucker[before] > 0.1


def test_silence_relaxes_to_closed_neutral():
    phones, track = render([("AA", 0.2)])
    assert np.all(track.values[0] < 0.01)
    assert np.all(track.values[-1] < 0.01)
    assert lip_aperture(track)[-1] < 0.01


def test_no_on_off_switching():
    # neighbouring phones blend: no channel jumps by more than a fraction per 60 fps frame
    _, track = render([("B", 0.06), ("AA", 0.1), ("T", 0.05), ("IY", 0.1), ("M", 0.06), ("OW", 0.2)])
    assert np.abs(np.diff(track.values, axis=0)).max() < 0.25


def test_diphthong_glides_between_two_targets():
    phones, track = render([("AY", 0.3)])
    ay = phones[1]
    jaw = track.column("jawOpen")[frames_of(ay, 60)]
    smile = track.column("mouthSmileLeft")[frames_of(ay, 60)]
    assert jaw[: len(jaw) // 3].mean() > jaw[-len(jaw) // 4:].mean() + 0.1  # opens, then closes
    assert smile[-3:].mean() > smile[:3].mean() + 0.1                      # ends spread, like IH


def test_loudness_scales_the_opening():
    phones, end = phone_list([("AA", 0.25)])
    n = int(end * 60) + 1
    quiet = render_phones(phones, n, 60, np.full(n, 0.1, np.float32))
    loud = render_phones(phones, n, 60, np.full(n, 1.0, np.float32))
    aa = frames_of(phones[1], 60)
    assert loud.column("jawOpen")[aa].max() > 1.5 * quiet.column("jawOpen")[aa].max()


def test_empty_phone_list_is_neutral():
    track = render_phones([], 10, 60)
    assert track.values.shape == (10, 32) and not track.values.any()


def imported_modules(path: Path) -> set[str]:
    """Every pmmtalk_live module a file imports, at any depth (function-level imports included)."""
    package = ["pmmtalk_live", *path.relative_to(PACKAGE).parent.parts]
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[:len(package) - node.level + 1]) if node.level else ""
            module = ".".join(p for p in (base, node.module) if p)
            found |= {module} | {f"{module}.{a.name}" for a in node.names}
    return {m for m in found if m.startswith("pmmtalk_live.")}


DAEMON = ("animators", "stream", "sinks", "control", "serve", "cli")


@pytest.mark.parametrize("folder, above", [("phonetic", DAEMON + ("model",)), ("model", DAEMON)])
def test_the_phonetic_core_and_the_model_never_import_the_animators(folder, above):
    """The model library and the corpus labeller need the phonetic core, not the daemon's animators."""
    for path in sorted((PACKAGE / folder).rglob("*.py")):
        upward = {m for m in imported_modules(path) if m.split(".")[1] in above}
        assert not upward, f"{path.relative_to(PACKAGE)} imports {sorted(upward)}"
