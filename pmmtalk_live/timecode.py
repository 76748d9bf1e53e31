"""Live Link Face timecode: ``HH:MM:SS:FF.fff``, a time of day with a fractional frame count at 60 fps.

``FF.fff`` counts frames at 60 fps (00.000 up to 59.999), with the sub-frame in thousandths: a row at
``19:17:23:30.429`` sits at 19 h 17 min 23 s + 30.429 / 60 s. Consecutive rows of a 60 fps take read
``...30.429, 31.429, 32.431``; a 30 fps take advances two frames per row.

The units are always 60 fps frames, whatever the take's row rate, because Epic's Live Link Face
importer turns a timecode into seconds as ``h*3600 + m*60 + s + frames/60``: a file written in 30 fps
frame units would play at double speed in Unreal.
"""

from __future__ import annotations

import math
import re
import time

TIMECODE_FPS = 60
"""The frame rate of the ``FF`` field, fixed by Unreal's importer."""

SECONDS_PER_DAY = 86_400

_MILLIFRAMES_PER_S = TIMECODE_FPS * 1000
_TIMECODE = re.compile(r"(\d{2}):(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?")


def format_timecode(seconds_of_day: float) -> str:
    """Seconds since midnight (or since the take start) -> ``HH:MM:SS:FF.fff`` at 60 fps.

    Rounded to a thousandth of a frame (1/60000 s). Wraps at 24 h, as a time of day does.
    """
    if not math.isfinite(seconds_of_day) or seconds_of_day < 0:
        raise ValueError(f"timecode needs a time >= 0 s, got {seconds_of_day!r}")
    # Integer thousandths of a frame, so 59.9996 frames carries into the next second.
    milliframes = round(seconds_of_day * _MILLIFRAMES_PER_S)
    seconds, milliframes = divmod(milliframes, _MILLIFRAMES_PER_S)
    minutes, secs = divmod(seconds % SECONDS_PER_DAY, 60)
    hours, minutes = divmod(minutes, 60)
    frames, thousandths = divmod(milliframes, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}:{frames:02d}.{thousandths:03d}"


def parse_timecode(text: str) -> float:
    """``HH:MM:SS:FF.fff`` -> seconds (``h*3600 + m*60 + s + ff/60``), as Unreal's importer reads it.

    The fraction is optional. Raises ``ValueError`` naming the text when it is not a timecode or a
    field is out of range (minutes or seconds >= 60, frames >= 60).
    """
    match = _TIMECODE.fullmatch(text.strip())
    if match is None:
        raise ValueError(f"timecode {text!r} is not HH:MM:SS:FF.fff")
    hours, minutes, secs, frames = (int(g) for g in match.groups()[:4])
    if minutes >= 60 or secs >= 60 or frames >= TIMECODE_FPS:
        raise ValueError(f"timecode {text!r} has a field out of range (MM, SS < 60, FF < {TIMECODE_FPS})")
    fraction = float("0." + match.group(5)) if match.group(5) else 0.0
    return hours * 3600 + minutes * 60 + secs + (frames + fraction) / TIMECODE_FPS


def time_of_day_s(epoch_s: float | None = None) -> float:
    """Seconds since local midnight of the system clock, now (or at ``epoch_s``, a ``time.time()``).

    What the app's "system clock" timecode source shows; a take writer reads it once at take start
    and adds each row's offset to it.
    """
    now = time.time() if epoch_s is None else epoch_s
    local = time.localtime(now)
    return local.tm_hour * 3600 + local.tm_min * 60 + min(local.tm_sec, 59) + (now % 1.0)
