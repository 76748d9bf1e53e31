"""Shared test material: the bundled example recording and the real-speech dev set."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
EXAMPLE_WAV = REPO / "pmmtalk_live" / "data" / "example.wav"
EXAMPLE_TEXT = (REPO / "pmmtalk_live" / "data" / "example.txt").read_text().strip()
LIBRIVOX = Path("/usr/share/pocketsphinx/test/data/librivox")


@pytest.fixture(scope="session")
def example_audio():
    import soundfile as sf
    from pmmtalk_live.tracks import Audio

    samples, _ = sf.read(EXAMPLE_WAV, dtype="float32")
    return Audio(samples)


@pytest.fixture(scope="session")
def librivox():
    if not LIBRIVOX.is_dir():
        pytest.skip("Debian's pocketsphinx-testdata is not installed (make test installs it as root)")
    return LIBRIVOX
