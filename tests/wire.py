"""Decoders for what the sinks put on the wire, written from the specs alone, and a UDP receiver for tests.

Independent of the sender (nothing here imports ``pmmtalk_live.sinks`` or python-osc's parser), so a
sender bug cannot hide behind the same bug in its decoder:

- ``decode_osc``: OSC 1.0 (opensoundcontrol.org spec 1.0): messages and bundles with timetags, type
  tags ``i f s t d h T F N``. Strict: strings must be NUL-terminated and zero-padded to 4 bytes, every
  length is checked, nothing may be left over.
- ``decode_live_link_face``: the Live Link Face UDP packet, version 6 (live-link-face.md section 2).
- ``UdpReceiver``: a socket bound to an ephemeral port on loopback, receiving with a timeout (an event,
  never a sleep); ``closed_port``: a port nothing listens on.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass
from fractions import Fraction

NTP_UNIX_OFFSET_S = 2_208_988_800


# --- OSC 1.0 ------------------------------------------------------------------------------------------

@dataclass
class OscMessage:
    address: str
    type_tags: str
    """Without the leading comma."""
    args: list


@dataclass
class OscBundle:
    timetag: int
    """64-bit NTP: seconds since 1900 in the high 32 bits, fraction of a second in the low 32."""
    elements: list


class _Reader:
    def __init__(self, data: bytes):
        self.data = data
        self.pos = 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise ValueError(f"needs {n} bytes at offset {self.pos}, datagram has {len(self.data)}")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def unpack(self, fmt: str):
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))

    def osc_string(self) -> str:
        end = self.data.index(b"\x00", self.pos)
        text = self.data[self.pos:end]
        size = (len(text) // 4 + 1) * 4
        padding = self.take(size)[len(text):]
        if padding != b"\x00" * len(padding):
            raise ValueError(f"string {text!r} is not zero-padded")
        return text.decode("utf-8")

    def done(self) -> bool:
        return self.pos == len(self.data)


def decode_osc(datagram: bytes) -> OscMessage | OscBundle:
    """One OSC packet: a message (starts with ``/``) or a bundle (starts with ``#bundle\\0``)."""
    reader = _Reader(datagram)
    packet = _bundle(reader) if datagram.startswith(b"#bundle\x00") else _message(reader)
    if not reader.done():
        raise ValueError(f"{len(datagram) - reader.pos} bytes left over")
    return packet


def _bundle(reader: _Reader) -> OscBundle:
    if reader.take(8) != b"#bundle\x00":
        raise ValueError("not a bundle")
    (timetag,) = reader.unpack(">Q")
    elements = []
    while not reader.done():
        (size,) = reader.unpack(">i")
        if size <= 0 or size % 4:
            raise ValueError(f"bundle element size {size} is not a positive multiple of 4")
        elements.append(decode_osc(reader.take(size)))
    return OscBundle(timetag, elements)


def _message(reader: _Reader) -> OscMessage:
    address = reader.osc_string()
    if not address.startswith("/"):
        raise ValueError(f"address {address!r} does not start with /")
    tags = reader.osc_string()
    if not tags.startswith(","):
        raise ValueError(f"type tags {tags!r} do not start with ,")
    args: list = []
    for tag in tags[1:]:
        if tag == "i":
            args.append(reader.unpack(">i")[0])
        elif tag == "f":
            args.append(reader.unpack(">f")[0])
        elif tag == "s":
            args.append(reader.osc_string())
        elif tag == "t":
            args.append(reader.unpack(">Q")[0])
        elif tag == "d":
            args.append(reader.unpack(">d")[0])
        elif tag == "h":
            args.append(reader.unpack(">q")[0])
        elif tag in "TFN":
            args.append({"T": True, "F": False, "N": None}[tag])
        else:
            raise ValueError(f"type tag {tag!r} not supported")
    return OscMessage(address, tags[1:], args)


def ntp_to_unix(timetag: int) -> Fraction:
    """An NTP timetag as exact Unix seconds."""
    return Fraction(timetag >> 32) - NTP_UNIX_OFFSET_S + Fraction(timetag & 0xFFFF_FFFF, 2**32)


# --- Live Link Face, version 6 -------------------------------------------------------------------------

@dataclass
class LiveLinkFacePacket:
    version: int
    device_id: str
    subject: str
    frame_number: int
    sub_frame: float
    rate_numerator: int
    rate_denominator: int
    blendshape_count: int
    values: tuple[float, ...]


def decode_live_link_face(datagram: bytes) -> LiveLinkFacePacket:
    """A version 6 packet: uint8 version, two (int32 length + UTF-8) strings, int32 frame, float32
    sub-frame, int32 rate numerator and denominator, uint8 count, count float32; all big-endian."""
    reader = _Reader(datagram)
    (version,) = reader.unpack(">B")
    if version != 6:
        raise ValueError(f"packet version {version}, expected 6")
    strings = []
    for _ in range(2):
        (length,) = reader.unpack(">i")
        strings.append(reader.take(length).decode("utf-8"))
    frame_number, sub_frame, numerator, denominator, count = reader.unpack(">ifiiB")
    values = reader.unpack(f">{count}f")
    if not reader.done():
        raise ValueError(f"{len(datagram) - reader.pos} bytes left over")
    return LiveLinkFacePacket(version, strings[0], strings[1], frame_number, sub_frame, numerator, denominator,
                              count, values)


# --- receiving -------------------------------------------------------------------------------------------

class UdpReceiver:
    """A UDP socket on ``host`` (loopback), ephemeral port; ``receive`` waits up to ``timeout_s`` per datagram."""

    def __init__(self, host: str = "127.0.0.1", timeout_s: float = 10.0):
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
        self.sock.bind((host, 0))
        self.sock.settimeout(timeout_s)
        self.host = host
        self.port = self.sock.getsockname()[1]

    def receive(self, count: int = 1) -> list[bytes]:
        """The next ``count`` datagrams; raises TimeoutError if one does not come."""
        return [self.sock.recv(65_536) for _ in range(count)]

    def close(self) -> None:
        self.sock.close()

    def __enter__(self) -> "UdpReceiver":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def closed_port(host: str = "127.0.0.1") -> int:
    """A UDP port nothing listens on: bound, then released (the kernel answers ICMP port unreachable)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


class Collector:
    """A UDP receiver on loopback that keeps every datagram with its arrival time, in a thread.

    ``wait_for(predicate, timeout_s)`` blocks until ``predicate(datagrams)`` holds (an event, woken
    by each arrival), so tests wait on what they expect rather than sleeping.
    """

    def __init__(self, host: str = "127.0.0.1"):
        import threading
        import time

        self._time = time.monotonic
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 * 1024 * 1024)
        self.sock.bind((host, 0))
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.address = f"{host}:{self.port}"
        self.datagrams: list[tuple[float, bytes]] = []
        self._changed = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.sock.recv(65_536)
            except (socket.timeout, OSError):
                continue
            with self._changed:
                self.datagrams.append((self._time(), data))
                self._changed.notify_all()

    def payloads(self) -> list[bytes]:
        with self._changed:
            return [data for _, data in self.datagrams]

    def wait_for(self, predicate, timeout_s: float = 30.0) -> bool:
        """True once ``predicate(list of payloads)`` holds; False after ``timeout_s``."""
        deadline = self._time() + timeout_s
        with self._changed:
            while not predicate([data for _, data in self.datagrams]):
                left = deadline - self._time()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 0.1))
            return True

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.sock.close()

    def __enter__(self) -> "Collector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
