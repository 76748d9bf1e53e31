"""The virtual microphone: a private PulseAudio daemon, reached by other processes through ``env``,
hearing what ``feed`` writes at real-time pace."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time

import numpy as np
import pytest

from pmmtalk_live.audio.files import read_audio
from pmmtalk_live.testing.virtual_mic import VirtualMicrophone, VirtualMicrophoneError
from tests.conftest import EXAMPLE_WAV, REPO

needs_pulseaudio = pytest.mark.skipif(not VirtualMicrophone.available(),
                                      reason="the pulseaudio binary is not installed (scripts/setup.sh installs it)")


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return read_audio(EXAMPLE_WAV).samples


def as_s16(samples: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(samples, np.float64) * 32768).astype("<i2")


def record_with_parec(mic: VirtualMicrophone):
    """PulseAudio's own recorder in another process, given only ``mic.env``: raw s16le 16 kHz mono."""
    if shutil.which("parec") is None:
        pytest.skip("parec (pulseaudio-utils) is not installed")
    return subprocess.Popen(["parec", "--format=s16le", "--rate=16000", "--channels=1", "--latency-msec=20"],
                            env={**os.environ, **mic.env}, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def recorded_until(recorder, pcm: np.ndarray, timeout_s: float = 30.0) -> bytes:
    """Read the recorder's output until ``pcm`` (int16) has gone by; returns everything read."""
    data = b""
    deadline = time.monotonic() + timeout_s
    target = pcm.tobytes()
    while target not in data:
        assert time.monotonic() < deadline, f"the recording never held the fed audio ({len(data)} bytes read)"
        data += os.read(recorder.stdout.fileno(), 65536)
    return data


@needs_pulseaudio
def test_start_stop_leave_nothing_behind():
    saved = os.environ.get("PULSE_SERVER")
    mic = VirtualMicrophone()
    mic.start()
    daemon = mic._daemon
    folder = mic.folder
    assert mic.running and os.path.exists(mic.socket_path) and os.path.exists(mic.fifo_path)
    assert mic.env["PULSE_SERVER"] == f"unix:{mic.socket_path}" and mic.device == "pulse"
    mic.activate(reinitialize=False)
    assert os.environ["PULSE_SERVER"] == mic.env["PULSE_SERVER"]
    mic.stop()
    mic.stop()
    assert daemon.poll() is not None and not os.path.exists(folder) and not mic.running
    assert os.environ.get("PULSE_SERVER") == saved


def test_missing_pulseaudio_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(VirtualMicrophoneError, match="pulseaudio is not installed"):
        VirtualMicrophone().start()


def test_a_daemon_that_fails_to_start_reports_its_last_words(tmp_path, monkeypatch):
    fake = tmp_path / "pulseaudio"
    fake.write_text("#!/bin/sh\necho 'E: [pulseaudio] main.c: Daemon startup failed.' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    mic = VirtualMicrophone()
    with pytest.raises(VirtualMicrophoneError, match=r"exited with status 1: E: \[pulseaudio\] main.c: Daemon startup"):
        mic.start()
    mic.stop()


@needs_pulseaudio
def test_another_process_records_the_fed_audio_bit_exact_at_real_time_pace(speech):
    take = speech[:2 * 16000]
    with VirtualMicrophone() as mic:
        recorder = record_with_parec(mic)
        try:
            os.read(recorder.stdout.fileno(), 1)  # recording: silence flows
            started_s = time.monotonic()
            writes = mic.feed(take)
            assert mic.wait_fed(timeout_s=30)
            fed_s = time.monotonic() - started_s
            recorded_until(recorder, as_s16(take))
        finally:
            recorder.kill()
            recorder.wait()
    assert [first for first, _ in writes] == list(range(0, len(take), 320))
    intervals_ms = np.diff([t for _, t in writes]) * 1000
    assert 18 < np.median(intervals_ms) < 22
    assert 1.8 < fed_s < 4.0, f"2 s of audio fed in {fed_s:.2f} s"


@needs_pulseaudio
def test_feeding_as_fast_as_possible(speech):
    take = speech[:3 * 16000]
    with VirtualMicrophone() as mic:
        recorder = record_with_parec(mic)
        try:
            os.read(recorder.stdout.fileno(), 1)
            started_s = time.monotonic()
            writes = mic.feed(take, realtime=False)
            recorded_until(recorder, as_s16(take))
            assert mic.wait_fed(timeout_s=30)
            assert time.monotonic() - started_s < 2.5
        finally:
            recorder.kill()
            recorder.wait()
    assert writes[0][0] == 0 and writes[-1][0] < len(take)


@needs_pulseaudio
def test_what_is_said_while_nobody_records_is_lost_not_queued(speech):
    """The pipe source reads only while someone records: the feeder keeps at most a few chunks in the
    FIFO, so a recorder that starts later does not get stale speech."""
    take = speech[:16000]
    with VirtualMicrophone() as mic:
        writes = mic.feed(take)
        assert mic.wait_fed(timeout_s=30)
    assert len(writes) <= 10 < len(take) // 320


@needs_pulseaudio
def test_a_microphone_source_in_another_process_given_env(speech):
    """What a benchmark does: ``pmmtalk_live`` in a fresh process, the env merged in, ``--device pulse``."""
    script = ("import sys\n"
              "from pmmtalk_live.audio.sources import open_source\n"
              "s = open_source('mic', device=sys.argv[1])\n"
              "s.start()\n"
              "n = 0\n"
              "while n < 8000:\n"
              "    b = s.read(2.0)\n"
              "    assert b is not None, 'no audio'\n"
              "    n += len(b.samples)\n"
              "s.close()\n"
              "print(s.description)\n")
    with VirtualMicrophone() as mic:
        result = subprocess.run([sys.executable, "-c", script, mic.device], env={**os.environ, **mic.env},
                                capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "microphone 'pulse' (ALSA) at 16000 Hz, mono"
