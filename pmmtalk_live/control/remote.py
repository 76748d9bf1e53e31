"""The OSC remote-control port: the Live Link Face app's recording commands, so that the same tools
(Switchboard, scripts) that drive an iPhone's recording drive ours. Commands, replies and the
conventions for failures are in docs/remote-control.md.

One datagram goes through three steps, each its own function:

- ``parse_packet``: bytes -> OSC messages (bundles flattened). Anything that is not OSC is garbage:
  counted, logged, dropped without a reply. Nothing in a broken packet is carried out.
- ``ControlServer._carry_out``: one message -> validated arguments -> one ``ControlTarget`` call ->
  at most one reply. A command refused (unknown address, bad arguments, the target failed) is
  answered ``/Error <command> <reason>`` and counted in ``rejected``; the target is only called
  once every argument has been checked.
- ``ControlServer._send``: the reply goes to the ``/OSCSetSendTarget`` address, or to the sender
  until one is set.

Nothing a datagram holds, and nothing the target raises, stops the server thread.
"""

from __future__ import annotations

import errno
import ipaddress
import logging
import os
import select
import socket
import threading
import time
from typing import Any, Protocol

from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.parsing import osc_types

from ..animators.emotion import Emotion
from ..errors import ControlError, PmmtalkError
from ..sinks.csv_take import MAX_TAKE
from .arguments import CommandRefused
from .arguments import count as _arguments, emotion as _emotion, ip as _ip, name as _name, port as _port
from .arguments import preset_name as _preset_name, shown as _shown, whole_number as _whole_number

DEFAULT_PORT = 8000
"""The Live Link Face app's OSC port: tools that drive the app's recording send here."""
"""Where the Live Link Face app listens for these commands."""

MAX_DATAGRAM_BYTES = 8192
"""Larger datagrams are garbage: the longest command (two names of 100 bytes) is a few hundred bytes."""

MAX_BUNDLE_DEPTH = 8
"""Bundles nested deeper are garbage (no tool nests them; a deep nest is a recursion attack)."""

MAX_PACKET_COMMANDS = 16
"""A packet (a bundle) with more commands is garbage: no tool sends that many at once, and each gets a
reply, which would make a spoofed bundle of a thousand tiny commands a 5x amplifier."""

MAX_LIVELINK_ADDRESSES = 16
"""The most Live Link Face destinations ``/AddLiveLinkAddress`` may add (the command line's are not
counted): a stage has a few Unreal machines, and each destination is a socket and 60 packets a second."""

MAX_REASON_CHARS = 300
"""An ``/Error`` reason (and its log line) is cut to this length; it may quote what the sender sent."""

BATTERY_LEVEL = 1.0
"""``/Battery``'s answer, 0..1 as the app's: a desktop on mains power never runs down."""

THERMAL_STATE = 0
"""``/Thermals``'s answer, as iOS's ProcessInfo.ThermalState (0 nominal .. 3 critical): a desktop is not
throttled as a phone is."""

_RECEIVE_BYTES = 65536
"""Every UDP datagram fits whole, so a huge one is seen as huge rather than cut to a parseable prefix."""

# Windows reports bind failures with its own WSA codes.
_IN_USE = {errno.EADDRINUSE, getattr(errno, "WSAEADDRINUSE", errno.EADDRINUSE)}
_NOT_HERE = {errno.EADDRNOTAVAIL, getattr(errno, "WSAEADDRNOTAVAIL", errno.EADDRNOTAVAIL)}
_DENIED = {errno.EACCES, getattr(errno, "WSAEACCES", errno.EACCES)}

_BUNDLE_HEAD = b"#bundle\x00"
_KNOWN_TYPE_TAGS = frozenset("ihfdsbrmtTFN[]")

log = logging.getLogger(__name__)


class ControlTarget(Protocol):
    """What the daemon does for the remote-control port. Called from the control thread, one call at a time.

    A method that cannot do what it is asked raises (PmmtalkError, with a one-line message, for
    failures a user can fix); the caller is answered ``/Error <command> <message>``. Names and
    numbers have already been checked: slate and subject pass ``check_take_name``, a take is
    0..MAX_TAKE, a host is an IP address (not 0.0.0.0 or ::), a port 1..65535.
    """

    subject: str
    """The Live Link subject name: what ``carry_out_for`` addresses a character by."""

    def record_start(self, slate: str | None, take: int | None) -> str:
        """Start a take (None: the current slate, the next take). Returns its start timecode ``HH:MM:SS:FF.fff``.

        Raises TakeError (or another PmmtalkError) when it cannot: already recording, take exists.
        """

    def record_stop(self) -> tuple[str, str, str] | None:
        """Stop the take: ``(timecode, csv path, audio path)``, or None when not recording."""

    def set_slate(self, name: str) -> None: ...

    def set_take(self, number: int) -> None: ...

    def set_subject(self, name: str) -> None:
        """The Live Link subject name, also the third part of take file names."""

    def add_livelink_address(self, host: str, port: int) -> None:
        """Stream Live Link Face packets to ``host:port`` too; raises SinkError for an address already
        streamed to, or when MAX_LIVELINK_ADDRESSES have been added."""

    def clear_livelink_addresses(self) -> None:
        """Stop streaming to the addresses ``add_livelink_address`` added (the command line's stay)."""

    def set_streaming(self, on: bool) -> None: ...

    def set_preset(self, name: str) -> None:
        """Switch to the preset with this bare name; raises PresetError if it cannot load (the old one stays)."""

    def set_emotion(self, emotion: Emotion) -> None:
        """Blend the face into ``emotion`` (checked: a known name, intensity 0..1)."""


class _NotOsc(ValueError):
    """A datagram that is not OSC; the message is the one-line reason."""


# --- parsing: bytes -> messages, no sockets ------------------------------------------------------


def parse_packet(dgram: bytes) -> list[OscMessage]:
    """The messages of one OSC packet in order, bundles flattened (their time tags ignored: commands
    run at once). Raises ValueError with a short reason if any part of the packet is not OSC."""
    if len(dgram) > MAX_DATAGRAM_BYTES:
        raise _NotOsc(f"{len(dgram)} bytes, over the {MAX_DATAGRAM_BYTES}-byte limit")
    try:
        parts = _message_datagrams(dgram, depth=0)
        if len(parts) > MAX_PACKET_COMMANDS:
            raise _NotOsc(f"{len(parts)} commands in one packet, over the limit of {MAX_PACKET_COMMANDS}")
        return [_parse_message(part) for part in parts]
    except _NotOsc:
        raise
    except Exception:  # python-osc raises its ParseError, but also UnicodeDecodeError and others
        raise _NotOsc("malformed OSC message (truncated, arguments not matching their type tags, "
                         "or a string that is not UTF-8)") from None


def _message_datagrams(dgram: bytes, depth: int) -> list[bytes]:
    """Split a packet into its messages' bytes, walking bundles: ``#bundle\\0``, a time tag, then
    (int32 size, element) pairs."""
    if dgram.startswith(b"/"):
        return [dgram]
    if not dgram.startswith(_BUNDLE_HEAD):
        raise _NotOsc("neither an OSC message nor a bundle" if dgram else "empty datagram")
    if depth >= MAX_BUNDLE_DEPTH:
        raise _NotOsc(f"bundles nested deeper than {MAX_BUNDLE_DEPTH}")
    messages: list[bytes] = []
    index = len(_BUNDLE_HEAD) + 8  # after the time tag
    if index > len(dgram):
        raise _NotOsc("a bundle cut short in its time tag")
    while index < len(dgram):
        size = int.from_bytes(dgram[index:index + 4], "big")
        start = index + 4
        if start > len(dgram) or size == 0 or start + size > len(dgram):
            raise _NotOsc("a bundle element runs past the end of the datagram")
        messages += _message_datagrams(dgram[start:start + size], depth + 1)
        index = start + size
    return messages


def _parse_message(dgram: bytes) -> OscMessage:
    # python-osc logs one warning per unknown type tag and then misreads the arguments: refuse those
    # here, so that a datagram of 8000 'z' tags is one garbage count, not 8000 log lines.
    _, index = osc_types.get_string(dgram, 0)
    if index < len(dgram):
        tags, _ = osc_types.get_string(dgram, index)
        unknown = set(tags[1:]) - _KNOWN_TYPE_TAGS
        if unknown:
            raise _NotOsc(f"unknown OSC type tags {''.join(sorted(unknown))[:20]!r}")
    return OscMessage(dgram)


def encode_message(address: str, args: list[Any]) -> bytes:
    """One OSC message: str -> s, int -> i, float -> f."""
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


def _one_line(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= MAX_REASON_CHARS else text[:MAX_REASON_CHARS - 3] + "..."


class _LogThrottle:
    """At most ``burst`` log lines of a kind per ``window_s``; the rest are counted and the count is
    added to the next line that gets through, so a flood costs a few lines, not one per datagram."""

    def __init__(self, burst: int = 10, window_s: float = 10.0) -> None:
        self.burst = burst
        self.window_s = window_s
        self._windows: dict[str, list] = {}  # kind -> [window start (monotonic s), lines in it, suppressed]

    def log(self, level: int, kind: str, message: str) -> None:
        now = time.monotonic()
        window = self._windows.setdefault(kind, [now, 0, 0])
        if now - window[0] >= self.window_s:
            window[0], window[1] = now, 0
        if window[1] >= self.burst:
            window[2] += 1
            return
        window[1] += 1
        if window[2]:
            message += f" ({window[2]} similar lines suppressed)"
            window[2] = 0
        log.log(level, message)


def carry_out(target: ControlTarget, address: str, args: list[Any]) -> tuple[str, list[Any]] | None:
    """Carry out one session command (everything but ``/OSCSetSendTarget``, which belongs to a port):
    check the arguments, then call the target. Returns the reply (address, args) or None.

    Raises CommandRefused, or whatever the target raises.
    """
    match address:
        case "/AddLiveLinkAddress":
            ip, port = _arguments(args, 2, 2, "ip port")
            target.add_livelink_address(_ip(ip), _port(port))
        case "/ClearAllLiveLinkAddresses":
            _arguments(args, 0, 0, "")
            target.clear_livelink_addresses()
        case "/LiveLinkSubject":
            (name,) = _arguments(args, 1, 1, "name")
            target.set_subject(_name(name, "subject"))
        case "/LiveLinkStreamStart" | "/LiveLinkStreamStop":
            _arguments(args, 0, 0, "")
            target.set_streaming(address == "/LiveLinkStreamStart")
        case "/Slate":
            (name,) = _arguments(args, 1, 1, "name")
            target.set_slate(_name(name, "slate"))
        case "/Take":
            (number,) = _arguments(args, 1, 1, "number")
            target.set_take(_whole_number(number, "take", 0, MAX_TAKE))
        case "/RecordStart":
            slate, take = _arguments(args, 0, 2, "[slate [take]]")
            slate = None if slate is None else _name(slate, "slate")
            take = None if take is None else _whole_number(take, "take", 0, MAX_TAKE)
            return "/RecordStartConfirm", [str(target.record_start(slate, take))]
        case "/RecordStop":
            _arguments(args, 0, 0, "")
            stopped = target.record_stop()
            if stopped is None:
                raise CommandRefused("not recording")
            timecode, csv_path, audio_path = stopped
            return "/RecordStopConfirm", [str(timecode), os.fspath(csv_path), os.fspath(audio_path)]
        case "/Preset":
            (name,) = _arguments(args, 1, 1, "name")
            target.set_preset(_preset_name(name))
        case "/Emotion":
            name, intensity = _arguments(args, 1, 2, "name [intensity]")
            target.set_emotion(_emotion(name, intensity))
        case "/BatteryQuery":
            _arguments(args, 0, 0, "")
            return "/Battery", [BATTERY_LEVEL]
        case "/ThermalsQuery":
            _arguments(args, 0, 0, "")
            return "/Thermals", [THERMAL_STATE]
        case "/Transport":
            raise CommandRefused("not supported: pmmtalk-live does not send files over the network; "
                            "takes are in its takes folder")
        case _:
            raise CommandRefused("unknown command")
    return None


_FOR_EVERY_CHARACTER = frozenset({"/RecordStart", "/RecordStop", "/Slate", "/Take", "/Preset", "/Emotion",
                                  "/LiveLinkStreamStart", "/LiveLinkStreamStop", "/AddLiveLinkAddress",
                                  "/ClearAllLiveLinkAddresses"})
"""Commands that, sent with no subject to a daemon of several characters, go to each character, each
answering under its own subject; the others need a subject (``/Ada/LiveLinkSubject``) or are
answered once (the queries)."""

Reply = tuple[str, list[Any]]


def carry_out_for(targets: list[ControlTarget], address: str, args: list[Any]) -> list[Reply]:
    """One command to a daemon of several characters (each target has a ``subject``): ``/<Subject>/X``
    goes to that character alone, ``/X`` to each character (``_FOR_EVERY_CHARACTER``) or, for a query,
    once. Each character's command is ``carry_out``'s; replies (and ``/Error``s, which do not stop the
    others) come back under ``/<Subject>/``. With one character, ``/X`` is answered as ``carry_out``
    answers it. Raises CommandRefused for an unknown subject or an ambiguous command."""
    subject, _, command = address[1:].partition("/") if address.count("/") >= 2 else ("", "", "")
    if subject:
        chosen = [t for t in targets if t.subject == subject]
        if not chosen:
            raise CommandRefused(f"no character {_shown(subject)} (characters: "
                                 f"{', '.join(t.subject for t in targets)})")
        return _carried_out(chosen, "/" + command, args)
    if len(targets) == 1:
        reply = carry_out(targets[0], address, args)
        return [] if reply is None else [reply]
    if address in _FOR_EVERY_CHARACTER:
        return _carried_out(targets, address, args)
    if address in ("/BatteryQuery", "/ThermalsQuery", "/Transport"):  # about the machine, not a character
        reply = carry_out(targets[0], address, args)
        return [] if reply is None else [reply]
    raise CommandRefused(f"{len(targets)} characters: send it to one, /<Subject>{address[:64]} (characters: "
                         f"{', '.join(t.subject for t in targets)})")


def _carried_out(targets: list[ControlTarget], command: str, args: list[Any]) -> list[Reply]:
    """``command`` on each target in turn; a failure is that character's ``/Error``, not the others'."""
    replies = []
    for target in targets:
        prefix = f"/{target.subject}"
        try:
            reply = carry_out(target, command, args)
        except PmmtalkError as error:  # CommandRefused included
            replies.append(("/Error", [prefix + command[:64], _one_line(str(error))]))
            continue
        if reply is not None:
            replies.append((prefix + reply[0], reply[1]))
    return replies


class Commands:
    """The session commands of one target, carried out one at a time whichever port asks (the OSC
    remote-control port, the studio page): one implementation, one lock. ``characters``: a daemon of
    several characters, each a target with a ``subject`` (``carry_out_for``); ``run`` then answers
    a list of replies."""

    def __init__(self, target: ControlTarget | None, characters: list[ControlTarget] | None = None) -> None:
        self.target = target
        self.characters = characters
        self._lock = threading.Lock()

    def run(self, address: str, args: list[Any]) -> Reply | list[Reply] | None:
        """``carry_out`` (or ``carry_out_for``) under the lock; raises CommandRefused or the target's
        PmmtalkError."""
        with self._lock:
            if self.characters is not None:
                return carry_out_for(self.characters, address, args)
            return carry_out(self.target, address, args)


# --- the server: a socket and a thread ------------------------------------------------------------


class ControlServer:
    """Listens for the Live Link Face app's OSC remote-control commands on UDP and carries them out on ``target``.

    Binds at construction, so a port in use fails early with ControlError; ``start`` starts the
    daemon thread that serves; ``close`` stops it. As a context manager it starts on entry and
    closes on exit. Counters (read them from any thread):

    - ``commands``: commands carried out (the target accepted them, a query was answered);
    - ``rejected``: commands answered with ``/Error`` (unknown, bad arguments, the target failed);
    - ``garbage``: datagrams that are not OSC (dropped, no reply).
    """

    def __init__(self, target: ControlTarget | None, host: str = "127.0.0.1", port: int = DEFAULT_PORT,
                 commands: Commands | None = None) -> None:
        """``host``: the address to listen on; 127.0.0.1 keeps the port to this machine, 0.0.0.0 opens
        it to the network (see docs/remote-control.md, Security). ``port``: 0 picks a free one.
        ``commands``: the session's ``Commands`` when another port (the studio) shares them, or a daemon
        of several characters' (``target`` None)."""
        self._commands = commands or Commands(target)
        self.commands = 0
        self.rejected = 0
        self.garbage = 0
        self._sock = _bind(host, port)
        self._family = self._sock.family
        self._reply_to: tuple[str, int] | None = None
        """The ``/OSCSetSendTarget`` address; None: reply to each command's sender."""
        self._last_sender: tuple[str, int] | None = None
        """Who sent the latest command: where ``report_error`` goes without a send target."""
        self._wake_r, self._wake_w = socket.socketpair()
        self._thread: threading.Thread | None = None
        self._close_lock = threading.Lock()
        self._closed = False
        self._throttle = _LogThrottle()

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port), with the real port when 0 was asked for."""
        host, port = self._sock.getsockname()[:2]
        return host, port

    def start(self) -> "ControlServer":
        if self._closed:
            raise RuntimeError("control server is closed")
        if self._thread is not None:
            raise RuntimeError("control server already started")
        self._thread = threading.Thread(target=self._serve, name="pmmtalk-control", daemon=True)
        self._thread.start()
        host, port = self.address
        log.info("control: listening for OSC remote-control commands on %s", _host_port((host, port)))
        if open_to_network(host):
            log.warning("control: port %s is open to the network, with no authentication: whoever reaches it "
                        "can start takes and make this machine stream to any address; bind 127.0.0.1 or a "
                        "trusted stage network only (docs/remote-control.md, Security)", _host_port((host, port)))
        return self

    def close(self) -> None:
        """Stop serving (a command being carried out finishes first) and close the port. Safe to call twice."""
        with self._close_lock:
            if self._closed:
                return
            self._closed = True
            self._wake_w.send(b"\0")
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        for sock in (self._sock, self._wake_r, self._wake_w):
            sock.close()

    def __enter__(self) -> "ControlServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _serve(self) -> None:
        while not self._closed:  # also ends the loop when the target itself closed the server
            readable, _, _ = select.select([self._sock, self._wake_r], [], [])
            if self._wake_r in readable:
                return
            try:
                dgram, sender = self._sock.recvfrom(_RECEIVE_BYTES)
            except ConnectionError:
                continue  # Windows reports an earlier reply's "port unreachable" on the next receive
            except OSError as error:
                self._throttle.log(logging.WARNING, "receive", f"control: receive failed: {error}")
                continue
            try:
                self._handle(dgram, sender)
            except Exception as error:  # a bug here must not end remote control for the session
                self._throttle.log(logging.ERROR, "bug", f"control: internal error: {type(error).__name__}: {error}")
                log.debug("control: internal error", exc_info=True)

    def _handle(self, dgram: bytes, sender: tuple[str, int]) -> None:
        try:
            messages = parse_packet(dgram)
        except ValueError as error:
            self.garbage += 1
            self._throttle.log(logging.WARNING, "garbage",
                               f"control: dropped a datagram from {_host_port(sender)}: {error}")
            return
        for message in messages:
            self._run(message.address, message.params, sender)

    def report_error(self, command: str, reason: str) -> None:
        """``/Error command reason`` about a failure that came after the command's reply (a take that
        a full disk ended), to the ``/OSCSetSendTarget`` address, else the latest command's sender;
        before any command, only logged (the caller logs it). Any thread."""
        if self._last_sender is not None and not self._closed:
            self._send(("/Error", [command[:64], _one_line(reason)]), self._last_sender)

    def _run(self, address: str, args: list[Any], sender: tuple[str, int]) -> None:
        """Carry out one command and send its reply, or refuse it with ``/Error``."""
        self._last_sender = sender
        try:
            reply = self._carry_out(address, args)
        except (CommandRefused, PmmtalkError) as error:
            reason = _one_line(str(error))
        except Exception as error:
            reason = _one_line(f"internal error: {type(error).__name__}: {error}")
            log.debug("control: %s raised", address, exc_info=True)
        else:
            self.commands += 1
            level = logging.DEBUG if address.endswith("Query") else logging.INFO  # tools poll these
            self._throttle.log(level, "command", f"control: {_one_line(' '.join([address, *map(repr, args)]))} "
                                                 f"from {_host_port(sender)}")
            for one in (reply if isinstance(reply, list) else [] if reply is None else [reply]):
                self._send(one, sender)
            return
        self.rejected += 1
        shown = address[:64]
        self._throttle.log(logging.WARNING, "rejected",
                           f"control: refused {shown!r} from {_host_port(sender)}: {reason}")
        self._send(("/Error", [shown, reason]), sender)

    def _carry_out(self, address: str, args: list[Any]) -> Reply | list[Reply] | None:
        """The reply (or replies, several characters) to one command (None: no reply); the send target is this port's own, every
        other command is the session's (``Commands``)."""
        if address == "/OSCSetSendTarget":
            ip, port = _arguments(args, 2, 2, "ip port")
            self._reply_to = (self._reply_ip(ip), _port(port))
            return None
        return self._commands.run(address, args)

    def _reply_ip(self, value: Any) -> str:
        ip = _ip(value)
        if (self._family == socket.AF_INET6) != (ipaddress.ip_address(ip).version == 6):
            listening = "IPv6" if self._family == socket.AF_INET6 else "IPv4"
            raise CommandRefused(f"replies leave from an {listening} socket; {ip} is not an {listening} address")
        return ip

    def _send(self, reply: tuple[str, list[Any]], sender: tuple[str, int]) -> None:
        destination = self._reply_to or sender
        try:
            self._sock.sendto(encode_message(*reply), destination)
        except OSError as error:
            self._throttle.log(logging.WARNING, "send",
                               f"control: cannot send {reply[0]} to {_host_port(destination)}: {error}")


def open_to_network(host: str) -> bool:
    """Whether a port bound to the IP address ``host`` is reachable from other machines: all but loopback."""
    try:
        return not ipaddress.ip_address(host.partition("%")[0]).is_loopback
    except ValueError:
        return True


def _host_port(address: tuple[str, int]) -> str:
    host, port = address[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _bind(host: str, port: int) -> socket.socket:
    """A UDP socket bound to ``host:port``, or ControlError with one line saying why not."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ControlError(f"control port {port!r} is not a port number 0..65535; choose another with --control HOST:PORT (or --control off)")
    where = _host_port((host, port))
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError) as error:
        raise ControlError(f"control address {host!r} is not an address of this machine "
                           f"({getattr(error, 'strerror', None) or error})") from None
    found.sort(key=lambda info: info[0] != socket.AF_INET)  # "localhost": 127.0.0.1 before ::1
    family, kind, proto, _, sockaddr = found[0]
    sock = socket.socket(family, kind, proto)
    # No SO_REUSEADDR: for UDP it would let a second session share the port and steal half the commands.
    try:
        sock.bind(sockaddr)
    except OSError as error:
        sock.close()
        if error.errno in _IN_USE:
            raise ControlError(f"control port {where} is in use (another pmmtalk-live or Live Link Face "
                               "session?); choose another with --control HOST:PORT (or --control off)") from None
        if error.errno in _NOT_HERE:
            raise ControlError(f"control address {host!r} is not an address of this machine") from None
        if error.errno in _DENIED:
            raise ControlError(f"control port {where} needs administrator rights (ports below 1024); "
                               "choose another with --control HOST:PORT (or --control off)") from None
        raise ControlError(f"cannot open control port {where}: {error.strerror or error}") from None
    return sock

