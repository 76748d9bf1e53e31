"""The lip-sync measures on hand-made tracks, where the right answer is known."""

import numpy as np

from pmmtalk_live import rig
from pmmtalk_live.evaluation import lipsync as metrics
from pmmtalk_live.tracks import CurveTrack, Phone

FPS = 60


def track_with(n, **curves):
    values = np.zeros((n, 32), np.float32)
    for name, v in curves.items():
        values[:, rig.CHANNEL_INDEX[name]] = v
    return CurveTrack(rig.MODEL_CHANNELS, values, FPS)


def test_aperture_zero_when_mouth_close_cancels_jaw():
    t = track_with(5, jawOpen=0.3, mouthClose=0.3)
    assert np.allclose(metrics.lip_aperture(t), 0)
    t = track_with(5, jawOpen=0.5, mouthLowerDownLeft=0.2, mouthLowerDownRight=0.2)
    assert np.allclose(metrics.lip_aperture(t), 0.6)


def test_interior_bilabials_skip_those_next_to_a_pause():
    ph = [Phone("SIL", 0, 0.2), Phone("M", 0.2, 0.3), Phone("AA", 0.3, 0.4), Phone("P", 0.4, 0.5),
          Phone("AA", 0.5, 0.6), Phone("B", 0.6, 0.7), Phone("SIL", 0.7, 1.0)]
    assert [p.start_s for p in metrics.interior_bilabials(ph)] == [0.4]


def test_scores_separate_a_good_track_from_a_flat_one():
    ph = [Phone("SIL", 0, 0.2), Phone("AA", 0.2, 0.4), Phone("P", 0.4, 0.5), Phone("AA", 0.5, 0.7),
          Phone("SIL", 0.7, 1.0)]
    n = 61
    openness = metrics.openness_track(ph, n, FPS)
    good = track_with(n, jawOpen=openness * 0.6)
    flat = track_with(n, jawOpen=0.3)
    g, f = metrics.score(good, ph), metrics.score(flat, ph)
    assert g.closure_rate == 1.0 and f.closure_rate == 0.0
    assert g.aperture_ratio > 3 and 0.9 < f.aperture_ratio < 1.1
    assert g.openness_correlation > 0.99


def test_pooled_sums_closures_and_averages_the_rest():
    a = metrics.LipSyncScores(2, 2, 0.5, 0.0, 0.8)
    b = metrics.LipSyncScores(0, 2, 0.3, 0.2, 0.4)
    p = metrics.pooled([a, b], [1, 3])
    assert p.closure_rate == 0.5 and np.isclose(p.openness_correlation, 0.5)
