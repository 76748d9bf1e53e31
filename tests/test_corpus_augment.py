"""Microphone augmentation: each change does what it says, and the timing changes move the phones exactly."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.signal import freqz, welch

from pmmtalk_live.tracks import SAMPLE_RATE_HZ, Phone
from pmmtalk_live.corpus import augment

RATE = SAMPLE_RATE_HZ


def _speech_like(seconds: float = 2.0, seed: int = 0) -> np.ndarray:
    """Noise bursts shaped like syllables: something with a spectrum and pauses."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * RATE)) / RATE
    envelope = np.clip(np.sin(2 * np.pi * 3.0 * t), 0, None)
    return (0.3 * envelope * rng.standard_normal(len(t))).astype(np.float32)


@pytest.mark.parametrize("factor", [0.9, 0.95, 1.03, 1.1])
def test_speed_perturbation_moves_every_phone_with_its_sound(factor):
    """Clicks at the phone boundaries land on the scaled boundaries (to a sample) after the change."""
    phones = [Phone("SIL", 0.0, 0.31), Phone("AA", 0.31, 0.77), Phone("M", 0.77, 1.234), Phone("SIL", 1.234, 1.5)]
    samples = np.zeros(int(1.5 * RATE), np.float32)
    for p in phones[1:]:
        samples[int(round(p.start_s * RATE))] = 1.0
    out, moved = augment.speed_perturb(samples, phones, factor)
    assert len(out) == pytest.approx(len(samples) / factor, abs=1)
    assert [p.label for p in moved] == [p.label for p in phones]
    for p, q in zip(phones[1:], moved[1:]):
        assert q.start_s == pytest.approx(p.start_s / factor, abs=1e-9)
        peak = int(np.argmax(np.abs(out[int((q.start_s - 0.02) * RATE): int((q.start_s + 0.02) * RATE)])))
        assert abs(int((q.start_s - 0.02) * RATE) + peak - q.start_s * RATE) <= 1
    assert moved[-1].end_s <= len(out) / RATE + 1e-9


def test_silence_padding_shifts_the_phones_and_covers_the_silence():
    phones = [Phone("HH", 0.0, 0.1), Phone("AY", 0.1, 0.4)]
    out, moved = augment.pad_silence(np.ones(int(0.4 * RATE), np.float32), phones, 0.25, 0.5)
    assert len(out) == int(1.15 * RATE)
    assert moved == [Phone("SIL", 0.0, 0.25), Phone("HH", 0.25, 0.35), Phone("AY", 0.35, 0.65), Phone("SIL", 0.65, 1.15)]
    assert not out[: int(0.25 * RATE)].any() and out[int(0.25 * RATE)] == 1.0


@pytest.mark.parametrize("kind", ["white", "pink", "brown", "hum", "babble"])
@pytest.mark.parametrize("snr_db", [5.0, 20.0, 40.0])
def test_noise_is_added_at_the_requested_snr(kind, snr_db):
    rng = np.random.default_rng(1)
    speech = _speech_like()
    n = len(speech)
    noise = {"hum": lambda: augment.mains_hum(n, rng, 60.0),
             "babble": lambda: augment.babble(n, rng, [_speech_like(1.3, s) for s in range(4)])}.get(
        kind, lambda: augment.colored_noise(kind, n, rng))()
    span = slice(RATE // 4, n - RATE // 4)
    noisy = augment.add_noise(speech, noise, snr_db, span)
    measured = 10 * np.log10(np.mean(speech[span].astype(np.float64) ** 2) / np.mean((noisy - speech).astype(np.float64) ** 2))
    assert measured == pytest.approx(snr_db, abs=1.0)


def test_noise_colours_have_their_slopes():
    rng = np.random.default_rng(2)
    for kind, slope_db_per_octave in (("white", 0.0), ("pink", -3.0), ("brown", -6.0)):
        freqs, power = welch(augment.colored_noise(kind, 4 * RATE, rng), RATE, nperseg=4096)
        band = (freqs > 100) & (freqs < 6000)
        slope = np.polyfit(np.log2(freqs[band]), 10 * np.log10(power[band]), 1)[0]
        assert slope == pytest.approx(slope_db_per_octave, abs=0.6)


@pytest.mark.parametrize("rt60_s", [0.1, 0.3, 0.5, 0.8])
def test_room_impulse_response_decays_in_the_requested_rt60(rt60_s):
    ir = augment.room_impulse_response(rt60_s, np.random.default_rng(3), drr_db=3.0)
    assert ir[0] == 1.0  # the direct path, undelayed: timings stay
    assert augment.rt60_of(ir) == pytest.approx(rt60_s, rel=0.15)
    direct_over_rest_db = 10 * np.log10(1.0 / np.sum(ir[1:].astype(np.float64) ** 2))
    assert direct_over_rest_db == pytest.approx(3.0, abs=0.01)


def test_reverberation_keeps_the_onsets_in_place():
    x = np.zeros(RATE, np.float32)
    x[4000] = 1.0
    out = augment.reverberate(x, augment.room_impulse_response(0.5, np.random.default_rng(4), drr_db=6.0))
    assert len(out) == len(x) and int(np.argmax(np.abs(out))) == 4000 and np.abs(out[:4000]).max() < 1e-6


def _band_energy_db(x: np.ndarray, low_hz: float, high_hz: float) -> float:
    freqs, power = welch(x, RATE, nperseg=2048)
    band = (freqs >= low_hz) & (freqs < high_hz)
    return 10 * np.log10(np.sum(power[band]) + 1e-30)


@pytest.mark.parametrize("kind, low_hz, high_hz, stop_from_hz", [
    ("telephone", 300.0, 3400.0, 4200.0), ("8khz", 0.0, 0.0, 4500.0), ("cheap_mic", 150.0, 4000.0, 6500.0)])
def test_band_limits_remove_energy_above_the_cutoff(kind, low_hz, high_hz, stop_from_hz):
    x = augment.colored_noise("white", 2 * RATE, np.random.default_rng(5))
    out = augment.band_limit(x, kind, low_hz, high_hz)
    assert len(out) == len(x)
    kept = _band_energy_db(out, 1000, 2000) - _band_energy_db(x, 1000, 2000)
    removed = _band_energy_db(out, stop_from_hz, 8000) - _band_energy_db(x, stop_from_hz, 8000)
    assert abs(kept) < 1.0 and removed < -30.0
    if kind == "telephone":
        assert _band_energy_db(out, 0, 150) - _band_energy_db(x, 0, 150) < -20.0


def test_equaliser_bands_have_their_gains():
    for kind, freq, gain, probe_hz in (("peaking", 1000.0, 6.0, 1000.0), ("peaking", 2500.0, -9.0, 2500.0),
                                       ("lowshelf", 200.0, 5.0, 20.0), ("highshelf", 4000.0, -6.0, 7900.0)):
        b, a = augment.biquad(kind, freq, gain, 1.0 if kind == "peaking" else 0.707)
        _, response = freqz(b, a, worN=[probe_hz], fs=RATE)
        assert 20 * np.log10(abs(response[0])) == pytest.approx(gain, abs=0.3)


def test_gain_and_soft_clipping():
    x = _speech_like()
    quieter = augment.apply_gain(x, -12.0)
    assert 20 * np.log10(np.sqrt(np.mean(quieter ** 2)) / np.sqrt(np.mean(x ** 2))) == pytest.approx(-12.0, abs=1e-3)
    clipped = augment.apply_gain(x, 12.0, soft_clip=0.5)
    assert np.abs(clipped).max() < 0.5 and np.abs(clipped).max() > 0.45
    small = np.float32(0.001)
    assert augment.apply_gain(np.array([small]), 0.0, soft_clip=0.5)[0] == pytest.approx(small, rel=1e-5)


def test_chains_are_drawn_as_data_and_applied():
    rng = np.random.default_rng(6)
    chains = [augment.draw_chain(rng) for _ in range(400)]
    clean = sum(1 for c in chains if not c) / len(chains)
    assert clean == pytest.approx(augment.CLEAN_SHARE, abs=0.06)
    names = {step["name"] for chain in chains for step in chain}
    assert names == {"reverb", "noise", "eq", "band_limit", "gain"}
    kinds = {step["kind"] for chain in chains for step in chain if step["name"] == "noise"}
    assert kinds == set(augment.NOISE_KINDS)
    x = _speech_like()
    talkers = [_speech_like(1.0, s) for s in range(3)]
    for chain in chains[:40]:
        out = augment.apply_chain(x, chain, np.random.default_rng(7), slice(0, len(x)), talkers)
        assert out.shape == x.shape and np.isfinite(out).all()
