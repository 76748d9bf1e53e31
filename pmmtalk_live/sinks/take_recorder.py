"""Live take recording: the frames the sinks get, as a Live Link Face CSV take, with the stream's audio
beside it, starting at the same instant.

A take starts at a frame (its time 0). The frame is a look-ahead behind the audio, so the recorder
keeps the last ``HISTORY_S`` of stream audio and writes the WAV from that frame's sample on: row k of
the CSV and sample ``k * 16000 / fps`` of the WAV show the same instant. Rows and audio go to disk as
they come (see ``csv_take``: a take cut short by a crash or ``kill -9`` keeps every row written).

Start and stop come from any thread (the remote-control port); frames and audio from the engine.
"""

from __future__ import annotations

import logging
import os
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import TakeError
from ..timecode import format_timecode, time_of_day_s
from ..tracks import SAMPLE_RATE_HZ, CurveFrame
from .csv_take import TakeWriter, check_take_name, open_take

log = logging.getLogger(__name__)

HISTORY_S = 2.0
"""Stream audio kept for a take that starts at a frame in the recent past (the look-ahead)."""


@dataclass(frozen=True)
class FinishedTake:
    timecode: str
    """The time of day of the take's last row."""
    csv_path: Path
    wav_path: Path
    rows: int
    samples: int


class TakeRecorder:
    """Records one take at a time into ``folder``."""

    def __init__(self, folder: str | os.PathLike, *, fps: float, sample_rate_hz: int = SAMPLE_RATE_HZ) -> None:
        self.folder = Path(folder)
        self.fps = float(fps)
        self.sample_rate_hz = sample_rate_hz
        self._lock = threading.Lock()
        self._history: deque[tuple[int, np.ndarray]] = deque()
        """(stream start sample, samples) of the last ``HISTORY_S`` of audio, oldest first."""
        self._history_len = int(HISTORY_S * sample_rate_hz)
        self._stream_end = 0
        """Stream sample index one past the newest audio in ``_history``."""
        self._writer: TakeWriter | None = None
        self._first_frame = 0
        self._next_sample = 0
        """Next stream sample the WAV expects."""
        self._columns: dict[tuple[str, ...], np.ndarray] = {}
        self._timecode_from_first_frame = False
        self.finished: list[FinishedTake] = []
        """Takes finished so far, oldest first."""
        self.frames_lost = 0
        """Frames the take could not write (disk full): the take was closed there."""

    @property
    def recording(self) -> bool:
        return self._writer is not None

    @property
    def writer(self) -> TakeWriter | None:
        return self._writer

    def start(self, *, slate: str, take: int | None, subject: str, first_frame: int, wall_time_s: float | None,
              curve_names: tuple[str, ...]) -> TakeWriter:
        """Start a take at frame ``first_frame`` (captured at Unix time ``wall_time_s``; None = not
        known yet: the timecode is set from the first frame's capture time), with the columns of
        ``curve_names``; ``take=None`` = the next free number. Raises TakeError (bad name, the take
        exists, the folder is not writable, a take is already running: it goes on untouched)."""
        check_take_name(slate, "slate")
        check_take_name(subject, "subject")
        with self._lock:
            if self._writer is not None:  # refused, so that a stray /RecordStart never cuts a take
                raise TakeError(f"already recording take {self._writer.csv_path.name}; stop it first")
            writer = open_take(self.folder, slate=slate, take=take, subject=subject, fps=self.fps,
                               timecode="system", sample_rate_hz=self.sample_rate_hz,
                               curve_names=curve_names,
                               start_time_of_day_s=None if wall_time_s is None else time_of_day_s(wall_time_s))
            self._timecode_from_first_frame = wall_time_s is None
            self._writer = writer
            self._first_frame = first_frame
            self._columns.clear()
            self._next_sample = round(first_frame * self.sample_rate_hz / self.fps)
            self._write_history()
        log.info("recording take %s", writer.csv_path)
        return writer

    def stop(self) -> FinishedTake | None:
        """Finish the take (None when none is running)."""
        with self._lock:
            return self._finish() if self._writer is not None else None

    def add_audio(self, start_sample: int, samples: np.ndarray) -> None:
        """Stream audio in order: ``samples`` float32 (n,) from stream sample ``start_sample``; a gap
        (audio lost at the source) is recorded as silence so the WAV stays aligned with the rows."""
        with self._lock:
            gap = start_sample - self._stream_end
            if gap > 0:
                self._remember(np.zeros(gap, np.float32))
            elif gap < 0:  # overlaps what we have: keep only the new part
                samples = samples[-gap:]
            self._remember(samples)
            if self._writer is not None:
                self._write_history()

    def add_frame(self, frame: CurveFrame) -> None:
        """One output frame; written as the next row when a take is running and the frame belongs to it."""
        with self._lock:
            writer = self._writer
            if writer is None or frame.number < self._first_frame:
                return
            if self._timecode_from_first_frame:
                start_wall_s = frame.wall_time_s - (frame.number - self._first_frame) / self.fps
                writer.start_time_of_day_s = time_of_day_s(start_wall_s)
                self._timecode_from_first_frame = False
            try:
                writer.write_frame(self._take_values(frame), time_s=(frame.number - self._first_frame) / self.fps)
            except (TakeError, ValueError) as error:
                self.frames_lost += 1
                log.error("take %s stopped: %s", writer.csv_path.name, error)
                self._finish()

    def close(self) -> FinishedTake | None:
        return self.stop()

    # --- inside the lock -----------------------------------------------------------------------------

    def _remember(self, samples: np.ndarray) -> None:
        if len(samples) == 0:
            return
        self._history.append((self._stream_end, np.asarray(samples, np.float32)))
        self._stream_end += len(samples)
        while self._history and self._history[0][0] + len(self._history[0][1]) <= self._stream_end - self._history_len:
            self._history.popleft()

    def _write_history(self) -> None:
        """Write the audio the take has not got yet, from the history."""
        writer = self._writer
        oldest = self._history[0][0] if self._history else self._stream_end
        pieces = []
        if self._next_sample < oldest:  # older than the history: silence stands in
            pieces.append(np.zeros(oldest - self._next_sample, np.float32))
            self._next_sample = oldest
        new = []  # newest first: a running take needs only the last block or two, not the whole history
        for start, samples in reversed(self._history):
            if start + len(samples) <= self._next_sample:
                break
            new.append(samples[max(self._next_sample - start, 0):])
        pieces += new[::-1]
        if not pieces:
            return
        try:
            writer.write_audio(np.concatenate(pieces))
        except TakeError as error:
            log.error("take %s stopped: %s", writer.csv_path.name, error)
            self._finish()
            return
        self._next_sample = self._stream_end

    def _take_values(self, frame: CurveFrame) -> np.ndarray:
        """The frame's values in the take's column order (a preset switched mid-take keeps the columns:
        curves by name, absent ones 0)."""
        names = self._writer.curve_names
        if frame.names == names:
            return frame.values
        index = self._columns.get(frame.names)
        if index is None:
            where = {name: i for i, name in enumerate(frame.names)}
            index = np.array([where.get(name, -1) for name in names])
            self._columns[frame.names] = index
        values = np.append(np.asarray(frame.values, np.float32), np.float32(0.0))
        return values[index]

    def _finish(self) -> FinishedTake:
        writer, self._writer = self._writer, None
        try:
            writer.close()
        except TakeError as error:
            log.error("%s", error)
        done = FinishedTake(format_timecode(writer.start_time_of_day_s + writer.last_row_time_s), writer.csv_path,
                            writer.wav_path, writer.rows_written, writer.samples_written)
        self.finished.append(done)
        log.info("take finished: %s (%d rows, %.1f s of audio)", done.csv_path, done.rows,
                 done.samples / self.sample_rate_hz)
        return done
