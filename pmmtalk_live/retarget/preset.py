"""Retarget presets: source channels -> a target rig's curves, read from a validated YAML file.

A preset (``presets/<name>.yaml``, format in docs/presets.md) gives, for every output curve, a sparse
linear mix of source channels (``rig.SOURCE_CHANNELS``, camelCase) plus a gain, an offset, a clamp
and the face region whose filter smooths it. Every frame goes through, in this order::

    mix (out, src) @ frame -> * gain -> + offset -> smoothing per region -> clamp

Clamping last keeps every sent value inside its range whatever the filters do. The ``idle:`` section
says what the idle layer adds for this rig (``animators.idle.IdleSettings``).

Every preset, whatever asks for it (``presets check``, ``animate --preset``, ``serve``, a reload of
the file while serving, a remote ``/Preset``), is built by ``check_preset``: ``yaml_file`` reads and
composes the file, ``schema.read_preset`` validates it once, completely (one line naming the file, the
line and the key on any failure). A ``Preset`` therefore always runs: finite values, curve names every
sink takes, a frame that fits every sink.
"""

from __future__ import annotations

import dataclasses
import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import rig, yaml_file
from ..animators.expression import ExpressionSettings
from ..animators.idle import IdleSettings
from ..errors import PresetError
from ..tracks import CurveTrack
from .filters import CriticallyDampedFilter, Filter, OneEuroFilter
from .schema import FILTER_PARAMS, SOURCE_INDEX, OutputCurve, Smoothing, did_you_mean, read_preset

SHIPPED_PRESETS_DIR = Path(__file__).parents[1] / "presets"
"""The presets that come with the project: the repository's top-level ``presets/``, which the package
reaches through its ``pmmtalk_live/presets`` link (a wheel holds the files themselves)."""

PRESETS_ENV = "PMMTALK_PRESETS"
"""Environment variable: extra preset folders, separated by ``os.pathsep``, searched first."""

USER_PRESETS_DIR = "~/.config/pmmtalk-live/presets"
"""The user's own presets, searched after ``PMMTALK_PRESETS`` and before the shipped ones."""

MAX_PRESET_BYTES = 1 << 20
"""Larger files are refused unread: a preset is a few kilobytes, a 1 MiB file is something else."""

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
    expression: ExpressionSettings = ExpressionSettings()
    """What the expression layer and the emotion add for this rig (the file's ``expression:`` section)."""

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

    def continue_from(self, other: "Retargeter") -> None:
        """Take over ``other``'s smoothing state wherever a filter of the same kind smooths the same curves
        (by name), so a preset changed while it runs (a slider in the studio, a file reload) goes on
        without a jump; any other filter starts afresh."""
        theirs = {(type(f), tuple(other.preset.output_names[r] for r in rows)): f for rows, f in other._filters}
        names = self.preset.output_names
        for rows, curve_filter in self._filters:
            previous = theirs.get((type(curve_filter), tuple(names[r] for r in rows)))
            if previous is not None:
                curve_filter.take_state(previous)


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
    raise PresetError(f"no preset named '{name_or_path}'{did_you_mean(name_or_path, found)}; "
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
    text = yaml_file.read_text(path, "preset file", PresetError, MAX_PRESET_BYTES)
    description, outputs, smoothing, idle, expression = read_preset(
        yaml_file.compose(text, str(path), PresetError), str(path))
    return Preset(path.stem, description, path, outputs, smoothing, idle, expression)


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
    lines += ["", "expression layer and emotion (scales):"]
    for field in dataclasses.fields(ExpressionSettings):
        lines.append(f"  {field.name}: {getattr(preset.expression, field.name):g}")
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
