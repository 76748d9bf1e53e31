"""Lip-sync measures and the reports built on them.

Measures: ``lipsync`` (a track against reference phones: bilabial closures, apertures, openness
correlation) and ``curve_errors`` (predicted coefficients against reference ones: lip error, closure
events, jitter, lag); the lip aperture itself is the rig's (``rig.lip_aperture``).
Data: ``sets`` (pocketsphinx-testdata's dev and held-out speech), ``codec2_examples``, and
``reference`` (the teacher on a recording's forced alignment).
Reports, each run as ``python -m pmmtalk_live.evaluation.<name>``: ``phonetic_report``,
``live_report``, ``model_report`` (measured by ``model_measures``), ``stream_report``; ``run_report``
is ``pmmtalk-live eval``.
"""

from .codec2_examples import codec2_set
from .lipsync import (BILABIALS, OPEN_VOWELS, PHONE_OPENNESS, LipSyncScores, interior_bilabials, lip_aperture,
                      loudness_jaw, openness_track, pooled, score)
from .sets import TESTDATA, Utterance, dev_set, held_out_set

__all__ = ["BILABIALS", "OPEN_VOWELS", "PHONE_OPENNESS", "TESTDATA", "LipSyncScores", "Utterance", "codec2_set",
           "dev_set", "held_out_set", "interior_bilabials", "lip_aperture", "loudness_jaw", "openness_track",
           "pooled", "score"]
