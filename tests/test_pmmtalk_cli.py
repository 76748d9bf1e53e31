"""The PMMTalk model behind the product's commands: `animate --animator pmmtalk` and `serve --animator
pmmtalk`, with a tiny run folder built here."""

from __future__ import annotations

import subprocess
import sys

import pytest
import soundfile as sf

from pmmtalk_live.model.checkpoint import save_config, save_weights
from pmmtalk_live.model.config import tiny_config
from pmmtalk_live.model.pmmtalk import PMMTalk
from pmmtalk_live.sinks.csv_take import read_take
from pmmtalk_live.tracks import num_frames_for

from .conftest import EXAMPLE_WAV, REPO
from .test_serve import osc_frames
from .wire import Collector

CLI = [sys.executable, "-m", "pmmtalk_live.cli"]


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run")
    config = tiny_config(text=False)
    save_config(folder, config)
    save_weights(PMMTalk(config), folder)
    return folder


@pytest.fixture(scope="module")
def clip(tmp_path_factory):
    audio, rate = sf.read(EXAMPLE_WAV, dtype="float32")
    path = tmp_path_factory.mktemp("clip") / "clip.wav"
    sf.write(path, audio[: 2 * rate], rate)
    return path


def test_animate_with_the_model(run_folder, clip, tmp_path):
    result = subprocess.run(CLI + ["animate", str(clip), "-o", str(tmp_path), "--animator", "pmmtalk",
                                   "--ckpt", str(run_folder), "-q"], capture_output=True, text=True, timeout=120,
                            cwd=REPO)
    assert result.returncode == 0, result.stderr
    take = read_take(next(tmp_path.glob("*_raw.csv")))
    assert take.num_frames == num_frames_for(2.0, 60)


def test_serve_with_the_model(run_folder, clip):
    with Collector() as osc:
        result = subprocess.run(CLI + ["serve", "--input", str(clip), "--fast", "--animator", "pmmtalk", "--ckpt",
                                       str(run_folder), "--osc", osc.address, "--no-livelink", "--control", "off",
                                       "--quiet"], capture_output=True, text=True, timeout=120, cwd=REPO)
        assert result.returncode == 0, result.stderr
        expected = num_frames_for(2.0, 60)
        assert osc.wait_for(lambda p: len(osc_frames(p)) >= expected, 10)
        assert [a[3] for _, a in osc_frames(osc.payloads())] == list(range(expected))
    assert "animator: pmmtalk" in result.stderr


def test_a_missing_checkpoint_is_one_line(clip, tmp_path):
    result = subprocess.run(CLI + ["animate", str(clip), "-o", str(tmp_path), "--ckpt", str(tmp_path / "nosuch")],
                            capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "nosuch" in result.stderr
    assert "packaged: default" in result.stderr  # it names the shipped model


def test_serve_says_when_it_raises_a_look_ahead_below_the_models_minimum(clip):
    """The shipped model cannot finish a frame sooner than about 96 ms after it: a smaller
    --lookahead-ms is raised, and the user is told so, with the minimum, in one line."""
    result = subprocess.run(CLI + ["serve", "--input", str(clip), "--fast", "--lookahead-ms", "50", "--no-osc",
                                   "--no-livelink", "--control", "off", "--quiet"],
                            capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    warning = [line for line in result.stderr.splitlines() if "look-ahead 50 ms" in line]
    assert len(warning) == 1 and "below the pmmtalk animator's minimum of 9" in warning[0], result.stderr
    minimum_ms = float(warning[0].split("minimum of ")[1].split(" ms")[0])
    assert 80 < minimum_ms < 120 and f"using {warning[0].split('using ')[1]}" in warning[0]
