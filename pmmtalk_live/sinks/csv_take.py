"""CSV takes in the Live Link Face format, with the audio beside them: record them row by row, read them back.

A take is two or three files in the takes folder (reference: docs/reference/live-link-face.md section 3):

- ``<Slate>_<Take>_<Subject>_raw.csv``: the header is ``rig.CSV_COLUMNS`` verbatim (63 columns,
  ``BlendshapeCount`` spelled as the app does, ``JawRight,JawLeft`` and ``MouthRight,MouthLeft`` swapped
  against the wire order), then one row per frame: a 60 fps timecode (``timecode.py``), ``61``, and the
  values with 10 decimals. Curves are written into columns by name, case-insensitively (``jawOpen``
  fills ``JawOpen``); curves with other names (a VRM ``aa``) become extra columns after the 63, which
  Unreal's importer turns into extra properties; columns no curve fills are 0.
- ``<Slate>_<Take>_<Subject>.wav``: mono 16-bit PCM, only if audio was written. Its first sample is at
  the take's time 0 s, the first row's time when frames start at 0 (as ``time_s=None`` does).
- ``<Slate>_<Take>_<Subject>_input.wav``: the input's own audio (its rate, channels and sample
  format, ``write_input_audio``), only if some was written; it too starts at the take's time 0 s.

Rows may come at 30 fps; the timecode then advances two frames per row, because it is always counted
in 60 fps frames: Unreal's importer assumes 60 fps timecode.

**Crash safety.** Every row goes to the operating system as soon as it is written (one unbuffered
``write`` per row), and the WAVs' sizes are rewritten after every audio write (``take_wav``), so a take
cut short by a crash or SIGKILL is a valid CSV holding every row written so far and WAVs any reader
accepts. ``close`` ``fsync``s the files; rows are not ``fsync``ed one by one, so a power cut may lose
the last seconds.

**A full disk.** A write the disk refuses (no space, the file size limit) is cut back: the CSV to its
last whole row, a WAV to its last whole frame, so the take stays valid up to there; the write raises
``TakeError`` and the take is ``failed`` (its reason in ``failure``): further writes raise too.

**Names.** Slate, take and subject names may come from the network, so they are checked, never
sanitised: a name that is empty, longer than ``MAX_NAME_BYTES`` in UTF-8, starts with ``.`` or ``-``
(a hidden or option-like file name), contains ``..``, ``/``,
``\\``, a character Windows forbids in file names (``< > : " | ? *``) or any control or format
character (NUL included) raises ``TakeError``. A take number is a whole number 0..``MAX_TAKE``. A take is never
overwritten: its files are created exclusively, and ``next_free_take`` picks an unused number.
"""

from __future__ import annotations

import csv
import os
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from .. import rig
from ..errors import TakeError
from ..timecode import SECONDS_PER_DAY, format_timecode, parse_timecode, time_of_day_s
from ..tracks import SAMPLE_RATE_HZ, Audio, CurveTrack
from .take_wav import TakeWav

BLENDSHAPE_COUNT = rig.NUM_LIVE_LINK_FACE
"""The value of the second column in every row: 61, whatever the extra columns."""

DECIMALS = 10
MAX_NAME_BYTES = 100
"""Longest slate or subject name, in UTF-8 bytes: keeps the file name under common 255-byte limits."""

TIMECODE_SOURCES = ("system", "take")
"""``system``: time of day from the system clock at take start; ``take``: from 00:00:00:00.000."""

_FORBIDDEN_IN_NAMES = '/\\<>:"|?*'
_CURVE_COLUMN = {name.lower(): i for i, name in enumerate(rig.CSV_COLUMNS[2:])}
_FIXED_COLUMNS = ("timecode", "blendshapecount")
_TAKE_FILE = re.compile(r"(?P<slate>.+)_(?P<take>\d+)_(?P<subject>.+)_(?:raw|cal|neutral)\.csv")
_FPS_SNAP = (30.0, 60.0)
_FPS_SNAP_TOLERANCE = 0.05
_DEFAULT_FPS = 60.0
"""What a take with fewer than two distinct timecodes is read as: the rate Unreal's importer assumes."""


class _TakeExistsError(TakeError):
    """The take's CSV or WAV is already there (``write_take`` then tries the next free number)."""


def check_take_name(name: str, what: str = "take") -> str:
    """Return ``name`` if it is safe as the slate or subject part of a take file name, else raise TakeError.

    ``what`` ("slate", "subject") names the field in the message. See the module docstring for the rules.
    """
    if not isinstance(name, str) or not name.strip():
        raise TakeError(f"{what} name {name!r} is empty")
    if ".." in name:
        raise TakeError(f"{what} name {name!r} contains '..', which is not allowed in a take file name")
    if name.startswith((".", "-")):
        raise TakeError(f"{what} name {name!r} starts with {name[0]!r}, which would make a hidden or "
                        "option-like take file name")
    for char in name:
        if char in _FORBIDDEN_IN_NAMES or unicodedata.category(char).startswith("C"):
            raise TakeError(f"{what} name {name!r} contains {char!r}, which is not allowed in a take file name")
    if len(name.encode("utf-8")) > MAX_NAME_BYTES:
        raise TakeError(f"{what} name {name[:20]!r}... is longer than {MAX_NAME_BYTES} bytes")
    return name


MAX_TAKE = 2**31 - 1
"""The largest take number: the largest int32, the most the Live Link Face app's ``/Take n`` (an OSC int) carries."""


def _check_take_number(take: int) -> int:
    if isinstance(take, bool) or not isinstance(take, (int, np.integer)) or not 0 <= take <= MAX_TAKE:
        raise TakeError(f"take number {take!r} is not a whole number 0..{MAX_TAKE}")
    return int(take)


def _take_paths(folder: Path, slate: str, take: int, subject: str) -> tuple[Path, Path, Path]:
    """The take's CSV, its 16 kHz WAV and its input WAV."""
    base = f"{slate}_{take}_{subject}"
    return folder / f"{base}_raw.csv", folder / f"{base}.wav", folder / f"{base}_input.wav"


def next_free_take(folder: str | os.PathLike, slate: str, subject: str) -> int:
    """One more than the highest take number of this slate and subject in ``folder`` (CSV or WAVs); 1 if none.

    Numbers over ``MAX_TAKE`` (left by older versions) are ignored; TakeError when ``MAX_TAKE`` is taken."""
    check_take_name(slate, "slate")
    check_take_name(subject, "subject")
    pattern = re.compile(re.escape(slate) + r"_(\d+)_" + re.escape(subject) + r"(?:_raw\.csv|\.wav|_input\.wav)")
    try:
        names = os.listdir(folder)
    except FileNotFoundError:
        return 1
    taken = (int(m.group(1)) for m in map(pattern.fullmatch, names) if m is not None)
    highest = max((take for take in taken if take <= MAX_TAKE), default=0)
    if highest == MAX_TAKE:
        raise TakeError(f"take {MAX_TAKE} of {slate!r} / {subject!r} exists, the largest take number; "
                        "choose a take number (--take, /Take) or a new slate")
    return highest + 1


def _column_layout(curve_names: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """Where each curve goes in a row of 61 + extra values, and the names of the extra columns.

    Returns ``(destination index per curve, extra column names)``.
    """
    destinations: list[int] = []
    extra: list[str] = []
    seen: dict[str, str] = {}
    for name in curve_names:
        if not isinstance(name, str) or not name or any(c in name for c in ',"\r\n'):
            raise TakeError(f"curve name {name!r} cannot be a CSV column (empty, or has a comma, quote or newline)")
        key = name.lower()
        if key in _FIXED_COLUMNS:
            raise TakeError(f"curve name {name!r} would clash with the take's {name} column")
        if key in seen:
            raise TakeError(f"curves {seen[key]!r} and {name!r} would fill the same column")
        seen[key] = name
        if key in _CURVE_COLUMN:
            destinations.append(_CURVE_COLUMN[key])
        else:
            destinations.append(BLENDSHAPE_COUNT + len(extra))
            extra.append(name)
    return np.array(destinations, dtype=np.intp), tuple(extra)


class TakeWriter:
    """Records one take, row by row: ``<Slate>_<Take>_<Subject>_raw.csv`` and, once audio comes, the WAV.

    ``write_frame`` and ``write_audio`` are cheap enough for a 60 fps live thread (one preformatted line
    and one ``write`` per row); they may be called from different threads. Use as a context manager or
    call ``close``. Raises TakeError when the take cannot be created (bad name, already there, folder
    not writable) or a write fails (disk full).
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        *,
        slate: str,
        take: int,
        subject: str,
        fps: float = 60,
        timecode: str = "system",
        sample_rate_hz: int = SAMPLE_RATE_HZ,
        curve_names: Sequence[str],
        start_time_of_day_s: float | None = None,
    ) -> None:
        """``fps``: row rate when ``write_frame`` gets no time. ``timecode``: one of ``TIMECODE_SOURCES``.

        ``sample_rate_hz``: the rate of what ``write_audio`` gets. ``curve_names``: the order of the
        values ``write_frame`` gets. ``start_time_of_day_s``: with system timecode, the time of day of
        the take's time 0 (a live take starts at the capture time of its first frame); default now.
        """
        self.slate = check_take_name(slate, "slate")
        self.subject = check_take_name(subject, "subject")
        self.take = _check_take_number(take)
        if not fps > 0:
            raise ValueError(f"fps must be > 0, got {fps!r}")
        if not sample_rate_hz > 0:
            raise ValueError(f"sample_rate_hz must be > 0, got {sample_rate_hz!r}")
        if timecode not in TIMECODE_SOURCES:
            raise ValueError(f"timecode must be one of {TIMECODE_SOURCES}, got {timecode!r}")
        self.fps = float(fps)
        self.sample_rate_hz = int(sample_rate_hz)
        self.curve_names = tuple(curve_names)
        self._destinations, extra_columns = _column_layout(self.curve_names)
        self._row_width = BLENDSHAPE_COUNT + len(extra_columns)
        # "%.10f" per column: the row is one %-format away, no per-value Python calls.
        self._row_format = f",{BLENDSHAPE_COUNT}," + ",".join([f"%.{DECIMALS}f"] * self._row_width) + "\n"

        folder = Path(folder)
        self._csv_path, self._wav_path, self._input_wav_path = _take_paths(folder, self.slate, self.take, self.subject)
        for path in (self._wav_path, self._input_wav_path):
            if path.exists():
                raise self._exists_error(path)
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._csv = open(self._csv_path, "xb", buffering=0)
        except FileExistsError:
            raise self._exists_error(self._csv_path) from None
        except OSError as error:
            raise TakeError(f"cannot create take {self._csv_path}: {error.strerror or error}") from None
        self._csv_bytes = 0
        """The CSV's size up to its last whole line: what a failed write is cut back to."""
        self._wav: TakeWav | None = None
        self._input_wav: TakeWav | None = None
        self.failure: str | None = None
        """Why the take stopped taking writes (the disk refused one), or None."""
        self._lock = threading.Lock()
        self._closed = False
        self._rows = 0
        self._samples = 0
        self._last_time_s = -np.inf
        if timecode == "take":
            start_time_of_day_s = 0.0
        elif start_time_of_day_s is None:
            start_time_of_day_s = time_of_day_s()
        self.start_time_of_day_s = float(start_time_of_day_s)
        """The timecode of the take's time 0, in seconds of the day (0 for take-relative timecode)."""
        try:
            self._write_csv(",".join(rig.CSV_COLUMNS + extra_columns) + "\n")
        except TakeError:
            self._csv.close()
            self._csv_path.unlink(missing_ok=True)  # a CSV without its header is no take
            raise

    def _exists_error(self, path: Path) -> TakeError:
        free = next_free_take(path.parent, self.slate, self.subject)
        return _TakeExistsError(f"take {path} already exists; takes are never overwritten (next free take: {free})")

    @property
    def csv_path(self) -> Path:
        return self._csv_path

    @property
    def wav_path(self) -> Path:
        """Where the audio goes; the file exists once ``write_audio`` was called."""
        return self._wav_path

    @property
    def input_wav_path(self) -> Path:
        """Where the input's own audio goes; the file exists once ``write_input_audio`` was called."""
        return self._input_wav_path

    @property
    def rows_written(self) -> int:
        return self._rows

    @property
    def samples_written(self) -> int:
        return self._samples

    @property
    def last_row_time_s(self) -> float:
        """Take time of the last row written (0 before the first)."""
        return max(self._last_time_s, 0.0)

    @property
    def start_timecode(self) -> str:
        """``HH:MM:SS:FF.fff`` of the take's time 0 (what ``/RecordStartConfirm`` answers)."""
        return format_timecode(self.start_time_of_day_s)

    def write_frame(self, values: np.ndarray, time_s: float | None = None) -> None:
        """Append one row. ``values``: shape (len(curve_names),), in ``curve_names`` order, finite.

        ``time_s``: seconds since the take's time 0, increasing row to row; None = row index / fps.
        """
        values = np.asarray(values, dtype=np.float64)
        if values.shape != self._destinations.shape:
            raise ValueError(f"frame has shape {values.shape}, expected ({len(self.curve_names)},)")
        if not np.isfinite(values).all():
            bad = [n for n, v in zip(self.curve_names, values) if not np.isfinite(v)]
            raise ValueError(f"non-finite curve values in {bad}")
        row = np.zeros(self._row_width)
        row[self._destinations] = values
        row += 0.0  # -0.0 would print as -0.0000000000
        with self._lock:
            if time_s is None:
                time_s = self._rows / self.fps
            elif not (time_s >= 0 and time_s > self._last_time_s):
                raise ValueError(f"time_s {time_s!r} is not >= 0 and after the previous row ({self._last_time_s})")
            line = format_timecode(self.start_time_of_day_s + time_s) + self._row_format % tuple(row.tolist())
            self._write_csv(line)
            self._rows += 1
            self._last_time_s = time_s

    def _write_csv(self, text: str) -> None:
        """Append whole lines; a write the disk refuses is cut back to the last whole line."""
        self._check_open()
        encoded = text.encode("utf-8")
        data = memoryview(encoded)
        try:
            while data:
                written = self._csv.write(data)
                if not written:
                    raise OSError(28, os.strerror(28))  # ENOSPC: nothing more would go
                data = data[written:]
        except OSError as error:
            self._fail(f"cannot write take {self._csv_path}: {error.strerror or error}")
            try:
                self._csv.truncate(self._csv_bytes)
            except OSError:
                pass  # the reader then meets the partial row; nothing more can be done
            raise TakeError(self.failure) from None
        self._csv_bytes += len(encoded)

    def _check_open(self) -> None:
        if self._closed:
            raise ValueError(f"take {self._csv_path.name} is closed")
        if self.failure is not None:
            raise TakeError(f"take {self._csv_path.name} stopped earlier: {self.failure}")

    def _fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason

    def write_audio(self, samples: np.ndarray) -> None:
        """Append mono audio: ``samples`` float32 in -1..1 (clipped), shape (N,), at ``sample_rate_hz``.

        Everything written is one continuous stream whose first sample is at the take's time 0.
        """
        samples = np.asarray(samples, dtype=np.float32)
        if samples.ndim != 1:
            raise ValueError(f"audio must be mono, shape (N,), got {samples.shape}")
        with self._lock:
            self._check_open()
            if self._wav is None:
                self._wav = self._create_wav(self._wav_path, sample_rate_hz=self.sample_rate_hz)
            self._write_wav(self._wav, samples)
            self._samples += len(samples)

    def write_input_audio(self, frames: np.ndarray, *, sample_rate_hz: int, subtype: str) -> None:
        """Append the input's own audio to ``<base>_input.wav``: ``frames`` shaped (n, channels), as
        ``take_wav.TakeWav.write`` takes them, at ``sample_rate_hz``, written as ``subtype``
        (``take_wav.SUBTYPES``). The first call sets the format; every later call must keep it."""
        frames = np.asarray(frames)
        frames = frames[:, None] if frames.ndim == 1 else frames
        with self._lock:
            self._check_open()
            if self._input_wav is None:
                self._input_wav = self._create_wav(self._input_wav_path, sample_rate_hz=sample_rate_hz,
                                                   channels=frames.shape[1], subtype=subtype)
            elif (self._input_wav.sample_rate_hz, self._input_wav.subtype) != (sample_rate_hz, subtype):
                raise ValueError(f"{self._input_wav_path.name} is {self._input_wav.sample_rate_hz} Hz "
                                 f"{self._input_wav.subtype}, not {sample_rate_hz} Hz {subtype}")
            self._write_wav(self._input_wav, frames)

    @property
    def input_frames_written(self) -> int:
        return self._input_wav.frames_written if self._input_wav is not None else 0

    def _create_wav(self, path: Path, **wav_format) -> TakeWav:
        try:
            wav = TakeWav(path, **wav_format)
        except FileExistsError:
            raise self._exists_error(path) from None
        except TakeError as error:
            self._fail(str(error))
            raise
        return wav

    def _write_wav(self, wav: TakeWav, frames: np.ndarray) -> None:
        try:
            wav.write(frames)
        except TakeError as error:
            self._fail(str(error))
            raise

    def close(self) -> None:
        """``fsync`` and close the CSV and the WAVs. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                try:
                    os.fsync(self._csv.fileno())
                finally:
                    self._csv.close()
                    for wav in (self._wav, self._input_wav):
                        if wav is not None:
                            wav.close()
            except OSError as error:
                self._fail(f"cannot finish take {self._csv_path}: {error.strerror or error}")
                raise TakeError(self.failure) from None
            except TakeError as error:
                self._fail(str(error))
                raise

    def __enter__(self) -> "TakeWriter":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def write_take(
    folder: str | os.PathLike,
    track: CurveTrack,
    audio: Audio | None,
    *,
    slate: str,
    take: int | None = None,
    subject: str,
    timecode: str = "take",
) -> Path:
    """Write a whole track (and its audio) as one take; returns the CSV path.

    Rows are at ``track.fps`` from time 0; ``take=None`` picks the next free take number.
    """
    writer = open_take(folder, slate=slate, take=take, subject=subject, fps=track.fps, timecode=timecode,
                       curve_names=track.names,
                       sample_rate_hz=audio.sample_rate_hz if audio is not None else SAMPLE_RATE_HZ)
    with writer:
        for values in track.values:
            writer.write_frame(values)
        if audio is not None:
            writer.write_audio(audio.samples)
    return writer.csv_path


def open_take(folder: str | os.PathLike, *, slate: str, take: int | None, subject: str,
              **writer_args) -> TakeWriter:
    """A new ``TakeWriter``; ``take=None`` picks the next free take number (safe against another writer
    picking the same number at the same moment). ``writer_args`` go to ``TakeWriter``."""
    for _ in range(100):
        number = next_free_take(folder, slate, subject) if take is None else take
        try:
            return TakeWriter(folder, slate=slate, take=number, subject=subject, **writer_args)
        except _TakeExistsError:
            if take is not None:
                raise
    raise TakeError(f"no free take number for {slate!r} / {subject!r} in {folder}")


@dataclass
class Take:
    """A Live Link Face CSV take read back into arrays."""

    path: Path
    names: tuple[str, ...]
    """The curve columns (every column after Timecode and BlendshapeCount), in file order."""
    values: np.ndarray
    """float32, shape (T, len(names)): one row per CSV row."""
    timecodes_s: np.ndarray
    """float64, shape (T,): each row's timecode in seconds (``h*3600 + m*60 + s + ff/60``), unwrapped at midnight."""
    fps: float
    """Row rate from the timecode steps: 30 or 60 when within 5 %, else the median rate; 60 under two rows."""
    slate: str | None = None
    take: int | None = None
    subject: str | None = None
    """Slate, take number and subject from a ``<Slate>_<Take>_<Subject>_raw.csv`` file name, else None.
    The last ``_<digits>_`` splits them, so a subject holding one (``A_2_B``) is misread."""
    audio_path: Path | None = None
    """The WAV beside the take (``<Slate>_<Take>_<Subject>.wav``) if it exists; its first sample is at row 0."""

    @property
    def num_frames(self) -> int:
        return self.values.shape[0]

    @property
    def times_s(self) -> np.ndarray:
        """float64 (T,): seconds since the first row, the time axis the audio shares."""
        return self.timecodes_s - self.timecodes_s[0] if self.num_frames else self.timecodes_s

    def column(self, name: str) -> np.ndarray | None:
        """One curve, float32 (T,), by column name in any case (``jawOpen`` finds ``JawOpen``); None if absent."""
        lowered = [n.lower() for n in self.names]
        return self.values[:, lowered.index(name.lower())] if name.lower() in lowered else None

    def live_link_face_track(self) -> CurveTrack:
        """The 61 Live Link Face values in wire order (``rig.LIVE_LINK_FACE_NAMES``), at ``fps``.

        Columns are matched by name, case-insensitively; names the take lacks are 0, extra columns dropped.
        """
        values = np.zeros((self.num_frames, rig.NUM_LIVE_LINK_FACE), dtype=np.float32)
        for j, name in enumerate(rig.LIVE_LINK_FACE_NAMES):
            column = self.column(name)
            if column is not None:
                values[:, j] = column
        return CurveTrack(rig.LIVE_LINK_FACE_NAMES, values, self.fps)


def read_take(path: str | os.PathLike) -> Take:
    """Read any Live Link Face CSV take (the app's or ours; 30 or 60 fps; extra columns).

    Raises TakeError naming the file and line, as Unreal's importer would refuse it: not a UTF-8 CSV,
    column 0 not ``Timecode`` or column 1 not ``BlendShapeCount`` (any case), a row whose column count
    differs from the header's, a bad timecode or a value that is not a number. Blank lines are skipped.
    """
    path = Path(path)
    header, lines, rows = _read_rows(path)
    names = tuple(header[2:])
    values = _parse_values(path, names, lines, rows)
    timecodes_s = np.empty(len(rows), dtype=np.float64)
    for k, (line, row) in enumerate(zip(lines, rows)):
        try:
            timecodes_s[k] = parse_timecode(row[0])
        except ValueError as error:
            raise TakeError(f"{path}: line {line}: {error}") from None
    timecodes_s = _unwrap_midnight(timecodes_s)

    match = _TAKE_FILE.fullmatch(path.name)
    base = f"{match['slate']}_{match['take']}_{match['subject']}" if match else path.stem
    audio_path = path.with_name(base + ".wav")
    return Take(
        path=path, names=names, values=values.astype(np.float32), timecodes_s=timecodes_s,
        fps=_estimate_fps(timecodes_s),
        slate=match["slate"] if match else None,
        take=int(match["take"]) if match else None,
        subject=match["subject"] if match else None,
        audio_path=audio_path if audio_path.is_file() else None,
    )


def _read_rows(path: Path) -> tuple[list[str], list[int], list[list[str]]]:
    """The header, and each non-blank row with its 1-based line number; checks the Live Link Face shape."""
    lines: list[int] = []
    rows: list[list[str]] = []
    line = 1
    try:
        with open(path, encoding="utf-8-sig", newline="") as file:
            reader = csv.reader(file)
            header = [cell.strip() for cell in next(reader, [])]
            _check_header(path, header)
            for row in reader:
                line = reader.line_num
                if not row:
                    continue
                if len(row) != len(header):
                    raise TakeError(f"{path}: line {line}: {len(row)} columns, the header has {len(header)}")
                lines.append(line)
                rows.append(row)
    except UnicodeDecodeError:
        raise TakeError(f"{path}: not a CSV take (not UTF-8 text, near line {line})") from None
    except csv.Error as error:
        raise TakeError(f"{path}: line {line}: not a CSV take ({error})") from None
    except OSError as error:
        raise TakeError(f"{path}: cannot read take: {error.strerror or error}") from None
    return header, lines, rows


def _check_header(path: Path, header: list[str]) -> None:
    if not header:
        raise TakeError(f"{path}: empty, expected a Live Link Face header (Timecode,BlendshapeCount,...)")
    for index, expected in enumerate(("Timecode", "BlendShapeCount")):
        found = header[index] if index < len(header) else None
        if found is None or found.lower() != expected.lower():
            shown = "nothing" if found is None else repr(found[:40])
            raise TakeError(f"{path}: line 1: column {index} is {shown}, expected {expected} "
                            "(not a Live Link Face take)")


def _parse_values(path: Path, names: tuple[str, ...], lines: list[int], rows: list[list[str]]) -> np.ndarray:
    """float64 (T, len(names)) from the rows' curve cells; TakeError names the first cell that is no number."""
    try:
        return np.array([row[2:] for row in rows], dtype=np.float64).reshape(len(rows), len(names))
    except ValueError:
        pass
    for line, row in zip(lines, rows):
        for name, cell in zip(names, row[2:]):
            try:
                float(cell)
            except ValueError:
                raise TakeError(f"{path}: line {line}: {name} is {cell[:40]!r}, not a number") from None
    raise AssertionError("numpy refused a cell that float() accepts")


def _unwrap_midnight(timecodes_s: np.ndarray) -> np.ndarray:
    """A system-clock take recorded across midnight goes from 23:59:59 to 00:00:00: keep it increasing."""
    wraps = np.diff(timecodes_s) < -SECONDS_PER_DAY / 2
    if not wraps.any():
        return timecodes_s
    return timecodes_s + SECONDS_PER_DAY * np.concatenate([[0], np.cumsum(wraps)])


def _estimate_fps(timecodes_s: np.ndarray) -> float:
    steps = np.diff(timecodes_s)
    steps = steps[steps > 0]
    if len(steps) == 0:
        return _DEFAULT_FPS
    rate = 1.0 / float(np.median(steps))
    for snap in _FPS_SNAP:
        if abs(rate - snap) <= _FPS_SNAP_TOLERANCE * snap:
            return snap
    return rate
