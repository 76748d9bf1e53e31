"""CSV takes: what Unreal's Live Link Face importer and a person opening the folder would notice."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import wave
from pathlib import Path

import numpy as np
import pytest
import soundfile

from pmmtalk_live import rig
from pmmtalk_live.errors import TakeError
from pmmtalk_live.sinks.csv_take import TakeWriter, next_free_take, read_take, write_take
from pmmtalk_live.timecode import format_timecode, parse_timecode, time_of_day_s
from pmmtalk_live.tracks import Audio, CurveTrack

FIXTURES = Path(__file__).parent / "fixtures"
REPO = Path(__file__).resolve().parents[1]
TIMECODE = re.compile(r"^\d\d:\d\d:\d\d:\d\d\.\d\d\d$")
TEN_DECIMALS = re.compile(r"^-?\d+\.\d{10}$")


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines()


def _track(names, num_frames=12, fps=60.0, seed=0) -> CurveTrack:
    values = np.random.default_rng(seed).uniform(0, 1, (num_frames, len(names))).astype(np.float32)
    return CurveTrack(tuple(names), values, fps)


def test_header_is_the_live_link_face_header_and_rows_have_63_columns(tmp_path):
    path = write_take(tmp_path, _track(rig.SOURCE_CHANNELS), None, slate="Scene", take=1, subject="iPhone")
    lines = _lines(path)
    assert lines[0] == ",".join(rig.CSV_COLUMNS)
    assert "BlendshapeCount" in lines[0] and len(rig.CSV_COLUMNS) == 63
    assert len(lines) == 13
    assert all(len(line.split(",")) == 63 and line.split(",")[1] == "61" for line in lines[1:])


def test_file_is_named_slate_take_subject_raw(tmp_path):
    path = write_take(tmp_path, _track(["JawOpen"]), None, slate="Scene", take=7, subject="Anna")
    assert path == tmp_path / "Scene_7_Anna_raw.csv"
    take = read_take(path)
    assert (take.slate, take.take, take.subject) == ("Scene", 7, "Anna")
    path = write_take(tmp_path, _track(["JawOpen"]), None, slate="Scene_2", take=1, subject="iPhone")
    assert (read_take(path).slate, read_take(path).take) == ("Scene_2", 1)


def test_values_have_10_decimals_and_timecode_steps_one_60fps_frame(tmp_path):
    track = _track(["JawOpen", "HeadYaw"], num_frames=70)
    track.values[:, 1] -= 0.5  # signed rotations
    path = write_take(tmp_path, track, None, slate="Scene", take=1, subject="iPhone")
    rows = [line.split(",") for line in _lines(path)[1:]]
    assert all(TEN_DECIMALS.match(cell) for row in rows for cell in row[2:])
    codes = [row[0] for row in rows]
    assert all(TIMECODE.match(code) for code in codes)
    assert codes[:2] == ["00:00:00:00.000", "00:00:00:01.000"] and codes[60] == "00:00:01:00.000"
    assert np.allclose(np.diff([parse_timecode(c) for c in codes]), 1 / 60, atol=1e-6)


def test_30_fps_rows_advance_two_60fps_frames_and_read_back_at_30(tmp_path):
    path = write_take(tmp_path, _track(["JawOpen"], num_frames=40, fps=30), None,
                      slate="Scene", take=1, subject="iPhone")
    codes = [line.split(",")[0] for line in _lines(path)[1:4]]
    assert codes == ["00:00:00:00.000", "00:00:00:02.000", "00:00:00:04.000"]
    take = read_take(path)
    assert take.fps == 30 and take.live_link_face_track().fps == 30
    assert take.times_s[-1] == pytest.approx(39 / 30, abs=1e-4)


def test_columns_are_written_by_name_not_by_wire_position(tmp_path):
    with TakeWriter(tmp_path, slate="Scene", take=1, subject="iPhone", timecode="take",
                    curve_names=["JawLeft", "mouthLeft"]) as writer:
        writer.write_frame(np.array([0.7, 0.4]))
    header, row = (line.split(",") for line in _lines(writer.csv_path))
    assert row[header.index("JawLeft")] == "0.7000000000" and row[header.index("JawRight")] == "0.0000000000"
    assert row[header.index("MouthLeft")] == "0.4000000000" and row[header.index("MouthRight")] == "0.0000000000"

    take = read_take(writer.csv_path)
    assert take.column("JawLeft")[0] == pytest.approx(0.7) and take.column("JawRight")[0] == 0
    wire = take.live_link_face_track()
    assert wire.names == rig.LIVE_LINK_FACE_NAMES
    assert wire.column("JawLeft")[0] == pytest.approx(0.7) and wire.column("JawRight")[0] == 0
    assert wire.column("MouthLeft")[0] == pytest.approx(0.4) and wire.values.sum() == pytest.approx(1.1)


def test_curves_outside_live_link_face_become_extra_columns(tmp_path):
    track = _track(["aa", "jawOpen", "ih"], num_frames=3)
    path = write_take(tmp_path, track, None, slate="Vrm", take=1, subject="Avatar")
    lines = _lines(path)
    assert lines[0] == ",".join(rig.CSV_COLUMNS + ("aa", "ih"))
    assert all(len(line.split(",")) == 65 for line in lines)
    take = read_take(path)
    assert take.names[-2:] == ("aa", "ih")
    np.testing.assert_allclose(take.column("aa"), track.column("aa"), atol=1e-9)
    np.testing.assert_allclose(take.column("jawOpen"), track.column("jawOpen"), atol=1e-9)


@pytest.mark.parametrize("names", [["jawOpen", "JawOpen"], ["aa", "AA"], ["Timecode"], ["a,b"]])
def test_curves_that_cannot_have_a_column_of_their_own_are_refused(tmp_path, names):
    with pytest.raises(TakeError, match="curve"):
        TakeWriter(tmp_path, slate="Scene", take=1, subject="iPhone", curve_names=names)
    assert list(tmp_path.iterdir()) == []


def test_system_timecode_is_the_time_of_day_at_take_start(tmp_path):
    before = time_of_day_s()
    with TakeWriter(tmp_path, slate="Live", take=1, subject="iPhone", curve_names=["JawOpen"]) as writer:
        writer.write_frame(np.zeros(1), time_s=0.0)
        writer.write_frame(np.zeros(1), time_s=0.5)
    take = read_take(writer.csv_path)
    assert (take.timecodes_s[0] - before) % 86_400 < 5
    assert _lines(writer.csv_path)[1].startswith(writer.start_timecode + ",61,")
    assert take.times_s[1] == pytest.approx(0.5, abs=1e-4)


def test_explicit_times_must_increase(tmp_path):
    with TakeWriter(tmp_path, slate="Live", take=1, subject="iPhone", timecode="take",
                    curve_names=["JawOpen"]) as writer:
        writer.write_frame(np.zeros(1), time_s=1.0)
        with pytest.raises(ValueError, match="after the previous row"):
            writer.write_frame(np.zeros(1), time_s=0.5)
    assert writer.rows_written == 1


def test_a_real_app_take_reads_back():
    take = read_take(FIXTURES / "MySlate_3_iPhone_raw.csv")
    assert take.names == rig.CSV_COLUMNS[2:]
    assert take.values.shape == (24, 61) and take.values.dtype == np.float32
    assert take.fps == 60
    assert take.timecodes_s[0] == pytest.approx(19 * 3600 + 17 * 60 + 23 + 30.429 / 60)
    assert (take.slate, take.take, take.subject, take.audio_path) == ("MySlate", 3, "iPhone", None)
    wire = take.live_link_face_track()
    assert wire.column("EyeBlinkLeft")[0] == pytest.approx(0.0421835072)
    assert wire.column("JawLeft")[0] == pytest.approx(0.0123456789) and wire.column("JawRight")[0] == 0
    assert wire.column("HeadYaw")[0] == pytest.approx(-0.0312)


def test_a_30fps_take_with_blendshape_count_spelled_by_epic_reads_back():
    # BlendShapeCount header, CRLF line ends, recorded across midnight.
    take = read_take(FIXTURES / "Interview_12_Anna_raw.csv")
    assert take.fps == 30
    assert (take.slate, take.take, take.subject) == ("Interview", 12, "Anna")
    assert np.all(np.diff(take.timecodes_s) > 0)
    assert take.times_s[-1] == pytest.approx(19 / 30, abs=1e-3)


def test_a_killed_writer_leaves_a_valid_take_with_every_row(tmp_path):
    # The child never closes the take: it is killed while writing, or waiting after its last row.
    code = """
import sys
import numpy as np
from pmmtalk_live.sinks.csv_take import TakeWriter
writer = TakeWriter(sys.argv[1], slate="Crash", take=1, subject="iPhone", timecode="take",
                    curve_names=["JawOpen"])
for k in range(3000):
    writer.write_frame(np.array([k / 10000]))
    writer.write_audio(np.full(256, 0.25, np.float32))
    print(k + 1, flush=True)
sys.stdin.read()
"""
    child = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], cwd=REPO, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        rows_done = 0
        while rows_done < 100:  # wait on the child's word that a row is written; EOF if it died
            line = child.stdout.readline()
            assert line, child.stderr.read()
            rows_done = int(line)
        child.send_signal(signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL

    take = read_take(tmp_path / "Crash_1_iPhone_raw.csv")
    assert take.num_frames >= rows_done
    np.testing.assert_allclose(take.column("JawOpen"), np.arange(take.num_frames) / 10000, atol=1e-9)
    np.testing.assert_allclose(np.diff(take.timecodes_s), 1 / 60, atol=1e-6)
    with wave.open(str(tmp_path / "Crash_1_iPhone.wav")) as wav:  # a strict reader: trusts the header only
        assert wav.getnframes() >= 256 * rows_done
    assert take.audio_path == tmp_path / "Crash_1_iPhone.wav"


FULL_DISK_CHILD = """
import resource, signal, sys
import numpy as np
from pmmtalk_live.errors import TakeError
from pmmtalk_live.sinks.csv_take import TakeWriter

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing the process
resource.setrlimit(resource.RLIMIT_FSIZE, (int(sys.argv[2]), int(sys.argv[2])))
writer = TakeWriter(sys.argv[1], slate="Full", take=1, subject="iPhone", timecode="take",
                    curve_names=["JawOpen", "aa"])
try:
    for k in range(100000):
        writer.write_frame(np.array([k / 100000, 0.5]))
        writer.write_audio(np.full(333, 0.25, np.float32))  # an odd byte count per write goes past the limit
except TakeError as error:
    print(writer.rows_written, writer.samples_written, error, sep="\\t", flush=True)
for write in (lambda: writer.write_frame(np.array([0.0, 0.0])), lambda: writer.write_audio(np.zeros(9, np.float32))):
    try:
        write()
    except TakeError:
        pass
    else:
        raise SystemExit("a failed take took another write")
writer.close()
"""


@pytest.mark.parametrize("limit_bytes", [20_000, 20_001, 45_000])
def test_a_full_disk_leaves_a_valid_take_up_to_its_last_whole_row(tmp_path, limit_bytes):
    """The file size limit reached mid-take (a full disk fails the same way): the write raises, the CSV
    ends at its last whole row and the WAV at its last whole sample, and later writes are refused."""
    result = subprocess.run([sys.executable, "-c", FULL_DISK_CHILD, str(tmp_path), str(limit_bytes)], cwd=REPO,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    rows, samples, message = result.stdout.strip().split("\t")
    assert "File too large" in message
    take = read_take(tmp_path / "Full_1_iPhone_raw.csv")  # checks every row's column count and numbers
    assert take.num_frames == int(rows) > 0
    np.testing.assert_allclose(take.column("JawOpen"), np.arange(int(rows)) / 100000, atol=1e-9)
    assert (tmp_path / "Full_1_iPhone_raw.csv").read_bytes().endswith(b"\n")
    with wave.open(str(tmp_path / "Full_1_iPhone.wav")) as wav:  # a strict reader: trusts the header only
        assert wav.getnframes() == int(samples)
    assert (tmp_path / "Full_1_iPhone.wav").stat().st_size == 44 + 2 * int(samples)


def test_a_take_is_never_overwritten(tmp_path):
    first = write_take(tmp_path, _track(["JawOpen"]), None, slate="Scene", take=1, subject="iPhone")
    content = first.read_bytes()
    with pytest.raises(TakeError, match=r"already exists.*next free take: 2"):
        TakeWriter(tmp_path, slate="Scene", take=1, subject="iPhone", curve_names=["JawOpen"])
    assert first.read_bytes() == content

    (tmp_path / "Scene_2_iPhone.wav").write_bytes(b"")  # a WAV alone also holds the number
    with pytest.raises(TakeError, match="already exists"):
        write_take(tmp_path, _track(["JawOpen"]), None, slate="Scene", take=2, subject="iPhone")
    assert not (tmp_path / "Scene_2_iPhone_raw.csv").exists()


def test_next_free_take_counts_past_the_highest(tmp_path):
    assert next_free_take(tmp_path / "not-yet", "Scene", "iPhone") == 1
    for take in (1, 4):
        write_take(tmp_path, _track(["JawOpen"]), None, slate="Scene", take=take, subject="iPhone")
    write_take(tmp_path, _track(["JawOpen"]), None, slate="Scene", take=9, subject="Other")
    assert next_free_take(tmp_path, "Scene", "iPhone") == 5
    path = write_take(tmp_path, _track(["JawOpen"]), None, slate="Scene", subject="iPhone")
    assert path.name == "Scene_5_iPhone_raw.csv"


@pytest.mark.parametrize("field, name", [
    ("slate", "../x"), ("slate", "a/b"), ("subject", "a\\b"), ("subject", ".."), ("slate", ""),
    ("slate", "a\x00b"), ("subject", "line\nbreak"), ("slate", "C:x"), ("subject", "x" * 101),
])
def test_names_that_could_escape_the_takes_folder_are_refused(tmp_path, field, name):
    folder = tmp_path / "takes"
    names = {"slate": "Scene", "subject": "iPhone", field: name}
    with pytest.raises(TakeError, match=field) as caught:
        TakeWriter(folder, take=1, curve_names=["JawOpen"], **names)
    assert "\n" not in str(caught.value)
    assert list(tmp_path.rglob("*")) == []


@pytest.mark.parametrize("take", [-1, 1.5, "3", True])
def test_take_numbers_are_whole_numbers(tmp_path, take):
    with pytest.raises(TakeError, match="take number"):
        TakeWriter(tmp_path, slate="Scene", take=take, subject="iPhone", curve_names=["JawOpen"])


HEADER = ",".join(rig.CSV_COLUMNS)
ROW = "00:00:00:00.000,61," + ",".join(["0.1000000000"] * 61)


@pytest.mark.parametrize("content, message", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\xff\xfe", "not UTF-8"),
    ("".encode(), "empty"),
    ("Time,BlendshapeCount,JawOpen\n".encode(), "line 1: column 0 is 'Time', expected Timecode"),
    ("Timecode,Count,JawOpen\n".encode(), "line 1: column 1 is 'Count', expected BlendShapeCount"),
    (f"{HEADER}\n{ROW}\n{ROW[:-13]}\n".encode(), "line 3: 62 columns, the header has 63"),
    (f"{HEADER}\n{ROW.replace('00:00:00:00.000', '00:00:00:00,000', 1)}\n".encode(), "line 2: 64 columns"),
    (f"{HEADER}\n{ROW}\n{ROW.replace('00:00:00:00.000', '0:00:00:01.000')}\n".encode(), "line 3: timecode"),
    (f"{HEADER}\n{ROW.replace('0.1000000000', 'abc', 1)}\n".encode(), "line 2: EyeBlinkLeft is 'abc'"),
])
def test_a_bad_file_names_the_file_and_line(tmp_path, content, message):
    path = tmp_path / "Bad_1_iPhone_raw.csv"
    path.write_bytes(content)
    with pytest.raises(TakeError, match=re.escape(message)) as caught:
        read_take(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_audio_beside_the_take_starts_with_the_first_row(tmp_path):
    sample_rate_hz = 16_000
    samples = np.zeros(sample_rate_hz, np.float32)
    samples[sample_rate_hz // 2] = 0.9  # a click at 0.5 s ...
    track = _track(["JawOpen"], num_frames=60)
    track.values[:] = 0
    track.values[30] = 1  # ... and the jaw open at 0.5 s
    path = write_take(tmp_path, track, Audio(samples, sample_rate_hz), slate="Scene", take=1, subject="iPhone")

    take = read_take(path)
    assert take.audio_path == tmp_path / "Scene_1_iPhone.wav"
    info = soundfile.info(take.audio_path)
    assert (info.subtype, info.samplerate, info.channels, info.frames) == ("PCM_16", sample_rate_hz, 1, len(samples))
    audio, _ = soundfile.read(take.audio_path, dtype="float32")
    np.testing.assert_allclose(audio, samples, atol=1 / 32768)
    click_s = np.argmax(audio) / sample_rate_hz
    assert take.times_s[np.argmax(take.column("JawOpen"))] == pytest.approx(click_s, abs=1e-4)


def test_a_take_without_audio_has_no_wav(tmp_path):
    path = write_take(tmp_path, _track(["JawOpen"]), None, slate="Scene", take=1, subject="iPhone")
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]
    assert read_take(path).audio_path is None


def test_system_timecode_rows_keep_increasing_across_midnight(tmp_path):
    path = tmp_path / "Late_1_iPhone_raw.csv"
    rows = [f"{format_timecode((86_400 - 1 / 60 + k / 60) % 86_400)},61," + ",".join(["0"] * 61) for k in range(3)]
    path.write_text(HEADER + "\n" + "\n".join(rows) + "\n")
    take = read_take(path)
    np.testing.assert_allclose(np.diff(take.timecodes_s), 1 / 60, atol=1e-6)
    assert take.fps == 60
