"""The training workflow from the command line: takes -> dataset -> train (text branch on) -> eval."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
import yaml

from .conftest import EXAMPLE_WAV, REPO

CLI = [sys.executable, "-m", "pmmtalk_live.cli"]


def run(*args, cwd):
    result = subprocess.run(CLI + [str(a) for a in args], capture_output=True, text=True, timeout=300, cwd=cwd)
    assert result.returncode == 0, result.stderr[-2000:]
    return result


def test_takes_to_dataset_to_training_to_evaluation(tmp_path):
    # two takes of the example (the phonetic animator stands in for an actor's iPhone)
    for subject in ("ada", "bob"):
        run("animate", EXAMPLE_WAV, "-o", tmp_path / "takes", "--subject", subject, "-q", cwd=tmp_path)
    result = run("dataset", "--takes", tmp_path / "takes", "--out", tmp_path / "data", "--fps", "30", cwd=tmp_path)
    assert "imported 2" in result.stdout.lower() or result.stdout.count("example") >= 2, result.stdout
    config = tmp_path / "cfg.yaml"
    config.write_text(yaml.safe_dump({
        "model": {"audio_hidden": 32, "audio_layers": 1, "audio_heads": 2, "audio_intermediate": 64,
                  "audio_conv_dim": 32, "phone_dim": 8, "word_encoder": None, "text": True,
                  "recognizer": "pocketsphinx", "d_model": 32, "decoder_layers": 1, "decoder_heads": 2,
                  "decoder_ff": 64, "dropout": 0.0, "context_frames": 30, "audio_chunk_frames": 0},
        "train": {"steps": 6, "batch_size": 2, "max_seconds": 2.0, "val_fraction": 0.5, "val_every": 3,
                  "save_every": 3, "warmup_steps": 2}}))
    result = run("train", "--data", tmp_path / "data", "--config", config, "--out", tmp_path / "run", "-q", cwd=tmp_path)
    assert "step 6" in result.stdout
    cached = list((tmp_path / "data" / "cache").glob("*/*.npz"))
    assert len(cached) == 2  # the pseudo-text of both utterances, computed once
    result = run("eval", "--data", tmp_path / "data", "--ckpt", tmp_path / "run", "--out", tmp_path / "eval", "-q",
                 cwd=tmp_path)
    metrics = json.loads((tmp_path / "eval" / "metrics.json").read_text())
    assert metrics["utterances"] == 2 and metrics["lip_max_error"] is not None
    assert (tmp_path / "eval" / "plots.png").stat().st_size > 1000
    assert "bilabial closures" in result.stdout


def test_training_errors_are_one_line(tmp_path):
    result = subprocess.run(CLI + ["train", "--data", str(tmp_path / "nosuch"), "--out", str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=120, cwd=REPO)
    assert result.returncode == 2 and result.stderr.count("\n") == 1 and "error" in result.stderr


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU: the error cannot happen")
@pytest.mark.parametrize("command", [["train", "--data", "data", "--out", "run"], ["eval", "--data", "data", "--ckpt", "default"]])
def test_a_gpu_that_is_not_there_is_a_one_line_error(tmp_path, command):
    result = subprocess.run(CLI + command + ["--compute", "cuda"], capture_output=True, text=True, timeout=120,
                            cwd=tmp_path)
    assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
    assert "--compute cuda: no CUDA GPU here" in result.stderr and "use --compute cpu" in result.stderr


def test_compute_names_a_checked_device(monkeypatch):
    from pmmtalk_live.model.compute import ComputeError, torch_device

    assert torch_device("cpu") == torch.device("cpu")
    with pytest.raises(ComputeError, match="expected cpu, cuda or cuda:N"):
        torch_device("gpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)  # a machine with one GPU
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert torch_device("cuda:0") == torch.device("cuda", 0)
    with pytest.raises(ComputeError, match="this machine has 1 CUDA GPU"):
        torch_device("cuda:1")
