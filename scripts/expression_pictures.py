"""The pictures of docs/expression.md: each emotion's pose on the project's own face (studio/static/face.js).

    .venv/bin/python scripts/expression_pictures.py            # writes docs/expression/<emotion>.png

Each face is what ``FaceLayers`` gives for one frame of a neutral, half-open mouth (``OPEN_MOUTH``)
with the emotion at intensity 0.6 (``--intensity``), no idle motion and no prosody: the 61 source
channels, drawn by face.js in headless Chromium (Debian's /usr/bin/chromium and chromedriver, as
tests/browser.py sets them up; never Selenium Manager).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pmmtalk_live import rig  # noqa: E402
from pmmtalk_live.animators.emotion import DEFAULT_INTENSITY, EMOTIONS, Emotion  # noqa: E402
from pmmtalk_live.animators.expression import ExpressionSettings, FaceLayers  # noqa: E402
from pmmtalk_live.animators.idle import IDLE_OFF  # noqa: E402
from tests.browser import CHROMEDRIVER, CHROMIUM, element_pixels, new_driver, save_png, serve_folder  # noqa: E402

FACE_JS = ROOT / "pmmtalk_live" / "studio" / "static" / "face.js"
OUT = ROOT / "docs" / "expression"
CANVAS_PX = 240
OPEN_MOUTH = {"jawOpen": 0.25, "mouthLowerDownLeft": 0.15, "mouthLowerDownRight": 0.15,
              "mouthUpperUpLeft": 0.1, "mouthUpperUpRight": 0.1}
"""The animator's coefficients in every picture: a mid vowel, so the emotion's mouth shows."""

PAGE = f"""<!doctype html>
<html><head><meta charset="utf-8"><link rel="icon" href="data:,"><style>
  body {{ margin: 0; background: #1d1f24; }}
  #face {{ display: block; width: {CANVAS_PX}px; height: {CANVAS_PX}px; }}
</style></head>
<body><canvas id="face"></canvas>
<script type="module">
  import {{ FacePreview }} from "./face.js";
  window.face = new FacePreview(document.getElementById("face"));
  window.ready = true;
</script></body></html>
"""


def pose_values(emotion: Emotion) -> list[float]:
    """The 61 source channels (``rig.SOURCE_CHANNELS``, i.e. face.js's order) of one frame with ``emotion``."""
    coeffs = np.zeros(rig.NUM_COEFFS, np.float32)
    for name, value in OPEN_MOUTH.items():
        coeffs[rig.CHANNEL_INDEX[name]] = value
    layers = FaceLayers(60.0, IDLE_OFF, ExpressionSettings(blend_ms=0.0), emotion=emotion)
    return [float(v) for v in layers.frame(coeffs, 0.0, None)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--intensity", type=float, default=DEFAULT_INTENSITY)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        print(f"expression-pictures: needs {' and '.join(missing)} (apt-get install chromium chromium-driver)",
              file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    from selenium.webdriver.support.ui import WebDriverWait

    with tempfile.TemporaryDirectory() as folder:
        shutil.copy(FACE_JS, Path(folder) / "face.js")
        (Path(folder) / "index.html").write_text(PAGE)
        browser = new_driver((640, 480), "--force-device-scale-factor=1", f"--user-data-dir={folder}/profile")
        try:
            with serve_folder(Path(folder)) as url:
                browser.get(url + "index.html")
                WebDriverWait(browser, 10).until(lambda d: d.execute_script("return window.ready === true"))
                canvas = browser.find_element("id", "face")
                for name in EMOTIONS:
                    browser.execute_script("face.draw(arguments[0])", pose_values(Emotion(name, args.intensity)))
                    path = args.out / f"{name}.png"
                    save_png(element_pixels(canvas), path)
                    print(f"expression-pictures: wrote {path}")
        finally:
            browser.quit()
    return 0


if __name__ == "__main__":
    sys.exit(main())
