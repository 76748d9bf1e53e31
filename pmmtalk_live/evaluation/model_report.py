"""The evaluation report of the PMMTalk model (``make eval``): docs/evaluation.md and its plots.

    python -m pmmtalk_live.evaluation.model_report --ckpt default --out docs/evaluation.md

What is measured, on which data and systems, is ``model_measures``; from those numbers this module
takes the verdict, the weak points and the speed line, and writes the tables, the plots and the
report.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np
import torch
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from .. import rig
from ..animators.pmmtalk import min_lookahead_s
from ..model.checkpoint import WEIGHTS, CheckpointError
from ..animators import DEFAULT_MODEL
from ..model.inference import checkpoint_folder, load_model
from ..model.pmmtalk import PMMTalk
from ..threads import use_one_thread
from . import curve_errors, lipsync, sets
from .live_report import continuous_speech
from .model_measures import (  # noqa: F401  (also the names the report's tests read from here)
    AUDIO_ONLY, AUDIO_TEXT, BEFORE_CKPT, BEFORE_LIVE, BEFORE_OFFLINE, CORPUS_HOURS, CORPUS_SEED,
    DEFAULT_LOOKAHEAD_MS, LIVE_SYSTEMS, LOOKAHEADS_MS, LOUDNESS, MEASURES, OFFLINE_PHONETIC, PHONETIC, PMMTALK,
    SHORT, SPEED_SECONDS, VERDICT_MEASURES, VISUAL, DataSet, Measure, Result, RowKey, Sample, Scores, Speed,
    corpus_sets, evaluate, measure_speed, real_samples, real_sets, rows, score_rows,
)

# --- verdict and weak points ------------------------------------------------------------------------------

@dataclass
class Check:
    """``system`` against ``other`` on one measure: strictly better (``strict``) or no worse."""

    measure: Measure
    system: str
    other: str
    value: float | None
    other_value: float | None
    strict: bool

    @property
    def ok(self) -> bool | None:
        """None: a figure is missing, so it cannot pass."""
        if self.value is None or self.other_value is None:
            return None
        if self.strict:
            return self.measure.beats(self.value, self.other_value)
        return not self.measure.beats(self.other_value, self.value)

    @property
    def text(self) -> str:
        key = self.measure.key
        word = "beats" if self.strict else "no worse than"
        value, other_value = _fmt_pair(key, self.value, self.other_value)
        return f"{self.measure.label}: {SHORT[self.system]} {value} {word} {SHORT[self.other]} {other_value}"


def compare(scores: dict[RowKey, Scores | None], row: RowKey, other: RowKey, key: str, strict: bool) -> Check:
    measure = MEASURES[key]
    value, other_value = (None if scores.get(k) is None else measure.of(scores[k]) for k in (row, other))
    return Check(measure, row[0], other[0], value, other_value, strict)


def verdict(scores: dict[RowKey, Scores | None], lookahead_ms: int = DEFAULT_LOOKAHEAD_MS) -> list[Check]:
    """The issue's bar at ``lookahead_ms``: the model live beats the loudness-only jaw, and is no worse
    than the live phonetic animator, on each of ``VERDICT_MEASURES``."""
    model, loudness, phonetic = ((s, lookahead_ms) for s in (PMMTALK, LOUDNESS, PHONETIC))
    return ([compare(scores, model, loudness, key, strict=True) for key in VERDICT_MEASURES]
            + [compare(scores, model, phonetic, key, strict=False) for key in VERDICT_MEASURES])


def weak_points(results: list[Result], lookahead_ms: int = DEFAULT_LOOKAHEAD_MS) -> list[str]:
    """Per data set, the measures where the model live at ``lookahead_ms`` is worse than the live
    phonetic animator (any measure), and those of the verdict where it does not beat the loudness-only
    jaw: one line each, none where there are none."""
    lines = []
    for result in results:
        for other, strict, what in ((PHONETIC, False, "worse than"), (LOUDNESS, True, "not better than")):
            keys = VERDICT_MEASURES if strict else MEASURES
            failed = [c for c in (compare(result.scores, (PMMTALK, lookahead_ms), (other, lookahead_ms), key, strict)
                                  for key in keys) if c.ok is False]
            if failed:
                lines.append(f"- {result.dataset.title}: {what} {SHORT[other]} on " + "; ".join(
                    f"{c.measure.label} ({' vs '.join(_fmt_pair(c.measure.key, c.value, c.other_value))})"
                    for c in failed))
    return lines


def check_lines(checks: list[Check]) -> str:
    return "\n".join(f"- {'PASS' if c.ok else 'FAIL'}: {c.text}" for c in checks)


# --- tables ------------------------------------------------------------------------------------------------

def _fmt(key: str, value: float | None, extra_digits: int = 0) -> str:
    if value is None:
        return "-"
    if key == "lag_ms":
        return f"{value:+.0f} ms"
    if key == "aperture_ratio":
        return f"{value:.{1 + extra_digits}f}x"
    digits = 3 if key in ("lip_max_error", "lip_mean_error", "jitter_prediction") else 2
    return f"{value:.{digits + extra_digits}f}"


def _fmt_pair(key: str, value: float | None, other: float | None) -> tuple[str, str]:
    """Two figures to compare, with as many more digits (up to 3) as it takes to tell them apart."""
    for extra in range(4):
        pair = _fmt(key, value, extra), _fmt(key, other, extra)
        if pair[0] != pair[1] or value == other or None in (value, other):
            break
    return pair


def _lookahead(key: RowKey) -> str:
    if key[1] is not None:
        return f"{key[1]} ms"
    return "whole file" if key[0] == OFFLINE_PHONETIC else "offline"


def table(scores: dict[RowKey, Scores | None], model: PMMTalk, fps: float) -> str:
    lines = ["| system | look-ahead | lip error, max | lip error, mean | closure events | bilabial closures | "
             "aperture ratio | openness correlation | jitter | lag |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for key, s in scores.items():
        head = f"| {key[0]} | {_lookahead(key)} |"
        if s is None:
            why = (f"not available (needs {min_lookahead_s(model, fps) * 1000:.0f} ms)" if key[0] == PMMTALK
                   else "not available (no Wav2Lip weights offline)" if key[0] == VISUAL else "not available")
            lines.append(f"{head} {why} |  |  |  |  |  |  |  |")
            continue
        f, ls = s.figures, s.lipsync
        events = f"{_fmt('closure_rate', f['closure_rate'])} ({f['closures_hit']}/{f['closure_events']})"
        bilabial = f"{_fmt('closure_rate', ls.closure_rate if ls.bilabials else None)} ({ls.closures}/{ls.bilabials})"
        lines.append(f"{head} {_fmt('lip_max_error', f['lip_max_error'])} | {_fmt('lip_mean_error', f['lip_mean_error'])}"
                     f" | {events} | {bilabial} | {_fmt('aperture_ratio', ls.aperture_ratio)} | "
                     f"{_fmt('openness_correlation', ls.openness_correlation)} | "
                     f"{_fmt('jitter_prediction', f['jitter_prediction'])} | {_fmt('lag_ms', f['lag_ms'])} |")
    return "\n".join(lines)


# --- plots -------------------------------------------------------------------------------------------------

BAR_MEASURES = ("lip_max_error", "lip_mean_error", "closure_rate", "bilabial_closure_rate", "openness_correlation")
PLOT_COLOURS = {"reference": "black", PMMTALK: "tab:blue", PHONETIC: "tab:orange", LOUDNESS: "0.55",
                AUDIO_ONLY: "tab:green", OFFLINE_PHONETIC: "tab:red"}


def _figure(width: float, height: float) -> Figure:
    figure = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(figure)  # Agg directly, as plot.py: no pyplot state
    return figure


def plot_bars(result: Result, path: Path, lookahead_ms: int = DEFAULT_LOOKAHEAD_MS) -> Path:
    """The main measures per system (live ones at ``lookahead_ms``), one panel per measure."""
    keys = [(s, lookahead_ms) for s in LIVE_SYSTEMS] + [(AUDIO_ONLY, None), (OFFLINE_PHONETIC, None)]
    keys = [k for k in keys if result.scores.get(k) is not None]
    figure = _figure(3.0 * len(BAR_MEASURES), 3.6)
    figure.suptitle(f"{result.dataset.title}: live systems at {lookahead_ms} ms look-ahead", fontsize=10)
    for ax, key in zip(figure.subplots(1, len(BAR_MEASURES)), BAR_MEASURES):
        measure = MEASURES[key]
        values = [measure.of(result.scores[k]) for k in keys]
        heights = [v if v is not None else 0.0 for v in values]
        bars = ax.bar(range(len(keys)), heights, color=[PLOT_COLOURS[k[0]] for k in keys])
        ax.bar_label(bars, [_fmt(key, v) for v in values], fontsize=7)
        ax.set_xticks(range(len(keys)), [SHORT[k[0]] for k in keys], rotation=35, ha="right", fontsize=7)
        ax.set_title(f"{measure.label} ({measure.better} is better)", fontsize=8)
        ax.margins(y=0.15)
    figure.savefig(path, dpi=100)
    return path


def plot_example(result: Result, path: Path, fps: float, lookahead_ms: int = DEFAULT_LOOKAHEAD_MS) -> Path:
    """One utterance's jaw, lip closure and lip aperture: the reference against the model, the live
    phonetic animator and the loudness-only jaw; the reference's interior bilabials shaded."""
    sample, tracks = result.example
    curves = {"reference": sample.coeffs}
    curves.update({s: tracks[(s, lookahead_ms)] for s in LIVE_SYSTEMS if tracks.get((s, lookahead_ms)) is not None})
    times = np.arange(len(sample.coeffs)) / fps
    figure = _figure(12, 7)
    figure.suptitle(f"{result.dataset.title}: {sample.name} (live systems at {lookahead_ms} ms look-ahead; "
                    "shaded: bilabials)", fontsize=10)
    panels = (("jawOpen", lambda c: c[:, rig.CHANNEL_INDEX["jawOpen"]]),
              ("mouthClose", lambda c: c[:, rig.CHANNEL_INDEX["mouthClose"]]),
              ("lip aperture (rig.lip_aperture)", lambda c: curve_errors.aperture(c, fps)))
    axes = figure.subplots(len(panels), 1, sharex=True)
    for ax, (title, read) in zip(axes, panels):
        for p in lipsync.interior_bilabials(sample.phones):
            ax.axvspan(p.start_s, p.end_s, color="tab:purple", alpha=0.15, linewidth=0)
        for name, coeffs in curves.items():
            ax.plot(times, read(coeffs), color=PLOT_COLOURS[name], linewidth=1.8 if name == "reference" else 1.2,
                    label=SHORT.get(name, name))
        ax.set_title(title, loc="left", fontsize=9)
        ax.set_ylabel("weight")
    axes[-1].axhline(lipsync.CLOSED_APERTURE, color="tab:purple", linestyle=":", linewidth=1)
    axes[0].legend(loc="upper left", bbox_to_anchor=(1.005, 1.0), fontsize=7, frameon=False)
    axes[-1].set_xlabel("time (s)")
    figure.savefig(path, dpi=100)
    return path


# --- the report --------------------------------------------------------------------------------------------

@dataclass
class Provenance:
    command: str
    checkpoint: str
    checkpoint_sha256: str
    shipped: bool
    commit: str
    date: str
    machine: str
    elapsed_s: float = 0.0


def provenance(command: str, ckpt: str) -> Provenance:
    folder = checkpoint_folder(ckpt)
    digest = hashlib.sha256((folder / WEIGHTS).read_bytes()).hexdigest()[:12]
    packaged = checkpoint_folder(DEFAULT_MODEL).resolve()
    repo = Path(__file__).resolve().parents[2]

    def git(*args: str) -> str:
        try:
            return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
        except (OSError, subprocess.CalledProcessError):
            return ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    if git("status", "--porcelain", "--", "pmmtalk_live"):
        commit += " (pmmtalk_live/ has uncommitted changes)"
    cpu = platform.processor() or platform.machine()
    return Provenance(command, str(ckpt), digest, folder.resolve() == packaged, commit,
                      datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                      f"{os.cpu_count()} CPUs ({cpu}), {platform.system()}, torch {torch.__version__}")


def before_and_after(results: list[Result], before: str, ckpt: str = "default") -> str:
    """Per data set, the model against the default it replaced (``before``), live at the default
    look-ahead and offline: "after (before)" on the lip-sync measures."""
    keys = ("bilabial_closure_rate", "aperture_ratio", "openness_correlation", "lip_mean_error")
    parts = [f"## Before and after\n\nThe model against `{before}`, the default it replaced (the \"before\" rows "
             f"of the tables below), cold per utterance as everything in this report; each cell is **after** "
             f"(before). Live as users live it, one continuous stream per set with the same before row and "
             f"issue 15's bar: [stream-evaluation.md](stream-evaluation.md) (`python -m "
             f"pmmtalk_live.evaluation.stream_report --ckpt {ckpt} --ckpt-before {before}`).\n"]
    for title, after_key, before_key in ((f"Live, {DEFAULT_LOOKAHEAD_MS} ms look-ahead", (PMMTALK, DEFAULT_LOOKAHEAD_MS),
                                          (BEFORE_LIVE, DEFAULT_LOOKAHEAD_MS)),
                                         ("Offline (`animate`)", (AUDIO_TEXT, None), (BEFORE_OFFLINE, None))):
        parts += [f"{title}:\n", "| data set | " + " | ".join(MEASURES[k].label for k in keys) + " |",
                  "|---|" + "---|" * len(keys)]
        for r in results:
            after, prior = r.scores.get(after_key), r.scores.get(before_key)
            cells = []
            for k in keys:
                a = MEASURES[k].of(after) if after is not None else None
                b = MEASURES[k].of(prior) if prior is not None else None
                shown = _fmt_pair(k, a, b)
                cells.append(f"**{shown[0]}** ({shown[1]})")
            parts.append(f"| {r.dataset.title} | " + " | ".join(cells) + " |")
        parts.append("")
    return "\n".join(parts)


def render(results: list[Result], speed: Speed | None, model: PMMTalk, fps: float, prov: Provenance,
           plots: dict[str, str], before: str | None = None) -> str:
    """The whole report as Markdown; ``plots`` maps plot names (``bars-<slug>``, ``example``) to paths
    relative to the report; ``before``: the name of the model in the "before" rows, if they were run."""
    shortest_ms = min_lookahead_s(model, fps) * 1000
    real = [r for r in results if r.dataset.real]
    parts = [HEADER.format(command=prov.command, ckpt=prov.checkpoint, sha=prov.checkpoint_sha256, commit=prov.commit, date=prov.date,
                           machine=prov.machine, elapsed=prov.elapsed_s, fps=f"{fps:g}")]
    if not prov.shipped:
        parts.append(f"**This report was NOT made with the shipped model** (`pmmtalk_live/data/models/default/`): "
                     f"it used `{prov.checkpoint}`. Regenerate with `make eval` once the default is installed.\n")
    parts.append(METHOD.format(shortest=shortest_ms, lookaheads=", ".join(f"{ms}" for ms in LOOKAHEADS_MS),
                               default=DEFAULT_LOOKAHEAD_MS, fps=f"{fps:g}", closed=lipsync.CLOSED_APERTURE,
                               tolerance=curve_errors.CLOSURE_TOLERANCE_MS, seed=CORPUS_SEED))

    parts.append(f"## Verdict (real recordings, {DEFAULT_LOOKAHEAD_MS} ms look-ahead, no transcript)\n")
    for r in real:
        checks = verdict(r.scores)
        overall = "PASS" if all(c.ok for c in checks) else "FAIL"
        parts.append(f"**{r.dataset.title}: {overall}**\n\n{check_lines(checks)}\n")

    parts.append("## Where the model is weak\n\nComputed from the tables below: every measure and data set where "
                 f"the model live at {DEFAULT_LOOKAHEAD_MS} ms is worse than the live phonetic animator (jitter: "
                 "higher; lag: further from 0), or does not beat the loudness-only jaw on a verdict measure.\n")
    parts.append("\n".join(weak_points(results)) or "- Nowhere: it is at least as good as the live phonetic "
                 "animator and better than the loudness-only jaw on every measure and data set.")
    for r in results:
        if r.dataset.slug == "held-out-real":
            parts.append(f"\nOn the held-out real speakers at {DEFAULT_LOOKAHEAD_MS} ms:\n")
            for system in LIVE_SYSTEMS:
                s = r.scores.get((system, DEFAULT_LOOKAHEAD_MS))
                if s is not None:
                    parts.append(f"- {system}: " + ", ".join(
                        f"{m.label} {_fmt(m.key, m.of(s))}" for m in MEASURES.values()))
    parts.append("")
    sizes = "; ".join(f"{r.dataset.title}: {len(r.dataset.samples)} utterances, "
                      f"{sum(len(lipsync.interior_bilabials(s.phones)) for s in r.dataset.samples)} interior bilabials"
                      for r in real)
    parts.append(LIMITS.format(shortest=shortest_ms, sizes=sizes,
                               text=TEXT_LIMIT if model.config.text_input == "visemes" else ""))
    if before is not None:
        parts.append(before_and_after(results, before, prov.checkpoint))

    if speed is not None:
        parts.append(f"## Speed\n\nLive real-time factor on one core (pinned, one torch thread; "
                     f"{speed.seconds:.0f} s of the dev set's speech without pauses, 10 ms hops, "
                     f"{DEFAULT_LOOKAHEAD_MS} ms look-ahead, `time.process_time`; construction not counted"
                     + (f"; load average {speed.load_average:.1f} on {os.cpu_count()} CPUs when it started"
                        if speed.load_average is not None else "") + "): "
                     f"**PMMTalk default {speed.model_rtf:.3f}** (its live phone recogniser included; the "
                     f"issue's target is at most 0.25), live phonetic animator {speed.phonetic_rtf:.3f}.\n")

    parts.append("## Results\n")
    for r in results:
        d = r.dataset
        lines = [f"### {d.title}\n", f"{d.about} {len(d.samples)} utterances, {d.duration_s:.1f} s.\n",
                 table(r.scores, model, fps), ""]
        ref_jitter = next((s.figures["jitter_reference"] for s in r.scores.values() if s is not None), None)
        notes = [f"reference jitter {_fmt('jitter_prediction', ref_jitter)}"]
        if r.live_offline_diff is not None:
            notes.append(f"the model live at {DEFAULT_LOOKAHEAD_MS} ms equals it offline with text within "
                         f"{r.live_offline_diff:.1e} (largest coefficient difference)")
        if r.late_diff is not None:
            notes.append(f"at {max(LOOKAHEADS_MS)} ms its frames differ from those at {DEFAULT_LOOKAHEAD_MS} ms "
                         f"by at most {r.late_diff:.1e}: waiting past its own {shortest_ms:.0f} ms adds nothing")
        lines.append("Notes: " + "; ".join(notes) + ".\n")
        if f"bars-{d.slug}" in plots:
            lines.append(f"![{d.title}]({plots[f'bars-{d.slug}']})\n")
        parts.append("\n".join(lines))
    if "example" in plots:
        parts.append(f"### Example\n\nThe dev utterance with the most bilabials per second: the reference (black) "
                     f"against the model, the live phonetic animator and the loudness-only jaw, live at "
                     f"{DEFAULT_LOOKAHEAD_MS} ms.\n\n![example]({plots['example']})\n")
    return "\n".join(parts)


HEADER = """\
# Evaluation of the PMMTalk model

Generated by `make eval` (`{command}`): do not edit by hand.
Checkpoint `{ckpt}` (model.safetensors sha256 `{sha}`), commit {commit}, {date}, {machine};
{fps} fps; the whole evaluation took {elapsed:.0f} s.
"""

METHOD = """\
## What is compared

All systems animate the same utterances at {fps} fps. The live ones are fed 10 ms hops and flushed,
a new animator per utterance (cold: the first words of a stream), at {lookaheads} ms of look-ahead:

- **PMMTalk default, live** (`LivePMMTalkAnimator`): the shipped model with its text branch (the live
  phone recogniser's viseme track, made from the audio: no transcript). Its own latency is
  {shortest:.0f} ms: it cannot run at a shorter look-ahead ("not available"), and at a longer one the
  extra wait cannot change its frames, it only delays them (checked in the notes under each table).
- **phonetic, live recognition** (`LivePhoneticAnimator`): the teacher on streaming phone recognition.
- **loudness-only jaw, live envelope**: jawOpen follows the live loudness envelope (`lipsync.loudness_jaw`).
- **Ablations**, offline (`model_coeffs`; the offline model with text equals the live one, see the
  notes under each table): audio + text (the default), audio only (the text branch absent, as the
  model was trained to run with modality dropout), and audio + text + visual, which cannot be
  evaluated: no Wav2Lip weights are reachable offline, so no model with the visual branch was trained
  (`model.config.paper_config()` is PMMTalk's full three-branch configuration).
- **phonetic, offline recognition**: `PhoneticAnimator().animate(audio, fps)` on the whole file,
  without a transcript, for reference.
- **PMMTalk before** (`--before`, by default the default this model replaced): live at the default
  look-ahead and offline with its text branch, for the "Before and after" section.

The reference is the teacher (`render_phones`) on the true phone timings: on real recordings the
forced alignment of the transcript (what `animate --text` gives), on the synthetic voices the
engine's exact timings (the corpus labels). Measures:

- `curve_errors.evaluate` against the reference curves: **lip error** (per frame the largest, and
  the mean, absolute error over the jaw and lip channels, averaged over frames), **closure events**
  (the reference's lip closures, aperture < {closed}, that the system also closes within
  {tolerance:.0f} ms), **jitter** (mean absolute second difference), **lag** (offset of the best
  aperture correlation; positive = late).
- `lipsync.score` against the reference phones: **bilabial closures** (interior P/B/M during which
  the aperture falls below {closed}), the **open-vowel / bilabial aperture ratio**, and the **openness
  correlation** (aperture against each phone's typical opening).

Utterances are pooled (closures summed, the rest frame-weighted). Nothing here was tuned on these
utterances; the synthetic corpus is built for this report (seed {seed}, resumable, under `out/`).
"""

LIMITS = """\
Limits of this evaluation, whatever the numbers:

- The reference is the teacher itself (the phonetic animator on the true phones), so these figures
  measure how well each system recovers the teacher's curves from audio alone; they do not measure
  realism against a captured face. The model was trained on the teacher's labels.{text}
- The real sets are small ({sizes}): a closure more or less moves a bilabial closure rate a lot.
- The model is {shortest:.0f} ms behind the audio at best; below that look-ahead only the phonetic
  animator can run.
- The synthetic held-out voices share the engines, texts and augmentation of the training corpus.
"""

TEXT_LIMIT = """ Its text branch
  is the live phonetic animator's own output, so it can only beat that animator where the audio
  tells it more than the recogniser's phones."""


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", default="default", help="a run folder or a packaged model's name")
    parser.add_argument("--out", type=Path, help="write the Markdown report here (plots beside it, in <stem>/)")
    parser.add_argument("--fps", type=float, default=60)
    parser.add_argument("--corpus", type=Path, default=Path("out/eval-corpus"),
                        help="the report's synthetic corpus (built or resumed here)")
    parser.add_argument("--jobs", type=int, default=None, help="processes for the corpus build")
    parser.add_argument("--cpu", type=int, default=0, help="core to pin to for the speed figures")
    parser.add_argument("--before", default=BEFORE_CKPT, help="the 'before' rows' model ('' for none)")
    args = parser.parse_args()
    if not sets.TESTDATA.joinpath("librivox").is_dir():
        print(f"eval: {sets.TESTDATA}/librivox is missing: install Debian's pocketsphinx-testdata",
              file=sys.stderr)
        return 2
    started = time.perf_counter()
    try:
        model = load_model(args.ckpt)
        before = load_model(args.before) if args.before and args.before != args.ckpt else None
        prov = provenance(" ".join(["python -m pmmtalk_live.evaluation.model_report", *sys.argv[1:]]), args.ckpt)
    except CheckpointError as error:
        print(f"eval: {error}", file=sys.stderr)
        return 2

    from ..corpus import build_corpus
    from ..corpus import CorpusError

    try:
        build_corpus(args.corpus, CORPUS_HOURS, jobs=args.jobs, seed=CORPUS_SEED, show_progress=False)
        datasets = real_sets(args.fps) + corpus_sets(args.corpus, args.fps)
    except CorpusError as error:
        print(f"eval: {error}", file=sys.stderr)
        return 2
    use_one_thread()  # a few frames at a time is too little work to share; on a busy machine threads wait (threads.py)
    results = []
    for d in datasets:
        print(f"eval: {d.title} ({len(d.samples)} utterances)", file=sys.stderr)
        results.append(evaluate(model, d, args.fps, before=before))
    speed = measure_speed(model, continuous_speech(sets.dev_set(), SPEED_SECONDS), args.fps, args.cpu)

    plots: dict[str, str] = {}
    if args.out:
        folder = args.out.parent / args.out.stem
        folder.mkdir(parents=True, exist_ok=True)
        for r in results:
            path = plot_bars(r, folder / f"bars-{r.dataset.slug}.png")
            plots[f"bars-{r.dataset.slug}"] = f"{folder.name}/{path.name}"
    dev = next(r for r in results if r.dataset.slug == "dev")
    if args.out:
        plot_example(dev, folder / "example.png", args.fps)
        plots["example"] = f"{folder.name}/example.png"
    prov.elapsed_s = time.perf_counter() - started
    report = render(results, speed, model, args.fps, prov, plots, args.before if before is not None else None)
    if args.out:
        args.out.write_text(report)
        print(f"eval: wrote {args.out} and {len(plots)} plots in {folder}", file=sys.stderr)
        for r in results:
            if r.dataset.real:
                print(f"{r.dataset.title}:\n{check_lines(verdict(r.scores))}")
    else:
        print(report)
    return 0 if all(c.ok for c in verdict(dev.scores)) else 1


if __name__ == "__main__":
    sys.exit(main())
