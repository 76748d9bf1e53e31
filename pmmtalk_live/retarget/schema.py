"""The retarget preset format: its parts, its limits, and the one validation every preset goes through.

``read_preset`` walks a preset file's YAML node tree (``yaml_file.compose``) and returns its parts, or
raises PresetError with one line naming the file, the line and the key::

    presets/foo.yaml:12: outputs.JawOpen.mix.jawOpn: unknown source channel (did you mean 'jawOpen'?)

Whatever passes here works in every use, so nothing downstream has to check again: every number is
finite and inside a range where the filters stay finite at any frame rate (``FILTER_PARAMS``,
``MAX_MAGNITUDE``, ``MAX_IDLE_SCALE``); every curve name can be a CSV column of a take, an OSC string
and a Live Link curve (``check_curve_name``), distinct from the others ignoring case (receivers and
takes match names that way); and there are at most ``MAX_CURVES``, so one frame fits one OSC datagram
whatever the subject name.
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass

import yaml

from .. import rig
from ..animators.expression import ExpressionSettings
from ..animators.idle import IdleSettings
from ..errors import PresetError
from ..yaml_file import join_key, line_of, merge_keys, shorten, value_of

SOURCE_INDEX: dict[str, int] = {name: i for i, name in enumerate(rig.SOURCE_CHANNELS)}
ROTATION_SOURCES: frozenset[str] = frozenset(rig.to_camel(n) for n in rig.ROTATION_NAMES)
"""Head and eye yaw/pitch/roll: signed radians, so outputs mixed only from these are not clamped."""

MAX_CURVES = 200
"""Most output curves in a preset. One OSC frame must fit a 1472-byte datagram (``sinks.osc``): with
the longest subject name (255 bytes) that is 232 float32 values; Live Link Face packets carry the 61
ARKit curves whatever the preset, and CSV takes have no limit."""

MAX_CURVE_NAME_BYTES = 64
"""Longest curve name in UTF-8 bytes (ARKit names are at most 19, MetaHuman controls about 40)."""

FORBIDDEN_NAME_CHARACTERS = ',"'
"""Characters a curve name cannot hold: they would split or quote a CSV take's column."""

RESERVED_NAMES = frozenset(name.lower() for name in rig.CSV_COLUMNS[:2])
"""A take's own columns (``Timecode``, ``BlendshapeCount``), which a curve would clash with."""

MAX_MAGNITUDE = 1000.0
"""Largest |weight|, |gain|, |offset| and |clamp bound|: a curve stays a finite float32 whatever the
sources (0..1, radians) and the filters do."""

MAX_IDLE_SCALE = 10.0
"""Largest ``*_scale`` of the idle section (1 = the idle layer's natural amplitude)."""

MAX_EXPRESSION_SCALE = 3.0
"""Largest scale of the expression section (1 = as designed; beyond 3 the face caricatures)."""
MAX_BLEND_MS = 10_000.0
"""Slowest emotion change (``expression.blend_ms``)."""


@dataclass(frozen=True)
class Param:
    """One filter parameter as written in a preset: its default (None: required) and its range."""

    default: float | None
    low: float
    high: float
    low_open: bool = False
    """True: ``low`` itself is excluded (``> low``)."""


FILTER_PARAMS: dict[str, dict[str, Param]] = {
    "none": {},
    "one_euro": {"min_cutoff_hz": Param(None, 0.0, 1000.0, low_open=True),
                 "beta": Param(None, 0.0, 1000.0),
                 "d_cutoff_hz": Param(1.0, 0.0, 1000.0, low_open=True)},
    "spring": {"half_life_ms": Param(None, 0.1, 60_000.0)},
}
"""Each filter's parameters as written in a preset, in the preset's units. The ranges keep the filter
state finite at any frame rate (a spring of 1e-300 ms would overflow to NaN); beyond them a filter
does nothing more that a user could see."""


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


def check_curve_name(name: str) -> str | None:
    """Why ``name`` cannot be an output curve (a take's CSV column, an OSC string, a Live Link curve),
    or None when it can."""
    if not name.strip():
        return "a curve name cannot be empty"
    if name != name.strip():
        return "a curve name cannot start or end with spaces"
    if len(name.encode("utf-8")) > MAX_CURVE_NAME_BYTES:
        return f"a curve name is at most {MAX_CURVE_NAME_BYTES} bytes"
    bad = next((c for c in name if not c.isprintable() or c in FORBIDDEN_NAME_CHARACTERS), None)
    if bad is not None:
        return f"a curve name cannot contain {bad!r} (a take's CSV header would break)"
    if name.lower() in RESERVED_NAMES:
        return f"'{name}' is a column of every take; choose another name"
    return None


def did_you_mean(word: str, choices) -> str:
    choices = list(choices)
    same_case = [c for c in choices if c.lower() == word.lower()]
    close = same_case or difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    return f" (did you mean '{close[0]}'?)" if close else ""


def read_preset(root: yaml.Node | None, shown: str) -> tuple[str, tuple[OutputCurve, ...], dict[str, Smoothing],
                                                             IdleSettings, ExpressionSettings]:
    """(description, outputs, smoothing per region, idle settings, expression settings) of a composed
    preset file."""
    if root is None:
        raise PresetError(f"{shown}:1: empty file; a preset needs description, outputs and idle")
    reader = _Reader(shown)
    if not isinstance(root, yaml.MappingNode):
        raise reader.error(line_of(root), "", f"not a preset: expected a YAML mapping with description, "
                                              f"outputs and idle, got {_kind(root)}")
    top = reader.fields(root, "", 1, required=("description", "outputs", "idle"), optional=("smoothing", "expression"))
    description = reader.text(top["description"][1], "description")
    outputs = _read_outputs(reader, *top["outputs"])
    smoothing = {region: Smoothing() for region in rig.REGIONS}
    if "smoothing" in top:
        smoothing.update(_read_smoothing(reader, *top["smoothing"]))
    idle = _read_idle(reader, *top["idle"])
    expression = _read_expression(reader, *top["expression"]) if "expression" in top else ExpressionSettings()
    return description, outputs, smoothing, idle, expression


# ---------------------------------------------------------------------------------------------------
# Walking the node tree

_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_PLAIN_TAGS = {f"tag:yaml.org,2002:{t}" for t in ("map", "seq", "str", "int", "float", "bool", "null")}

_EXPRESSION_FIELDS = tuple(f.name for f in dataclasses.fields(ExpressionSettings))
_IDLE_SWITCHES = tuple(f.name for f in dataclasses.fields(IdleSettings) if isinstance(f.default, bool))
_IDLE_SCALES = tuple(f.name for f in dataclasses.fields(IdleSettings) if not isinstance(f.default, bool))


def _kind(node: yaml.Node) -> str:
    """How an error message shows what the file has at ``node`` (short: never a page of the file)."""
    if isinstance(node, yaml.MappingNode):
        shown = "a mapping"
    elif isinstance(node, yaml.SequenceNode):
        shown = "a list"
    elif node.tag == "tag:yaml.org,2002:null":
        shown = "nothing"
    else:
        shown = repr(shorten(node.value))
    if node.tag not in _PLAIN_TAGS:
        shown += f" tagged {shorten(node.tag)}"
    return shown


class _Reader:
    """Walks one file's composed node tree; every failure is a PresetError naming file, line and key."""

    def __init__(self, shown: str):
        self.shown = shown

    def error(self, line: int, key: str, message: str) -> PresetError:
        return PresetError(f"{self.shown}:{line}: {key + ': ' if key else ''}{message}")

    def entries(self, node: yaml.Node, key: str) -> dict[str, tuple[int, yaml.Node]]:
        """A mapping's entries in file order: name -> (line of the name, value node). Duplicate keys
        were refused when the file was composed."""
        if not isinstance(node, yaml.MappingNode) or node.tag != _MAP_TAG:
            raise self.error(line_of(node), key, f"expected a mapping of names to values, got {_kind(node)}")
        try:  # YAML merge keys (<<: *anchor): explicit keys win over merged ones, as in yaml.safe_load
            merge_keys(node)
        except ValueError as problem:
            raise self.error(line_of(node), key, f"bad merge: {problem}") from None
        return {self.name(n, key): (line_of(n), value) for n, value in node.value}

    def name(self, node: yaml.Node, key: str) -> str:
        if not isinstance(node, yaml.ScalarNode) or not node.value:
            raise self.error(line_of(node), key, f"a key must be a plain name, got {_kind(node)}")
        return node.value  # the text as written: keys such as 'on' or 'null' stay names

    def fields(self, node: yaml.Node, key: str, key_line: int, required: tuple[str, ...],
               optional: tuple[str, ...]) -> dict[str, tuple[int, yaml.Node]]:
        """A mapping with exactly these keys: unknown ones and missing required ones are errors."""
        found = self.entries(node, key)
        allowed = required + optional
        for name, (line, _) in found.items():
            if name not in allowed:
                raise self.error(line, join_key(key, name), f"unknown key{did_you_mean(name, allowed)}; "
                                                            f"expected one of: {', '.join(allowed)}")
        for name in required:
            if name not in found:
                raise self.error(key_line, join_key(key, name), "required key is missing")
        return found

    def value(self, node: yaml.Node, key: str):
        if not isinstance(node, yaml.ScalarNode):
            raise self.error(line_of(node), key, f"expected a single value, got {_kind(node)}")
        try:
            return value_of(node)
        except ValueError as problem:
            raise self.error(line_of(node), key, f"cannot read value: {problem}") from None

    def number(self, node: yaml.Node, key: str, low: float = -MAX_MAGNITUDE, high: float = MAX_MAGNITUDE,
               low_open: bool = False) -> float:
        """A finite number in [low, high] (``(low, high]`` when ``low_open``)."""
        value = self.value(node, key) if isinstance(node, yaml.ScalarNode) else None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            hint = " (YAML reads it as true/false)" if isinstance(value, bool) else ""
            if isinstance(value, str) and _parses_as_float(value):
                hint = " (YAML reads it as text: write exponents with a dot and a sign, e.g. 1.0e-3)"
            raise self.error(line_of(node), key, f"expected a number, got {_kind(node)}{hint}")
        try:
            number = float(value)
        except OverflowError:
            number = float("inf") if value > 0 else float("-inf")
        if not (low < number if low_open else low <= number) or not number <= high:
            raise self.error(line_of(node), key, f"must be {'>' if low_open else '>='} {low:g} and <= {high:g}, "
                                                 f"got {shorten(node.value)}")
        return number

    def boolean(self, node: yaml.Node, key: str) -> bool:
        value = self.value(node, key)
        if not isinstance(value, bool):
            raise self.error(line_of(node), key, f"expected true or false, got {_kind(node)}")
        return value

    def text(self, node: yaml.Node, key: str) -> str:
        value = self.value(node, key)
        if not isinstance(value, str) or not value.strip():
            raise self.error(line_of(node), key, f"expected some text, got {_kind(node)}")
        return value.strip()

    def choice(self, node: yaml.Node, key: str, choices, what: str) -> str:
        value = self.value(node, key)
        if value not in choices:
            raise self.error(line_of(node), key, f"unknown {what} {_kind(node)}{did_you_mean(str(value), choices)}; "
                                                 f"expected one of: {', '.join(choices)}")
        return value


def _parses_as_float(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_outputs(reader: _Reader, line: int, node: yaml.Node) -> tuple[OutputCurve, ...]:
    entries = reader.entries(node, "outputs")
    if not entries:
        raise reader.error(line, "outputs", "needs at least one output curve")
    if len(entries) > MAX_CURVES:
        raise reader.error(line, "outputs", f"{len(entries)} curves; a preset has at most {MAX_CURVES} "
                                            f"(one OSC frame must fit a datagram)")
    first_line: dict[str, tuple[str, int]] = {}
    for name, (name_line, _) in entries.items():
        problem = check_curve_name(name)
        if problem:
            raise reader.error(name_line, join_key("outputs", name), problem)
        if name.lower() in first_line:
            other, other_line = first_line[name.lower()]
            raise reader.error(name_line, join_key("outputs", name),
                               f"same name as '{other}' (line {other_line}) ignoring case; receivers and "
                               f"takes match curve names ignoring case")
        first_line[name.lower()] = (name, name_line)
    return tuple(_read_output(reader, name, *entry) for name, entry in entries.items())


def _read_output(reader: _Reader, name: str, line: int, node: yaml.Node) -> OutputCurve:
    key = join_key("outputs", name)
    found = reader.fields(node, key, line, required=("mix",), optional=("gain", "offset", "clamp", "region"))
    mix = []
    for source, (source_line, weight) in reader.entries(found["mix"][1], f"{key}.mix").items():
        if source not in SOURCE_INDEX:
            raise reader.error(source_line, join_key(f"{key}.mix", source),
                               f"unknown source channel{did_you_mean(source, rig.SOURCE_CHANNELS)}")
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
        raise reader.error(line_of(node), key, f"expected [low, high] or none, got {_kind(node)}")
    low, high = (reader.number(bound, key) for bound in node.value)
    if low > high:
        raise reader.error(line_of(node), key, f"low {low:g} is above high {high:g}")
    return (low, high)


def _read_smoothing(reader: _Reader, line: int, node: yaml.Node) -> dict[str, Smoothing]:
    smoothing = {}
    for region, (region_line, spec) in reader.entries(node, "smoothing").items():
        key = join_key("smoothing", region)
        if region not in rig.REGIONS:
            raise reader.error(region_line, key, f"unknown region{did_you_mean(region, rig.REGIONS)}; "
                                                 f"expected one of: {', '.join(rig.REGIONS)}")
        if isinstance(spec, yaml.ScalarNode):  # shorthand: `eyes: none`
            smoothing[region] = _read_filter(reader, key, region_line, spec, {})
        else:
            found = reader.entries(spec, key)
            if "filter" not in found:
                for name, (name_line, _) in found.items():  # `filtr: spring` is a typo, not a parameter
                    if did_you_mean(name, ["filter"]):
                        raise reader.error(name_line, join_key(key, name), "unknown key (did you mean 'filter'?)")
                raise reader.error(region_line, f"{key}.filter", "required key is missing")
            params = {name: entry for name, entry in found.items() if name != "filter"}
            smoothing[region] = _read_filter(reader, key, region_line, found["filter"][1], params)
    return smoothing


def _read_filter(reader: _Reader, key: str, line: int, kind_node: yaml.Node,
                 params: dict[str, tuple[int, yaml.Node]]) -> Smoothing:
    if isinstance(kind_node, yaml.ScalarNode) and reader.value(kind_node, key) in (False, None):
        raise reader.error(line_of(kind_node), f"{key}.filter", f"{_kind(kind_node)} is not a filter; "
                                                                f"write `none` for no smoothing")
    kind = reader.choice(kind_node, f"{key}.filter", tuple(FILTER_PARAMS), "filter")
    schema = FILTER_PARAMS[kind]
    for name, (param_line, _) in params.items():
        if name not in schema:
            expected = ", ".join(schema) or "no parameters"
            raise reader.error(param_line, join_key(key, name), f"unknown {kind} parameter"
                                                                f"{did_you_mean(name, schema)}; expected: {expected}")
    values = []
    for name, param in schema.items():
        if name in params:
            values.append((name, reader.number(params[name][1], f"{key}.{name}", param.low, param.high,
                                               param.low_open)))
        elif param.default is None:
            raise reader.error(line, f"{key}.{name}", f"required {kind} parameter is missing")
        else:
            values.append((name, param.default))
    return Smoothing(kind, tuple(values))


def _read_idle(reader: _Reader, line: int, node: yaml.Node) -> IdleSettings:
    found = reader.fields(node, "idle", line, required=_IDLE_SWITCHES, optional=_IDLE_SCALES)
    settings = {name: reader.boolean(found[name][1], f"idle.{name}") for name in _IDLE_SWITCHES}
    for name in _IDLE_SCALES:
        if name in found:
            settings[name] = reader.number(found[name][1], f"idle.{name}", 0.0, MAX_IDLE_SCALE)
    return IdleSettings(**settings)


def _read_expression(reader: _Reader, line: int, node: yaml.Node) -> ExpressionSettings:
    found = reader.fields(node, "expression", line, required=(), optional=_EXPRESSION_FIELDS)
    values = {}
    for name, (_, value) in found.items():
        high = MAX_BLEND_MS if name == "blend_ms" else MAX_EXPRESSION_SCALE
        values[name] = reader.number(value, f"expression.{name}", 0.0, high)
    return ExpressionSettings(**values)
