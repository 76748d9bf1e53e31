"""The studio page in a real headless browser (Debian's chromium through Selenium): it loads with no
console error, draws the live frames, a slider change reaches the Live Link Face packets within 100 ms,
save writes a preset `presets check` accepts with its comments kept, every ARKit shape changes the face
preview, and a take plays with its audio, moving the face."""

from __future__ import annotations

import subprocess
import sys
import time

import numpy as np
import pytest

from pmmtalk_live import rig
from pmmtalk_live.audio.files import read_audio
from pmmtalk_live.config import Destination
from pmmtalk_live.retarget.preset import SHIPPED_PRESETS_DIR
from pmmtalk_live.sinks.csv_take import write_take
from pmmtalk_live.studio import StudioServer
from pmmtalk_live.tracks import CurveTrack

from .browser import changed_fraction, chromium, console_errors, element_pixels  # noqa: F401 (fixture)
from .conftest import EXAMPLE_WAV, user_presets_folder
from .test_serve_control import Session
from .wire import decode_live_link_face

MOUTH_CLOSE = rig.LIVE_LINK_FACE_NAMES.index("MouthClose")
VISIBLE = 0.003
"""A change in at least this fraction of the face's pixels is a visible change."""
IRIS_VISIBLE = 0.0006
"""An eye's roll turns only its iris pattern: a visible change of a smaller area."""


def wait_until(predicate, timeout_s: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.fixture(scope="module")
def live(tmp_path_factory):
    """A live session with its studio, on a preset in a presets folder of the user's."""
    tmp_path = tmp_path_factory.mktemp("studio")
    patch = pytest.MonkeyPatch()
    folder = user_presets_folder(tmp_path, patch)
    session = Session(tmp_path, preset="mine", studio=Destination("127.0.0.1", 0))
    session.presets_folder = folder
    yield session
    session.close()
    patch.undo()


def test_the_live_page(chromium, live):
    chromium.get(live.session.studio.url)
    assert wait_until(lambda: chromium.execute_script("return window.studio && window.studio.shown !== null"))
    assert wait_until(lambda: chromium.find_element("id", "sent").text not in ("", "–"))
    assert chromium.find_element("id", "preset-name").text == "mine"
    assert chromium.find_elements("css selector", "#editor [data-curve]")  # a control per curve
    assert console_errors(chromium) == []


def test_a_slider_reaches_the_live_link_packets_within_100_ms(chromium, live):
    slider = 'document.querySelector(\'input[type=range][data-path="outputs.MouthClose.offset"]\')'
    assert wait_until(lambda: chromium.execute_script(f"return {slider} !== null"))
    assert decode_live_link_face(live.livelink.payloads()[-1]).values[MOUTH_CLOSE] == 0.0
    delays = []
    for value in (0.5, 0.25, 0.75, 0.1, 0.5):  # the median of five moves: one slow moment is not the rule
        moved = time.monotonic()
        chromium.execute_script(f"const s = {slider}; s.value = arguments[0]; s.dispatchEvent(new Event('input'));",
                                value)
        shows = lambda data: decode_live_link_face(data).values[MOUTH_CLOSE] == pytest.approx(value)
        assert live.livelink.wait_for(lambda p: shows(p[-1]), 5)
        delays.append(next(t for t, data in live.livelink.datagrams if t >= moved and shows(data)) - moved)
        time.sleep(0.2)
    assert float(np.median(delays)) < 0.1, f"slider to packets: {[round(d * 1000) for d in delays]} ms"
    assert wait_until(lambda: not chromium.find_element("id", "preset-changed").get_attribute("hidden"))


def test_save_as_writes_a_preset_that_presets_check_accepts_with_its_comments(chromium, live):
    chromium.find_element("id", "save-name").send_keys("from_the_page")
    chromium.find_element("id", "save-as").click()
    saved = live.presets_folder / "from_the_page.yaml"
    assert wait_until(saved.exists)
    assert wait_until(lambda: "saved to" in chromium.find_element("id", "message").text)
    original = (SHIPPED_PRESETS_DIR / "metahuman.yaml").read_text().splitlines()
    comments = [line for line in original if line.lstrip().startswith("#")]
    text = saved.read_text()
    assert all(line in text for line in comments)
    assert "MouthClose: {mix: {}, offset: 0.5}" in text
    checked = subprocess.run([sys.executable, "-m", "pmmtalk_live.cli", "presets", "check", str(saved)],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert chromium.find_element("id", "preset-name").text == "from_the_page"
    assert console_errors(chromium) == []


@pytest.fixture(scope="module")
def take(tmp_path_factory):
    """A take: one second of silence, then an open vowel held for a second, with the example's audio."""
    folder = tmp_path_factory.mktemp("takes")
    values = np.zeros((120, rig.NUM_LIVE_LINK_FACE), np.float32)
    for name, value in (("JawOpen", 0.7), ("MouthLowerDownLeft", 0.3), ("MouthLowerDownRight", 0.3),
                        ("MouthUpperUpLeft", 0.2), ("MouthUpperUpRight", 0.2), ("MouthFunnel", 0.2)):
        values[60:, rig.LIVE_LINK_FACE_NAMES.index(name)] = value
    audio = read_audio(EXAMPLE_WAV)
    path = write_take(folder, CurveTrack(rig.LIVE_LINK_FACE_NAMES, values, 60.0), audio, slate="vowel", take=1,
                      subject="test")
    server = StudioServer("127.0.0.1", 0, takes_folder=folder, open_take=path.name).start()
    yield server
    server.close()


def face_at(chromium, seconds: float) -> np.ndarray:
    chromium.execute_script("const a = document.getElementById('playback-audio'); a.pause(); a.currentTime = arguments[0];",
                            seconds)
    # the page draws the frame due at the audio's time, then shows that time
    assert wait_until(lambda: chromium.find_element("id", "playback-time").text == f"{seconds:.2f} s")
    return element_pixels(chromium.find_element("id", "face"))


def test_a_take_plays_with_its_audio_and_moves_the_face(chromium, take):
    chromium.get(take.url)
    audio = "document.getElementById('playback-audio')"
    assert wait_until(lambda: chromium.execute_script(f"return {audio}.currentTime > 0.5 && !{audio}.paused"))
    assert chromium.execute_script("return window.studio.state.mode") == "playback"
    silent, vowel = face_at(chromium, 0.5), face_at(chromium, 1.5)
    assert changed_fraction(silent, vowel) > VISIBLE
    assert chromium.execute_script("return window.studio.shown[17]") == pytest.approx(0.7)  # JawOpen
    assert console_errors(chromium) == []


def test_every_arkit_shape_head_and_eye_rotation_changes_the_face_preview(chromium, take):
    chromium.get(take.url)
    assert wait_until(lambda: chromium.execute_script("return !document.getElementById('playback').hidden"))
    chromium.execute_script("document.getElementById('playback-close').click()")  # nothing else draws now
    canvas = chromium.find_element("id", "face")

    def picture(values) -> np.ndarray:
        chromium.execute_script("window.studio.face.draw(arguments[0])", list(map(float, values)))
        return element_pixels(canvas)

    neutral = picture(np.zeros(rig.NUM_LIVE_LINK_FACE))
    unchanged = []
    for index, name in enumerate(rig.LIVE_LINK_FACE_NAMES):
        values = np.zeros(rig.NUM_LIVE_LINK_FACE)
        values[index] = 0.3 if name in rig.ROTATION_NAMES else 1.0
        fraction = changed_fraction(neutral, picture(values))
        if fraction <= (IRIS_VISIBLE if name.endswith("EyeRoll") else VISIBLE):
            unchanged.append(f"{name} ({fraction:.4f})")
    assert unchanged == []
    assert console_errors(chromium) == []
