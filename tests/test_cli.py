"""The command line as a user runs it: real processes, real files, one-line errors."""

import json
import subprocess
import sys

import pytest

from pmmtalk_live import rig
from pmmtalk_live.sinks.csv_take import read_take
from tests.conftest import EXAMPLE_TEXT, EXAMPLE_WAV, REPO


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "pmmtalk_live.cli", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120)


def assert_one_line_error(result, *fragments):
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    for fragment in fragments:
        assert fragment in lines[0], lines[0]


def test_version_and_help():
    out = cli("--version")
    assert out.returncode == 0 and "pmmtalk-live 0." in out.stdout
    for args in ([], ["animate"], ["plot"], ["presets"], ["presets", "check"]):
        result = cli(*args, "--help")
        assert result.returncode == 0 and "usage:" in result.stdout


def test_animate_with_transcript_writes_a_take_beside_its_audio(tmp_path):
    result = cli("animate", EXAMPLE_WAV, "--text", EXAMPLE_TEXT, "-o", tmp_path, "--fps", "30", "-q")
    assert result.returncode == 0, result.stderr
    csv = tmp_path / "example_1_pmmtalk_raw.csv"
    assert f"take: {csv}" in result.stdout
    take = read_take(csv)
    assert take.fps == 30 and take.num_frames == int(8.67 * 30) + 1
    assert take.names[:61] == tuple(n for n in rig.CSV_COLUMNS[2:])
    assert take.audio_path == tmp_path / "example_1_pmmtalk.wav"
    assert take.column("JawOpen").max() > 0.4  # the mouth opens
    assert take.column("EyeBlinkLeft").max() > 0.5 or take.column("HeadYaw").std() > 0  # the face lives


def test_animate_never_overwrites_a_take(tmp_path):
    for expected in (1, 2):
        result = cli("animate", EXAMPLE_WAV, "-o", tmp_path, "-q", "--preset", "vrm")
        assert result.returncode == 0, result.stderr
        assert (tmp_path / f"example_{expected}_pmmtalk_raw.csv").exists()
    taken = cli("animate", EXAMPLE_WAV, "-o", tmp_path, "-q", "--take", "1")
    assert_one_line_error(taken, "exists")


def test_plot_writes_a_png(tmp_path):
    assert cli("animate", EXAMPLE_WAV, "-o", tmp_path, "-q", "--text", EXAMPLE_TEXT).returncode == 0
    png = tmp_path / "take.png"
    result = cli("plot", tmp_path / "example_1_pmmtalk_raw.csv", "-o", png)
    assert result.returncode == 0, result.stderr
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("name, content", [
    ("missing.wav", None),
    ("notes.txt", b"not audio at all"),
    ("empty.wav", b""),
    ("cut.wav", EXAMPLE_WAV.read_bytes()[:30]),  # a header cut short
])
def test_bad_audio_is_one_clear_line(tmp_path, name, content):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert_one_line_error(cli("animate", path, "-o", tmp_path / "out", "-q"), name)


def test_bad_preset_and_transcript_are_one_clear_line(tmp_path):
    assert_one_line_error(cli("animate", EXAMPLE_WAV, "--preset", "nosuch", "-o", tmp_path), "nosuch")
    bad = tmp_path / "bad.yaml"
    bad.write_text((REPO / "presets" / "arkit.yaml").read_text().replace("jawOpen:", "jawOpn:", 1))
    assert_one_line_error(cli("animate", EXAMPLE_WAV, "--preset", bad, "-o", tmp_path), "bad.yaml:", "jawOpn")
    assert_one_line_error(cli("animate", EXAMPLE_WAV, "--animator", "phonetic", "--text", "zzqx qqzx", "-o", tmp_path,
                              "-q"), "dictionary")
    assert_one_line_error(cli("animate", EXAMPLE_WAV, "--text-file", tmp_path / "none.txt", "-o", tmp_path),
                          "none.txt")


def test_animate_says_what_drove_the_mouth(tmp_path):
    """The default reads a transcript (its viseme track from the forced alignment); a model with no
    text branch hears the audio alone, and the user is told the transcript changed nothing."""
    from pmmtalk_live.model.checkpoint import save_config, save_weights
    from pmmtalk_live.model.config import live_config
    from pmmtalk_live.model.pmmtalk import PMMTalk

    done = cli("animate", EXAMPLE_WAV, "--text", EXAMPLE_TEXT, "-o", tmp_path, "-q")
    assert done.returncode == 0, done.stderr
    assert "mouth from the transcript (forced alignment)" in done.stdout
    config = live_config(audio_encoder="whisper", text=False, viseme_residual=False, d_model=32, decoder_ff=64,
                         speech_channels=16)
    save_config(tmp_path / "audio-only", config)
    save_weights(PMMTalk(config), tmp_path / "audio-only")
    done = cli("animate", EXAMPLE_WAV, "--text", "anything at all", "--ckpt", tmp_path / "audio-only", "-o", tmp_path,
               "-q")
    assert done.returncode == 0, done.stderr
    assert "the transcript was not used" in done.stdout and "--animator phonetic" in done.stdout


def test_presets_list_show_check(tmp_path):
    listed = cli("presets", "list")
    assert listed.returncode == 0
    for name in ("arkit", "metahuman", "vrm"):
        assert name in listed.stdout
    shown = cli("presets", "show", "metahuman")
    assert shown.returncode == 0 and "JawOpen" in shown.stdout
    good = REPO / "presets" / "vrm.yaml"
    bad = tmp_path / "typo.yaml"
    bad.write_text(good.read_text().replace("outputs:", "outptus:"))
    checked = cli("presets", "check", good, bad)
    assert checked.returncode == 2
    assert f"{good}: ok" in checked.stdout and "typo.yaml" in checked.stderr


def test_take_numbers_out_of_range_are_refused_and_not_inherited(tmp_path):
    # Issue 16.9: a take number past the largest (2147483647, an OSC int32) is refused in one line,
    # and a file left with such a number by an older version does not push later takes out of range.
    result = cli("animate", EXAMPLE_WAV, "-o", tmp_path, "-q", "--animator", "phonetic",
                 "--take", "100000000000000000000")
    assert_one_line_error(result, "100000000000000000000", "0..2147483647")
    assert not list(tmp_path.glob("*.csv"))
    (tmp_path / "example_100000000000000000000_pmmtalk_raw.csv").write_text("Timecode,BlendshapeCount\n")
    result = cli("animate", EXAMPLE_WAV, "-o", tmp_path, "-q", "--animator", "phonetic")
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "example_1_pmmtalk_raw.csv").exists()


def test_outputs_that_cannot_be_written_are_one_clear_line(tmp_path):
    a_file = tmp_path / "afile"
    a_file.write_text("not a folder")
    assert_one_line_error(cli("animate", EXAMPLE_WAV, "-o", a_file, "-q", "--animator", "phonetic"),
                          "afile: is a file, not a folder")
    assert_one_line_error(cli("animate", EXAMPLE_WAV, "-o", a_file / "sub", "-q", "--animator", "phonetic"),
                          "is inside", "a file")
    assert cli("animate", EXAMPLE_WAV, "-o", tmp_path, "-q", "--animator", "phonetic").returncode == 0
    take = tmp_path / "example_1_pmmtalk_raw.csv"
    assert_one_line_error(cli("plot", take, "-o", tmp_path / "x.jpgx"), "x.jpgx", "unknown image type", "png")
    assert_one_line_error(cli("plot", take, "-o", "/dev/full"), "/dev/full", "No space left")
    plotted = cli("plot", take, "-o", tmp_path / "noext")
    assert plotted.returncode == 0 and plotted.stdout.strip() == f"plot: {tmp_path / 'noext'}"
    assert (tmp_path / "noext").read_bytes()[:4] == b"\x89PNG"


def test_devices_says_when_there_is_none_and_fails():
    result = cli("devices")
    if "no audio input devices" in result.stdout + result.stderr:  # this test machine: no sound card
        assert_one_line_error(result, "no audio input devices")
    else:
        assert result.returncode == 0 and "audio inputs" in result.stdout


def test_serve_on_empty_stdin_says_there_was_no_audio():
    result = subprocess.run([sys.executable, "-m", "pmmtalk_live.cli", "serve", "--input", "-", "--animator",
                             "phonetic", "--no-osc", "--no-livelink", "--control", "off", "-q"],
                            stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and "nan" not in result.stderr, result.stderr
    assert "pmmtalk-live: error: no audio came from the input (stdin" in result.stderr.splitlines()[-1]


def test_dataset_with_nothing_to_import_fails_and_leaves_no_folder(tmp_path):
    assert_one_line_error(cli("dataset", "--takes", tmp_path / "missing", "--out", tmp_path / "data"),
                          "missing: no such file or folder")
    (tmp_path / "empty").mkdir()
    assert_one_line_error(cli("dataset", "--takes", tmp_path / "empty", "--out", tmp_path / "data"),
                          "no Live Link Face takes")
    assert cli("animate", EXAMPLE_WAV, "-o", tmp_path / "takes", "-q", "--animator", "phonetic").returncode == 0
    (tmp_path / "takes" / "example_1_pmmtalk.wav").unlink()  # a take without its audio cannot be imported
    result = cli("dataset", "--takes", tmp_path / "takes", "--out", tmp_path / "data")
    assert result.returncode == 2 and "no audio beside it" in result.stdout
    assert "nothing imported" in result.stderr
    assert not (tmp_path / "data").exists()


def test_eval_takes_the_packaged_model_by_name(tmp_path):
    assert cli("animate", EXAMPLE_WAV, "-o", tmp_path / "takes", "-q", "--animator", "phonetic").returncode == 0
    assert cli("dataset", "--takes", tmp_path / "takes", "--out", tmp_path / "data").returncode == 0
    result = cli("eval", "--data", tmp_path / "data", "--ckpt", "default", "-q", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / "eval-default-data" / "metrics.json").read_text())
    assert metrics["utterances"] == 1 and "bilabial closures" in result.stdout


def test_a_truncated_wav_is_animated_with_a_one_line_warning(tmp_path):
    cut = tmp_path / "cut.wav"
    cut.write_bytes(EXAMPLE_WAV.read_bytes()[:44 + 480 * 2])  # the header still says 8.67 s
    result = cli("animate", cut, "-o", tmp_path, "-q", "--animator", "phonetic")
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cut.wav: truncated: the header says 8.67 s of audio, the file holds 0.03 s" in lines[0]
    assert read_take(tmp_path / "cut_1_pmmtalk_raw.csv").num_frames == 2


@pytest.mark.parametrize("animator", ["phonetic", "pmmtalk"])
def test_a_transcript_that_cannot_be_aligned_falls_back_with_one_line(tmp_path, animator):
    import soundfile as sf

    samples, rate = sf.read(EXAMPLE_WAV, dtype="float32")
    clip = tmp_path / "clip.wav"
    sf.write(clip, samples[: 2 * rate], rate)  # 2 s of speech, the whole recording's 28 words
    result = cli("animate", clip, "--text", EXAMPLE_TEXT, "-o", tmp_path, "-q", "--animator", animator)
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "no path through the transcript" in lines[0], result.stderr
    assert "animated without the transcript" in lines[0]
    assert "mouth from phones recognised in the audio" in result.stdout
    assert read_take(tmp_path / "clip_1_pmmtalk_raw.csv").num_frames == 121


def test_animate_several_recordings_and_folders_in_parallel_listing_those_that_fail(tmp_path):
    import shutil

    for folder in ("day1", "day2"):
        (tmp_path / folder).mkdir()
        shutil.copy(EXAMPLE_WAV, tmp_path / folder / "line.wav")  # the same slate twice: takes 1 and 2
    (tmp_path / "day1" / "notes.txt").write_text("not audio, and not an audio file name: passed over")
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    result = cli("animate", tmp_path / "day1", tmp_path / "day2", bad, EXAMPLE_WAV, "-o", tmp_path / "takes",
                 "--animator", "phonetic", "-j", "2")
    assert result.returncode == 2, result.stderr
    assert "animated 3 of 4 recordings" in result.stdout
    failed = [line for line in result.stderr.splitlines() if line.startswith("pmmtalk-live: failed:")]
    assert failed == [f"pmmtalk-live: failed: {bad}: not an audio file libsndfile can read (format not recognised)"]
    assert "Traceback" not in result.stderr
    assert "line.wav: expression" in result.stderr  # the bar moves at each stage of each file, not per file
    for name in ("line_1_pmmtalk_raw.csv", "line_2_pmmtalk_raw.csv", "example_1_pmmtalk_raw.csv"):
        take = read_take(tmp_path / "takes" / name)
        assert take.num_frames == 521 and take.column("JawOpen").max() > 0.3
        assert f"take: {tmp_path / 'takes' / name}" in result.stdout
    assert_one_line_error(cli("animate", EXAMPLE_WAV, EXAMPLE_WAV, "--take", "3", "-o", tmp_path / "x"),
                          "--take is for one recording")
    (tmp_path / "empty").mkdir()
    assert_one_line_error(cli("animate", tmp_path / "empty", "-o", tmp_path / "x", "-q"),
                          "empty: no audio files in this folder")
