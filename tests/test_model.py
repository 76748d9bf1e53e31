"""The assembled PMMTalk model on tiny configurations built here (no downloads): shapes and ranges,
gradients into every branch and alignment loss, a checkpoint round trip, overfitting a tiny dataset."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from pmmtalk_live.model.batch import Batch
from pmmtalk_live.model.checkpoint import CheckpointError, load_run, save_config, save_weights
from pmmtalk_live.model.config import PHONES, WORD_DIM, ModelConfig, tiny_config
from pmmtalk_live.model.encoders.audio import AudioEncoderError, frame_positions, resample_frames
from pmmtalk_live.model.pmmtalk import PMMTalk
from pmmtalk_live.tracks import num_frames_for

FPS = 30


def make_batch(config: ModelConfig, seconds=(1.0, 0.7), text=True, visual=False, seed=0) -> Batch:
    gen = torch.Generator().manual_seed(seed)
    lengths = [int(s * 16000) for s in seconds]
    frames = [num_frames_for(s, config.fps) for s in seconds]
    b, n, t = len(seconds), max(lengths), max(frames)
    audio = torch.zeros(b, n)
    mask = torch.zeros(b, t, dtype=torch.bool)
    for i, (length, count) in enumerate(zip(lengths, frames)):
        audio[i, :length] = 0.1 * torch.randn(length, generator=gen)
        mask[i, :count] = True
    batch = Batch(audio=audio, audio_lengths=torch.tensor(lengths), frame_mask=mask,
                  styles=torch.zeros(b, dtype=torch.long), coeffs=torch.rand(b, t, 32, generator=gen))
    if text:
        batch.phone_ids = torch.randint(1, len(PHONES), (b, t), generator=gen)
        batch.word_vectors = torch.randn(b, t, WORD_DIM, generator=gen) if config.word_encoder else None
        batch.text_present = torch.ones(b, dtype=torch.bool)
    if visual:
        batch.mouths = torch.rand(b, t, 3, 48, 96, generator=gen)
        batch.visual_present = torch.ones(b, dtype=torch.bool)
    return batch


def test_audio_features_land_on_the_frame_times():
    # wav2vec frame i shows 0.02 i + 0.0125 s: model frame k at 30 fps sits between them
    positions = frame_positions(4, 30)
    np.testing.assert_allclose(positions.numpy(), (np.arange(4) / 30 - 0.0125) / 0.02, atol=1e-6)
    ramp = torch.arange(50, dtype=torch.float32)[None, :, None]  # feature = its wav2vec index
    out = resample_frames(ramp, 30, 30)
    np.testing.assert_allclose(out[0, 1:, 0].numpy(), frame_positions(30, 30)[1:].numpy(), atol=1e-5)
    assert out[0, 0, 0] == 0  # clamped before the first wav2vec frame


def test_shapes_and_range():
    config = tiny_config()
    model = PMMTalk(config).eval()
    batch = make_batch(config)
    with torch.no_grad():
        out = model(batch)
    assert out.coeffs.shape == (2, num_frames_for(1.0, FPS), 32)
    assert float(out.coeffs.min()) >= 0 and float(out.coeffs.max()) <= 1
    assert set(out.losses) >= {"position", "motion", "temporal", "semantic", "total"}


def test_gradients_reach_every_branch_and_the_alignment_losses():
    config = tiny_config(modality_dropout=0.0, visual=True)
    model = PMMTalk(config).train()
    batch = make_batch(config, visual=True)
    out = model(batch)
    assert float(out.losses["temporal"].detach()) > 0 and float(out.losses["semantic"].detach()) > 0
    out.losses["total"].backward()
    for branch in (model.audio.project, model.audio.wav2vec.encoder, model.text, model.visual, model.fusion,
                   model.decoder, model.alignment):
        grads = [p.grad for p in branch.parameters() if p.requires_grad]
        assert grads and all(g is not None for g in grads), type(branch).__name__
        assert sum(float(g.abs().sum()) for g in grads) > 0
    # the alignment losses alone reach the text branch
    model.zero_grad()
    out = model(batch)
    (out.losses["temporal"] + out.losses["semantic"]).backward()
    for branch in (model.text, model.visual):
        assert sum(float(p.grad.abs().sum()) for p in branch.parameters() if p.grad is not None) > 0


def test_modality_dropout_and_missing_text():
    config = tiny_config(modality_dropout=1.0)
    model = PMMTalk(config).train()
    features, present = model.encode(make_batch(config))
    assert not present["text"].any() and present["audio"].all()
    model.eval()
    with torch.no_grad():
        out = model(make_batch(config, text=False))  # text not recognised yet: still animates
    assert out.coeffs.shape[0] == 2


def test_checkpoint_round_trip_gives_identical_outputs(tmp_path):
    config = tiny_config()
    model = PMMTalk(config).eval()
    save_config(tmp_path, config, {"steps": 1})
    save_weights(model, tmp_path)
    loaded = load_run(tmp_path)
    batch = make_batch(config)
    with torch.no_grad():
        torch.testing.assert_close(model(batch).coeffs, loaded(batch).coeffs, rtol=0, atol=0)
    assert not list(tmp_path.glob("*.pt")) and not list(tmp_path.glob("*.pkl"))


def test_bad_checkpoints_are_one_line(tmp_path):
    with pytest.raises(CheckpointError, match="no such file"):
        load_run(tmp_path)
    save_config(tmp_path, tiny_config())
    (tmp_path / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(CheckpointError, match="not a safetensors file"):
        load_run(tmp_path)
    with pytest.raises(AudioEncoderError, match="not found locally and no network"):
        PMMTalk(tiny_config(audio_checkpoint="nosuch-org/nosuch-wav2vec2"))


def test_a_run_from_a_pretrained_encoder_loads_without_it(tmp_path):
    """Training records the pretrained wav2vec 2.0's shape; the run then needs neither it nor a network."""
    import shutil

    from transformers import Wav2Vec2Config, Wav2Vec2Model

    Wav2Vec2Model(Wav2Vec2Config(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64,
                                 conv_dim=(32,) * 7)).save_pretrained(tmp_path / "wav2vec")
    config = tiny_config(audio_checkpoint=str(tmp_path / "wav2vec"), text=False)
    model = PMMTalk(config).eval()
    config.audio_architecture = model.audio.wav2vec.config.to_dict()
    save_config(tmp_path / "run", config)
    save_weights(model, tmp_path / "run")
    shutil.rmtree(tmp_path / "wav2vec")
    batch = make_batch(config, text=False)
    with torch.no_grad():
        torch.testing.assert_close(load_run(tmp_path / "run")(batch).coeffs, model(batch).coeffs, rtol=0, atol=0)
