"""Lip-sync and speed of the live phonetic animator (``python -m pmmtalk_live.evaluation.live_report``).

Lip-sync: each utterance of the dev set (``sets.dev_set``: real human LibriVox speech) is fed
to a ``LivePhoneticAnimator`` in 10 ms hops, flushed, and the frames it hands out are scored against
the forced-aligned reference (``lipsync.score``), as ``phonetic_report.evaluate`` scores the offline
animator. Two starts:

- **cold**: a fresh animator per utterance: the first words of a stream, which are the hardest (the
  decoder's cepstral mean is the primed default, the loudness reference is still unknown);
- **warm**: the reader's other four dev utterances are streamed first (about 20 s, the pauses
  between them kept), as in a conversation; only the last utterance's frames are scored.

The held-out set (other speakers, short phrases) is scored cold only.

Speed: 60 s of speech without a pause (the dev utterances' speech, end to end, repeated), fed in
10 ms hops on one core: real-time factor (compute time / audio time) and the cost of each hop.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import dataclass

import numpy as np

from .. import rig
from ..animators.live_phonetic import LivePhoneticAnimator
from ..animators.phonetic import PhoneticAnimator
from ..audio.loudness import loudness_envelope
from ..phonetic import HOP_SAMPLES, PRIME_S, phones
from ..tracks import SAMPLE_RATE_HZ, CurveTrack, num_frames_for
from . import lipsync
from .phonetic_report import table
from .sets import TESTDATA, Utterance, dev_set, held_out_set

LOOKAHEADS_S = (0.05, 0.1, 0.2)


def stream(animator: LivePhoneticAnimator, samples: np.ndarray,
           hop_samples: int = HOP_SAMPLES) -> tuple[CurveTrack, np.ndarray]:
    """Feed ``samples`` hop by hop and flush: every frame the animator hands out, in order, as a track
    (T, 32), and the activity (T,). Checks that frames come numbered without gaps."""
    outs = [animator.process(samples[i:i + hop_samples]) for i in range(0, len(samples), hop_samples)]
    outs.append(animator.flush())
    expected = 0
    for out in outs:
        assert out.first_frame == expected, (out.first_frame, expected)
        expected += out.num_frames
    coeffs = [out.coeffs for out in outs]
    activity = [out.activity for out in outs]
    return CurveTrack(rig.MODEL_CHANNELS, np.concatenate(coeffs), animator.fps), np.concatenate(activity)


def live_track(utt: Utterance, fps: float, lookahead_s: float, warm_up: tuple[Utterance, ...] = (),
               prime_s: float = PRIME_S) -> tuple[CurveTrack, np.ndarray]:
    """The live animator's frames and activity for ``utt``, after streaming ``warm_up`` first."""
    animator = LivePhoneticAnimator(fps, lookahead_s, prime_s)
    # the warm-up is cut to whole 0.1 s so that utt's first sample falls on a frame at 10, 30, 60 fps
    step = SAMPLE_RATE_HZ // 10
    before = np.concatenate([u.audio.samples for u in warm_up] or [np.zeros(0, np.float32)])
    before = before[: len(before) // step * step]
    track, activity = stream(animator, np.concatenate([before, utt.audio.samples]))
    first = round(len(before) / SAMPLE_RATE_HZ * fps)
    n = num_frames_for(utt.audio.duration_s, fps)
    return CurveTrack(track.names, track.values[first:first + n], fps), activity[first:first + n]


def evaluate(utts: list[Utterance], fps: float = 60,
             lookaheads_s: tuple[float, ...] = LOOKAHEADS_S, warm: bool = True) -> dict[str, lipsync.LipSyncScores]:
    """Pooled lip-sync scores of the live animator at each look-ahead (cold, and warm if asked),
    beside the offline recogniser and the loudness-only jaw."""
    scores: dict[str, list[lipsync.LipSyncScores]] = {}
    frames = []
    offline = PhoneticAnimator()

    def add(system: str, track: CurveTrack, reference) -> None:
        scores.setdefault(system, []).append(lipsync.score(track, reference))

    for utt in utts:
        reference = phones.align_phones(utt.audio, utt.text)
        n = num_frames_for(utt.audio.duration_s, fps)
        frames.append(n)
        others = tuple(u for u in utts if u is not utt)
        for lookahead in lookaheads_s:
            track, activity = live_track(utt, fps, lookahead)  # the same activity at any look-ahead
            add(f"live, {lookahead * 1000:.0f} ms look-ahead, cold", track, reference)
        if warm:
            for lookahead in lookaheads_s:
                add(f"live, {lookahead * 1000:.0f} ms look-ahead, warm",
                    live_track(utt, fps, lookahead, others)[0], reference)
        add("live, 100 ms look-ahead, cold, decoder not primed", live_track(utt, fps, 0.1, prime_s=0)[0],
            reference)
        add("offline recogniser (no transcript)", offline.animate(utt.audio, fps), reference)
        loudness = loudness_envelope(utt.audio.samples, utt.audio.sample_rate_hz, fps, n)
        add("loudness-only jaw, offline envelope", lipsync.loudness_jaw(loudness, fps), reference)
        add("loudness-only jaw, live envelope", lipsync.loudness_jaw(activity, fps), reference)
    return {system: lipsync.pooled(s, frames) for system, s in scores.items()}


@dataclass
class Speed:
    audio_s: float
    compute_s: float
    hop_ms: np.ndarray  # compute time of each process() call
    utterances: int
    first_10s_ms: float  # median cost per hop over the first and the last 10 s
    last_10s_ms: float
    construct_s: float

    @property
    def real_time_factor(self) -> float:
        return self.compute_s / self.audio_s


def continuous_speech(utts: list[Utterance], seconds: float) -> np.ndarray:
    """The utterances' speech (leading and trailing silence cut at the aligned speech), end to end,
    repeated to ``seconds``: speech without a pause."""
    pieces = []
    for utt in utts:
        speech = [p for p in phones.align_phones(utt.audio, utt.text) if p.label != "SIL"]
        lo, hi = (int(t * SAMPLE_RATE_HZ) for t in (speech[0].start_s, speech[-1].end_s))
        pieces.append(utt.audio.samples[lo:hi])
    one = np.concatenate(pieces)
    return np.tile(one, int(np.ceil(seconds * SAMPLE_RATE_HZ / len(one))))[: int(seconds * SAMPLE_RATE_HZ)]


def measure_speed(samples: np.ndarray, fps: float = 60, lookahead_s: float = 0.1) -> Speed:
    """Feed ``samples`` in 10 ms hops, timing each call (one core: pin the process first)."""
    started = time.perf_counter()
    animator = LivePhoneticAnimator(fps, lookahead_s)
    construct_s = time.perf_counter() - started
    hop_ms = []
    for i in range(0, len(samples), HOP_SAMPLES):
        hop = samples[i:i + HOP_SAMPLES]
        t = time.perf_counter()
        animator.process(hop)
        hop_ms.append((time.perf_counter() - t) * 1e3)
    t = time.perf_counter()
    animator.flush()
    hop_ms = np.array(hop_ms)
    per_10s = int(10 * SAMPLE_RATE_HZ / HOP_SAMPLES)
    return Speed(len(samples) / SAMPLE_RATE_HZ, (hop_ms.sum() + (time.perf_counter() - t) * 1e3) / 1e3,
                 hop_ms, animator.recogniser.utterances, float(np.median(hop_ms[:per_10s])),
                 float(np.median(hop_ms[-per_10s:])), construct_s)


def speed_table(speed: Speed) -> str:
    p50, p95, p99 = np.percentile(speed.hop_ms, [50, 95, 99])
    return "\n".join([
        "| audio | real-time factor | per hop p50 | p95 | p99 | max | per hop, median of the first / last 10 s | utterances |",
        "|---|---|---|---|---|---|---|---|",
        f"| {speed.audio_s:.0f} s without a pause | {speed.real_time_factor:.3f} | {p50:.2f} ms | {p95:.2f} ms | "
        f"{p99:.2f} ms | {speed.hop_ms.max():.1f} ms | {speed.first_10s_ms:.2f} / {speed.last_10s_ms:.2f} ms | "
        f"{speed.utterances} |",
    ])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fps", type=float, default=60)
    parser.add_argument("--cpu", type=int, default=0, help="core to pin to for the speed figures")
    parser.add_argument("--skip-lipsync", action="store_true")
    args = parser.parse_args()
    if not (TESTDATA / "librivox").is_dir():
        print(f"live-eval: {TESTDATA}/librivox is missing: install Debian's pocketsphinx-testdata", file=sys.stderr)
        return 2
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    utts = dev_set()
    speed = measure_speed(continuous_speech(utts, 60.0), args.fps)
    print(f"## Speed ({args.fps:g} fps, 100 ms look-ahead, one core)\n\n{speed_table(speed)}\n\n"
          f"construction: {speed.construct_s:.2f} s\n")
    if not args.skip_lipsync:
        started = time.perf_counter()
        print(f"## Lip-sync on the dev set ({args.fps:g} fps)\n\n{table(evaluate(utts, args.fps))}\n")
        # other speakers, one short phrase each: "warm" (the same reader before) does not apply
        print(f"## Lip-sync on the held-out set ({args.fps:g} fps)\n\n"
              f"{table(evaluate(held_out_set(), args.fps, warm=False))}\n\n"
              f"(lip-sync took {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
