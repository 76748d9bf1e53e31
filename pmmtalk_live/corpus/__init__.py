"""The synthetic training corpus: voices with exact phone timings (flite, festival, espeak-ng), texts to
speak, the acoustic augmentation, and ``build_corpus``, which writes it all as a dataset folder.

Imports point one way: ``speech`` (the hand-off types) <- ``texts`` <- ``espeak`` <- ``voices`` <- ``build``.
"""

from .build import CORPUS_FILE, HELD_OUT, BuildSummary, build_corpus, held_out_voices
from .speech import CorpusError, Speech, SynthRequest, Voice
from .texts import sentences, to_pinyin
from .voices import VOICE_BY_NAME, VOICES, check_engine, synthesize

__all__ = [
    "CORPUS_FILE", "HELD_OUT", "VOICES", "VOICE_BY_NAME", "BuildSummary", "CorpusError", "Speech",
    "SynthRequest", "Voice", "build_corpus", "check_engine", "held_out_voices", "sentences", "synthesize",
    "to_pinyin",
]
