"""The synthetic training corpus: speech from voices with exact phone timings, labelled by the phonetic
animator, augmented to sound like real microphones (docs/corpus.md).

``build_corpus(out, hours)`` fills a dataset folder (docs/dataset.md) at 60 fps, the shipped model's rate:

    <out>/corpus.yaml       the settings, the voices with their shares, the held-out voices
    <out>/dataset.yaml
    <out>/utterances/<index>-<voice>/{audio.wav, coeffs.csv, meta.yaml}

Utterance ``index`` is decided by ``(seed, index)`` alone (``recipe``): its voice, text, tempo and pitch,
speed, silences and acoustic chain. So a build is resumable (existing utterances are kept, the rest are
made), extensible (a larger ``hours`` goes on from there) and parallel (processes take chunks of
indices; which process makes an utterance changes nothing in it).

Per utterance: the engine speaks the text (tempo and pitch set in the engine, so its phone timings
stay exact); the audio is resampled to 16 kHz, sped up or slowed down by resampling (phone times scaled
by the same factor) and padded with silence (phones shifted); the labels are
``render_phones(phones, ...)`` with the loudness of this clean audio; then the acoustic chain
(reverberation, noise, equalisation, band limit, gain) changes the audio only.
"""

from __future__ import annotations

import logging
import math
import multiprocessing
import os
import re
import tempfile
import time
from collections import Counter
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import soundfile
import yaml

from ..audio.loudness import loudness_envelope
from ..audio.resample import resample
from ..phonetic.coarticulation import render_phones
from ..dataset import AUDIO_FILE, UTTERANCES, create_dataset, write_utterance
from ..tracks import SAMPLE_RATE_HZ, Audio, num_frames_for
from .augment import (CLEAN_SHARE, GAIN_RANGE_DB, RT60_RANGE_S, SILENCE_RANGE_S, SNR_RANGE_DB, SPEED_RANGE,
                      apply_chain, draw_chain, pad_silence, speed_factor_grid, speed_perturb, spoken_span)
from .espeak import spoken_text
from .speech import CorpusError, SynthRequest, Voice
from .texts import PACKAGE_OF, sentences
from .voices import VOICES, check_engine, synthesize

log = logging.getLogger(__name__)

FPS = 60
"""The corpus's coefficient rate: the model's."""
CORPUS_FILE = "corpus.yaml"
FORMAT_VERSION = 1

HELD_OUT = ("flite-rms", "espeak-cmn-f4")
"""Voices kept out of training: the validation speakers (never to be trained on)."""

LANGUAGE_SHARES = {"en": 0.7, "cmn": 0.18, "de": 0.06, "es": 0.06}
"""The share of the corpus per language when all are built (renormalised over ``--languages``)."""

TEMPO_RANGE = (0.85, 1.2)
"""Engine-side duration stretch (>1 slower)."""
PITCH_RANGE = (0.85, 1.2)
"""Engine-side mean-pitch factor."""

CHUNK = 8
"""Utterances per task: one festival process speaks a chunk's festival texts."""
TALKERS = 4
"""Voices (and sentences) in the babble pool."""


@dataclass(frozen=True)
class Recipe:
    """Everything that decides one utterance, drawn from ``(seed, index)``."""

    index: int
    voice: Voice
    text: str
    tempo: float
    pitch: float
    speed: float
    lead_s: float
    trail_s: float
    chain: list = field(hash=False, compare=False)

    @property
    def id(self) -> str:
        return utterance_id(self.index, self.voice)


def utterance_id(index: int, voice: Voice) -> str:
    return f"{index:06d}-{voice.name}"


_ID = re.compile(r"(\d{6,})-(.+)")


# --- the plan ------------------------------------------------------------------------------------------

def plan_voices(languages: list[str] | None = None) -> list[tuple[Voice, float]]:
    """The voices of ``languages`` (default: all) with their shares of the corpus (summing to 1):
    ``LANGUAGE_SHARES`` per language, renormalised, split evenly over the language's voices."""
    known = sorted({voice.language for voice in VOICES})
    languages = list(languages or known)
    unknown = [lang for lang in languages if lang not in known]
    if unknown:
        raise CorpusError(f"unknown language(s) {', '.join(unknown)}; the corpus speaks {', '.join(known)}")
    total = sum(LANGUAGE_SHARES[lang] for lang in languages)
    plan = []
    for lang in languages:
        voices = [voice for voice in VOICES if voice.language == lang]
        plan += [(voice, LANGUAGE_SHARES[lang] / total / len(voices)) for voice in voices]
    return plan


def recipe(index: int, seed: int, plan: list[tuple[Voice, float]]) -> Recipe:
    """Utterance ``index`` of the corpus with ``seed`` over the voices of ``plan``."""
    rng = np.random.default_rng([seed, index])
    voices, shares = zip(*plan)
    voice = voices[int(rng.choice(len(voices), p=np.array(shares) / sum(shares)))]
    pool = sentences(voice.language)
    text = pool[int(rng.integers(len(pool)))]
    tempo = round(float(rng.uniform(*TEMPO_RANGE)), 3)
    pitch = round(float(rng.uniform(*PITCH_RANGE)), 3)
    speed = speed_factor_grid(rng.uniform(*SPEED_RANGE))
    lead_s = round(float(rng.uniform(*SILENCE_RANGE_S)), 3)
    trail_s = round(float(rng.uniform(*SILENCE_RANGE_S)), 3)
    chain = draw_chain(rng)
    return Recipe(index, voice, text, tempo, pitch, speed, lead_s, trail_s, chain)


def held_out_voices(root: str | os.PathLike) -> set[str]:
    """The subjects (voice names) of a corpus kept for validation, from its corpus.yaml."""
    path = Path(root) / CORPUS_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CorpusError(f"{path}: missing (not a corpus made by `pmmtalk-live corpus build`)") from None
    except (OSError, yaml.YAMLError) as error:
        raise CorpusError(f"{path}: cannot read it ({error})") from None
    return set(data.get("held_out") or [])


# --- one utterance -----------------------------------------------------------------------------------------

def make_utterance(rec: Recipe, speech, talkers: list[np.ndarray], seed: int) -> tuple[np.ndarray, np.ndarray, dict]:
    """A recipe's spoken ``Speech`` -> (16 kHz audio (N,), coeffs (T, 32) at ``FPS``, meta.yaml extras)."""
    clean = resample(speech.samples, speech.sample_rate_hz, SAMPLE_RATE_HZ)
    phones = [p for p in speech.phones if p.start_s < len(clean) / SAMPLE_RATE_HZ]
    clean, phones = speed_perturb(clean, phones, rec.speed)
    clean, phones = pad_silence(clean, phones, rec.lead_s, rec.trail_s)

    duration_s = len(clean) / SAMPLE_RATE_HZ
    num_frames = num_frames_for(duration_s, FPS)
    loudness = loudness_envelope(clean, SAMPLE_RATE_HZ, FPS, num_frames)
    coeffs = render_phones(phones, num_frames, FPS, loudness).values

    start_s, end_s = spoken_span(phones)
    span = slice(int(start_s * SAMPLE_RATE_HZ), max(int(end_s * SAMPLE_RATE_HZ), int(start_s * SAMPLE_RATE_HZ) + 1))
    chain = [step for step in rec.chain if talkers or step.get("kind") != "babble"]
    audio = apply_chain(clean, chain, np.random.default_rng([seed, rec.index, 1]), span, talkers)

    extra = {
        "engine": rec.voice.engine, "voice": rec.voice.engine_voice, "language": rec.voice.language,
        "held_out": rec.voice.name in HELD_OUT, "index": rec.index,
        "tempo": rec.tempo, "pitch": rec.pitch if _moves_pitch(rec.voice) else 1.0, "speed": rec.speed,
        "lead_silence_s": rec.lead_s, "trail_silence_s": rec.trail_s,
        "augmentation": chain,
        "phones": [[p.label, round(p.start_s, 4), round(p.end_s, 4)] for p in phones],
        "engine_phones": [[symbol, round(p.start_s, 4), round(p.end_s, 4)]
                          for symbol, p in zip(speech.symbols, speech.phones)],
    }
    if spoken_text(rec.voice, rec.text) != rec.text:
        extra["spoken_text"] = spoken_text(rec.voice, rec.text)
    if speech.unknown:
        extra["unknown_symbols"] = dict(speech.unknown)
    return audio, coeffs, extra


def _moves_pitch(voice: Voice) -> bool:
    return voice.f0_hz is not None or voice.engine_voice in ("kal_diphone", "ked_diphone") or voice.engine == "espeak"


# --- workers ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=4)
def _talkers(seed: int, voice_names: tuple[str, ...]) -> list[np.ndarray]:
    """The babble pool: one sentence each from up to ``TALKERS`` training voices, clean, 16 kHz.
    The same in every process (it follows from the seed and the voices)."""
    rng = np.random.default_rng([seed, 2**31])
    pool = []
    voices = [voice for voice in VOICES if voice.name in voice_names and voice.name not in HELD_OUT][:TALKERS]
    with tempfile.TemporaryDirectory(prefix="pmmtalk-babble-") as workdir:
        for voice in voices:
            texts = sentences(voice.language)
            result = synthesize(voice, [SynthRequest(texts[int(rng.integers(len(texts)))])], Path(workdir))[0]
            if not isinstance(result, Exception):
                pool.append(resample(result.samples, result.sample_rate_hz, SAMPLE_RATE_HZ))
    return pool


@dataclass
class _Result:
    index: int
    voice: str
    duration_s: float = 0.0
    error: str | None = None
    cpu_s: float = 0.0
    unknown: dict = field(default_factory=dict)


def _cpu_s() -> float:
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _make_chunk(out: str, seed: int, plan: list[tuple[Voice, float]], indices: list[int]) -> list[_Result]:
    """Make the utterances ``indices`` (a worker's task); failures come back as results with an error."""
    talkers = _talkers(seed, tuple(voice.name for voice, _ in plan))
    recipes = [recipe(i, seed, plan) for i in indices]
    results = []
    by_voice: dict[Voice, list[Recipe]] = {}
    for rec in recipes:
        by_voice.setdefault(rec.voice, []).append(rec)
    with tempfile.TemporaryDirectory(prefix="pmmtalk-corpus-") as workdir:
        for voice, recs in by_voice.items():
            cpu0 = _cpu_s()
            try:
                spoken = synthesize(voice, [SynthRequest(r.text, r.tempo, r.pitch) for r in recs], Path(workdir))
            except Exception as error:  # noqa: BLE001 - a failed batch is counted, never fatal
                spoken = [error] * len(recs)
            synth_cpu = (_cpu_s() - cpu0) / len(recs)
            for rec, speech in zip(recs, spoken):
                results.append(_finish(out, seed, rec, speech, talkers, synth_cpu))
    return results


def _finish(out: str, seed: int, rec: Recipe, speech, talkers, synth_cpu: float) -> _Result:
    if isinstance(speech, Exception):
        return _Result(rec.index, rec.voice.name, error=f"{type(speech).__name__}: {speech}", cpu_s=synth_cpu)
    cpu0 = _cpu_s()
    try:
        audio, coeffs, extra = make_utterance(rec, speech, talkers, seed)
        utt = write_utterance(out, rec.id, Audio(audio), coeffs, FPS, rec.voice.name, rec.text, extra=extra)
    except Exception as error:  # noqa: BLE001 - one bad utterance is skipped and counted
        return _Result(rec.index, rec.voice.name, error=f"{type(error).__name__}: {error}", cpu_s=synth_cpu)
    return _Result(rec.index, rec.voice.name, utt.duration_s, cpu_s=synth_cpu + _cpu_s() - cpu0,
                   unknown=speech.unknown)


# --- the build -------------------------------------------------------------------------------------------

@dataclass
class BuildSummary:
    """What a build did. Seconds are audio seconds of the finished utterances."""

    out: Path
    target_s: float
    existing: int = 0
    existing_s: float = 0.0
    built: int = 0
    built_s: float = 0.0
    failed: Counter = field(default_factory=Counter)
    built_by_voice: Counter = field(default_factory=Counter)
    unknown_symbols: Counter = field(default_factory=Counter)
    """Engine phone symbols missing from the mapping tables (mapped to their nearest class)."""
    cpu_s: float = 0.0
    wall_s: float = 0.0

    @property
    def total_s(self) -> float:
        return self.existing_s + self.built_s

    def __str__(self) -> str:
        lines = [f"corpus {self.out}: {self.existing + self.built} utterances, {self.total_s / 3600:.3f} h "
                 f"(target {self.target_s / 3600:.3f} h); this run: {self.built} new ({self.built_s:.0f} s of audio "
                 f"in {self.wall_s:.0f} s, {self.built_s / max(self.cpu_s, 1e-9):.2f} s of audio per CPU second), "
                 f"{self.existing} kept"]
        if self.built_by_voice:
            lines.append("  new per voice: " + ", ".join(f"{v} {n}" for v, n in sorted(self.built_by_voice.items())))
        if self.unknown_symbols:
            lines.append("  unknown phone symbols (mapped to the nearest class): "
                         + ", ".join(f"{s!r} {n}" for s, n in self.unknown_symbols.most_common()))
        if self.failed:
            lines.append("  failed per voice: " + ", ".join(f"{v} {n}" for v, n in sorted(self.failed.items())))
        return "\n".join(lines)


def _settings(seed: int, languages: list[str], plan: list[tuple[Voice, float]], hours: float) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "generator": "pmmtalk-live corpus build",
        "seed": seed,
        "languages": languages,
        "fps": FPS,
        "hours": hours,
        "held_out": [voice.name for voice, _ in plan if voice.name in HELD_OUT],
        "voices": [{"name": voice.name, "engine": voice.engine, "engine_voice": voice.engine_voice,
                    "language": voice.language, "share": round(share, 4), "held_out": voice.name in HELD_OUT}
                   for voice, share in plan],
        "texts": {lang: {"package": PACKAGE_OF[lang], "sentences": len(sentences(lang))} for lang in languages},
        "augmentation": {"clean_share": CLEAN_SHARE, "tempo": list(TEMPO_RANGE),
                         "pitch": list(PITCH_RANGE), "speed": list(SPEED_RANGE),
                         "silence_s": list(SILENCE_RANGE_S), "snr_db": list(SNR_RANGE_DB),
                         "rt60_s": list(RT60_RANGE_S), "gain_db": list(GAIN_RANGE_DB)},
    }


def _open_corpus(out: Path, settings: dict) -> None:
    """Write corpus.yaml, or check an existing one was made with the same seed and languages."""
    path = out / CORPUS_FILE
    if path.exists():
        try:
            old = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as error:
            raise CorpusError(f"{path}: cannot read it ({error})") from None
        for key in ("format_version", "seed", "languages", "voices"):
            if old.get(key) != settings[key]:
                raise CorpusError(f"{path}: this corpus was built with {key} {old.get(key)!r}, not {settings[key]!r}; "
                                  "use the same settings to extend it, or another --out")
    elif (out / UTTERANCES).is_dir() and any((out / UTTERANCES).iterdir()):
        raise CorpusError(f"{out}: a dataset that is not a corpus (no {CORPUS_FILE}); choose another --out")
    out.mkdir(parents=True, exist_ok=True)
    fps = create_dataset(out, fps=FPS, description="synthetic corpus (pmmtalk-live corpus build, docs/corpus.md)")
    if fps != FPS:
        raise CorpusError(f"{out}: dataset.yaml has fps {fps:g}; the corpus is made at {FPS}")
    tmp = path.with_name(f".{CORPUS_FILE}.tmp")
    tmp.write_text(yaml.safe_dump(settings, sort_keys=False, allow_unicode=True))
    tmp.replace(path)


def existing_utterances(out: Path) -> dict[int, float]:
    """index -> duration in seconds of each utterance already in the corpus."""
    folder = out / UTTERANCES
    found = {}
    if folder.is_dir():
        for entry in folder.iterdir():
            match = _ID.fullmatch(entry.name)
            if match and (entry / AUDIO_FILE).is_file():
                try:
                    found[int(match.group(1))] = soundfile.info(entry / AUDIO_FILE).frames / SAMPLE_RATE_HZ
                except (RuntimeError, OSError):
                    continue
    return found


MAX_FAILURE_SHARE = 0.5
"""A build stops when more than half of at least 20 utterances failed: something is broken."""


def build_corpus(out: str | os.PathLike, hours: float, jobs: int | None = None, seed: int = 0,
                 languages: list[str] | None = None, show_progress: bool = True) -> BuildSummary:
    """Build (or resume, or extend) the corpus at ``out`` until it holds ``hours`` of audio.

    jobs: processes (default: every core). Indices are made in order, skipping those already there;
    the last chunks in flight when the target is reached still finish. Raises CorpusError when an
    engine or text source is missing, ``out`` was built with another seed or languages, or most
    utterances fail; a single failed utterance is logged, counted and skipped.
    """
    if not hours > 0:
        raise CorpusError(f"--hours must be > 0, got {hours!r}")
    out = Path(out)
    jobs = max(1, jobs or os.cpu_count() or 1)
    plan = plan_voices(languages)
    languages = sorted({voice.language for voice, _ in plan}, key=[v.language for v in VOICES].index)
    for engine in dict.fromkeys(voice.engine for voice, _ in plan):
        check_engine(engine, [voice for voice, _ in plan if voice.engine == engine])
    _open_corpus(out, _settings(seed, languages, plan, hours))

    done = existing_utterances(out)
    summary = BuildSummary(out, hours * 3600.0, existing=len(done), existing_s=sum(done.values()))
    started = time.monotonic()
    estimate_s = 4.0  # per utterance until some are made
    next_index = 0

    def next_chunk(room_s: float) -> list[int]:
        nonlocal next_index
        size = max(1, min(CHUNK, math.ceil(room_s / estimate_s)))
        chunk = []
        while len(chunk) < size:
            if next_index not in done:
                chunk.append(next_index)
            next_index += 1
        return chunk

    from tqdm import tqdm

    bar = tqdm(total=round(summary.target_s), initial=min(round(summary.total_s), round(summary.target_s)),
               unit="s", desc="corpus", disable=not show_progress, dynamic_ncols=True)
    pool = None if jobs == 1 else ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork"))
    pending: dict = {}
    try:
        while True:
            in_flight_s = sum(len(chunk) for chunk in pending.values()) * estimate_s
            while len(pending) < 2 * jobs and summary.total_s + in_flight_s < summary.target_s:
                chunk = next_chunk(summary.target_s - summary.total_s - in_flight_s)
                if pool is None:
                    pending[_Done(_make_chunk(str(out), seed, plan, chunk))] = chunk
                else:
                    pending[pool.submit(_make_chunk, str(out), seed, plan, chunk)] = chunk
                in_flight_s += len(chunk) * estimate_s
            if not pending:
                break
            finished = [f for f in pending if isinstance(f, _Done)] or wait(pending, return_when=FIRST_COMPLETED)[0]
            for future in finished:
                del pending[future]
                for result in future.result():
                    summary.cpu_s += result.cpu_s
                    if result.error:
                        summary.failed[result.voice] += 1
                        log.warning("utterance %06d (%s) skipped: %s", result.index, result.voice, result.error)
                        continue
                    summary.built += 1
                    summary.built_s += result.duration_s
                    summary.built_by_voice[result.voice] += 1
                    for symbol, count in result.unknown.items():
                        key = f"{result.voice.split('-')[0]}:{symbol}"
                        if key not in summary.unknown_symbols:
                            log.info("%s: phone symbol %r is not in the mapping table", result.voice, symbol)
                        summary.unknown_symbols[key] += count
                    bar.update(min(round(summary.total_s), bar.total) - bar.n)
                made = summary.built + summary.existing
                estimate_s = summary.total_s / made if made else estimate_s
            failures = sum(summary.failed.values())
            if failures >= 20 and failures > MAX_FAILURE_SHARE * (failures + summary.built):
                raise CorpusError(f"{failures} of {failures + summary.built} utterances failed "
                                  f"({', '.join(f'{v} {n}' for v, n in summary.failed.items())}); see the log")
    finally:
        bar.close()
        if pool is not None:
            for future in pending:
                future.cancel()
            pool.shutdown(wait=True, cancel_futures=True)
        summary.wall_s = time.monotonic() - started
    return summary


class _Done:
    """A chunk made in this process (jobs=1), shaped like a finished future."""

    def __init__(self, results: list[_Result]):
        self._results = results

    def result(self) -> list[_Result]:
        return self._results

