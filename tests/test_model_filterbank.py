"""The shipped model's shape: the filterbank audio encoder and the live viseme track as pseudo-text.

Live equals offline (the filterbank stream in numpy against the torch pass), the look-ahead is exactly
what ``latency_s`` says, and a visemes model streamed in the engine's 10 ms hops equals offline
inference (which makes its text the live way)."""

import numpy as np
import pytest
import torch

from pmmtalk_live import rig
from pmmtalk_live.audio.files import read_audio
from pmmtalk_live.model.config import VISEME_DIM, live_config
from pmmtalk_live.model.encoders.filterbank import MelAudioEncoder, filterbank_index, latency_s
from pmmtalk_live.model.inference import StreamSession, latency_s as model_latency_s, model_coeffs, prepare_batch
from pmmtalk_live.model.live_text import text_lookahead_s, viseme_track
from pmmtalk_live.model.pmmtalk import PMMTalk
from pmmtalk_live.tracks import SAMPLE_RATE_HZ, Audio, num_frames_for

from .test_model_inference import speech_like, stream

pytestmark = pytest.mark.usefixtures("one_thread")


def small_config(**overrides):
    base = dict(mel_channels=24, mel_dilations=(1, 2, 4), d_model=24, decoder_layers=1, decoder_heads=2,
                decoder_ff=32, dropout=0.0, context_frames=40)
    base.update(overrides)
    return live_config(**base)


def encoder(seed=0, **overrides) -> MelAudioEncoder:
    torch.manual_seed(seed)
    return MelAudioEncoder(small_config(**overrides)).eval()


def offline_features(enc: MelAudioEncoder, samples: np.ndarray) -> np.ndarray:
    n = num_frames_for(len(samples) / SAMPLE_RATE_HZ, enc.config.fps)
    with torch.no_grad():
        return enc(torch.from_numpy(samples)[None], torch.tensor([len(samples)]), n)[0].numpy()


@pytest.mark.parametrize("sizes", ["hops", "random", "one sample then all", "all at once"])
def test_filterbank_stream_equals_offline(sizes):
    enc = encoder()
    samples = speech_like(2.0)
    rng = np.random.default_rng(1)
    pushes = {"hops": [160] * 400, "random": list(rng.integers(1, 900, 400)),
              "one sample then all": [1, len(samples)], "all at once": [len(samples)]}[sizes]
    live, i = [], 0
    stream_ = enc.stream()
    for size in pushes:
        if i >= len(samples):
            break
        live.append(stream_.push(samples[i:i + size]).numpy())
        i += size
    live.append(stream_.flush().numpy())
    live = np.concatenate(live)
    expected = offline_features(enc, samples)
    assert live.shape == expected.shape
    np.testing.assert_allclose(live, expected, atol=1e-4)


def test_a_frame_sees_exactly_its_lookahead():
    """Changing the audio after t + latency_s changes nothing at frame t; just before it, it does."""
    enc = encoder(lookahead_frames=5)
    samples = speech_like(1.5)
    base = offline_features(enc, samples)
    frame = 40
    cut = int(np.ceil((frame / enc.config.fps + latency_s(enc.config)) * SAMPLE_RATE_HZ))
    changed = samples.copy()
    changed[cut:] = np.random.default_rng(5).standard_normal(len(samples) - cut).astype(np.float32)
    np.testing.assert_array_equal(offline_features(enc, changed)[:frame + 1], base[:frame + 1])
    earlier = samples.copy()
    earlier[cut - 200:] = 0.0
    assert not np.allclose(offline_features(enc, earlier)[frame], base[frame])


def test_filterbank_index_reads_the_window_centred_before_the_lookahead():
    config = small_config(lookahead_frames=5)  # 60 fps
    index = filterbank_index(config, 0, 120)
    centres_s = (index * 160 + 200) / SAMPLE_RATE_HZ
    targets_s = (np.arange(120) + 5) / 60
    assert (centres_s <= targets_s + 1e-12).all() and (centres_s > targets_s - 0.01).all()
    assert latency_s(config) == pytest.approx(5 / 60 + 0.0125)
    assert model_latency_s(config) == pytest.approx(latency_s(config))  # the decoder is causal
    assert text_lookahead_s(config) == pytest.approx(latency_s(config))


@pytest.fixture(scope="module")
def example() -> np.ndarray:
    return read_audio("pmmtalk_live/data/example.wav").samples[:int(3.0 * SAMPLE_RATE_HZ)]


def test_viseme_track_is_the_live_phonetic_animators_output(example):
    config = small_config()
    n = num_frames_for(len(example) / SAMPLE_RATE_HZ, config.fps)
    track = viseme_track(example, config, n)
    assert track.shape == (n, VISEME_DIM) and track.dtype == np.float32
    assert 0.0 <= track.min() and track.max() <= 1.0
    jaw = track[:, rig.MODEL_CHANNELS.index("jawOpen")]  # speech opens it
    assert jaw.max() > 0.2 and jaw[:5].max() < 0.05  # the example starts in silence


@pytest.mark.parametrize("residual, gate", [(False, False), (True, False), (True, True)],
                         ids=["decoded", "viseme residual", "with closure gate"])
def test_visemes_model_streamed_in_hops_equals_offline(example, residual, gate):
    torch.manual_seed(0)
    model = PMMTalk(small_config(viseme_residual=residual, closure_gate=gate)).eval()
    if residual:  # a trained-looking head, not the zeros it starts from
        torch.nn.init.normal_(model.decoder.head.weight, std=0.1)
    if gate:  # a gate that closes the lips on half of the frames
        with torch.no_grad():
            closed = model(prepare_batch(model, Audio(example))).closed[0]
        ranked = closed.sort().values
        middle = len(ranked) // 2  # between two frames' chances, so float rounding cannot flip one
        model.gate.threshold = float(ranked[middle - 1] + ranked[middle]) / 2
    offline = model_coeffs(model, prepare_batch(model, Audio(example)))
    live = stream(StreamSession(model), example, [160] * 1000)
    assert live.shape == offline.shape
    np.testing.assert_allclose(live, offline, atol=1e-4)


def test_a_residual_model_starts_as_the_viseme_track(example):
    """Before training, its output is the viseme track's coefficients, exactly (0 stays 0)."""
    torch.manual_seed(0)
    model = PMMTalk(small_config(viseme_residual=True)).eval()
    batch = prepare_batch(model, Audio(example))
    expected = batch.visemes[0, :, :32].numpy()
    np.testing.assert_allclose(model_coeffs(model, batch), expected, atol=1e-5)


def test_residual_decoder_stream_uses_each_head_as_offline_does():
    """With the track, the correction head; without it (audio only), the ``alone`` head: the numpy
    stream equals the torch decoder both ways, and the two heads give different coefficients."""
    from pmmtalk_live.model.decoder import CausalDecoderStream

    torch.manual_seed(0)
    model = PMMTalk(small_config(viseme_residual=True)).eval()
    torch.nn.init.normal_(model.decoder.head.weight, std=0.1)
    decoder, d = model.decoder, model.config.d_model
    features, prior = torch.randn(1, 50, d), torch.rand(1, 50, 32)
    styles = torch.zeros(1, dtype=torch.int64)
    with torch.no_grad():
        corrected = decoder(features, styles, prior=prior)[0].numpy()
        alone = decoder(features, styles)[0].numpy()
    live_corrected = CausalDecoderStream(decoder).push(features[0, :25].numpy(), prior[0, :25].numpy()).numpy()
    np.testing.assert_allclose(live_corrected, corrected[:25], atol=1e-4)
    stream_ = CausalDecoderStream(decoder)
    live_alone = np.concatenate([stream_.push(features[0, i:i + 1].numpy()) for i in range(50)])
    np.testing.assert_allclose(live_alone, alone, atol=1e-4)
    assert np.abs(corrected - alone).max() > 0.05


def test_live_sessions_share_one_weight_copy_until_the_weights_change(example):
    """A session after a gap reuses the numpy copy of the weights (a restart costs no copy), and a
    change of the weights (a training step, load_state_dict) is seen by the next session."""
    torch.manual_seed(0)
    model = PMMTalk(small_config(viseme_residual=True, closure_gate=True)).eval()
    first, second = StreamSession(model), StreamSession(model)
    assert first.decoder.blocks is second.decoder.blocks
    assert first.gate.first is second.gate.first
    before = stream(StreamSession(model), example, [160] * 1000)
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            if name.startswith(("decoder.", "audio.", "gate.")):
                parameter.add_(0.05 * torch.randn_like(parameter))  # in place, as an optimiser step
    changed = StreamSession(model)
    assert changed.decoder.blocks is not first.decoder.blocks
    live = stream(changed, example, [160] * 1000)
    offline = model_coeffs(model, prepare_batch(model, Audio(example)))
    np.testing.assert_allclose(live, offline, atol=1e-4)
    assert np.abs(live - before).max() > 1e-3
