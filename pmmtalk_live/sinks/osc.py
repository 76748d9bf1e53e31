"""OSC to our Unreal plugin: a names message now and then, one bundle of values per frame.

The wire format is specified in ``docs/protocol.md`` (the document the plugin is built from); in short,
every datagram is at most ``MAX_DATAGRAM_BYTES`` (1472) bytes and carries one of:

- ``/pmmtalk/names ,isifiiii s...``: protocol version, subject, schema id, fps, total name count,
  part index, part count, index of this part's first name, then the names (split over several
  datagrams when they do not fit one). Sent on the first frame, again after ``NAMES_PERIOD_S`` of
  frames, and at once when the names, the fps or the subject change.
- a bundle timetagged with the frame's audio capture time (NTP), holding
  ``/pmmtalk/frame ,isii f...``: protocol version, subject, schema id, frame number, then one float32
  per name, in the names' order.

Encoding (``encode_names``, ``encode_frame``, ``schema_id``, ``ntp_timetag``) is pure and needs no
socket, so fixture scripts and tests produce the same bytes as the live sink. ``OscSink`` adds the
transport: ``UdpSender``, a non-blocking UDP socket aimed at one resolved destination, shared with the
Live Link Face sink, as is ``parse_address`` for ``HOST:PORT`` arguments.
"""

from __future__ import annotations

import functools
import ipaddress
import logging
import math
import re
import socket
import struct
import time
import zlib
from collections.abc import Sequence

import numpy as np

from ..errors import SinkError
from ..tracks import CurveFrame

log = logging.getLogger(__name__)

PROTOCOL_VERSION = 1
"""First argument of every message; a receiver drops messages of a version it does not speak."""

NAMES_ADDRESS = "/pmmtalk/names"
FRAME_ADDRESS = "/pmmtalk/frame"
DEFAULT_PORT = 9000
"""Where our Unreal plugin listens by default (docs/protocol.md)."""
DEFAULT_SUBJECT = "pmmtalk"
"""The Live Link subject name when none is given (``--subject``), for every sink and take."""

MAX_DATAGRAM_BYTES = 1472
"""Ethernet MTU (1500) minus IPv4 (20) and UDP (8) headers: larger datagrams fragment on real networks."""

MAX_SUBJECT_BYTES = 255
"""Longest subject name in UTF-8 bytes (both sinks), so a subject never crowds the values out."""

NAMES_PERIOD_S = 1.0
"""The names message is repeated after this much frame time, so a receiver started late catches up."""

NTP_UNIX_OFFSET_S = 2_208_988_800
"""Seconds from the NTP epoch (1900-01-01) to the Unix epoch (1970-01-01)."""

ERROR_LOG_PERIOD_S = 10.0
"""After the first logged send failure, at most one log line per this many seconds."""

_BUNDLE_TAG = b"#bundle\x00"
_NAMES_HEADER_TAGS = ",isifiiii"
_FRAME_HEADER_TAGS = ",isii"


# --- OSC 1.0 encoding ---------------------------------------------------------------------------------

def _padded_size(num_bytes: int) -> int:
    """Size of an OSC string of ``num_bytes`` bytes: at least one NUL, padded to a multiple of 4."""
    return (num_bytes // 4 + 1) * 4


@functools.lru_cache(maxsize=4096)
def _osc_string(text: str) -> bytes:
    data = text.encode("utf-8")
    return data + b"\x00" * (_padded_size(len(data)) - len(data))


@functools.lru_cache(maxsize=64)
def _frame_prefix(subject: str, schema: int, num_values: int) -> bytes:
    """The frame message's address, type tags, version, subject and schema id: all but number and values."""
    return (_osc_string(FRAME_ADDRESS) + _osc_string(_FRAME_HEADER_TAGS + "f" * num_values)
            + struct.pack(">i", PROTOCOL_VERSION) + _osc_string(subject) + struct.pack(">i", schema))


def _frame_message_size(subject: str, num_values: int) -> int:
    return (_padded_size(len(FRAME_ADDRESS)) + _padded_size(len(_FRAME_HEADER_TAGS) + num_values)
            + 4 + _padded_size(len(subject.encode("utf-8"))) + 4 + 4 + 4 * num_values)


def frame_datagram_size(subject: str, num_values: int) -> int:
    """Bytes of one frame datagram (bundle header, timetag, element size, message) for ``num_values`` curves."""
    return len(_BUNDLE_TAG) + 8 + 4 + _frame_message_size(subject, num_values)


def _names_part_size(subject: str, names_bytes: Sequence[int]) -> int:
    """Bytes of one names datagram holding names of these UTF-8 lengths."""
    return (_padded_size(len(NAMES_ADDRESS)) + _padded_size(len(_NAMES_HEADER_TAGS) + len(names_bytes))
            + 4 + _padded_size(len(subject.encode("utf-8"))) + 4 * 6
            + sum(_padded_size(n) for n in names_bytes))


def schema_id(names: Sequence[str]) -> int:
    """The names' schema id: CRC-32 (zlib, as in zip/PNG) of the UTF-8 names joined by "\\n", top bit cleared.

    A non-negative int32; equal names in equal order give equal ids, on every machine and every run.
    """
    return zlib.crc32("\n".join(names).encode("utf-8")) & 0x7FFF_FFFF


def ntp_timetag(wall_time_s: float) -> int:
    """Unix time (``time.time()`` scale) -> OSC timetag: 64-bit NTP, seconds since 1900 << 32 | fraction.

    The fraction is truncated to 1/2**32 s. The seconds wrap modulo 2**32 (NTP era 1 starts in 2036).
    """
    whole_s = math.floor(wall_time_s)
    fraction = min(int((wall_time_s - whole_s) * 2**32), 2**32 - 1)
    return (((whole_s + NTP_UNIX_OFFSET_S) & 0xFFFF_FFFF) << 32) | fraction


def check_names(names: Sequence[str], subject: str = DEFAULT_SUBJECT) -> None:
    """Raise SinkError unless every datagram for ``names`` fits ``MAX_DATAGRAM_BYTES``.

    Checks that one frame of len(names) float32 values fits a datagram (about 280 values with a short
    subject), that each name alone fits a names datagram, and that names are non-empty, free of NUL and
    distinct ignoring case (receivers match names case-insensitively).
    """
    frame_bytes = frame_datagram_size(subject, len(names))
    if frame_bytes > MAX_DATAGRAM_BYTES:
        raise SinkError(f"OSC frame of {len(names)} curves (subject {subject!r}) would be {frame_bytes} bytes, "
                        f"over the {MAX_DATAGRAM_BYTES}-byte datagram limit: use fewer curves")
    seen: set[str] = set()
    for name in names:
        if not name or "\x00" in name:
            raise SinkError(f"OSC curve name {name!r} is empty or contains NUL")
        if _names_part_size(subject, [len(name.encode("utf-8"))]) > MAX_DATAGRAM_BYTES:
            raise SinkError(f"OSC curve name {name[:40]!r}... does not fit a {MAX_DATAGRAM_BYTES}-byte datagram")
        if name.lower() in seen:
            raise SinkError(f"OSC curve name {name!r} appears twice (names are matched ignoring case)")
        seen.add(name.lower())


def check_subject(subject: str) -> str:
    """Return ``subject`` if both sinks can send it: 1..MAX_SUBJECT_BYTES UTF-8 bytes, no control characters."""
    if not isinstance(subject, str) or not subject:
        raise SinkError(f"subject {subject!r} must be a non-empty string")
    if any(ord(c) < 32 or ord(c) == 127 for c in subject):
        raise SinkError(f"subject {subject!r} contains a control character")
    if len(subject.encode("utf-8")) > MAX_SUBJECT_BYTES:
        raise SinkError(f"subject {subject[:40]!r}... is over {MAX_SUBJECT_BYTES} UTF-8 bytes")
    return subject


def encode_names(subject: str, names: Sequence[str], fps: float) -> list[bytes]:
    """The names message for ``names``: one datagram, or several parts if they do not fit one.

    Each part is a bare OSC message (no bundle), at most ``MAX_DATAGRAM_BYTES``, parts in order, as many
    names per part as fit. No names gives one part with none. Raises SinkError for names
    ``check_names`` rejects.
    """
    check_names(names, subject)
    names = list(names)
    sizes = [len(n.encode("utf-8")) for n in names]
    parts: list[tuple[int, int]] = []  # (first, end) index ranges
    first = 0
    while first < len(names) or not parts:
        end = first
        while end < len(names) and _names_part_size(subject, sizes[first:end + 1]) <= MAX_DATAGRAM_BYTES:
            end += 1
        parts.append((first, end))
        first = end
    schema = schema_id(names)
    datagrams = []
    for index, (first, end) in enumerate(parts):
        k = end - first
        datagrams.append(
            _osc_string(NAMES_ADDRESS) + _osc_string(_NAMES_HEADER_TAGS + "s" * k)
            + struct.pack(">i", PROTOCOL_VERSION) + _osc_string(subject)
            + struct.pack(">ifiiii", schema, fps, len(names), index, len(parts), first)
            + b"".join(_osc_string(n) for n in names[first:end]))
    return datagrams


def encode_frame(subject: str, schema: int, number: int, wall_time_s: float, values: np.ndarray) -> bytes:
    """One frame datagram: a bundle timetagged ``ntp_timetag(wall_time_s)`` holding the frame message.

    values: shape (n,), any float dtype, in the order of the names ``schema`` stands for; NaN and
    infinities are sent as 0. ``number`` is sent as int32 (wrapping after 2**31 frames). Raises SinkError
    if the datagram would exceed ``MAX_DATAGRAM_BYTES``.
    """
    values = np.asarray(values, dtype=np.float32)
    finite = np.isfinite(values)
    if not finite.all():
        values = np.where(finite, values, np.float32(0))
    message = (_frame_prefix(subject, schema, len(values)) + struct.pack(">I", number & 0xFFFF_FFFF)
               + values.astype(">f4").tobytes())
    datagram = _BUNDLE_TAG + struct.pack(">QI", ntp_timetag(wall_time_s), len(message)) + message
    if len(datagram) > MAX_DATAGRAM_BYTES:
        raise SinkError(f"OSC frame of {len(values)} curves is {len(datagram)} bytes, "
                        f"over the {MAX_DATAGRAM_BYTES}-byte datagram limit")
    return datagram


# --- transport ----------------------------------------------------------------------------------------

_BRACKETED = re.compile(r"\[(?P<host>[^\[\]]+)\](?::(?P<port>[^:]*))?")
_PORT_DIGITS = re.compile(r"[0-9]{1,5}")
"""ASCII digits only: ``str.isdigit`` and ``int`` would take other scripts' digits (``١٢``) as a port."""


def parse_address(text: str, default_port: int, *, listen: bool = False) -> tuple[str, int]:
    """``HOST:PORT``, ``HOST``, ``[IPV6]:PORT``, ``[IPV6]`` or a bare IPv6 ``::1`` -> (host, port).

    The port defaults to ``default_port``; it must be 1..65535 (0..65535 with ``listen``: an address
    to listen on, where 0 picks a free port). A bare IPv6 address whose last group could be a port
    (``::1:9000``) is refused with a hint about brackets. Raises SinkError naming the text.
    """
    text = text.strip()
    bracketed = _BRACKETED.fullmatch(text)
    if bracketed:
        host, port_text = bracketed["host"], bracketed["port"]
    elif text.startswith("[") or "]" in text:
        raise SinkError(f"bad address {text!r}: expected [IPV6]:PORT")
    elif text.count(":") == 1:
        host, port_text = text.split(":")
    else:  # a host name, an IPv4 address, or an IPv6 address without a port
        _check_not_ipv6_with_port(text)
        host, port_text = text, None
    if not host:
        raise SinkError(f"bad address {text!r}: no host (expected HOST:PORT, HOST or [IPV6]:PORT)")
    lowest = 0 if listen else 1
    if port_text is None:
        return host, check_port(default_port, text, lowest)
    if not _PORT_DIGITS.fullmatch(port_text):
        raise SinkError(f"bad address {text!r}: port must be a number from {lowest} to 65535, got {port_text!r}")
    return host, check_port(int(port_text), text, lowest)


def _check_not_ipv6_with_port(text: str) -> None:
    """``::1:9000`` is a valid IPv6 address, but more likely ::1 port 9000: ask for brackets either way."""
    head, _, tail = text.rpartition(":")
    if text.count(":") < 2 or not _PORT_DIGITS.fullmatch(tail):
        return
    try:
        ipaddress.IPv6Address(head)
    except ValueError:
        return
    raise SinkError(f"bad address {text!r}: an IPv6 address takes its port after brackets: write "
                    f"[{head}]:{tail} for port {tail} of {head}, or [{text}] for the address {text}")


def check_port(port: int, where: str | None = None, lowest: int = 1) -> int:
    """``port`` if it is a destination port, 1..65535 (``lowest`` 0: a port to listen on), else SinkError."""
    if isinstance(port, bool) or not isinstance(port, int) or not lowest <= port <= 65535:
        context = f"bad address {where!r}: " if where is not None else ""
        raise SinkError(f"{context}port must be a number from {lowest} to 65535, got {port!r}")
    return port


def format_address(host: str, port: int) -> str:
    """(host, port) -> ``HOST:PORT``, IPv6 in brackets: what ``parse_address`` reads back."""
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


class UdpSender:
    """A non-blocking UDP socket connected to one destination; ``send`` counts, logs, never raises.

    The host is resolved once, here (IPv4 preferred when a name has both, since Unreal listens on IPv4);
    ``what`` ("OSC", "Live Link") names the destination in errors and logs. Connecting lets the kernel
    report a receiver that is not running (ICMP port unreachable) as ConnectionRefusedError on a later
    send, which is counted in ``errors`` like a full buffer (ENOBUFS, EAGAIN).
    """

    def __init__(self, host: str, port: int, what: str):
        self.what = what
        self.destination = format_address(host, check_port(port))
        self.sent = 0
        self.errors = 0
        self._errors_unlogged = 0
        self._last_log_s: float | None = None
        try:
            infos = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
        except (OSError, UnicodeError, ValueError) as error:
            reason = getattr(error, "strerror", None) or error
            raise SinkError(f"cannot resolve {what} host {host!r}: {reason}") from None
        family, _, _, _, sockaddr = next((i for i in infos if i[0] == socket.AF_INET), infos[0])
        self._sock = socket.socket(family, socket.SOCK_DGRAM)
        try:
            self._sock.setblocking(False)
            self._sock.connect(sockaddr)
        except OSError as error:
            self._sock.close()
            raise SinkError(f"cannot reach {what} destination {self.destination}: {error.strerror or error}") from None
        self._closed = False

    def send(self, datagram: bytes) -> bool:
        """Send one datagram; True if the kernel took it. A closed sender drops it silently."""
        if self._closed:
            return False
        try:
            self._sock.send(datagram)
        except OSError as error:
            self.errors += 1
            self._log_failure(error)
            return False
        self.sent += 1
        return True

    def _log_failure(self, error: OSError) -> None:
        if isinstance(error, ConnectionRefusedError):  # the kernel saw ICMP port unreachable
            error = "nothing is listening there (receiver not running yet?); sending goes on"
        now_s = time.monotonic()
        self._errors_unlogged += 1
        if self._last_log_s is not None and now_s - self._last_log_s < ERROR_LOG_PERIOD_S:
            return
        if self._last_log_s is None:
            log.warning("%s to %s: send failed: %s (further failures: at most one line per %.0f s)",
                        self.what, self.destination, error, ERROR_LOG_PERIOD_S)
        else:
            log.warning("%s to %s: %d sends failed in the last %.0f s, latest: %s",
                        self.what, self.destination, self._errors_unlogged, now_s - self._last_log_s, error)
        self._last_log_s = now_s
        self._errors_unlogged = 0

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._sock.close()


class UdpSink:
    """What both network sinks share: a subject that may be renamed at any time, a ``UdpSender``, counters.

    ``subject`` is checked on assignment (``check_subject``); a sink reads it once per frame, so the
    remote-control thread may set it while the engine thread sends.
    """

    def __init__(self, host: str, port: int, what: str, subject: str):
        self.subject = subject
        self._udp = UdpSender(host, port, what)

    @property
    def subject(self) -> str:
        return self._subject

    @subject.setter
    def subject(self, subject: str) -> None:
        self._subject = check_subject(subject)

    @property
    def sent(self) -> int:
        """Datagrams the kernel took."""
        return self._udp.sent

    @property
    def errors(self) -> int:
        """Failed sends and skipped frames."""
        return self._udp.errors

    @property
    def destination(self) -> str:
        return self._udp.destination

    @property
    def description(self) -> str:
        """``Live Link to 127.0.0.1:11111, subject 'pmmtalk'``: what the daemon prints at start."""
        return f"{self._udp.what} to {self.destination}, subject '{self.subject}'"

    def close(self) -> None:
        """Close the socket; later sends are dropped. Idempotent."""
        self._udp.close()


# --- the sink -----------------------------------------------------------------------------------------

class OscSink(UdpSink):
    """Sends frames to our Unreal plugin over OSC/UDP (``docs/protocol.md``).

    ``send(frame)`` sends the names message first when it is due (first frame, names or fps or subject
    changed, or ``NAMES_PERIOD_S`` of capture time since the last), then the frame's bundle. Frames
    whose names cannot be sent (``check_names``) are skipped, counted in ``errors`` and logged once per
    names; the engine should call ``check_names`` when it loads a preset to fail early instead.
    ``subject`` may be set at any time (from the remote-control thread); the next frame announces it.
    ``sent`` counts datagrams (names parts included), ``errors`` failed sends and skipped frames.
    """

    def __init__(self, host: str, port: int = DEFAULT_PORT, *, subject: str = DEFAULT_SUBJECT):
        super().__init__(host, port, "OSC", subject)
        self._names_key: tuple | None = None
        self._names_datagrams: list[bytes] = []
        self._names_sent_at_s = -math.inf
        self._names_error: SinkError | None = None
        self._schema = 0

    def check_names(self, names: Sequence[str]) -> None:
        """Raise SinkError unless frames of these curve names fit a datagram with the current subject."""
        check_names(names, self._subject)

    def send(self, frame: CurveFrame) -> None:
        subject = self._subject  # read once: the control thread may change it meanwhile
        key = (subject, frame.names, frame.fps)
        if key != self._names_key:
            self._names_key = key
            self._schema = schema_id(frame.names)
            self._names_sent_at_s = -math.inf  # due now
            try:
                self._names_datagrams = encode_names(subject, frame.names, frame.fps)
                self._names_error = None
            except SinkError as error:
                self._names_error = error
                log.warning("OSC to %s: frames skipped: %s", self.destination, error)
        if self._names_error is not None:
            self._udp.errors += 1
            return
        if not 0 <= frame.capture_time_s - self._names_sent_at_s < NAMES_PERIOD_S:
            for datagram in self._names_datagrams:
                self._udp.send(datagram)
            self._names_sent_at_s = frame.capture_time_s
        self._udp.send(encode_frame(subject, self._schema, frame.number, frame.wall_time_s, frame.values))
