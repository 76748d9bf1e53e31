"""Live lip-sync as users live it: one continuous ``serve`` session per set of real recordings.

    python -m pmmtalk_live.evaluation.stream_report --ckpt default --out docs/stream-evaluation.md

For each set (the LibriVox dev set, the held-out cards/goforward speakers, Debian's codec2-examples),
its recordings are played back to back with ``PAUSE_S`` of silence between them (and before the
first) as one stream, through the live path ``serve`` runs: a ``ServeSession`` on the stream (a file,
as fast as the engine takes it, so nothing is dropped), the engine in 10 ms hops, the animator built
by name (``make_live_animator``) at the default look-ahead, no transcript; one animator for the whole
stream, never restarted. The model coefficients each frame carries are taken as the engine hands
them on, the one track is cut back into per-recording tracks by the recordings' sample positions, and
each is scored as ``model_report`` scores utterances: ``lipsync.score`` against the reference
phones (forced alignment of the transcript; a recording whose alignment fails is left out, counted
and named) and ``curve_errors.evaluate``'s lip error against the teacher's curves.

Rows: the checkpoint given (``--ckpt``), the one it replaces (``--ckpt-before``, a "before" row), the
phonetic animator live, and a jaw that follows the live loudness envelope alone. Anything
``load_model`` accepts works: only the animator interfaces are used.
"""

from __future__ import annotations

import argparse
import math
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf

from .. import rig
from ..animators import LiveAnimator, LiveCoeffs
from ..config import ServeConfig
from ..errors import PmmtalkError
from ..tracks import SAMPLE_RATE_HZ, CurveTrack, num_frames_for
from . import lipsync, sets
from .codec2_examples import codec2_set
from .curve_errors import evaluate as lip_figures
from .model_measures import BEFORE_CKPT
from .reference import Sample, aligned_samples

PAUSE_S = 1.5
"""Silence between two recordings of a session (and before the first): a speaker drawing breath."""
DEFAULTS = ServeConfig()
"""``serve``'s own settings (look-ahead, fps, hop): the evaluation runs at them."""
TARGETS = {"closure_rate": 0.90, "aperture_ratio": 3.5}
"""Issue 15's bar for the model live on real speech (openness correlation: no lower than before)."""


# --- one session over a set ------------------------------------------------------------------------

@dataclass
class Session:
    """Recordings back to back: ``samples`` (N,) float32 at 16 kHz; recording i occupies samples
    ``starts[i] .. starts[i] + lengths[i]``, each start on a frame boundary at ``fps``."""

    samples: np.ndarray
    starts: list[int]
    lengths: list[int]
    fps: float

    @property
    def duration_s(self) -> float:
        return len(self.samples) / SAMPLE_RATE_HZ

    def frame_spans(self) -> list[tuple[int, int]]:
        """(first frame, frame count) of each recording: the frames ``num_frames_for`` gives it alone."""
        return [(start * int(self.fps) // SAMPLE_RATE_HZ, num_frames_for(length / SAMPLE_RATE_HZ, self.fps))
                for start, length in zip(self.starts, self.lengths)]

    def cut(self, track: np.ndarray) -> list[np.ndarray]:
        """One stream's per-frame values (T, ...) -> each recording's (n_i, ...), frame k of recording
        i being stream frame first_i + k (its first sample's time)."""
        spans = self.frame_spans()
        last = spans[-1][0] + spans[-1][1]
        if len(track) < last:
            raise ValueError(f"the stream gave {len(track)} frames; the recordings need {last}")
        return [track[first:first + n] for first, n in spans]


def frame_step_samples(fps: float) -> int:
    """The fewest 16 kHz samples that are a whole number of frames at ``fps`` (a whole number)."""
    if fps != int(fps):
        raise ValueError(f"the session needs a whole fps, got {fps}")
    return SAMPLE_RATE_HZ // math.gcd(SAMPLE_RATE_HZ, int(fps))


def back_to_back(recordings: list[np.ndarray], fps: float, pause_s: float = PAUSE_S) -> Session:
    """``recordings`` (each (n_i,) at 16 kHz) with at least ``pause_s`` of silence before each, every
    recording starting on a frame boundary, and ``pause_s`` after the last (the look-ahead's audio)."""
    step = frame_step_samples(fps)
    pause = int(round(pause_s * SAMPLE_RATE_HZ))
    pieces, starts, position = [], [], 0
    for samples in recordings:
        start = -(-(position + pause) // step) * step
        pieces += [np.zeros(start - position, np.float32), samples.astype(np.float32)]
        starts.append(start)
        position = start + len(samples)
    pieces.append(np.zeros(pause, np.float32))
    return Session(np.concatenate(pieces), starts, [len(r) for r in recordings], fps)


class Tap:
    """A ``LiveAnimator`` that hands on another's frames and keeps a copy of each: what the engine
    sent, in order."""

    def __init__(self, animator: LiveAnimator) -> None:
        self.animator = animator
        self.name, self.fps, self.lookahead_s = animator.name, animator.fps, animator.lookahead_s
        self.outputs: list[LiveCoeffs] = []

    def _keep(self, out: LiveCoeffs) -> LiveCoeffs:
        self.outputs.append(out)
        return out

    def process(self, samples: np.ndarray) -> LiveCoeffs:
        return self._keep(self.animator.process(samples))

    def skip(self, num_samples: int) -> int:
        raise AssertionError("the evaluation's source waits for the engine: no audio may be skipped")

    def flush(self) -> LiveCoeffs:
        return self._keep(self.animator.flush())

    def track(self) -> tuple[np.ndarray, np.ndarray]:
        """Every frame handed out: coeffs (T, 32) and activity (T,). Checks they came without gaps."""
        frames = [o for o in self.outputs if o.num_frames]
        expected = 0
        for out in frames:
            assert out.first_frame == expected, (out.first_frame, expected)
            expected += out.num_frames
        return (np.concatenate([o.coeffs for o in frames]) if frames else np.zeros((0, rig.NUM_COEFFS), np.float32),
                np.concatenate([o.activity for o in frames]) if frames else np.zeros(0, np.float32))


@dataclass
class LiveRun:
    """What one session handed out: ``coeffs`` (T, 32) and ``activity`` (T,) from stream frame 0, the
    animator's own look-ahead (it may raise the one asked for) and the session's wall time."""

    coeffs: np.ndarray
    activity: np.ndarray
    lookahead_s: float
    wall_s: float


def serve_session(samples: np.ndarray, config: ServeConfig, animator: LiveAnimator | None = None) -> LiveRun:
    """``samples`` through one ``ServeSession`` built from ``config`` (its input replaced by them, as a
    file read as fast as the engine takes it; no sinks, no control port, no idle layer). ``animator``
    replaces the one the session builds (tests)."""
    from ..serve import ServeSession

    with tempfile.TemporaryDirectory() as folder:
        wav = Path(folder) / "session.wav"
        sf.write(wav, samples, SAMPLE_RATE_HZ, subtype="FLOAT")
        session = ServeSession(_quiet(config, str(wav)))
        try:
            tap = Tap(animator or session.engine.animator)
            session.engine.animator = tap
            started = time.perf_counter()
            session.run(threading.Event())
            wall_s = time.perf_counter() - started
        finally:
            session.close()
    return LiveRun(*tap.track(), tap.lookahead_s, wall_s)


def _quiet(config: ServeConfig, wav: str) -> ServeConfig:
    return replace(config, input=wav, fast=True, loop=False, osc=[], livelink=[], control=None, record=None,
                   idle=False, quiet=True)


# --- the systems and their scores ---------------------------------------------------------------------

@dataclass(frozen=True)
class System:
    label: str
    animator: str  # "pmmtalk" or "phonetic"; the loudness jaw rides on the phonetic session
    ckpt: str | None = None
    before: bool = False


LOUDNESS = "loudness-only jaw, live envelope"


def systems(ckpt: str, before: str | None) -> list[System]:
    rows = [System(f"PMMTalk `{ckpt}`, live", "pmmtalk", ckpt)]
    if before and before != ckpt:
        rows.append(System(f"PMMTalk `{before}` (before), live", "pmmtalk", before, before=True))
    return rows + [System("phonetic, live recognition", "phonetic")]


@dataclass
class Row:
    lipsync: lipsync.LipSyncScores
    lip_mean_error: float
    run: LiveRun | None  # None: the loudness jaw, made from the phonetic session's activity


def score(samples: list[Sample], tracks: list[np.ndarray], fps: float, run: LiveRun | None) -> Row:
    """Each recording's track against its reference, pooled as ``model_report`` pools them."""
    per_recording = [lipsync.score(CurveTrack(rig.MODEL_CHANNELS, t, fps), s.phones) for t, s in zip(tracks, samples)]
    frames = [len(s.coeffs) for s in samples]
    lip_error = lip_figures(zip(tracks, (s.coeffs for s in samples)), fps)["lip_mean_error"]
    return Row(lipsync.pooled(per_recording, frames), lip_error, run)


@dataclass
class SetResult:
    name: str
    samples: list[Sample]
    skipped: dict[str, str]
    session: Session
    rows: dict[str, Row]


def evaluate_set(name: str, samples: list[Sample], skipped: dict[str, str], rows: list[System],
                 config: ServeConfig) -> SetResult:
    """One continuous session per system over ``samples``, cut back and scored."""
    session = back_to_back([s.audio.samples for s in samples], config.fps)
    scored: dict[str, Row] = {}
    for system in rows:
        print(f"stream-eval: {name}: {system.label} over {session.duration_s:.0f} s", file=sys.stderr)
        run = serve_session(session.samples, _with_animator(config, system))
        scored[system.label] = score(samples, session.cut(run.coeffs), config.fps, run)
        if system.animator == "phonetic":
            jaw = lipsync.loudness_jaw(run.activity, config.fps).values
            scored[LOUDNESS] = score(samples, session.cut(jaw), config.fps, None)
    return SetResult(name, samples, skipped, session, scored)


def _with_animator(config: ServeConfig, system: System) -> ServeConfig:
    return replace(config, animator=system.animator, ckpt=system.ckpt)


# --- the sets ------------------------------------------------------------------------------------------

SETS = {
    "dev": ("Dev set: pocketsphinx-testdata LibriVox (one reader, long read sentences)", sets.dev_set),
    "held-out-real": ("Held-out real speakers: pocketsphinx-testdata cards and goforward.raw",
                      sets.held_out_set),
    "codec2": ("codec2-examples: Harvard sentences and radio amateurs, mostly 8 kHz, several speakers",
               codec2_set),
}


# --- the report ---------------------------------------------------------------------------------------

def table(result: SetResult) -> str:
    lines = ["| system | bilabial closures | open-vowel / bilabial aperture | openness correlation | "
             "mean lip error | look-ahead | session wall time |", "|---|---|---|---|---|---|---|"]
    for label, row in result.rows.items():
        s = row.lipsync
        run = (f"{row.run.lookahead_s * 1000:.0f} ms | {row.run.wall_s:.0f} s" if row.run
               else "the phonetic session's envelope | -")
        lines.append(f"| {label} | {s.closure_rate:.2f} ({s.closures}/{s.bilabials}) | "
                     f"{s.aperture_ratio:.2f} ({s.open_vowel_aperture:.3f} / {s.bilabial_aperture:.3f}) | "
                     f"{s.openness_correlation:.3f} | {row.lip_mean_error:.4f} | {run} |")
    return "\n".join(lines)


def bar(result: SetResult, model_label: str, before_label: str | None) -> list[str]:
    """Issue 15's bar for the model row, PASS or FAIL each."""
    model = result.rows[model_label].lipsync
    checks = [(f"bilabial closure rate >= {TARGETS['closure_rate']:.2f}: {model.closure_rate:.2f}",
               model.closure_rate >= TARGETS["closure_rate"]),
              (f"open-vowel / bilabial aperture >= {TARGETS['aperture_ratio']:.1f}: {model.aperture_ratio:.2f}",
               model.aperture_ratio >= TARGETS["aperture_ratio"])]
    if before_label in result.rows:
        before = result.rows[before_label].lipsync
        checks.append((f"openness correlation no lower than before: {model.openness_correlation:.3f} vs "
                       f"{before.openness_correlation:.3f}",
                       model.openness_correlation >= before.openness_correlation))
    return [f"- {'PASS' if ok else 'FAIL'}: {text}" for text, ok in checks]


def render(results: list[SetResult], command: str, config: ServeConfig, rows: list[System], elapsed_s: float) -> str:
    parts = [HEADER.format(command=command, elapsed=elapsed_s, fps=config.fps, lookahead=config.lookahead_ms,
                           hop=config.hop_ms, pause=PAUSE_S, closed=lipsync.CLOSED_APERTURE)]
    before = next((r.label for r in rows if r.before), None)
    for r in results:
        interior = sum(len(lipsync.interior_bilabials(s.phones)) for s in r.samples)
        parts.append(f"## {SETS[r.name][0]}\n\n{len(r.samples)} recordings, "
                     f"{sum(s.audio.duration_s for s in r.samples):.1f} s of speech, {interior} interior bilabials; "
                     f"one session of {r.session.duration_s:.1f} s.\n")
        parts.append(f"Left out, alignment failed: {len(r.skipped)}" + "".join(
            f"; {name} ({why})" for name, why in r.skipped.items()) + ".\n")
        parts.append(table(r) + "\n")
        parts.append(f"Issue 15's bar for `{rows[0].ckpt}`:\n\n" + "\n".join(bar(r, rows[0].label, before)) + "\n")
    return "\n".join(parts)


HEADER = """\
# Live lip-sync in one continuous stream

Generated by `{command}`; the whole evaluation took {elapsed:.0f} s. Do not edit by hand.

Each set's recordings are played back to back, {pause:g} s of silence before each, as one live session
through `serve`'s own path (`ServeSession`: the engine in {hop:g} ms hops, the animator by name, one
animator for the whole stream, never restarted), at {fps} fps with {lookahead:g} ms look-ahead and no
transcript. The coefficients the engine hands on are cut back per recording at the recordings' sample
positions and scored against the forced alignment of each transcript: bilabial closures (interior
P/B/M whose lip aperture falls below {closed}), the open-vowel / bilabial aperture ratio, the
openness correlation (`pmmtalk_live/evaluation/lipsync.py`), and the mean lip error against the teacher's curves
(`curve_errors.evaluate`). Closures are summed over the recordings, the rest frame-weighted.
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ckpt", default="default", help="the PMMTalk model: a run folder or a packaged name")
    parser.add_argument("--ckpt-before", default=BEFORE_CKPT, help="the 'before' row's model ('' for none)")
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated, of: {', '.join(SETS)}")
    parser.add_argument("--compute", default="cpu", help="where the model's pretrained networks run (serve --compute)")
    parser.add_argument("--out", type=Path, help="write the Markdown report here")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    config = ServeConfig(compute=args.compute)
    rows = systems(args.ckpt, args.ckpt_before or None)
    results = []
    try:
        for name in args.sets.split(","):
            if name not in SETS:
                raise PmmtalkError(f"unknown set {name!r} (choose from {', '.join(SETS)})")
            samples, skipped = aligned_samples(SETS[name][1](), config.fps)
            for utt, why in skipped.items():
                print(f"stream-eval: {name}: left out {utt}: {why}", file=sys.stderr)
            print(f"stream-eval: {name}: {len(samples)} recordings, {len(skipped)} left out", file=sys.stderr)
            results.append(evaluate_set(name, samples, skipped, rows, config))
    except (PmmtalkError, OSError) as error:
        print(f"stream-eval: {error}", file=sys.stderr)
        return 2
    command = " ".join(["python -m pmmtalk_live.evaluation.stream_report", *(sys.argv[1:] if argv is None else argv)])
    report = render(results, command, config, rows, time.perf_counter() - started)
    print(report)
    if args.out:
        args.out.write_text(report)
        print(f"stream-eval: wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
