"""The phonetic core: speech -> timed phones -> co-articulated visemes over the 32 model channels.

    phones.py          pocketsphinx, offline: forced alignment of a transcript, phone recognition
    coarticulation.py  ``render_phones``: timed phones -> (T, 32) coefficients (visemes, dominance
                       co-articulation, lip seal, loudness)
    stream.py          the same, live: ``PhoneStream`` (streaming recognition) and ``VisemeStream``
                       (10 ms hops in, finished frames out)

Everything that speaks in phones builds on it: the phonetic animators (``animators/``, thin adapters),
the model's text branch (``model/``), the corpus labeller and the evaluation reports. It stands on the
ground floor only (``tracks``, ``rig``, ``errors``, ``audio.loudness``) and never imports the
animators or the model.
"""

from .coarticulation import DIPHTHONGS, REACH_S, VISEME_OF_PHONE, phone_pose, render_phones, viseme_of
from .phones import (
    ARPABET,
    FRAME_S,
    align_phones,
    new_phone_decoder,
    normalize_label,
    recognize_phones,
    words_in_dictionary,
)
from .stream import HOP_SAMPLES, PRIME_S, PhoneStream, VisemeStream

__all__ = [
    "ARPABET", "DIPHTHONGS", "FRAME_S", "HOP_SAMPLES", "PRIME_S", "REACH_S", "VISEME_OF_PHONE",
    "PhoneStream", "VisemeStream", "align_phones", "new_phone_decoder", "normalize_label", "phone_pose",
    "recognize_phones", "render_phones", "viseme_of", "words_in_dictionary",
]
