"""Audio files in: any file libsndfile reads, as the pipeline's mono 16 kHz ``tracks.Audio``.

WAV, FLAC, OGG (Vorbis, Opus), MP3, AIFF, ... at any sample rate, bit depth (8/16/24/32-bit integer,
float, double) and channel count. Channels are mixed to mono by their mean; the rate is converted to
``tracks.SAMPLE_RATE_HZ`` by ``resample.StreamResampler`` block by block (the same result as the
one-shot ``resample.resample``, without holding a long file's source-rate samples in memory).

What counts as unusable, each an ``AudioInputError`` whose one-line message starts with the path:

- a missing path, a folder, an empty (0-byte) file, a file libsndfile does not recognise (text, PNG);
- a header that is cut short or corrupt (libsndfile cannot open it);
- a header with no samples after it (a 44-byte WAV), or a file that decodes to no samples (a Vorbis
  stream cut short: libsndfile then finds no frames at all);
- a compressed stream (FLAC, OGG, MP3) that fails to decode part-way, e.g. a download cut short;
- longer than ``max_duration_s``, judged from the header's frame count before any sample is read
  (and again while decoding, for headers that do not know their length);
- NaN or infinite samples (only float files can hold them): a file like that is broken, and quietly
  zeroing them would hide a fault in whatever rendered it.

Accepted as they are:

- a WAV whose data chunk is cut short: libsndfile reports the frames actually present (a recorder
  that crashed leaves such files) and the audio is the part that is there, with a warning (logged,
  one line) saying how long the header says the audio is and how much the file holds;
- silence, all zeros;
- float audio louder than full scale (float files may be; resampling can also overshoot a full-scale
  integer file by a few percent): scaled down as a whole to peak 1.0, never clipped, so that
  ``Audio.samples`` stays in -1..1 without distortion.
"""

from __future__ import annotations

import logging
import os
import struct

import numpy as np
import soundfile as sf

from ..errors import AudioInputError
from ..tracks import SAMPLE_RATE_HZ, Audio
from .resample import StreamResampler

BLOCK_FRAMES = 1 << 16
"""Frames decoded at a time (about 1.4 s at 48 kHz)."""

log = logging.getLogger(__name__)


def read_audio(path: str | os.PathLike, *, max_duration_s: float = 3600.0) -> Audio:
    """Read ``path`` as mono float32 at ``tracks.SAMPLE_RATE_HZ``, shape (ceil(frames * 16000 / rate),).

    Raises ``AudioInputError`` (one line, naming the file) for anything listed as unusable above.
    """
    name = _printable(os.fspath(path))
    if not os.path.exists(path):
        raise AudioInputError(f"{name}: no such file")
    if os.path.isdir(path):
        raise AudioInputError(f"{name}: is a folder, not an audio file")
    if os.path.getsize(path) == 0:
        raise AudioInputError(f"{name}: is empty (0 bytes)")
    if not os.access(path, os.R_OK):
        raise AudioInputError(f"{name}: no permission to read it")
    try:
        sound = sf.SoundFile(path)
    except (sf.SoundFileError, RuntimeError, OSError) as error:
        raise AudioInputError(f"{name}: {_open_failure(error)}") from error
    with sound:
        if sound.frames > max_duration_s * sound.samplerate:
            raise _too_long(name, sound.frames / sound.samplerate, max_duration_s)
        samples = _decode_mono(sound, name, max_duration_s)
        _warn_if_cut_short(path, name, sound)
    peak = float(np.max(np.abs(samples)))
    if peak > 1.0:
        samples /= peak
    return Audio(samples, SAMPLE_RATE_HZ)


def _decode_mono(sound: sf.SoundFile, name: str, max_duration_s: float) -> np.ndarray:
    """All of ``sound``'s frames, channels averaged, resampled: float32 (N,) at SAMPLE_RATE_HZ.

    Decoding, not the header, is what counts: a header may report 0 frames (a cut Vorbis stream) or
    fewer than are there, so the length limit is checked again as blocks arrive.
    """
    resampler = StreamResampler(sound.samplerate, SAMPLE_RATE_HZ)
    pieces = []
    frames_read = 0
    try:
        while True:
            block = sound.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
            if len(block) == 0:
                break
            mono = block.mean(axis=1, dtype=np.float32)
            finite = np.isfinite(mono)
            if not finite.all():
                at_s = (frames_read + int(np.argmin(finite))) / sound.samplerate
                raise AudioInputError(f"{name}: has NaN or infinite samples (the first at {at_s:.3f} s); "
                                      "float audio must be finite")
            pieces.append(resampler.process(mono))
            frames_read += len(block)
            if frames_read > max_duration_s * sound.samplerate:
                raise _too_long(name, frames_read / sound.samplerate, max_duration_s, at_least=True)
    except (sf.SoundFileError, RuntimeError) as error:
        at_s = frames_read / sound.samplerate
        raise AudioInputError(f"{name}: decoding failed after {at_s:.2f} s ({_reason(error)}); "
                              "the file is truncated or corrupt") from error
    if frames_read == 0:
        raise AudioInputError(f"{name}: has an audio header but no samples (empty, or the data is truncated)")
    pieces.append(resampler.flush())
    return np.concatenate(pieces)


def _warn_if_cut_short(path: str | os.PathLike, name: str, sound: sf.SoundFile) -> None:
    claimed = _wav_data_frames(path)
    if claimed is not None and claimed > sound.frames:
        rate = sound.samplerate
        log.warning(f"{name}: truncated: the header says {claimed / rate:.2f} s of audio, the file holds "
                    f"{sound.frames / rate:.2f} s; only that is used")


def _wav_data_frames(path: str | os.PathLike) -> int | None:
    """The frames a RIFF/WAVE header says its data chunk holds; None for anything else, or a size a
    streaming writer left unset (0 or 0xFFFFFFFF). libsndfile reports only the frames present."""
    with open(path, "rb") as file:
        riff = file.read(12)
        if len(riff) < 12 or riff[:4] != b"RIFF" or riff[8:] != b"WAVE":
            return None
        block_align = 0
        while len(header := file.read(8)) == 8:
            kind, size = header[:4], struct.unpack("<I", header[4:])[0]
            if kind == b"data":
                return size // block_align if block_align and size not in (0, 0xFFFFFFFF) else None
            body = file.read(size + (size & 1))  # chunks are padded to an even size
            if kind == b"fmt " and len(body) >= 14:
                block_align = struct.unpack("<H", body[12:14])[0]
    return None


def _too_long(name: str, duration_s: float, max_duration_s: float, at_least: bool = False) -> AudioInputError:
    return AudioInputError(f"{name}: is {'over ' if at_least else ''}{duration_s:.1f} s long, more than the "
                           f"limit of {max_duration_s:g} s (max_duration_s)")


def _open_failure(error: Exception) -> str:
    """Why libsndfile could not open a file that exists and is not empty, as a phrase."""
    reason = _reason(error)
    if "not recognised" in reason.lower():
        return "not an audio file libsndfile can read (format not recognised)"
    return f"cannot open it as audio ({reason}); the header is truncated, corrupt or an unsupported encoding"


def _reason(error: Exception) -> str:
    """libsndfile's own words, on one line, without the 'Error opening ...' prefix or the final dot."""
    text = getattr(error, "error_string", None) or str(error)
    return " ".join(str(text).split()).rstrip(".")


def _printable(name: str) -> str:
    """The path as given, with line breaks escaped so that the message stays one line."""
    return name.replace("\r", "\\r").replace("\n", "\\n")
