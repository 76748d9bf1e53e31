"""Headless Chromium for tests of the browser pages: a driver fixture, a folder server, canvas pixels.

Debian's chromium and chromedriver are used directly (``/usr/bin``), never Selenium Manager: the test
machine has no network. Without them the tests skip, except under CI, where they fail.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import tempfile
import threading
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
WINDOW_SIZE = (1024, 768)
FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
    "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--autoplay-policy=no-user-gesture-required",
)


def _require_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if not missing:
        return
    message = f"headless browser tests need {' and '.join(missing)} (Debian: apt-get install chromium chromium-driver)"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def new_driver(window_size: tuple[int, int] = WINDOW_SIZE, *flags: str):
    """Debian's headless Chromium driven by Selenium (no Selenium Manager), with ``FLAGS`` and ``flags``,
    console logs kept (``console_errors``). Tests and scripts (docs' pictures) share it."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--window-size={window_size[0]},{window_size[1]}", *flags):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)


@pytest.fixture(scope="module")
def chromium():
    """A headless Chromium driven by Selenium, with its own throw-away profile and browser console logs."""
    _require_browser()
    profile = tempfile.mkdtemp(prefix="pmmtalk-chromium-")
    driver = new_driver(WINDOW_SIZE, f"--user-data-dir={profile}")
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def console_errors(driver) -> list[str]:
    """The browser console's SEVERE entries since the last call (reading the log drains it)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


@contextlib.contextmanager
def serve_folder(folder: Path) -> Iterator[str]:
    """Serve ``folder`` over HTTP on 127.0.0.1 (a free port) in a background thread; yields the base URL
    ``http://127.0.0.1:<port>/``. ES modules do not load from file:// URLs, hence a server."""
    handler = functools.partial(_QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def element_pixels(element) -> np.ndarray:
    """A screenshot of one element (a canvas) as (H, W, 3) uint8 RGB."""
    from PIL import Image  # Pillow comes with matplotlib, a project dependency

    return np.asarray(Image.open(BytesIO(element.screenshot_as_png)).convert("RGB"))


def save_png(pixels: np.ndarray, path: Path) -> None:
    """Write (H, W, 3) uint8 pixels as a PNG (to look at a failing picture)."""
    from PIL import Image

    Image.fromarray(pixels).save(path)


def changed_fraction(a: np.ndarray, b: np.ndarray, threshold: int = 24) -> float:
    """Fraction of pixels whose largest channel difference exceeds ``threshold`` (0..255); same-shape images."""
    if a.shape != b.shape:
        raise ValueError(f"images differ in shape: {a.shape} vs {b.shape}")
    diff = np.abs(a.astype(np.int16) - b.astype(np.int16)).max(axis=-1)
    return float((diff > threshold).mean())
