"""The phonetic animator, live: the phonetic core's ``VisemeStream`` as a ``LiveAnimator``.

Streaming phone recognition, co-articulation on windows of frames and the causal loudness all live
in ``pmmtalk_live/phonetic/stream.py`` (the model's ``visemes`` pseudo-text is the same stream);
docs/live-animator.md describes how it works and what it measures.
"""

from __future__ import annotations

from ..phonetic import VisemeStream


class LivePhoneticAnimator(VisemeStream):
    """The ``LiveAnimator`` of the phonetic animator: 16 kHz audio in, finished frames out.

    ``LivePhoneticAnimator(fps, lookahead_s=0.1, prime_s=PRIME_S, decoder=None)``: see ``VisemeStream``.
    """

    name = "phonetic"
