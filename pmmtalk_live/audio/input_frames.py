"""The input's own audio, for the take (``tracks.InputFrames``): what each source delivers before it is
mixed to mono and resampled to 16 kHz for the animator.

- a file: its frames at its own rate and channel count, read in its own sample type (16-bit stays
  16-bit, 24-bit stays 24-bit, float stays float, values beyond 1.0 included); a compressed file
  (MP3, Vorbis, Opus, ...) has no sample type of its own and is kept as 32-bit float, as decoded;
- raw PCM on stdin: the bytes as they came (``s16le`` -> 16-bit, ``s32le`` -> 32-bit, ``f32le`` -> float);
- a microphone: the rate and channels the device was opened at, as 32-bit float, which is what
  PortAudio hands over (the device's own bit depth is not known to us).
"""

from __future__ import annotations

import logging
import os

import numpy as np
import soundfile as sf

from ..tracks import SAMPLE_RATE_HZ, InputFrames

log = logging.getLogger(__name__)

RAW_SUBTYPES = {"s16le": "PCM_16", "s32le": "PCM_32", "f32le": "FLOAT"}
"""Raw PCM format (``sources.RAW_FORMATS``) -> how the take writes it."""
MICROPHONE_SUBTYPE = "FLOAT"

_FILE_SUBTYPES = {"PCM_S8": "PCM_U8", "PCM_U8": "PCM_U8", "PCM_16": "PCM_16", "PCM_24": "PCM_24",
                  "PCM_32": "PCM_32", "FLOAT": "FLOAT", "DOUBLE": "DOUBLE", "ALAC_16": "PCM_16",
                  "ALAC_20": "PCM_24", "ALAC_24": "PCM_24", "ALAC_32": "PCM_32"}
"""A file's libsndfile subtype -> the WAV subtype that holds it unchanged; anything else: FLOAT."""
_READ_DTYPE = {"PCM_U8": "int16", "PCM_16": "int16", "PCM_24": "int32", "PCM_32": "int32",
               "FLOAT": "float32", "DOUBLE": "float64"}


class FileInput:
    """A file's own frames, read block by block in step with its 16 kHz timeline (``loop``: the file
    again and again, as ``sources.FileSource`` plays it). Input frame f is 16 kHz sample
    ``f * 16000 / rate_hz``. A read that fails part-way ends the input audio (logged), never the stream."""

    def __init__(self, path: str | os.PathLike, *, loop: bool = False) -> None:
        self._file = sf.SoundFile(path)
        self.rate_hz = self._file.samplerate
        self.subtype = _FILE_SUBTYPES.get(self._file.subtype, "FLOAT")
        self._dtype = _READ_DTYPE[self.subtype]
        self._loop = loop
        self._next = 0
        """Input frame (on the stream's timeline) that the next read starts at."""

    def until(self, end_sample: int) -> InputFrames | None:
        """The frames from where the last read ended up to 16 kHz sample ``end_sample``; None when
        there are none (or the input audio ended)."""
        if self._file is None:
            return None
        end = round(end_sample * self.rate_hz / SAMPLE_RATE_HZ)
        start, pieces = self._next, []
        try:
            while self._next < end:
                frames = self._file.read(end - self._next, dtype=self._dtype, always_2d=True)
                if len(frames) == 0:
                    if not self._loop or self._file.tell() == 0:
                        break
                    self._file.seek(0)
                    continue
                pieces.append(frames)
                self._next += len(frames)
        except (sf.SoundFileError, RuntimeError, OSError) as error:
            log.warning("%s: reading its own audio for the take failed (%s); the take keeps the 16 kHz WAV",
                        self._file.name, error)
            self.close()
        if not pieces:
            return None
        return InputFrames(np.concatenate(pieces), start, self.rate_hz, self.subtype)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
