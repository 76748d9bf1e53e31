"""The text and visual branches live: the streaming pseudo-text of ``text_stream`` models
(model/live_words.py) with the real recognisers on real speech (live equals offline however the audio
is cut, words settle once two passes agree and within the stated latency, the settled words are the
whole-file recognition's words), and the Wav2Lip mouths made frame by frame (encoders/visual.MouthStream)."""

from __future__ import annotations

import difflib

import numpy as np
import pytest
import soundfile as sf

from pmmtalk_live.model.config import tiny_config
from pmmtalk_live.model.inference import StreamSession, latency_s, model_coeffs, prepare_batch
from pmmtalk_live.model.live_words import LiveTranscript, TranscriptStream, text_latency_s, transcript_track
from pmmtalk_live.model.pmmtalk import PMMTalk
from pmmtalk_live.model.recognizers import make_recognizer
from pmmtalk_live.tracks import SAMPLE_RATE_HZ, Audio
from tests.conftest import EXAMPLE_WAV

from .test_model_inference import chunkings, stream

pytestmark = pytest.mark.usefixtures("one_thread")


def example(seconds: float) -> np.ndarray:
    samples, rate = sf.read(EXAMPLE_WAV, dtype="float32")
    assert rate == SAMPLE_RATE_HZ
    return samples[:int(seconds * SAMPLE_RATE_HZ)]


def test_a_text_stream_session_equals_offline_however_the_audio_is_cut():
    import torch

    torch.manual_seed(0)
    model = PMMTalk(tiny_config(text_stream=True, recognizer="pocketsphinx", text_step_s=0.5, text_window_s=2.0)).eval()
    samples = example(3.0)
    batch = prepare_batch(model, Audio(samples))
    assert np.count_nonzero(batch.phone_ids) > 0.3 * batch.num_frames  # the text is there: phones on speech
    offline = model_coeffs(model, batch)
    sizes = chunkings(len(samples))
    for name in ("160 samples", "random", "all at once"):
        live = stream(StreamSession(model), samples, sizes[name])
        assert live.shape == offline.shape, name
        np.testing.assert_allclose(live, offline, atol=1e-4, err_msg=name)
    assert latency_s(model.config) >= text_latency_s(model.config)


def test_words_settle_when_two_passes_agree_within_the_stated_latency():
    samples = example(4.5)
    recognizer = make_recognizer("faster-whisper")
    whole = [w.text.lower() for w in recognizer.recognize(Audio(samples)).words]
    settled = TranscriptStream(recognizer, step_s=0.5, window_s=3.0)
    waits = []
    for start in range(0, len(samples), 160):
        settled.push(samples[start:start + 160])
        waits.append(min(start + 160, len(samples)) / SAMPLE_RATE_HZ - settled.settled_s)
    settled.flush()
    words = [w.text.lower() for w in settled.words]
    assert len(whole) >= 8
    assert difflib.SequenceMatcher(None, whole, words).ratio() >= 0.7, (whole, words)
    assert max(waits) <= 3.0 + 0.5 + 1e-6  # text_latency_s: a window and a step
    assert np.median(waits) < 1.5  # agreement settles most words well before the window forces them
    times = [(w.start_s, w.end_s) for w in settled.words]
    assert all(a <= b for a, b in times) and all(e1 <= s2 + 1e-6 for (_, e1), (s2, _) in zip(times, times[1:]))


def test_the_live_text_has_the_settled_words_and_phones_frame_by_frame():
    config = tiny_config(text_stream=True, recognizer="faster-whisper", word_encoder="minilm", fps=30,
                         text_step_s=0.5, text_window_s=3.0)
    samples = example(3.0)
    num_frames = 91
    phone_ids, word_vectors = transcript_track(samples, config, num_frames)
    assert word_vectors.shape == (num_frames, 384)
    spoken = np.abs(word_vectors).sum(1) > 0
    assert 0.3 < spoken.mean() < 1.0  # words where they were said, nothing in the pauses
    np.testing.assert_allclose(np.linalg.norm(word_vectors[spoken], axis=1), 1.0, atol=1e-3)
    assert np.count_nonzero(phone_ids[spoken]) > 0.8 * spoken.sum()
    live = LiveTranscript(config)
    got, first = [], 0
    for start in range(0, len(samples), 777):
        live.push(samples[start:start + 777])
        if live.ready > first:
            count = min(live.ready, num_frames) - first
            got.append(live.frames(first, count)["phone_ids"])
            first += count
    live.flush()
    got.append(live.frames(first, num_frames - first)["phone_ids"])
    np.testing.assert_array_equal(np.concatenate(got), phone_ids)
    with pytest.raises(ValueError, match="not settled"):
        LiveTranscript(config).frames(0, 1)


@pytest.mark.parametrize("overrides, message", [
    (dict(text_stream=True, text_input="visemes", word_encoder=None), "text_stream needs text_input: phones"),
    (dict(text_stream=True, text_step_s=1.0, text_window_s=1.5), "text_step_s"),
])
def test_text_stream_settings_are_checked(overrides, message):
    with pytest.raises(ValueError, match=message):
        tiny_config(**overrides)


def test_training_features_are_the_live_text(tmp_path):
    from pmmtalk_live.dataset import write_utterance
    from pmmtalk_live.rig import NUM_COEFFS
    from pmmtalk_live.train.features import FeatureCache
    from pmmtalk_live.tracks import num_frames_for

    samples = example(2.0)
    utt = write_utterance(tmp_path, "u1", Audio(samples), np.zeros((61, NUM_COEFFS), np.float32), 30.0, "s")
    streamed = tiny_config(text_stream=True, recognizer="pocketsphinx", text_step_s=0.5, text_window_s=2.0)
    cache = FeatureCache(streamed)
    assert cache.keys["branches"] != FeatureCache(tiny_config(recognizer="pocketsphinx")).keys["branches"]
    phone_ids, _ = transcript_track(samples, streamed, num_frames_for(2.0, streamed.fps))
    np.testing.assert_array_equal(cache(utt)["phone_ids"], phone_ids)


# --- the visual branch live ------------------------------------------------------------------------------

def test_a_visual_session_equals_offline_however_the_audio_is_cut(tmp_path):
    """The Wav2Lip generator (random weights, the public checkpoint format) making each frame's mouth
    once its mel window is in, then the mouth encoder: the same numbers as offline."""
    import torch

    from pmmtalk_live.model.batch import Batch
    from pmmtalk_live.model.encoders.mel import window_lookahead_s
    from pmmtalk_live.model.encoders.visual import Wav2LipCheckpoint

    torch.manual_seed(0)
    path = tmp_path / "wav2lip.pth"
    torch.save({"state_dict": Wav2LipCheckpoint().state_dict()}, path)
    model = PMMTalk(tiny_config(visual=True, wav2lip_checkpoint=str(path), text=False, fps=10)).eval()
    samples = example(1.2)
    batch = prepare_batch(model, Audio(samples))
    assert batch.mouths is not None and batch.mouths.shape[1] == batch.num_frames
    offline = model_coeffs(model, batch)
    for sizes in ([160] * 200, [len(samples)]):
        live = stream(StreamSession(model), samples, sizes)
        assert live.shape == offline.shape
        np.testing.assert_allclose(live, offline, atol=1e-4)
    assert latency_s(model.config) >= window_lookahead_s(model.config.fps)
    without = model_coeffs(model, Batch(audio=batch.audio, audio_lengths=batch.audio_lengths,
                                        frame_mask=batch.frame_mask, styles=batch.styles))
    assert not np.allclose(without, offline, atol=1e-4)  # the mouths count: without them the face differs
