"""The expression report's measures on synthetic data: events are found where a curve rises, the
shuffled-timing control gives chance on random events and a high hit rate only for aligned ones, and
speech and settled pauses come from the phones."""

from __future__ import annotations

import numpy as np
import pytest

from pmmtalk_live.evaluation import expression_measures as measures
from pmmtalk_live.tracks import Phone

FPS = 60.0


def bumps(times_s: list[float], duration_s: float, height: float = 0.3) -> np.ndarray:
    """A curve at 0 with a smooth bump (100 ms wide) peaking at each time."""
    t = np.arange(int(duration_s * FPS)) / FPS
    return sum((height * np.exp(-0.5 * ((t - c) / 0.05) ** 2) for c in times_s), np.zeros_like(t))


def test_rise_events_finds_each_raise_and_ignores_small_wiggles():
    curve = bumps([1.0, 2.0, 3.5], 5.0) + 0.01 * np.sin(np.arange(300) * 0.9)
    events = measures.rise_events(curve, FPS, min_rise=0.05)
    assert np.allclose(events, [1.0, 2.0, 3.5], atol=1.5 / FPS)


def test_without_sway_keeps_a_nod_on_a_slow_sway():
    t = np.arange(600) / FPS
    pitch = 0.03 * np.sin(2 * np.pi * 0.1 * t) + bumps([4.0], 10.0, height=0.04)
    events = measures.rise_events(measures.without_sway(pitch, FPS), FPS, min_rise=0.01)
    assert len(events) == 1 and abs(events[0] - 4.0) < 2 / FPS


def recordings(aligned: bool, seed: int) -> list[measures.Recording]:
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(10):
        reference = np.sort(rng.uniform(0.5, 9.5, 8))
        events = reference + rng.normal(0.05, 0.03, 8) if aligned else np.sort(rng.uniform(0.0, 10.0, 8))
        out.append(measures.Recording(events, reference, (0.0, 10.0)))
    return out


def test_control_gives_chance_on_random_events():
    c = measures.coincidence(recordings(aligned=False, seed=1), window_s=0.2, shuffles=500)
    # 8 references of +-0.2 s in 10 s cover about 30 % of the span
    assert 0.2 < c.chance_rate < 0.4
    assert abs(c.hit_rate - c.chance_rate) < 3 * c.chance_std
    assert c.p_value > 0.01


def test_aligned_events_beat_the_control():
    c = measures.coincidence(recordings(aligned=True, seed=2), window_s=0.2, shuffles=500)
    assert c.hit_rate > 0.9 and c.chance_rate < 0.4
    assert c.z > 5 and c.p_value == pytest.approx(1 / 501)


def test_events_outside_the_spoken_span_do_not_count():
    c = measures.coincidence([measures.Recording(np.array([0.1, 5.0]), np.array([0.5, 5.0, 7.0]), (1.0, 9.0))],
                             0.2, 50)
    assert (c.events, c.hits) == (1, 1)
    assert (c.references, c.found) == (2, 1)  # 0.5 s is outside the span; 7.0 s has no event near it


def test_speech_and_settled_pauses_from_the_phones():
    phones = [Phone("SIL", 0.0, 0.5), Phone("HH", 0.5, 0.6), Phone("AH", 0.6, 0.8), Phone("SIL", 0.8, 0.9),
              Phone("L", 0.9, 1.0), Phone("OW", 1.0, 1.2), Phone("SIL", 1.2, 2.0)]
    n = int(2.0 * FPS)
    times = np.arange(n) / FPS
    speech = measures.speech_mask(phones, n, FPS)
    assert speech[(times >= 0.5) & (times < 0.8)].all() and not speech[(times >= 0.8) & (times < 0.9)].any()
    settled = measures.settled_pause_mask(phones, n, FPS)
    # the 0.1 s gap is no pause; the lead-in and the tail count after their first 0.3 s
    assert np.array_equal(np.flatnonzero(settled), np.flatnonzero(((times >= 0.3) & (times < 0.5)) | (times >= 1.5)))
    assert measures.spoken_span(phones) == (0.5, 1.2)


def test_stressed_vowels_are_the_loud_high_ones():
    t = np.arange(0, 2.0, 0.01)
    f0 = np.full_like(t, 5.0)
    db = np.full_like(t, 60.0)
    loud = (t >= 1.0) & (t < 1.2)
    f0[loud], db[loud] = 9.0, 70.0
    tracks = measures.PraatTracks(t, f0, db)
    phones = [Phone("AA", 0.2, 0.4), Phone("IY", 0.6, 0.8), Phone("T", 0.8, 1.0), Phone("EH", 1.0, 1.2),
              Phone("OW", 1.4, 1.6), Phone("UW", 1.7, 1.9)]
    assert np.allclose(measures.stressed_vowels(tracks, phones, share=0.2), [1.1])


def test_praat_finds_the_accent_of_a_synthetic_rise_fall():
    pytest.importorskip("parselmouth")
    sr = 16000
    t = np.arange(int(2.0 * sr)) / sr
    accent = np.exp(-0.5 * ((t - 1.0) / 0.12) ** 2)
    f0 = 120.0 * 2 ** (4.0 * accent / 12)  # a 4-semitone peak at 1 s, louder too
    voice = np.sin(2 * np.pi * np.cumsum(f0) / sr) + 0.5 * np.sin(4 * np.pi * np.cumsum(f0) / sr)
    envelope = np.clip(np.minimum(t - 0.2, 1.8 - t) / 0.05, 0.0, 1.0) * (1.0 + accent)
    accents = measures.praat_accents(measures.praat_tracks((0.3 * voice * envelope).astype(np.float32), sr))
    assert len(accents) == 1 and abs(accents[0] - 1.0) < 0.05
