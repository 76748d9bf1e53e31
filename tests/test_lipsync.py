"""Lip-sync quality on real human speech (the LibriVox dev set and held-out recordings).

These are the issue's acceptance figures: the animator must close the lips on P/B/M, open them on
open vowels, follow the phones' openness, and beat a loudness-only jaw on every figure.
"""

import pytest

from pmmtalk_live.evaluation import phonetic_report as evaluation

SYSTEMS = evaluation.SYSTEMS


@pytest.fixture(scope="module")
def dev_results(librivox):
    return evaluation.evaluate(evaluation.dev_set(), fps=60)


@pytest.fixture(scope="module")
def held_out_results(librivox):
    return evaluation.evaluate(evaluation.held_out_set(), fps=60)


def test_dev_set_meets_the_targets(dev_results):
    text, notext, loud, metahuman = (dev_results[s] for s in SYSTEMS)
    assert text.bilabials >= 20
    assert metahuman.closure_rate >= 0.7  # the MetaHuman preset's smoothing keeps the closures
    assert text.closure_rate >= 0.9
    assert notext.closure_rate >= 0.7
    assert text.aperture_ratio >= 3 and notext.aperture_ratio >= 3
    for s in (text, notext):
        assert s.closure_rate > loud.closure_rate + 0.3
        assert s.aperture_ratio > loud.aperture_ratio
        assert s.openness_correlation > loud.openness_correlation


def test_held_out_speakers_with_a_transcript(held_out_results):
    # Without a transcript the phone recogniser misses most of the held-out set's six bilabials
    # (word-final B in "clubs"): reported in docs/phonetic-animator.md, not claimed here.
    text, notext, loud, _ = (held_out_results[s] for s in SYSTEMS)
    assert text.closure_rate >= 0.9
    assert text.aperture_ratio >= 3
    assert text.aperture_ratio > loud.aperture_ratio
    for s in (text, notext):
        assert s.openness_correlation > loud.openness_correlation
