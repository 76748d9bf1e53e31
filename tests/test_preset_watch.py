"""Preset hot-reload: an edited preset takes effect, a broken edit keeps the old one and says why, and no
edit, however hostile, stops a running daemon."""

import os
import shutil
import signal
import subprocess

import pytest

from pmmtalk_live.retarget.preset import SHIPPED_PRESETS_DIR, load_preset
from pmmtalk_live.retarget.watch import PresetWatcher

from .conftest import EXAMPLE_WAV, REPO
from .test_serve import CLI, osc_frames, osc_names
from .wire import Collector


@pytest.fixture
def preset_file(tmp_path):
    path = tmp_path / "mine.yaml"
    shutil.copy(SHIPPED_PRESETS_DIR / "arkit.yaml", path)
    return path


def touch_later(path, text):
    stat = path.stat()
    path.write_text(text)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))


def test_reload_on_change_and_keep_old_on_error(preset_file, caplog):
    watcher = PresetWatcher(preset_file, interval_s=0.0)
    assert watcher.poll() is None  # unchanged
    original = watcher.preset
    text = preset_file.read_text()

    touch_later(preset_file, text.replace("description:", "description: EDITED", 1))
    reloaded = watcher.poll()
    assert reloaded is not None and "EDITED" in reloaded.description and watcher.reloads == 1

    touch_later(preset_file, text + "\nnot_a_key: 1\n")
    assert watcher.poll() is None
    assert watcher.preset is reloaded and watcher.failed_reloads == 1
    assert "not_a_key" in watcher.last_error and "mine.yaml" in watcher.last_error
    assert any("still using the previous version" in r.message for r in caplog.records)
    assert original is not reloaded


def test_deleted_file_keeps_the_preset(preset_file):
    watcher = PresetWatcher(preset_file, interval_s=0.0)
    preset_file.unlink()
    assert watcher.poll() is None and watcher.preset is not None and watcher.failed_reloads == 1


def preset_text(outputs: str = "  JawOpen: {mix: {jawOpen: 1}}\n", smoothing: str = "") -> str:
    return ("description: edited while serving\nidle: {blinks: true, gaze: true, head: true}\n"
            + (f"smoothing:\n{smoothing}" if smoothing else "") + f"outputs:\n{outputs}")


HOSTILE_EDITS = {  # each killed the daemon on reload, or passed and failed later in use
    "a number of hundreds of digits": (
        preset_text(smoothing="  jaw: {filter: one_euro, min_cutoff_hz: 1, beta: 1" + "0" * 400 + "}\n"),
        "smoothing.jaw.beta: must be >= 0 and <= 1000"),
    "deep nesting": ("description: " + "[" * 5000 + "]" * 5000 + "\n", "nested more than 20 levels deep"),
    "an alias chain": ("".join(f"l{i}: &l{i} [{f'*l{i - 1}' if i else 1}]\n" for i in range(3000)),
                       "nested more than 20 levels deep"),
    "a spring that overflows": (preset_text(smoothing="  jaw: {filter: spring, half_life_ms: 1.0e-300}\n"),
                                "smoothing.jaw.half_life_ms: must be >= 0.1"),
    "a comma in a curve name": (preset_text('  "Jaw,Open": {mix: {jawOpen: 1}}\n'), "cannot contain ','"),
    "names equal up to case": (preset_text("  Jaw: {mix: {jawOpen: 1}}\n  JAW: {mix: {jawOpen: 1}}\n"),
                               "outputs.JAW: same name as 'Jaw'"),
    "thousands of curves": (preset_text("".join(f"  C{i}: {{mix: {{jawOpen: 1}}}}\n" for i in range(5000))),
                            "outputs: 5000 curves; a preset has at most 200"),
}


@pytest.mark.parametrize("text, message", HOSTILE_EDITS.values(), ids=HOSTILE_EDITS.keys())
def test_a_hostile_edit_keeps_the_preset_with_one_line(preset_file, text, message):
    watcher = PresetWatcher(preset_file, interval_s=0.0)
    touch_later(preset_file, text)
    assert watcher.poll() is None and watcher.failed_reloads == 1
    assert watcher.preset.output_names == load_preset("arkit").output_names
    assert watcher.last_error.startswith(f"{preset_file}:") and message in watcher.last_error
    assert "\n" not in watcher.last_error and len(watcher.last_error) < len(str(preset_file)) + 200


def test_a_serving_daemon_survives_every_hostile_edit(preset_file, tmp_path):
    """A real `serve` process streaming to a real UDP port while its preset file is overwritten with each
    hostile edit in turn: every one is refused with its own log line, the frames keep coming with the
    previous preset's curves, and a good edit afterwards still takes effect."""
    arkit = load_preset("arkit").output_names
    log_path = tmp_path / "serve.log"
    with Collector() as osc, log_path.open("w") as log:
        daemon = subprocess.Popen(CLI + ["serve", "--input", str(EXAMPLE_WAV), "--loop", "--preset", str(preset_file),
                                         "--animator", "phonetic", "--osc", osc.address, "--no-livelink",
                                         "--control", "off", "--quiet"], cwd=REPO, stderr=log, text=True)
        try:
            def frames_go_on(count: int = 10) -> bool:
                have = len(osc_frames(osc.payloads()))
                return osc.wait_for(lambda p: len(osc_frames(p)) >= have + count, 30)

            assert frames_go_on(30), log_path.read_text()
            for refused, (text, message) in enumerate(HOSTILE_EDITS.values(), start=1):
                touch_later(preset_file, text)
                refused_or_dead = lambda p: (log_path.read_text().count("preset not reloaded") >= refused  # noqa: E731
                                             or daemon.poll() is not None)
                assert osc.wait_for(refused_or_dead, 20), (message, log_path.read_text()[-2000:])
                assert daemon.poll() is None, log_path.read_text()[-2000:]
                assert message in log_path.read_text().splitlines()[-1]
                assert frames_go_on()
                assert len(osc_frames(osc.payloads())[-1][1]) == 4 + len(arkit)  # the previous preset's curves

            touch_later(preset_file, (SHIPPED_PRESETS_DIR / "vrm.yaml").read_text())
            vrm = load_preset("vrm").output_names
            assert osc.wait_for(lambda p: any(tuple(a[8:]) == vrm for a in osc_names(p)), 20)
            daemon.send_signal(signal.SIGINT)
            assert daemon.wait(30) == 0, log_path.read_text()[-2000:]
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait(10)


def test_an_edit_to_other_curves_waits_for_the_take_to_stop(preset_file, tmp_path):
    """Issue 16.12, the file path: a preset file edited to other curves while a take records would turn
    the take's columns into zeros. The daemon keeps the take's curves (one log line) and takes the edit
    up once the take stops; the take's last rows still move."""
    from pmmtalk_live.sinks.csv_take import read_take

    arkit = load_preset("arkit").output_names
    vrm = load_preset("vrm").output_names
    log_path = tmp_path / "serve.log"
    takes = tmp_path / "takes"
    with Collector() as osc, log_path.open("w") as log:
        daemon = subprocess.Popen(CLI + ["serve", "--input", str(EXAMPLE_WAV), "--preset", str(preset_file),
                                         "--animator", "phonetic", "--osc", osc.address, "--no-livelink",
                                         "--control", "off", "--quiet", "--record", str(takes)],
                                  cwd=REPO, stderr=log, text=True)
        try:
            assert osc.wait_for(lambda p: len(osc_frames(p)) >= 30, 30), log_path.read_text()
            touch_later(preset_file, (SHIPPED_PRESETS_DIR / "vrm.yaml").read_text())
            assert osc.wait_for(lambda p: "taken up when the take stops" in log_path.read_text()
                                or daemon.poll() is not None, 20), log_path.read_text()[-2000:]
            have = len(osc_frames(osc.payloads()))
            assert osc.wait_for(lambda p: len(osc_frames(p)) >= have + 60, 20)
            assert len(osc_frames(osc.payloads())[-1][1]) == 4 + len(arkit)  # still the take's curves
            assert not any(tuple(a[8:]) == vrm for a in osc_names(osc.payloads()))
            assert daemon.wait(60) == 0, log_path.read_text()[-2000:]  # the file ends, the take stops
        finally:
            if daemon.poll() is None:
                daemon.kill()
                daemon.wait(10)
    assert log_path.read_text().count("taken up when the take stops") == 1
    (csv_path,) = takes.glob("*_raw.csv")
    take = read_take(csv_path)
    assert take.values[120:].max() > 0.05  # the rows well after the edit are not zeros
