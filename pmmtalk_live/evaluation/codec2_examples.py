"""The real speech in Debian's codec2-examples package as an evaluation set (never training).

Several speakers (Harvard sentences read in a quiet room, radio amateurs on the air), mostly 8 kHz.
Which files are speech, where the long ones are cut and what was said is committed in
``data/codec2_examples.yaml`` (made by ``scripts/codec2_transcripts.py``, which says how); the audio
is read at run time from the installed package, so nothing is downloaded and nothing is copied.

    utts = codec2_set()   # sets.Utterance list, 16 kHz mono; EvalDataError if not installed
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from ..audio.files import read_audio
from ..audio.resample import resample
from ..errors import EvalDataError
from ..tracks import SAMPLE_RATE_HZ, Audio
from .sets import Utterance

CODEC2_FOLDER = Path("/usr/share/codec2")
YAML_PATH = Path(__file__).resolve().parents[1] / "data" / "codec2_examples.yaml"
PACKAGE = "codec2-examples"


@dataclass(frozen=True)
class Entry:
    """One utterance of the YAML: ``file`` under the package folder, the span ``start_s`` .. ``end_s``
    of it (seconds), its ``sample_rate_hz`` (raw files; "header" for WAV) and the ``text`` to align."""

    id: str
    file: str
    sample_rate_hz: int | str
    start_s: float
    end_s: float
    text: str


def read_entries(path: Path = YAML_PATH) -> list[Entry]:
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [Entry(u["id"], u["file"], u["sample_rate_hz"], float(u["start_s"]), float(u["end_s"]), u["text"])
            for u in doc["utterances"]]


def read_recording(file: str, sample_rate_hz: int | None, folder: Path = CODEC2_FOLDER) -> np.ndarray:
    """A whole recording as float32 16 kHz mono, shape (N,): raw files are 16-bit signed little-endian
    at ``sample_rate_hz``; anything else is read by its header."""
    path = folder / file
    if not path.is_file():
        raise EvalDataError(f"{path} is missing: install Debian's {PACKAGE} (apt-get install {PACKAGE})")
    if path.suffix == ".raw":
        raw = np.fromfile(path, dtype="<i2").astype(np.float32) / 32768.0
        return resample(raw, int(sample_rate_hz), SAMPLE_RATE_HZ)
    return read_audio(path).samples


def codec2_set(path: Path = YAML_PATH, folder: Path = CODEC2_FOLDER) -> list[Utterance]:
    """Every utterance of the YAML, cut from its recording (each recording read once)."""
    recordings: dict[str, np.ndarray] = {}
    utts = []
    for e in read_entries(path):
        if e.file not in recordings:
            rate = e.sample_rate_hz if isinstance(e.sample_rate_hz, int) else None
            recordings[e.file] = read_recording(e.file, rate, folder)
        lo, hi = (int(round(t * SAMPLE_RATE_HZ)) for t in (e.start_s, e.end_s))
        utts.append(Utterance(f"codec2/{e.id}", Audio(recordings[e.file][lo:hi].copy()), e.text))
    return utts
