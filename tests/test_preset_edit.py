"""Editing a preset while it runs (retarget/edit.py): merge patches validated by the preset files' own
rules, undo, revert, and saving with comments kept, a backup, and never outside the presets folders."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from pmmtalk_live.errors import PresetError
from pmmtalk_live.retarget.edit import PresetEdit, document_of
from pmmtalk_live.retarget.preset import check_preset, load_preset

from .conftest import user_presets_folder


@pytest.fixture
def presets(tmp_path, monkeypatch):
    """A presets folder of the user's (PMMTALK_PRESETS) holding a copy of metahuman.yaml."""
    return user_presets_folder(tmp_path, monkeypatch)


def curve(preset, name):
    return next(out for out in preset.outputs if out.name == name)


def test_a_patch_changes_one_field_and_keeps_the_rest(presets):
    edit = PresetEdit(load_preset("mine"))
    preset = edit.patch({"outputs": {"JawOpen": {"gain": 0.5}}, "smoothing": {"eyes": {"filter": "spring", "half_life_ms": 30}},
                         "idle": {"blinks": False}})
    assert curve(preset, "JawOpen").gain == 0.5
    assert curve(preset, "JawOpen").mix == curve(edit.saved, "JawOpen").mix
    assert preset.smoothing["eyes"].kind == "spring" and not preset.idle.blinks
    assert edit.changed and edit.undo_depth == 1
    assert "JawOpen: {mix: {jawOpen: 1, mouthClose: -1}, gain: 0.5}" in edit.text  # flow style kept


def test_null_deletes_a_key_as_in_a_json_merge_patch(presets):
    edit = PresetEdit(load_preset("mine"))
    preset = edit.patch({"outputs": {"MouthPressLeft": {"mix": {"mouthClose": None}}}})
    assert curve(preset, "MouthPressLeft").mix == (("mouthPressLeft", 1.0),)


@pytest.mark.parametrize("changes, key", [
    ({"outputs": {"JawOpen": {"gain": 5000}}}, "outputs.JawOpen.gain: must be >= -1000"),
    ({"outputs": {"JawOpen": {"mix": {"jawOpn": 1}}}}, "unknown source channel (did you mean 'jawOpen'?)"),
    ({"smoothing": {"jaw": {"filter": "kalman"}}}, "smoothing.jaw.filter: unknown filter"),
    ({"idle": {"blinks": "yes"}}, "idle.blinks: expected true or false"),
    ({"outputs": {"JawOpen": {"gian": 1}}}, "unknown key (did you mean 'gain'?)"),
])
def test_a_bad_value_is_refused_with_the_preset_files_message_and_nothing_changes(presets, changes, key):
    edit = PresetEdit(load_preset("mine"))
    before = edit.text
    with pytest.raises(PresetError, match="mine.yaml") as refused:
        edit.patch(changes)
    assert key in str(refused.value) and "\n" not in str(refused.value)
    assert edit.text == before and not edit.changed and edit.undo_depth == 0


@pytest.mark.parametrize("changes", [["not", "a", "mapping"], {"a": {"b": {"c": {"d": {"e": {"f": {}}}}}}},
                                     {"outputs": {"JawOpen": {"gain": object()}}}])
def test_a_malformed_patch_is_one_line(presets, changes):
    with pytest.raises(PresetError):
        PresetEdit(load_preset("mine")).patch(changes)


def test_undo_and_revert(presets):
    edit = PresetEdit(load_preset("mine"))
    edit.patch({"outputs": {"JawOpen": {"gain": 0.5}}})
    edit.patch({"outputs": {"JawOpen": {"gain": 0.7}}})
    assert curve(edit.undo(), "JawOpen").gain == 0.5
    edit.patch({"outputs": {"JawOpen": {"gain": 0.9}}})
    assert curve(edit.revert(), "JawOpen").gain == 1.25 and not edit.changed
    assert curve(edit.undo(), "JawOpen").gain == 0.9  # revert is undoable
    edit.undo(), edit.undo()
    with pytest.raises(PresetError, match="nothing to undo"):
        edit.undo()


def test_the_document_round_trips(presets):
    """GET /api/preset's document, sent back as a patch, changes nothing."""
    preset = load_preset("mine")
    edit = PresetEdit(preset)
    again = edit.patch(document_of(preset))
    assert document_of(again) == document_of(preset)


def test_save_over_the_file_keeps_its_comments_and_a_backup(presets):
    path = presets / "mine.yaml"
    original = path.read_text()
    edit = PresetEdit(load_preset("mine"))
    edit.patch({"outputs": {"JawOpen": {"gain": 0.5}}})
    assert edit.save() == path.resolve()
    text = path.read_text()
    comments = [line for line in original.splitlines() if line.lstrip().startswith("#")]
    assert comments and all(line in text for line in comments)
    assert curve(check_preset(path), "JawOpen").gain == 0.5 and not edit.changed
    (backup,) = presets.glob("mine.yaml.*.bak")
    assert backup.read_text() == original
    checked = subprocess.run([sys.executable, "-m", "pmmtalk_live.cli", "presets", "check", str(path)],
                             capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


def test_save_as_a_new_name_goes_into_the_first_presets_folder(presets):
    edit = PresetEdit(load_preset("mine"))
    edit.patch({"outputs": {"JawOpen": {"gain": 0.5}}})
    path = edit.save("mine_softer")
    assert path == presets / "mine_softer.yaml"
    assert curve(load_preset("mine_softer"), "JawOpen").gain == 0.5
    assert edit.path == path and edit.name == "mine_softer"


@pytest.mark.parametrize("name", ["../escape", "/tmp/x", "sub/x", ".hidden", "x.yaml", "", "a\\b", "x" * 80])
def test_save_never_writes_outside_the_presets_folder(presets, tmp_path, name):
    edit = PresetEdit(load_preset("mine"))
    before = sorted(p.name for p in tmp_path.rglob("*"))
    with pytest.raises(PresetError, match="not a plain name"):
        edit.save(name)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_a_preset_outside_the_presets_folders_is_saved_under_a_new_name_only(presets, tmp_path):
    elsewhere = tmp_path / "elsewhere.yaml"
    shutil.copy(presets / "mine.yaml", elsewhere)
    edit = PresetEdit(check_preset(elsewhere))
    with pytest.raises(PresetError, match="not in a presets folder"):
        edit.save()
    assert edit.save("rescued") == presets / "rescued.yaml"
