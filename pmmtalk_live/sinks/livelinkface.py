"""Live Link Face packets for stock Unreal: the iPhone app's UDP format, version 6.

What Unreal's Apple ARKit Face Support plugin listens for on port 11111 (docs/reference/live-link-face.md section 2;
``docs/protocol.md`` section 3). All fields big-endian:

    uint8  PacketVersion = 6
    int32 length + UTF-8  DeviceId
    int32 length + UTF-8  SubjectName
    int32  FrameNumber        \\ the frame's capture time as a time of day in frames:
    float32 SubFrame          /  local time of day of ``frame.wall_time_s`` x fps, whole part and fraction
    int32  FrameRate numerator, int32 denominator (fps as a fraction; 60/1, 30/1, 30000/1001)
    uint8  BlendShapeCount = 61
    61 x float32 values in ``rig.LIVE_LINK_FACE_NAMES`` order

270 + len(DeviceId) + len(SubjectName) bytes (the reference's "306 +" counts a 36-byte UUID device id
in the fixed part; the field table adds up to 270). Curves are placed by name, ignoring case (``jawOpen``
fills ``JawOpen``); a wire name no curve fills, and a NaN or infinite value, is sent as 0; curves with
other names are not sent (Unreal rejects any count but 61).

Frame time is what the app sends with its system-clock timecode source, so a take recorded on the
iPhone and our stream line up in Unreal's timecode mode. The device id is stable per machine and
subject (``device_id_for``): Unreal keeps one subject per device id, and a restart keeps the same one.
"""

from __future__ import annotations

import math
import socket
import struct
import uuid
from collections.abc import Sequence
from fractions import Fraction

import numpy as np

from .. import rig
from ..errors import SinkError
from ..timecode import time_of_day_s
from ..tracks import CurveFrame
from .osc import DEFAULT_SUBJECT, UdpSink

PACKET_VERSION = 6
DEFAULT_PORT = 11111
"""Where stock Unreal's Apple ARKit Face Support listens (Live Link Face packets)."""
"""Unreal's ``LiveLinkPublishingPort`` default."""

BLENDSHAPE_COUNT = rig.NUM_LIVE_LINK_FACE

MAX_DEVICE_ID_BYTES = 255

_DEVICE_ID_NAMESPACE = uuid.UUID("5f1d0a52-8e4b-5c3e-9a0d-7c1e2b3f4a60")
"""Fixed namespace of our uuid5 device ids (any constant would do; changing it renames every device)."""

_WIRE_INDEX = {name.lower(): i for i, name in enumerate(rig.LIVE_LINK_FACE_NAMES)}
_VALUES = struct.Struct(f">B{BLENDSHAPE_COUNT}f")


def device_id_for(subject: str, hostname: str | None = None) -> str:
    """A stable device id for ``subject`` sent from this machine: a uuid5 of hostname and subject.

    Restarts give the same id; distinct subjects or machines give distinct ids.
    """
    host = socket.gethostname() if hostname is None else hostname
    return str(uuid.uuid5(_DEVICE_ID_NAMESPACE, f"{host}/{subject}")).upper()


def frame_rate_fraction(fps: float) -> tuple[int, int]:
    """fps -> (numerator, denominator) of Unreal's FFrameRate: 60 -> (60, 1), 29.97 -> (30000, 1001)."""
    if not math.isfinite(fps) or fps <= 0:
        raise ValueError(f"fps must be > 0, got {fps!r}")
    if fps == round(fps):
        return round(fps), 1
    ntsc = round(fps * 1.001)
    if abs(fps - ntsc * 1000 / 1001) < 1e-3:
        return ntsc * 1000, 1001
    rate = Fraction(fps).limit_denominator(1000)
    return rate.numerator, rate.denominator


def frame_time(wall_time_s: float, fps: float) -> tuple[int, float]:
    """Unix time -> (FrameNumber, SubFrame): local time of day in frames at ``fps``, whole part and fraction.

    FrameNumber counts from local midnight (0 up to 86400 * fps - 1); SubFrame is in 0..1.
    """
    numerator, denominator = frame_rate_fraction(fps)
    frames = time_of_day_s(wall_time_s) * numerator / denominator
    whole = math.floor(frames)
    return whole, frames - whole


def encode_packet(device_id: str, subject: str, frame_number: int, sub_frame: float,
                  fps_numerator: int, fps_denominator: int, values: Sequence[float] | np.ndarray) -> bytes:
    """One version 6 packet. values: 61 floats in ``rig.LIVE_LINK_FACE_NAMES`` order, sent as given."""
    if len(values) != BLENDSHAPE_COUNT:
        raise ValueError(f"a Live Link Face packet carries {BLENDSHAPE_COUNT} values, got {len(values)}")
    if fps_denominator <= 0:
        raise ValueError(f"frame rate denominator must be > 0, got {fps_denominator}")
    device = device_id.encode("utf-8")
    name = subject.encode("utf-8")
    return (struct.pack(f">Bi{len(device)}si{len(name)}s", PACKET_VERSION, len(device), device, len(name), name)
            + struct.pack(">ifii", frame_number, sub_frame, fps_numerator, fps_denominator)
            + _VALUES.pack(BLENDSHAPE_COUNT, *values))


class WireOrder:
    """Puts frames' curves in Live Link Face wire order by name, ignoring case (``jawOpen`` fills
    ``JawOpen``); remembers the mapping while the names stay the same."""

    def __init__(self) -> None:
        self._names: tuple[str, ...] | None = None
        self._source_index = np.zeros(0, np.intp)
        self._wire_index = np.zeros(0, np.intp)

    def values(self, frame: CurveFrame) -> np.ndarray:
        """The frame's curves in wire order: float32 shape (61,), 0 for missing names and non-finite values."""
        if frame.names != self._names:
            self._names = frame.names
            pairs = {}
            for source, name in enumerate(frame.names):
                wire = _WIRE_INDEX.get(name.lower())
                if wire is not None:
                    pairs.setdefault(wire, source)  # the first of case-insensitive duplicates
            self._wire_index = np.array(list(pairs), np.intp)
            self._source_index = np.array(list(pairs.values()), np.intp)
        values = np.zeros(BLENDSHAPE_COUNT, np.float32)
        values[self._wire_index] = np.asarray(frame.values, np.float32)[self._source_index]
        values[~np.isfinite(values)] = 0.0
        return values


class LiveLinkFaceSink(UdpSink):
    """Sends each frame as a Live Link Face packet (one datagram) to stock Unreal.

    ``device_id`` defaults to ``device_id_for(subject)``. It stays the same when ``subject`` is changed
    at runtime, as the app's does: Unreal then drops the old subject and shows the new one.
    ``sent`` counts packets, ``errors`` failed sends.
    """

    def __init__(self, host: str, port: int = DEFAULT_PORT, *, subject: str = DEFAULT_SUBJECT,
                 device_id: str | None = None):
        self.device_id = device_id_for(subject) if device_id is None else device_id
        if not self.device_id or len(self.device_id.encode("utf-8")) > MAX_DEVICE_ID_BYTES:
            raise SinkError(f"Live Link device id {self.device_id!r} must be 1..{MAX_DEVICE_ID_BYTES} UTF-8 bytes")
        super().__init__(host, port, "Live Link", subject)
        self._wire_order = WireOrder()

    def wire_values(self, frame: CurveFrame) -> np.ndarray:
        """The frame's curves in wire order: float32 shape (61,), 0 for missing names and non-finite values."""
        return self._wire_order.values(frame)

    def send(self, frame: CurveFrame) -> None:
        frame_number, sub_frame = frame_time(frame.wall_time_s, frame.fps)
        numerator, denominator = frame_rate_fraction(frame.fps)
        self._udp.send(encode_packet(self.device_id, self._subject, frame_number, sub_frame,
                                     numerator, denominator, self.wire_values(frame)))
