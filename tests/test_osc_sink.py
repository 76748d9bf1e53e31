"""The OSC sink over real UDP on loopback, decoded with tests/wire.py (written from the OSC 1.0 spec and
docs/protocol.md, not from the sender)."""

from __future__ import annotations

import binascii
import logging
import time
from fractions import Fraction

import numpy as np
import pytest

from pmmtalk_live import rig
from pmmtalk_live.errors import SinkError
from pmmtalk_live.sinks.osc import OscSink, check_names, encode_frame, parse_address, schema_id
from pmmtalk_live.tracks import CurveFrame

from .wire import OscBundle, OscMessage, UdpReceiver, closed_port, decode_osc, ntp_to_unix

NAMES = rig.LIVE_LINK_FACE_NAMES
FPS = 60.0
WALL_T0_S = 1_763_942_400.123456  # a Unix time with a fraction, so the timetag's fraction is exercised
MAX_DATAGRAM_BYTES = 1472


def make_frame(number: int, names=NAMES, values=None, fps: float = FPS) -> CurveFrame:
    """Frame ``number`` of a stream whose clocks advance 1/fps per frame."""
    if values is None:
        values = (np.arange(len(names), dtype=np.float32) + number) / 1000
    return CurveFrame(number=number, fps=fps, capture_time_s=5000.0 + number / fps,
                      wall_time_s=WALL_T0_S + number / fps, names=tuple(names),
                      values=np.asarray(values, np.float32))


@pytest.fixture
def receiver():
    with UdpReceiver() as r:
        yield r


@pytest.fixture
def sink(receiver):
    s = OscSink("127.0.0.1", receiver.port, subject="Anna")
    yield s
    s.close()


def expect_crc_schema(names) -> int:
    return binascii.crc32("\n".join(names).encode()) & 0x7FFFFFFF


def receive_decoded(receiver: UdpReceiver, count: int) -> list[OscMessage | OscBundle]:
    datagrams = receiver.receive(count)
    assert all(len(d) <= MAX_DATAGRAM_BYTES for d in datagrams)
    return [decode_osc(d) for d in datagrams]


def names_args(packet) -> dict:
    assert isinstance(packet, OscMessage) and packet.address == "/pmmtalk/names"
    assert packet.type_tags == "isifiiii" + "s" * (len(packet.args) - 8)
    version, subject, schema, fps, total, index, count, first, *names = packet.args
    return dict(version=version, subject=subject, schema=schema, fps=fps, total=total, index=index,
                count=count, first=first, names=names)


def frame_of(packet) -> tuple[int, dict]:
    """(timetag, frame message fields) of a frame datagram."""
    assert isinstance(packet, OscBundle) and len(packet.elements) == 1
    message = packet.elements[0]
    assert message.address == "/pmmtalk/frame"
    assert message.type_tags == "isii" + "f" * (len(message.args) - 4)
    version, subject, schema, number, *values = message.args
    return packet.timetag, dict(version=version, subject=subject, schema=schema, number=number,
                                values=np.array(values, np.float32))


def test_names_then_timetagged_frames(sink, receiver):
    frames = [make_frame(n) for n in (0, 1, 3)]  # frame 2 skipped by the engine: a gap
    for frame in frames:
        sink.send(frame)
    packets = receive_decoded(receiver, 4)

    names = names_args(packets[0])
    assert names == dict(version=1, subject="Anna", schema=expect_crc_schema(NAMES), fps=60.0, total=61,
                         index=0, count=1, first=0, names=list(NAMES))
    for frame, packet in zip(frames, packets[1:]):
        timetag, fields = frame_of(packet)
        assert fields["version"] == 1 and fields["subject"] == "Anna"
        assert fields["schema"] == names["schema"]
        assert fields["number"] == frame.number
        np.testing.assert_array_equal(fields["values"], frame.values)
        # the capture time, to NTP precision (1/2**32 s): exact arithmetic on the float's value
        assert abs(ntp_to_unix(timetag) - Fraction(frame.wall_time_s)) < Fraction(1, 2**32)
    assert sink.sent == 4 and sink.errors == 0


def test_schema_id_is_crc32_of_names_joined_by_newline():
    assert schema_id(["JawOpen", "MouthClose"]) == 965694906  # the worked example in docs/protocol.md
    assert schema_id(NAMES) == expect_crc_schema(NAMES)
    assert schema_id(list(reversed(NAMES))) != schema_id(NAMES)
    assert 0 <= schema_id(["x" * 50] * 7) < 2**31


def test_many_long_names_split_into_parts_that_reassemble(sink, receiver):
    names = tuple(f"CTRL_expressions_{i:03d}_aVeryLongCurveNameForAFaceRig" for i in range(200))
    sink.send(make_frame(0, names))
    first = names_args(receive_decoded(receiver, 1)[0])
    count = first["count"]
    assert count > 1
    packets = [first] + [names_args(p) for p in receive_decoded(receiver, count - 1)]
    reassembled = [None] * 200
    for i, part in enumerate(packets):
        assert part["index"] == i and part["count"] == count and part["total"] == 200
        assert part["schema"] == expect_crc_schema(names)
        reassembled[part["first"]:part["first"] + len(part["names"])] = part["names"]
    assert reassembled == list(names)
    timetag, fields = frame_of(receive_decoded(receiver, 1)[0])
    assert fields["schema"] == first["schema"] and len(fields["values"]) == 200


def test_names_repeat_each_second_of_frames_and_on_every_change(sink, receiver):
    for n in range(150):  # 2.5 s of frames at 60 fps: names with frames 0, 60 and 120
        sink.send(make_frame(n))
    packets = receive_decoded(receiver, 153)
    names_at = [i for i, p in enumerate(packets) if isinstance(p, OscMessage)]
    assert len(names_at) == 3 and names_at[0] == 0
    assert all(58 <= b - a <= 62 for a, b in zip(names_at, names_at[1:]))

    preset_names = NAMES[:52]  # a preset switch: another set of names
    sink.send(make_frame(150, preset_names))
    names, frame = receive_decoded(receiver, 2)
    assert names_args(names)["names"] == list(preset_names)
    assert frame_of(frame)[1]["schema"] == names_args(names)["schema"] == expect_crc_schema(preset_names)

    sink.subject = "Bob"  # the remote-control command
    sink.send(make_frame(151, preset_names))
    names, frame = receive_decoded(receiver, 2)
    assert names_args(names)["subject"] == "Bob" and frame_of(frame)[1]["subject"] == "Bob"


def test_non_finite_values_are_sent_as_zero(sink, receiver):
    values = np.full(len(NAMES), 0.5, np.float32)
    values[[3, 17, 52]] = [np.nan, np.inf, -np.inf]
    sink.send(make_frame(0, values=values))
    _, fields = frame_of(receive_decoded(receiver, 2)[1])
    assert np.all(fields["values"][[3, 17, 52]] == 0) and fields["values"][0] == 0.5


def test_frames_too_wide_for_a_datagram_fail_early_and_are_skipped(sink, receiver):
    wide = tuple(f"c{i}" for i in range(300))
    with pytest.raises(SinkError, match="1472"):
        check_names(wide)
    with pytest.raises(SinkError, match="1472"):
        sink.check_names(wide)
    sink.check_names(NAMES)
    with pytest.raises(SinkError, match="twice"):
        check_names(("JawOpen", "jawOpen"))

    sink.send(make_frame(0, wide))  # skipped, counted, not raised
    assert sink.errors == 1
    sink.send(make_frame(1))
    names, frame = receive_decoded(receiver, 2)  # the first thing on the wire is the good frame's names
    assert names_args(names)["total"] == 61 and frame_of(frame)[1]["number"] == 1


def test_a_receiver_that_is_not_running_is_counted_not_raised(caplog):
    sink = OscSink("127.0.0.1", closed_port())
    frame = make_frame(0)
    with caplog.at_level(logging.WARNING, logger="pmmtalk_live.sinks.osc"):
        for _ in range(200):
            sink.send(frame)  # same capture time: one names message, 200 frames
    assert sink.errors >= 1  # Linux reports the ICMP port unreachable on the next send
    assert sink.sent + sink.errors == 201
    assert len(caplog.records) == 1 and "nothing is listening" in caplog.records[0].getMessage()
    sink.close()
    sink.close()
    sink.send(frame)  # after close: dropped, no exception


def test_ipv6_destination():
    try:
        receiver = UdpReceiver("::1")
    except OSError:
        pytest.skip("no IPv6 loopback")
    with receiver:
        host, port = parse_address(f"[::1]:{receiver.port}", 9000)
        sink = OscSink(host, port)
        sink.send(make_frame(0))
        assert names_args(decode_osc(receiver.receive(1)[0]))["total"] == 61
        sink.close()


def test_unresolvable_host_and_bad_port_raise_sink_error():
    with pytest.raises(SinkError, match="cannot resolve OSC host 'nosuch.invalid'"):
        OscSink("nosuch.invalid", 9000)
    for port in (0, 70000, -1):
        with pytest.raises(SinkError, match="port"):
            OscSink("127.0.0.1", port)
    with pytest.raises(SinkError, match="subject"):
        OscSink("127.0.0.1", 9000, subject="")


@pytest.mark.parametrize("text, expected", [
    ("unreal-pc:9001", ("unreal-pc", 9001)),
    ("192.168.1.20", ("192.168.1.20", 9000)),
    ("[::1]:11111", ("::1", 11111)),
    ("[fe80::1%eth0]", ("fe80::1%eth0", 9000)),
    ("::1", ("::1", 9000)),
    (" localhost:8000 ", ("localhost", 8000)),
])
def test_parse_address(text, expected):
    assert parse_address(text, 9000) == expected


@pytest.mark.parametrize("text", ["", ":9000", "host:", "host:abc", "host:0", "host:70000", "[::1",
                                  "[::1]:x", "[]:5", "::1]:5"])
def test_parse_address_rejects(text):
    with pytest.raises(SinkError, match="address|port"):
        parse_address(text, 9000)


def test_encoding_a_frame_is_cheap():
    values = np.random.default_rng(0).random(len(NAMES), dtype=np.float32)
    schema = schema_id(NAMES)
    best_s = np.inf
    for _ in range(3):  # best of three batches: robust to a busy machine
        start_s = time.perf_counter()
        for n in range(1000):
            encode_frame("Anna", schema, n, WALL_T0_S + n / FPS, values)
        best_s = min(best_s, (time.perf_counter() - start_s) / 1000)
    assert best_s < 0.2e-3


def test_failures_after_the_first_are_summarised(caplog, monkeypatch):
    from pmmtalk_live.sinks import osc

    monkeypatch.setattr(osc, "ERROR_LOG_PERIOD_S", 0.0)  # every failure due for a summary line
    sink = OscSink("127.0.0.1", closed_port())
    with caplog.at_level(logging.WARNING, logger="pmmtalk_live.sinks.osc"):
        for _ in range(100):
            sink.send(make_frame(0))
    assert sink.errors >= 2
    assert "sends failed" in caplog.records[-1].getMessage()
    sink.close()
