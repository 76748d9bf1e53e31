"""Checkpoints: the weights as safetensors plus the model's YAML config, never pickle.

A run folder holds ``model.safetensors`` and ``config.yaml`` (``model:`` = ``ModelConfig``, ``train:`` =
the training settings); a training run adds ``training_state.safetensors`` and ``progress.json``
(optimizer moments, step, random states) so it can resume.
"""

from __future__ import annotations

from pathlib import Path

import torch
import yaml
from safetensors.torch import load_file, save_file

from ..errors import PmmtalkError
from .config import ModelConfig

WEIGHTS = "model.safetensors"
CONFIG = "config.yaml"


class CheckpointError(PmmtalkError):
    """A run folder or checkpoint that cannot be loaded."""


def save_weights(model: torch.nn.Module, folder: Path) -> None:
    """The model's state as safetensors (written to a temporary name, then renamed: a crash mid-save
    leaves the previous checkpoint intact)."""
    folder.mkdir(parents=True, exist_ok=True)
    state = {name: tensor.detach().cpu().contiguous() for name, tensor in model.state_dict().items()}
    tmp = folder / (WEIGHTS + ".tmp")
    save_file(state, str(tmp))
    tmp.replace(folder / WEIGHTS)


def save_config(folder: Path, model_config: ModelConfig, train_settings: dict | None = None) -> None:
    import dataclasses

    folder.mkdir(parents=True, exist_ok=True)
    data = {"model": dataclasses.asdict(model_config)}
    if train_settings is not None:
        data["train"] = train_settings
    (folder / CONFIG).write_text(yaml.safe_dump(data, sort_keys=False))


def read_config(folder: Path) -> tuple[ModelConfig, dict]:
    path = Path(folder) / CONFIG
    try:
        data = yaml.safe_load(path.read_text()) or {}
        return ModelConfig.from_dict(data.get("model", {})), data.get("train", {})
    except FileNotFoundError:
        raise CheckpointError(f"{path}: no such file (a run folder holds {CONFIG} and {WEIGHTS})") from None
    except (yaml.YAMLError, ValueError, TypeError) as error:
        raise CheckpointError(f"{path}: not a model config ({str(error).splitlines()[0]})") from None


def load_run(folder: str | Path, device: str | torch.device = "cpu"):
    """A trained ``PMMTalk`` from a run folder, in eval mode."""
    from .pmmtalk import PMMTalk

    folder = Path(folder)
    config, _ = read_config(folder)
    model = PMMTalk(config)
    weights = folder / WEIGHTS
    if not weights.is_file():
        raise CheckpointError(f"{weights}: no such file")
    try:
        state = load_file(str(weights), device=str(device))
    except Exception as error:  # safetensors raises its own error types for a damaged file
        raise CheckpointError(f"{weights}: not a safetensors file ({error})") from None
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise CheckpointError(f"{weights}: does not fit its config.yaml (missing {missing[:3]}, "
                              f"unexpected {unexpected[:3]})")
    return model.to(device).eval()
