"""Plot a take for a quick look: the waveform above the curves, one panel per face region, time in seconds.

Uses matplotlib's Agg canvas directly (no pyplot, no global backend switch), so it is safe in a daemon.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import soundfile
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from . import rig
from .errors import TakeError
from .sinks.csv_take import Take, read_take
from .timecode import format_timecode

PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("jaw, tongue", rig.REGIONS["jaw"] + rig.REGIONS["tongue"]),
    ("lips", rig.REGIONS["lips"]),
    ("cheeks, nose", rig.REGIONS["cheeks"] + rig.REGIONS["nose"]),
    ("eyes", rig.REGIONS["eyes"]),
    ("brows", rig.REGIONS["brows"]),
    ("head", rig.REGIONS["head"]),
)
"""Curve panels, top to bottom, as (title, source channels); take columns match them case-insensitively.
Columns in none of them go to a last 'other' panel."""

LEGEND_CURVES = 4
"""How many curves per panel get a colour and a legend entry (the strongest by peak); the rest are grey."""

_WAVEFORM_BINS = 4000
_ROTATIONS = {name.lower() for name in rig.ROTATION_NAMES}


def plot_take(csv_path: str | os.PathLike, png_path: str | os.PathLike,
              audio_path: str | os.PathLike | None = None) -> Path:
    """Draw the take at ``csv_path`` into ``png_path``; returns ``png_path``.

    The image type comes from the extension (``.png``, ``.jpg``, ``.svg``, ``.pdf``, ...); a name
    without one is a PNG written under exactly that name. The waveform comes from ``audio_path``, else
    the WAV beside the take, else is left out; its first sample is drawn at the first row's time.
    Raises TakeError for a take (or its audio) that cannot be read, a take without rows, an unknown
    image type, or an image that cannot be written.
    """
    image_format = _image_format(png_path)
    take = read_take(csv_path)
    if take.num_frames == 0:
        raise TakeError(f"{take.path}: no rows to plot")
    audio_path = Path(audio_path) if audio_path is not None else take.audio_path
    panels = _panels(take.names)

    figure = Figure(figsize=(12, 1.0 + 1.9 * (len(panels) + (audio_path is not None))), layout="constrained")
    FigureCanvasAgg(figure)
    axes = list(figure.subplots(len(panels) + (audio_path is not None), 1, sharex=True, squeeze=False)[:, 0])
    figure.suptitle(f"{take.path.name}: {take.num_frames} rows at {take.fps:g} fps, "
                    f"{take.times_s[-1]:.2f} s from {format_timecode(take.timecodes_s[0] % 86_400)}")
    if audio_path is not None:
        _plot_waveform(axes.pop(0), audio_path)
    for ax, (title, columns) in zip(axes, panels):
        _plot_curves(ax, title, take, columns)
    axes[-1].set_xlabel("time (s)")
    try:
        figure.savefig(png_path, dpi=100, format=image_format)
    except OSError as error:
        raise TakeError(f"cannot write plot {png_path}: {error.strerror or error}") from None
    return Path(png_path)


def _image_format(path: str | os.PathLike) -> str:
    """The image type named by ``path``'s extension; none = PNG. Matplotlib itself would add ``.png``
    to the name, so the image would not be where the user said."""
    suffix = Path(path).suffix.lower().lstrip(".")
    if not suffix:
        return "png"
    known = FigureCanvasAgg(Figure()).get_supported_filetypes()
    if suffix not in known:
        raise TakeError(f"cannot write plot {path}: unknown image type '.{suffix}' (use one of: "
                        f"{', '.join(sorted(known))})")
    return suffix


def _panels(names: tuple[str, ...]) -> list[tuple[str, list[int]]]:
    """(title, column indices) for each panel with at least one column, in ``PANELS`` order, then 'other'."""
    panel_of = {rig.to_pascal(channel).lower(): title for title, channels in PANELS for channel in channels}
    columns: dict[str, list[int]] = {title: [] for title, _ in PANELS}
    columns["other"] = []
    for index, name in enumerate(names):
        columns[panel_of.get(name.lower(), "other")].append(index)
    return [(title, indices) for title, indices in columns.items() if indices]


def _plot_waveform(ax, audio_path: Path) -> None:
    try:
        samples, sample_rate_hz = soundfile.read(audio_path, dtype="float32", always_2d=True)
    except (OSError, RuntimeError) as error:  # soundfile's LibsndfileError is a RuntimeError
        raise TakeError(f"{audio_path}: cannot read the take's audio: {error}") from None
    samples = samples.mean(axis=1)
    # A min/max envelope per bin draws a long take's waveform in a blink and looks the same.
    bins = min(_WAVEFORM_BINS, max(len(samples), 1))
    edges = np.linspace(0, len(samples), bins + 1).astype(int)
    starts = edges[:-1][np.diff(edges) > 0]
    if len(samples):
        ax.fill_between(starts / sample_rate_hz, np.minimum.reduceat(samples, starts),
                        np.maximum.reduceat(samples, starts), color="0.3", linewidth=0.5, step="post")
    ax.set_ylim(-1.05, 1.05)
    ax.set_ylabel("amplitude")
    ax.set_title(f"audio: {audio_path.name} ({len(samples) / sample_rate_hz:.2f} s at {sample_rate_hz} Hz)",
                 loc="left", fontsize=9)


def _plot_curves(ax, title: str, take: Take, columns: list[int]) -> None:
    peaks = np.abs(take.values[:, columns]).max(axis=0)
    order = np.argsort(-peaks, kind="stable")
    strongest = {columns[i] for i in order[:LEGEND_CURVES] if peaks[i] > 0}
    for column in columns:
        if column not in strongest:
            ax.plot(take.times_s, take.values[:, column], color="0.75", linewidth=0.7)
    for i in order:
        if columns[i] in strongest:
            ax.plot(take.times_s, take.values[:, columns[i]], linewidth=1.2,
                    label=f"{take.names[columns[i]]} (peak {peaks[i]:.2f})")
    note = "" if strongest else ", all 0"
    if not strongest:
        ax.set_ylim(-0.05, 1.0)  # a flat line at 0 on a 0..1 scale, not centred in a tiny range
    ax.set_title(f"{title} ({len(columns)} curves{note})", loc="left", fontsize=9)
    is_rotation = all(take.names[c].lower() in _ROTATIONS for c in columns)
    ax.set_ylabel("radians" if is_rotation else "weight")
    if strongest:
        ax.legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=7, frameon=False)  # off the curves
