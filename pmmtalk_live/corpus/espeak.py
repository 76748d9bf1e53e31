"""espeak-ng through ctypes: speech with a phoneme event at the start sample of every phone.

libespeak-ng is set up in synchronous mode with ``espeakINITIALIZE_PHONEME_EVENTS``: the synth
callback receives the audio in blocks and, with them, events; a phoneme event carries the phone's
mnemonic (``ts.h``, ``aI``, ``_:``) and ``sample``, the index of the phone's first sample counted
from the start of the ``espeak_Synth`` call (checked here: the events of one text start at small
sample numbers and the last ``_`` sits exactly at the audio's end; ``audio_position`` is the same in
ms). A phone lasts until the next phone event; the last one until the end of the audio.

Mandarin is spoken from pinyin with tone numbers (``texts.to_pinyin``) by the ``cmn-latn-pinyin``
voice: the Debian espeak-ng data has only a small Chinese dictionary and reads most characters as
English letters.

``ESPEAK_TO_ARPABET`` maps the mnemonics of the languages used (cmn, de, es, en) to ARPAbet; a
compound final such as Mandarin ``uei`` becomes two phones (``W`` then ``EY``). A mnemonic not in
the table is mapped to its nearest class (by its base letters) and counted in ``Speech.unknown``.
Libespeak-ng keeps global state: one voice at a time per process, so the corpus uses it from its
worker processes, one synthesis at a time.
"""

from __future__ import annotations

import ctypes
import math
import threading

import numpy as np

from ..tracks import Phone
from .speech import CorpusError, Speech, SynthRequest, Voice
from .texts import to_pinyin

LIBRARY = "libespeak-ng.so.1"

_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_PHONEME_EVENTS = 0x0001
_INITIALIZE_DONT_EXIT = 0x8000
_EVENT_LIST_TERMINATED, _EVENT_PHONEME = 0, 7
_RATE, _PITCH = 1, 3
_POS_CHARACTER, _CHARS_UTF8 = 1, 1
DEFAULT_RATE_WPM = 175
DEFAULT_PITCH = 50

PAUSES = {"_", "_:", "_!", "_|", "_!_", "_::"}
"""espeak's pauses: ``_`` (end), ``_:`` (clause), ``_!`` (short), ``_|`` (word boundary, ~12 ms)."""
MARKS = {";"}
"""Events that are not phones (``;`` palatalises the phone before); language switches ``(en)`` too."""
MIN_PAUSE_S = 0.06
"""Pauses shorter than this belong to the phone before: espeak-ng puts ~40 ms of silence between words
(every Mandarin syllable), which a speaker would not close the mouth for."""
STOPS = {"P", "B", "T", "D", "K", "G", "CH", "JH"}
MAX_CLOSURE_S = 0.06
"""espeak-ng's event for a voiceless stop marks its release; the closure before it is silence inside
the phone before. The stop is moved back to the start of that quiet run (at most this far)."""
CLOSURE_BELOW_DB = 25.0
GLIDE_SHARE = 0.35
"""A compound final's first phone (a glide) takes this share of its duration."""


class _Event(ctypes.Structure):
    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint), ("text_position", ctypes.c_int),
                ("length", ctypes.c_int), ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", ctypes.c_char * 8)]


_CALLBACK = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.POINTER(_Event))

ESPEAK_TO_ARPABET: dict[str, tuple[str, ...]] = {
    # consonants: lips
    "p": ("P",), "ph": ("P",), "b": ("B",), "m": ("M",), "B": ("B",), "pF": ("P",),
    "f": ("F",), "v": ("V",), "w": ("W",),
    # teeth and tongue
    "T": ("TH",), "D": ("DH",),
    "t": ("T",), "th": ("T",), "t#": ("T",), "t2": ("T",), "d": ("D",), "d#": ("D",),
    "n": ("N",), "n-": ("N",), "n^": ("N", "Y"), "N": ("NG",), "l": ("L",), "l^": ("L", "Y"), "@L": ("L",),
    "s": ("S",), "z": ("Z",), "S": ("SH",), "Z": ("ZH",), "tS": ("CH",), "dZ": ("JH",),
    "ts": ("S",), "tsh": ("S",),                 # Mandarin z c, German z: dental affricates, lips spread
    "ts.": ("JH",), "ts.h": ("CH",), "s.": ("SH",), "z.": ("R",),  # Mandarin zh ch sh r (retroflex)
    "tS;": ("JH",), "tS;h": ("CH",), "S;": ("SH",),  # Mandarin j q x (alveolo-palatal)
    "k": ("K",), "kh": ("K",), "g": ("G",), "Q": ("G",), "x": ("HH",), "X": ("HH",), "C": ("HH",),
    "h": ("HH",), "?": ("HH",), "j": ("Y",), "J^": ("Y",),
    "r": ("R",), "r-": ("R",), "R": ("G",),       # German uvular r: tongue back, lips neutral
    "*": ("D",), "**": ("D",), "R2": ("D",),       # Spanish taps and trills: tongue tip, lips neutral
    # vowels
    "a": ("AA",), "A": ("AA",), "A:": ("AA",), "a:": ("AA",), "aa": ("AE",), "a#": ("AH",), "A@": ("AA",),
    "0": ("AA",), "@": ("AH",), "@-": ("AH",), "@2": ("AH",), "V": ("AH",), "3": ("AH",), "3:": ("ER",),
    "@r": ("ER",), "E": ("EH",), "E2": ("EH",), "E:": ("EH",), "e": ("EH",), "e:": ("EY",), "e@": ("EH",),
    "I": ("IH",), "I2": ("IH",), "I#": ("IH",), "i.": ("IH",), "i[": ("IH",), "i": ("IY",), "i:": ("IY",),
    "i@": ("IY", "AH"), "i@3": ("IY", "AH"),
    "O": ("AO",), "O:": ("AO",), "O2": ("AO",), "O@": ("AO",), "o": ("OW",), "o:": ("OW",), "o@": ("OW",),
    "o-": ("OW",), "U": ("UH",), "U@": ("UH",), "UR": ("UH",), "u": ("UW",), "u:": ("UW",),
    "y": ("UW",), "y:": ("UW",), "Y": ("UH",), "Y:": ("UW",), "W": ("UH",),
    "aI": ("AY",), "aI@": ("AY",), "aI3": ("AY",), "ai": ("AY",), "aU": ("AW",), "Au": ("AW",),
    "eI": ("EY",), "ei": ("EY",), "oU": ("OW",), "ou": ("OW",), "OI": ("OY",), "OY": ("OY",), "oI": ("OY",),
    # Mandarin compound finals: glide + vowel
    "iA": ("Y", "AA"), "iE": ("Y", "EH"), "iou": ("Y", "OW"), "ua": ("W", "AA"), "uo": ("W", "AO"),
    "uai": ("W", "AY"), "uei": ("W", "EY"), "u@": ("W", "AH"), "ong": ("UH", "NG"),
    "y&": ("UW", "EH"), "yE": ("UW", "EH"), "y@": ("UW", "AH"), "yu": ("Y", "UW"), "yi": ("UW", "IY"),
}
"""espeak-ng mnemonic -> one or two ARPAbet phones (pauses are in ``PAUSES``)."""

_VOWEL_CLASS = {"a": "AA", "A": "AA", "e": "EH", "E": "EH", "i": "IY", "I": "IH", "o": "OW", "O": "AO",
                "u": "UW", "U": "UH", "y": "UW", "Y": "UH", "@": "AH", "3": "AH", "V": "AH", "0": "AA"}


def espeak_labels(symbol: str) -> tuple[tuple[str, ...], bool]:
    """A mnemonic -> (ARPAbet phones, known). Unknown ones: the table entry of the symbol without
    stress, length and modifier marks, else the class of its first letter (vowel or consonant)."""
    if symbol in PAUSES:
        return ("SIL",), True
    if symbol in ESPEAK_TO_ARPABET:
        return ESPEAK_TO_ARPABET[symbol], True
    base = symbol.strip("'`,;:#!-0123456789[].^")
    if base in ESPEAK_TO_ARPABET:
        return ESPEAK_TO_ARPABET[base], False
    for letter in base:
        if letter in _VOWEL_CLASS:
            return (_VOWEL_CLASS[letter],), False
        if letter in ESPEAK_TO_ARPABET:
            return ESPEAK_TO_ARPABET[letter], False
    return ("SIL",), False


_lib = None
_lib_lock = threading.Lock()
_state: dict = {}


def load_library() -> ctypes.CDLL:
    """libespeak-ng, loaded (not yet initialised: that happens in the process that speaks)."""
    global _lib
    if _lib is None:
        try:
            _lib = ctypes.CDLL(LIBRARY)
        except OSError:
            raise CorpusError(f"espeak-ng is not installed ({LIBRARY} not found): apt-get install libespeak-ng1 "
                              "espeak-ng") from None
    return _lib


def _initialised() -> ctypes.CDLL:
    lib = load_library()
    if "rate" not in _state:
        rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None,
                                     _INITIALIZE_PHONEME_EVENTS | _INITIALIZE_DONT_EXIT)
        if rate <= 0:
            raise CorpusError("espeak-ng: espeak_Initialize failed (is espeak-ng-data installed? "
                              "apt-get install espeak-ng-data)")
        _state["rate"] = rate
        _state["callback"] = _CALLBACK(_on_synth)  # kept referenced: libespeak-ng holds the pointer
        lib.espeak_SetSynthCallback(_state["callback"])
    return lib


def _on_synth(wav, num_samples, events) -> int:
    if wav and num_samples > 0:
        _state["chunks"].append(np.ctypeslib.as_array(wav, (num_samples,)).copy())
    i = 0
    while events[i].type != _EVENT_LIST_TERMINATED:
        event = events[i]
        if event.type == _EVENT_PHONEME:
            _state["events"].append((bytes(event.id).split(b"\0")[0].decode("utf-8", "replace"), event.sample))
        i += 1
    return 0


def speak(voice: Voice, request: SynthRequest) -> Speech:
    """``request`` spoken by an espeak-ng voice (``voice.engine_voice``: a language, ``+variant``
    allowed). Tempo sets the rate (175 words per minute / tempo), pitch the base pitch (50 + 100 *
    log2(pitch), clipped to 0..100)."""
    with _lib_lock:
        lib = _initialised()
        if lib.espeak_SetVoiceByName(voice.engine_voice.encode()) != 0:
            raise CorpusError(f"espeak-ng has no voice {voice.engine_voice} (espeak-ng --voices lists them)")
        lib.espeak_SetParameter(_RATE, int(round(DEFAULT_RATE_WPM / request.tempo)), 0)
        pitch = DEFAULT_PITCH + 100 * math.log2(request.pitch)
        lib.espeak_SetParameter(_PITCH, int(round(min(max(pitch, 0), 100))), 0)
        _state["chunks"], _state["events"] = [], []
        text = spoken_text(voice, request.text).encode("utf-8")
        status = lib.espeak_Synth(text, len(text) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None)
        lib.espeak_Synchronize()
        chunks, events = _state.pop("chunks"), _state.pop("events")
        rate = _state["rate"]
    if status != 0 or not chunks:
        raise CorpusError(f"espeak-ng {voice.engine_voice} spoke nothing (status {status})")
    samples = np.concatenate(chunks).astype(np.float32) / 32768.0
    phones, symbols, unknown = phones_from_events(events, samples, rate)
    return Speech(samples, rate, phones, symbols, unknown)


def spoken_text(voice: Voice, text: str) -> str:
    """What espeak-ng is given: Mandarin as numbered pinyin, other languages as they are."""
    if voice.language == "cmn":
        return to_pinyin(text)
    return text


def phones_from_events(events: list[tuple[str, int]], samples: np.ndarray, rate: int
                       ) -> tuple[list[Phone], list[str], dict[str, int]]:
    """Phoneme events (mnemonic, start sample) of ``samples`` -> phones (each until the next event),
    mnemonics, unknowns.

    A stop starts at its closure (``closure_start``); pauses shorter than ``MIN_PAUSE_S`` are given
    to the phone before; two-phone mnemonics are split ``GLIDE_SHARE`` / rest; events at the same
    sample give nothing."""
    num_samples = len(samples)
    phones: list[Phone] = []
    symbols: list[str] = []
    unknown: dict[str, int] = {}
    starts = [min(sample, num_samples) for _, sample in events]
    envelope, threshold = _closure_envelope(samples, rate)
    for i, (symbol, _) in enumerate(events):
        if i and ESPEAK_TO_ARPABET.get(symbol, ("",))[0] in STOPS:
            earliest = max(starts[i - 1], starts[i] - int(MAX_CLOSURE_S * rate))
            starts[i] = closure_start(samples, starts[i], earliest, envelope, threshold)
    for i, symbol in enumerate(symbol for symbol, _ in events):
        start = starts[i]
        end = max(starts[i + 1] if i + 1 < len(starts) else num_samples, start)
        if end <= start:
            continue
        start_s, end_s = start / rate, end / rate
        if symbol in MARKS or symbol.startswith("("):
            labels, known = ("SIL",), True
            if phones:  # a modifier or a language switch: part of the phone before
                phones[-1] = Phone(phones[-1].label, phones[-1].start_s, end_s)
                continue
        else:
            labels, known = espeak_labels(symbol)
        if not known:
            unknown[symbol] = unknown.get(symbol, 0) + 1
        if labels == ("SIL",) and end_s - start_s < MIN_PAUSE_S and phones:
            last = phones[-1]
            phones[-1] = Phone(last.label, last.start_s, end_s)
            continue
        if len(labels) == 2:
            mid_s = start_s + GLIDE_SHARE * (end_s - start_s)
            parts = [(labels[0], start_s, mid_s), (labels[1], mid_s, end_s)]
        else:
            parts = [(labels[0], start_s, end_s)]
        for label, a, b in parts:
            if phones and label == "SIL" and phones[-1].label == "SIL":
                phones[-1] = Phone("SIL", phones[-1].start_s, b)
                continue
            phones.append(Phone(label, round(a, 5), round(b, 5)))
            symbols.append(symbol)
    if phones and phones[0].start_s > 0:
        phones.insert(0, Phone("SIL", 0.0, phones[0].start_s))
        symbols.insert(0, "")
    return phones, symbols, unknown


def closure_start(samples: np.ndarray, sample: int, earliest: int, envelope: np.ndarray | None = None,
                  threshold: float = 0.0) -> int:
    """The first sample of the quiet run (``envelope`` below ``threshold``: the closure) that ends at
    ``sample``, not before ``earliest``; ``sample`` itself when the sound goes on up to it.
    Without an envelope, quiet = digital silence (|x| < 1e-4)."""
    quiet = np.abs(samples) < 1e-4 if envelope is None else envelope < threshold
    start = sample
    while start > earliest and quiet[start - 1]:
        start -= 1
    return start


def _closure_envelope(samples: np.ndarray, rate: int) -> tuple[np.ndarray, float]:
    """(RMS of the 5 ms up to and including each sample, the closure threshold): ``CLOSURE_BELOW_DB``
    under the speech's level (the 95th percentile of 5 ms levels). Some variants (``+f2``) add breath
    and echo, so a closure is quiet rather than digitally silent. The window trails, so the burst
    after a closure never counts in it."""
    win = max(1, int(0.005 * rate))
    power = np.concatenate([[0.0], np.cumsum(samples.astype(np.float64) ** 2)])
    hi = np.arange(1, len(samples) + 1)
    lo = np.maximum(hi - win, 0)
    envelope = np.sqrt((power[hi] - power[lo]) / (hi - lo))
    frames = envelope[win // 2::win]
    loud = frames[frames > 1e-4]
    reference = float(np.percentile(loud, 95)) if len(loud) else 1.0
    return envelope, reference * 10.0 ** (-CLOSURE_BELOW_DB / 20.0)
