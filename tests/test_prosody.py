"""The prosody tracker: pitch on known tones, live == offline, causality, skips, speaker adaptation,
nothing on noise or silence, accents on real speech, and pitch accuracy against Praat."""

from __future__ import annotations

import numpy as np
import pytest

from pmmtalk_live.prosody import ProsodyFrames, ProsodyStream, prosody_track
from pmmtalk_live.tracks import SAMPLE_RATE_HZ

FPS = 60.0
LOOKAHEAD_S = 0.1
FIELDS = ("f0_hz", "pitch", "voiced", "loudness", "speech", "accent", "emphasis", "stress", "rising", "pause", "rate")


def vowel(f0_hz: np.ndarray | float, seconds: float, level: float = 0.3) -> np.ndarray:
    """A vowel-like harmonic tone (12 harmonics, falling 6 dB per octave) of pitch ``f0_hz`` (a constant
    or one value per sample), float32 at 16 kHz."""
    n = int(seconds * SAMPLE_RATE_HZ)
    f0 = np.broadcast_to(np.asarray(f0_hz, np.float64), (n,))
    phase = 2 * np.pi * np.cumsum(f0) / SAMPLE_RATE_HZ
    tone = sum(np.sin(h * phase + h) / h for h in range(1, 13))
    return (level * tone / np.abs(tone).max()).astype(np.float32)


def glide(start_hz: float, end_hz: float, seconds: float) -> np.ndarray:
    """A vowel whose pitch moves exponentially (linearly in semitones) from start_hz to end_hz."""
    n = int(seconds * SAMPLE_RATE_HZ)
    return vowel(start_hz * (end_hz / start_hz) ** (np.arange(n) / n), seconds)


def syllables(f0_hz: float, count: int, seed: int = 0) -> np.ndarray:
    """Speech-like: ``count`` voiced syllables of 180 ms with a pitch movement and a loudness bump each,
    80 ms gaps of quiet noise, and a 0.4 s lead-in of that noise."""
    rng = np.random.default_rng(seed)
    parts = [0.001 * rng.standard_normal(int(0.4 * SAMPLE_RATE_HZ)).astype(np.float32)]
    for i in range(count):
        n = int(0.18 * SAMPLE_RATE_HZ)
        shape = 2 ** ((2.0 if i % 3 == 0 else 0.5) * np.sin(np.pi * np.arange(n) / n) / 12)
        bump = np.sin(np.pi * np.arange(n) / n) ** 0.5
        parts.append(vowel(f0_hz * shape, 0.18) * bump.astype(np.float32))
        parts.append(0.001 * rng.standard_normal(int(0.08 * SAMPLE_RATE_HZ)).astype(np.float32))
    return np.concatenate(parts)


SYLLABLE_S, GAP_S, LEAD_S = 0.18, 0.08, 0.4


def phrase(syllables_: list[tuple[float, float, float]], f0_hz: float = 140.0, seed: int = 0) -> np.ndarray:
    """Speech-like, one (base_st, move_st, gain_db) per syllable: a 180 ms vowel at ``base_st`` semitones
    from ``f0_hz`` whose pitch rises ``move_st`` and falls back (a half sine), with a loudness bump,
    ``gain_db`` louder than the others; 80 ms gaps of quiet noise and a 0.4 s lead-in of it."""
    rng = np.random.default_rng(seed)
    noise = lambda s: 0.001 * rng.standard_normal(int(s * SAMPLE_RATE_HZ)).astype(np.float32)  # noqa: E731
    n = int(SYLLABLE_S * SAMPLE_RATE_HZ)
    arc = np.sin(np.pi * np.arange(n) / n)
    parts = [noise(LEAD_S)]
    for base_st, move_st, gain_db in syllables_:
        tone = vowel(f0_hz * 2 ** ((base_st + move_st * arc) / 12), SYLLABLE_S)
        parts += [tone * (arc ** 0.5 * 10 ** (gain_db / 20)).astype(np.float32), noise(GAP_S)]
    return np.concatenate(parts)


def syllable_centre_s(index: int) -> float:
    return LEAD_S + index * (SYLLABLE_S + GAP_S) + SYLLABLE_S / 2


def onsets_s(values: np.ndarray) -> np.ndarray:
    """Times (s) where ``values`` (per frame) becomes positive."""
    on = values > 0
    return np.flatnonzero(np.r_[on[0], on[1:] & ~on[:-1]]) / FPS


def voiced_median_f0(frames: ProsodyFrames, start: int = 10, stop: int | None = None) -> float:
    f0 = frames.f0_hz[start:stop]
    return float(np.median(f0[f0 > 0]))


def same(a: ProsodyFrames, b: ProsodyFrames, count: int | None = None) -> None:
    for name in FIELDS:
        np.testing.assert_array_equal(getattr(a, name)[:count], getattr(b, name)[:count], err_msg=name)


@pytest.fixture(scope="module")
def dev_utterances():
    from pmmtalk_live.evaluation.sets import dev_set
    try:
        return dev_set()
    except Exception as error:
        pytest.skip(f"dev set not installed: {error}")


# --- pitch ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("f0_hz", [70.0, 110.0, 220.0, 440.0])
def test_steady_vowel_pitch_within_2_percent(f0_hz):
    frames = prosody_track(vowel(f0_hz, 0.8), FPS, LOOKAHEAD_S)
    inner = frames.f0_hz[6:-6]
    assert (frames.voiced[6:-6] >= 0.5).all()
    assert np.abs(inner / f0_hz - 1).max() < 0.02


def test_glide_followed_within_2_percent():
    seconds, start, end = 1.0, 110.0, 220.0
    frames = prosody_track(glide(start, end, seconds), FPS, LOOKAHEAD_S)
    times = np.arange(frames.num_frames) / FPS
    truth = start * (end / start) ** (times / seconds)
    inner = slice(6, frames.num_frames - 6)
    assert np.abs(frames.f0_hz[inner] / truth[inner] - 1).max() < 0.02


def test_noise_is_unvoiced():
    noise = 0.1 * np.random.default_rng(1).standard_normal(SAMPLE_RATE_HZ).astype(np.float32)
    frames = prosody_track(noise, FPS, LOOKAHEAD_S)
    assert frames.voiced.max() < 0.5 and frames.f0_hz.max() == 0.0


# --- streaming ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("lookahead_s", [LOOKAHEAD_S, 0.0])
def test_live_in_odd_pieces_equals_offline(lookahead_s):
    audio = syllables(140.0, 12)
    stream, taken, rng = ProsodyStream(FPS, lookahead_s), [], np.random.default_rng(2)
    start = next_frame = 0
    while start < len(audio):
        size = int(rng.integers(1, 700))
        stream.process(audio[start:start + size])
        start += size
        ready = stream.frames_ready()
        if ready > next_frame:
            taken.append(stream.take(next_frame, ready - next_frame))
            next_frame = ready
    stream.flush()
    taken.append(stream.take(next_frame, stream.frames_ready() - next_frame))
    live = ProsodyFrames(0, **{name: np.concatenate([getattr(t, name) for t in taken]) for name in FIELDS})
    same(live, prosody_track(audio, FPS, lookahead_s))


@pytest.mark.parametrize("lookahead_s", [LOOKAHEAD_S, 0.03])
def test_frame_k_reads_no_audio_after_k_over_fps_plus_lookahead(lookahead_s):
    """Frames 0..k are the same whatever follows sample (k / fps + lookahead_s) * 16000."""
    audio = syllables(140.0, 10)
    whole = prosody_track(audio, FPS, lookahead_s)
    for k in (61, 100, 137):
        cut = int(np.floor((k / FPS + lookahead_s) * SAMPLE_RATE_HZ))
        endings = [syllables(90.0, 6, seed=3), np.zeros(SAMPLE_RATE_HZ, np.float32), 0.5 * glide(300, 150, 1.0)]
        for ending in endings:
            stream = ProsodyStream(FPS, lookahead_s)
            stream.process(audio[:cut])
            assert stream.frames_ready() == k + 1
            stream.process(ending)
            same(stream.take(0, k + 1), whole, k + 1)
    assert whole.accent.max() > 0 and whole.speech.max() > 0.5


def test_skip_keeps_frame_k_at_time_k_over_fps():
    """A tone, a lost second, a tone an octave up: frames after the gap show the new pitch exactly
    where the stream's time puts them, and the gap itself is unvoiced."""
    stream = ProsodyStream(FPS, LOOKAHEAD_S)
    stream.process(vowel(110.0, 1.0))
    stream.skip(SAMPLE_RATE_HZ)
    stream.process(vowel(220.0, 1.0))
    stream.flush()
    frames = stream.take(0, stream.frames_ready())
    assert frames.num_frames == int(3.0 * FPS) + 1
    gap = slice(int(1.05 * FPS), int(1.95 * FPS))
    assert frames.f0_hz[gap].max() == 0.0
    assert abs(voiced_median_f0(frames, 10, int(0.95 * FPS)) / 110.0 - 1) < 0.02
    assert abs(voiced_median_f0(frames, int(2.05 * FPS), -6) / 220.0 - 1) < 0.02


def test_take_is_bounded_memory():
    stream, next_frame = ProsodyStream(FPS, LOOKAHEAD_S), 0
    for piece in np.array_split(syllables(140.0, 40), 400):
        stream.process(piece)
        ready = stream.frames_ready()
        stream.take(next_frame, ready - next_frame)
        next_frame = ready
    assert len(stream.tracker.rows) < 50
    with pytest.raises(ValueError):
        stream.take(0, 1)


# --- speaker adaptation, noise ---------------------------------------------------------------------------

def test_low_and_high_voice_give_similar_pitch_and_loudness():
    low = prosody_track(syllables(100.0, 24), FPS, LOOKAHEAD_S)
    high = prosody_track(0.3 * syllables(220.0, 24), FPS, LOOKAHEAD_S)
    settled = slice(int(2.0 * FPS), None)
    for name in ("pitch", "loudness"):
        a, b = getattr(low, name)[settled], getattr(high, name)[settled]
        a, b = a[low.voiced[settled] >= 0.5], b[high.voiced[settled] >= 0.5]
        assert abs(np.percentile(a, 90) - np.percentile(b, 90)) < 0.5 * max(np.ptp(a), 1e-3), name
        assert abs(np.median(a) - np.median(b)) < 0.25 * max(np.ptp(a), 1e-3), name


def test_real_voice_an_octave_up_gives_similar_pitch_and_loudness(dev_utterances):
    """Played at double speed, the dev speakers (about 100 Hz) sound an octave up (about 200 Hz)."""
    from scipy.signal import resample_poly

    for utt in dev_utterances[:3]:
        low = prosody_track(utt.audio.samples, FPS, LOOKAHEAD_S)
        high = prosody_track(resample_poly(utt.audio.samples, 1, 2).astype(np.float32), FPS, LOOKAHEAD_S)
        assert 1.8 < voiced_median_f0(high) / voiced_median_f0(low) < 2.2
        quantiles = [np.percentile(f.pitch[f.voiced >= 0.5], [10, 50, 90]) for f in (low, high)]
        assert np.abs(quantiles[0] - quantiles[1]).max() < 1.5, (utt.name, quantiles)
        loud = [np.median(f.loudness[f.speech >= 0.5]) for f in (low, high)]
        assert abs(loud[0] - loud[1]) < 0.1, (utt.name, loud)


def pink_noise(seconds: float, level: float, seed: int) -> np.ndarray:
    n = int(seconds * SAMPLE_RATE_HZ)
    spectrum = np.fft.rfft(np.random.default_rng(seed).standard_normal(n))
    spectrum /= np.sqrt(np.maximum(np.arange(len(spectrum)), 1))
    noise = np.fft.irfft(spectrum, n)
    return (level * noise / noise.std()).astype(np.float32)


@pytest.mark.parametrize("kind", ["silence", "white 0.001", "white 0.05", "pink 0.003", "pink 0.2"])
def test_noise_and_silence_move_nothing(kind):
    name, _, level = kind.partition(" ")
    if name == "silence":
        audio = np.zeros(3 * SAMPLE_RATE_HZ, np.float32)
    elif name == "white":
        noise = np.random.default_rng(4).standard_normal(3 * SAMPLE_RATE_HZ)
        audio = (float(level) * noise).astype(np.float32)
    else:
        audio = pink_noise(3.0, float(level), seed=5)
    frames = prosody_track(audio, FPS, LOOKAHEAD_S)
    for field in ("speech", "accent", "emphasis", "stress", "rising", "rate"):
        assert getattr(frames, field).max() < 0.05, field
    assert frames.pause[-1] > 2.5


# --- accents, rising ----------------------------------------------------------------------------------

def accent_count(frames: ProsodyFrames) -> int:
    on = frames.accent > 0
    return int(np.sum(on[1:] & ~on[:-1]) + on[0])


def test_accents_on_real_speech_fire_plausibly(dev_utterances):
    """Each read sentence has an accent or more, never more than 3 a second; over the set, 0.3 to 2 a
    second of speech (Praat finds about 1 a second on it: ours are the surer ones)."""
    accents = speech_s = 0.0
    for utt in dev_utterances:
        frames = prosody_track(utt.audio.samples, FPS, LOOKAHEAD_S)
        count, spoken_s = accent_count(frames), np.sum(frames.speech >= 0.5) / FPS
        assert 1 <= count <= 3.0 * spoken_s, (utt.name, count, spoken_s)
        assert 1.5 <= np.median(frames.rate[frames.speech >= 0.5]) <= 8.0, utt.name
        accents, speech_s = accents + count, speech_s + spoken_s
    assert 0.3 <= accents / speech_s <= 2.0


PLAIN = (0.0, 0.5, 0.0)
"""A syllable with a small pitch movement at the phrase's level."""


@pytest.mark.parametrize("target, accented", [((0.0, 4.0, 0.0), True), ((0.0, 4.0, -12.0), False),
                                              ((0.0, 0.5, 0.0), False)],
                         ids=["4 st rise-fall", "the same 12 dB quieter", "no pitch movement"])
def test_an_accent_is_a_pitch_excursion_on_a_loud_syllable(target, accented):
    """Ten plain syllables, the target, three plain ones: an accent fires on the target only if its
    pitch rises and falls AND it is at least as loud as the speaker's median voiced level."""
    frames = prosody_track(phrase([PLAIN] * 10 + [target] + [PLAIN] * 3), FPS, LOOKAHEAD_S)
    accents = onsets_s(frames.accent)
    assert len(accents) == int(accented), accents
    if accented:
        assert abs(accents[0] - syllable_centre_s(10)) < 0.1


def test_the_accent_excursion_scales_with_the_speakers_pitch_span():
    """A 2 st rise-fall is an accent for a monotonous speaker (span ~1 st: 1.5 st needed), not for a
    lively one (span ~10 st: a quarter of it, 2.5 st, needed), after the same level syllable."""
    target = [(0.0, 0.3, 0.0), (0.0, 2.0, 0.0), (0.0, 0.3, 0.0), (0.0, 0.3, 0.0)]
    centre = syllable_centre_s(17)
    for bases, accented in (([-0.5, 0.5, 0.0, 0.3], True), ([-5.0, 5.0, -2.0, 3.0], False)):
        context = [(b, 0.3, 0.0) for b in np.tile(bases, 4)]
        accents = onsets_s(prosody_track(phrase(context + target), FPS, LOOKAHEAD_S).accent)
        assert (np.abs(accents - centre) < 0.1).any() == accented, (bases, accents)


@pytest.mark.parametrize("base_st, stressed", [(3.0, True), (-4.0, False)], ids=["spoken high", "spoken low"])
def test_stress_is_a_loud_syllable_not_spoken_low(base_st, stressed):
    """A syllable 6 dB louder than its neighbours is emphasised either way, and stressed only when its
    pitch is at or above the speaker's median."""
    frames = prosody_track(phrase([PLAIN] * 10 + [(base_st, 0.5, 6.0)] + [PLAIN] * 3), FPS, LOOKAHEAD_S)
    near = slice(int((syllable_centre_s(10) - 0.15) * FPS), int((syllable_centre_s(10) + 0.15) * FPS))
    assert frames.emphasis[near].max() > 0.3
    assert (frames.stress[near].max() > 0.3) == stressed
    assert frames.stress[:near.start].max() == 0.0 and frames.stress[near.stop:].max() == 0.0


def test_rising_fires_on_a_rising_glide_and_not_a_falling_one():
    lead = vowel(150.0, 0.5)
    rise = prosody_track(np.concatenate([lead, glide(150.0, 260.0, 0.5)]), FPS, LOOKAHEAD_S)
    fall = prosody_track(np.concatenate([lead, glide(150.0, 90.0, 0.5)]), FPS, LOOKAHEAD_S)
    assert rise.rising[-10:].max() > 0.8
    assert rise.rising[:int(0.45 * FPS)].max() < 0.1
    assert fall.rising.max() < 0.1


def test_pause_counts_seconds_since_speech():
    audio = np.concatenate([syllables(140.0, 6), np.zeros(2 * SAMPLE_RATE_HZ, np.float32)])
    frames = prosody_track(audio, FPS, LOOKAHEAD_S)
    assert frames.pause[-1] > 1.5 and np.ptp(np.diff(frames.pause[-30:])) < 1e-4
    assert frames.rate[-1] == 0.0


# --- accuracy against Praat ----------------------------------------------------------------------------

def test_pitch_against_praat_on_the_dev_set(dev_utterances):
    pytest.importorskip("parselmouth")
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[1] / "scripts" / "prosody_check.py"
    spec = importlib.util.spec_from_file_location("prosody_check", path)
    check = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(check)
    counts = np.zeros(4, np.int64)
    for utt in dev_utterances:
        reference, ours = check.praat_f0(utt.audio.samples, "ac"), check.our_f0(utt.audio.samples)
        n = min(len(reference), len(ours))
        counts += check.compare(reference[:n], ours[:n])
    both, gross, voiced, reference = counts
    assert gross / both < 0.02
    assert both / voiced > 0.93 and both / reference > 0.88
