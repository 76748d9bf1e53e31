"""The Live Link Face sink: golden bytes written by hand from the spec, and packets over real UDP on
loopback decoded with tests/wire.py."""

from __future__ import annotations

import logging
import math
import time

import numpy as np
import pytest

from pmmtalk_live import rig
from pmmtalk_live.errors import SinkError
from pmmtalk_live.sinks.livelinkface import LiveLinkFaceSink, device_id_for, encode_packet
from pmmtalk_live.tracks import CurveFrame

from .wire import UdpReceiver, closed_port, decode_live_link_face

WALL_TIME_S = 1_763_942_400.25  # a Unix time a quarter second past a whole second

# One packet, byte by byte from live-link-face.md section 2: device id "D", subject "S", frame 1234,
# sub-frame 0.5, 60/1 fps, 61 values: EyeBlinkLeft 1.0, JawOpen 0.5, HeadYaw -0.25, RightEyeRoll 0.125.
GOLDEN_PACKET = bytes.fromhex(
    "06"                  # PacketVersion 6
    "00000001" "44"       # DeviceId: length 1, "D"
    "00000001" "53"       # SubjectName: length 1, "S"
    "000004d2"            # FrameNumber 1234
    "3f000000"            # SubFrame 0.5
    "0000003c" "00000001" # FrameRate 60 / 1
    "3d"                  # BlendShapeCount 61
    "3f800000"            # [0] EyeBlinkLeft 1.0
    + "00000000" * 16     # [1..16]
    + "3f000000"          # [17] JawOpen 0.5
    + "00000000" * 34     # [18..51]
    + "be800000"          # [52] HeadYaw -0.25
    + "00000000" * 7      # [53..59]
    + "3e000000"          # [60] RightEyeRoll 0.125
)


def test_encode_packet_matches_hand_written_bytes():
    values = np.zeros(61, np.float32)
    values[[0, 17, 52, 60]] = [1.0, 0.5, -0.25, 0.125]
    packet = encode_packet("D", "S", 1234, 0.5, 60, 1, values)
    assert packet == GOLDEN_PACKET
    assert len(packet) == 270 + 1 + 1


@pytest.fixture
def receiver():
    with UdpReceiver() as r:
        yield r


def expected_frame_time(wall_time_s: float, fps: int) -> float:
    """Local time of day in frames, computed independently of timecode.py."""
    local = time.localtime(wall_time_s)
    seconds = local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec + wall_time_s % 1
    return seconds * fps


def test_values_placed_by_name_over_udp(receiver):
    sink = LiveLinkFaceSink("127.0.0.1", receiver.port, subject="Anna")
    names = ("jawOpen", "MouthClose", "headYaw", "eyeBlinkRight", "aa", "tongueOut")
    values = np.array([0.75, 0.1, -0.2, np.nan, 0.9, np.inf], np.float32)
    sink.send(CurveFrame(7, 60.0, 100.0, WALL_TIME_S, names, values))
    datagram = receiver.receive(1)[0]
    packet = decode_live_link_face(datagram)

    assert len(datagram) == 270 + len(packet.device_id.encode()) + len("Anna")
    assert (packet.version, packet.subject, packet.blendshape_count) == (6, "Anna", 61)
    assert (packet.rate_numerator, packet.rate_denominator) == (60, 1)
    by_name = dict(zip(rig.LIVE_LINK_FACE_NAMES, packet.values))
    assert by_name["JawOpen"] == pytest.approx(0.75)
    assert by_name["MouthClose"] == pytest.approx(0.1)
    assert by_name["HeadYaw"] == pytest.approx(-0.2)
    assert by_name["EyeBlinkRight"] == 0 and by_name["TongueOut"] == 0  # NaN and inf sent as 0
    assert sum(v != 0 for v in packet.values) == 3  # "aa" is not a Live Link Face name: not sent

    frames = expected_frame_time(WALL_TIME_S, 60)
    assert packet.frame_number == math.floor(frames)
    assert packet.sub_frame == pytest.approx(frames - math.floor(frames), abs=1e-3)
    assert sink.sent == 1 and sink.errors == 0
    sink.close()


def test_thirty_fps_frame_rate_and_time(receiver):
    sink = LiveLinkFaceSink("127.0.0.1", receiver.port, subject="Anna")
    sink.send(CurveFrame(0, 30.0, 100.0, WALL_TIME_S, rig.LIVE_LINK_FACE_NAMES, np.ones(61, np.float32)))
    packet = decode_live_link_face(receiver.receive(1)[0])
    assert (packet.rate_numerator, packet.rate_denominator) == (30, 1)
    assert packet.frame_number == math.floor(expected_frame_time(WALL_TIME_S, 30))
    assert packet.values == (1.0,) * 61
    sink.close()


def test_device_id_is_stable_per_machine_and_subject(receiver):
    assert device_id_for("Anna") == device_id_for("Anna")
    assert device_id_for("Anna") != device_id_for("Bob")
    assert device_id_for("Anna", hostname="stage-pc") != device_id_for("Anna", hostname="edit-pc")

    sink = LiveLinkFaceSink("127.0.0.1", receiver.port, subject="Anna")
    frame = CurveFrame(0, 60.0, 100.0, WALL_TIME_S, ("JawOpen",), np.zeros(1, np.float32))
    sink.send(frame)
    sink.subject = "Bob"  # renamed at runtime: same device, new subject (Unreal drops "Anna")
    sink.send(frame)
    first, second = (decode_live_link_face(d) for d in receiver.receive(2))
    assert first.device_id == second.device_id == device_id_for("Anna")
    assert (first.subject, second.subject) == ("Anna", "Bob")
    sink.close()


def test_a_receiver_that_is_not_running_is_counted_not_raised(caplog):
    sink = LiveLinkFaceSink("127.0.0.1", closed_port())
    frame = CurveFrame(0, 60.0, 100.0, WALL_TIME_S, rig.LIVE_LINK_FACE_NAMES, np.zeros(61, np.float32))
    with caplog.at_level(logging.WARNING):
        for _ in range(100):
            sink.send(frame)
    assert sink.errors >= 1 and sink.sent + sink.errors == 100
    assert len(caplog.records) == 1 and "Live Link" in caplog.records[0].getMessage()
    sink.close()
    sink.close()


def test_unresolvable_host_and_bad_port_raise_sink_error():
    with pytest.raises(SinkError, match="cannot resolve Live Link host 'nosuch.invalid'"):
        LiveLinkFaceSink("nosuch.invalid")
    with pytest.raises(SinkError, match="port"):
        LiveLinkFaceSink("127.0.0.1", 70000)
    with pytest.raises(SinkError, match="subject"):
        LiveLinkFaceSink("127.0.0.1", subject="bad\nname")
