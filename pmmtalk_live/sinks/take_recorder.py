"""Live take recording: the frames the sinks get, as a Live Link Face CSV take, with the stream's audio
beside it, starting at the same instant.

A take starts at a frame (its time 0). The frame is a look-ahead behind the audio, so the recorder
keeps the last ``HISTORY_S`` of stream audio and writes the WAVs from that frame's instant on: row k
of the CSV, sample ``k * 16000 / fps`` of the 16 kHz WAV and frame ``k * rate / fps`` of the input WAV
(the input's own audio, ``tracks.InputFrames``) show the same instant. Rows and audio go to disk as
they come (see ``csv_take``: a take cut short by a crash or ``kill -9`` keeps every row written).

A write the disk refuses (full, the file size limit) ends the take there: its files stay valid up to
their last whole row and frame, the take is finished with its ``error`` set, and ``on_failure`` is
called with it, so the daemon can say so; the stream goes on.

Start and stop come from any thread (the remote-control port); frames and audio from the engine.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import TakeError
from ..timecode import format_timecode, time_of_day_s
from ..tracks import SAMPLE_RATE_HZ, CurveFrame, InputFrames
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
    input_wav_path: Path | None = None
    """The input's own audio, None when none was written."""
    error: str | None = None
    """Why the take ended before it was stopped (the disk refused a write), None when all went well;
    the files are then valid up to their last whole row and frame."""


class _History:
    """The last ``HISTORY_S`` of one audio timeline (frames at ``rate_hz``), oldest first."""

    def __init__(self, rate_hz: int) -> None:
        self.rate_hz = rate_hz
        self._blocks: deque[tuple[int, np.ndarray]] = deque()
        """(timeline index of the first frame, frames), oldest first."""
        self._length = int(HISTORY_S * rate_hz)
        self.end = 0
        """Timeline index one past the newest frame."""

    def add(self, start: int, frames: np.ndarray) -> None:
        """Frames in order from ``start``: a gap (audio lost at the source) becomes silence, so that
        the files stay aligned with the rows; an overlap keeps only the new part."""
        gap = start - self.end
        if gap > 0:
            self._append(np.zeros((gap,) + frames.shape[1:], frames.dtype))
        elif gap < 0:
            frames = frames[-gap:]
        self._append(frames)

    def since(self, position: int) -> np.ndarray | None:
        """The frames from ``position`` to ``end`` (silence for what is older than the history), or None."""
        if not self._blocks or position >= self.end:
            return None
        oldest, template = self._blocks[0]
        pieces = []
        for start, frames in reversed(self._blocks):  # newest first: a running take needs the last block or two
            if start + len(frames) <= position:
                break
            pieces.append(frames[max(position - start, 0):])
        if position < oldest:
            pieces.append(np.zeros((oldest - position,) + template.shape[1:], template.dtype))
        return np.concatenate(pieces[::-1])

    def _append(self, frames: np.ndarray) -> None:
        if len(frames) == 0:
            return
        self._blocks.append((self.end, frames))
        self.end += len(frames)
        while self._blocks and self._blocks[0][0] + len(self._blocks[0][1]) <= self.end - self._length:
            self._blocks.popleft()


class TakeRecorder:
    """Records one take at a time into ``folder``.

    ``on_failure(take)``: called (on the thread that wrote, outside the recorder's lock) with the
    ``FinishedTake`` of a take that a failed write ended."""

    def __init__(self, folder: str | os.PathLike, *, fps: float, sample_rate_hz: int = SAMPLE_RATE_HZ,
                 on_failure: Callable[[FinishedTake], None] | None = None) -> None:
        self.folder = Path(folder)
        self.fps = float(fps)
        self.sample_rate_hz = sample_rate_hz
        self.on_failure = on_failure
        self._lock = threading.Lock()
        self._audio = _History(sample_rate_hz)
        self._input: _History | None = None
        self._input_format: tuple[int, str, int] | None = None
        """(rate Hz, subtype, channels) of the input's own audio, None before any came."""
        self._writer: TakeWriter | None = None
        self._first_frame = 0
        self._next_sample = 0
        """Next stream sample the 16 kHz WAV expects."""
        self._next_input_frame: int | None = None
        """Next input frame the input WAV expects; None: no input WAV for this take (yet)."""
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

    def check_folder(self) -> None:
        """Raise TakeError (one line) if takes cannot go into ``folder``: it is not a folder, or no file
        can be created in it (or, not there yet, in the folder it would be made in). Leaves nothing behind."""
        folder = self.folder
        if folder.exists() and not folder.is_dir():
            raise TakeError(f"takes folder {folder} is {'a file' if folder.is_file() else 'not a folder'}; "
                            "give a folder for takes")
        existing = next(p for p in (folder, *folder.absolute().parents) if p.exists())
        if not existing.is_dir():
            raise TakeError(f"takes folder {folder} cannot be made: {existing} is not a folder")
        try:  # the one sure test: permissions, read-only mounts, special file systems, all as root too
            with tempfile.TemporaryFile(dir=existing, prefix=".pmmtalk-probe-"):
                pass
        except OSError as error:
            where = "" if existing == folder.absolute() else f" ({existing} cannot be written)"
            raise TakeError(f"takes folder {folder} cannot be written{where}: {error.strerror or error}") from None

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
            self._next_sample = self._position(self.sample_rate_hz)
            self._next_input_frame = None if self._input is None else self._position(self._input.rate_hz)
            failed = self._write_audio()
        log.info("recording take %s", writer.csv_path)
        self._report(failed)
        return writer

    def stop(self) -> FinishedTake | None:
        """Finish the take (None when none is running)."""
        with self._lock:
            return self._finish() if self._writer is not None else None

    def add_audio(self, start_sample: int, samples: np.ndarray, input_frames: InputFrames | None = None) -> None:
        """Stream audio in order: ``samples`` float32 (n,) from stream sample ``start_sample``, and the
        input's own frames that came with them (``tracks.AudioBlock.input``)."""
        with self._lock:
            self._audio.add(start_sample, np.asarray(samples, np.float32))
            if input_frames is not None:
                self._add_input(input_frames)
            failed = self._write_audio() if self._writer is not None else None
        self._report(failed)

    def add_frame(self, frame: CurveFrame) -> None:
        """One output frame; written as the next row when a take is running and the frame belongs to it."""
        failed = None
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
                failed = self._finish(error)
        self._report(failed)

    def close(self) -> FinishedTake | None:
        return self.stop()

    # --- inside the lock -----------------------------------------------------------------------------

    def _position(self, rate_hz: int) -> int:
        """Where the running take's time 0 is on a timeline at ``rate_hz``."""
        return round(self._first_frame * rate_hz / self.fps)

    def _add_input(self, block: InputFrames) -> None:
        frames = block.frames if block.frames.ndim == 2 else block.frames[:, None]
        audio_format = (block.rate_hz, block.subtype, frames.shape[1])
        if audio_format != self._input_format:  # the first block, or a microphone back at another rate
            started = self._writer is not None and self._writer.input_frames_written > 0
            if started:
                log.warning("take %s: the input changed to %d Hz, %d ch mid-take; its input WAV ends here "
                            "(the 16 kHz WAV goes on)", self._writer.csv_path.name, block.rate_hz, frames.shape[1])
            self._input_format = audio_format
            self._input = _History(block.rate_hz)
            self._next_input_frame = self._position(block.rate_hz) if self._writer is not None and not started else None
        self._input.add(block.start_frame, frames)

    def _write_audio(self) -> FinishedTake | None:
        """Write the audio the take has not got yet, from the histories; the take if a write failed."""
        writer = self._writer
        try:
            samples = self._audio.since(self._next_sample)
            if samples is not None:
                writer.write_audio(samples)
                self._next_sample = self._audio.end
            if self._next_input_frame is not None:
                frames = self._input.since(self._next_input_frame)
                if frames is not None:
                    rate_hz, subtype, _ = self._input_format
                    writer.write_input_audio(frames, sample_rate_hz=rate_hz, subtype=subtype)
                    self._next_input_frame = self._input.end
        except TakeError as error:
            return self._finish(error)
        return None

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

    def _finish(self, error: Exception | None = None) -> FinishedTake:
        """Close the take; ``error``: the failed write that ends it."""
        writer, self._writer = self._writer, None
        self._next_input_frame = None
        try:
            writer.close()
        except TakeError as close_error:
            error = error or close_error
        reason = writer.failure or (str(error) if error is not None else None)
        done = FinishedTake(format_timecode(writer.start_time_of_day_s + writer.last_row_time_s), writer.csv_path,
                            writer.wav_path, writer.rows_written, writer.samples_written,
                            writer.input_wav_path if writer.input_frames_written else None, reason)
        self.finished.append(done)
        if reason is None:
            log.info("take finished: %s (%d rows, %.1f s of audio)", done.csv_path, done.rows,
                     done.samples / self.sample_rate_hz)
        else:
            log.error("take %s stopped after %d rows (%.1f s), valid up to there: %s", done.csv_path.name,
                      done.rows, done.rows / self.fps, reason)
        return done

    def _report(self, failed: FinishedTake | None) -> None:
        """Outside the lock: tell ``on_failure`` about a take a failed write ended."""
        if failed is not None and failed.error is not None and self.on_failure is not None:
            self.on_failure(failed)
