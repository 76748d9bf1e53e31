"""What the PMMTalk model's report measures (``model_report`` writes it): the systems, the data sets,
every system's coefficients per utterance, their pooled scores, and the live animators' speed.

Every system animates the same utterances at the same fps and is scored against the same reference:

- **data**: real human recordings with transcripts (``sets.dev_set`` and ``held_out_set``; the
  reference is the teacher, ``render_phones``, on the forced alignment of the transcript, with the
  offline loudness, exactly as ``PhoneticAnimator.animate(audio, fps, text)``), and the held-out voices
  of a small synthetic corpus built for the report (``corpus.build_corpus``; the reference is the
  corpus label, the teacher on the engine's exact timings), one table per voice;
- **systems**: the model live (``LivePMMTalkAnimator``), the phonetic animator live
  (``LivePhoneticAnimator``), a loudness-only jaw on the live envelope, each fed in 10 ms hops and
  flushed, cold (a new animator per utterance) at several look-aheads; the model offline with its
  text branch and without it (the audio-only ablation); the offline phonetic animator without a
  transcript; and, when given, the model the default replaced (``BEFORE_CKPT``) live at the default
  look-ahead and offline, the "before" rows;
- **measures**: ``curve_errors.evaluate`` (lip error, closure events, jitter, lag) and
  ``lipsync.score`` against the reference phones (bilabial closures, aperture ratio, openness
  correlation), pooled over utterances.
"""

from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import yaml

from .. import rig
from ..animators.live_phonetic import LivePhoneticAnimator
from ..animators.phonetic import PhoneticAnimator
from ..animators.pmmtalk import LivePMMTalkAnimator, min_lookahead_s
from ..audio.files import read_audio
from ..model.inference import interpolate, model_coeffs, model_positions, prepare_batch
from ..model.pmmtalk import PMMTalk
from ..phonetic import HOP_SAMPLES
from ..tracks import SAMPLE_RATE_HZ, Audio, CurveTrack, Phone, num_frames_for
from . import curve_errors, lipsync, sets
from .live_report import stream
from .reference import Sample, real_samples

LOOKAHEADS_MS = (50, 100, 200)
DEFAULT_LOOKAHEAD_MS = 100
"""The live systems' look-aheads; the verdict is taken at the default (``serve --lookahead-ms``)."""

CORPUS_HOURS = 0.25
CORPUS_SEED = 1
"""The report's own corpus: a seed the training corpora (seed 0) do not use, so even the held-out
voices' utterances that training looked at for validation are not these."""

SPEED_SECONDS = 60.0

BEFORE_CKPT = "mel-visemes"
"""The packaged model the shipped default replaced (issue 15): the reports' "before" rows."""

# the systems (table rows are (system, look-ahead in ms or None for offline))
PMMTALK = "PMMTalk default (audio + text), live"
PHONETIC = "phonetic, live recognition"
LOUDNESS = "loudness-only jaw, live envelope"
AUDIO_TEXT = "PMMTalk, audio + text, offline"
AUDIO_ONLY = "PMMTalk, audio only (text branch absent), offline"
VISUAL = "PMMTalk, audio + text + visual"
OFFLINE_PHONETIC = "phonetic, offline recognition"
BEFORE_LIVE = "PMMTalk before (the previous default), live"
BEFORE_OFFLINE = "PMMTalk before (the previous default), audio + text, offline"
SHORT = {PMMTALK: "PMMTalk live", PHONETIC: "phonetic live", LOUDNESS: "loudness jaw", AUDIO_ONLY: "PMMTalk audio only",
         OFFLINE_PHONETIC: "phonetic offline", BEFORE_LIVE: "PMMTalk before, live",
         BEFORE_OFFLINE: "PMMTalk before, offline"}
"""Names for plots and one-line comparisons."""
LIVE_SYSTEMS = (PMMTALK, PHONETIC, LOUDNESS)
OFFLINE_SYSTEMS = (AUDIO_TEXT, AUDIO_ONLY, VISUAL, OFFLINE_PHONETIC)

RowKey = tuple[str, "int | None"]


def rows(lookaheads_ms: tuple[int, ...] = LOOKAHEADS_MS, before: bool = False) -> list[RowKey]:
    """Every table row, in order: the live systems at each look-ahead, then the offline ones; with
    ``before``, the previous default live at the default look-ahead and offline after each group."""
    live = [(s, ms) for s in LIVE_SYSTEMS for ms in lookaheads_ms]
    offline = [(s, None) for s in OFFLINE_SYSTEMS]
    if not before:
        return live + offline
    return live + [(BEFORE_LIVE, DEFAULT_LOOKAHEAD_MS)] + offline + [(BEFORE_OFFLINE, None)]


# --- data --------------------------------------------------------------------------------------------------

@dataclass
class DataSet:
    slug: str  # file-name part of its plots
    title: str
    about: str
    samples: list[Sample]
    real: bool

    @property
    def duration_s(self) -> float:
        return sum(s.audio.duration_s for s in self.samples)


def real_sets(fps: float) -> list[DataSet]:
    return [
        DataSet("dev", "Dev set: pocketsphinx-testdata LibriVox (one reader)",
                "The foundation issue's dev set: long read sentences.",
                real_samples(sets.dev_set(), fps), real=True),
        DataSet("held-out-real", "Held-out real speakers: pocketsphinx-testdata cards and goforward.raw",
                "Other speakers, short phrases, few bilabials (\"clubs\", \"spades\", \"meters\"): never "
                "used to build or tune anything.", real_samples(sets.held_out_set(), fps), real=True),
    ]


def corpus_sets(root: Path, fps: float) -> list[DataSet]:
    """One set per held-out voice of the corpus at ``root``; the reference is the corpus label and
    the engine's exact phone timings (meta.yaml ``phones``)."""
    from ..corpus import held_out_voices
    from ..dataset import META_FILE, load_dataset, read_coeffs

    held = held_out_voices(root)
    by_voice: dict[str, list[Sample]] = {}
    languages: dict[str, str] = {}
    for utt in load_dataset(root):
        if utt.subject not in held:
            continue
        meta = yaml.safe_load((utt.audio_path.parent / META_FILE).read_text(encoding="utf-8"))
        timed = [Phone(label, start, end) for label, start, end in meta["phones"]]
        by_voice.setdefault(utt.subject, []).append(
            Sample(utt.id, read_audio(utt.audio_path), read_coeffs(utt, fps), timed))
        languages[utt.subject] = meta.get("language", "?")
    return [DataSet(f"synthetic-{voice}", f"Held-out synthetic voice: {voice} ({languages[voice]})",
                    f"Never trained on; a corpus of its own (`{root}`, seed {CORPUS_SEED}) with the training "
                    "corpus's microphone augmentation. The reference is the teacher on the engine's exact "
                    "phone timings (no recognition, no alignment).", samples, real=False)
            for voice, samples in sorted(by_voice.items())]


# --- the systems -------------------------------------------------------------------------------------------

def offline_coeffs(model: PMMTalk, audio: Audio, fps: float) -> dict[str, np.ndarray | None]:
    """The model offline at ``fps``, (T, 32) each: with its text branch (what live gives) and with the
    text branch absent (the audio-only ablation); None where the model has no such input."""
    batch = prepare_batch(model, audio)
    positions = model_positions(0, num_frames_for(audio.duration_s, fps), fps, model.config.fps)
    with_text = interpolate(model_coeffs(model, batch), positions) if batch.text_present is not None else None
    batch.visemes = batch.phone_ids = batch.word_vectors = None
    batch.text_present = torch.tensor([False])
    return {AUDIO_TEXT: with_text, AUDIO_ONLY: interpolate(model_coeffs(model, batch), positions)}


def system_tracks(model: PMMTalk, sample: Sample, fps: float, lookaheads_ms: tuple[int, ...] = LOOKAHEADS_MS,
                  before: PMMTalk | None = None) -> dict[RowKey, np.ndarray | None]:
    """Every system's (T, 32) coefficients for one utterance; None for a row that cannot run.
    ``before``: the previous default, for the "before" rows."""
    tracks: dict[RowKey, np.ndarray | None] = {}
    samples = sample.audio.samples
    shortest_s = min_lookahead_s(model, fps)
    for ms in lookaheads_ms:
        track, activity = stream(LivePhoneticAnimator(fps, ms / 1000), samples)
        tracks[(PHONETIC, ms)] = track.values
        tracks[(LOUDNESS, ms)] = lipsync.loudness_jaw(activity, fps).values
        tracks[(PMMTALK, ms)] = (stream(LivePMMTalkAnimator(model, fps, ms / 1000), samples)[0].values
                                 if ms / 1000 >= shortest_s else None)
    tracks.update({(system, None): coeffs for system, coeffs in offline_coeffs(model, sample.audio, fps).items()})
    tracks[(VISUAL, None)] = None
    tracks[(OFFLINE_PHONETIC, None)] = PhoneticAnimator().animate(sample.audio, fps).values
    if before is not None:
        lookahead_s = DEFAULT_LOOKAHEAD_MS / 1000
        tracks[(BEFORE_LIVE, DEFAULT_LOOKAHEAD_MS)] = (
            stream(LivePMMTalkAnimator(before, fps, lookahead_s), samples)[0].values
            if lookahead_s >= min_lookahead_s(before, fps) else None)
        tracks[(BEFORE_OFFLINE, None)] = offline_coeffs(before, sample.audio, fps)[AUDIO_TEXT]
    return {key: tracks[key] for key in rows(lookaheads_ms, before is not None)}


# --- scores ------------------------------------------------------------------------------------------------

@dataclass
class Scores:
    """One row's pooled figures: ``figures`` from ``curve_errors.evaluate``, ``lipsync`` from
    ``lipsync.pooled`` of ``lipsync.score`` (frame-weighted)."""

    figures: dict
    lipsync: lipsync.LipSyncScores


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    better: str  # "lower", "higher" or "nearer 0"
    lipsync: str | None = None
    """The ``LipSyncScores`` attribute it reads; None = the ``curve_errors.evaluate`` key."""

    def of(self, scores: Scores) -> float | None:
        value = getattr(scores.lipsync, self.lipsync) if self.lipsync else scores.figures[self.key]
        return None if value is None or np.isnan(value) else float(value)

    def beats(self, a: float, b: float) -> bool:
        """a strictly better than b."""
        return {"lower": a < b, "higher": a > b, "nearer 0": abs(a) < abs(b)}[self.better]


MEASURES = {m.key: m for m in (
    Measure("lip_max_error", "max lip error", "lower"),
    Measure("lip_mean_error", "mean lip error", "lower"),
    Measure("closure_rate", "closure-event rate", "higher"),
    Measure("bilabial_closure_rate", "bilabial closure rate", "higher", "closure_rate"),
    Measure("aperture_ratio", "open-vowel / bilabial aperture", "higher", "aperture_ratio"),
    Measure("openness_correlation", "openness correlation", "higher", "openness_correlation"),
    Measure("jitter_prediction", "jitter", "lower"),
    Measure("lag_ms", "lag", "nearer 0"),
)}
VERDICT_MEASURES = ("lip_max_error", "lip_mean_error", "closure_rate", "bilabial_closure_rate",
                    "openness_correlation")
"""The issue's three (lip error, closure rate, openness correlation), each in both its forms."""


def score_rows(samples: list[Sample], tracks: list[dict[RowKey, np.ndarray | None]],
               fps: float) -> dict[RowKey, Scores | None]:
    """Pooled scores per row over the samples (``tracks[i]`` is sample i's); None for rows not run."""
    frames = [len(s.coeffs) for s in samples]
    out: dict[RowKey, Scores | None] = {}
    for key in tracks[0]:
        if tracks[0][key] is None:
            out[key] = None
            continue
        predictions = [t[key] for t in tracks]
        figures = curve_errors.evaluate(zip(predictions, (s.coeffs for s in samples)), fps)
        per_utterance = [lipsync.score(CurveTrack(rig.MODEL_CHANNELS, p, fps), s.phones)
                   for p, s in zip(predictions, samples)]
        out[key] = Scores(figures, lipsync.pooled(per_utterance, frames))
    return out


@dataclass
class Result:
    dataset: DataSet
    scores: dict[RowKey, Scores | None]
    live_offline_diff: float | None  # max |live at the default look-ahead - offline with text|
    late_diff: float | None  # max |model live at the longest look-ahead - at the default|
    example: tuple[Sample, dict[RowKey, np.ndarray | None]] | None = None


def evaluate(model: PMMTalk, dataset: DataSet, fps: float, lookaheads_ms: tuple[int, ...] = LOOKAHEADS_MS,
             before: PMMTalk | None = None) -> Result:
    """Every system on every utterance of ``dataset`` (``before``: with the "before" rows), scored;
    keeps the utterance with the most interior bilabials per second for the example plot."""
    tracks = [system_tracks(model, s, fps, lookaheads_ms, before) for s in dataset.samples]

    def max_diff(a: RowKey, b: RowKey) -> float | None:
        if a not in tracks[0] or b not in tracks[0] or tracks[0][a] is None or tracks[0][b] is None:
            return None
        return max(float(np.abs(t[a] - t[b]).max()) for t in tracks)

    default = (PMMTALK, DEFAULT_LOOKAHEAD_MS)
    densest = max(range(len(dataset.samples)), key=lambda i: len(lipsync.interior_bilabials(
        dataset.samples[i].phones)) / dataset.samples[i].audio.duration_s)
    return Result(dataset, score_rows(dataset.samples, tracks, fps), max_diff(default, (AUDIO_TEXT, None)),
                  max_diff((PMMTALK, max(lookaheads_ms)), default), (dataset.samples[densest], tracks[densest]))


# --- speed -------------------------------------------------------------------------------------------------

@contextmanager
def one_core(cpu: int):
    """This process on CPU ``cpu`` with one torch and BLAS thread, restored afterwards."""
    from ..threads import one_thread

    affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else None
    if affinity is not None:
        os.sched_setaffinity(0, {cpu})
    try:
        with one_thread():
            yield
    finally:
        if affinity is not None:
            os.sched_setaffinity(0, affinity)


def real_time_factor(animator, samples: np.ndarray) -> float:
    """CPU time (``time.process_time``: every thread of this process) of feeding ``samples`` in 10 ms
    hops and flushing, over the audio's duration. Construction is not counted."""
    started = time.process_time()
    for i in range(0, len(samples), HOP_SAMPLES):
        animator.process(samples[i:i + HOP_SAMPLES])
    animator.flush()
    return (time.process_time() - started) / (len(samples) / SAMPLE_RATE_HZ)


@dataclass
class Speed:
    seconds: float
    model_rtf: float
    phonetic_rtf: float
    load_average: float | None = None
    """The machine's 1-minute load average just before: other work on the core slows these down."""


def measure_speed(model: PMMTalk, samples: np.ndarray, fps: float, cpu: int = 0) -> Speed:
    """Both live animators at the default look-ahead on one core."""
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    with one_core(cpu):
        model_rtf = real_time_factor(LivePMMTalkAnimator(model, fps, DEFAULT_LOOKAHEAD_MS / 1000), samples)
        phonetic_rtf = real_time_factor(LivePhoneticAnimator(fps, DEFAULT_LOOKAHEAD_MS / 1000), samples)
    return Speed(len(samples) / SAMPLE_RATE_HZ, model_rtf, phonetic_rtf, load)
