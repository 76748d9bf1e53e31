"""The WAV files of a take, written block by block, valid after every write, even when the disk fills.

    TakeWav(path, sample_rate_hz, channels, subtype).write(frames) ... .close()

A canonical RIFF/WAVE file: a ``fmt `` chunk (format 1 for integer PCM, 3 for IEEE float) and one
``data`` chunk, whose size and the RIFF size are rewritten after every write, so a take cut short by
a crash or ``kill -9`` is a WAV any reader accepts, holding every frame written. A write that fails
(disk full, the file size limit) cuts the file back to its last whole frame, so it stays valid, and
raises ``TakeError``; the writer is then done (further writes raise too).

``subtype`` names the sample format in libsndfile's words (``SUBTYPES``). ``write`` takes frames
shaped ``(n, channels)`` (or ``(n,)`` for mono) in either form:

- float, -1..1 full scale: clipped and scaled for the integer subtypes, written as they are for
  ``FLOAT`` and ``DOUBLE`` (values beyond 1.0 are kept: a float input may hold them);
- integers as ``soundfile.read`` returns them, full scale: ``int16`` or ``int32`` (a 24-bit file's
  samples in the top 24 bits): written bit for bit when the subtype is as deep, else rounded down.
"""

from __future__ import annotations

import os
import struct
import threading
from pathlib import Path

import numpy as np

from ..errors import TakeError

SUBTYPES = {"PCM_U8": (1, 8), "PCM_16": (1, 16), "PCM_24": (1, 24), "PCM_32": (1, 32),
            "FLOAT": (3, 32), "DOUBLE": (3, 64)}
"""subtype -> (WAVE format tag, bits per sample)."""

_HEADER = struct.Struct("<4sI4s4sIHHIIHH4sI")
_HEADER_BYTES = _HEADER.size  # 44
_MAX_DATA_BYTES = 0xFFFFFFFF - (_HEADER_BYTES - 8)
"""The 32-bit RIFF size field caps a WAV at 4 GiB."""


class TakeWav:
    """One WAV file, created exclusively at ``path`` (an existing file raises ``FileExistsError``)."""

    def __init__(self, path: str | os.PathLike, *, sample_rate_hz: int, channels: int = 1,
                 subtype: str = "PCM_16") -> None:
        if subtype not in SUBTYPES:
            raise ValueError(f"subtype must be one of {', '.join(SUBTYPES)}, got {subtype!r}")
        if int(channels) != channels or channels < 1 or int(sample_rate_hz) != sample_rate_hz or sample_rate_hz < 1:
            raise ValueError(f"a WAV needs channels >= 1 and a whole rate > 0, got {channels}, {sample_rate_hz}")
        self.path = Path(path)
        self.sample_rate_hz, self.channels, self.subtype = int(sample_rate_hz), int(channels), subtype
        self._format_tag, self._bits = SUBTYPES[subtype]
        self._frame_bytes = self.channels * self._bits // 8
        self._lock = threading.Lock()
        self._frames = 0
        self._failed: str | None = None
        try:
            self._file = open(self.path, "xb", buffering=0)
        except FileExistsError:
            raise  # takes are never overwritten: the caller names the next free take
        except OSError as error:
            raise TakeError(f"cannot create take audio {self.path}: {error.strerror or error}") from None
        try:
            self._put(self._header())
        except OSError as error:
            self._file.close()
            self.path.unlink(missing_ok=True)  # a header cut short is no WAV at all
            raise TakeError(f"cannot create take audio {self.path}: {error.strerror or error}") from None

    @property
    def frames_written(self) -> int:
        return self._frames

    def write(self, frames: np.ndarray) -> None:
        """Append ``frames`` (see the module docstring); TakeError if the disk refuses them (the file
        then ends at its last whole frame) or the file would pass 4 GiB."""
        data = self._encode(frames)
        with self._lock:
            if self._failed is not None:
                raise TakeError(f"take audio {self.path.name} stopped earlier: {self._failed}")
            if self._file.closed:
                raise ValueError(f"take audio {self.path.name} is closed")
            if self._frames * self._frame_bytes + len(data) > _MAX_DATA_BYTES:
                self._failed = "a WAV file cannot pass 4 GiB"
                raise TakeError(f"take audio {self.path} stopped: {self._failed}")
            try:
                self._put(data)
                self._frames += len(data) // self._frame_bytes
                self._put_header()
            except OSError as error:
                self._failed = error.strerror or str(error)
                self._cut_back()
                raise TakeError(f"cannot write take audio {self.path}: {self._failed}") from None

    def close(self) -> None:
        """``fsync`` and close; safe to call twice. TakeError if the disk refuses."""
        with self._lock:
            if self._file.closed:
                return
            try:
                os.fsync(self._file.fileno())
            except OSError as error:
                raise TakeError(f"cannot finish take audio {self.path}: {error.strerror or error}") from None
            finally:
                self._file.close()

    def _put(self, data: bytes) -> None:
        """Write all of ``data`` (a file size limit gives a short write before the error)."""
        view = memoryview(data)
        while view:
            written = self._file.write(view)
            if not written:
                raise OSError(28, os.strerror(28))  # ENOSPC: nothing more would go
            view = view[written:]

    def _put_header(self) -> None:
        """Rewrite the header in place (one ``pwrite``: the file position stays at the end)."""
        header = self._header()
        while header:
            written = os.pwrite(self._file.fileno(), header, _HEADER_BYTES - len(header))
            if not written:
                raise OSError(28, os.strerror(28))
            header = header[written:]

    def _cut_back(self) -> None:
        """After a failed write: the file ends at its last whole frame, with sizes that say so."""
        try:
            self._file.truncate(_HEADER_BYTES + self._frames * self._frame_bytes)
            self._file.seek(0)
            self._put(self._header())
        except OSError:
            pass  # nothing more can be done: a reader still finds whole frames up to the data size

    def _header(self) -> bytes:
        data_bytes = self._frames * self._frame_bytes
        return _HEADER.pack(b"RIFF", _HEADER_BYTES - 8 + data_bytes, b"WAVE", b"fmt ", 16, self._format_tag,
                            self.channels, self.sample_rate_hz, self.sample_rate_hz * self._frame_bytes,
                            self._frame_bytes, self._bits, b"data", data_bytes)

    def _encode(self, frames: np.ndarray) -> bytes:
        frames = np.asarray(frames)
        if frames.ndim == 1 and self.channels == 1:
            frames = frames[:, None]
        if frames.ndim != 2 or frames.shape[1] != self.channels:
            raise ValueError(f"audio must be shaped (n, {self.channels}), got {frames.shape}")
        if self._format_tag == 3:
            return frames.astype("<f4" if self._bits == 32 else "<f8").tobytes()
        if frames.dtype.kind == "f" and self._bits == 16:  # the live take's format: straight to int16
            return np.clip(np.rint(frames.astype(np.float64) * 32768.0), -32768, 32767).astype("<i2").tobytes()
        if frames.dtype.kind == "f":
            full_scale = 2 ** (self._bits - 1)  # as libsndfile reads: int16 32767 is 32767 / 32768
            ints = np.clip(np.rint(frames.astype(np.float64) * full_scale), -full_scale, full_scale - 1)
            ints = ints.astype(np.int64) << (32 - self._bits)
        elif frames.dtype.kind == "i" and frames.dtype.itemsize in (2, 4):
            ints = frames.astype(np.int64) << (32 - 8 * frames.dtype.itemsize)
        else:
            raise ValueError(f"audio must be float, int16 or int32, got {frames.dtype}")
        return _pack_ints(ints.astype("<i4"), self._bits)


def _pack_ints(ints: np.ndarray, bits: int) -> bytes:
    """Full-scale int32 frames (an int16's value in the top 16 bits) to ``bits``-bit WAV bytes."""
    if bits == 8:
        return ((ints >> 24) + 128).astype(np.uint8).tobytes()
    if bits == 16:
        return (ints >> 16).astype("<i2").tobytes()
    if bits == 32:
        return ints.tobytes()
    return ints.view(np.uint8).reshape(-1, 4)[:, 1:].tobytes()  # the top 3 bytes of each little-endian int32
