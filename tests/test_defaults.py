"""Each default is written once, by the stage that owns it: the command line's help and the serve
settings show what the stage exports, so changing a port, a name or a range is one edit."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from pmmtalk_live.animators import ANIMATORS, DEFAULT_ANIMATOR, DEFAULT_COMPUTE, DEFAULT_FPS, DEFAULT_LOOKAHEAD_MS
from pmmtalk_live.audio import DEFAULT_RAW_CHANNELS, DEFAULT_RAW_FORMAT, DEFAULT_RAW_RATE_HZ
from pmmtalk_live.config import ServeConfig
from pmmtalk_live.control import DEFAULT_PORT as DEFAULT_CONTROL_PORT
from pmmtalk_live.retarget import LIVE_PRESET, TAKE_PRESET
from pmmtalk_live.sinks import DEFAULT_LIVELINK_PORT, DEFAULT_OSC_PORT, DEFAULT_SLATE, DEFAULT_SUBJECT
from pmmtalk_live.studio import DEFAULT_HOST as STUDIO_HOST
from pmmtalk_live.studio import DEFAULT_PORT as DEFAULT_STUDIO_PORT
from pmmtalk_live.stream import DEFAULT_HOP_MS, HOP_MS_RANGE
from tests.conftest import REPO


def help_text(command: str) -> str:
    """``pmmtalk-live COMMAND --help`` from a real process, with argparse's line wrapping undone."""
    result = subprocess.run([sys.executable, "-m", "pmmtalk_live.cli", command, "--help"], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return re.sub(r"\s+", " ", result.stdout)


@pytest.fixture(scope="module")
def animate_help() -> str:
    return help_text("animate")


@pytest.fixture(scope="module")
def serve_help() -> str:
    return help_text("serve")


def test_animate_help_shows_the_stages_defaults(animate_help):
    assert f"default: {TAKE_PRESET};" in animate_help
    assert f"{{{','.join(ANIMATORS)}}}" in animate_help
    assert f"{DEFAULT_ANIMATOR} (the trained model, default)" in animate_help
    assert f"(default: {DEFAULT_SUBJECT})" in animate_help


def test_serve_help_shows_the_stages_defaults(serve_help):
    assert f"(default: {LIVE_PRESET})" in serve_help
    assert f"{{{','.join(ANIMATORS)}}}" in serve_help
    assert f"{HOP_MS_RANGE[0]:g} to {HOP_MS_RANGE[1]:g} ms (default: {DEFAULT_HOP_MS:g})" in serve_help
    assert f"default 127.0.0.1:{DEFAULT_OSC_PORT})" in serve_help
    assert f"default 127.0.0.1:{DEFAULT_LIVELINK_PORT})" in serve_help
    assert f"default 127.0.0.1:{DEFAULT_CONTROL_PORT};" in serve_help
    assert f"Live Link subject name (default: {DEFAULT_SUBJECT})" in serve_help
    assert f"output frame rate (default: {DEFAULT_FPS})" in serve_help
    assert f"(default: {DEFAULT_LOOKAHEAD_MS:g}; less = lower latency" in serve_help
    assert f"sample rate (default {DEFAULT_RAW_RATE_HZ})" in serve_help
    assert f"channels (default {DEFAULT_RAW_CHANNELS})" in serve_help
    assert f"sample format (default {DEFAULT_RAW_FORMAT})" in serve_help
    assert f"recorded takes (default: {DEFAULT_SLATE})" in serve_help
    assert f"(default: {DEFAULT_COMPUTE}; cuda" in serve_help
    assert f"(default address {STUDIO_HOST}:{DEFAULT_STUDIO_PORT};" in serve_help


def test_serve_settings_use_the_stages_defaults():
    config = ServeConfig()
    assert (config.preset, config.animator, config.hop_ms, config.subject) == (
        LIVE_PRESET, DEFAULT_ANIMATOR, DEFAULT_HOP_MS, DEFAULT_SUBJECT)
    assert (config.fps, config.lookahead_ms, config.compute, config.slate) == (
        DEFAULT_FPS, DEFAULT_LOOKAHEAD_MS, DEFAULT_COMPUTE, DEFAULT_SLATE)
    assert (config.raw_rate, config.raw_channels, config.raw_format) == (
        DEFAULT_RAW_RATE_HZ, DEFAULT_RAW_CHANNELS, DEFAULT_RAW_FORMAT)
    osc, livelink = config.destinations()
    assert [d.port for d in osc] == [DEFAULT_OSC_PORT] and [d.port for d in livelink] == [DEFAULT_LIVELINK_PORT]
    assert config.control.port == DEFAULT_CONTROL_PORT


def test_the_two_commands_default_to_presets_for_their_jobs():
    """animate writes takes (the identity keeps the animator's values); serve drives a MetaHuman live."""
    assert (TAKE_PRESET, LIVE_PRESET) == ("arkit", "metahuman")
