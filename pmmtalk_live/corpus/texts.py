"""Sentences to speak, from text already on the machine: the Debian fortunes packages.

``sentences(language)`` returns a fixed, ordered list per language (the same on every machine with the
same packages), so an utterance's text follows from its index alone:

- ``en``: ``fortunes`` (English collections; the offensive ones, ascii art and code are left out),
  4 to 25 words per sentence;
- ``cmn``: ``fortunes-zh`` (Tang and Song poems, Debian's Chinese fortunes), 6 to 40 Han characters;
- ``de``: ``fortunes-de``; ``es``: ``fortunes-es``; 4 to 25 words.

Fortunes are split into sentences; attributions (``-- Author``), URLs, e-mail addresses, code, ascii
art, digits and lines with unusual symbols are dropped. The evaluation recordings' transcripts
(pocketsphinx-testdata, ``pmmtalk_live/data/example.*``) are never used.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from .speech import CorpusError

FORTUNES_DIR = Path("/usr/share/games/fortunes")

ENGLISH_FILES = (
    "computers cookie debian definitions disclaimer drugs education ethnic food fortunes goedel humorists "
    "kids knghtbrd law linuxcookie literature love magic medicine men-women miscellaneous news paradoxum "
    "people pets platitudes politics pratchett riddles science songs-poems sports startrek tao wisdom work"
).split()
"""English collections of the ``fortunes`` package (not ``off/``, ``art``, ``ascii-art``, ``perl``,
``linux`` (mostly code and logs), ``zippy``, ``translate-me``)."""

CHINESE_FILES = ("tang300", "song100", "chinese")
GERMAN_SKIP = {"asciiart", "woerterbuch", "vornamen", "namen"}

PACKAGE_OF = {"en": "fortunes", "cmn": "fortunes-zh", "de": "fortunes-de", "es": "fortunes-es"}
LANGUAGES = tuple(PACKAGE_OF)

MIN_WORDS, MAX_WORDS = 4, 25
MIN_HAN, MAX_HAN = 6, 40

_ANSI = re.compile(r"\x1b\[[0-9;]*m")
_URL = re.compile(r"https?://|www\.|\S@\S|\.com\b|\.org\b|\.net\b|\.de\b", re.IGNORECASE)
_ATTRIBUTION = re.compile(r"^\s*(--|―|—|~)\s*\S")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]*\s+(?=[\"'(¿¡]?[A-ZÄÖÜÁÉÍÓÚÑ])")
_LATIN_OK = re.compile(r"[A-Za-zÀ-ÿ ,.;:!?'\"()¿¡\-]+")
_HAN = re.compile(r"[\u4e00-\u9fff]")
_HAN_SENTENCE = re.compile(r"[^。！？；]+[。！？；]?")
_HAN_OK = re.compile(r"[\u4e00-\u9fff，、。！？；：“”‘’]+")


def _fortunes(path: Path) -> list[str]:
    """The fortunes of one file (separated by ``%`` lines), ANSI colours removed."""
    text = path.read_text(encoding="utf-8", errors="replace")
    return [_ANSI.sub("", block) for block in re.split(r"^%\s*$", text, flags=re.MULTILINE)]


def _latin_sentences(fortune: str) -> list[str]:
    lines = []
    for line in fortune.splitlines():
        if _ATTRIBUTION.match(line):
            break  # the attribution ("-- Author", indented or not) and whatever follows it
        if re.match(r"^\s{8,}", line) or "|" in line or "_" in line or "  " in line.strip():
            return []  # indented verse, tables, art, code: not prose
        lines.append(line.strip())
    prose = " ".join(lines)
    if not prose or _URL.search(prose):
        return []
    out = []
    for sentence in _SENTENCE_END.split(prose):
        sentence = sentence.strip().strip('"').strip()
        words = sentence.split()
        if not (MIN_WORDS <= len(words) <= MAX_WORDS) or not _LATIN_OK.fullmatch(sentence):
            continue
        if sentence.upper() == sentence or not sentence[0].isupper() or sentence[-1] not in ".!?":
            continue  # shouting, fragments
        out.append(sentence)
    return out


def _han_sentences(fortune: str) -> list[str]:
    lines = [line.strip() for line in fortune.splitlines()]
    body = "".join(line for line in lines if line and "《" not in line and "作者" not in line
                   and not line.startswith(("--", "——")))
    out = []
    for sentence in _HAN_SENTENCE.findall(body):
        sentence = sentence.strip().lstrip("”’")  # a quote closed after the last sentence's end
        if sentence.count("“") != sentence.count("”"):
            sentence = sentence.replace("“", "").replace("”", "")
        if _HAN_OK.fullmatch(sentence) and MIN_HAN <= len(_HAN.findall(sentence)) <= MAX_HAN:
            out.append(sentence)
    return out


def _files(language: str) -> list[Path]:
    if language == "en":
        return [FORTUNES_DIR / name for name in ENGLISH_FILES]
    if language == "cmn":
        return [FORTUNES_DIR / name for name in CHINESE_FILES]
    if language == "de":
        return sorted(p for p in (FORTUNES_DIR / "de").glob("*")
                      if p.is_file() and p.suffix not in (".dat", ".u8") and p.name not in GERMAN_SKIP)
    if language == "es":
        return sorted((FORTUNES_DIR / "es").glob("*.fortunes"))
    raise CorpusError(f"no text source for language {language!r} (known: {', '.join(LANGUAGES)})")


@lru_cache(maxsize=None)
def sentences(language: str) -> tuple[str, ...]:
    """Every usable sentence of ``language``, deduplicated, in file order. Raises CorpusError when the
    fortunes package of that language is not installed or yields nothing."""
    files = [path for path in _files(language) if path.is_file()]
    if not files:
        raise CorpusError(f"no {language} texts in {FORTUNES_DIR}: apt-get install {PACKAGE_OF[language]}")
    split = _han_sentences if language == "cmn" else _latin_sentences
    seen: dict[str, None] = {}
    for path in files:
        for fortune in _fortunes(path):
            for sentence in split(fortune):
                seen.setdefault(sentence, None)
    if not seen:
        raise CorpusError(f"no usable {language} sentence in {FORTUNES_DIR} ({PACKAGE_OF[language]})")
    return tuple(seen)


_HAN_RUN = re.compile(r"[\u4e00-\u9fff]+")


def to_pinyin(text: str) -> str:
    """Chinese characters -> pinyin syllables with tone numbers (5 = neutral), one clause per comma:
    ``"春眠不觉晓，处处闻啼鸟。"`` -> ``"chun1 mian2 bu4 jue2 xiao3, chu4 chu4 wen2 ti2 niao3."``."""
    from pypinyin import Style, lazy_pinyin

    clauses = [c for c in re.split(r"[，、；：。！？]", text) if _HAN_RUN.search(c)]
    spoken = [" ".join(lazy_pinyin(c, style=Style.TONE3, neutral_tone_with_five=True, errors="ignore"))
              for c in clauses]
    return ", ".join(s for s in spoken if s) + "."
