"""Editing a preset while it runs: partial changes, undo, saved-vs-edited comparison, save with comments kept.

The studio (``pmmtalk_live.studio``) and scripts change a preset with a *merge patch*: a partial
document of the preset file's own shape (RFC 7386: a mapping merges into the mapping at the same key,
``null`` deletes a key, anything else replaces the value)::

    {"outputs": {"JawOpen": {"gain": 0.9}}, "smoothing": {"eyes": {"filter": "spring", "half_life_ms": 30}}}

The patch goes into the file's round-trip YAML tree (ruamel.yaml: comments, key order and flow style
kept), the tree is written out as text and that text goes through ``check_preset``'s own validation
(``yaml_file.compose`` + ``schema.read_preset``): an edit is refused with exactly the message a preset
file with that value would get, and the preset in use stays. Nothing is written to disk until ``save``,
which writes only into a presets folder (``preset.preset_dirs``), keeps a backup of a file it replaces,
and replaces it atomically.

``document_of`` is the other direction: a validated ``Preset`` as a plain document with the file's keys,
every default filled in (what ``GET /api/preset`` answers).
"""

from __future__ import annotations

import dataclasses
import io
import os
import re
import time
from pathlib import Path

from ruamel.yaml import YAML
import yaml
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.scalarstring import SingleQuotedScalarString
from ruamel.yaml.error import YAMLError

from .. import yaml_file
from ..errors import PresetError
from .preset import MAX_PRESET_BYTES, Preset, check_preset, preset_dirs
from .schema import read_preset

MAX_UNDO = 200
"""Edits ``undo`` can take back; older ones are forgotten."""

PRESET_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
"""A preset name a save may create: a file name in a presets folder, no path, no hidden file."""

MAX_PATCH_DEPTH = 6
"""Deepest nesting of a patch (a preset needs 4: outputs.Name.mix.source)."""


def document_of(preset: Preset) -> dict:
    """``preset`` as a JSON-ready document with the preset file's keys and every default written out."""
    outputs = {}
    for out in preset.outputs:
        curve = {"mix": dict(out.mix), "gain": out.gain, "offset": out.offset,
                 "clamp": list(out.clamp) if out.clamp else "none"}
        if out.region is not None:  # a constant curve (empty mix) has no region to smooth it
            curve["region"] = out.region
        outputs[out.name] = curve
    smoothing = {region: {"filter": s.kind, **dict(s.params)} for region, s in preset.smoothing.items()}
    return {"description": preset.description, "smoothing": smoothing, "idle": dataclasses.asdict(preset.idle),
            "expression": dataclasses.asdict(preset.expression), "outputs": outputs}


class PresetEdit:
    """One preset file being edited: the saved text, the edited text, the undo history.

    Not thread-safe: call it from one thread (the studio's event loop). Every method that changes the
    edit returns the ``Preset`` to run now (validated), or raises PresetError and changes nothing.
    """

    def __init__(self, preset: Preset) -> None:
        self.path = preset.path
        self.saved_text = yaml_file.read_text(preset.path, "preset file", PresetError, MAX_PRESET_BYTES)
        self._yaml = _round_trip()
        self._tree = self._load(self.saved_text)
        self.text = self.saved_text
        """The edited file as it would be saved."""
        self.preset = preset
        """The edited preset (validated); ``saved`` is the file's."""
        self.saved = preset
        self._history: list[tuple[str, Preset]] = []

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def changed(self) -> bool:
        """Whether the edit differs from the saved file."""
        return self.text != self.saved_text

    @property
    def undo_depth(self) -> int:
        return len(self._history)

    def patch(self, changes: dict) -> Preset:
        """Merge ``changes`` into the edit (see the module docstring); the new preset, validated."""
        if not isinstance(changes, dict):
            raise PresetError(f"a preset change is a mapping of the preset file's keys, got {type(changes).__name__}")
        _check_depth(changes, 1)
        _merge(self._tree, changes)  # in place (a copy of the tree costs more than the patch): undone below on failure
        try:
            text = self._dump(self._tree)
            preset = self._validate(text)
        except BaseException:
            self._tree = self._load(self.text)
            raise
        if text == self.text:
            return self.preset
        self._history.append((self.text, self.preset))
        del self._history[:-MAX_UNDO]
        self.text, self.preset = text, preset
        return preset

    def undo(self) -> Preset:
        """Take back the latest change; PresetError when there is none."""
        if not self._history:
            raise PresetError("nothing to undo")
        self.text, self.preset = self._history.pop()
        self._tree = self._load(self.text)
        return self.preset

    def revert(self) -> Preset:
        """Back to the saved file (undoable)."""
        if self.changed:
            self._history.append((self.text, self.preset))
            self.text, self.preset = self.saved_text, self.saved
            self._tree = self._load(self.text)
        return self.preset

    def save(self, name: str | None = None) -> Path:
        """Write the edit over its own file (``name`` None), or as a new preset ``name`` in the user's
        presets folder; returns the path written. The file replaced, if any, is kept as a backup
        (``<name>.yaml.<time>.bak`` beside it). Only presets folders are ever written."""
        if name is None:
            path = self.path.resolve()
            if not any(_inside(path, folder) for folder in preset_dirs()):
                raise PresetError(f"{self.path} is not in a presets folder ({', '.join(map(str, preset_dirs()))}); "
                                  "save it under a new name instead")
        else:
            if not isinstance(name, str) or not PRESET_NAME.fullmatch(name) or name.endswith((".yaml", ".yml")):
                raise PresetError(f"preset name {yaml_file.show(name)} is not a plain name "
                                  "(letters, digits, '_', '-', '.'; no path, no .yaml)")
            path = save_folder() / f"{name}.yaml"
        _write_with_backup(path, self.text)  # the edit validated when it was made
        self.path = path
        self.saved_text = self.text
        self.saved = self.preset = check_preset(path)
        return path

    def _validate(self, text: str, shown: str | None = None) -> Preset:
        shown = shown or f"{self.path} (edited)"
        if len(text.encode("utf-8")) > MAX_PRESET_BYTES:
            raise PresetError(f"{shown}: too large for a preset file (at most {MAX_PRESET_BYTES} bytes)")
        description, outputs, smoothing, idle, expression = read_preset(
            yaml_file.compose(text, shown, PresetError), shown)
        return Preset(self.path.stem, description, self.path, outputs, smoothing, idle, expression)

    def _load(self, text: str):
        try:
            return self._yaml.load(text)
        except YAMLError as failure:  # check_preset read it, so only the round-trip reader's own limits
            raise PresetError(f"{self.path}: cannot edit this file: {yaml_file.shorten(str(failure), 120)}") from None

    def _dump(self, tree) -> str:
        out = io.StringIO()
        self._yaml.dump(tree, out)
        return out.getvalue()


def save_folder() -> Path:
    """Where a preset saved under a new name goes: the first ``PMMTALK_PRESETS`` folder, else the
    user's presets folder."""
    return preset_dirs()[0]


def _round_trip() -> YAML:
    yaml = YAML()  # round-trip: comments, order, flow style and quotes kept
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long description or flow mapping onto a second line
    return yaml


def _check_depth(value, depth: int) -> None:
    if depth > MAX_PATCH_DEPTH:
        raise PresetError(f"a preset change nested more than {MAX_PATCH_DEPTH} levels deep")
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key:
                raise PresetError(f"a preset key must be a name, got {yaml_file.show(key)}")
            _check_depth(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_depth(item, depth + 1)
    elif not (value is None or isinstance(value, (str, int, float, bool))):
        raise PresetError(f"a preset value must be text, a number, true/false or null, got {type(value).__name__}")


def _merge(tree: CommentedMap, changes: dict) -> None:
    """RFC 7386 merge of ``changes`` into ``tree`` in place; new mappings take the flow style of their
    siblings, so ``JawOpen: {mix: ...}`` lines stay one line."""
    for key, value in changes.items():
        if value is None:
            tree.pop(key, None)
        elif isinstance(value, dict):
            current = tree.get(key)
            if not isinstance(current, CommentedMap):
                current = CommentedMap()
                if _flow_siblings(tree):
                    current.fa.set_flow_style()
                tree[key] = current
            _merge(current, value)
        else:
            tree[key] = _as_written(value)


def _as_written(value):
    """A JSON value as YAML text must carry it: a string that PyYAML (YAML 1.1, what reads presets)
    would read as something else (``yes``, ``1e3``, ``~``) is quoted, so text stays text."""
    if isinstance(value, list):
        return [_as_written(item) for item in value]
    if isinstance(value, str):
        try:
            same = yaml.safe_load(value) == value
        except yaml.YAMLError:
            same = False
        return value if same else SingleQuotedScalarString(value)
    return value


def _flow_siblings(tree: CommentedMap) -> bool:
    """Whether the mappings already in ``tree`` are written in flow style (``{a: 1}``)."""
    return any(isinstance(v, CommentedMap) and v.fa.flow_style() for v in tree.values()) or tree.fa.flow_style()


def _inside(path: Path, folder: Path) -> bool:
    try:
        return path.is_relative_to(folder.expanduser().resolve())
    except OSError:
        return False


def _write_with_backup(path: Path, text: str) -> None:
    """``text`` into ``path`` atomically (a temporary file renamed over it); a file there is kept as a backup first."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        if path.exists():
            backup = path.with_name(f"{path.name}.{time.strftime('%Y%m%d-%H%M%S')}.bak")
            backup.write_bytes(path.read_bytes())
        temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, path)
        finally:
            temporary.unlink(missing_ok=True)
    except OSError as failure:
        raise PresetError(f"{path}: cannot save: {failure.strerror or failure}") from None
