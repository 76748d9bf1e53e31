"""``pmmtalk-live serve`` end to end: real processes, real UDP receivers on loopback decoding with
``tests/wire.py`` (written from the specs, not the sender's code), real takes on disk."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from pythonosc.osc_message_builder import OscMessageBuilder

from pmmtalk_live.retarget.preset import load_preset
from pmmtalk_live.sinks.csv_take import read_take
from pmmtalk_live.timecode import time_of_day_s
from pmmtalk_live.tracks import num_frames_for

from .conftest import EXAMPLE_WAV, REPO
from .wire import Collector, OscBundle, OscMessage, decode_live_link_face, decode_osc, ntp_to_unix

FPS = 60
CLI = [sys.executable, "-m", "pmmtalk_live.cli"]


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """The first 3 s of the bundled example."""
    audio, rate = sf.read(EXAMPLE_WAV, dtype="float32")
    path = tmp_path_factory.mktemp("clip") / "clip.wav"
    sf.write(path, audio[: 3 * rate], rate)
    return path


def osc_frames(payloads: list[bytes]) -> list[tuple[float, list]]:
    """(timetag as Unix time, message args) of every /pmmtalk/frame, in arrival order."""
    frames = []
    for data in payloads:
        packet = decode_osc(data)
        if isinstance(packet, OscBundle):
            for message in packet.elements:
                if message.address == "/pmmtalk/frame":
                    frames.append((float(ntp_to_unix(packet.timetag)), message.args))
    return frames


def osc_names(payloads: list[bytes]) -> list[list]:
    return [m.args for m in map(decode_osc, payloads) if isinstance(m, OscMessage) and m.address == "/pmmtalk/names"]


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run_cli(*args, timeout=120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(CLI + list(args), capture_output=True, text=True, timeout=timeout, cwd=REPO, **kwargs)


def test_every_packet_kind_and_the_take(clip, tmp_path):
    """A 3 s file at real-time pace: OSC names and frames, Live Link Face packets and the CSV take
    agree on names, values, frame numbers and timecode."""
    with Collector() as osc, Collector() as livelink:
        result = run_cli("serve", "--input", str(clip), "--osc", osc.address, "--livelink", livelink.address,
                         "--record", str(tmp_path), "--subject", "Ada", "--control", "off", "--preset", "metahuman")
        assert result.returncode == 0, result.stderr
        assert f"takes: {tmp_path} (recording from the start)" in result.stderr.splitlines()
        expected_frames = num_frames_for(3.0, FPS)
        assert osc.wait_for(lambda p: len(osc_frames(p)) >= expected_frames, 10)
        assert livelink.wait_for(lambda p: len(p) >= expected_frames, 10)
        osc_payloads, ll_payloads = osc.payloads(), livelink.payloads()

    assert max(map(len, osc_payloads + ll_payloads)) <= 1472
    names = load_preset("metahuman").output_names
    announced = osc_names(osc_payloads)
    assert announced, "no names message"
    version, subject, schema, fps, total, part, parts, first, *announced_names = announced[0]
    assert (subject, fps, total, part, parts, first) == ("Ada", FPS, len(names), 0, 1, 0)
    assert tuple(announced_names) == names
    assert schema == zlib.crc32("\n".join(names).encode()) & 0x7FFFFFFF
    first_frame_at = next(i for i, d in enumerate(osc_payloads) if isinstance(decode_osc(d), OscBundle))
    first_names_at = next(i for i, d in enumerate(osc_payloads) if isinstance(decode_osc(d), OscMessage))
    assert first_names_at < first_frame_at, "names must come before the first frame"

    frames = osc_frames(osc_payloads)
    numbers = [args[3] for _, args in frames]
    assert numbers == list(range(expected_frames))
    assert all(args[1] == "Ada" and args[2] == schema for _, args in frames)
    timetags = np.array([t for t, _ in frames])
    np.testing.assert_allclose(np.diff(timetags), 1 / FPS, atol=1e-3)  # capture times of a paced file
    assert abs(timetags[-1] - time.time()) < 30
    values = np.array([args[4:] for _, args in frames], np.float32)
    assert values.shape == (expected_frames, len(names))
    assert values[:, names.index("JawOpen")].max() > 0.2  # the example is speech: the jaw opens

    packets = [decode_live_link_face(d) for d in ll_payloads]
    assert {p.subject for p in packets} == {"Ada"} and len({p.device_id for p in packets}) == 1
    assert all(p.blendshape_count == 61 and (p.rate_numerator, p.rate_denominator) == (60, 1) for p in packets)
    from pmmtalk_live.rig import LIVE_LINK_FACE_NAMES
    jaw = LIVE_LINK_FACE_NAMES.index("JawOpen")
    np.testing.assert_allclose([p.values[jaw] for p in packets], values[:, names.index("JawOpen")], atol=1e-6)
    frame_of_day = [(p.frame_number + p.sub_frame) / FPS for p in packets]
    np.testing.assert_allclose(frame_of_day, [time_of_day_s(t) for t in timetags], atol=2e-3)

    take = read_take(next(tmp_path.glob("*_raw.csv")))
    assert take.path.name == "live_1_Ada_raw.csv" and take.num_frames == expected_frames
    np.testing.assert_allclose(take.column("JawOpen"), values[:, names.index("JawOpen")], atol=1e-6)
    np.testing.assert_allclose(take.timecodes_s, [time_of_day_s(t) for t in timetags], atol=2e-3)
    recorded, rate = sf.read(tmp_path / "live_1_Ada.wav", dtype="float32")
    original, _ = sf.read(clip, dtype="float32")
    assert rate == 16000 and len(recorded) == len(original)
    np.testing.assert_allclose(recorded, original, atol=2 / 32768)


def test_stdin_raw_pcm_as_fast_as_it_comes(clip):
    audio, _ = sf.read(clip, dtype="float32")
    pcm = (audio * 32767).astype("<i2").tobytes()
    with Collector() as osc:
        result = subprocess.run(CLI + ["serve", "--input", "-", "--osc", osc.address, "--control", "off", "--quiet"],
                                input=pcm, capture_output=True, timeout=120, cwd=REPO)
        assert result.returncode == 0, result.stderr.decode()
        expected = num_frames_for(len(audio) / 16000, FPS)
        assert osc.wait_for(lambda p: len(osc_frames(p)) >= expected, 10)
        assert [a[3] for _, a in osc_frames(osc.payloads())] == list(range(expected))


def test_kill_9_mid_take_keeps_every_frame_but_the_last_200_ms(tmp_path):
    with Collector() as osc:
        daemon = subprocess.Popen(CLI + ["serve", "--input", str(EXAMPLE_WAV), "--loop", "--osc", osc.address,
                                         "--livelink", f"127.0.0.1:{free_udp_port()}",  # nobody listening
                                         "--record", str(tmp_path), "--control", "off", "--quiet"],
                                  cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            assert osc.wait_for(lambda p: len(osc_frames(p)) >= 150, 60), "no frames"
            killed_at = time.monotonic()
            daemon.send_signal(signal.SIGKILL)
            daemon.wait(10)
        finally:
            if daemon.poll() is None:
                daemon.kill()
        sent = [(arrived, decode_osc(data)) for arrived, data in osc.datagrams]
    before = [b.elements[0].args[3] for arrived, b in sent
              if isinstance(b, OscBundle) and arrived <= killed_at - 0.2]
    take = read_take(next(tmp_path.glob("*_raw.csv")))  # a valid CSV: the reader checks every row
    rows = take.num_frames
    # every frame sent 200 ms before the kill is a row (a loaded machine may skip frames: in both alike)
    assert before == sorted(before) and rows >= len(before)
    audio, rate = sf.read(tmp_path / "live_1_pmmtalk.wav", dtype="float32")  # the WAV header is valid too
    own, own_rate = sf.read(tmp_path / "live_1_pmmtalk_input.wav", dtype="int16")  # and the input's own
    assert own_rate == 16000 and len(own) >= (rows - 1) * own_rate / FPS
    assert len(audio) >= (rows - 1) * rate / FPS


@pytest.mark.parametrize("args, message", [
    (["--livelink", "nosuch.invalid:11111"], "cannot resolve Live Link host 'nosuch.invalid'"),
    (["--osc", "127.0.0.1:99999"], "port must be a number"),
    (["--config", "/nonexistent/serve.yaml"], "no such config file"),
    (["--input", "/nonexistent.wav"], "nonexistent.wav"),
    (["--preset", "nosuch"], "no preset named 'nosuch'"),
    (["--slate", "../evil", "--record", "takes"], "slate"),
    (["--record", str(EXAMPLE_WAV)], "example.wav is a file; give a folder for takes"),
    (["--record", "/dev/full"], "takes folder /dev/full is not a folder"),
    (["--takes-dir", str(EXAMPLE_WAV / "takes")], "cannot be made: " + str(EXAMPLE_WAV) + " is not a folder"),
    (["--takes-dir", "/proc/takes"], "takes folder /proc/takes cannot be written"),  # found before any /RecordStart
])
def test_bad_settings_are_one_line(args, message, tmp_path):
    result = subprocess.run(CLI + ["serve", "--input", str(EXAMPLE_WAV), "--control", "off", *args],
                            capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("pmmtalk-live: error:") and message in lines[0], result.stderr


def test_control_port_in_use_is_one_line():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        result = run_cli("serve", "--input", str(EXAMPLE_WAV), "--control", f"127.0.0.1:{port}", timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "in use" in result.stderr


def test_microphone_to_udp_through_a_virtual_microphone(tmp_path):
    """Speech said into a PulseAudio virtual microphone comes out as OSC frames with an open jaw, and
    the take's WAV holds what was said."""
    from pmmtalk_live.testing.virtual_mic import VirtualMicrophone

    if not VirtualMicrophone.available():
        pytest.skip("pulseaudio is not installed (scripts/setup.sh installs it)")
    speech, _ = sf.read(EXAMPLE_WAV, dtype="float32")
    speech = speech[: 3 * 16000]
    with VirtualMicrophone() as mic, Collector() as osc:
        daemon = subprocess.Popen(CLI + ["serve", "--input", "mic", "--device", mic.device, "--osc", osc.address,
                                         "--no-livelink", "--record", str(tmp_path), "--control", "off",
                                         "--preset", "arkit", "--quiet"],
                                  cwd=REPO, env={**os.environ, **mic.env}, stderr=subprocess.PIPE, text=True)
        try:
            assert osc.wait_for(lambda p: len(osc_frames(p)) >= 30, 60), "no frames from the microphone"
            silent_until = len(osc_frames(osc.payloads()))
            mic.feed(speech)
            assert mic.wait_fed(30)
            said = len(osc_frames(osc.payloads()))
            assert osc.wait_for(lambda p: len(osc_frames(p)) >= said + 30, 10)  # the look-ahead's frames
            daemon.send_signal(signal.SIGINT)
            _, stderr = daemon.communicate(timeout=30)
        finally:
            if daemon.poll() is None:
                daemon.kill()
    assert daemon.returncode == 0, stderr
    frames = osc_frames(osc.payloads())
    numbers = [a[3] for _, a in frames]
    assert numbers == list(range(len(numbers)))  # no frame dropped
    jaw = np.array([a[4 + load_preset("arkit").output_names.index("JawOpen")] for _, a in frames])
    assert jaw[:silent_until].max() < 0.05 and jaw[silent_until:].max() > 0.3
    assert "0 dropped" in stderr
    recorded, _ = sf.read(tmp_path / "live_1_pmmtalk.wav", dtype="float32")
    own = sf.info(tmp_path / "live_1_pmmtalk_input.wav")  # as PortAudio gave it: the device's rate, float
    assert own.subtype == "FLOAT" and own.frames >= len(recorded) * own.samplerate / 16000 - own.samplerate / 10
    corr = np.correlate(recorded, speech[:16000], mode="valid")
    start = int(np.argmax(corr))
    np.testing.assert_allclose(recorded[start:start + len(speech)], speech, atol=2 / 32768)


def encode_osc(address: str, *args) -> bytes:
    builder = OscMessageBuilder(address)
    for arg in args:
        builder.add_arg(arg)
    return builder.build().dgram


def _file_size_limit(limit_bytes: int):
    """For ``preexec_fn``: the child's files stop growing at ``limit_bytes`` (a full disk, as near as a
    test can make one), and a write past it fails (EFBIG) rather than killing the child."""
    import resource

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit_bytes, limit_bytes))
    return limit


def test_a_full_disk_mid_take_is_reported_and_streaming_goes_on(tmp_path):
    """The file size limit reached mid-take: the controller that started the take gets /Error, the
    Live Link stream goes on, the take is valid up to its last whole row, and serve exits 1 saying so."""
    control_port = free_udp_port()
    with Collector() as livelink, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as controller:
        controller.bind(("127.0.0.1", 0))
        controller.settimeout(20)
        daemon = subprocess.Popen(CLI + ["serve", "--input", str(EXAMPLE_WAV), "--loop", "--no-osc",
                                         "--livelink", livelink.address, "--takes-dir", str(tmp_path),
                                         "--control", f"127.0.0.1:{control_port}", "--animator", "phonetic",
                                         "--quiet"],
                                  cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                  preexec_fn=_file_size_limit(40_000))
        try:
            assert livelink.wait_for(lambda p: len(p) >= 10, 60), "no frames"
            controller.sendto(encode_osc("/RecordStart"), ("127.0.0.1", control_port))
            assert decode_osc(controller.recv(8192)).address == "/RecordStartConfirm"
            error = decode_osc(controller.recv(8192))  # the take fills 40 kB in under a second
            sent_at_error = len(livelink.payloads())
            assert livelink.wait_for(lambda p: len(p) >= sent_at_error + 60, 20), "streaming stopped"
            daemon.send_signal(signal.SIGINT)
            stdout, stderr = daemon.communicate(timeout=30)
        finally:
            if daemon.poll() is None:
                daemon.kill()
    assert error.address == "/Error" and error.args[0] == "/RecordStart", error
    assert "File too large" in error.args[1] and "valid up to there" in error.args[1]
    assert daemon.returncode == 1, stderr
    assert "INCOMPLETE" in stdout
    assert re.search(r"error: take .*live_1_pmmtalk_raw\.csv stopped after \d+ frames, valid up to there: .*"
                     r"File too large", stderr), stderr
    take = read_take(tmp_path / "live_1_pmmtalk_raw.csv")  # every row whole: plot and dataset read it
    rows = int(re.search(r"stopped after (\d+) frames", stderr).group(1))
    assert take.num_frames == rows > 0
    with sf.SoundFile(tmp_path / "live_1_pmmtalk.wav") as wav:
        assert wav.frames > 0


@pytest.mark.parametrize("rate, channels, subtype, peak", [(44100, 2, "FLOAT", 1.5), (48000, 1, "PCM_24", 0.9)])
def test_the_take_keeps_the_input_files_own_audio(tmp_path, rate, channels, subtype, peak):
    """A 44.1 kHz stereo float file louder than full scale, a 48 kHz 24-bit file: <take>_input.wav is
    the file itself, bit for bit (nothing normalised, resampled or mixed), beside the 16 kHz WAV."""
    t = np.arange(int(1.5 * rate)) / rate
    audio = np.stack([peak * np.sin(2 * np.pi * (220 + 110 * c) * t) for c in range(channels)], axis=1)
    sf.write(tmp_path / "in.wav", audio, rate, subtype=subtype)
    result = run_cli("serve", "--input", str(tmp_path / "in.wav"), "--fast", "--record", str(tmp_path / "takes"),
                     "--no-osc", "--no-livelink", "--control", "off", "--animator", "phonetic", "--quiet")
    assert result.returncode == 0, result.stderr
    own = tmp_path / "takes" / "live_1_pmmtalk_input.wav"
    info = sf.info(own)
    assert (info.samplerate, info.channels, info.subtype) == (rate, channels, subtype)
    dtype = "float32" if subtype == "FLOAT" else "int32"
    np.testing.assert_array_equal(sf.read(own, dtype=dtype)[0], sf.read(tmp_path / "in.wav", dtype=dtype)[0])
    assert sf.info(tmp_path / "takes" / "live_1_pmmtalk.wav").samplerate == 16000


def test_the_take_keeps_raw_stdin_pcm_as_it_came(tmp_path):
    frames = np.random.default_rng(0).integers(-2**31, 2**31, (22050, 3), dtype=np.int64).astype("<i4")
    result = subprocess.run(CLI + ["serve", "--input", "-", "--raw-rate", "22050", "--raw-channels", "3",
                                   "--raw-format", "s32le", "--record", str(tmp_path), "--no-osc", "--no-livelink",
                                   "--control", "off", "--animator", "phonetic", "--quiet"],
                            input=frames.tobytes(), capture_output=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr.decode()
    own = tmp_path / "live_1_pmmtalk_input.wav"
    info = sf.info(own)
    assert (info.samplerate, info.channels, info.subtype) == (22050, 3, "PCM_32")
    np.testing.assert_array_equal(sf.read(own, dtype="int32")[0], frames)
