"""The real speech the reports are scored on, with transcripts, from Debian's pocketsphinx-testdata.

Dev set (``dev_set``): the five LibriVox utterances with transcripts. Held-out (``held_out_set``): the
same package's "cards" utterances and goforward.raw, never used while building the animator. Both
are read from ``TESTDATA`` at run time: 16 kHz mono ``Utterance`` lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..audio.files import read_audio
from ..tracks import Audio

TESTDATA = Path("/usr/share/pocketsphinx/test/data")


@dataclass
class Utterance:
    name: str
    audio: Audio
    text: str


def _transcripts(path: Path) -> dict[str, str]:
    """Sphinx transcription lines: ``<s> words </s> (id)``."""
    out = {}
    for line in path.read_text().splitlines():
        m = re.match(r"\s*(?:<s>)?(.*?)(?:</s>)?\s*\(([^)]+)\)\s*$", line)
        if m:
            out[m.group(2)] = m.group(1).strip()
    return out


def dev_set() -> list[Utterance]:
    folder = TESTDATA / "librivox"
    return [Utterance(uid, read_audio(folder / f"{uid}.wav"), text)
            for uid, text in _transcripts(folder / "transcription").items()]


def held_out_set() -> list[Utterance]:
    folder = TESTDATA / "cards"
    utts = [Utterance(f"cards/{uid}", read_audio(folder / f"{uid}.wav"), text)
            for uid, text in _transcripts(folder / "cards.transcription").items()]
    raw = np.fromfile(TESTDATA / "goforward.raw", dtype="<i2").astype(np.float32) / 32768.0
    utts.append(Utterance("goforward", Audio(raw), "go forward ten meters"))
    return utts
