"""Inference with tiny models built here: loading runs and packaged names, offline animate, the live
StreamSession against offline inference (the same numbers, however the audio is cut), chunked audio
encoding that ignores the audio after its windows, and the live animator's frame contract."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pmmtalk_live import rig
from pmmtalk_live.animators.pmmtalk import LivePMMTalkAnimator, PMMTalkAnimator, min_lookahead_s
from pmmtalk_live.model.checkpoint import CheckpointError, save_config, save_weights
from pmmtalk_live.model.config import PHONES, tiny_config
from pmmtalk_live.model.encoders.audio import chunk_windows
from pmmtalk_live.model.inference import StreamSession, animate, load_model, model_coeffs, prepare_batch
from pmmtalk_live.model.pmmtalk import PMMTalk
from pmmtalk_live.model.recognizers import Transcript
from pmmtalk_live.tracks import SAMPLE_RATE_HZ, Audio, Phone, num_frames_for

SECONDS = 2.3  # 69 frames at 30 fps: 12 chunks of 6, and longer than the tiny decoder's 30 context frames


pytestmark = pytest.mark.usefixtures("one_thread")


def speech_like(seconds: float = SECONDS, seed: int = 0) -> np.ndarray:
    """Noise bursts with pauses: wav2vec and the decoder see changing input."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SAMPLE_RATE_HZ)
    envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3.0 * np.arange(n) / SAMPLE_RATE_HZ)
    return (0.2 * envelope * rng.standard_normal(n)).astype(np.float32)


def tiny_model(seed: int = 0, **overrides) -> PMMTalk:
    torch.manual_seed(seed)
    return PMMTalk(tiny_config(**overrides)).eval()


def stream(session: StreamSession, samples: np.ndarray, sizes) -> np.ndarray:
    out, i = [], 0
    for size in sizes:
        if i >= len(samples):
            break
        out.append(session.push(samples[i:i + size]))
        i += size
    assert i >= len(samples)
    out.append(session.flush())
    return np.concatenate(out)


def chunkings(n: int):
    rng = np.random.default_rng(1)
    return {"1 sample": [1] * n, "160 samples": [160] * (n // 160 + 1),
            "random": rng.integers(1, 4000, n).tolist(), "all at once": [n]}


class FixedText:
    """A live text source that knows every frame's phone from the start (as offline)."""

    def __init__(self, phone_ids: np.ndarray):
        self.phone_ids = phone_ids
        self.ready = len(phone_ids)

    def push(self, samples):
        pass

    def flush(self):
        pass

    def frames(self, first_frame, num_frames):
        return {"phone_ids": self.phone_ids[first_frame:first_frame + num_frames], "word_vectors": None}


# --- loading ------------------------------------------------------------------------------------------

def test_load_model_round_trip(tmp_path):
    model = tiny_model()
    save_config(tmp_path, model.config)
    save_weights(model, tmp_path)
    loaded = load_model(str(tmp_path))
    assert not loaded.training
    batch = prepare_batch(model, Audio(speech_like(1.0)), transcript=Transcript([], [], ""))
    np.testing.assert_array_equal(model_coeffs(model, batch), model_coeffs(loaded, batch))


def test_unknown_packaged_name_is_one_line():
    with pytest.raises(CheckpointError) as error:
        load_model("no-such-model")
    message = str(error.value)
    assert "no-such-model" in message and "packaged" in message and "\n" not in message


# --- offline -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("fps", [30, 60])
def test_offline_animate_shapes_and_range(fps):
    model = tiny_model()
    audio = Audio(speech_like(1.3))
    transcript = Transcript([], [Phone("M", 0.1, 0.3), Phone("AA", 0.3, 0.7)], "")
    coeffs = animate(model, audio, fps_out=fps, transcript=transcript)
    assert coeffs.shape == (num_frames_for(audio.duration_s, fps), rig.NUM_COEFFS)
    assert coeffs.dtype == np.float32 and coeffs.min() >= 0 and coeffs.max() <= 1
    track = PMMTalkAnimator(model).animate(audio, fps)  # no text: the recogniser's phones
    assert track.names == rig.MODEL_CHANNELS and track.num_frames == num_frames_for(audio.duration_s, fps)


# --- chunked audio encoding -------------------------------------------------------------------------------

def test_chunked_audio_features_ignore_the_audio_after_their_windows():
    model = tiny_model()
    samples = torch.from_numpy(speech_like())
    cut = int(1.4 * SAMPLE_RATE_HZ)
    with torch.no_grad():
        whole = model.audio(samples[None], torch.tensor([len(samples)]), num_frames_for(SECONDS, 30))[0]
        # the same utterance padded with noise the lengths say is not there, batched with a longer one
        noisy = torch.cat([samples[:cut], torch.randn(len(samples) - cut)])
        short = model.audio(torch.stack([noisy, samples]), torch.tensor([cut, len(samples)]), whole.shape[0])[0]
    complete = [w for w in chunk_windows(model.config, len(samples)) if w.end_sample <= cut]
    assert len(complete) >= 4
    end = complete[-1].end_frame
    torch.testing.assert_close(short[:end], whole[:end], rtol=0, atol=1e-5)
    assert not torch.equal(short[end:num_frames_for(cut / SAMPLE_RATE_HZ, 30)], whole[end:num_frames_for(cut / SAMPLE_RATE_HZ, 30)])


# --- live == offline ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides", [dict(text=False), dict(audio_chunk_frames=4, lookahead_frames=1, fps=25, context_frames=20)],
                         ids=["text off", "chunk 4, look-ahead 1, 25 fps"])
def test_stream_session_equals_offline_for_any_chunking(overrides):
    model = tiny_model(**overrides)
    samples = speech_like()
    offline = model_coeffs(model, prepare_batch(model, Audio(samples), transcript=Transcript([], [], "")))
    assert offline.shape[0] > 2 * model.config.context_frames
    for name, sizes in chunkings(len(samples)).items():
        session = StreamSession(model, text=FixedText(np.zeros(offline.shape[0], np.int64)) if model.text else None)
        live = stream(session, samples, sizes)
        assert live.shape == offline.shape, name
        np.testing.assert_allclose(live, offline, atol=1e-4, err_msg=name)


def test_stream_session_with_the_same_text_features_equals_offline():
    model = tiny_model()
    samples = speech_like()
    batch = prepare_batch(model, Audio(samples), transcript=Transcript([], [], ""))
    phone_ids = np.random.default_rng(2).integers(1, len(PHONES), batch.num_frames)
    batch.phone_ids = torch.from_numpy(phone_ids)[None]
    offline = model_coeffs(model, batch)
    live = stream(StreamSession(model, text=FixedText(phone_ids)), samples, chunkings(len(samples))["random"])
    np.testing.assert_allclose(live, offline, atol=1e-4)


def test_stream_session_needs_a_chunked_eval_model():
    with pytest.raises(ValueError, match="whole utterances"):
        StreamSession(tiny_model(audio_chunk_frames=0))
    with pytest.raises(ValueError, match="eval"):
        StreamSession(tiny_model().train())


# --- the live animator ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("fps", [30, 60])
def test_live_animator_contract_and_offline_equality(fps):
    model = tiny_model(text=False)
    samples = speech_like()
    animator = LivePMMTalkAnimator(model, fps=fps, lookahead_s=0.1)
    assert animator.lookahead_s == pytest.approx(min_lookahead_s(model, fps))  # raised to what the model needs
    received, next_frame, out = 0, 0, []
    for size in np.random.default_rng(3).integers(1, 2500, 200):
        if received >= len(samples):
            break
        block = samples[received:received + size]
        result = animator.process(block)
        received += len(block)
        assert result.first_frame == next_frame
        last = result.first_frame + result.num_frames - 1
        if result.num_frames:  # its look-ahead was in
            assert last / fps + animator.lookahead_s <= received / SAMPLE_RATE_HZ + 1e-9
        # ... and no later than that: the model keeps up with the look-ahead it announced
        finished = received / SAMPLE_RATE_HZ - animator.lookahead_s
        assert last + 1 == (num_frames_for(finished, fps) if finished >= 0 else 0)
        assert result.activity.shape == (result.num_frames,)
        next_frame += result.num_frames
        out.append(result.coeffs)
    result = animator.flush()
    assert result.first_frame == next_frame
    out.append(result.coeffs)
    live = np.concatenate(out)
    assert len(live) == num_frames_for(SECONDS, fps)
    np.testing.assert_allclose(live, animate(model, Audio(samples), fps), atol=1e-4)
    with pytest.raises(RuntimeError):
        animator.process(samples[:10])


def test_live_animator_skip_keeps_numbering():
    model = tiny_model(text=False)
    samples = speech_like()
    animator = LivePMMTalkAnimator(model, fps=60)
    frames = [animator.process(samples[:16000])]
    skipped = animator.skip(8000)
    frames.append(animator.process(samples[24000:]))
    frames.append(animator.flush())
    numbers = [f.first_frame + i for f in frames for i in range(f.num_frames)]
    assert skipped > 0 and len(numbers) + skipped == num_frames_for(SECONDS, 60)
    assert numbers == sorted(set(numbers)) and frames[1].first_frame == frames[0].num_frames + skipped
