"""Retarget presets: source channels -> a target rig's curves, read from a validated YAML file.

A preset (``presets/<name>.yaml``, format in docs/presets.md) gives, for every output curve, a sparse
linear mix of source channels (``rig.SOURCE_CHANNELS``, camelCase) plus a gain, an offset, a clamp
and the face region whose filter smooths it. Every frame goes through, in this order::

    mix (out, src) @ frame -> * gain -> + offset -> smoothing per region -> clamp

Clamping last keeps every sent value inside its range whatever the filters do. The ``idle:`` section
says what the idle layer adds for this rig (``animators.idle.IdleSettings``).

Loading composes the YAML node tree with the safe loader and walks it, so that every error is one
line naming the file, the line and the key::

    presets/foo.yaml:12: outputs.JawOpen.mix.jawOpn: unknown source channel (did you mean 'jawOpen'?)
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml

from .. import rig
from ..animators.idle import IdleSettings
from ..errors import PresetError
from ..tracks import CurveTrack
from .filters import CriticallyDampedFilter, Filter, OneEuroFilter

SHIPPED_PRESETS_DIR = Path(__file__).parents[1] / "presets"
"""The presets that come with the project: the repository's top-level ``presets/``, which the package
reaches through its ``pmmtalk_live/presets`` link (a wheel holds the files themselves)."""

PRESETS_ENV = "PMMTALK_PRESETS"
"""Environment variable: extra preset folders, separated by ``os.pathsep``, searched first."""

USER_PRESETS_DIR = "~/.config/pmmtalk-live/presets"
"""The user's own presets, searched after ``PMMTALK_PRESETS`` and before the shipped ones."""

MAX_PRESET_BYTES = 1 << 20
"""Larger files are refused unread: a preset is a few kilobytes, a 1 MiB file is something else."""

SOURCE_INDEX: dict[str, int] = {name: i for i, name in enumerate(rig.SOURCE_CHANNELS)}
ROTATION_SOURCES: frozenset[str] = frozenset(rig.to_camel(n) for n in rig.ROTATION_NAMES)
"""Head and eye yaw/pitch/roll: signed radians, so outputs mixed only from these are not clamped."""

FILTER_PARAMS: dict[str, dict[str, float | None]] = {
    "none": {},
    "one_euro": {"min_cutoff_hz": None, "beta": None, "d_cutoff_hz": 1.0},
    "spring": {"half_life_ms": None},
}
"""Each filter's parameters as written in a preset, with their defaults (None: required)."""


@dataclass(frozen=True)
class OutputCurve:
    """One output curve: ``gain * sum(weight * source) + offset``, smoothed by ``region``, clamped."""

    name: str
    mix: tuple[tuple[str, float], ...]
    """(source channel, weight) pairs; empty for a constant curve (``offset``)."""
    gain: float = 1.0
    offset: float = 0.0
    clamp: tuple[float, float] | None = (0.0, 1.0)
    """(low, high) after smoothing, or None for signed values such as rotations in radians."""
    region: str | None = None
    """The ``rig.REGIONS`` key whose filter smooths this curve; None for a constant curve."""


@dataclass(frozen=True)
class Smoothing:
    """One region's filter: ``kind`` is a ``FILTER_PARAMS`` key, ``params`` in the preset's units."""

    kind: str = "none"
    params: tuple[tuple[str, float], ...] = ()

    def __str__(self) -> str:
        return " ".join([self.kind] + [f"{k}={v:g}" for k, v in self.params])


@dataclass(frozen=True)
class Preset:
    """A validated retarget preset. Build one with ``load_preset``; run it with ``retargeter``/``apply``."""

    name: str
    """The file name without ``.yaml``."""
    description: str
    path: Path
    outputs: tuple[OutputCurve, ...]
    smoothing: dict[str, Smoothing]
    """One entry per ``rig.REGIONS`` key (``none`` where the file says nothing)."""
    idle: IdleSettings

    @property
    def output_names(self) -> tuple[str, ...]:
        return tuple(out.name for out in self.outputs)

    def retargeter(self, fps: float) -> "Retargeter":
        """A fresh streaming retargeter for frames ``1 / fps`` seconds apart."""
        return Retargeter(self, fps)

    def apply(self, track: CurveTrack) -> CurveTrack:
        """Retarget a whole track, frame by frame through a fresh ``Retargeter`` (same numbers as live).

        ``track.names`` are source channels in any order (absent ones count as 0); the result has
        ``output_names`` at the same fps, float32 of shape (track.num_frames, len(output_names)).
        """
        unknown = [name for name in track.names if name not in SOURCE_INDEX]
        if unknown:
            raise ValueError(f"not source channels: {', '.join(unknown)}")
        frames = np.zeros((track.num_frames, len(rig.SOURCE_CHANNELS)), np.float32)
        frames[:, [SOURCE_INDEX[name] for name in track.names]] = track.values
        retargeter = self.retargeter(track.fps)
        values = np.zeros((track.num_frames, len(self.outputs)), np.float32)
        for t, frame in enumerate(frames):
            values[t] = retargeter.step(frame)
        return CurveTrack(self.output_names, values, track.fps)


class Retargeter:
    """One preset running over a stream at a fixed frame rate; holds the filter state.

    ``step`` costs one (out, src) matrix product and one vectorised update per filter kind: regions
    with the same kind share one filter whose parameters are per-curve arrays.
    """

    def __init__(self, preset: Preset, fps: float):
        if not (math.isfinite(fps) and fps > 0):
            raise ValueError(f"fps must be a positive number, got {fps}")
        self.preset = preset
        self.dt_s = 1.0 / fps
        outputs = preset.outputs
        self._mix = np.zeros((len(outputs), len(rig.SOURCE_CHANNELS)))
        for row, out in enumerate(outputs):
            for source, weight in out.mix:
                self._mix[row, SOURCE_INDEX[source]] = weight
        self._gain = np.array([out.gain for out in outputs])
        self._offset = np.array([out.offset for out in outputs])
        self._low = np.array([out.clamp[0] if out.clamp else -np.inf for out in outputs])
        self._high = np.array([out.clamp[1] if out.clamp else np.inf for out in outputs])
        self._filters: list[tuple[np.ndarray, Filter]] = []
        """(output rows, filter) per filter kind in use."""
        rows_by_kind: dict[str, list[int]] = {}
        for row, out in enumerate(outputs):
            kind = preset.smoothing[out.region].kind if out.region else "none"
            if kind != "none":
                rows_by_kind.setdefault(kind, []).append(row)
        for kind, rows in rows_by_kind.items():
            per_row = [dict(preset.smoothing[outputs[row].region].params) for row in rows]
            params = {name: np.array([p[name] for p in per_row]) for name in FILTER_PARAMS[kind]}
            self._filters.append((np.array(rows, dtype=np.intp), _make_filter(kind, params)))

    def step(self, source_frame: np.ndarray) -> np.ndarray:
        """One frame: float32 (len(rig.SOURCE_CHANNELS),) in that order -> float32 (len(output_names),).

        Non-finite source values count as 0, so one bad frame cannot poison the filter state.
        """
        frame = np.asarray(source_frame, dtype=np.float64)
        if frame.shape != (len(rig.SOURCE_CHANNELS),):
            raise ValueError(f"source frame must have shape ({len(rig.SOURCE_CHANNELS)},), got {frame.shape}")
        frame = np.where(np.isfinite(frame), frame, 0.0)
        curves = self._gain * (self._mix @ frame) + self._offset
        for rows, curve_filter in self._filters:
            curves[rows] = curve_filter.step(curves[rows], self.dt_s)
        return np.clip(curves, self._low, self._high).astype(np.float32)

    def reset(self) -> None:
        """Forget the smoothing state (e.g. between takes): the next frame is not smoothed towards the last."""
        for _, curve_filter in self._filters:
            curve_filter.reset()


def _make_filter(kind: str, params: dict[str, np.ndarray]) -> Filter:
    """A fresh filter of ``kind`` with per-curve ``params`` in the preset's units."""
    if kind == "one_euro":
        return OneEuroFilter(**params)
    if kind == "spring":
        return CriticallyDampedFilter(half_life_s=params["half_life_ms"] / 1000.0)
    raise ValueError(f"no filter named {kind!r}")


# ---------------------------------------------------------------------------------------------------
# Finding presets


@dataclass(frozen=True)
class PresetInfo:
    """A preset found on the search path, for ``pmmtalk-live presets list``."""

    name: str
    path: Path
    description: str
    """The preset's description, or a note that it does not validate (then ``error`` says why)."""
    error: str | None = None


def preset_dirs() -> list[Path]:
    """Where bare preset names are looked up, first match wins: PMMTALK_PRESETS, the user's, the shipped."""
    extra = [Path(p).expanduser() for p in os.environ.get(PRESETS_ENV, "").split(os.pathsep) if p]
    return extra + [Path(USER_PRESETS_DIR).expanduser(), SHIPPED_PRESETS_DIR]


def _found_presets() -> dict[str, Path]:
    found: dict[str, Path] = {}
    for folder in preset_dirs():
        if folder.is_dir():
            for path in sorted(folder.glob("*.yaml")):
                found.setdefault(path.stem, path)
    return found


def _is_path(name_or_path: str | Path) -> bool:
    if isinstance(name_or_path, Path):
        return True
    separators = [s for s in (os.sep, os.altsep, "/") if s]
    return any(s in name_or_path for s in separators) or name_or_path.endswith((".yaml", ".yml"))


def load_preset(name_or_path: str | Path) -> Preset:
    """A preset by file path (``presets/vrm.yaml``, anything with a slash or a .yaml suffix) or by bare
    name (``metahuman``), looked up in ``preset_dirs()``. Raises PresetError."""
    if _is_path(name_or_path):
        return check_preset(name_or_path)
    found = _found_presets()
    if name_or_path in found:
        return check_preset(found[name_or_path])
    searched = ", ".join(str(d) for d in preset_dirs())
    raise PresetError(f"no preset named '{name_or_path}'{_did_you_mean(name_or_path, found)}; "
                      f"available: {', '.join(sorted(found)) or 'none'} (searched {searched})")


def list_presets() -> list[PresetInfo]:
    """Every preset a bare name can reach, sorted by name; a broken file is listed with its error."""
    infos = []
    for name, path in sorted(_found_presets().items()):
        try:
            infos.append(PresetInfo(name, path, check_preset(path).description))
        except PresetError as error:
            infos.append(PresetInfo(name, path, "(does not validate: run `pmmtalk-live presets check`)",
                                    str(error)))
    return infos


def check_preset(path: str | Path) -> Preset:
    """Read and validate one preset file; raises PresetError naming the file, the line and the key."""
    path = Path(path)
    shown = str(path)
    try:
        if path.is_dir():
            raise PresetError(f"{shown}: is a folder, not a preset file")
        if path.exists() and not path.is_file():
            raise PresetError(f"{shown}: not a regular file")
        if path.stat().st_size > MAX_PRESET_BYTES:
            raise PresetError(f"{shown}: {path.stat().st_size} bytes is too large for a preset "
                              f"(at most {MAX_PRESET_BYTES})")
        data = path.read_bytes()
    except FileNotFoundError:
        raise PresetError(f"{shown}: no such file") from None
    except OSError as error:
        raise PresetError(f"{shown}: cannot read: {error.strerror or error}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise PresetError(f"{shown}: not a text file (a preset is UTF-8 YAML)") from None
    return _parse_preset(text, shown, path)


# ---------------------------------------------------------------------------------------------------
# Reading and validating the YAML node tree

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_MERGE_TAG = "tag:yaml.org,2002:merge"
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("map", "seq", "str", "int", "float", "bool", "null")}

_IDLE_SWITCHES = tuple(f.name for f in dataclasses.fields(IdleSettings) if isinstance(f.default, bool))
_IDLE_SCALES = tuple(f.name for f in dataclasses.fields(IdleSettings) if not isinstance(f.default, bool))


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _did_you_mean(word: str, choices) -> str:
    choices = list(choices)
    same_case = [c for c in choices if c.lower() == word.lower()]
    close = same_case or difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _kind(node: yaml.Node) -> str:
    """How an error message shows what the file has at ``node``."""
    if isinstance(node, yaml.MappingNode):
        shown = "a mapping"
    elif isinstance(node, yaml.SequenceNode):
        shown = "a list"
    elif node.tag == "tag:yaml.org,2002:null":
        shown = "nothing"
    else:
        shown = repr(node.value)
    if node.tag not in _PLAIN_TAGS:
        shown += f" tagged {node.tag}"
    return shown


class _Reader:
    """Walks one file's composed node tree; every failure is a PresetError naming file, line and key."""

    def __init__(self, shown: str, loader: yaml.SafeLoader):
        self.shown = shown
        self.loader = loader

    def error(self, line: int, key: str, message: str) -> PresetError:
        return PresetError(f"{self.shown}:{line}: {key + ': ' if key else ''}{message}")

    def entries(self, node: yaml.Node, key: str) -> dict[str, tuple[int, yaml.Node]]:
        """A mapping's entries in file order: name -> (line of the name, value node)."""
        if not isinstance(node, yaml.MappingNode) or node.tag != _MAP_TAG:
            raise self.error(_line(node), key, f"expected a mapping of names to values, got {_kind(node)}")
        first_line: dict[str, int] = {}
        for name_node, _ in node.value:
            if name_node.tag == _MERGE_TAG:
                continue
            name = self.name(name_node, key)
            if name in first_line:
                raise self.error(_line(name_node), _join(key, name),
                                 f"duplicate key (first given on line {first_line[name]})")
            first_line[name] = _line(name_node)
        try:  # YAML merge keys (<<: *anchor): explicit keys win over merged ones, as in yaml.safe_load
            self.loader.flatten_mapping(node)
        except yaml.YAMLError as error:
            raise self.error(_line(node), key, f"bad merge: {getattr(error, 'problem', error)}") from None
        return {self.name(n, key): (_line(n), value) for n, value in node.value}

    def name(self, node: yaml.Node, key: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or not node.value:
            raise self.error(_line(node), key, f"a key must be a plain name, got {_kind(node)}")
        return node.value  # the text as written: keys such as 'on' or 'null' stay names

    def fields(self, node: yaml.Node, key: str, key_line: int, required: tuple[str, ...],
               optional: tuple[str, ...]) -> dict[str, tuple[int, yaml.Node]]:
        """A mapping with exactly these keys: unknown ones and missing required ones are errors."""
        found = self.entries(node, key)
        allowed = required + optional
        for name, (line, _) in found.items():
            if name not in allowed:
                raise self.error(line, _join(key, name), f"unknown key{_did_you_mean(name, allowed)}; "
                                                         f"expected one of: {', '.join(allowed)}")
        for name in required:
            if name not in found:
                raise self.error(key_line, _join(key, name), "required key is missing")
        return found

    def value(self, node: yaml.Node, key: str):
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(_line(node), key, f"expected a single value, got {_kind(node)}")
        try:
            return self.loader.construct_object(node)
        except yaml.YAMLError as error:
            raise self.error(_line(node), key, f"cannot read value: {getattr(error, 'problem', error)}") from None

    def number(self, node: yaml.Node, key: str) -> float:
        value = self.value(node, key) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            hint = " (YAML reads it as true/false)" if isinstance(value, bool) else ""
            if isinstance(value, str) and _parses_as_float(value):
                hint = " (YAML reads it as text: write exponents with a dot and a sign, e.g. 1.0e-3)"
            raise self.error(_line(node), key, f"expected a number, got {_kind(node)}{hint}")
        if not math.isfinite(value):
            raise self.error(_line(node), key, f"expected a finite number, got {node.value}")
        return float(value)

    def boolean(self, node: yaml.Node, key: str) -> bool:
        value = self.value(node, key)
        if not isinstance(value, bool):
            raise self.error(_line(node), key, f"expected true or false, got {_kind(node)}")
        return value

    def text(self, node: yaml.Node, key: str) -> str:
        value = self.value(node, key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(_line(node), key, f"expected some text, got {_kind(node)}")
        return value.strip()

    def choice(self, node: yaml.Node, key: str, choices, what: str) -> str:
        value = self.value(node, key)
        if value not in choices:
            raise self.error(_line(node), key, f"unknown {what} {_kind(node)}{_did_you_mean(str(value), choices)}; "
                                               f"expected one of: {', '.join(choices)}")
        return value


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _parses_as_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _parse_preset(text: str, shown: str, path: Path) -> Preset:
    loader = yaml.SafeLoader(text)
    try:
        root = loader.get_single_node()
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        where = f"{shown}:{mark.line + 1}" if mark else shown
        parts = [getattr(error, "context", None), getattr(error, "problem", None)]
        problem = ", ".join(p for p in parts if p) or str(error).splitlines()[0]
        raise PresetError(f"{where}: not valid YAML: {problem}") from None
    finally:
        loader.dispose()
    if root is None:
        raise PresetError(f"{shown}:1: empty file; a preset needs description, outputs and idle")
    reader = _Reader(shown, loader)
    if not isinstance(root, yaml.MappingNode):
        raise reader.error(_line(root), "", f"not a preset: expected a YAML mapping with description, "
                                            f"outputs and idle, got {_kind(root)}")
    top = reader.fields(root, "", 1, required=("description", "outputs", "idle"), optional=("smoothing",))
    description = reader.text(top["description"][1], "description")
    outputs = _read_outputs(reader, *top["outputs"])
    smoothing = {region: Smoothing() for region in rig.REGIONS}
    if "smoothing" in top:
        smoothing.update(_read_smoothing(reader, *top["smoothing"]))
    idle = _read_idle(reader, *top["idle"])
    return Preset(path.stem, description, path, outputs, smoothing, idle)


def _read_outputs(reader: _Reader, line: int, node: yaml.Node) -> tuple[OutputCurve, ...]:
    entries = reader.entries(node, "outputs")
    if not entries:
        raise reader.error(line, "outputs", "needs at least one output curve")
    return tuple(_read_output(reader, name, *entry) for name, entry in entries.items())


def _read_output(reader: _Reader, name: str, line: int, node: yaml.Node) -> OutputCurve:
    key = f"outputs.{name}"
    found = reader.fields(node, key, line, required=("mix",), optional=("gain", "offset", "clamp", "region"))
    mix = []
    for source, (source_line, weight) in reader.entries(found["mix"][1], f"{key}.mix").items():
        if source not in SOURCE_INDEX:
            raise reader.error(source_line, f"{key}.mix.{source}",
                               f"unknown source channel{_did_you_mean(source, rig.SOURCE_CHANNELS)}")
        mix.append((source, reader.number(weight, f"{key}.mix.{source}")))
    gain = reader.number(found["gain"][1], f"{key}.gain") if "gain" in found else 1.0
    offset = reader.number(found["offset"][1], f"{key}.offset") if "offset" in found else 0.0
    if "clamp" in found:
        clamp = _read_clamp(reader, found["clamp"][1], f"{key}.clamp")
    else:
        signed = bool(mix) and all(source in ROTATION_SOURCES for source, _ in mix)
        clamp = None if signed else (0.0, 1.0)
    if "region" in found:
        region = reader.choice(found["region"][1], f"{key}.region", tuple(rig.REGIONS), "region")
    else:
        region = _dominant_region(mix)
    return OutputCurve(name, tuple(mix), gain, offset, clamp, region)


def _dominant_region(mix: list[tuple[str, float]]) -> str | None:
    """The region of the source with the largest |weight| (the first such in the file on a tie)."""
    if not mix:
        return None
    source, _ = max(mix, key=lambda pair: abs(pair[1]))
    return rig.REGION_OF[source]


def _read_clamp(reader: _Reader, node: yaml.Node, key: str) -> tuple[float, float] | None:
    if isinstance(node, yaml.ScalarNode) and reader.value(node, key) in (None, "none"):
        return None
    if not (isinstance(node, yaml.SequenceNode) and node.tag == _SEQ_TAG and len(node.value) == 2):
        raise reader.error(_line(node), key, f"expected [low, high] or none, got {_kind(node)}")
    low, high = (reader.number(bound, key) for bound in node.value)
    if low > high:
        raise reader.error(_line(node), key, f"low {low:g} is above high {high:g}")
    return (low, high)


def _read_smoothing(reader: _Reader, line: int, node: yaml.Node) -> dict[str, Smoothing]:
    smoothing = {}
    for region, (region_line, spec) in reader.entries(node, "smoothing").items():
        key = f"smoothing.{region}"
        if region not in rig.REGIONS:
            raise reader.error(region_line, key, f"unknown region{_did_you_mean(region, rig.REGIONS)}; "
                                                 f"expected one of: {', '.join(rig.REGIONS)}")
        if isinstance(spec, yaml.ScalarNode):  # shorthand: `eyes: none`
            smoothing[region] = _read_filter(reader, key, region_line, spec, {})
        else:
            found = reader.entries(spec, key)
            if "filter" not in found:
                for name, (name_line, _) in found.items():  # `filtr: spring` is a typo, not a parameter
                    if _did_you_mean(name, ["filter"]):
                        raise reader.error(name_line, f"{key}.{name}", "unknown key (did you mean 'filter'?)")
                raise reader.error(region_line, f"{key}.filter", "required key is missing")
            params = {name: entry for name, entry in found.items() if name != "filter"}
            smoothing[region] = _read_filter(reader, key, region_line, found["filter"][1], params)
    return smoothing


def _read_filter(reader: _Reader, key: str, line: int, kind_node: yaml.Node,
                 params: dict[str, tuple[int, yaml.Node]]) -> Smoothing:
    if isinstance(kind_node, yaml.ScalarNode) and reader.value(kind_node, key) in (False, None):
        raise reader.error(_line(kind_node), f"{key}.filter", f"{_kind(kind_node)} is not a filter; "
                                                              f"write `none` for no smoothing")
    kind = reader.choice(kind_node, f"{key}.filter", tuple(FILTER_PARAMS), "filter")
    schema = FILTER_PARAMS[kind]
    for name, (param_line, _) in params.items():
        if name not in schema:
            expected = ", ".join(schema) or "no parameters"
            raise reader.error(param_line, f"{key}.{name}", f"unknown {kind} parameter"
                                                            f"{_did_you_mean(name, schema)}; expected: {expected}")
    values = []
    for name, default in schema.items():
        if name not in params:
            if default is None:
                raise reader.error(line, f"{key}.{name}", f"required {kind} parameter is missing")
            values.append((name, default))
            continue
        value = reader.number(params[name][1], f"{key}.{name}")
        if value < 0 or (value == 0 and name != "beta"):
            raise reader.error(params[name][0], f"{key}.{name}",
                               f"must be {'>= 0' if name == 'beta' else '> 0'}, got {value:g}")
        values.append((name, value))
    return Smoothing(kind, tuple(values))


def _read_idle(reader: _Reader, line: int, node: yaml.Node) -> IdleSettings:
    found = reader.fields(node, "idle", line, required=_IDLE_SWITCHES, optional=_IDLE_SCALES)
    settings = {name: reader.boolean(found[name][1], f"idle.{name}") for name in _IDLE_SWITCHES}
    for name in _IDLE_SCALES:
        if name in found:
            scale = reader.number(found[name][1], f"idle.{name}")
            if scale < 0:
                raise reader.error(found[name][0], f"idle.{name}", f"must be >= 0, got {scale:g}")
            settings[name] = scale
    return IdleSettings(**settings)


# ---------------------------------------------------------------------------------------------------
# Showing a preset


def describe_preset(preset: Preset) -> str:
    """Multi-line text for ``pmmtalk-live presets show``: curves, mixes, ranges, filters, idle layer."""
    name_width = max(len(name) for name in preset.output_names)
    formulas = [_formula(out) for out in preset.outputs]
    formula_width = min(max(len(f) for f in formulas), 60)
    lines = [f"{preset.name}: {preset.description}", f"file: {preset.path}", "",
             f"{len(preset.outputs)} output curves (mix, gain, offset -> smoothing -> clamp):"]
    for out, formula in zip(preset.outputs, formulas):
        clamp = f"{out.clamp[0]:g}..{out.clamp[1]:g}" if out.clamp else "unclamped"
        smoothed = f"{out.region}: {preset.smoothing[out.region].kind}" if out.region else "constant"
        lines.append(f"  {out.name:<{name_width}} = {formula:<{formula_width}}  [{clamp}, {smoothed}]")
    lines += ["", "smoothing by region:"]
    for region, smoothing in preset.smoothing.items():
        count = sum(out.region == region for out in preset.outputs)
        lines.append(f"  {region:<7} {str(smoothing):<50} ({count} curve{'' if count == 1 else 's'})")
    lines += ["", "idle layer:"]
    for field in dataclasses.fields(IdleSettings):
        value = getattr(preset.idle, field.name)
        lines.append(f"  {field.name}: {str(value).lower() if isinstance(value, bool) else f'{value:g}'}")
    return "\n".join(lines)


def _formula(out: OutputCurve) -> str:
    """``1.25 * (jawOpen - mouthClose) + 0.1``; ``0 (suppressed)`` for an empty mix without offset."""
    terms = ""
    for source, weight in out.mix:
        sign = "-" if weight < 0 else "+"
        size = "" if abs(weight) == 1 else f"{abs(weight):g}*"
        terms += f" {sign} {size}{source}" if terms else f"{'-' if weight < 0 else ''}{size}{source}"
    if not terms:
        return f"{out.offset:g}" if out.offset else "0 (suppressed)"
    formula = terms if out.gain == 1 else f"{out.gain:g} * ({terms})"
    if out.offset:
        formula += f" {'-' if out.offset < 0 else '+'} {abs(out.offset):g}"
    return formula
