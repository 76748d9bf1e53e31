"""The take plot: a PNG a person can open, with the waveform when the take has audio."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from pmmtalk_live import rig
from pmmtalk_live.errors import TakeError
from pmmtalk_live.plot import plot_take
from pmmtalk_live.sinks.csv_take import write_take
from pmmtalk_live.tracks import Audio, CurveTrack

FIXTURES = Path(__file__).parent / "fixtures"


def _take(folder: Path, audio: bool) -> Path:
    fps, seconds = 60, 2.0
    t = np.arange(int(fps * seconds)) / fps
    names = rig.SOURCE_CHANNELS + ("aa",)
    values = np.zeros((len(t), len(names)), np.float32)
    values[:, names.index("jawOpen")] = 0.5 * (1 + np.sin(2 * np.pi * t))
    values[:, names.index("headYaw")] = 0.05 * np.sin(t)
    values[:, names.index("aa")] = 0.3
    sound = Audio(0.4 * np.sin(2 * np.pi * 220 * np.arange(32_000) / 16_000).astype(np.float32)) if audio else None
    return write_take(folder, CurveTrack(names, values, fps), sound, slate="Plot", subject="iPhone")


def test_plot_makes_a_png_with_a_waveform_panel_when_there_is_audio(tmp_path):
    with_audio = plot_take(_take(tmp_path, audio=True), tmp_path / "with.png")
    without = plot_take(_take(tmp_path, audio=False), tmp_path / "without.png")
    assert with_audio.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(with_audio)
    assert image.shape[0] > imread(without).shape[0]  # one more panel on top
    assert image[..., :3].std() > 0.05  # not a blank canvas


def test_plot_reads_a_real_app_take(tmp_path):
    png = plot_take(FIXTURES / "MySlate_3_iPhone_raw.csv", tmp_path / "real.png")
    assert png.stat().st_size > 10_000


def test_an_unreadable_take_is_a_take_error(tmp_path):
    bad = tmp_path / "notes.csv"
    bad.write_text("hello,world\n")
    with pytest.raises(TakeError, match="line 1"):
        plot_take(bad, tmp_path / "x.png")
    with pytest.raises(TakeError, match="cannot read the take's audio"):
        plot_take(FIXTURES / "MySlate_3_iPhone_raw.csv", tmp_path / "x.png", audio_path=bad)
    assert not (tmp_path / "x.png").exists()


def test_the_image_goes_exactly_where_asked_or_is_one_clear_error(tmp_path):
    take = _take(tmp_path, audio=False)
    plain = plot_take(take, tmp_path / "noext")
    assert plain == tmp_path / "noext" and plain.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert not (tmp_path / "noext.png").exists()  # matplotlib alone would have added .png
    assert plot_take(take, tmp_path / "take.JPG").read_bytes()[:2] == b"\xff\xd8"
    with pytest.raises(TakeError, match=r"unknown image type '\.jpgx'.*png"):
        plot_take(take, tmp_path / "x.jpgx")
    assert not (tmp_path / "x.jpgx").exists()
    with pytest.raises(TakeError, match="/dev/full: No space left on device"):
        plot_take(take, "/dev/full")
    assert not Path("/dev/full.png").exists()
