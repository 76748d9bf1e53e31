"""The training dataset on disk: one folder per utterance, audio and coefficients.

Layout (docs/dataset.md)::

    <root>/dataset.yaml                 format_version, fps (of every coeffs.csv), description
    <root>/utterances/<id>/audio.wav    16 kHz mono PCM16; its first sample is at time 0
    <root>/utterances/<id>/coeffs.csv   time_s + the 32 rig.MODEL_CHANNELS, one row per frame at fps
    <root>/utterances/<id>/meta.yaml    subject, transcript (or null), source (or null), duration_s

An utterance of ``duration_s`` seconds has ``tracks.num_frames_for(duration_s, fps)`` rows: row k shows
time k / fps from the audio's first sample, as every frame does in this project. Values are in 0..1.

Everything malformed raises ``DatasetError`` with one line that names the file (and the line or column).
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile
import yaml

from .. import rig
from ..audio.resample import resample
from ..errors import PmmtalkError
from ..tracks import SAMPLE_RATE_HZ, Audio, num_frames_for

FORMAT_VERSION = 1
DEFAULT_FPS = 60
"""The rate of a new dataset's coefficient files: Live Link Face's capture rate, so nothing is lost."""
COEFF_DECIMALS = 6
RANGE_TOLERANCE = 0.05
"""Values this far outside 0..1 are clipped on writing (tracker overshoot); further out is an error."""

DATASET_FILE = "dataset.yaml"
UTTERANCES = "utterances"
AUDIO_FILE = "audio.wav"
COEFFS_FILE = "coeffs.csv"
META_FILE = "meta.yaml"
COEFFS_HEADER = ("time_s",) + rig.MODEL_CHANNELS

MAX_ID_CHARS = 100
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


class DatasetError(PmmtalkError):
    """A dataset, utterance or imported file that cannot be used; the message names the file."""


@dataclass(frozen=True)
class Utterance:
    """One utterance of a dataset on disk (see the module docstring for the files)."""

    id: str
    audio_path: Path
    coeffs_path: Path
    subject: str
    transcript: str | None
    fps: float
    """The rate of ``coeffs.csv`` (the dataset's fps)."""
    duration_s: float = 0.0
    """The audio's length: samples / 16000."""
    source: str | None = None
    """Where it was imported from (a take's path), for people reading the dataset."""

    @property
    def num_frames(self) -> int:
        """Rows of ``coeffs.csv``."""
        return num_frames_for(self.duration_s, self.fps)


# --- writing ----------------------------------------------------------------------------------------

def check_utterance_id(utterance_id: str) -> str:
    """Return ``utterance_id`` if it is a safe folder name (letters, digits, ``. _ -``), else raise."""
    if not isinstance(utterance_id, str) or not _ID.fullmatch(utterance_id) or len(utterance_id) > MAX_ID_CHARS:
        raise DatasetError(f"utterance id {utterance_id!r} is not 1 to {MAX_ID_CHARS} letters, digits, '.', '_' "
                           "or '-' starting with a letter or digit")
    return utterance_id


def create_dataset(root: str | os.PathLike, fps: float = DEFAULT_FPS, description: str = "") -> float:
    """Make ``root/dataset.yaml`` if there is none; returns the dataset's fps (the existing one if there is)."""
    root = Path(root)
    path = root / DATASET_FILE
    if path.exists():
        return _read_dataset_file(path)["fps"]
    if not fps > 0:
        raise ValueError(f"fps must be > 0, got {fps!r}")
    root.mkdir(parents=True, exist_ok=True)
    fps = int(fps) if float(fps).is_integer() else float(fps)
    path.write_text(yaml.safe_dump({"format_version": FORMAT_VERSION, "fps": fps, "description": description},
                                   sort_keys=False))
    return float(fps)


def write_utterance(
    root: str | os.PathLike,
    id: str,
    audio: Audio,
    coeffs: np.ndarray,
    fps: float,
    subject: str,
    transcript: str | None = None,
    source: str | None = None,
    *,
    times_s: np.ndarray | None = None,
    extra: dict | None = None,
) -> Utterance:
    """Add one utterance to the dataset at ``root`` (made with ``DEFAULT_FPS`` if it has no dataset.yaml).

    ``coeffs``: (T, 32) in ``rig.MODEL_CHANNELS`` order, row k at ``times_s[k]`` seconds from the audio's
    first sample (default k / ``fps``). They are resampled linearly to the dataset's fps over the audio's
    whole length (the first and last rows held beyond their times) and clipped to 0..1; values more than
    ``RANGE_TOLERANCE`` outside 0..1 are an error. Audio at another rate is resampled to 16 kHz.
    An utterance is never overwritten: an existing id raises DatasetError. ``extra``: more keys for
    meta.yaml (a generator's facts: voice, phones, augmentation); they cannot replace the four above.
    """
    root = Path(root)
    check_utterance_id(id)
    if not isinstance(subject, str) or not subject.strip():
        raise DatasetError(f"utterance {id}: subject {subject!r} is empty")
    samples = np.asarray(audio.samples, dtype=np.float32)
    if audio.sample_rate_hz != SAMPLE_RATE_HZ:
        samples = resample(samples, audio.sample_rate_hz, SAMPLE_RATE_HZ)
    if samples.ndim != 1 or len(samples) == 0 or not np.isfinite(samples).all():
        raise DatasetError(f"utterance {id}: audio must be mono, non-empty and finite, got shape {samples.shape}")
    coeffs = np.asarray(coeffs, dtype=np.float64)
    if coeffs.ndim != 2 or coeffs.shape[1] != rig.NUM_COEFFS or coeffs.shape[0] == 0:
        raise DatasetError(f"utterance {id}: coeffs must have shape (T, {rig.NUM_COEFFS}), T >= 1, got {coeffs.shape}")
    _check_finite_and_range(coeffs, f"utterance {id}")
    if times_s is None:
        times_s = np.arange(len(coeffs)) / float(fps)
    times_s = np.asarray(times_s, dtype=np.float64)
    if times_s.shape != (len(coeffs),) or not np.isfinite(times_s).all() or (np.diff(times_s) <= 0).any():
        raise DatasetError(f"utterance {id}: row times must be finite and increasing, one per row")

    dataset_fps = create_dataset(root)
    duration_s = len(samples) / SAMPLE_RATE_HZ
    frame_times_s = np.arange(num_frames_for(duration_s, dataset_fps)) / dataset_fps
    values = np.clip(resample_coeffs(coeffs, times_s, frame_times_s), 0.0, 1.0)

    folder = root / UTTERANCES / id
    if folder.exists():
        raise DatasetError(f"{folder}: utterance {id!r} is already in the dataset; utterances are never overwritten")
    # Written beside and renamed into place, so that a crash never leaves half an utterance.
    partial = root / UTTERANCES / f".partial-{id}"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    soundfile.write(partial / AUDIO_FILE, np.clip(samples, -1.0, 1.0), SAMPLE_RATE_HZ, subtype="PCM_16")
    _write_coeffs_file(partial / COEFFS_FILE, frame_times_s, values)
    meta = {"subject": subject, "transcript": transcript, "source": source, "duration_s": duration_s}
    clash = set(extra or {}) & set(meta)
    if clash:
        raise DatasetError(f"utterance {id}: extra meta keys {sorted(clash)} would replace the standard ones")
    meta.update(extra or {})
    # With extra keys, innermost lists and mappings go on one line each (a phone, an augmentation step).
    (partial / META_FILE).write_text(yaml.safe_dump(meta, sort_keys=False, allow_unicode=True,
                                                    default_flow_style=None if extra else False))
    try:
        partial.rename(folder)
    except OSError as error:
        shutil.rmtree(partial, ignore_errors=True)
        raise DatasetError(f"{folder}: cannot add the utterance ({error.strerror or error})") from None
    return Utterance(id, folder / AUDIO_FILE, folder / COEFFS_FILE, subject, transcript, dataset_fps,
                     duration_s, source)


def resample_coeffs(values: np.ndarray, times_s: np.ndarray, frame_times_s: np.ndarray) -> np.ndarray:
    """Linear interpolation of rows ``values`` (T, C) at ``times_s`` (T,) onto ``frame_times_s`` (F,).

    Returns float64 (F, C); before the first and after the last row the end rows are held.
    """
    values = np.asarray(values, dtype=np.float64)
    out = np.empty((len(frame_times_s), values.shape[1]))
    for c in range(values.shape[1]):
        out[:, c] = np.interp(frame_times_s, times_s, values[:, c])
    return out


def _check_finite_and_range(values: np.ndarray, where: str, names: Sequence[str] = rig.MODEL_CHANNELS) -> None:
    finite = np.isfinite(values)
    if not finite.all():
        row, col = np.argwhere(~finite)[0]
        raise DatasetError(f"{where}: {names[col]} is {values[row, col]} at row {row + 1}; values must be finite")
    low, high = -RANGE_TOLERANCE, 1.0 + RANGE_TOLERANCE
    outside = (values < low) | (values > high)
    if outside.any():
        row, col = np.argwhere(outside)[0]
        raise DatasetError(f"{where}: {names[col]} is {values[row, col]:g} at row {row + 1}, outside 0..1 "
                           "(a 0..100 scale?)")


def _write_coeffs_file(path: Path, times_s: np.ndarray, values: np.ndarray) -> None:
    row = f"%.{COEFF_DECIMALS}f," + ",".join([f"%.{COEFF_DECIMALS}f"] * rig.NUM_COEFFS) + "\n"
    with open(path, "w", encoding="utf-8", newline="") as file:
        file.write(",".join(COEFFS_HEADER) + "\n")
        for t, frame in zip(times_s, values + 0.0):  # + 0.0: no -0.000000
            file.write(row % (t, *frame))


# --- reading ----------------------------------------------------------------------------------------

_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml's safe loader where PyYAML has it: a corpus has thousands of meta.yaml files, and the pure
Python loader took about 3 minutes to read 6000 of them on 2 busy cores."""


def _read_yaml(path: Path) -> dict:
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_SAFE_LOADER)
    except FileNotFoundError:
        raise DatasetError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DatasetError(f"{path}: cannot read it ({error})") from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        at = f"line {mark.line + 1}: " if mark is not None else ""
        raise DatasetError(f"{path}: {at}not valid YAML") from None
    if not isinstance(data, dict):
        raise DatasetError(f"{path}: expected a mapping of keys to values")
    return data


def _read_dataset_file(path: Path) -> dict:
    data = _read_yaml(path)
    version = data.get("format_version")
    if version != FORMAT_VERSION:
        raise DatasetError(f"{path}: format_version is {version!r}; this version of pmmtalk-live reads "
                           f"{FORMAT_VERSION}")
    fps = data.get("fps")
    if isinstance(fps, bool) or not isinstance(fps, (int, float)) or not fps > 0:
        raise DatasetError(f"{path}: fps is {fps!r}, expected a number > 0")
    return {"fps": float(fps), "description": str(data.get("description") or "")}


def load_dataset(root: str | os.PathLike) -> list[Utterance]:
    """Every utterance under ``root``, sorted by id, each checked (files there, shapes, finite values).

    Folders whose name starts with a dot (an interrupted write) are ignored.
    """
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such dataset folder")
    fps = _read_dataset_file(root / DATASET_FILE)["fps"]
    folder = root / UTTERANCES
    if not folder.is_dir():
        raise DatasetError(f"{folder}: missing (a dataset keeps one folder per utterance there)")
    return [_load_utterance(entry, fps) for entry in sorted(folder.iterdir())
            if entry.is_dir() and not entry.name.startswith(".")]


def _load_utterance(folder: Path, fps: float) -> Utterance:
    meta_path = folder / META_FILE
    meta = _read_yaml(meta_path)
    subject = meta.get("subject")
    if not isinstance(subject, str) or not subject.strip():
        raise DatasetError(f"{meta_path}: subject is {subject!r}, expected a name")
    duration_s = meta.get("duration_s")
    if isinstance(duration_s, bool) or not isinstance(duration_s, (int, float)) or not duration_s > 0:
        raise DatasetError(f"{meta_path}: duration_s is {duration_s!r}, expected seconds > 0")
    transcript, source = meta.get("transcript"), meta.get("source")

    audio_path = folder / AUDIO_FILE
    if not audio_path.is_file():
        raise DatasetError(f"{audio_path}: missing (every utterance needs its audio)")
    try:
        info = soundfile.info(audio_path)
    except (RuntimeError, OSError) as error:
        raise DatasetError(f"{audio_path}: not a readable WAV ({' '.join(str(error).split())})") from None
    if info.samplerate != SAMPLE_RATE_HZ or info.channels != 1:
        raise DatasetError(f"{audio_path}: {info.samplerate} Hz, {info.channels} channels; expected "
                           f"{SAMPLE_RATE_HZ} Hz mono")
    if abs(info.frames - duration_s * SAMPLE_RATE_HZ) > 1:
        raise DatasetError(f"{audio_path}: {info.frames / SAMPLE_RATE_HZ:.4f} s long, {meta_path.name} says "
                           f"{duration_s:.4f} s")

    coeffs_path = folder / COEFFS_FILE
    times_s, _ = read_coeffs_file(coeffs_path)
    expected = num_frames_for(duration_s, fps)
    if len(times_s) != expected:
        raise DatasetError(f"{coeffs_path}: {len(times_s)} rows, expected {expected} for {duration_s:.4f} s "
                           f"at {fps:g} fps")
    off = np.abs(times_s - np.arange(expected) / fps) > 0.5 / fps
    if off.any():
        row = int(np.argmax(off))
        raise DatasetError(f"{coeffs_path}: line {row + 2}: time_s is {times_s[row]}, expected {row / fps:.6f} "
                           f"(one row per frame at {fps:g} fps)")
    return Utterance(folder.name, audio_path, coeffs_path, subject.strip(),
                     None if transcript is None else str(transcript), fps, float(duration_s),
                     None if source is None else str(source))


def read_coeffs_file(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """A ``coeffs.csv`` as ``(time_s (T,), values (T, 32))`` float64, checked: header, cell counts, numbers,
    finite, 0..1."""
    try:
        with open(path, encoding="utf-8", newline="") as file:
            rows = [row for row in csv.reader(file) if row]
    except FileNotFoundError:
        raise DatasetError(f"{path}: missing") from None
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise DatasetError(f"{path}: cannot read it as CSV ({error})") from None
    if not rows:
        raise DatasetError(f"{path}: empty, expected the header {COEFFS_HEADER[0]},{COEFFS_HEADER[1]},...")
    header = tuple(cell.strip() for cell in rows[0])
    if header != COEFFS_HEADER:
        missing = [name for name in COEFFS_HEADER if name not in header]
        extra = [name for name in header if name not in COEFFS_HEADER]
        if missing:
            raise DatasetError(f"{path}: line 1: missing column(s) {', '.join(missing)}")
        if extra:
            raise DatasetError(f"{path}: line 1: unexpected column(s) {', '.join(extra)}")
        raise DatasetError(f"{path}: line 1: columns out of order; expected time_s then rig.MODEL_CHANNELS")
    body = rows[1:]
    if not body:
        raise DatasetError(f"{path}: no rows after the header")
    for line, row in enumerate(body, start=2):
        if len(row) != len(COEFFS_HEADER):
            raise DatasetError(f"{path}: line {line}: {len(row)} cells, expected {len(COEFFS_HEADER)}")
    try:
        table = np.array(body, dtype=np.float64)
    except ValueError:
        for line, row in enumerate(body, start=2):
            for name, cell in zip(COEFFS_HEADER, row):
                try:
                    float(cell)
                except ValueError:
                    raise DatasetError(f"{path}: line {line}: {name} is {cell[:40]!r}, not a number") from None
        raise
    if not np.isfinite(table).all():
        row, col = np.argwhere(~np.isfinite(table))[0]
        raise DatasetError(f"{path}: line {row + 2}: {COEFFS_HEADER[col]} is {table[row, col]}; "
                           "values must be finite")
    values = table[:, 1:]
    outside = (values < 0.0) | (values > 1.0)
    if outside.any():
        row, col = np.argwhere(outside)[0]
        raise DatasetError(f"{path}: line {row + 2}: {rig.MODEL_CHANNELS[col]} is {values[row, col]:g}, outside 0..1")
    return table[:, 0], values


def read_coeffs(utt: Utterance, fps: float, num_frames: int | None = None) -> np.ndarray:
    """The utterance's coefficients at ``fps``: float32 (T, 32), T = ``num_frames_for(duration_s, fps)``
    (or ``num_frames``), resampled linearly from the file's rate."""
    _, values = read_coeffs_file(utt.coeffs_path)
    if num_frames is None:
        num_frames = num_frames_for(utt.duration_s, fps)
    if fps == utt.fps and num_frames == len(values):
        return values.astype(np.float32)
    times_s = np.arange(len(values)) / utt.fps
    return resample_coeffs(values, times_s, np.arange(num_frames) / fps).astype(np.float32)


def split(utterances: Sequence[Utterance], val_fraction: float, seed: int = 0,
          by: str = "id") -> tuple[list[Utterance], list[Utterance]]:
    """Deterministic (train, validation) split, each in the input order.

    ``by="id"``: an utterance goes to validation when a hash of (seed, id) falls below ``val_fraction``,
    so adding utterances never moves the others between splits. ``by="subject"``: whole subjects are
    held out (unseen speakers), taken in hash order until they hold ``val_fraction`` of the utterances.
    With ``val_fraction`` > 0 and two or more keys, validation gets at least one key and training keeps one.
    """
    if not 0.0 <= val_fraction < 1.0:
        raise ValueError(f"val_fraction must be in 0..1 (1 excluded), got {val_fraction!r}")
    if by not in ("id", "subject"):
        raise ValueError(f"by must be 'id' or 'subject', got {by!r}")

    def key(utt: Utterance) -> str:
        return utt.id if by == "id" else utt.subject

    def rank(text: str) -> float:
        digest = hashlib.sha256(f"{seed}\0{text}".encode()).digest()
        return int.from_bytes(digest[:8], "big") / 2.0 ** 64

    keys = sorted({key(u) for u in utterances}, key=rank)
    counts = {k: sum(1 for u in utterances if key(u) == k) for k in keys}
    if by == "id":
        held = {k for k in keys if rank(k) < val_fraction}
    else:
        held, total = set(), 0
        for k in keys:
            if total >= val_fraction * len(utterances):
                break
            held.add(k)
            total += counts[k]
    if val_fraction > 0 and len(keys) >= 2:
        if not held:
            held = {keys[0]}
        if len(held) == len(keys):
            held.discard(keys[-1])
    return ([u for u in utterances if key(u) not in held], [u for u in utterances if key(u) in held])
