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
    from pmmtalk_live.audio.files import read_audio

    return read_audio(EXAMPLE_WAV)


@pytest.fixture(scope="session")
def librivox():
    if not LIBRIVOX.is_dir():
        pytest.skip("Debian's pocketsphinx-testdata is not installed (make test installs it as root)")
    return LIBRIVOX


@pytest.fixture
def one_thread():
    """Tiny models run faster on one thread (torch and BLAS), and the test machine's cores are shared."""
    from pmmtalk_live.threads import one_thread as single

    with single():
        yield


def user_presets_folder(root: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``root/presets``, the first presets folder (``PMMTALK_PRESETS``), holding ``mine.yaml``: a copy of
    the shipped metahuman preset that tests may edit and save over."""
    from pmmtalk_live.retarget.preset import SHIPPED_PRESETS_DIR

    folder = root / "presets"
    folder.mkdir()
    (folder / "mine.yaml").write_bytes((SHIPPED_PRESETS_DIR / "metahuman.yaml").read_bytes())
    monkeypatch.setenv("PMMTALK_PRESETS", str(folder))
    return folder
