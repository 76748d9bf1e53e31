"""Training: a tiny model overfits a tiny dataset, a resumed run equals one that never stopped, and two
gloo processes under torchrun train in step (DistributedDataParallel on CPU)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest
import yaml
from safetensors.numpy import load_file

from pmmtalk_live.tracks import Audio, num_frames_for
from pmmtalk_live.dataset import create_dataset, write_utterance
from pmmtalk_live.train.trainer import TrainError, read_train_config, train

from .conftest import REPO

FPS = 30
TINY_MODEL = {"audio_hidden": 32, "audio_layers": 1, "audio_heads": 2, "audio_intermediate": 64,
              "audio_conv_dim": 32, "phone_dim": 8, "word_encoder": None, "text": False, "d_model": 32,
              "decoder_layers": 1, "decoder_heads": 2, "decoder_ff": 64, "dropout": 0.0, "context_frames": 30,
              "audio_chunk_frames": 0}


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Four 0.6 s utterances: noise bursts, and a jaw that opens with them."""
    root = tmp_path_factory.mktemp("data")
    create_dataset(root, fps=FPS)
    rng = np.random.default_rng(0)
    for i in range(4):
        t = np.arange(9600) / 16000
        bursts = (np.sin(2 * np.pi * (2.0 + 0.5 * i) * t) > 0).astype(np.float32)
        audio = (0.3 * bursts * rng.standard_normal(len(t))).astype(np.float32)
        frames = np.arange(num_frames_for(0.6, FPS)) / FPS
        coeffs = np.zeros((len(frames), 32), np.float32)
        coeffs[:, 0] = 0.8 * np.interp(frames, t, bursts)
        write_utterance(root, f"u{i}", Audio(audio), coeffs, FPS, subject="s1" if i % 2 else "s2")
    return root


def config_file(tmp_path, **train_settings):
    settings = {"steps": 20, "batch_size": 4, "lr": 3e-3, "warmup_steps": 5, "val_fraction": 0.25,
                "val_every": 10, "save_every": 10, "max_seconds": 0.6, **train_settings}
    path = tmp_path / "train.yaml"
    path.write_text(yaml.safe_dump({"model": TINY_MODEL, "train": settings}))
    return path


def test_a_tiny_model_overfits_a_tiny_dataset(dataset, tmp_path):
    result = train(dataset, config_file(tmp_path, steps=150, val_every=1000, save_every=1000), tmp_path / "run",
                   show_progress=False)
    history = result["history"]
    assert len(history) == 150
    assert np.mean(history[-10:]) <= np.mean(history[:3]) / 10, (history[:3], history[-10:])
    saved = load_file(str(tmp_path / "run" / "model.safetensors"))
    assert saved and (tmp_path / "run" / "config.yaml").exists()
    assert not list((tmp_path / "run").glob("*.pt"))  # never pickle


def test_resumed_run_equals_an_uninterrupted_one(dataset, tmp_path):
    config = config_file(tmp_path)
    train(dataset, config, tmp_path / "straight", show_progress=False)
    first = train(dataset, config, tmp_path / "resumed", show_progress=False, steps=10)
    assert first["step"] == 10
    second = train(dataset, config, tmp_path / "resumed", show_progress=False)  # picks up at step 10
    assert second["step"] == 20 and len(second["history"]) == 10
    straight = load_file(str(tmp_path / "straight" / "model.safetensors"))
    resumed = load_file(str(tmp_path / "resumed" / "model.safetensors"))
    assert straight.keys() == resumed.keys()
    for name in straight:
        np.testing.assert_allclose(straight[name], resumed[name], atol=1e-6, err_msg=name)


def test_bad_training_config(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("model: {d_modle: 3}\n")
    with pytest.raises(TrainError, match="d_modle"):
        read_train_config(path)
    path.write_text("trian: {}\n")
    with pytest.raises(TrainError, match="unknown sections"):
        read_train_config(path)


def test_two_gloo_processes_train_in_step(dataset, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
         "--master-port", str(port), str(REPO / "tests" / "ddp_train.py"), str(dataset),
         str(config_file(tmp_path)), str(tmp_path / "ddp"), "3"],
        capture_output=True, text=True, timeout=240, cwd=REPO, env=env)
    assert result.returncode == 0, result.stderr[-3000:]
    ranks = [json.loads(path.read_text()) for path in sorted((tmp_path / "ddp").glob("result-rank*.json"))]
    assert sorted(r["rank"] for r in ranks) == [0, 1] and all(r["world"] == 2 and r["step"] == 3 for r in ranks)
    assert ranks[0]["checksum"] == ranks[1]["checksum"]  # the replicas stayed equal
    assert (tmp_path / "ddp" / "model.safetensors").exists()


def test_more_processes_than_a_batch_can_share_is_an_error_not_a_hang(dataset, tmp_path):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
         "--master-port", str(port), str(REPO / "tests" / "ddp_train.py"), str(dataset),
         str(config_file(tmp_path, batch_size=1)), str(tmp_path / "ddp"), "3"],
        capture_output=True, text=True, timeout=120, cwd=REPO, env=env)
    assert result.returncode != 0
    assert "2 training processes need at least 2 training utterances and a batch size of at least 2" in result.stderr


def test_each_torchrun_process_takes_its_local_ranks_gpu(monkeypatch):
    """One rule for where a training process works (features and training alike)."""
    from pmmtalk_live.model.compute import ComputeError
    from pmmtalk_live.train.trainer import process_compute

    monkeypatch.delenv("WORLD_SIZE", raising=False)
    assert process_compute("cuda:1") == "cuda:1" and process_compute("cpu") == "cpu"
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_RANK", "1")
    assert process_compute("cuda") == "cuda:1" and process_compute("cpu") == "cpu"
    with pytest.raises(ComputeError, match="use --compute cuda"):
        process_compute("cuda:0")
