"""Synthetic voices with exact phone timings: flite, festival and espeak-ng, as the corpus uses them.

Every engine here reports where each phone it spoke starts and ends, so the phonetic animator can
label its audio exactly. ``synthesize(voice, requests, workdir)`` speaks a batch of texts with one
voice and returns, per text, ``Speech``: the samples at the engine's rate and the phones, mapped to the
project's ARPAbet labels (``SIL`` for pauses) with the engine's own symbol kept beside each.

- flite (``flite -psdur``): one process per text; ``duration_stretch`` (tempo) and
  ``int_f0_target_mean`` (pitch; the unit-selection voice rms ignores it).
- festival: one process per batch, a Scheme script of ``utt.synth`` / ``utt.save.wave`` /
  ``utt.save.segs``; ``Duration_Stretch`` (tempo) and the diphone voices' ``int_lr_params`` (pitch).
- espeak-ng (``espeak.py``): libespeak-ng through ctypes, phoneme events with sample positions;
  rate (tempo) and base pitch.

An engine that is not installed raises ``CorpusError`` with the package to install.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import soundfile

from ..phonetic.phones import ARPABET
from ..tracks import Phone
from .espeak import load_library, speak
from .speech import CorpusError, Speech, SynthRequest, Voice


# --- the radio / CMU phone set of flite and festival -------------------------------------------------

RADIO_TO_ARPABET: dict[str, str] = {
    "pau": "SIL", "h#": "SIL", "brth": "SIL", "#": "SIL", "sil": "SIL",
    "ax": "AH", "axr": "ER", "ix": "IH", "ux": "UW", "dx": "D", "nx": "N", "hv": "HH",
    "el": "L", "em": "M", "en": "N", "q": "T", "zh": "ZH",
}
"""flite and festival speak the CMU / radio set: ARPAbet in lower case plus a few reduced forms."""


def radio_label(symbol: str) -> tuple[str, bool]:
    """A flite/festival symbol -> (ARPAbet label, known). Unknown symbols count as silence."""
    symbol = symbol.strip().lower()
    if symbol in RADIO_TO_ARPABET:
        return RADIO_TO_ARPABET[symbol], True
    upper = symbol.rstrip("012").upper()
    if upper in ARPABET:
        return upper, True
    return "SIL", False


def _phones_from_ends(symbols_ends: list[tuple[str, float]]) -> tuple[list[Phone], list[str], dict[str, int]]:
    """(symbol, end time) in order -> phones from 0 (each starts where the last ended), symbols, unknowns."""
    phones, symbols, unknown = [], [], {}
    start = 0.0
    for symbol, end in symbols_ends:
        label, known = radio_label(symbol)
        if not known:
            unknown[symbol] = unknown.get(symbol, 0) + 1
        if end > start:
            phones.append(Phone(label, round(start, 4), round(end, 4)))
            symbols.append(symbol)
            start = end
    return phones, symbols, unknown


def _read_wav(path: Path, engine: str) -> tuple[np.ndarray, int]:
    try:
        samples, rate = soundfile.read(path, dtype="float32", always_2d=True)
    except (RuntimeError, OSError) as error:
        raise CorpusError(f"{engine}: no readable audio in {path} ({error})") from None
    return samples.mean(axis=1), int(rate)


def _fit_to_audio(phones: list[Phone], duration_s: float) -> list[Phone]:
    """Engines round their last segment's end: end the last phone at the audio's end (a pause covers any
    gap), and drop phones past it."""
    out = [p for p in phones if p.start_s < duration_s]
    if not out:
        return [Phone("SIL", 0.0, duration_s)]
    last = out[-1]
    out[-1] = Phone(last.label, last.start_s, round(duration_s, 6), last.word)
    return out


# --- flite -------------------------------------------------------------------------------------------

def _flite(voice: Voice, request: SynthRequest, workdir: Path) -> Speech:
    wav = workdir / "flite.wav"
    command = ["flite", "-voice", voice.engine_voice, "--setf", f"duration_stretch={request.tempo:.4f}"]
    if voice.f0_hz is not None:
        command += ["--setf", f"int_f0_target_mean={voice.f0_hz * request.pitch:.2f}"]
    command += ["-t", request.text, "-psdur", "-o", str(wav)]
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise CorpusError("flite is not installed: apt-get install flite") from None
    if result.returncode != 0:
        raise CorpusError(f"flite -voice {voice.engine_voice} failed: {(result.stderr or result.stdout).strip()[:200]}")
    # One line per utterance flite split the text into; times restart at 0 on each line.
    symbols_ends: list[tuple[str, float]] = []
    offset = 0.0
    for line in result.stdout.splitlines():
        items = [item.rsplit(":", 1) for item in line.split() if ":" in item]
        ends = [(symbol, offset + float(end)) for symbol, end in items]
        if ends:
            symbols_ends += ends
            offset = ends[-1][1]
    samples, rate = _read_wav(wav, "flite")
    phones, symbols, unknown = _phones_from_ends(symbols_ends)
    if not phones:
        raise CorpusError(f"flite -voice {voice.engine_voice} printed no phone timings")
    return Speech(samples, rate, _fit_to_audio(phones, len(samples) / rate), symbols, unknown)


# --- festival ----------------------------------------------------------------------------------------

_FESTIVAL_PITCH = {"kal_diphone": (105.0, 14.0), "ked_diphone": (105.0, 15.0)}
"""The diphone voices' own int_lr_params targets (mean, std in Hz), scaled for a pitch change."""


def _scheme_string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _festival_batch(voice: Voice, requests: list[SynthRequest], workdir: Path) -> list[Speech | Exception]:
    lines = [f"(voice_{voice.engine_voice})"]
    for i, request in enumerate(requests):
        lines.append(f"(Parameter.set 'Duration_Stretch {request.tempo:.4f})")
        if voice.engine_voice in _FESTIVAL_PITCH:
            mean, std = _FESTIVAL_PITCH[voice.engine_voice]
            lines.append(f"(set! int_lr_params '((target_f0_mean {mean * request.pitch:.2f}) "
                         f"(target_f0_std {std * request.pitch:.2f}) (model_f0_mean 170) (model_f0_std 34)))")
        wav, segs = workdir / f"fest{i}.wav", workdir / f"fest{i}.segs"
        # unwind-protect: a text festival cannot speak skips that text, not the batch.
        lines.append(f"(unwind-protect (let ((u (utt.synth (Utterance Text {_scheme_string(request.text)})))) "
                     f"(utt.save.wave u \"{wav}\" 'riff) (utt.save.segs u \"{segs}\")) nil)")
    script = workdir / "batch.scm"
    script.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        result = subprocess.run(["festival", "-b", str(script)], capture_output=True, text=True,
                                timeout=60 + 30 * len(requests))
    except FileNotFoundError:
        raise CorpusError("festival is not installed: apt-get install festival festvox-kallpc16k "
                          "festvox-kdlpc16k festvox-us-slt-hts") from None
    if "SIOD ERROR" in result.stderr and f"voice_{voice.engine_voice}" in result.stderr:
        raise CorpusError(f"festival has no voice {voice.engine_voice}: {_FESTIVAL_PACKAGES.get(voice.engine_voice)}")
    out: list[Speech | Exception] = []
    for i in range(len(requests)):
        wav, segs = workdir / f"fest{i}.wav", workdir / f"fest{i}.segs"
        if not (wav.exists() and segs.exists()):
            out.append(CorpusError(f"festival {voice.engine_voice} spoke nothing for text {i}: "
                                   f"{result.stderr.strip()[-200:]}"))
            continue
        samples, rate = _read_wav(wav, "festival")
        symbols_ends = []
        for line in segs.read_text(encoding="utf-8", errors="replace").splitlines():
            fields = line.split()
            if len(fields) == 3 and fields[0] != "#":
                symbols_ends.append((fields[2], float(fields[0])))
        phones, symbols, unknown = _phones_from_ends(symbols_ends)
        out.append(Speech(samples, rate, _fit_to_audio(phones, len(samples) / rate), symbols, unknown)
                   if phones else CorpusError(f"festival {voice.engine_voice}: no segments for text {i}"))
        wav.unlink()
        segs.unlink()
    return out


_FESTIVAL_PACKAGES = {
    "kal_diphone": "apt-get install festvox-kallpc16k",
    "ked_diphone": "apt-get install festvox-kdlpc16k",
    "cmu_us_slt_arctic_hts": "apt-get install festvox-us-slt-hts",
}


# --- the voices --------------------------------------------------------------------------------------

VOICES: tuple[Voice, ...] = (
    Voice("flite-slt", "flite", "slt", "en", f0_hz=170.0),
    Voice("flite-awb", "flite", "awb", "en", f0_hz=130.0),
    Voice("flite-rms", "flite", "rms", "en"),
    Voice("flite-kal16", "flite", "kal16", "en", f0_hz=95.0),
    Voice("festival-kal", "festival", "kal_diphone", "en"),
    Voice("festival-ked", "festival", "ked_diphone", "en"),
    Voice("festival-slt-hts", "festival", "cmu_us_slt_arctic_hts", "en"),
    Voice("espeak-cmn", "espeak", "cmn-latn-pinyin", "cmn"),
    Voice("espeak-cmn-f2", "espeak", "cmn-latn-pinyin+f2", "cmn"),
    Voice("espeak-cmn-m3", "espeak", "cmn-latn-pinyin+m3", "cmn"),
    Voice("espeak-cmn-f4", "espeak", "cmn-latn-pinyin+f4", "cmn"),
    Voice("espeak-de", "espeak", "de", "de"),
    Voice("espeak-de-f3", "espeak", "de+f3", "de"),
    Voice("espeak-es", "espeak", "es", "es"),
    Voice("espeak-es-m2", "espeak", "es+m2", "es"),
)
"""Every voice the corpus can use: English from flite and festival (all derived from recordings of real
speakers), then espeak-ng (formant synthesis; ``+f2`` etc. are its voice variants)."""

VOICE_BY_NAME = {voice.name: voice for voice in VOICES}


def check_engine(engine: str, voices: list[Voice]) -> None:
    """Raise CorpusError (one line, what to install) if ``engine`` or one of ``voices`` is missing."""
    if engine == "flite":
        if shutil.which("flite") is None:
            raise CorpusError("flite is not installed: apt-get install flite")
        listed = subprocess.run(["flite", "-lv"], capture_output=True, text=True).stdout.split()
        for voice in voices:
            if voice.engine_voice not in listed:
                raise CorpusError(f"flite has no voice {voice.engine_voice} (flite -lv lists {' '.join(listed[2:])})")
    elif engine == "festival":
        if shutil.which("festival") is None:
            raise CorpusError("festival is not installed: apt-get install festival festvox-kallpc16k "
                              "festvox-kdlpc16k festvox-us-slt-hts")
        listed = subprocess.run(["festival", "-b", '(mapcar (lambda (v) (format t "%s " v)) (voice.list))'],
                                capture_output=True, text=True).stdout.split()
        for voice in voices:
            if voice.engine_voice not in listed:
                raise CorpusError(f"festival has no voice {voice.engine_voice}: "
                                  f"{_FESTIVAL_PACKAGES.get(voice.engine_voice, 'install its festvox package')}")
    elif engine == "espeak":
        load_library()
        if any(voice.language == "cmn" for voice in voices):
            try:
                import pypinyin  # noqa: F401 - Mandarin is spoken from pinyin
            except ImportError:
                raise CorpusError("Mandarin needs pypinyin: pip install pypinyin") from None
    else:
        raise CorpusError(f"unknown engine {engine!r}")


def synthesize(voice: Voice, requests: list[SynthRequest], workdir: Path | None) -> list[Speech | Exception]:
    """Speak each request with ``voice``; per request a ``Speech`` or the exception that stopped it.

    ``workdir``: an empty scratch folder (None: a temporary one). A missing engine raises CorpusError
    for the whole batch.
    """
    if workdir is None:
        with tempfile.TemporaryDirectory(prefix="pmmtalk-voices-") as scratch:
            return synthesize(voice, requests, Path(scratch))
    workdir = Path(workdir)
    if voice.engine == "festival":
        return _festival_batch(voice, requests, workdir)
    if voice.engine == "espeak":
        return [_guard(lambda r=request: speak(voice, r)) for request in requests]
    if voice.engine == "flite":
        return [_guard(lambda r=request: _flite(voice, r, workdir)) for request in requests]
    raise CorpusError(f"unknown engine {voice.engine!r} of voice {voice.name}")


def _guard(call) -> Speech | Exception:
    """One text's result, or the error that stopped it (the other texts of the batch go on)."""
    try:
        return call()
    except (CorpusError, OSError, ValueError, RuntimeError, subprocess.SubprocessError) as error:
        return error
