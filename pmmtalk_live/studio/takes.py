"""Takes for the studio page: the list in a takes folder, and one take's frames for playback.

A take is asked for by its CSV file name only (``demo_1_pmmtalk_raw.csv``); a name that is not a plain
file name in the folder (a path, ``..``, a hidden file, another suffix) is refused, so a request can
never read outside the takes folder.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from .. import rig
from ..errors import TakeError
from ..sinks.csv_take import read_take
from .feed import DIGITS

class TakeMissing(TakeError):
    """A well-formed take file name that is not in the folder (the page answers 404)."""


TAKE_FILE = re.compile(r"[^/\\\x00]{1,200}\.(csv|wav)")
"""A file a page may ask for: a plain name with the take's suffixes (checked further in ``take_file``)."""

MAX_LISTED = 500
"""Newest takes listed; a folder with more shows these."""


def take_file(folder: Path, name: str, suffix: str) -> Path:
    """The file ``name`` (ending in ``suffix``) directly inside ``folder``; TakeError otherwise."""
    if (not isinstance(name, str) or not TAKE_FILE.fullmatch(name) or not name.endswith(suffix)
            or name.startswith(".") or Path(name).name != name):
        raise TakeError(f"{str(name)[:80]!r} is not a take file name ({suffix})")
    root = folder.resolve()
    path = (root / name).resolve()
    if path.parent != root or not path.is_file():
        raise TakeMissing(f"no take {name} in {folder}")
    return path


def list_takes(folder: Path) -> list[dict]:
    """The takes in ``folder``, newest first: CSV name, its WAV (or None), size, time."""
    if not folder.is_dir():
        return []
    takes = []
    for csv in folder.glob("*_raw.csv"):
        try:
            stat = csv.stat()
        except OSError:
            continue
        wav = csv.with_name(csv.name[:-len("_raw.csv")] + ".wav")
        takes.append({"csv": csv.name, "wav": wav.name if wav.is_file() else None,
                      "bytes": stat.st_size, "modified": stat.st_mtime})
    takes.sort(key=lambda take: take["modified"], reverse=True)
    return takes[:MAX_LISTED]


def take_frames(path: Path) -> dict:
    """One take for playback: its 61 Live Link Face values per row (wire order), lip aperture, rate
    and WAV name (or None)."""
    take = read_take(path)
    track = take.live_link_face_track()
    aperture = rig.lip_aperture(track.values, rig.SOURCE_CHANNELS) if take.num_frames else np.zeros(0)
    return {"csv": path.name, "fps": take.fps, "frames": take.num_frames,
            "duration_s": take.num_frames / take.fps,
            "wav": take.audio_path.name if take.audio_path is not None else None,
            "wire": np.round(track.values.astype(np.float64), DIGITS).tolist(),
            "aperture": np.round(aperture, DIGITS).tolist()}
