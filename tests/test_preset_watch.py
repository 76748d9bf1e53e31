"""Preset hot-reload: an edited preset takes effect, a broken edit keeps the old one and says why."""

import os
import shutil

import pytest

from pmmtalk_live.retarget.preset import SHIPPED_PRESETS_DIR
from pmmtalk_live.retarget.watch import PresetWatcher


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
