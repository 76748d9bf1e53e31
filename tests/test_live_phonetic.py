"""The live phonetic animator: the LiveAnimator contract hop by hop, lip-sync in live mode on real
speech, a still face in silence, and a cost per hop that stays flat over long speech."""

import itertools

import numpy as np
import pytest

from pmmtalk_live.evaluation import live_report as live_evaluation
from pmmtalk_live.animators import make_live_animator
from pmmtalk_live.animators.live_phonetic import LivePhoneticAnimator
from pmmtalk_live.audio.loudness import LiveLoudness, frame_levels_db, loudness_envelope
from pmmtalk_live.evaluation import dev_set
from pmmtalk_live.phonetic import REACH_S, render_phones
from pmmtalk_live.phonetic.stream import MAX_UTTERANCE_S
from pmmtalk_live.tracks import SAMPLE_RATE_HZ, Phone, num_frames_for

RATE = SAMPLE_RATE_HZ


def feed(animator, samples, sizes=(160,)):
    """Feed ``samples`` in chunks of the given sizes (cycled); returns each call's output and the
    number of samples fed when it returned."""
    outs, pos = [], 0
    for size in itertools.cycle(sizes):
        if pos >= len(samples):
            return outs
        outs.append((animator.process(samples[pos:pos + size]), min(pos + size, len(samples))))
        pos += size


def check_numbering(outs, first=0):
    """Frames consecutive from ``first``: returns the next frame number."""
    for out in outs:
        assert out.first_frame == first
        assert out.coeffs.shape == (out.num_frames, 32) and out.coeffs.dtype == np.float32
        assert out.activity.shape == (out.num_frames,)
        assert out.coeffs.min(initial=0) >= 0.0 and out.coeffs.max(initial=0) <= 1.0
        assert out.activity.min(initial=0) >= 0.0 and out.activity.max(initial=0) <= 1.0
        first += out.num_frames
    return first


@pytest.mark.parametrize("fps", [30, 60])
def test_frames_numbered_without_gaps_whatever_the_chunk_size(example_audio, fps):
    speech = example_audio.samples
    animator = LivePhoneticAnimator(fps, lookahead_s=0.1)
    outs = [out for out, _ in feed(animator, speech, sizes=(1, 37, 160, 4000))]
    outs.append(animator.flush())
    assert check_numbering(outs) == num_frames_for(example_audio.duration_s, fps)
    moving = np.concatenate([out.coeffs for out in outs])
    assert moving[:, 3].max() > 0.3  # jawOpen: the face does speak


def test_make_live_animator_builds_it():
    animator = make_live_animator("phonetic", fps=30, lookahead_s=0.15)
    assert isinstance(animator, LivePhoneticAnimator)
    assert (animator.fps, animator.lookahead_s, animator.name) == (30, 0.15, "phonetic")


@pytest.mark.parametrize("lookahead_s", [0.0, 0.05, 0.25])
def test_a_frame_comes_out_once_its_lookahead_is_in_not_before(example_audio, lookahead_s):
    animator = LivePhoneticAnimator(60, lookahead_s)
    speech = example_audio.samples[: 3 * RATE]
    last = -1
    for out, fed in feed(animator, speech, sizes=(160, 1, 37, 333, 4000)):
        last += out.num_frames
        seen_s = fed / RATE
        finished = (seen_s - lookahead_s) * 60  # frames k <= finished have their look-ahead in
        assert last <= max(finished + 1e-9, -1)  # none before it
        assert last >= max(np.floor(finished - 1e-6), -1)  # and every one as soon as it is


def test_skip_drops_the_frames_it_must_and_numbering_goes_on(example_audio):
    speech = example_audio.samples
    animator = LivePhoneticAnimator(60, lookahead_s=0.1)
    before = feed(animator, speech[: RATE])  # 1 s in: frames 0..54 are out (54 / 60 + 0.1 <= 1)
    assert check_numbering([out for out, _ in before]) == 55
    skipped = animator.skip(RATE // 2)  # 1.0 .. 1.5 s lost: frames 55..89 can never be finished
    assert skipped == 35
    after = [out for out, _ in feed(animator, speech[RATE:], sizes=(160, 37, 1000))]
    after.append(animator.flush())
    produced = 55 + check_numbering(after, first=90) - 90
    assert produced + skipped == num_frames_for((len(speech) + RATE // 2) / RATE, 60)
    # a skip in the middle of a hop and a second one straight after
    animator = LivePhoneticAnimator(60, lookahead_s=0.1)
    n = check_numbering([out for out, _ in feed(animator, speech[:12345], sizes=(1000,))])
    skipped = animator.skip(1234) + animator.skip(7)
    tail = [out for out, _ in feed(animator, speech[12345:20000])] + [animator.flush()]
    total = check_numbering(tail, first=n + skipped)
    assert total == num_frames_for((20000 + 1241) / RATE, 60)


def test_flush_ends_the_stream(example_audio):
    animator = LivePhoneticAnimator(60)
    animator.process(example_audio.samples[:1600])
    out = animator.flush()
    assert out.first_frame + out.num_frames == num_frames_for(0.1, 60)
    with pytest.raises(RuntimeError, match="flushed"):
        animator.process(example_audio.samples[:160])


def test_silence_and_background_noise_give_a_closed_neutral_mouth(example_audio):
    rng = np.random.default_rng(0)
    noise = (10 ** (-60 / 20) * rng.standard_normal(3 * RATE)).astype(np.float32)  # -60 dBFS hiss
    for audio in (np.zeros(3 * RATE, np.float32), noise):
        animator = LivePhoneticAnimator(60)
        outs = [out for out, _ in feed(animator, audio)] + [animator.flush()]
        coeffs = np.concatenate([out.coeffs for out in outs])
        assert coeffs.max() < 0.01
        assert np.concatenate([out.activity for out in outs])[30:].max() < 0.05
    # after speech the mouth closes again and the decoder idles
    animator = LivePhoneticAnimator(60)
    outs = [out for out, _ in feed(animator, np.concatenate([example_audio.samples, noise]))]
    tail = np.concatenate([out.coeffs for out in outs])[-60:]  # the last second
    assert tail.max() < 0.01
    assert animator.recogniser.utterance_start is None  # the decoder idles in the pause


def test_windows_render_as_the_whole_take():
    """Frames rendered a few at a time from the phones within REACH_S are the offline frames."""
    labels = "SIL HH AH L OW SIL M AY B AA K S UW P ER SIL".split()
    durations = [0.3, 0.06, 0.09, 0.07, 0.22, 0.35, 0.08, 0.2, 0.06, 0.12, 0.09, 0.1, 0.15, 0.07, 0.12, 0.4]
    phones, t = [], 0.0
    for label, d in zip(labels, durations):
        phones.append(Phone(label, t, t + d))
        t += d
    n = num_frames_for(t, 60)
    loudness = np.linspace(0.2, 1.0, n).astype(np.float32)
    whole = render_phones(phones, n, 60, loudness).values
    for first in range(0, n, 7):
        count = min(7, n - first)
        near = [p for p in phones if p.end_s >= first / 60 - REACH_S and p.start_s <= (first + count - 1) / 60 + REACH_S]
        window = render_phones(near, count, 60, loudness[first:first + count], first_frame=first).values
        np.testing.assert_allclose(window, whole[first:first + count], atol=1e-6)


def test_live_loudness_matches_the_offline_reference_and_shuts_at_noise(example_audio):
    samples = example_audio.samples
    n = num_frames_for(example_audio.duration_s, 60)
    live = LiveLoudness(RATE, 60)
    out, done = [], 0
    for i in range(0, len(samples), 160):
        live.push(samples[i:i + 160])
        ready = num_frames_for((i + 160) / RATE - 0.1, 60) if i + 160 >= 1600 else 0
        if ready > done:
            out.append(live.envelope(done, ready - done))
            done = ready
    out.append(live.envelope(done, n - done))
    envelope = np.concatenate(out)
    offline = loudness_envelope(samples, RATE, 60, n)
    levels = frame_levels_db(samples, RATE, 60, n)
    assert abs(live.reference_db - np.percentile(levels, 95)) < 1.5
    speech = offline > 0.5
    assert np.corrcoef(envelope[speech], offline[speech])[0, 1] > 0.9
    assert envelope[levels < live.noise_db + 5].max(initial=0) == 0


@pytest.fixture(scope="module")
def live_dev_results(librivox):
    return live_evaluation.evaluate(dev_set(), fps=60, lookaheads_s=(0.1,), warm=False)


def test_live_lipsync_on_real_speech_at_100_ms(live_dev_results):
    live = live_dev_results["live, 100 ms look-ahead, cold"]
    jaw = live_dev_results["loudness-only jaw, offline envelope"]
    offline = live_dev_results["offline recogniser (no transcript)"]
    # measured: 25/28 closures, ratio 5.2x, correlation 0.71 (offline recogniser 26/28, 7.0x, 0.66)
    assert live.bilabials >= 20
    assert live.closure_rate >= 0.75
    assert live.closure_rate >= offline.closure_rate - 0.15
    assert live.aperture_ratio >= 3.5
    assert live.openness_correlation >= 0.6
    assert live.closure_rate > jaw.closure_rate + 0.5
    assert live.aperture_ratio > jaw.aperture_ratio
    assert live.openness_correlation > jaw.openness_correlation


def test_long_speech_keeps_the_cost_per_hop_flat(librivox):
    speech = live_evaluation.continuous_speech(dev_set(), 40.0)
    speed = live_evaluation.measure_speed(speech, fps=60, lookahead_s=0.1)
    # speech without a pause is still cut into utterances, so the decoder's work per hop is bounded
    assert speed.utterances >= 40.0 / MAX_UTTERANCE_S
    assert speed.last_10s_ms < 1.5 * speed.first_10s_ms + 0.3
    assert speed.real_time_factor < 0.5  # measured 0.07 on a quiet core; loose for a loaded machine
