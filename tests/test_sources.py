"""Live audio sources: a real microphone stream through the virtual microphone (a private PulseAudio
daemon), files at real-time pace and as fast as possible, raw PCM through real pipes."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
import soundfile as sf

from pmmtalk_live.audio.files import read_audio
from pmmtalk_live.audio.resample import resample
from pmmtalk_live.audio.sources import (Microphone, format_devices, list_input_devices, open_source)
from pmmtalk_live.errors import AudioInputError
from pmmtalk_live.tracks import SAMPLE_RATE_HZ
from tests.conftest import EXAMPLE_WAV, REPO

SR = SAMPLE_RATE_HZ


def read_blocks(source, *, until, timeout_s: float = 30.0) -> list:
    """Blocks from ``source`` until ``until(blocks)`` holds or the source finishes (fails after timeout_s)."""
    blocks = []
    deadline = time.monotonic() + timeout_s
    while not until(blocks):
        assert time.monotonic() < deadline, f"gave up after {timeout_s} s with {len(blocks)} blocks"
        block = source.read(0.2)
        if block is not None:
            blocks.append(block)
        elif source.finished:
            break
    return blocks


def read_all(source, timeout_s: float = 30.0) -> list:
    return read_blocks(source, until=lambda blocks: False, timeout_s=timeout_s)


def joined(blocks) -> np.ndarray:
    return np.concatenate([b.samples for b in blocks]) if blocks else np.zeros(0, np.float32)


def assert_contiguous(blocks) -> None:
    starts = np.array([b.start_sample for b in blocks])
    ends = np.array([b.end_sample for b in blocks])
    assert np.array_equal(starts[1:], ends[:-1]), "start_sample has a gap or an overlap"


def as_s16(samples: np.ndarray) -> np.ndarray:
    return np.round(np.asarray(samples, np.float64) * 32768).astype(np.int64)


def find(needle: np.ndarray, haystack: np.ndarray) -> int:
    """Index in ``haystack`` where ``needle`` fits best (FFT cross-correlation)."""
    size = 1 << int(np.ceil(np.log2(len(haystack) + len(needle))))
    corr = np.fft.irfft(np.fft.rfft(haystack, size) * np.conj(np.fft.rfft(needle, size)), size)
    return int(np.argmax(corr[:len(haystack) - len(needle) + 1]))


@pytest.fixture(scope="module")
def example() -> np.ndarray:
    return read_audio(EXAMPLE_WAV).samples


# --- the microphone, through the virtual microphone -----------------------------------------------------

@pytest.fixture(scope="module")
def vmic():
    from pmmtalk_live.testing.virtual_mic import VirtualMicrophone

    if not VirtualMicrophone.available():
        pytest.skip("the pulseaudio binary is not installed (scripts/setup.sh installs it)")
    with VirtualMicrophone() as mic:
        mic.activate()
        yield mic


def capture_take(source, vmic, take: np.ndarray, *, lead_s: float = 0.2, tail_s: float = 0.3):
    """Blocks from a started ``source`` while ``take`` is said into ``vmic``; returns (blocks, writes)."""
    lead = read_blocks(source, until=lambda b: sum(len(x.samples) for x in b) >= lead_s * SR)  # the stream runs
    writes = vmic.feed(take)
    blocks = read_blocks(source, until=lambda b: vmic.wait_fed(0) and sum(len(x.samples) for x in b)
                         >= len(take) + tail_s * SR)
    return lead + blocks, writes


def test_microphone_hears_the_fed_speech_bit_exact_with_real_time_capture_times(vmic, example):
    take = example[:3 * SR]
    with open_source("mic", device=vmic.device) as mic:
        assert mic.realtime and not mic.finished
        assert "'pulse'" in mic.description and "16000 Hz" in mic.description
        mic.start()
        blocks, writes = capture_take(mic, vmic, take)
    assert mic.finished  # closed
    assert_contiguous(blocks)
    heard = joined(blocks)
    at = find(take, heard)
    assert np.array_equal(as_s16(heard[at:at + len(take)]), as_s16(take)), "not what was said into the microphone"
    assert mic.samples_lost == 0 and mic.reconnects == 0

    # Capture times: never back, advancing at the audio's pace, and close to when the speech went in
    # (a chunk written at t holds the 20 ms up to t, as a real microphone would have).
    captures = np.array([b.capture_time_s for b in blocks])
    assert np.all(np.diff(captures) >= 0)
    span_s = captures[-1] - captures[0]
    audio_s = (blocks[-1].start_sample - blocks[0].start_sample) / SR
    assert abs(span_s - audio_s) < 0.05 * audio_s
    starts = np.array([b.start_sample for b in blocks])
    errors_ms = []
    for take_sample, written_s in writes:
        stream_sample = blocks[0].start_sample + at + take_sample
        capture_s = np.interp(stream_sample, starts, captures)
        errors_ms.append((capture_s - (written_s - 0.020)) * 1000)
    assert len(writes) == len(take) // 320
    # Quiet machine: under 1 ms. A loaded one delays the feeder's writes (each is then later than the
    # audio it carries) and the callbacks, by up to a chunk or two: the bound allows for that.
    assert abs(np.median(errors_ms)) < 45, f"capture times off by {np.median(errors_ms):.1f} ms"


def test_microphone_at_another_rate_is_resampled_to_16k(vmic, example):
    take = example[:2 * SR]
    with Microphone(vmic.device, rate_hz=44100) as mic:
        assert mic.rate_hz == 44100 and "44100 Hz" in mic.description and "-> 16 kHz mono" in mic.description
        mic.start()
        blocks, _ = capture_take(mic, vmic, take)
    assert_contiguous(blocks)
    heard = joined(blocks)
    at = find(take, heard)
    assert np.corrcoef(heard[at:at + len(take)], take)[0, 1] > 0.99
    assert np.all(np.diff([b.capture_time_s for b in blocks]) >= 0)


def test_device_listing_and_choice_by_name_or_index(vmic):
    devices = list_input_devices()
    pulse = next(d for d in devices if d.name == "pulse")
    assert pulse.max_input_channels >= 1 and pulse.default_sample_rate_hz > 0 and pulse.host_api == "ALSA"
    assert sum(d.is_default for d in devices) <= 1
    text = format_devices()
    assert "pulse" in text and str(pulse.index) in text
    by_index = Microphone(pulse.index)
    by_name = Microphone("PULS")  # any part, any case
    by_digits = Microphone(str(pulse.index))
    assert by_index.device == by_name.device == by_digits.device == pulse
    for mic in (by_index, by_name, by_digits):
        mic.close()


@pytest.mark.parametrize("device, fragments", [
    ("no such microphone", ["no input device matches 'no such microphone'", "'pulse'"]),
    (999, ["no input device with index 999", "'pulse'"]),
])
def test_a_device_that_is_not_there_is_one_clear_line(vmic, device, fragments):
    with pytest.raises(AudioInputError) as error:
        open_source("mic", device=device)
    message = str(error.value)
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message


def test_a_device_that_refuses_the_settings_is_one_clear_line(vmic):
    with pytest.raises(AudioInputError, match=r"^microphone 'pulse' \(ALSA\) refuses float32 input at 7 Hz"):
        Microphone(vmic.device, rate_hz=7)


def test_no_input_devices_says_so_and_names_the_devices_command(tmp_path):
    """A process that reaches no PulseAudio server (and, on this machine, no sound card) sees no inputs."""
    script = ("from pmmtalk_live.audio.sources import format_devices, open_source\n"
              "from pmmtalk_live.errors import AudioInputError\n"
              "print(format_devices())\n"
              "try:\n    open_source('mic')\nexcept AudioInputError as error:\n    print('error:', error)\n")
    env = {**os.environ, "PULSE_SERVER": f"unix:{tmp_path}/nothing-here", "HOME": str(tmp_path),
           "XDG_RUNTIME_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=60,
                            cwd=REPO)
    assert result.returncode == 0, result.stderr
    if "audio inputs (PortAudio)" in result.stdout:
        pytest.skip("this machine has a sound card: PortAudio lists inputs without PulseAudio")
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("no audio input devices")
    assert lines[1].startswith("error: no audio input devices") and "`pmmtalk-live devices`" in lines[1]


def test_microphone_survives_its_device_vanishing_and_continues_on_the_wall_clock(vmic, example, caplog):
    """The PulseAudio daemon is killed under a running stream and started again a while later: the
    source logs, retries about once a second, comes back, and the lost time is a gap in start_sample."""
    caplog.set_level(logging.INFO, logger="pmmtalk_live.audio.microphone")
    take = example[:SR]
    mic = Microphone(vmic.device)
    try:
        mic.start()
        before = read_blocks(mic, until=lambda b: sum(len(x.samples) for x in b) >= 0.3 * SR)
        vmic.kill()
        killed_s = time.monotonic()
        during = read_blocks(mic, until=lambda b: mic.reconnect_attempts >= 2)
        assert mic.reconnects == 0 and not mic.finished
        vmic.start()  # a new daemon at the same address
        blocks, _ = capture_take(mic, vmic, take)
        back_s = time.monotonic()
    finally:
        mic.close()
    assert mic.reconnects == 1 and mic.reconnect_attempts >= 3
    messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert any("went away" in m for m in messages)
    assert any("reconnect attempt 1" in m for m in messages) and any("reconnect attempt 2" in m for m in messages)
    assert any("is back" in m for m in messages)

    timeline = before + during + blocks
    jumps = [(b.start_sample - a.end_sample) for a, b in zip(timeline, timeline[1:]) if b.start_sample != a.end_sample]
    assert len(jumps) == 1 and jumps[0] > 0, jumps
    gap_s = jumps[0] / SR
    assert 1.5 < gap_s < back_s - killed_s, f"gap {gap_s:.2f} s"  # at least the two failed attempts
    assert mic.samples_lost == jumps[0]
    heard = joined(blocks)
    at = find(take, heard)
    assert np.array_equal(as_s16(heard[at:at + len(take)]), as_s16(take))


# --- files ------------------------------------------------------------------------------------------------

def test_file_at_real_time_pace(tmp_path, example):
    path = tmp_path / "one_second.wav"
    sf.write(path, example[:SR], SR, subtype="PCM_16")
    source = open_source(path, realtime=True, block_ms=10)
    assert source.realtime and "real-time pace" in source.description
    started_s = time.monotonic()
    source.start()
    blocks = []
    late_s = []
    while (block := source.read(1.0)) is not None:
        blocks.append(block)
        late_s.append(time.monotonic() - (block.capture_time_s + len(block.samples) / SR))
    elapsed_s = time.monotonic() - started_s
    source.close()
    assert source.finished
    assert 0.9 < elapsed_s < 3.0, f"1 s of audio took {elapsed_s:.2f} s"
    assert len(blocks) == 100 and all(len(b.samples) == 160 for b in blocks)
    assert_contiguous(blocks)
    assert np.array_equal(joined(blocks), read_audio(path).samples)
    captures = np.array([b.capture_time_s for b in blocks])
    assert np.allclose(np.diff(captures), 0.010)  # when each block's first sample was due
    assert min(late_s) > -0.002, "a block came before its last sample was due"


def test_file_as_fast_as_possible_any_rate_and_channels(tmp_path, example):
    """44.1 kHz stereo in, the same 16 kHz mono as read_audio out, much faster than real time, nothing
    lost while the engine is slow (the reader waits)."""
    seconds = 4
    t = np.arange(seconds * 44100) / 44100
    left = np.interp(t, np.arange(len(example)) / SR, example).astype(np.float32)
    right = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    path = tmp_path / "stereo.flac"
    sf.write(path, np.stack([left, right], axis=1), 44100, subtype="PCM_24")
    source = open_source(path, realtime=False)
    assert not source.realtime and "44100 Hz, 2 ch -> 16 kHz mono" in source.description
    started_s = time.monotonic()
    source.start()
    first = source.read(5.0)
    threading.Event().wait(0.3)  # an engine busy for a while: the reader must wait, not drop
    blocks = [first] + read_all(source)
    elapsed_s = time.monotonic() - started_s
    assert source.finished and source.read(0.0) is None
    assert elapsed_s < seconds / 2
    assert_contiguous(blocks)
    assert source.samples_lost == 0 and source.overflows == 0
    assert np.array_equal(joined(blocks), read_audio(path).samples)


def test_a_real_time_file_the_engine_does_not_read_drops_blocks_and_says_so(tmp_path, example, monkeypatch):
    monkeypatch.setattr("pmmtalk_live.audio.blocks.REALTIME_QUEUE_S", 0.05)  # 5 blocks of 10 ms
    path = tmp_path / "half_second.wav"
    sf.write(path, example[:SR // 2], SR, subtype="PCM_16")
    with open_source(path, realtime=True) as source:
        source.start()
        threading.Event().wait(0.3)  # the engine stalls for 0.3 s
        blocks = read_all(source)
    assert source.overflows > 0 and source.samples_lost == source.overflows * 160
    jumps = sum(b.start_sample - a.end_sample for a, b in zip(blocks, blocks[1:]))
    assert jumps == source.samples_lost
    assert blocks[-1].end_sample == SR // 2


def test_looped_file_repeats_forever(tmp_path, example):
    path = tmp_path / "short.wav"
    sf.write(path, example[:4000], SR, subtype="PCM_16")
    with open_source(path, realtime=False, loop=True) as source:
        source.start()
        blocks = read_blocks(source, until=lambda b: sum(len(x.samples) for x in b) >= 5 * 4000)
        assert not source.finished
    assert_contiguous(blocks)
    heard = joined(blocks)[:5 * 4000]
    assert np.array_equal(heard, np.tile(read_audio(path).samples, 5))


def test_broken_files_are_one_clear_line(tmp_path):
    (tmp_path / "notes.txt").write_text("not audio at all\n")
    (tmp_path / "empty.wav").write_bytes(b"")
    for name, fragment in [("missing.wav", "no such file"), ("notes.txt", "format not recognised"),
                           ("empty.wav", "is empty")]:
        with pytest.raises(AudioInputError) as error:
            open_source(tmp_path / name)
        message = str(error.value)
        assert message.startswith(str(tmp_path / name)) and fragment in message and "\n" not in message


# --- raw PCM on stdin -------------------------------------------------------------------------------------

WRITER = """
import sys, time
data = open(sys.argv[1], "rb").read()
sizes = [1, 3, 1000, 7, 4093, 2]  # frames split across writes
out, at, i = sys.stdout.buffer, 0, 0
while at < len(data):
    out.write(data[at:at + sizes[i % len(sizes)]]); out.flush()
    at += sizes[i % len(sizes)]; i += 1
"""


def test_raw_pcm_from_a_process_any_rate_and_channels_split_frames_and_eof(tmp_path, example):
    """A writer process sends 44.1 kHz stereo s16le through a pipe in odd-sized writes."""
    t = np.arange(2 * 44100) / 44100
    left = np.interp(t, np.arange(len(example)) / SR, example)
    right = 0.25 * np.sin(2 * np.pi * 300 * t)
    pcm = np.round(np.stack([left, right], axis=1) * 32767).astype("<i2")
    raw = tmp_path / "speech.s16"
    raw.write_bytes(pcm.tobytes())
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(raw)], stdout=subprocess.PIPE)
    try:
        with open_source(writer.stdout, raw_rate_hz=44100, raw_channels=2, raw_format="s16le") as source:
            assert not source.realtime and "44100 Hz, 2 ch" in source.description
            source.start()
            blocks = read_all(source)
            assert source.finished
    finally:
        writer.wait(timeout=30)
        writer.stdout.close()
    assert_contiguous(blocks)
    expected = resample((pcm.astype(np.float64) / 32768).mean(axis=1), 44100, SR)
    heard = joined(blocks)
    assert len(heard) == len(expected)
    assert np.max(np.abs(heard - expected)) < 1e-5
    captures = [b.capture_time_s for b in blocks]
    assert all(a <= b for a, b in zip(captures, captures[1:])) and captures[-1] <= time.monotonic()


def test_raw_pcm_through_a_pipe_with_a_partial_frame_at_eof(example, caplog):
    caplog.set_level(logging.WARNING, logger="pmmtalk_live.audio.sources")
    pcm = np.round(example[:SR] * 32768).clip(-32768, 32767).astype("<i2").tobytes() + b"\x01"
    read_fd, write_fd = os.pipe()
    with os.fdopen(read_fd, "rb", buffering=0) as stream, open_source(stream, block_ms=20) as source:
        source.start()
        with os.fdopen(write_fd, "wb") as writer:
            writer.write(pcm)
        blocks = read_all(source)
    assert source.finished
    assert np.array_equal(joined(blocks), np.frombuffer(pcm[:-1], "<i2") / np.float32(32768))
    assert any("1 trailing bytes ignored" in r.getMessage() for r in caplog.records)


def test_raw_pcm_from_stdin_of_a_real_process(example):
    script = ("from pmmtalk_live.audio.sources import open_source\n"
              "s = open_source('-', raw_format='f32le')\n"
              "s.start()\n"
              "n = 0\n"
              "while not s.finished:\n"
              "    b = s.read(1.0)\n"
              "    n += 0 if b is None else len(b.samples)\n"
              "print(n, s.description)\n")
    result = subprocess.run([sys.executable, "-c", script], input=example[:12345].astype("<f4").tobytes(),
                            capture_output=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr.decode()
    count, description = result.stdout.decode().split(" ", 1)
    assert int(count) == 12345 and description.startswith("stdin: raw f32le at 16000 Hz")


def test_raw_float_pcm_with_nan_fails_with_one_line():
    read_fd, write_fd = os.pipe()
    os.write(write_fd, np.array([0.0, 0.5, np.nan, 0.1], "<f4").tobytes())
    os.close(write_fd)
    with os.fdopen(read_fd, "rb", buffering=0) as stream, open_source(stream, raw_format="f32le") as source:
        source.start()
        with pytest.raises(AudioInputError, match="NaN or infinite samples"):
            read_all(source)
        assert source.finished


@pytest.mark.parametrize("layout, fragment", [({"raw_format": "mp3"}, "is not one of s16le, s32le, f32le"),
                                              ({"raw_rate_hz": 0}, "rate"), ({"raw_channels": 0}, "channels")])
def test_bad_raw_layout_is_refused(layout, fragment):
    with pytest.raises(AudioInputError, match=fragment):
        open_source(io.BytesIO(b""), **layout)


def test_close_stops_a_reader_waiting_for_input():
    read_fd, write_fd = os.pipe()
    try:
        with os.fdopen(read_fd, "rb", buffering=0) as stream:
            source = open_source(stream)
            source.start()
            assert source.read(0.1) is None and not source.finished  # nothing written yet
            source.close()
            source.close()
            assert not source._thread.is_alive() and source.finished
    finally:
        os.close(write_fd)
