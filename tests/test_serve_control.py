"""A running daemon driven over its remote-control port, a preset edited while serving, and an engine
that falls behind: all against a real session (file source at real-time pace, real sockets)."""

from __future__ import annotations

import logging
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from pythonosc.osc_message import OscMessage as PyOscMessage
from pythonosc.osc_bundle_builder import IMMEDIATELY, OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder

from pmmtalk_live.animators import make_live_animator
from pmmtalk_live.audio.sources import open_source
from pmmtalk_live.config import Destination, ServeConfig
from pmmtalk_live.control.remote import MAX_LIVELINK_ADDRESSES
from pmmtalk_live.retarget.preset import SHIPPED_PRESETS_DIR, load_preset
from pmmtalk_live.retarget.watch import PresetWatcher
from pmmtalk_live.serve import ServeSession
from pmmtalk_live.sinks.csv_take import read_take
from pmmtalk_live.sinks.livelinkface import LiveLinkFaceSink
from pmmtalk_live.sinks.outputs import Outputs
from pmmtalk_live.stream.engine import Engine

from .conftest import EXAMPLE_WAV
from .test_serve import CLI, osc_frames, osc_names
from .wire import Collector, decode_live_link_face


class Session:
    """A ServeSession on the looping example, in a thread, with its control port on an ephemeral port."""

    def __init__(self, tmp_path, **settings):
        self.osc = Collector()
        self.livelink = Collector()
        config = ServeConfig(input=str(EXAMPLE_WAV), loop=True, osc=[Destination("127.0.0.1", self.osc.port)],
                             livelink=[Destination("127.0.0.1", self.livelink.port)],
                             control=Destination("127.0.0.1", 0), takes_dir=str(tmp_path / "takes"),
                             quiet=True, **settings)
        self.session = ServeSession(config)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.session.run, args=(self.stop,), daemon=True)
        self.thread.start()
        self.replies = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.replies.bind(("127.0.0.1", 0))
        self.replies.settimeout(10)
        self.control_address = self.session.control.address

    def send(self, address: str, *args) -> None:
        builder = OscMessageBuilder(address)
        for arg in args:
            builder.add_arg(arg)
        self.replies.sendto(builder.build().dgram, self.control_address)

    def reply(self) -> PyOscMessage:
        return PyOscMessage(self.replies.recv(8192))

    def sync(self) -> None:
        """Wait until every command sent so far has been carried out: the control thread takes them in
        order, so the answer to a query sent now comes after them."""
        self.send("/BatteryQuery")
        assert self.reply().address == "/Battery"

    def frames_after(self, collector: Collector, count: int) -> None:
        """Wait until ``count`` more OSC frames have arrived: the daemon's own clock."""
        have = len(osc_frames(self.osc.payloads()))
        assert self.osc.wait_for(lambda p: len(osc_frames(p)) >= have + count, 20)

    def close(self) -> None:
        self.stop.set()
        self.thread.join(20)
        self.session.close()
        self.osc.close()
        self.livelink.close()
        self.replies.close()


@pytest.fixture
def session(tmp_path):
    s = Session(tmp_path)
    yield s
    s.close()


def test_recording_commands_and_replies(session, tmp_path):
    session.send("/OSCSetSendTarget", "127.0.0.1", session.replies.getsockname()[1])
    session.send("/Slate", "scene5")
    session.send("/Take", 7)
    session.send("/RecordStart")
    start = session.reply()
    assert start.address == "/RecordStartConfirm" and len(start.params[0]) == len("12:34:56:12.345")
    session.frames_after(session.osc, 30)
    session.send("/RecordStop")
    stop = session.reply()
    assert stop.address == "/RecordStopConfirm"
    timecode, csv_path, wav_path = stop.params
    assert csv_path.endswith("takes/scene5_7_pmmtalk_raw.csv") and wav_path.endswith("scene5_7_pmmtalk.wav")
    take = read_take(csv_path)
    assert take.num_frames >= 30
    assert take.timecodes_s[-1] >= take.timecodes_s[0]

    session.send("/RecordStart", "../evil", 1)
    error = session.reply()
    assert error.address == "/Error" and not list((tmp_path).glob("**/evil*"))
    session.send("/RecordStop")
    assert session.reply().address == "/Error"  # not recording


def test_streaming_commands(session):
    other = Collector()
    try:
        session.send("/LiveLinkSubject", "Bob")
        assert session.livelink.wait_for(lambda p: p and decode_live_link_face(p[-1]).subject == "Bob", 10)
        assert session.osc.wait_for(lambda p: osc_frames(p) and osc_frames(p)[-1][1][1] == "Bob", 10)

        session.send("/AddLiveLinkAddress", "127.0.0.1", other.port)
        assert other.wait_for(lambda p: len(p) >= 10, 10)
        session.send("/ClearAllLiveLinkAddresses")  # the added address only: the command line's stays
        session.sync()
        session.frames_after(session.osc, 2)  # a frame that was being sent meanwhile has arrived
        count, kept = len(other.payloads()), len(session.livelink.payloads())
        session.frames_after(session.osc, 30)
        assert len(other.payloads()) == count
        assert session.livelink.wait_for(lambda p: len(p) >= kept + 20, 10)

        session.send("/LiveLinkStreamStop")
        session.sync()
        quiet_from = len(session.osc.payloads())
        assert not session.osc.wait_for(lambda p: len(p) > quiet_from + 2, 0.5)
        session.send("/LiveLinkStreamStart")
        assert session.osc.wait_for(lambda p: len(p) > quiet_from + 30, 10)
    finally:
        other.close()


def test_preset_command_and_garbage(session):
    session.send("/OSCSetSendTarget", "127.0.0.1", session.replies.getsockname()[1])
    session.send("/Preset", "vrm")
    vrm = load_preset("vrm").output_names
    assert session.osc.wait_for(lambda p: any(tuple(a[8:]) == vrm for a in osc_names(p)), 10)
    assert session.osc.wait_for(lambda p: osc_frames(p) and len(osc_frames(p)[-1][1]) == 4 + len(vrm), 10)

    session.send("/Preset", "nosuch")
    error = session.reply()
    assert error.address == "/Error" and "nosuch" in error.params[1]
    for junk in (b"\x00" * 3, b"#bundle\x00garbage", bytes(range(256)) * 40, b"/RecordStart\x00\x00\x00\x00,ii"):
        session.replies.sendto(junk, session.control_address)
    session.send("/RecordStart")
    assert session.reply().address == "/RecordStartConfirm"  # still serving and answering
    assert session.thread.is_alive()


def test_preset_broken_while_serving_keeps_the_old_one(tmp_path):
    preset_path = tmp_path / "mine.yaml"
    shutil.copy(SHIPPED_PRESETS_DIR / "arkit.yaml", preset_path)
    errors = []

    class Catch(logging.Handler):
        def emit(self, record):
            errors.append(record.getMessage())

    handler = Catch(logging.ERROR)
    logging.getLogger("pmmtalk_live").addHandler(handler)
    s = Session(tmp_path, preset=str(preset_path))
    try:
        s.frames_after(s.osc, 10)
        names = osc_frames(s.osc.payloads())[-1][1]
        text = preset_path.read_text()
        preset_path.write_text(text + "\noutputs: [this is not a mapping\n")
        deadline = time.monotonic() + 10
        while not errors and time.monotonic() < deadline:
            s.frames_after(s.osc, 5)
        assert errors and "mine.yaml" in errors[0] and "still using the previous version" in errors[0]
        s.frames_after(s.osc, 10)
        assert len(osc_frames(s.osc.payloads())[-1][1]) == len(names)  # same curves, still streaming

        # fixed again, now with the VRM preset's curves: the reload shows in the names message
        preset_path.write_text((SHIPPED_PRESETS_DIR / "vrm.yaml").read_text())
        vrm = load_preset("vrm").output_names
        assert s.osc.wait_for(lambda p: any(tuple(a[8:]) == vrm for a in osc_names(p)), 10)
    finally:
        s.close()
        logging.getLogger("pmmtalk_live").removeHandler(handler)


class SlowAnimator:
    """The real live animator, made to take 15 ms of wall time per 10 ms hop: a machine too slow for
    the stream, to see the engine skip rather than fall further and further behind."""

    def __init__(self, inner, delay_s: float):
        self.inner, self.delay_s = inner, delay_s
        self.name, self.fps, self.lookahead_s = inner.name, inner.fps, inner.lookahead_s

    def process(self, samples):
        time.sleep(self.delay_s)
        return self.inner.process(samples)

    def skip(self, num_samples):
        return self.inner.skip(num_samples)

    def flush(self):
        return self.inner.flush()


def test_engine_falling_behind_skips_and_counts():
    animator = SlowAnimator(make_live_animator("phonetic", 60, 0.1), delay_s=0.015)
    source = open_source(str(EXAMPLE_WAV), realtime=True)
    with Collector() as osc:
        from pmmtalk_live.sinks.osc import OscSink

        engine = Engine(source, animator, PresetWatcher("arkit"), Outputs([OscSink("127.0.0.1", osc.port)]),
                        max_backlog_ms=100)
        summary = engine.run(threading.Event())
        source.close()
        assert osc.wait_for(lambda p: len(osc_frames(p)) >= summary.frames_sent, 10)
        numbers = [a[3] for _, a in osc_frames(osc.payloads())]
    assert summary.frames_dropped > 0
    assert summary.frames_sent + summary.frames_dropped == len(numbers) + summary.frames_dropped
    assert numbers == sorted(numbers) and len(set(numbers)) == len(numbers)  # increasing, gaps where skipped
    assert numbers[-1] + 1 == summary.frames_sent + summary.frames_dropped
    # bounded: the backlog limit + the look-ahead + a slow hop, not the whole file's worth of delay
    assert summary.latency_max_ms < 100 + 100 + 200
    assert np.isfinite(summary.real_time_factor)


class StallingAnimator(SlowAnimator):
    """The real live animator, stalled once for ``delay_s`` (a machine busy for a moment); counts the
    engine's skips."""

    def __init__(self, inner, delay_s: float, at_hop: int):
        super().__init__(inner, delay_s)
        self.at_hop, self.hops, self.skips = at_hop, 0, []

    def process(self, samples):
        self.hops += 1
        if self.hops == self.at_hop:
            time.sleep(self.delay_s)
        return self.inner.process(samples)

    def skip(self, num_samples):
        self.skips.append(num_samples)
        return self.inner.skip(num_samples)


def test_one_stall_is_one_skip():
    """After a stall the engine skips all the stale audio at once: each skip restarts the animator's
    stream, so one per stale block made a busy machine busier (issue 15: the live model's session)."""
    animator = StallingAnimator(make_live_animator("phonetic", 60, 0.1), delay_s=0.4, at_hop=100)
    source = open_source(str(EXAMPLE_WAV), realtime=True)
    engine = Engine(source, animator, PresetWatcher("arkit"), Outputs([]), max_backlog_ms=100)
    summary = engine.run(threading.Event())
    source.close()
    assert summary.frames_dropped > 0
    assert len(animator.skips) == 1, animator.skips
    assert animator.skips[0] >= 0.2 * 16000  # most of the stall's audio, in one go


def test_a_second_record_start_is_refused_and_the_take_goes_on(session, tmp_path):
    """Issue 16.1: /RecordStart during a take (refused for an existing take, or one that would succeed)
    is answered /Error and changes nothing: the take being recorded goes on, /RecordStop closes it."""
    takes = tmp_path / "takes"
    takes.mkdir()
    (takes / "Scene_3_pmmtalk_raw.csv").write_text("Timecode,BlendshapeCount\n")
    session.send("/OSCSetSendTarget", "127.0.0.1", session.replies.getsockname()[1])
    session.send("/RecordStart", "Scene", 10)
    assert session.reply().address == "/RecordStartConfirm"
    session.frames_after(session.osc, 10)

    session.send("/RecordStart", "Scene", 3)  # that take exists
    session.send("/RecordStart")  # would succeed if nothing were recording
    for _ in range(2):
        error = session.reply()
        assert error.address == "/Error" and error.params[0] == "/RecordStart"
        assert "already recording" in error.params[1] and "Scene_10_pmmtalk_raw.csv" in error.params[1]
    session.frames_after(session.osc, 30)
    session.send("/RecordStop")
    stop = session.reply()
    assert stop.address == "/RecordStopConfirm" and stop.params[1].endswith("Scene_10_pmmtalk_raw.csv")
    assert read_take(stop.params[1]).num_frames >= 10 + 30 - 5  # one take, from before the refusals to the stop
    # (less a few: a frame reaches the sockets just before the recorder, so the stop may beat it)
    assert sorted(p.name for p in takes.glob("*_raw.csv")) == ["Scene_10_pmmtalk_raw.csv", "Scene_3_pmmtalk_raw.csv"]


def test_added_livelink_addresses_are_capped_unique_and_quiet(session, caplog):
    """Issue 16.4 and 16.11: /AddLiveLinkAddress adds at most MAX_LIVELINK_ADDRESSES, refuses an address
    already streamed to, logs a flood a few lines at a time; /ClearAllLiveLinkAddresses removes what
    was added, never the command line's destinations."""
    receivers = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(MAX_LIVELINK_ADDRESSES + 30)]
    try:
        for receiver in receivers:
            receiver.bind(("127.0.0.1", 0))  # ports no other program uses while the test runs
            receiver.settimeout(10)
        ports = [r.getsockname()[1] for r in receivers]
        session.send("/OSCSetSendTarget", "127.0.0.1", session.replies.getsockname()[1])
        session.send("/AddLiveLinkAddress", "127.0.0.1", session.livelink.port)  # the command line's
        error = session.reply()
        assert error.params[0] == "/AddLiveLinkAddress" and "already streaming" in error.params[1]
        caplog.set_level(logging.INFO, logger="pmmtalk_live.control")
        for port in ports[:MAX_LIVELINK_ADDRESSES]:
            session.send("/AddLiveLinkAddress", "127.0.0.1", port)
        session.send("/AddLiveLinkAddress", "127.0.0.1", ports[0])
        error = session.reply()
        assert "already streaming" in error.params[1] and f"127.0.0.1:{ports[0]}" in error.params[1]
        for port in ports[MAX_LIVELINK_ADDRESSES:]:
            session.send("/AddLiveLinkAddress", "127.0.0.1", port)
            error = session.reply()
            assert error.address == "/Error" and f"at most {MAX_LIVELINK_ADDRESSES}" in error.params[1]
        session.sync()
        livelink = [s for s in session.session.outputs.sinks if isinstance(s, LiveLinkFaceSink)]
        assert len(livelink) == 1 + MAX_LIVELINK_ADDRESSES
        control_lines = [r for r in caplog.records if r.name == "pmmtalk_live.control.remote"]
        assert len(control_lines) <= 2 * 10 + 2  # two kinds (carried out, refused), 10 lines each per 10 s

        session.send("/ClearAllLiveLinkAddresses")
        session.sync()
        livelink = [s for s in session.session.outputs.sinks if isinstance(s, LiveLinkFaceSink)]
        assert [s.destination for s in livelink] == [f"127.0.0.1:{session.livelink.port}"]
        session.send("/AddLiveLinkAddress", "127.0.0.1", ports[-1])  # room again after a clear
        session.sync()
        assert receivers[-1].recv(1024)
    finally:
        for receiver in receivers:
            receiver.close()


def test_take_numbers_stay_in_range(session, tmp_path):
    """Issue 16.9: after take 2147483647 (the largest, an OSC int32) no automatic take 2147483648 is
    made: /RecordStart is refused with the way out, and a too-large /Take is refused."""
    session.send("/OSCSetSendTarget", "127.0.0.1", session.replies.getsockname()[1])
    session.send("/Take", 2147483647)
    session.send("/RecordStart")
    assert session.reply().address == "/RecordStartConfirm"
    session.frames_after(session.osc, 5)
    session.send("/RecordStop")
    assert session.reply().params[1].endswith("live_2147483647_pmmtalk_raw.csv")
    session.send("/RecordStart")
    error = session.reply()
    assert error.address == "/Error" and "2147483647" in error.params[1] and "/Take" in error.params[1]
    session.send("/Take", "2147483648")
    assert "not a whole number 0..2147483647" in session.reply().params[1]
    session.send("/RecordStart", "live", 2147483648.0)
    assert session.reply().address == "/Error"
    assert [p.name for p in (tmp_path / "takes").glob("*_raw.csv")] == ["live_2147483647_pmmtalk_raw.csv"]


def test_a_preset_with_other_curves_is_refused_mid_take(session):
    """Issue 16.12: /Preset vrm while an ARKit take records would fill its 61 columns with zeros: it is
    refused with /Error and the take keeps its curves; a preset with the same curves is fine, and after
    /RecordStop the switch works. A /Preset and a /RecordStart in one bundle record the new curves."""
    session.send("/OSCSetSendTarget", "127.0.0.1", session.replies.getsockname()[1])
    session.send("/RecordStart")
    assert session.reply().address == "/RecordStartConfirm"
    session.send("/Preset", "vrm")
    error = session.reply()
    assert error.params[0] == "/Preset" and "recording" in error.params[1] and "/RecordStop" in error.params[1]
    session.send("/Preset", "arkit")  # the same 61 curves: switched without a word
    session.sync()
    session.frames_after(session.osc, 60)
    session.send("/RecordStop")
    take = read_take(session.reply().params[1])
    assert (take.values[-30:] != 0).any(axis=0).sum() > 10  # many curves still move at the end, not zeros
    assert len(osc_frames(session.osc.payloads())[-1][1]) == 4 + 61

    bundle = OscBundleBuilder(IMMEDIATELY)
    preset = OscMessageBuilder("/Preset")
    preset.add_arg("vrm")
    bundle.add_content(preset.build())
    bundle.add_content(OscMessageBuilder("/RecordStart").build())
    session.replies.sendto(bundle.build().dgram, session.control_address)
    assert session.reply().address == "/RecordStartConfirm"
    session.frames_after(session.osc, 30)
    session.send("/RecordStop")
    take = read_take(session.reply().params[1])
    assert take.names[61:] == load_preset("vrm").output_names  # the columns of the preset asked for


def _serve_banner(tmp_path, control: str) -> str:
    """The start-up lines of a short ``serve`` run with ``--control control``."""
    short = tmp_path / "short.wav"
    if not short.exists():
        sf.write(short, sf.read(EXAMPLE_WAV, dtype="float32")[0][:8000], 16000)
    result = subprocess.run([sys.executable, "-m", "pmmtalk_live.cli", "serve", "--input", str(short), "--fast",
                             "--animator", "phonetic", "--no-osc", "--no-livelink", "--control", control, "-q"],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    return result.stderr


def test_control_option_forms_on_the_command_line(tmp_path):
    """Issue 16: --control OFF turns the port off, 127.0.0.1:0 picks a free port and the banner names
    it, a bare port listens on 127.0.0.1; none is open to the network, so none warns."""
    assert "remote control" not in _serve_banner(tmp_path, "OFF")
    banner = _serve_banner(tmp_path, "127.0.0.1:0")
    port = int(re.search(r"remote control: OSC on 127\.0\.0\.1:(\d+)", banner)[1])
    assert port != 0 and "WARNING" not in banner
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert f"remote control: OSC on 127.0.0.1:{free} " in _serve_banner(tmp_path, str(free))


def _message(address: str, *args) -> bytes:
    builder = OscMessageBuilder(address=address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


def test_a_control_flood_under_a_low_descriptor_limit(tmp_path):
    """Fault injection (issue 16): a `serve` process limited to 64 file descriptors gets 1,500
    /AddLiveLinkAddress commands (all different, then repeats) and 1,500 garbage datagrams on its
    control port. It opens at most MAX_LIVELINK_ADDRESSES sockets, keeps streaming, still records a take
    when asked, and its log stays short. Before the cap, each command opened a socket and the take
    failed for want of a descriptor."""
    import resource

    def limit_descriptors():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    takes, log_path = tmp_path / "takes", tmp_path / "serve.log"
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        probe.bind(("127.0.0.1", 0))
        control_port = probe.getsockname()[1]
    with Collector() as osc, Collector() as replies, log_path.open("w") as log:
        daemon = subprocess.Popen(CLI + ["serve", "--input", str(EXAMPLE_WAV), "--loop", "--animator", "phonetic",
                                         "--osc", osc.address, "--no-livelink", "--quiet",
                                         "--control", f"127.0.0.1:{control_port}", "--takes-dir", str(takes)],
                                  stderr=log, text=True, preexec_fn=limit_descriptors)
        try:
            assert osc.wait_for(lambda p: len(osc_frames(p)) >= 20, 30), log_path.read_text()
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                sender.bind(("127.0.0.1", 0))
                target = ("127.0.0.1", control_port)
                sender.sendto(_message("/OSCSetSendTarget", "127.0.0.1", replies.port), target)
                for i in range(1500):
                    sender.sendto(_message("/AddLiveLinkAddress", "127.0.0.1", 20000 + i % 1000), target)
                    sender.sendto(bytes([i % 256]) * (1 + i % 97) if i % 2 else b"/RecordStart\0\0\0\0,ii\0", target)
                    if i % 100 == 0:
                        time.sleep(0.01)  # a flood, but one the kernel's buffer can carry
                have = len(osc_frames(osc.payloads()))
                assert osc.wait_for(lambda p: len(osc_frames(p)) >= have + 60, 30)  # streaming goes on
                open_fds = len(list(Path(f"/proc/{daemon.pid}/fd").iterdir()))
                assert open_fds < 64 - 8, open_fds
                sender.sendto(_message("/RecordStart", "flood", 1), target)
                assert replies.wait_for(lambda p: any(b"/RecordStartConfirm" in d for d in p), 20)
                have = len(osc_frames(osc.payloads()))
                assert osc.wait_for(lambda p: len(osc_frames(p)) >= have + 30, 30)
                sender.sendto(_message("/RecordStop"), target)
                assert replies.wait_for(lambda p: any(b"/RecordStopConfirm" in d for d in p), 20)
            daemon.send_signal(signal.SIGINT)
            assert daemon.wait(30) == 0, log_path.read_text()[-2000:]
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait(10)
    text = log_path.read_text()
    assert len(text.splitlines()) < 100, text[-3000:]  # throttled: not one line per datagram (3,000)
    (take,) = takes.glob("flood_1_*_raw.csv")
    assert len(read_take(take).values) >= 30


def test_emotion_command_smiles_the_live_face(tmp_path):
    """``/Emotion happy 1`` on the control port: the Live Link Face packets' smile rises within the
    blend time; ``/Emotion neutral`` takes it back."""
    from pmmtalk_live import rig

    session = Session(tmp_path)
    smile = rig.LIVE_LINK_FACE_NAMES.index("MouthSmileLeft")
    try:
        assert session.livelink.wait_for(lambda p: len(p) >= 30, 20)
        assert decode_live_link_face(session.livelink.payloads()[-1]).values[smile] < 0.2
        session.send("/Emotion", "happy", 1.0)
        assert session.livelink.wait_for(lambda p: decode_live_link_face(p[-1]).values[smile] > 0.6, 10)
        session.send("/Emotion", "neutral")
        assert session.livelink.wait_for(lambda p: decode_live_link_face(p[-1]).values[smile] < 0.2, 10)
    finally:
        session.close()
