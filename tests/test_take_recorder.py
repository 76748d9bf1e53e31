"""Live takes: rows from the take's first frame, the WAV from the same instant, names by column."""

import numpy as np
import pytest
import soundfile as sf

from pmmtalk_live.errors import TakeError
from pmmtalk_live.sinks.csv_take import read_take
from pmmtalk_live.sinks.take_recorder import TakeRecorder
from pmmtalk_live.timecode import parse_timecode, time_of_day_s
from pmmtalk_live.tracks import CurveFrame, InputFrames

FPS = 60
NAMES = ("JawOpen", "MouthClose")


def frame(number, names=NAMES, values=None, wall=1_700_000_000.0):
    values = np.array(values if values is not None else [number / 1000, 0.5], np.float32)
    return CurveFrame(number, FPS, 0.0, wall + number / FPS, names, values)


def feed_audio(recorder, seconds, start=0, block=160):
    """A ramp so every sample says where it came from: sample i holds i / 1e6."""
    total = int(seconds * 16000)
    for s in range(start, start + total, block):
        recorder.add_audio(s, (np.arange(s, s + block) / 1e6).astype(np.float32))
    return start + total


def test_take_starts_at_a_past_frame_with_its_audio(tmp_path):
    recorder = TakeRecorder(tmp_path, fps=FPS)
    end = feed_audio(recorder, 1.0)  # audio is a look-ahead ahead of the frames
    writer = recorder.start(slate="s", take=None, subject="pm", first_frame=30, wall_time_s=1_700_000_000.5,
                            curve_names=NAMES)
    assert writer.take == 1
    for n in range(25, 90):
        recorder.add_frame(frame(n))
    feed_audio(recorder, 0.5, start=end)
    done = recorder.stop()
    assert recorder.stop() is None
    assert done.rows == 60 and recorder.finished == [done]
    take = read_take(done.csv_path)
    assert take.num_frames == 60
    np.testing.assert_allclose(take.column("JawOpen"), np.arange(30, 90) / 1000, atol=1e-9)
    assert take.timecodes_s[0] == pytest.approx(time_of_day_s(1_700_000_000.5), abs=1e-3)
    audio, rate = sf.read(done.wav_path, dtype="float64")
    first = round(30 * 16000 / FPS)  # frame 30's sample: the WAV starts there
    assert audio[0] == pytest.approx(first / 1e6, abs=1 / 32768)
    assert len(audio) == int(1.5 * 16000) - first
    assert parse_timecode(done.timecode) == pytest.approx(take.timecodes_s[-1], abs=1e-3)


def test_timecode_from_first_frame_when_start_time_unknown(tmp_path):
    recorder = TakeRecorder(tmp_path, fps=FPS)
    recorder.start(slate="s", take=3, subject="pm", first_frame=0, wall_time_s=None, curve_names=NAMES)
    recorder.add_frame(frame(0, wall=1_700_000_123.25))
    done = recorder.stop()
    take = read_take(done.csv_path)
    assert take.timecodes_s[0] == pytest.approx(time_of_day_s(1_700_000_123.25), abs=1e-3)
    assert done.csv_path.name == "s_3_pm_raw.csv"


def test_preset_switch_mid_take_keeps_the_columns(tmp_path):
    recorder = TakeRecorder(tmp_path, fps=FPS)
    recorder.start(slate="s", take=1, subject="pm", first_frame=0, wall_time_s=None, curve_names=NAMES)
    recorder.add_frame(frame(0, values=[0.1, 0.2]))
    recorder.add_frame(frame(1, names=("MouthClose", "EyeBlinkLeft"), values=[0.3, 0.9]))
    take = read_take(recorder.stop().csv_path)
    np.testing.assert_allclose(take.column("JawOpen"), [0.1, 0.0])
    np.testing.assert_allclose(take.column("MouthClose"), [0.2, 0.3])
    np.testing.assert_allclose(take.column("EyeBlinkLeft"), [0.0, 0.0])


def test_source_gap_is_recorded_as_silence(tmp_path):
    recorder = TakeRecorder(tmp_path, fps=FPS)
    recorder.start(slate="s", take=1, subject="pm", first_frame=0, wall_time_s=None, curve_names=NAMES)
    recorder.add_audio(0, np.full(1600, 0.5, np.float32))
    recorder.add_audio(3200, np.full(1600, 0.5, np.float32))  # 100 ms lost at the source
    done = recorder.stop()
    audio, _ = sf.read(done.wav_path)
    assert len(audio) == 4800
    assert np.all(audio[1600:3200] == 0) and audio[0] == pytest.approx(0.5, abs=1e-4)


def test_names_that_escape_the_folder_are_refused(tmp_path):
    recorder = TakeRecorder(tmp_path / "takes", fps=FPS)
    for slate in ("../evil", "a/b", ""):
        with pytest.raises(TakeError):
            recorder.start(slate=slate, take=1, subject="pm", first_frame=0, wall_time_s=None, curve_names=NAMES)
    assert not recorder.recording
    assert not (tmp_path / "evil_1_pm_raw.csv").exists()


def test_existing_take_is_never_overwritten(tmp_path):
    recorder = TakeRecorder(tmp_path, fps=FPS)
    recorder.start(slate="s", take=1, subject="pm", first_frame=0, wall_time_s=None, curve_names=NAMES)
    recorder.stop()
    with pytest.raises(TakeError, match="already exists"):
        recorder.start(slate="s", take=1, subject="pm", first_frame=0, wall_time_s=None, curve_names=NAMES)
    assert recorder.start(slate="s", take=None, subject="pm", first_frame=0, wall_time_s=None,
                          curve_names=NAMES).take == 2
    recorder.close()


def test_input_audio_keeps_its_own_format_from_the_same_instant(tmp_path):
    """The input's own frames (48 kHz stereo 16-bit here) go to <take>_input.wav from the take's first
    frame, bit for bit, beside the 16 kHz WAV; frames lost at the source become silence."""
    recorder = TakeRecorder(tmp_path, fps=FPS)
    own = (np.arange(48000 * 2 * 2) % 30011).astype(np.int16).reshape(-1, 2)  # every frame says where it came from
    for start in range(0, 48000, 480):  # 1 s of audio arrives before the take starts at frame 30 (0.5 s)
        recorder.add_audio(start // 3, np.zeros(160, np.float32), InputFrames(own[start:start + 480], start, 48000, "PCM_16"))
    recorder.start(slate="s", take=1, subject="pm", first_frame=30, wall_time_s=None, curve_names=NAMES)
    recorder.add_audio(16000, np.zeros(160, np.float32), InputFrames(own[48000:48480], 48000, 48000, "PCM_16"))
    recorder.add_audio(16320, np.zeros(160, np.float32), InputFrames(own[48960:49440], 48960, 48000, "PCM_16"))
    done = recorder.stop()
    assert done.input_wav_path == tmp_path / "s_1_pm_input.wav"
    info = sf.info(done.input_wav_path)
    assert (info.samplerate, info.channels, info.subtype) == (48000, 2, "PCM_16")
    written, _ = sf.read(done.input_wav_path, dtype="int16")
    np.testing.assert_array_equal(written[:48480 - 24000], own[24000:48480])  # from frame 30's instant
    assert np.all(written[48480 - 24000:48960 - 24000] == 0)  # the 10 ms the source lost
    np.testing.assert_array_equal(written[48960 - 24000:], own[48960:49440])
    assert sf.info(done.wav_path).samplerate == 16000
