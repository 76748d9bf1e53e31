"""The OSC remote-control port over real UDP on 127.0.0.1: the Live Link Face app's commands reach the
daemon, confirms reach the tool, and nothing a datagram holds stops the port."""

from __future__ import annotations

import logging
import random
import socket
import threading

import pytest
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message import OscMessage
from pythonosc.osc_message_builder import build_msg

from pmmtalk_live.animators.emotion import DEFAULT_INTENSITY, Emotion
from pmmtalk_live.control import ControlServer
from pmmtalk_live.control.remote import open_to_network
from pmmtalk_live.errors import ControlError, PresetError, TakeError

WAIT_S = 10.0
"""How long to wait for a reply or a call: generous, the machine may be loaded."""

START_TIMECODE = "12:34:56:07.250"
STOPPED = ("12:35:01:00.000", "/takes/Scene_3_Face_raw.csv", "/takes/Scene_3_Face.wav")


class RecordingTarget:
    """A ControlTarget that records its calls; ``failures`` maps a method name to what it raises."""

    def __init__(self, failures: dict[str, Exception] | None = None) -> None:
        self.calls: list[tuple] = []
        self.failures = failures or {}
        self.recording = False
        self._changed = threading.Condition()

    def _call(self, name: str, *args) -> None:
        with self._changed:
            self.calls.append((name, *args))
            self._changed.notify_all()
        if name in self.failures:
            raise self.failures[name]

    def wait_calls(self, count: int) -> list[tuple]:
        with self._changed:
            assert self._changed.wait_for(lambda: len(self.calls) >= count, WAIT_S), self.calls
            return list(self.calls)

    def record_start(self, slate, take):
        self._call("record_start", slate, take)
        self.recording = True
        return START_TIMECODE

    def record_stop(self):
        self._call("record_stop")
        was_recording, self.recording = self.recording, False
        return STOPPED if was_recording else None

    def set_slate(self, name):
        self._call("set_slate", name)

    def set_take(self, number):
        self._call("set_take", number)

    def set_subject(self, name):
        self._call("set_subject", name)

    def add_livelink_address(self, host, port):
        self._call("add_livelink_address", host, port)

    def clear_livelink_addresses(self):
        self._call("clear_livelink_addresses")

    def set_streaming(self, on):
        self._call("set_streaming", on)

    def set_preset(self, name):
        self._call("set_preset", name)

    def set_emotion(self, emotion):
        self._call("set_emotion", emotion)


class Client:
    """A tool's UDP socket: sends commands to the control port, reads the replies that come back."""

    def __init__(self, server_address: tuple[str, int]) -> None:
        self.server_address = server_address
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.settimeout(WAIT_S)

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def send(self, address: str, *args) -> None:
        self.send_raw(build_msg(address, list(args)).dgram)

    def send_raw(self, dgram: bytes) -> None:
        self.sock.sendto(dgram, self.server_address)

    def reply(self) -> tuple[str, list]:
        dgram, _ = self.sock.recvfrom(65536)
        message = OscMessage(dgram)
        return message.address, message.params

    def has_nothing_waiting(self) -> bool:
        self.sock.setblocking(False)
        try:
            self.sock.recvfrom(65536)
            return False
        except BlockingIOError:
            return True
        finally:
            self.sock.settimeout(WAIT_S)

    def close(self) -> None:
        self.sock.close()


@pytest.fixture
def target():
    return RecordingTarget()


@pytest.fixture
def server(target):
    with ControlServer(target, port=0) as server:
        yield server


@pytest.fixture
def client(server):
    client = Client(server.address)
    yield client
    client.close()


def expect_no_reply_then_battery(client: Client) -> None:
    """Replies come in command order: if the next one answers a /BatteryQuery sent now, none came before it."""
    client.send("/BatteryQuery")
    assert client.reply() == ("/Battery", [1.0])


@pytest.mark.parametrize(("address", "args", "call"), [
    ("/Slate", ["Scene"], ("set_slate", "Scene")),
    ("/Slate", [12], ("set_slate", "12")),
    ("/Take", [3], ("set_take", 3)),
    ("/Take", ["7"], ("set_take", 7)),
    ("/Take", [4.0], ("set_take", 4)),
    ("/LiveLinkSubject", ["Face"], ("set_subject", "Face")),
    ("/AddLiveLinkAddress", ["192.168.1.20", 11111], ("add_livelink_address", "192.168.1.20", 11111)),
    ("/AddLiveLinkAddress", ["127.0.0.1", "11112"], ("add_livelink_address", "127.0.0.1", 11112)),
    ("/ClearAllLiveLinkAddresses", [], ("clear_livelink_addresses",)),
    ("/LiveLinkStreamStart", [], ("set_streaming", True)),
    ("/LiveLinkStreamStop", [], ("set_streaming", False)),
    ("/Preset", ["metahuman"], ("set_preset", "metahuman")),
    ("/Emotion", ["happy", 0.8], ("set_emotion", Emotion("happy", 0.8))),
    ("/Emotion", ["Sad"], ("set_emotion", Emotion("sad", DEFAULT_INTENSITY))),
    ("/Emotion", ["angry", "1"], ("set_emotion", Emotion("angry", 1.0))),
    ("/Emotion", ["neutral", 0], ("set_emotion", Emotion("neutral", 0.0))),
])
def test_every_command_reaches_the_target_with_its_arguments(server, client, target, address, args, call):
    client.send(address, *args)
    assert target.wait_calls(1) == [call]
    expect_no_reply_then_battery(client)  # these commands are not confirmed, as the app does not
    assert (server.commands, server.rejected, server.garbage) == (2, 0, 0)


def test_record_confirms_go_to_the_send_target(server, client, target):
    listener = Client(server.address)
    try:
        client.send("/OSCSetSendTarget", "127.0.0.1", listener.port)
        client.send("/RecordStart", "Scene", "3")
        assert listener.reply() == ("/RecordStartConfirm", [START_TIMECODE])
        client.send("/RecordStop")
        assert listener.reply() == ("/RecordStopConfirm", list(STOPPED))
        assert target.calls == [("record_start", "Scene", 3), ("record_stop",)]
        assert client.has_nothing_waiting()
    finally:
        listener.close()


def test_replies_go_to_the_sender_until_a_send_target_is_set(client, target):
    client.send("/RecordStart")
    assert client.reply() == ("/RecordStartConfirm", [START_TIMECODE])
    assert target.calls == [("record_start", None, None)]


def test_bundled_commands_run_in_order(client, target):
    bundle = OscBundleBuilder(IMMEDIATELY)
    for address, args in [("/Slate", ["Scene"]), ("/Take", [3]), ("/RecordStart", [])]:
        bundle.add_content(build_msg(address, args))
    client.send_raw(bundle.build().dgram)
    assert client.reply() == ("/RecordStartConfirm", [START_TIMECODE])
    assert target.calls == [("set_slate", "Scene"), ("set_take", 3), ("record_start", None, None)]


@pytest.mark.parametrize(("address", "args", "reason"), [
    ("/Slate", ["."], "hidden"),
    ("/Slate", [".hidden"], "hidden"),
    ("/Slate", ["-rf"], "option-like"),
    ("/RecordStart", ["-rf", 1], "option-like"),
    ("/LiveLinkSubject", [".Face"], "hidden"),
])
def test_a_hidden_or_option_like_name_is_refused(server, client, target, address, args, reason):
    client.send(address, *args)
    reply_address, (command, got) = client.reply()
    assert (reply_address, command) == ("/Error", address) and reason in got
    assert target.calls == []


@pytest.mark.parametrize(("address", "args"), [
    ("/Slate", ["../evil"]),
    ("/Slate", ["..\\evil"]),
    ("/RecordStart", ["../evil", 1]),
    ("/LiveLinkSubject", ["takes/../../evil"]),
])
def test_a_name_that_would_escape_the_takes_folder_is_refused(server, client, target, address, args):
    client.send(address, *args)
    reply_address, (command, reason) = client.reply()
    assert (reply_address, command) == ("/Error", address)
    assert "not allowed in a take file name" in reason
    assert target.calls == []
    assert (server.commands, server.rejected) == (0, 1)


@pytest.mark.parametrize(("address", "args", "reason"), [
    ("/Take", ["abc"], "'abc' is not a whole number 0..2147483647"),
    ("/Take", [-1], "-1 is not a whole number"),
    ("/Take", [1.5], "1.5 is not a whole number"),
    ("/Take", [True], "True is not a whole number"),
    ("/Take", [], "takes 1 argument (number), got 0"),
    ("/Slate", ["a", "b"], "takes 1 argument (name), got 2"),
    ("/Slate", [""], "slate name '' is empty"),
    ("/RecordStart", ["Scene", 1, 2], "takes 0 to 2 arguments ([slate [take]]), got 3"),
    ("/AddLiveLinkAddress", ["not-an-ip", 11111], "'not-an-ip' is not an IP address"),
    ("/AddLiveLinkAddress", ["127.0.0.1", 70000], "port 70000 is not a whole number 1..65535"),
    ("/AddLiveLinkAddress", ["127.0.0.1", "0"], "port '0' is not a whole number 1..65535"),
    ("/AddLiveLinkAddress", ["0.0.0.0", 11111], "0.0.0.0 is not an address to send to"),
    ("/OSCSetSendTarget", ["example.com", 9000], "'example.com' is not an IP address"),
    ("/OSCSetSendTarget", ["::1", 9000], "replies leave from an IPv4 socket"),
    ("/Preset", ["../../etc/passwd"], "is not a bare preset name"),
    ("/Preset", ["my_rig.yaml"], "is not a bare preset name"),
    ("/Emotion", ["joyful"], "unknown emotion 'joyful'"),
    ("/Emotion", ["happy", 1.5], "intensity must be 0..1"),
    ("/Emotion", ["happy", "lots"], "intensity 'lots' is not a number 0..1"),
    ("/Emotion", [3], "emotion 3 is not a name"),
    ("/Emotion", [], "takes 1 to 2 arguments (name [intensity]), got 0"),
    ("/LiveLinkStreamStart", [1], "takes 0 arguments (none), got 1"),
    ("/Transport", ["127.0.0.1:9000", "/takes/x.csv"], "not supported"),
    ("/NoSuchCommand", [], "unknown command"),
])
def test_bad_arguments_are_refused_with_a_reason(server, client, target, address, args, reason):
    client.send(address, *args)
    reply_address, (command, got) = client.reply()
    assert (reply_address, command) == ("/Error", address)
    assert reason in got
    assert target.calls == []
    assert (server.commands, server.rejected) == (0, 1)


def test_record_stop_when_not_recording_is_an_error(client):
    client.send("/RecordStop")
    assert client.reply() == ("/Error", ["/RecordStop", "not recording"])


@pytest.mark.parametrize("failure, reason", [
    (TakeError("take /takes/Scene_3_Face_raw.csv already exists; takes are never overwritten (next free take: 4)"),
     "take /takes/Scene_3_Face_raw.csv already exists; takes are never overwritten (next free take: 4)"),
    (RuntimeError("disk on fire\nsecond line"), "internal error: RuntimeError: disk on fire second line"),
])
def test_a_target_that_raises_is_answered_and_the_port_goes_on(failure, reason):
    target = RecordingTarget({"record_start": failure, "set_preset": PresetError("no preset named 'nope'")})
    with ControlServer(target, port=0) as server:
        client = Client(server.address)
        try:
            client.send("/RecordStart", "Scene", 3)
            assert client.reply() == ("/Error", ["/RecordStart", reason])
            client.send("/Preset", "nope")
            assert client.reply() == ("/Error", ["/Preset", "no preset named 'nope'"])
            expect_no_reply_then_battery(client)
            assert (server.commands, server.rejected) == (1, 2)
        finally:
            client.close()


def _bundle(*elements: bytes) -> bytes:
    return b"#bundle\0" + bytes(8) + b"".join(len(e).to_bytes(4, "big") + e for e in elements)


def _garbage() -> list[bytes]:
    rng = random.Random(7)
    slate = build_msg("/Slate", ["Scene"]).dgram
    nested = slate
    for _ in range(20):
        nested = _bundle(nested)
    garbage = [bytes([rng.choice(b"abc\0\xff")]) + rng.randbytes(rng.randrange(0, 200)) for _ in range(20)]
    garbage += [slate[:cut] for cut in range(9, len(slate))]  # cut inside the type tags or the name
    garbage += [
        b"",
        b"/Take\0\0\0,i\0\0",  # an int tag with no int
        b"/Slate\0\0," + b"z" * 4000 + b"\0\0\0",  # type tags python-osc does not know
        b"/Slate\0\0,s\0\0\xff\xfe\0\0",  # a name that is not UTF-8
        _bundle(slate)[:-4],  # the element is shorter than its size says
        b"#bundle\0\0\0",  # cut in its time tag
        nested,
        _bundle(*[build_msg("/BatteryQuery", []).dgram] * 17),  # more commands than any tool sends at once
        b"/Slate\0\0,s\0\0" + b"A" * 65000 + b"\0\0\0\0",  # 64 KB
    ]
    return garbage


def test_garbage_is_counted_and_dropped_and_the_port_goes_on(server, client, target, caplog):
    garbage = _garbage()
    with caplog.at_level(logging.WARNING, logger="pmmtalk_live.control"):
        for dgram in garbage:
            client.send_raw(dgram)
            expect_no_reply_then_battery(client)  # garbage gets no reply; waiting here also keeps any from being lost
        client.send("/Slate", "Scene")
        assert target.wait_calls(1) == [("set_slate", "Scene")]
    assert server.garbage == len(garbage)
    assert server.rejected == 0
    dropped = [r for r in caplog.records if "dropped a datagram" in r.getMessage()]
    assert 1 <= len(dropped) < len(garbage) / 2, "a flood of garbage is logged a few lines at a time"
    assert all("\n" not in r.getMessage() for r in dropped)


def test_port_in_use_is_one_clear_line(target):
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as other:
        other.bind(("127.0.0.1", 0))
        port = other.getsockname()[1]
        with pytest.raises(ControlError) as error:
            ControlServer(target, port=port)
    assert str(error.value) == (f"control port 127.0.0.1:{port} is in use (another pmmtalk-live or Live Link Face "
                                "session?); choose another with --control HOST:PORT (or --control off)")


@pytest.mark.parametrize(("host", "port", "message"), [
    ("192.0.2.1", 0, "control address '192.0.2.1' is not an address of this machine"),  # TEST-NET-1
    ("127.0.0.1", 70000, "control port 70000 is not a port number 0..65535"),
])
def test_a_bad_bind_address_is_one_clear_line(target, host, port, message):
    with pytest.raises(ControlError) as error:
        ControlServer(target, host=host, port=port)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(("host", "open_"), [
    ("127.0.0.1", False), ("127.8.9.10", False), ("::1", False),
    ("0.0.0.0", True), ("::", True), ("192.168.1.20", True), ("fe80::1%eth0", True),
])
def test_which_addresses_open_the_port_to_the_network(host, open_):
    assert open_to_network(host) is open_


def test_a_loopback_port_starts_without_a_warning(target, caplog):
    # Binding 0.0.0.0 here would open a port on the test machine; open_to_network decides the warning.
    with caplog.at_level(logging.INFO, logger="pmmtalk_live.control"):
        ControlServer(target, port=0).start().close()
    assert [r.levelname for r in caplog.records] == ["INFO"]


def test_close_is_idempotent_and_frees_the_port(target):
    server = ControlServer(target, port=0).start()
    port = server.address[1]
    server.close()
    server.close()
    ControlServer(target, port=port).close()  # would raise ControlError if the port were still held
