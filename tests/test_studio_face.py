"""The studio's face preview (studio/static/face.js) in headless Chromium: every ARKit shape and rotation
shows, the lips meet on a closure and open on a vowel, drawing is fast, the page logs no errors."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from pmmtalk_live.rig import LIVE_LINK_FACE_NAMES, ROTATION_NAMES
from tests.browser import changed_fraction, chromium, console_errors, element_pixels, save_png, serve_folder  # noqa: F401

FACE_JS = Path(__file__).resolve().parents[1] / "pmmtalk_live" / "studio" / "static" / "face.js"
CANVAS_PX = 360
VISIBLE = 0.003
"""A shape 'visibly changes the picture' when more than this fraction of the canvas's pixels change."""
IRIS_VISIBLE = 0.0006
"""Eye roll only turns the iris's pattern (the iris is about 0.4% of the canvas): at least ~80 pixels."""
BLENDSHAPES = [n for n in LIVE_LINK_FACE_NAMES if n not in ROTATION_NAMES]
SAVE_TO = os.environ.get("PMMTALK_FACE_PNGS")
"""Set to a folder to keep every screenshot the tests take (to look at the face)."""

HARNESS = f"""<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><style>
  body {{ margin: 0; background: #1d1f24; }}
  #face {{ display: block; width: {CANVAS_PX}px; height: {CANVAS_PX}px; }}
</style></head>
<body><canvas id="face"></canvas>
<script type="module">
  import {{ FacePreview, NAMES, lipGap }} from "./face.js";
  window.FacePreview = FacePreview;
  window.face = new FacePreview(document.getElementById("face"));
  window.NAMES = NAMES;
  window.lipGap = lipGap;
  window.ready = true;
</script></body></html>
"""


def frame(**values: float) -> list[float]:
    """61 values in wire order: the named ones set, every other 0."""
    unknown = set(values) - set(LIVE_LINK_FACE_NAMES)
    assert not unknown, unknown
    return [float(values.get(name, 0.0)) for name in LIVE_LINK_FACE_NAMES]


OPEN_VOWEL = frame(JawOpen=0.7, MouthLowerDownLeft=0.3, MouthLowerDownRight=0.3,
                   MouthUpperUpLeft=0.2, MouthUpperUpRight=0.2, MouthFunnel=0.2)


@pytest.fixture(scope="module")
def page(chromium, tmp_path_factory):
    """The harness page with face.js, loaded once for the module; yields a draw(values) -> pixels function."""
    folder = tmp_path_factory.mktemp("face")
    shutil.copy(FACE_JS, folder / "face.js")
    (folder / "index.html").write_text(HARNESS)
    with serve_folder(folder) as url:
        chromium.get(url + "index.html")
        from selenium.webdriver.support.ui import WebDriverWait

        WebDriverWait(chromium, 10).until(lambda d: d.execute_script("return window.ready === true"),
                                          message=f"face.js did not load: {console_errors(chromium)}")
        canvas = chromium.find_element("id", "face")

        def draw(values: list[float], name: str | None = None) -> np.ndarray:
            chromium.execute_script("face.draw(arguments[0])", values)
            pixels = element_pixels(canvas)
            if SAVE_TO and name:
                Path(SAVE_TO).mkdir(parents=True, exist_ok=True)
                save_png(pixels, Path(SAVE_TO) / f"{name}.png")
            return pixels

        draw.driver = chromium
        yield draw


def mouth_inside_pixels(pixels: np.ndarray) -> int:
    """Pixels below the eyes as dark and as red as the mouth's inside (not the grey background)."""
    lower = pixels[int(0.55 * CANVAS_PX):]
    luminance = lower @ np.array([0.299, 0.587, 0.114])
    red = lower[..., 0].astype(int) - lower[..., 1]
    return int(((luminance < 45) & (red > 20)).sum())


def test_names_match_the_rig(page):
    assert page.driver.execute_script("return NAMES") == list(LIVE_LINK_FACE_NAMES)
    source = FACE_JS.read_text()
    assert "requestAnimationFrame" not in source and not re.search(r"\bimport\b", source)


def test_the_face_fills_the_canvas(page):
    neutral = page(frame(), "neutral")
    assert neutral.shape[:2] == (CANVAS_PX, CANVAS_PX)
    face = np.abs(neutral.astype(int) - [0x1D, 0x1F, 0x24]).max(axis=-1) > 24
    assert 0.3 < face.mean() < 0.8, "the face covers a good part of the canvas"
    cols = np.nonzero(face)[1]
    assert cols.min() > 0.05 * CANVAS_PX and cols.max() < 0.95 * CANVAS_PX, "the head is centred"


def test_the_canvas_follows_the_device_pixel_ratio(page):
    driver = page.driver
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 1024, "height": 768, "deviceScaleFactor": 2, "mobile": False})
    try:
        sizes = driver.execute_script("""
            face.draw([]);
            const bare = document.createElement("canvas");  // sized by its attributes only
            [bare.width, bare.height] = [300, 200];
            document.body.append(bare);
            const preview = new FacePreview(bare);
            preview.draw([]);
            preview.draw([]);
            const sizes = [face.canvas.width, face.canvas.clientWidth, bare.width, bare.height, bare.clientWidth];
            bare.remove();
            return sizes;""")
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert sizes == [2 * CANVAS_PX, CANVAS_PX, 600, 400, 300]
    page(frame())  # back to 1 device pixel per CSS pixel for the tests after
    assert driver.execute_script("return face.canvas.width") == CANVAS_PX


def test_every_blendshape_shows(page):
    neutral = page(frame(), "neutral")
    images = {name: page(frame(**{name: 1.0}), name) for name in BLENDSHAPES}
    changes = {name: changed_fraction(neutral, image) for name, image in images.items()}
    faint = {name: round(change, 4) for name, change in changes.items() if change <= VISIBLE}
    assert not faint, f"shapes that barely change the face (fraction of pixels changed): {faint}"
    pairs = [(name, name[:-4] + "Right") for name in BLENDSHAPES if name.endswith("Left")]
    alike = {left: changed_fraction(images[left], images[right]) for left, right in pairs}
    assert all(change > VISIBLE for change in alike.values()), f"left and right shapes look alike: {alike}"


def test_look_shapes_move_the_iris_the_named_way(page):
    """In = towards the nose; the character's left eye is on the viewer's right."""
    neutral = page(frame())

    def pupil_columns(image: np.ndarray) -> np.ndarray:
        eyes = image[: int(0.55 * CANVAS_PX)]  # the pupils are the darkest thing above the mouth
        return np.nonzero(eyes @ np.array([0.299, 0.587, 0.114]) < 22)[1]

    def moved(name: str) -> float:
        return float(pupil_columns(page(frame(**{name: 1.0}))).mean() - pupil_columns(neutral).mean())

    # Each shape moves one pupil; the mean column over both pupils moves half as far, the same way.
    assert moved("EyeLookInLeft") < -2 and moved("EyeLookOutLeft") > 2
    assert moved("EyeLookInRight") > 2 and moved("EyeLookOutRight") < -2


@pytest.mark.parametrize("rotation", sorted(ROTATION_NAMES))
def test_every_rotation_shows(page, rotation):
    neutral = page(frame())
    least = IRIS_VISIBLE if rotation.endswith("EyeRoll") else VISIBLE
    for radians in (-0.3, 0.3):
        image = page(frame(**{rotation: radians}), f"{rotation}{radians:+}")
        assert changed_fraction(neutral, image) > least, f"{rotation} = {radians} barely shows"


def test_lips_meet_on_a_closure_and_part_on_an_open_jaw(page):
    def lip_gap(values: list[float]) -> float:
        return page.driver.execute_script("return lipGap(arguments[0])", values)

    closure = frame(JawOpen=0.5, MouthClose=0.5)
    open_jaw = frame(JawOpen=0.5)
    assert lip_gap(frame()) == 0 and lip_gap(closure) == 0
    assert lip_gap(open_jaw) > 0.15
    assert lip_gap(OPEN_VOWEL) > lip_gap(open_jaw)
    assert mouth_inside_pixels(page(frame())) == 0
    assert mouth_inside_pixels(page(closure, "closure")) == 0, "no mouth inside shows between closed lips"
    assert mouth_inside_pixels(page(open_jaw, "jaw-open-half")) > 0.003 * CANVAS_PX**2, "the open mouth shows its dark inside"


def test_an_open_vowel_differs_from_silence(page):
    assert changed_fraction(page(frame()), page(OPEN_VOWEL, "open-vowel")) > 5 * VISIBLE


def test_bad_values_are_tolerated(page):
    neutral = page(frame())
    # Short, with junk; JawOpen (index 17) 3 clamps to 1 and MouthClose (18) NaN counts as 0.
    garbage = "Object.assign([NaN, undefined, null, 'x', Infinity, -Infinity, -5, 7, {}], {17: 3, 18: NaN})"
    page.driver.execute_script(f"face.draw({garbage})")
    assert page.driver.execute_script(f"return lipGap({garbage})") == pytest.approx(0.42)
    huge = frame(HeadYaw=50.0, HeadRoll=-50.0)
    at_limit = frame(HeadYaw=0.8, HeadRoll=-0.8)
    assert changed_fraction(page(huge), page(at_limit)) == 0, "rotations clamp at 0.8 rad"
    assert changed_fraction(page(frame(JawOpen=3.0)), page(frame(JawOpen=1.0))) == 0
    assert changed_fraction(page([]), neutral) == 0


def test_drawing_is_fast(page):
    """Well under 2 ms a frame (a 60 fps page has about 16 ms for everything), after a warm-up."""
    per_draw_ms = page.driver.execute_script("""
        const values = new Float32Array(NAMES.length);
        const draws = (n) => {
            for (let i = 0; i < n; i++) {
                for (let k = 0; k < values.length; k++) values[k] = (Math.sin(i * 0.1 + k) + 1) / 2 * (k < 52 ? 1 : 0.5);
                face.draw(values);
            }
        };
        draws(100);
        const t0 = performance.now();
        draws(300);
        return (performance.now() - t0) / 300;""")
    assert per_draw_ms < 1.0, f"{per_draw_ms:.2f} ms per draw"


def test_no_console_errors(page):
    page(OPEN_VOWEL)
    assert console_errors(page.driver) == []
