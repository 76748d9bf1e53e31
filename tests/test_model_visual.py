"""The pseudo-visual branch: Wav2Lip's exact layout and checkpoint format, its mel front end, the
reference face, and the mouth encoder the model trains."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from pmmtalk_live.errors import PmmtalkError
from pmmtalk_live.model.config import ModelConfig, tiny_config
from pmmtalk_live.model.encoders import mel
from pmmtalk_live.model.encoders.face import ReferenceFaceError, default_face, load_reference_face
from pmmtalk_live.model.encoders.visual import (MouthEncoder, PseudoVisual, VisualBranchError, VisualEncoder, Wav2Lip,
                                                Wav2LipCheckpoint, load_wav2lip, make_pseudo_visual,
                                                mouths_to_tensor, visual_branch_status)

SR = 16_000


# --- the generator and its checkpoints -------------------------------------------------------------------

def test_generator_layout_is_the_public_wav2lip_layout():
    generator = Wav2Lip()
    assert {key: tuple(value.shape) for key, value in generator.state_dict().items()} == PUBLIC_WAV2LIP_LAYOUT
    assert list(generator.state_dict()) == list(PUBLIC_WAV2LIP_LAYOUT)
    assert sum(p.numel() for p in generator.parameters()) == 36_298_035


@pytest.fixture(scope="module")
def public_checkpoint(tmp_path_factory) -> tuple[Path, dict]:
    """A checkpoint in the public files' format: DataParallel keys inside ``state_dict``, plus training state."""
    torch.manual_seed(0)
    wrapper = Wav2LipCheckpoint()
    state = wrapper.state_dict()
    for key, value in state.items():  # stats a fresh module would not have, so loading is visible
        if key.endswith("running_mean"):
            value.normal_(0.0, 0.1)
        elif key.endswith("running_var"):
            value.uniform_(0.5, 1.5)
        elif key.endswith("num_batches_tracked"):
            value.fill_(123)
    path = tmp_path_factory.mktemp("wav2lip") / "wav2lip_gan.pth"
    optimizer = torch.optim.Adam(wrapper.parameters(), lr=1e-4)
    # the public files predate PyTorch 1.6: the legacy (non-zip) serialisation
    torch.save({"state_dict": state, "optimizer": optimizer.state_dict(), "global_step": 250_000,
                "global_epoch": 80}, path, _use_new_zipfile_serialization=False)
    return path, state


def test_public_format_checkpoint_loads_strictly_and_generates_faces(public_checkpoint):
    path, state = public_checkpoint
    assert next(iter(state)) == "module.face_encoder_blocks.0.0.conv_block.0.weight"
    generator = load_wav2lip(path)
    loaded = generator.state_dict()
    for key in ("audio_encoder.3.conv_block.1.running_mean", "face_decoder_blocks.1.0.conv_block.0.weight",
                "output_block.1.bias", "face_encoder_blocks.6.1.conv_block.1.num_batches_tracked"):
        assert torch.equal(loaded[key], state["module." + key])
    assert not generator.training and not any(p.requires_grad for p in generator.parameters())

    with torch.no_grad():
        faces = generator(torch.randn(2, 1, 80, 16), torch.rand(2, 6, 96, 96))
        timed = generator(torch.randn(1, 1, 1, 80, 16), torch.rand(1, 6, 1, 96, 96))
    assert faces.shape == (2, 3, 96, 96) and timed.shape == (1, 3, 1, 96, 96)
    assert 0.0 <= faces.min() and faces.max() <= 1.0


def test_generated_mouths_follow_the_frame_count_and_feed_the_batch(public_checkpoint):
    path, _ = public_checkpoint
    pseudo = make_pseudo_visual(ModelConfig(visual=True, wav2lip_checkpoint=str(path)))
    assert isinstance(pseudo, PseudoVisual)
    pseudo.frames_per_batch = 2  # more frames than one batch
    samples = (0.3 * np.sin(2 * np.pi * 220 * np.arange(SR // 5) / SR)).astype(np.float32)
    mouths = pseudo.generate_mouths(samples, fps=30, num_frames=3)
    assert mouths.shape == (3, 48, 96, 3) and mouths.dtype == np.uint8
    tensor = mouths_to_tensor(mouths[None])
    assert tensor.shape == (1, 3, 3, 48, 96) and tensor.dtype == torch.float32
    assert torch.equal(tensor[0, 2, 1], torch.from_numpy(mouths[2, :, :, 1]).float() / 255)
    assert visual_branch_status(ModelConfig(visual=True, wav2lip_checkpoint=str(path))).startswith(
        "visual branch on: Wav2Lip wav2lip_gan.pth")


class _Trap:
    def __reduce__(self):
        return (_touch, (str(_Trap.marker),))


def _touch(path: str) -> None:
    Path(path).write_text("code ran while loading")


def test_checkpoint_with_python_objects_is_refused_without_running_them(tmp_path):
    _Trap.marker = tmp_path / "ran"
    path = tmp_path / "wav2lip.pth"
    torch.save({"state_dict": {"module.output_block.1.bias": torch.zeros(3)}, "hook": _Trap()}, path)
    with pytest.raises(VisualBranchError, match="refused: the file holds Python objects .*_touch"):
        load_wav2lip(path)
    assert not _Trap.marker.exists()


def test_wrong_checkpoints_say_what_is_wrong_in_one_line(tmp_path):
    with pytest.raises(VisualBranchError, match="Wav2Lip checkpoint not found: .*missing.pth"):
        load_wav2lip(tmp_path / "missing.pth")

    text = tmp_path / "notes.pth"
    text.write_text("not weights")
    with pytest.raises(VisualBranchError, match="not a PyTorch checkpoint"):
        load_wav2lip(text)
    text.write_text("<!DOCTYPE html><html><head><title>Sign in</title></head></html>")
    with pytest.raises(VisualBranchError, match="not a PyTorch checkpoint: it is a web page"):
        load_wav2lip(text)

    syncnet = tmp_path / "lipsync_expert.pth"
    torch.save({"state_dict": {"module.face_encoder.0.conv_block.0.weight": torch.zeros(32, 15, 7, 7)}}, syncnet)
    with pytest.raises(VisualBranchError) as error:
        load_wav2lip(syncnet)
    message = str(error.value)
    assert "\n" not in message and isinstance(error.value, PmmtalkError)
    assert "352 missing keys (e.g. module.audio_encoder.0.conv_block.0.bias" in message
    assert "1 unexpected keys (e.g. module.face_encoder.0.conv_block.0.weight)" in message


def test_branch_is_off_without_a_checkpoint():
    assert make_pseudo_visual(ModelConfig(visual=True)) is None
    assert make_pseudo_visual(ModelConfig(visual=False, wav2lip_checkpoint="wav2lip.pth")) is None
    assert visual_branch_status(ModelConfig(visual=True)) == \
        "visual branch off: no Wav2Lip checkpoint given (--wav2lip PATH)"
    assert visual_branch_status(ModelConfig()).startswith("visual branch off")


# --- mel front end ---------------------------------------------------------------------------------------------

def _slaney_mel(hz: float) -> float:
    return hz / (200 / 3) if hz < 1000 else 15 + math.log(hz / 1000) / (math.log(6.4) / 27)


def test_mel_windows_hear_a_tone_in_its_band_from_the_frames_time():
    onset_s = 1.0
    t = np.arange(2 * SR) / SR
    tone = np.where(t >= onset_s, 0.5 * np.sin(2 * np.pi * 1000 * t), 0.0).astype(np.float32)
    assert mel.melspectrogram(tone).shape == (80, 2 * SR // 200 + 1)

    windows = mel.mel_windows(tone, fps=30, num_frames=61)
    assert windows.shape == (61, 1, 80, 16) and windows.dtype == np.float32

    # the band whose centre is nearest 1 kHz (80 Slaney bands between 55 and 7600 Hz)
    step = (_slaney_mel(7600) - _slaney_mel(55)) / 81
    band = round((_slaney_mel(1000) - _slaney_mel(55)) / step) - 1
    loud = windows[45, 0].mean(axis=1)
    assert abs(int(np.argmax(loud)) - band) <= 1 and loud[band] > 0

    # frame 29 (0.967 s) starts at mel column 77 (0.9625 s): silence first, the tone from column 80 on
    frame = windows[29, 0, band]
    assert np.all(frame[:2] == -4.0) and np.all(frame[5:] > 0)
    # the last frames run past the end: padded with silence
    assert np.all(windows[60, 0, :, -1] == -4.0)
    assert np.all(mel.mel_windows(np.zeros(SR, np.float32), 30, 31) == -4.0)
    assert mel.mel_windows(tone, 30, 0).shape == (0, 1, 80, 16)


def test_mel_filters_are_librosas():
    # librosa.filters.mel(sr=16000, n_fft=800, n_mels=80, fmin=55, fmax=7600), as Wav2Lip builds them
    basis = mel.mel_basis()
    assert basis.shape == (80, 401)
    assert np.flatnonzero(basis[0]).tolist() == [3, 4, 5, 6]
    np.testing.assert_allclose(basis[0, 3:7], [0.00386959, 0.019348, 0.0208124, 0.00533408], rtol=1e-4)
    assert np.flatnonzero(basis[40]).tolist() == [84, 85, 86, 87, 88, 89]
    np.testing.assert_allclose(basis[40, 84:90], [0.00438311, 0.00936313, 0.0143432, 0.0120768, 0.00727805,
                                                  0.00247926], rtol=1e-4)
    assert np.flatnonzero(basis[79]).tolist() == list(range(353, 380))


# --- the reference face ------------------------------------------------------------------------------------------

def test_default_face_is_drawn_the_same_every_time_and_looks_like_a_face():
    face = default_face()
    assert face.shape == (96, 96, 3) and face.dtype == np.uint8
    assert np.array_equal(face, default_face())
    grey = face.astype(float).mean(axis=2)
    eyes, cheeks = grey[29:38, 21:39].mean(), grey[44:60, 12:28].mean()
    assert eyes < cheeks - 20
    red_excess = face[..., 0].astype(float) - face[..., 1]
    assert red_excess[70:77, 40:56].mean() > red_excess[44:60, 12:28].mean() + 20  # lips redder than skin
    assert np.abs(grey - grey[:, ::-1]).mean() < 8  # frontal: near mirror-symmetric


def test_reference_face_is_cropped_square_and_resized(tmp_path):
    from PIL import Image

    face = Image.fromarray(default_face()).resize((150, 150), Image.LANCZOS)
    photo = Image.new("RGB", (260, 150), (10, 200, 10))
    photo.paste(face, (55, 0))
    path = tmp_path / "me.png"
    photo.save(path)
    loaded = load_reference_face(path)
    assert loaded.shape == (96, 96, 3) and loaded.dtype == np.uint8
    assert np.abs(loaded.astype(int) - default_face()).mean() < 6

    with pytest.raises(ReferenceFaceError, match="reference face image not found"):
        load_reference_face(tmp_path / "nobody.jpg")
    (tmp_path / "me.jpg").write_bytes(b"not an image")
    with pytest.raises(ReferenceFaceError, match="not a readable image"):
        load_reference_face(tmp_path / "me.jpg")


# --- mouths -> features -------------------------------------------------------------------------------------------

def test_mouth_and_visual_encoders_shapes_and_gradients():
    config = tiny_config(visual=True)
    assert MouthEncoder(config.visual_dim)(torch.rand(7, 3, 48, 96)).shape == (7, config.visual_dim)

    encoder = VisualEncoder(config)
    mouths = torch.rand(2, 5, 3, 48, 96, requires_grad=True)
    frame_mask = torch.tensor([[True] * 5, [True, True, True, False, False]])
    features = encoder(mouths, frame_mask)
    assert features.shape == (2, 5, config.visual_dim)
    assert torch.all(features[1, 3:] == 0)
    features.pow(2).sum().backward()
    assert all(p.grad is not None and p.grad.abs().sum() > 0 for p in encoder.parameters())
    assert mouths.grad[0].abs().sum() > 0 and torch.all(mouths.grad[1, 3:] == 0)


# --- the public Wav2Lip generator's state dict (Rudrabha/Wav2Lip models/wav2lip.py, models/conv.py) ------------

PUBLIC_WAV2LIP_LAYOUT = {
    "face_encoder_blocks.0.0.conv_block.0.weight": (16, 6, 7, 7),
    "face_encoder_blocks.0.0.conv_block.0.bias": (16,),
    "face_encoder_blocks.0.0.conv_block.1.weight": (16,),
    "face_encoder_blocks.0.0.conv_block.1.bias": (16,),
    "face_encoder_blocks.0.0.conv_block.1.running_mean": (16,),
    "face_encoder_blocks.0.0.conv_block.1.running_var": (16,),
    "face_encoder_blocks.0.0.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.1.0.conv_block.0.weight": (32, 16, 3, 3),
    "face_encoder_blocks.1.0.conv_block.0.bias": (32,),
    "face_encoder_blocks.1.0.conv_block.1.weight": (32,),
    "face_encoder_blocks.1.0.conv_block.1.bias": (32,),
    "face_encoder_blocks.1.0.conv_block.1.running_mean": (32,),
    "face_encoder_blocks.1.0.conv_block.1.running_var": (32,),
    "face_encoder_blocks.1.0.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.1.1.conv_block.0.weight": (32, 32, 3, 3),
    "face_encoder_blocks.1.1.conv_block.0.bias": (32,),
    "face_encoder_blocks.1.1.conv_block.1.weight": (32,),
    "face_encoder_blocks.1.1.conv_block.1.bias": (32,),
    "face_encoder_blocks.1.1.conv_block.1.running_mean": (32,),
    "face_encoder_blocks.1.1.conv_block.1.running_var": (32,),
    "face_encoder_blocks.1.1.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.1.2.conv_block.0.weight": (32, 32, 3, 3),
    "face_encoder_blocks.1.2.conv_block.0.bias": (32,),
    "face_encoder_blocks.1.2.conv_block.1.weight": (32,),
    "face_encoder_blocks.1.2.conv_block.1.bias": (32,),
    "face_encoder_blocks.1.2.conv_block.1.running_mean": (32,),
    "face_encoder_blocks.1.2.conv_block.1.running_var": (32,),
    "face_encoder_blocks.1.2.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.2.0.conv_block.0.weight": (64, 32, 3, 3),
    "face_encoder_blocks.2.0.conv_block.0.bias": (64,),
    "face_encoder_blocks.2.0.conv_block.1.weight": (64,),
    "face_encoder_blocks.2.0.conv_block.1.bias": (64,),
    "face_encoder_blocks.2.0.conv_block.1.running_mean": (64,),
    "face_encoder_blocks.2.0.conv_block.1.running_var": (64,),
    "face_encoder_blocks.2.0.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.2.1.conv_block.0.weight": (64, 64, 3, 3),
    "face_encoder_blocks.2.1.conv_block.0.bias": (64,),
    "face_encoder_blocks.2.1.conv_block.1.weight": (64,),
    "face_encoder_blocks.2.1.conv_block.1.bias": (64,),
    "face_encoder_blocks.2.1.conv_block.1.running_mean": (64,),
    "face_encoder_blocks.2.1.conv_block.1.running_var": (64,),
    "face_encoder_blocks.2.1.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.2.2.conv_block.0.weight": (64, 64, 3, 3),
    "face_encoder_blocks.2.2.conv_block.0.bias": (64,),
    "face_encoder_blocks.2.2.conv_block.1.weight": (64,),
    "face_encoder_blocks.2.2.conv_block.1.bias": (64,),
    "face_encoder_blocks.2.2.conv_block.1.running_mean": (64,),
    "face_encoder_blocks.2.2.conv_block.1.running_var": (64,),
    "face_encoder_blocks.2.2.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.2.3.conv_block.0.weight": (64, 64, 3, 3),
    "face_encoder_blocks.2.3.conv_block.0.bias": (64,),
    "face_encoder_blocks.2.3.conv_block.1.weight": (64,),
    "face_encoder_blocks.2.3.conv_block.1.bias": (64,),
    "face_encoder_blocks.2.3.conv_block.1.running_mean": (64,),
    "face_encoder_blocks.2.3.conv_block.1.running_var": (64,),
    "face_encoder_blocks.2.3.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.3.0.conv_block.0.weight": (128, 64, 3, 3),
    "face_encoder_blocks.3.0.conv_block.0.bias": (128,),
    "face_encoder_blocks.3.0.conv_block.1.weight": (128,),
    "face_encoder_blocks.3.0.conv_block.1.bias": (128,),
    "face_encoder_blocks.3.0.conv_block.1.running_mean": (128,),
    "face_encoder_blocks.3.0.conv_block.1.running_var": (128,),
    "face_encoder_blocks.3.0.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.3.1.conv_block.0.weight": (128, 128, 3, 3),
    "face_encoder_blocks.3.1.conv_block.0.bias": (128,),
    "face_encoder_blocks.3.1.conv_block.1.weight": (128,),
    "face_encoder_blocks.3.1.conv_block.1.bias": (128,),
    "face_encoder_blocks.3.1.conv_block.1.running_mean": (128,),
    "face_encoder_blocks.3.1.conv_block.1.running_var": (128,),
    "face_encoder_blocks.3.1.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.3.2.conv_block.0.weight": (128, 128, 3, 3),
    "face_encoder_blocks.3.2.conv_block.0.bias": (128,),
    "face_encoder_blocks.3.2.conv_block.1.weight": (128,),
    "face_encoder_blocks.3.2.conv_block.1.bias": (128,),
    "face_encoder_blocks.3.2.conv_block.1.running_mean": (128,),
    "face_encoder_blocks.3.2.conv_block.1.running_var": (128,),
    "face_encoder_blocks.3.2.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.4.0.conv_block.0.weight": (256, 128, 3, 3),
    "face_encoder_blocks.4.0.conv_block.0.bias": (256,),
    "face_encoder_blocks.4.0.conv_block.1.weight": (256,),
    "face_encoder_blocks.4.0.conv_block.1.bias": (256,),
    "face_encoder_blocks.4.0.conv_block.1.running_mean": (256,),
    "face_encoder_blocks.4.0.conv_block.1.running_var": (256,),
    "face_encoder_blocks.4.0.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.4.1.conv_block.0.weight": (256, 256, 3, 3),
    "face_encoder_blocks.4.1.conv_block.0.bias": (256,),
    "face_encoder_blocks.4.1.conv_block.1.weight": (256,),
    "face_encoder_blocks.4.1.conv_block.1.bias": (256,),
    "face_encoder_blocks.4.1.conv_block.1.running_mean": (256,),
    "face_encoder_blocks.4.1.conv_block.1.running_var": (256,),
    "face_encoder_blocks.4.1.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.4.2.conv_block.0.weight": (256, 256, 3, 3),
    "face_encoder_blocks.4.2.conv_block.0.bias": (256,),
    "face_encoder_blocks.4.2.conv_block.1.weight": (256,),
    "face_encoder_blocks.4.2.conv_block.1.bias": (256,),
    "face_encoder_blocks.4.2.conv_block.1.running_mean": (256,),
    "face_encoder_blocks.4.2.conv_block.1.running_var": (256,),
    "face_encoder_blocks.4.2.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.5.0.conv_block.0.weight": (512, 256, 3, 3),
    "face_encoder_blocks.5.0.conv_block.0.bias": (512,),
    "face_encoder_blocks.5.0.conv_block.1.weight": (512,),
    "face_encoder_blocks.5.0.conv_block.1.bias": (512,),
    "face_encoder_blocks.5.0.conv_block.1.running_mean": (512,),
    "face_encoder_blocks.5.0.conv_block.1.running_var": (512,),
    "face_encoder_blocks.5.0.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.5.1.conv_block.0.weight": (512, 512, 3, 3),
    "face_encoder_blocks.5.1.conv_block.0.bias": (512,),
    "face_encoder_blocks.5.1.conv_block.1.weight": (512,),
    "face_encoder_blocks.5.1.conv_block.1.bias": (512,),
    "face_encoder_blocks.5.1.conv_block.1.running_mean": (512,),
    "face_encoder_blocks.5.1.conv_block.1.running_var": (512,),
    "face_encoder_blocks.5.1.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.6.0.conv_block.0.weight": (512, 512, 3, 3),
    "face_encoder_blocks.6.0.conv_block.0.bias": (512,),
    "face_encoder_blocks.6.0.conv_block.1.weight": (512,),
    "face_encoder_blocks.6.0.conv_block.1.bias": (512,),
    "face_encoder_blocks.6.0.conv_block.1.running_mean": (512,),
    "face_encoder_blocks.6.0.conv_block.1.running_var": (512,),
    "face_encoder_blocks.6.0.conv_block.1.num_batches_tracked": (),
    "face_encoder_blocks.6.1.conv_block.0.weight": (512, 512, 1, 1),
    "face_encoder_blocks.6.1.conv_block.0.bias": (512,),
    "face_encoder_blocks.6.1.conv_block.1.weight": (512,),
    "face_encoder_blocks.6.1.conv_block.1.bias": (512,),
    "face_encoder_blocks.6.1.conv_block.1.running_mean": (512,),
    "face_encoder_blocks.6.1.conv_block.1.running_var": (512,),
    "face_encoder_blocks.6.1.conv_block.1.num_batches_tracked": (),
    "audio_encoder.0.conv_block.0.weight": (32, 1, 3, 3),
    "audio_encoder.0.conv_block.0.bias": (32,),
    "audio_encoder.0.conv_block.1.weight": (32,),
    "audio_encoder.0.conv_block.1.bias": (32,),
    "audio_encoder.0.conv_block.1.running_mean": (32,),
    "audio_encoder.0.conv_block.1.running_var": (32,),
    "audio_encoder.0.conv_block.1.num_batches_tracked": (),
    "audio_encoder.1.conv_block.0.weight": (32, 32, 3, 3),
    "audio_encoder.1.conv_block.0.bias": (32,),
    "audio_encoder.1.conv_block.1.weight": (32,),
    "audio_encoder.1.conv_block.1.bias": (32,),
    "audio_encoder.1.conv_block.1.running_mean": (32,),
    "audio_encoder.1.conv_block.1.running_var": (32,),
    "audio_encoder.1.conv_block.1.num_batches_tracked": (),
    "audio_encoder.2.conv_block.0.weight": (32, 32, 3, 3),
    "audio_encoder.2.conv_block.0.bias": (32,),
    "audio_encoder.2.conv_block.1.weight": (32,),
    "audio_encoder.2.conv_block.1.bias": (32,),
    "audio_encoder.2.conv_block.1.running_mean": (32,),
    "audio_encoder.2.conv_block.1.running_var": (32,),
    "audio_encoder.2.conv_block.1.num_batches_tracked": (),
    "audio_encoder.3.conv_block.0.weight": (64, 32, 3, 3),
    "audio_encoder.3.conv_block.0.bias": (64,),
    "audio_encoder.3.conv_block.1.weight": (64,),
    "audio_encoder.3.conv_block.1.bias": (64,),
    "audio_encoder.3.conv_block.1.running_mean": (64,),
    "audio_encoder.3.conv_block.1.running_var": (64,),
    "audio_encoder.3.conv_block.1.num_batches_tracked": (),
    "audio_encoder.4.conv_block.0.weight": (64, 64, 3, 3),
    "audio_encoder.4.conv_block.0.bias": (64,),
    "audio_encoder.4.conv_block.1.weight": (64,),
    "audio_encoder.4.conv_block.1.bias": (64,),
    "audio_encoder.4.conv_block.1.running_mean": (64,),
    "audio_encoder.4.conv_block.1.running_var": (64,),
    "audio_encoder.4.conv_block.1.num_batches_tracked": (),
    "audio_encoder.5.conv_block.0.weight": (64, 64, 3, 3),
    "audio_encoder.5.conv_block.0.bias": (64,),
    "audio_encoder.5.conv_block.1.weight": (64,),
    "audio_encoder.5.conv_block.1.bias": (64,),
    "audio_encoder.5.conv_block.1.running_mean": (64,),
    "audio_encoder.5.conv_block.1.running_var": (64,),
    "audio_encoder.5.conv_block.1.num_batches_tracked": (),
    "audio_encoder.6.conv_block.0.weight": (128, 64, 3, 3),
    "audio_encoder.6.conv_block.0.bias": (128,),
    "audio_encoder.6.conv_block.1.weight": (128,),
    "audio_encoder.6.conv_block.1.bias": (128,),
    "audio_encoder.6.conv_block.1.running_mean": (128,),
    "audio_encoder.6.conv_block.1.running_var": (128,),
    "audio_encoder.6.conv_block.1.num_batches_tracked": (),
    "audio_encoder.7.conv_block.0.weight": (128, 128, 3, 3),
    "audio_encoder.7.conv_block.0.bias": (128,),
    "audio_encoder.7.conv_block.1.weight": (128,),
    "audio_encoder.7.conv_block.1.bias": (128,),
    "audio_encoder.7.conv_block.1.running_mean": (128,),
    "audio_encoder.7.conv_block.1.running_var": (128,),
    "audio_encoder.7.conv_block.1.num_batches_tracked": (),
    "audio_encoder.8.conv_block.0.weight": (128, 128, 3, 3),
    "audio_encoder.8.conv_block.0.bias": (128,),
    "audio_encoder.8.conv_block.1.weight": (128,),
    "audio_encoder.8.conv_block.1.bias": (128,),
    "audio_encoder.8.conv_block.1.running_mean": (128,),
    "audio_encoder.8.conv_block.1.running_var": (128,),
    "audio_encoder.8.conv_block.1.num_batches_tracked": (),
    "audio_encoder.9.conv_block.0.weight": (256, 128, 3, 3),
    "audio_encoder.9.conv_block.0.bias": (256,),
    "audio_encoder.9.conv_block.1.weight": (256,),
    "audio_encoder.9.conv_block.1.bias": (256,),
    "audio_encoder.9.conv_block.1.running_mean": (256,),
    "audio_encoder.9.conv_block.1.running_var": (256,),
    "audio_encoder.9.conv_block.1.num_batches_tracked": (),
    "audio_encoder.10.conv_block.0.weight": (256, 256, 3, 3),
    "audio_encoder.10.conv_block.0.bias": (256,),
    "audio_encoder.10.conv_block.1.weight": (256,),
    "audio_encoder.10.conv_block.1.bias": (256,),
    "audio_encoder.10.conv_block.1.running_mean": (256,),
    "audio_encoder.10.conv_block.1.running_var": (256,),
    "audio_encoder.10.conv_block.1.num_batches_tracked": (),
    "audio_encoder.11.conv_block.0.weight": (512, 256, 3, 3),
    "audio_encoder.11.conv_block.0.bias": (512,),
    "audio_encoder.11.conv_block.1.weight": (512,),
    "audio_encoder.11.conv_block.1.bias": (512,),
    "audio_encoder.11.conv_block.1.running_mean": (512,),
    "audio_encoder.11.conv_block.1.running_var": (512,),
    "audio_encoder.11.conv_block.1.num_batches_tracked": (),
    "audio_encoder.12.conv_block.0.weight": (512, 512, 1, 1),
    "audio_encoder.12.conv_block.0.bias": (512,),
    "audio_encoder.12.conv_block.1.weight": (512,),
    "audio_encoder.12.conv_block.1.bias": (512,),
    "audio_encoder.12.conv_block.1.running_mean": (512,),
    "audio_encoder.12.conv_block.1.running_var": (512,),
    "audio_encoder.12.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.0.0.conv_block.0.weight": (512, 512, 1, 1),
    "face_decoder_blocks.0.0.conv_block.0.bias": (512,),
    "face_decoder_blocks.0.0.conv_block.1.weight": (512,),
    "face_decoder_blocks.0.0.conv_block.1.bias": (512,),
    "face_decoder_blocks.0.0.conv_block.1.running_mean": (512,),
    "face_decoder_blocks.0.0.conv_block.1.running_var": (512,),
    "face_decoder_blocks.0.0.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.1.0.conv_block.0.weight": (1024, 512, 3, 3),
    "face_decoder_blocks.1.0.conv_block.0.bias": (512,),
    "face_decoder_blocks.1.0.conv_block.1.weight": (512,),
    "face_decoder_blocks.1.0.conv_block.1.bias": (512,),
    "face_decoder_blocks.1.0.conv_block.1.running_mean": (512,),
    "face_decoder_blocks.1.0.conv_block.1.running_var": (512,),
    "face_decoder_blocks.1.0.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.1.1.conv_block.0.weight": (512, 512, 3, 3),
    "face_decoder_blocks.1.1.conv_block.0.bias": (512,),
    "face_decoder_blocks.1.1.conv_block.1.weight": (512,),
    "face_decoder_blocks.1.1.conv_block.1.bias": (512,),
    "face_decoder_blocks.1.1.conv_block.1.running_mean": (512,),
    "face_decoder_blocks.1.1.conv_block.1.running_var": (512,),
    "face_decoder_blocks.1.1.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.2.0.conv_block.0.weight": (1024, 512, 3, 3),
    "face_decoder_blocks.2.0.conv_block.0.bias": (512,),
    "face_decoder_blocks.2.0.conv_block.1.weight": (512,),
    "face_decoder_blocks.2.0.conv_block.1.bias": (512,),
    "face_decoder_blocks.2.0.conv_block.1.running_mean": (512,),
    "face_decoder_blocks.2.0.conv_block.1.running_var": (512,),
    "face_decoder_blocks.2.0.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.2.1.conv_block.0.weight": (512, 512, 3, 3),
    "face_decoder_blocks.2.1.conv_block.0.bias": (512,),
    "face_decoder_blocks.2.1.conv_block.1.weight": (512,),
    "face_decoder_blocks.2.1.conv_block.1.bias": (512,),
    "face_decoder_blocks.2.1.conv_block.1.running_mean": (512,),
    "face_decoder_blocks.2.1.conv_block.1.running_var": (512,),
    "face_decoder_blocks.2.1.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.2.2.conv_block.0.weight": (512, 512, 3, 3),
    "face_decoder_blocks.2.2.conv_block.0.bias": (512,),
    "face_decoder_blocks.2.2.conv_block.1.weight": (512,),
    "face_decoder_blocks.2.2.conv_block.1.bias": (512,),
    "face_decoder_blocks.2.2.conv_block.1.running_mean": (512,),
    "face_decoder_blocks.2.2.conv_block.1.running_var": (512,),
    "face_decoder_blocks.2.2.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.3.0.conv_block.0.weight": (768, 384, 3, 3),
    "face_decoder_blocks.3.0.conv_block.0.bias": (384,),
    "face_decoder_blocks.3.0.conv_block.1.weight": (384,),
    "face_decoder_blocks.3.0.conv_block.1.bias": (384,),
    "face_decoder_blocks.3.0.conv_block.1.running_mean": (384,),
    "face_decoder_blocks.3.0.conv_block.1.running_var": (384,),
    "face_decoder_blocks.3.0.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.3.1.conv_block.0.weight": (384, 384, 3, 3),
    "face_decoder_blocks.3.1.conv_block.0.bias": (384,),
    "face_decoder_blocks.3.1.conv_block.1.weight": (384,),
    "face_decoder_blocks.3.1.conv_block.1.bias": (384,),
    "face_decoder_blocks.3.1.conv_block.1.running_mean": (384,),
    "face_decoder_blocks.3.1.conv_block.1.running_var": (384,),
    "face_decoder_blocks.3.1.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.3.2.conv_block.0.weight": (384, 384, 3, 3),
    "face_decoder_blocks.3.2.conv_block.0.bias": (384,),
    "face_decoder_blocks.3.2.conv_block.1.weight": (384,),
    "face_decoder_blocks.3.2.conv_block.1.bias": (384,),
    "face_decoder_blocks.3.2.conv_block.1.running_mean": (384,),
    "face_decoder_blocks.3.2.conv_block.1.running_var": (384,),
    "face_decoder_blocks.3.2.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.4.0.conv_block.0.weight": (512, 256, 3, 3),
    "face_decoder_blocks.4.0.conv_block.0.bias": (256,),
    "face_decoder_blocks.4.0.conv_block.1.weight": (256,),
    "face_decoder_blocks.4.0.conv_block.1.bias": (256,),
    "face_decoder_blocks.4.0.conv_block.1.running_mean": (256,),
    "face_decoder_blocks.4.0.conv_block.1.running_var": (256,),
    "face_decoder_blocks.4.0.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.4.1.conv_block.0.weight": (256, 256, 3, 3),
    "face_decoder_blocks.4.1.conv_block.0.bias": (256,),
    "face_decoder_blocks.4.1.conv_block.1.weight": (256,),
    "face_decoder_blocks.4.1.conv_block.1.bias": (256,),
    "face_decoder_blocks.4.1.conv_block.1.running_mean": (256,),
    "face_decoder_blocks.4.1.conv_block.1.running_var": (256,),
    "face_decoder_blocks.4.1.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.4.2.conv_block.0.weight": (256, 256, 3, 3),
    "face_decoder_blocks.4.2.conv_block.0.bias": (256,),
    "face_decoder_blocks.4.2.conv_block.1.weight": (256,),
    "face_decoder_blocks.4.2.conv_block.1.bias": (256,),
    "face_decoder_blocks.4.2.conv_block.1.running_mean": (256,),
    "face_decoder_blocks.4.2.conv_block.1.running_var": (256,),
    "face_decoder_blocks.4.2.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.5.0.conv_block.0.weight": (320, 128, 3, 3),
    "face_decoder_blocks.5.0.conv_block.0.bias": (128,),
    "face_decoder_blocks.5.0.conv_block.1.weight": (128,),
    "face_decoder_blocks.5.0.conv_block.1.bias": (128,),
    "face_decoder_blocks.5.0.conv_block.1.running_mean": (128,),
    "face_decoder_blocks.5.0.conv_block.1.running_var": (128,),
    "face_decoder_blocks.5.0.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.5.1.conv_block.0.weight": (128, 128, 3, 3),
    "face_decoder_blocks.5.1.conv_block.0.bias": (128,),
    "face_decoder_blocks.5.1.conv_block.1.weight": (128,),
    "face_decoder_blocks.5.1.conv_block.1.bias": (128,),
    "face_decoder_blocks.5.1.conv_block.1.running_mean": (128,),
    "face_decoder_blocks.5.1.conv_block.1.running_var": (128,),
    "face_decoder_blocks.5.1.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.5.2.conv_block.0.weight": (128, 128, 3, 3),
    "face_decoder_blocks.5.2.conv_block.0.bias": (128,),
    "face_decoder_blocks.5.2.conv_block.1.weight": (128,),
    "face_decoder_blocks.5.2.conv_block.1.bias": (128,),
    "face_decoder_blocks.5.2.conv_block.1.running_mean": (128,),
    "face_decoder_blocks.5.2.conv_block.1.running_var": (128,),
    "face_decoder_blocks.5.2.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.6.0.conv_block.0.weight": (160, 64, 3, 3),
    "face_decoder_blocks.6.0.conv_block.0.bias": (64,),
    "face_decoder_blocks.6.0.conv_block.1.weight": (64,),
    "face_decoder_blocks.6.0.conv_block.1.bias": (64,),
    "face_decoder_blocks.6.0.conv_block.1.running_mean": (64,),
    "face_decoder_blocks.6.0.conv_block.1.running_var": (64,),
    "face_decoder_blocks.6.0.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.6.1.conv_block.0.weight": (64, 64, 3, 3),
    "face_decoder_blocks.6.1.conv_block.0.bias": (64,),
    "face_decoder_blocks.6.1.conv_block.1.weight": (64,),
    "face_decoder_blocks.6.1.conv_block.1.bias": (64,),
    "face_decoder_blocks.6.1.conv_block.1.running_mean": (64,),
    "face_decoder_blocks.6.1.conv_block.1.running_var": (64,),
    "face_decoder_blocks.6.1.conv_block.1.num_batches_tracked": (),
    "face_decoder_blocks.6.2.conv_block.0.weight": (64, 64, 3, 3),
    "face_decoder_blocks.6.2.conv_block.0.bias": (64,),
    "face_decoder_blocks.6.2.conv_block.1.weight": (64,),
    "face_decoder_blocks.6.2.conv_block.1.bias": (64,),
    "face_decoder_blocks.6.2.conv_block.1.running_mean": (64,),
    "face_decoder_blocks.6.2.conv_block.1.running_var": (64,),
    "face_decoder_blocks.6.2.conv_block.1.num_batches_tracked": (),
    "output_block.0.conv_block.0.weight": (32, 80, 3, 3),
    "output_block.0.conv_block.0.bias": (32,),
    "output_block.0.conv_block.1.weight": (32,),
    "output_block.0.conv_block.1.bias": (32,),
    "output_block.0.conv_block.1.running_mean": (32,),
    "output_block.0.conv_block.1.running_var": (32,),
    "output_block.0.conv_block.1.num_batches_tracked": (),
    "output_block.1.weight": (3, 32, 1, 1),
    "output_block.1.bias": (3,),
}


def test_the_mel_stream_equals_the_whole_recordings_spectrogram():
    from pmmtalk_live.model.encoders.mel import MelStream, melspectrogram

    rng = np.random.default_rng(0)
    for n in (100, 401, 16_000 + 123):
        samples = (0.3 * rng.standard_normal(n)).astype(np.float32)
        for size in (1 if n < 500 else 37, 3000, n):
            stream, parts = MelStream(), []
            for start in range(0, n, size):
                parts.append(stream.push(samples[start:start + size]))
            parts.append(stream.flush())
            np.testing.assert_array_equal(np.concatenate(parts, axis=1), melspectrogram(samples))
