"""Captured faces into the dataset: Live Link Face takes, and ARKit blendshape CSV or JSON from any tool.

Each importer reads the 32 ``rig.MODEL_CHANNELS`` by name (any case, ``JawOpen`` or ``jawOpen``, also
behind a prefix such as ``blendShapes.jawOpen``), takes each row's time from the file (a timecode or
time column) or from a fixed ``fps``, and hands the rows to ``dataset.write_utterance``, which
resamples them to the dataset's fps over the audio's length. The audio's first sample is time 0, as
in a Live Link Face take (and the first row's time is taken as that instant: rows are timed relative
to the first).

What a file lacks (a channel, its audio, a time base) is a ``DatasetError`` naming the file; the take
importer, which walks a folder, skips such takes and says why in its ``ImportSummary`` instead.
"""

from __future__ import annotations

import csv
import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .. import rig
from ..audio.files import read_audio
from ..errors import AudioInputError, TakeError
from ..sinks.csv_take import read_take
from ..timecode import parse_timecode
from .folder import DatasetError, check_utterance_id, write_utterance

TIME_COLUMNS = ("time_s", "time", "timestamp", "timecode", "t", "seconds", "frame_time")
"""Names (any case) of the column that gives each row's time, in order of preference."""

_CHANNEL_KEY = {name.lower(): name for name in rig.MODEL_CHANNELS}


@dataclass
class ImportSummary:
    """What an import did: the ids added and, for each file left out, why (one line)."""

    imported: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    """(path, reason) for each file not imported."""

    def __str__(self) -> str:
        lines = [f"imported {len(self.imported)}, skipped {len(self.skipped)}"]
        lines += [f"  skipped {path}: {reason}" for path, reason in self.skipped]
        return "\n".join(lines)


def utterance_id_from(text: str) -> str:
    """A dataset id made from a file name: characters other than letters, digits, ``. _ -`` become ``_``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("._-")[:100] or "utterance"
    return check_utterance_id(cleaned)


def channel_for(column: str) -> str | None:
    """The model channel a column holds (``JawOpen``, ``blendShapes.jawOpen``, ``jaw_open`` -> ``jawOpen``),
    or None."""
    name = re.split(r"[.:/\\]", column.strip())[-1]
    return _CHANNEL_KEY.get(name.replace("_", "").replace(" ", "").lower())


def _model_columns(path: Path, names: Sequence[str]) -> list[int]:
    """For each model channel, the index of its column in ``names``; DatasetError if one is missing."""
    found: dict[str, int] = {}
    for index, name in enumerate(names):
        channel = channel_for(name)
        if channel is not None and channel not in found:
            found[channel] = index
    missing = [c for c in rig.MODEL_CHANNELS if c not in found]
    if missing:
        shown = ", ".join(missing[:6]) + (f" and {len(missing) - 6} more" if len(missing) > 6 else "")
        raise DatasetError(f"{path}: no column for {shown} (need the {rig.NUM_COEFFS} model channels by name)")
    return [found[c] for c in rig.MODEL_CHANNELS]


# --- Live Link Face takes -----------------------------------------------------------------------------

def import_live_link_face_takes(
    paths: str | os.PathLike | Iterable[str | os.PathLike],
    out_root: str | os.PathLike,
    subject: str | None = None,
) -> ImportSummary:
    """Import ``*_raw.csv`` takes (files, or folders searched recursively) with the WAV beside each.

    Row times come from the timecodes (relative to the first row, which is the WAV's first sample).
    The utterance id is the take's file name without ``_raw.csv``; ``subject`` defaults to the take's
    subject (from its file name). Takes without audio, unreadable, lacking a model channel, or already
    in the dataset are skipped, each with its reason.
    """
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    takes: list[Path] = []
    for path in map(Path, paths):
        takes += sorted(path.rglob("*_raw.csv")) if path.is_dir() else [path]

    summary = ImportSummary()
    for path in takes:
        try:
            summary.imported.append(_import_take(path, out_root, subject))
        except (DatasetError, TakeError, AudioInputError) as error:
            reason = str(error)
            prefix = f"{path}: "
            summary.skipped.append((str(path), reason[len(prefix):] if reason.startswith(prefix) else reason))
    return summary


def _import_take(path: Path, out_root: str | os.PathLike, subject: str | None) -> str:
    if not path.is_file():
        raise DatasetError(f"{path}: no such take")
    take = read_take(path)
    stem = path.name[:-len("_raw.csv")] if path.name.endswith("_raw.csv") else path.stem
    if take.audio_path is None:
        raise DatasetError(f"{path}: no audio beside it (expected {stem}.wav)")
    if take.num_frames == 0:
        raise DatasetError(f"{path}: no rows")
    subject = subject or take.subject
    if subject is None:
        raise DatasetError(f"{path}: no subject in the file name (<Slate>_<Take>_<Subject>_raw.csv); give subject=")
    columns = _model_columns(path, take.names)
    utterance_id = utterance_id_from(stem)
    times_s = take.times_s
    if (np.diff(times_s) <= 0).any():
        raise DatasetError(f"{path}: timecodes do not increase row to row")
    write_utterance(out_root, utterance_id, read_audio(take.audio_path), take.values[:, columns], take.fps,
                    subject, source=str(path), times_s=times_s)
    return utterance_id


# --- ARKit blendshape CSV -------------------------------------------------------------------------------

def import_arkit_csv(
    csv_path: str | os.PathLike,
    audio_path: str | os.PathLike,
    out_root: str | os.PathLike,
    subject: str,
    fps: float | None = None,
    *,
    id: str | None = None,
    transcript: str | None = None,
) -> ImportSummary:
    """Import one CSV of ARKit blendshapes (one row per frame) with its audio.

    Row times: with ``fps``, row k is at k / fps; otherwise from the first column named in
    ``TIME_COLUMNS`` (any case): numbers in seconds (milliseconds, microseconds or nanoseconds when the
    median step says so: steps over 1 are not seconds), or ``HH:MM:SS:FF.fff`` 60 fps timecodes.
    Comma, semicolon or tab separated. ``id`` defaults to the file's stem.
    """
    csv_path = Path(csv_path)
    header, rows = _read_table(csv_path)
    columns = _model_columns(csv_path, header)
    values = np.empty((len(rows), rig.NUM_COEFFS))
    for k, (line, row) in enumerate(rows):
        if len(row) != len(header):
            raise DatasetError(f"{csv_path}: line {line}: {len(row)} cells, the header has {len(header)}")
        for j, column in enumerate(columns):
            values[k, j] = _number(csv_path, f"line {line}", header[column], row[column])
    times_s = None
    if fps is None:
        lowered = [h.strip().lower() for h in header]
        time_column = next((lowered.index(name) for name in TIME_COLUMNS if name in lowered), None)
        if time_column is None:
            raise DatasetError(f"{csv_path}: no time column ({', '.join(TIME_COLUMNS)}) and no fps given")
        times_s = _times_from_cells(csv_path, header[time_column],
                                     [(f"line {line}", row[time_column]) for line, row in rows])
    return _write(csv_path, audio_path, out_root, subject, values, times_s, fps, id, transcript)


def _read_table(path: Path) -> tuple[list[str], list[tuple[int, list[str]]]]:
    """Header and (line number, cells) of each non-blank row; the delimiter is guessed from the header."""
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:
            text = file.read()
    except FileNotFoundError:
        raise DatasetError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: cannot read it as a text CSV ({error})") from None
    first = text.split("\n", 1)[0]
    delimiter = max(",;\t", key=first.count)
    try:
        reader = csv.reader(text.splitlines(), delimiter=delimiter)
        header = [cell.strip() for cell in next(reader, [])]
        rows = [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except csv.Error as error:
        raise DatasetError(f"{path}: not a CSV ({error})") from None
    if not header:
        raise DatasetError(f"{path}: empty")
    if not rows:
        raise DatasetError(f"{path}: no rows after the header")
    return header, rows


def _number(path: Path, where: str, name: str, cell: object) -> float:
    """``cell`` as a float; ``where`` ("line 3", "frame 2") places it in the message."""
    try:
        return float(cell)
    except (TypeError, ValueError):
        raise DatasetError(f"{path}: {where}: {name} is {str(cell)[:40]!r}, not a number") from None


def _times_from_cells(path: Path, name: str, cells: list[tuple[str, object]]) -> np.ndarray:
    """Row times in seconds from the first row, from numbers (unit guessed) or 60 fps timecodes."""
    if cells and isinstance(cells[0][1], str) and ":" in cells[0][1]:
        times = []
        for where, cell in cells:
            try:
                times.append(parse_timecode(str(cell)))
            except ValueError as error:
                raise DatasetError(f"{path}: {where}: {error}") from None
        return _relative(path, name, np.array(times))
    times = np.array([_number(path, where, name, cell) for where, cell in cells])
    if not np.isfinite(times).all():
        raise DatasetError(f"{path}: {name} has a value that is not finite")
    times = _relative(path, name, times)
    steps = np.diff(times)
    if len(steps):
        median = float(np.median(steps))
        for scale in (1.0, 1e-3, 1e-6, 1e-9):  # seconds, ms, us, ns: a frame is well under a second
            if median * scale <= 1.0:
                return times * scale
    return times


def _relative(path: Path, name: str, times: np.ndarray) -> np.ndarray:
    if (np.diff(times) <= 0).any():
        row = int(np.argmax(np.diff(times) <= 0)) + 1
        raise DatasetError(f"{path}: {name} does not increase at row {row + 1} (rows counted from 1)")
    return times - times[0]


def _write(path: Path, audio_path: str | os.PathLike, out_root: str | os.PathLike, subject: str,
           values: np.ndarray, times_s: np.ndarray | None, fps: float | None, id: str | None,
           transcript: str | None) -> ImportSummary:
    if fps is not None and not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps!r}")
    audio = read_audio(audio_path)
    utterance_id = check_utterance_id(id) if id is not None else utterance_id_from(path.stem)
    try:
        write_utterance(out_root, utterance_id, audio, values, fps or 60.0, subject, transcript,
                        source=str(path), times_s=times_s)
    except DatasetError as error:
        message = str(error)
        if message.startswith(f"utterance {utterance_id}"):
            message = f"{path}: {message.split(': ', 1)[1]}"
        raise DatasetError(message) from None
    return ImportSummary(imported=[utterance_id])


# --- ARKit blendshape JSON ------------------------------------------------------------------------------

_FRAME_KEYS = ("frames", "data", "samples")
_WEIGHT_KEYS = ("blendshapes", "blendShapes", "weights", "coefficients", "values")
_NAME_KEYS = ("names", "blendshapeNames", "blendShapeNames", "blendshape_names", "categories")
_TIME_KEYS = ("time", "time_s", "timestamp", "t", "timecode")
_TIMES_KEYS = ("times", "timestamps", "time_s")


def import_arkit_json(
    json_path: str | os.PathLike,
    audio_path: str | os.PathLike,
    out_root: str | os.PathLike,
    subject: str,
    fps: float | None = None,
    *,
    id: str | None = None,
    transcript: str | None = None,
) -> ImportSummary:
    """Import one JSON file of ARKit blendshape frames with its audio. Accepted shapes:

    - a list of frames ``[{"time": 0.0, "blendshapes": {"jawOpen": 0.1, ...}}, ...]`` (also
      ``blendShapes``/``weights`` as the key, or a list of ``{"categoryName"|"name", "score"|"value"}``);
    - ``{"names": [...], "frames": [{"time": 0.0, "weights": [...]}, ...]}``;
    - ``{"names": [...], "weights": [[...], ...], "times": [...]}``;
    - any of these under ``"frames"`` with an ``"fps"`` key instead of per-frame times.

    Times as in ``import_arkit_csv``; ``fps`` (the argument, else the file's) overrides them.
    """
    json_path = Path(json_path)
    try:
        data = json.loads(json_path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise DatasetError(f"{json_path}: no such file") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{json_path}: cannot read it ({error})") from None
    except json.JSONDecodeError as error:
        raise DatasetError(f"{json_path}: line {error.lineno}: not valid JSON ({error.msg})") from None
    names, weights, times = _frames_from_json(json_path, data)
    if not weights:
        raise DatasetError(f"{json_path}: no frames")
    if fps is None and isinstance(data, Mapping) and isinstance(data.get("fps"), (int, float)):
        fps = float(data["fps"])
    columns = _model_columns(json_path, names)
    values = np.empty((len(weights), rig.NUM_COEFFS))
    for k, frame in enumerate(weights):
        if len(frame) != len(names):
            raise DatasetError(f"{json_path}: frame {k}: {len(frame)} weights, {len(names)} names")
        for j, column in enumerate(columns):
            values[k, j] = _number(json_path, f"frame {k}", names[column], frame[column])
    times_s = None
    if fps is None:
        if any(t is None for t in times):
            raise DatasetError(f"{json_path}: frames without a time ({', '.join(_TIME_KEYS)}) and no fps given")
        times_s = _times_from_cells(json_path, "time", [(f"frame {k}", t) for k, t in enumerate(times)])
    return _write(json_path, audio_path, out_root, subject, values, times_s, fps, id, transcript)


def _frames_from_json(path: Path, data: object) -> tuple[list[str], list[list[object]], list[object]]:
    """(names, weights per frame in names' order, time per frame or None) from any accepted shape."""
    names: list[str] | None = None
    frames: object = data
    if isinstance(data, Mapping):
        names = _first(data, _NAME_KEYS)
        if isinstance(_first(data, _WEIGHT_KEYS), list):  # {"names", "weights": [[...]], "times"}
            weights = _first(data, _WEIGHT_KEYS)
            times = _first(data, _TIMES_KEYS) or [None] * len(weights)
            if not isinstance(names, list) or not isinstance(times, list) or len(times) != len(weights):
                raise DatasetError(f"{path}: 'weights' needs a 'names' list and one time per frame (or fps)")
            return [str(n) for n in names], [list(w) if isinstance(w, list) else [] for w in weights], times
        frames = _first(data, _FRAME_KEYS)
    if not isinstance(frames, list):
        raise DatasetError(f"{path}: expected a list of frames (or an object with 'frames' or 'weights')")

    rows: list[dict[str, object]] = []
    times: list[object] = []
    for k, frame in enumerate(frames):
        if not isinstance(frame, Mapping):
            raise DatasetError(f"{path}: frame {k} is not an object")
        times.append(_first(frame, _TIME_KEYS))
        weights = _first(frame, _WEIGHT_KEYS)
        if isinstance(weights, Mapping):
            rows.append(dict(weights))
        elif isinstance(weights, list) and weights and all(isinstance(w, Mapping) for w in weights):
            rows.append({str(w.get("categoryName", w.get("name"))): w.get("score", w.get("value")) for w in weights})
        elif isinstance(weights, list) and isinstance(names, list):
            if len(weights) != len(names):
                raise DatasetError(f"{path}: frame {k}: {len(weights)} weights, {len(names)} names")
            rows.append(dict(zip(map(str, names), weights)))
        else:
            raise DatasetError(f"{path}: frame {k} has no blendshapes ({', '.join(_WEIGHT_KEYS)}), or weights "
                               "without a 'names' list")
    all_names = list(dict.fromkeys(name for row in rows for name in row))
    return all_names, [[row.get(name) for name in all_names] for row in rows], times


def _first(mapping: Mapping, keys: Sequence[str]) -> object:
    return next((mapping[k] for k in keys if k in mapping), None)
