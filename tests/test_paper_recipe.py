"""docs/model.md's paper-size recipe end to end, as a user runs it, with tiny random-initialised
stand-ins for the weights nothing here can download: a take recorded by the daemon -> ``dataset
--takes`` -> ``train`` under ``torchrun`` (two gloo processes) with all three branches (a wav2vec 2.0
folder, the streaming faster-whisper words with MiniLM word vectors, a Wav2Lip checkpoint in the public
format) -> ``eval`` -> ``animate --ckpt``."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys

import soundfile as sf
import yaml

from .conftest import EXAMPLE_WAV, REPO

CLI = [sys.executable, "-m", "pmmtalk_live.cli"]
TINY_AUDIO = dict(hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, conv_dim=(32,) * 7)


def run(command: list[str], tmp_path, timeout: int = 120) -> None:
    """Run a step to the end; on a timeout its whole process group goes (torchrun's workers too)."""
    env = {**os.environ, "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                               env=env, start_new_session=True)
    try:
        out, errors = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise AssertionError(f"{' '.join(map(str, command))}: still running after {timeout} s") from None
    assert process.returncode == 0, f"{' '.join(map(str, command))}\n{out[-2000:]}\n{errors[-3000:]}"


def stand_ins(tmp_path) -> tuple[str, str]:
    """A wav2vec 2.0 folder and a Wav2Lip checkpoint with random weights, shaped as the real ones are named."""
    import torch
    from transformers import Wav2Vec2Config, Wav2Vec2Model

    from pmmtalk_live.model.encoders.visual import Wav2LipCheckpoint

    torch.manual_seed(0)
    wav2vec = tmp_path / "wav2vec2-tiny"
    Wav2Vec2Model(Wav2Vec2Config(**TINY_AUDIO)).save_pretrained(wav2vec)
    wav2lip = tmp_path / "wav2lip_gan.pth"
    torch.save({"state_dict": Wav2LipCheckpoint().state_dict()}, wav2lip)
    return str(wav2vec), str(wav2lip)


def test_the_paper_size_recipe_runs_end_to_end_with_stand_ins(tmp_path):
    wav2vec, wav2lip = stand_ins(tmp_path)
    speech, rate = sf.read(EXAMPLE_WAV, dtype="float32")
    clips = [tmp_path / "hello.wav", tmp_path / "pam.wav"]  # two takes: one per training process
    for k, clip in enumerate(clips):
        sf.write(clip, speech[int(1.5 * k * rate):int(1.5 * (k + 1) * rate)], rate)
    run(CLI + ["animate", *map(str, clips), "-o", str(tmp_path / "takes"), "--animator", "phonetic", "-q"], tmp_path)
    run(CLI + ["dataset", "--takes", str(tmp_path / "takes"), "--out", str(tmp_path / "data"), "--fps", "10"], tmp_path)
    config = {
        "model": {"fps": 10, "audio_checkpoint": wav2vec, "audio_hidden": 32, "audio_layers": 1, "audio_heads": 2,
                  "audio_intermediate": 64, "audio_conv_dim": 32, "recognizer": "faster-whisper", "word_encoder": "minilm",
                  "text_stream": True, "text_window_s": 2.0, "visual": True, "wav2lip_checkpoint": wav2lip,
                  "phone_dim": 8, "visual_dim": 16, "d_model": 32, "decoder_layers": 1, "decoder_heads": 2,
                  "decoder_ff": 64, "context_frames": 20, "dropout": 0.0},
        "train": {"steps": 4, "batch_size": 2, "val_fraction": 0.0, "save_every": 2, "val_every": 100,
                  "max_seconds": 1.0, "warmup_steps": 1, "per_subject_styles": False},
    }
    (tmp_path / "paper.yaml").write_text(yaml.safe_dump(config))
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    run([sys.executable, "-m", "torch.distributed.run", "--nproc-per-node", "2", "--master-addr", "127.0.0.1",
         "--master-port", str(port), "-m", "pmmtalk_live.cli", "train", "--data", str(tmp_path / "data"),
         "--config", str(tmp_path / "paper.yaml"), "--out", str(tmp_path / "run"), "--jobs", "1", "-q"], tmp_path, 200)
    saved = yaml.safe_load((tmp_path / "run" / "config.yaml").read_text())["model"]
    assert saved["text_stream"] and saved["visual"] and saved["audio_architecture"]  # the run rebuilds without the folder
    run(CLI + ["eval", "--data", str(tmp_path / "data"), "--ckpt", str(tmp_path / "run"), "-q"], tmp_path)
    metrics = json.loads(next((tmp_path / "run").glob("eval-*/metrics.json")).read_text())
    assert metrics
    run(CLI + ["animate", str(clips[0]), "-o", str(tmp_path / "out"), "--ckpt", str(tmp_path / "run"), "-q"], tmp_path)
    assert list((tmp_path / "out").glob("*_raw.csv"))
