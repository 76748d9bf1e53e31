"""Live audio in: the protocol every source follows, ``open_source``, a file (at real-time pace or as fast
as possible) and raw PCM on stdin. The microphone is in ``microphone``, device listing in ``devices``,
the shared timeline and queue in ``blocks``; the public names are re-exported here.

    device callback | reader thread --AudioBlock--> bounded queue --read(timeout_s)--> the engine

Every source hands out ``tracks.AudioBlock``s on one timeline: mono float32 at ``SAMPLE_RATE_HZ``
(channels averaged, the rate converted on the fly by ``resample.StreamResampler``), ``start_sample``
contiguous unless audio was lost, ``capture_time_s`` the ``time.monotonic()`` at which the block's
first sample entered the microphone (a file at real-time pace: when that sample was due; a file as
fast as possible or stdin: when it was read). The resampler holds back ``latency_samples`` outputs
until later input arrives; capture times account for that, so a block's time is its own first
sample's, not that of the device block it came out of. Pacing (real time or back-pressure): ``blocks``.
"""

from __future__ import annotations

import logging
import os
import select
import sys
import time
from typing import BinaryIO, Protocol

import numpy as np

from ..errors import AudioInputError
from ..tracks import SAMPLE_RATE_HZ, AudioBlock
from . import DEFAULT_RAW_CHANNELS, DEFAULT_RAW_FORMAT, DEFAULT_RAW_RATE_HZ, RAW_FORMAT_NAMES
from .blocks import MonoBlocks, QueuedSource
from .devices import InputDevice, format_devices, list_input_devices, reinitialize_portaudio
from .files import _printable, read_audio
from .input_frames import RAW_SUBTYPES, FileInput
from .microphone import Microphone

__all__ = ["Source", "open_source", "FileSource", "RawPcmSource", "RAW_FORMATS", "Microphone", "InputDevice",
           "list_input_devices", "format_devices", "reinitialize_portaudio"]

log = logging.getLogger(__name__)

RAW_FORMATS = dict(zip(RAW_FORMAT_NAMES, [(np.dtype("<i2"), 1.0 / 32768), (np.dtype("<i4"), 1.0 / 2**31),
                                           (np.dtype("<f4"), 1.0)]))
"""Raw PCM on stdin: name -> (sample dtype, scale to -1..1)."""


class Source(Protocol):
    """What the streaming engine uses of an audio source.

    ``start()`` begins capture (a device stream or a reader thread); ``read(timeout_s)`` returns the
    next block, or None when nothing arrived within ``timeout_s`` seconds or the source has finished;
    ``finished`` turns True once a file or stdin ended (or the source was closed) and every block has
    been read. ``close()`` stops everything and joins the threads; calling it again does nothing.
    Thread-safe: blocks are produced on a device callback or a reader thread.
    """

    description: str
    """One line for the serve banner, e.g. "microphone 'pulse' (ALSA) at 44100 Hz, 2 ch -> 16 kHz mono"."""
    realtime: bool
    """True: the source does not wait for the engine (the engine drops audio when behind).
    False: the source waits for the engine (back-pressure), nothing is lost."""
    overflows: int
    """Times audio was dropped because a buffer was full (the device's or this source's queue)."""
    reconnects: int
    """Times the microphone came back after its device went away."""
    samples_lost: int
    """16 kHz samples missing from the timeline (gaps in ``start_sample``)."""

    @property
    def finished(self) -> bool: ...

    def start(self) -> None: ...

    def read(self, timeout_s: float) -> AudioBlock | None: ...

    def close(self) -> None: ...


def open_source(spec: str | os.PathLike | BinaryIO, *, device: int | str | None = None, realtime: bool = True,
                block_ms: float = 10, raw_rate_hz: int = DEFAULT_RAW_RATE_HZ,
                raw_channels: int = DEFAULT_RAW_CHANNELS, raw_format: str = DEFAULT_RAW_FORMAT,
                loop: bool = False) -> Source:
    """The source ``spec`` names: ``"mic"``, ``"-"`` (raw PCM on stdin), a binary stream (raw PCM, for
    tests and embedding), or an audio file path (a file called ``mic`` is ``./mic``).

    device: the microphone by index or by any part of its name (any case); None = the system default.
    realtime: files only: True = at real-time pace, False = as fast as the engine reads.
    block_ms: audio per block (the microphone's device block, a file's block, stdin's read size).
    raw_rate_hz, raw_channels, raw_format: stdin only: the PCM layout (``RAW_FORMATS``).
    loop: files only: start again at the end, forever.

    Raises ``AudioInputError`` (one line) for a file that cannot be used, a microphone that does not
    exist or refuses the settings, or a bad raw layout. The source is not started.
    """
    if not 1 <= block_ms <= 1000:
        raise AudioInputError(f"block_ms must be 1..1000 ms, got {block_ms}")
    if hasattr(spec, "read"):
        return RawPcmSource(spec, rate_hz=raw_rate_hz, channels=raw_channels, sample_format=raw_format,
                            block_ms=block_ms)
    if spec == "-":
        return RawPcmSource(None, rate_hz=raw_rate_hz, channels=raw_channels, sample_format=raw_format,
                            block_ms=block_ms)
    if spec == "mic":
        return Microphone(device, block_ms=block_ms)
    return FileSource(spec, realtime=realtime, block_ms=block_ms, loop=loop)


# --- files --------------------------------------------------------------------------------------------

class FileSource(QueuedSource):
    """An audio file (any format ``files.read_audio`` reads, checked the same way), in ``block_ms`` blocks.

    realtime=True: block k (samples k*n .. (k+1)*n) is handed out when its last sample is due,
    ``start + (k+1) * block``, as a microphone would; its ``capture_time_s`` is when its first sample
    was due, ``start + k * block`` (monotonic clock). realtime=False: as fast as the engine reads,
    ``capture_time_s`` = when the block was read. loop=True: the file again and again, forever.
    """

    def __init__(self, path: str | os.PathLike, *, realtime: bool = True, block_ms: float = 10,
                 loop: bool = False) -> None:
        super().__init__(realtime=realtime, block_ms=block_ms)
        self.path = path
        self.samples = read_audio(path).samples  # one-line AudioInputErrors for anything unusable
        self.loop = loop
        self.block_samples = max(1, int(round(block_ms * SAMPLE_RATE_HZ / 1000)))
        self.description = (f"file '{_printable(os.fspath(path))}' ({self._format()}, "
                             f"{len(self.samples) / SAMPLE_RATE_HZ:.1f} s{', looped' if loop else ''}) "
                             f"{'at real-time pace' if realtime else 'as fast as possible'}")

    def _format(self) -> str:
        import soundfile as sf

        try:
            info = sf.info(self.path)
        except Exception:  # read_audio could read it; the description can do without
            return "-> 16 kHz mono"
        return f"{info.samplerate} Hz, {info.channels} ch -> 16 kHz mono"

    def start(self) -> None:
        self._start_thread(self._run, "file-source")

    def _run(self) -> None:
        try:
            own = FileInput(self.path, loop=self.loop)  # the file's own frames, for the take
        except (RuntimeError, OSError) as error:  # read_audio could read it: the take does without
            log.warning("%s: cannot read its own audio for the take (%s)", self.description, error)
            own = None
        try:
            self._play(own)
        finally:
            if own is not None:
                own.close()

    def _play(self, own: FileInput | None) -> None:
        n = len(self.samples)
        started_s = time.monotonic()
        position = 0  # timeline index of the next block's first sample
        while not self._stop.is_set() and (self.loop or position < n):
            if self.loop:
                samples = np.take(self.samples, np.arange(position, position + self.block_samples), mode="wrap")
            else:
                samples = self.samples[position:position + self.block_samples]
            own_frames = own.until(position + len(samples)) if own is not None else None
            if self.realtime:
                due_s = started_s + (position + len(samples)) / SAMPLE_RATE_HZ
                if self._stop.wait(max(0.0, due_s - time.monotonic())):
                    return
                self._deliver(AudioBlock(samples, position, started_s + position / SAMPLE_RATE_HZ, own_frames))
            elif not self._deliver(AudioBlock(samples, position, time.monotonic(), own_frames)):
                return
            position += len(samples)
        log.debug("%s: ended after %d samples", self.description, position)
        self._finish()


# --- raw PCM on stdin ---------------------------------------------------------------------------------

class RawPcmSource(QueuedSource):
    """Raw interleaved PCM from stdin (``stream=None``) or a binary stream, read on a thread until EOF.

    sample_format: a ``RAW_FORMATS`` name (little-endian s16, s32 or f32). Reads of any size are fine:
    a frame split across reads is joined; a partial frame at EOF is dropped with a warning. Never real
    time: reading waits while the engine is behind. ``capture_time_s``: when the audio was read (a
    read's last frame counts as arriving then).
    A stream with a file descriptor is read with ``os.read`` after ``select``, so ``close()`` can stop
    a reader that waits for input; don't read from it elsewhere.
    """

    def __init__(self, stream: BinaryIO | None = None, *, rate_hz: int = 16000, channels: int = 1,
                 sample_format: str = "s16le", block_ms: float = 10) -> None:
        super().__init__(realtime=False, block_ms=block_ms)
        if sample_format not in RAW_FORMATS:
            raise AudioInputError(f"raw PCM format '{sample_format}' is not one of {', '.join(RAW_FORMATS)}")
        if int(rate_hz) != rate_hz or rate_hz <= 0:
            raise AudioInputError(f"raw PCM rate must be a positive whole number of Hz, got {rate_hz}")
        if int(channels) != channels or channels < 1:
            raise AudioInputError(f"raw PCM channels must be 1 or more, got {channels}")
        self._stream = stream if stream is not None else sys.stdin.buffer
        self.name = "stdin" if stream is None else getattr(stream, "name", "stream")
        self.rate_hz, self.channels, self.sample_format = int(rate_hz), int(channels), sample_format
        self._dtype, self._scale = RAW_FORMATS[sample_format]
        self._frame_bytes = self._dtype.itemsize * self.channels
        self._read_bytes = max(1, int(round(block_ms * self.rate_hz / 1000))) * self._frame_bytes
        self._blocks = MonoBlocks(self.rate_hz, self.channels, RAW_SUBTYPES[sample_format])
        self.description = f"{self.name}: raw {sample_format} at {self.rate_hz} Hz, {self.channels} ch -> 16 kHz mono"
        try:
            self._fd: int | None = self._stream.fileno()
        except (AttributeError, OSError, ValueError):  # io.BytesIO and friends
            self._fd = None

    def start(self) -> None:
        self._start_thread(self._run, "raw-pcm-source")

    def _read_some(self) -> bytes | None:
        """Up to one block of bytes; b"" at EOF; None if nothing came within 0.1 s."""
        if self._fd is None:
            read = getattr(self._stream, "read1", None) or self._stream.read
            return read(self._read_bytes)
        ready, _, _ = select.select([self._fd], [], [], 0.1)
        return os.read(self._fd, self._read_bytes) if ready else None

    def _run(self) -> None:
        pending = b""
        frames_read = 0
        try:
            while not self._stop.is_set():
                data = self._read_some()
                if data is None:
                    continue
                if not data:
                    break
                read_s = time.monotonic()
                pending += data
                usable = len(pending) - len(pending) % self._frame_bytes
                if usable == 0:
                    continue
                own = np.frombuffer(pending[:usable], self._dtype).reshape(-1, self.channels)
                pending = pending[usable:]
                frames = own.astype(np.float32) * np.float32(self._scale)
                if not np.isfinite(frames).all():
                    at_s = (frames_read + int(np.argmin(np.isfinite(frames).all(axis=1)))) / self.rate_hz
                    raise AudioInputError(f"{self.name}: NaN or infinite samples (the first at {at_s:.3f} s); "
                                          "float audio must be finite")
                frames_read += len(frames)
                # as a microphone's block: its last frame arrived by the time it was read
                block = self._blocks.push(frames, read_s - len(frames) / self.rate_hz, own)
                if block is not None and not self._deliver(block):
                    return
        except AudioInputError as error:
            self._finish(error)
            return
        except OSError as error:
            self._finish(AudioInputError(f"{self.name}: reading failed after {frames_read / self.rate_hz:.2f} s "
                                         f"({error})"))
            return
        if self._stop.is_set():
            return
        if pending:
            log.warning("%s: ended inside a frame; %d trailing bytes ignored", self.name, len(pending))
        block = self._blocks.end_segment()
        if block is not None:
            self._deliver(block)
        log.debug("%s: EOF after %d frames (%.2f s)", self.name, frames_read, frames_read / self.rate_hz)
        self._finish()
