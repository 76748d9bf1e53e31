"""The model's core: windowed decoder (offline and streaming), cross-modal alignment, fusion, losses."""

from pathlib import Path

import numpy as np
import pytest
import torch

import pmmtalk_live
from pmmtalk_live.model.align import CrossModalAlignment, Fusion, affinity, semantic_loss, temporal_kl
from pmmtalk_live.model.config import ModelConfig, TrainingObjective, tiny_config
from pmmtalk_live.model.decoder import Decoder, DecoderStream
from pmmtalk_live.model.gate import close_lips
from pmmtalk_live.model.losses import closure_loss, gate_loss, lip_aperture, motion_loss, position_loss, total_loss
from pmmtalk_live.rig import CHANNEL_INDEX
from pmmtalk_live.evaluation.curve_errors import aperture


pytestmark = pytest.mark.usefixtures("one_thread")


def make_decoder(**overrides) -> tuple[ModelConfig, Decoder]:
    torch.manual_seed(0)
    config = tiny_config(**{"decoder_layers": 3, "context_frames": 12, "speakers": ["ann", "bob"], **overrides})
    return config, Decoder(config).eval()


def test_decoder_gives_32_coefficients_in_0_1_per_frame():
    config, decoder = make_decoder()
    coeffs = decoder(10 * torch.randn(2, 20, config.d_model), torch.tensor([0, 2]))
    assert coeffs.shape == (2, 20, 32)
    assert coeffs.min() >= 0 and coeffs.max() <= 1
    assert not torch.allclose(coeffs[0], decoder(10 * torch.randn(1, 20, config.d_model), torch.tensor([1]))[0])


@torch.no_grad()
def test_look_ahead_is_exactly_lookahead_frames_whatever_the_depth():
    config, decoder = make_decoder(lookahead_frames=3)
    features = torch.randn(1, 30, config.d_model)
    before = decoder(features, torch.tensor([0]))[0]
    changed = features.clone()
    changed[0, 20] = torch.randn(config.d_model)
    after = decoder(changed, torch.tensor([0]))[0]
    moved = (after - before).abs().amax(-1) > 1e-6
    assert not moved[:17].any(), "a frame more than 3 frames in the future changed an output"
    assert moved[17], "the frame 3 ahead must matter"
    assert moved[20:].all()


@pytest.mark.parametrize("chunks", ["single", "random", "large"])
def test_streaming_equals_offline(chunks):
    config, decoder = make_decoder()
    total = 3 * config.context_frames + 7  # longer than context_frames: the caches must slide
    features = torch.randn(total, config.d_model)
    with torch.no_grad():
        offline = decoder(features[None], torch.tensor([1]))[0]
    sizes = {"single": [1] * total, "large": [total // 2, total - total // 2],
             "random": torch.randint(1, 9, (total,), generator=torch.Generator().manual_seed(1)).tolist()}[chunks]
    stream, outputs, start = DecoderStream(decoder, style=1), [], 0
    for size in sizes:
        if start >= total:
            break
        outputs.append(stream.push(features[start:start + size]))
        start += size
        returned = sum(len(o) for o in outputs)
        assert returned == max(0, min(start, total) - config.lookahead_frames), "a frame held back too long"
    outputs.append(stream.flush())
    streamed = torch.cat(outputs)
    assert streamed.shape == offline.shape
    assert (streamed - offline).abs().max() < 1e-4
    window = config.context_frames + config.lookahead_frames
    assert all(k.shape[2] <= window for k in stream.keys), "caches must stay bounded"


def test_stream_refuses_a_decoder_in_training_mode():
    config, decoder = make_decoder()
    with pytest.raises(ValueError, match="eval"):
        DecoderStream(decoder.train())


@torch.no_grad()
def test_padding_does_not_leak_into_real_frames():
    config, decoder = make_decoder()
    features = torch.randn(2, 25, config.d_model)
    mask = torch.ones(2, 25, dtype=torch.bool)
    mask[1, 15:] = False
    before = decoder(features, torch.tensor([0, 0]), mask)
    features[1, 15:] = 100 * torch.randn(10, config.d_model)
    after = decoder(features, torch.tensor([0, 0]), mask)
    assert torch.isfinite(after).all()
    assert (after[1, :15] - before[1, :15]).abs().max() < 1e-5
    alone = decoder(features[1:, :15], torch.tensor([0]))
    assert (alone[0] - after[1, :15]).abs().max() < 1e-5, "a padded utterance must equal the same one unpadded"


def test_temporal_kl_is_zero_for_identical_features_and_positive_otherwise():
    torch.manual_seed(0)
    x = torch.randn(2, 12, 16)
    mask = torch.ones(2, 12, dtype=torch.bool)
    mask[1, 8:] = False
    assert temporal_kl(x, x.clone(), mask, 0.1).abs() < 1e-6
    assert temporal_kl(x, torch.randn(2, 12, 16), mask, 0.1) > 0.01
    rows = affinity(x, mask, 0.1)
    assert torch.allclose(rows[0].sum(-1), torch.ones(12))
    assert rows[1, 8:].abs().sum() == 0 and rows[1, :, 8:].abs().sum() == 0, "padded frames take no part"
    assert rows.diagonal(dim1=1, dim2=2).abs().sum() == 0


def test_semantic_loss_is_one_minus_cosine_over_real_frames():
    x = torch.randn(2, 6, 8)
    mask = torch.ones(2, 6, dtype=torch.bool)
    assert semantic_loss(x, x, mask).abs() < 1e-6
    assert abs(semantic_loss(x, -x, mask) - 2) < 1e-6
    assert 0 <= semantic_loss(x, torch.randn(2, 6, 8), mask) <= 2


def test_gradients_reach_every_projection_and_fusion_parameter():
    torch.manual_seed(0)
    d, B, T = 16, 3, 10
    features = {name: torch.randn(B, T, d) for name in ("audio", "text", "visual")}
    present = {"audio": torch.tensor([True, True, False]), "text": torch.tensor([True, False, True]),
               "visual": torch.tensor([True, True, False])}
    mask = torch.ones(B, T, dtype=torch.bool)
    alignment, fusion = CrossModalAlignment(d, temperature=0.1), Fusion(d)
    losses = alignment(features, present, mask)
    assert set(losses) == {"temporal", "semantic"} and all(v > 0 for v in losses.values())
    (losses["temporal"] + losses["semantic"] + fusion(features, present).pow(2).mean()).backward()
    for name, p in [*alignment.named_parameters(), *fusion.named_parameters()]:
        assert p.grad is not None and p.grad.abs().sum() > 0, name


def test_audio_is_the_alignment_anchor_the_losses_never_move_it():
    torch.manual_seed(0)
    audio, text = torch.randn(2, 6, 8, requires_grad=True), torch.randn(2, 6, 8, requires_grad=True)
    alignment = CrossModalAlignment(8, pairs=(("audio", "text"),))
    assert set(alignment.projections) == {"text"}, "audio has no projection of its own"
    losses = alignment({"audio": audio, "text": text}, None, torch.ones(2, 6, dtype=torch.bool))
    (losses["temporal"] + losses["semantic"]).backward()
    assert audio.grad is None and text.grad.abs().sum() > 0
    # a collapsed text side cannot satisfy the semantic loss: audio varies, a constant does not follow it
    constant = alignment({"audio": audio, "text": torch.ones(2, 6, 8)}, None, torch.ones(2, 6, dtype=torch.bool))
    assert constant["semantic"] > 0.1
    with pytest.raises(ValueError, match="audio, other"):
        CrossModalAlignment(8, pairs=(("text", "visual"),))


def test_alignment_counts_only_utterances_with_both_modalities():
    torch.manual_seed(0)
    alignment = CrossModalAlignment(8, pairs=(("audio", "text"),))
    audio, text = torch.randn(2, 6, 8), torch.randn(2, 6, 8)
    mask = torch.ones(2, 6, dtype=torch.bool)
    text_present = torch.tensor([True, False])
    both = alignment({"audio": audio, "text": text}, {"text": text_present}, mask)
    first = alignment({"audio": audio[:1], "text": text[:1]}, None, mask[:1])
    assert torch.allclose(both["semantic"], first["semantic"]) and torch.allclose(both["temporal"], first["temporal"])
    none = CrossModalAlignment.from_config(tiny_config(d_model=8), ("audio", "text"))({"audio": audio}, None, mask)
    assert none["temporal"] == 0 and none["semantic"] == 0


def test_fusion_uses_the_absent_embedding_for_a_missing_modality():
    torch.manual_seed(0)
    fusion = Fusion(16, ("audio", "text"))
    audio, text = torch.randn(2, 5, 16), torch.randn(2, 5, 16)
    fused = fusion({"audio": audio, "text": text}, {"text": torch.tensor([True, False])})
    as_absent = fusion({"audio": audio, "text": fusion.absent["text"].expand(2, 5, 16)})
    assert torch.allclose(fused[1], as_absent[1])
    assert not torch.allclose(fused[0], as_absent[0])
    assert torch.allclose(fusion({"audio": audio, "text": None}), as_absent)
    assert torch.allclose(fusion({"audio": audio[:, :2]}), fusion({"audio": audio})[:, :2]), "per frame only"


def test_losses_and_their_weights():
    pred, target = torch.zeros(1, 4, 32), torch.zeros(1, 4, 32)
    target[0, 1] = 1.0
    mask = torch.tensor([[True, True, True, False]])
    assert position_loss(pred, target, mask) == pytest.approx(1 / 3)
    assert motion_loss(pred, target, mask) == pytest.approx(1.0)  # two real pairs, each a step of 1
    target[0, 3] = 7.0  # a padded frame counts nowhere
    assert position_loss(pred, target, mask) == pytest.approx(1 / 3)
    assert motion_loss(pred, target, mask) == pytest.approx(1.0)
    config = TrainingObjective(w_position=1.0, w_motion=0.5, w_temporal=0.1, w_semantic=0.2)
    parts = {"position": torch.tensor(2.0), "motion": torch.tensor(2.0), "temporal": torch.tensor(1.0),
             "semantic": torch.tensor(1.0)}
    assert float(total_loss(parts, config)) == pytest.approx(3.3)
    with pytest.raises(KeyError):
        total_loss({"velocity": torch.tensor(1.0)}, config)


def test_closure_loss_charges_only_lips_left_open_where_the_target_closes():
    jaw, close = CHANNEL_INDEX["jawOpen"], CHANNEL_INDEX["mouthClose"]
    target = torch.zeros(1, 4, 32)
    target[0, :2, jaw] = 0.5  # frames 0, 1 open; 2, 3 closed (aperture 0)
    mask = torch.tensor([[True, True, True, False]])
    pred = target.clone()
    pred[0, 0, jaw] = 0.0  # closing where the target is open costs nothing here
    assert float(closure_loss(pred, target, mask)) == 0.0
    pred[0, 2, jaw] = 0.3  # open where the target is closed: charged
    pred[0, 3, jaw] = 0.9  # ... but not on a padded frame
    assert float(closure_loss(pred, target, mask)) == pytest.approx(0.09)  # one closed real frame
    pred[0, 2, close] = 0.3  # mouthClose cancels the jaw, as in the aperture metric
    assert float(closure_loss(pred, target, mask)) == pytest.approx(0.0)
    coeffs = torch.rand(40, 32)
    assert np.allclose(lip_aperture(coeffs).numpy(), aperture(coeffs.numpy()), atol=1e-6)
    config = TrainingObjective(w_closure=2.0)
    assert float(total_loss({"closure": torch.tensor(0.5)}, config)) == pytest.approx(1.0)


def test_closure_gate_scales_the_lip_aperture_from_its_threshold_to_certainty():
    torch.manual_seed(0)
    coeffs = torch.rand(6, 32)
    chance = torch.tensor([0.0, 0.3, 0.5, 0.6, 0.9, 1.0])
    closed = close_lips(coeffs, chance, threshold=0.5)
    expected = lip_aperture(coeffs) * torch.tensor([1.0, 1.0, 1.0, 0.8, 0.2, 0.0])  # 1 - (p - 0.5) / 0.5
    assert torch.allclose(lip_aperture(closed), expected, atol=1e-6)
    assert float(lip_aperture(closed)[-1]) == pytest.approx(0.0, abs=1e-6)  # certain: the lips meet
    lips = [CHANNEL_INDEX[n] for n in ("mouthClose", "mouthLowerDownLeft", "mouthLowerDownRight",
                                       "mouthUpperUpLeft", "mouthUpperUpRight")]
    others = [i for i in range(32) if i not in lips]
    assert torch.equal(closed[:, others], coeffs[:, others])  # the jaw and the rest of the face stay
    assert torch.equal(closed[:3], coeffs[:3])  # at or below the threshold nothing changes
    assert torch.equal(close_lips(coeffs, chance, threshold=1.0), coeffs)  # 1.0: the gate is off
    assert float(closed.min()) >= 0.0 and float(closed.max()) <= 1.0


def test_gate_loss_is_cross_entropy_against_the_targets_closed_lips():
    jaw = CHANNEL_INDEX["jawOpen"]
    target = torch.zeros(1, 3, 32)
    target[0, 0, jaw] = 0.5  # frame 0 open, frames 1 and 2 closed
    mask = torch.tensor([[True, True, False]])
    right = torch.tensor([[-8.0, 8.0, -8.0]])  # the padded frame's wrong guess is not charged
    assert float(gate_loss(right, target, mask)) == pytest.approx(0.0, abs=1e-3)
    unsure = torch.zeros(1, 3)
    assert float(gate_loss(unsure, target, mask)) == pytest.approx(np.log(2), abs=1e-6)
    wrong = -right
    assert float(gate_loss(wrong, target, mask)) == pytest.approx(8.0, abs=1e-2)


def test_a_tiny_decoder_overfits_a_small_target():
    torch.manual_seed(0)
    config = tiny_config()
    decoder = Decoder(config)
    features, target = torch.randn(2, 12, config.d_model), torch.rand(2, 12, 32)
    mask = torch.ones(2, 12, dtype=torch.bool)
    optimizer = torch.optim.Adam(decoder.parameters(), lr=1e-2)
    losses = []
    for _ in range(100):
        pred = decoder(features, torch.tensor([0, 0]), mask)
        loss = position_loss(pred, target, mask) + motion_loss(pred, target, mask)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0] / 10


def test_training_settings_are_apart_from_the_models_and_old_configs_still_load(tmp_path):
    """A config written before the split (loss weights and dropouts among the sizes, as the shipped
    checkpoints have them) loads with those settings under ``objective``; a saved config nests them."""
    from pmmtalk_live.model.checkpoint import read_config, save_config

    old, train = read_config(Path(pmmtalk_live.__file__).parent / "data" / "models" / "default")
    assert old.objective.w_closure == 0.05 and old.objective.audio_dropout == 0.15
    assert not hasattr(old, "w_closure") and old.d_model == 160
    save_config(tmp_path, old, train)
    saved = (tmp_path / "config.yaml").read_text()
    assert "\n  objective:\n" in saved and "\n  w_closure" not in saved
    assert read_config(tmp_path) == (old, train)
    with pytest.raises(ValueError, match="unknown model settings: w_clozure"):
        ModelConfig.from_dict({"objective": {"w_clozure": 1.0}})
