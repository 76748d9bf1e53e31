"""Training PMMTalk: ``pmmtalk-live train --data DIR --config CFG.yaml --out RUN``.

One loop, readable in one sitting (nanoGPT style):

    dataset (train/val split) -> CoeffDataset crops -> collate -> Batch -> PMMTalk -> losses -> AdamW

- Deterministic with a seed (data order, crops, modality dropout, initial weights).
- Resumable: every ``save_every`` steps the run folder gets the weights (safetensors), the config
  (YAML), the optimizer state (safetensors) and ``progress.json``; started again on the same folder,
  training continues where it stopped.
- Several processes: started with ``torchrun --nproc-per-node N`` (or across nodes), it trains with
  DistributedDataParallel (NCCL on CUDA, gloo on CPU); each rank sees its own shard of every batch.
- CUDA with bfloat16 autocast when present; CPU otherwise.
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import yaml
from safetensors.torch import load_file, save_file
from tqdm import tqdm

from ..errors import PmmtalkError
from ..model.checkpoint import read_config, save_config, save_weights
from ..model.compute import ComputeError, torch_device
from ..model.config import ModelConfig
from ..model.pmmtalk import PMMTalk

PROGRESS = "progress.json"
TRAINING_STATE = "training_state.safetensors"


class TrainError(PmmtalkError):
    """A training run that cannot start or go on (bad config, empty dataset, mismatched run folder)."""


@dataclass
class TrainSettings:
    steps: int = 2000
    batch_size: int = 8
    lr: float = 3e-4
    weight_decay: float = 0.01
    warmup_steps: int = 100
    max_seconds: float = 4.0
    """Training crops: at most this much audio per utterance."""
    val_fraction: float = 0.1
    val_every: int = 200
    save_every: int = 200
    seed: int = 0
    grad_clip: float = 1.0
    per_subject_styles: bool = True
    """A style embedding per training subject (a speaker's manner); off = every utterance trains the
    neutral style, the one inference uses by default (synthetic voices are not styles worth keeping)."""
    unaugmented_copies: int = 0
    """Extra copies of a synthetic corpus's unaugmented utterances in training: the corpus augments
    most of its audio (real microphones vary), which makes the live recogniser's viseme track worse
    than on a clean voice; weighing the clean ones up keeps the model from correcting a clean track as
    if it were a noisy one."""
    in_memory: bool = False
    """Keep every utterance's audio, coefficients and features in memory after the first read (about
    250 MB per hour of audio): faster epochs on a big corpus."""
    val_max_utterances: int = 0
    """Validate on at most this many utterances (the first of the validation split); 0 = all."""


def read_train_config(path: str | Path | None) -> tuple[ModelConfig, TrainSettings]:
    """``CFG.yaml`` with ``model:`` (ModelConfig fields), ``objective:`` (the loss weights and dropouts,
    ``model.config.TrainingObjective``) and ``train:`` (TrainSettings fields)."""
    if path is None:
        return ModelConfig(), TrainSettings()
    try:
        data = yaml.safe_load(Path(path).read_text()) or {}
    except FileNotFoundError:
        raise TrainError(f"{path}: no such config file") from None
    except yaml.YAMLError as error:
        raise TrainError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    unknown = set(data) - {"model", "objective", "train"}
    if unknown:
        raise TrainError(f"{path}: unknown sections {sorted(unknown)} (expected model:, objective:, train:)")
    try:
        model_data = dict(data.get("model") or {})
        if data.get("objective"):
            model_data["objective"] = {**(model_data.get("objective") or {}), **data["objective"]}
        model = ModelConfig.from_dict(model_data)
    except (ValueError, TypeError) as error:
        raise TrainError(f"{path}: model: {error}") from None
    names = {f.name for f in dataclasses.fields(TrainSettings)}
    bad = set(data.get("train") or {}) - names
    if bad:
        raise TrainError(f"{path}: train: unknown settings {sorted(bad)}")
    return model, TrainSettings(**(data.get("train") or {}))


def read_config_for_run(config_path: str | Path | None, out_dir: str | Path) -> ModelConfig:
    """The model config a run will use: its own when resuming, else the file's."""
    if (Path(out_dir) / "config.yaml").exists():
        return read_config(Path(out_dir))[0]
    return read_train_config(config_path)[0]


# --- processes -------------------------------------------------------------------------------------

@dataclass
class Ranks:
    rank: int = 0
    world: int = 1
    local: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def process_compute(compute: str) -> str:
    """Where this process works: ``compute`` itself, or under torchrun (WORLD_SIZE > 1) with ``cuda``
    its local rank's GPU, ``cuda:<LOCAL_RANK>``. ComputeError for ``cuda:N`` under torchrun."""
    if int(os.environ.get("WORLD_SIZE", "1")) == 1 or compute == "cpu":
        return compute
    if compute != "cuda":
        raise ComputeError(f"--compute {compute}: under torchrun each process takes its local rank's GPU; "
                           "use --compute cuda")
    return f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"


def _start_processes(compute: str = "cpu") -> tuple[Ranks, torch.device]:
    """DDP when started by torchrun (WORLD_SIZE > 1), else a single process; on the CPU or the GPU
    ``compute`` names (``model.compute.torch_device``). Under torchrun, ``cuda`` gives each process its
    local rank's GPU (``process_compute``; NCCL); ``cpu``, gloo."""
    world = int(os.environ.get("WORLD_SIZE", "1"))
    if world == 1:
        return Ranks(), torch_device(compute)
    import torch.distributed as dist

    ranks = Ranks(int(os.environ["RANK"]), world, int(os.environ.get("LOCAL_RANK", "0")))
    if compute != "cpu":
        device = torch_device(process_compute(compute))
        torch.cuda.set_device(device)
        dist.init_process_group("nccl")
        return ranks, device
    dist.init_process_group("gloo")
    return ranks, torch.device("cpu")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


# --- resumable state ---------------------------------------------------------------------------------

def _save_training_state(folder: Path, optimizer: torch.optim.Optimizer, step: int, best_val: float) -> None:
    """Optimizer moments as safetensors (one tensor per parameter and moment), the rest as JSON."""
    tensors, scalars = {}, {}
    for index, state in optimizer.state_dict()["state"].items():
        for key, value in state.items():
            if isinstance(value, torch.Tensor):
                tensors[f"{index}.{key}"] = value.detach().cpu().contiguous()
            else:
                scalars[f"{index}.{key}"] = value
    tmp = folder / (TRAINING_STATE + ".tmp")
    save_file(tensors, str(tmp))
    tmp.replace(folder / TRAINING_STATE)
    progress = {"step": step, "best_val": best_val, "optimizer_scalars": scalars,
                "torch_rng": torch.get_rng_state().tolist()}
    (folder / (PROGRESS + ".tmp")).write_text(json.dumps(progress))
    (folder / (PROGRESS + ".tmp")).replace(folder / PROGRESS)


def _load_training_state(folder: Path, optimizer: torch.optim.Optimizer) -> tuple[int, float]:
    progress = json.loads((folder / PROGRESS).read_text())
    tensors = load_file(str(folder / TRAINING_STATE))
    state = optimizer.state_dict()
    per_param: dict[int, dict] = {}
    for name, value in tensors.items():
        index, key = name.split(".", 1)
        per_param.setdefault(int(index), {})[key] = value
    for name, value in progress["optimizer_scalars"].items():
        index, key = name.split(".", 1)
        per_param.setdefault(int(index), {})[key] = value
    state["state"] = per_param
    optimizer.load_state_dict(state)
    torch.set_rng_state(torch.tensor(progress["torch_rng"], dtype=torch.uint8))
    return progress["step"], progress["best_val"]


# --- the loop -----------------------------------------------------------------------------------------

def _lr_at(step: int, settings: TrainSettings) -> float:
    """Linear warm-up, then cosine decay to a tenth."""
    if step < settings.warmup_steps:
        return settings.lr * (step + 1) / settings.warmup_steps
    progress = (step - settings.warmup_steps) / max(1, settings.steps - settings.warmup_steps)
    return settings.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * min(progress, 1.0))))


def _batch_indices(num_items: int, batch_size: int, seed: int, ranks: Ranks):
    """Endless (epoch, item indices) of this rank's share of each global batch, in a fixed order for a
    seed: a resumed run skips the batches it has done and sees the same data as one that never stopped."""
    generator = np.random.default_rng(seed)
    epoch = 0
    while True:
        order = generator.permutation(num_items)
        for start in range(0, max(len(order) - batch_size + 1, 1), batch_size):
            indices = order[start:start + batch_size][ranks.rank::ranks.world]
            if len(indices):
                yield epoch, [int(i) for i in indices]
        epoch += 1


def parameter_checksum(model: torch.nn.Module) -> float:
    """A sum over every weight: equal on every DDP replica while they stay in step."""
    return float(sum(p.detach().double().sum() for p in model.parameters()))


def load_splits(data_dirs: Sequence[str | Path], settings: TrainSettings) -> tuple[list, list]:
    """(train, validation) utterances of one or more datasets. A synthetic corpus holds its
    held-out voices out (``corpus.yaml``); other datasets are split by utterance (``val_fraction``)."""
    from ..corpus import CORPUS_FILE, held_out_voices
    from ..dataset import load_dataset, split

    train_utts, val_utts = [], []
    for data_dir in data_dirs:
        utterances = load_dataset(data_dir)
        if not utterances:
            raise TrainError(f"{data_dir}: no utterances")
        if (Path(data_dir) / CORPUS_FILE).exists():
            held = held_out_voices(data_dir)
            train_utts += [u for u in utterances if u.subject not in held]
            val_utts += [u for u in utterances if u.subject in held]
            if settings.unaugmented_copies:
                clean = [u for u in utterances if u.subject not in held and not _augmentation(u)]
                train_utts += clean * settings.unaugmented_copies
        else:
            part = split(utterances, settings.val_fraction, settings.seed)
            train_utts += part[0]
            val_utts += part[1]
    if settings.val_max_utterances:
        val_utts = val_utts[:settings.val_max_utterances]
    return train_utts, val_utts


def _augmentation(utt) -> list:
    """A corpus utterance's augmentation chain (meta.yaml), [] for a clean one."""
    meta = yaml.safe_load((utt.audio_path.parent / "meta.yaml").read_text(encoding="utf-8")) or {}
    return meta.get("augmentation") or []


def train(data_dir: str | Path | Sequence[str | Path], config_path: str | Path | None, out_dir: str | Path, *,
          features=None, show_progress: bool = True, steps: int | None = None, compute: str = "cpu") -> dict:
    """Train (or resume) a run in ``out_dir``; returns the final figures (step, losses, val loss, the
    loss history of this call, a parameter checksum). ``compute``: ``cpu``, ``cuda`` or ``cuda:N``.

    ``steps``: stop at this step (the run's own plan stays in its config: run again to go on).
    ``features``: per-utterance pseudo-text / pseudo-visual features (see ``CoeffDataset``).
    """
    from .batches import CoeffDataset, collate

    out_dir = Path(out_dir)
    ranks, device = _start_processes(compute)
    if (out_dir / "config.yaml").exists():
        model_config, train_dict = read_config(out_dir)  # resuming: the run's own settings win
        settings = TrainSettings(**train_dict)
    else:
        model_config, settings = read_train_config(config_path)
    stop_at = settings.steps if steps is None else min(steps, settings.steps)  # the plan (and its LR schedule) stays
    seed_everything(settings.seed)

    data_dirs = [data_dir] if isinstance(data_dir, (str, Path)) else list(data_dir)
    train_utts, val_utts = load_splits(data_dirs, settings)
    if settings.per_subject_styles and not model_config.speakers:
        model_config.speakers = sorted({u.subject for u in train_utts if u.subject})
    if min(len(train_utts), settings.batch_size) < ranks.world:
        # a rank with no share of a batch would never step while the others wait for it
        raise TrainError(f"{ranks.world} training processes need at least {ranks.world} training utterances and a "
                         f"batch size of at least {ranks.world}; got {len(train_utts)} and {settings.batch_size}")
    train_set = CoeffDataset(train_utts, model_config, features=features, max_seconds=settings.max_seconds,
                             seed=settings.seed, in_memory=settings.in_memory)
    val_set = CoeffDataset(val_utts, model_config, features=features, max_seconds=None, seed=settings.seed,
                           in_memory=settings.in_memory) if val_utts else None

    model = PMMTalk(model_config).to(device)
    if model_config.audio_checkpoint and not model_config.audio_architecture:
        # record the pretrained encoder's shape, so the run loads later with no download
        model_config.audio_architecture = model.audio.wav2vec.config.to_dict()
    trainable = [p for p in model.parameters() if p.requires_grad]
    optimizer = torch.optim.AdamW(trainable, lr=settings.lr, weight_decay=settings.weight_decay)
    step, best_val = 0, math.inf
    if (out_dir / PROGRESS).exists():
        from ..model.checkpoint import WEIGHTS

        model.load_state_dict(load_file(str(out_dir / WEIGHTS), device=str(device)))
        step, best_val = _load_training_state(out_dir, optimizer)
    elif ranks.main:
        save_config(out_dir, model_config, dataclasses.asdict(settings))

    net = model
    if ranks.world > 1:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[ranks.local] if device.type == "cuda" else None,
                                      find_unused_parameters=True)
    autocast = torch.autocast("cuda", dtype=torch.bfloat16) if device.type == "cuda" else torch.autocast("cpu", enabled=False)

    batches = _batch_indices(len(train_set), settings.batch_size, settings.seed, ranks)
    for _ in range(step):  # resuming: the batches already done
        next(batches)
    history: list[float] = []
    bar = tqdm(total=stop_at, initial=step, desc="train", unit="step", disable=not (show_progress and ranks.main))
    last = {}
    model.train()
    while step < stop_at:
        epoch, indices = next(batches)
        batch = collate([train_set.item(i, epoch) for i in indices]).to(device)
        for group in optimizer.param_groups:
            group["lr"] = _lr_at(step, settings)
        with autocast:
            output = net(batch)
        optimizer.zero_grad(set_to_none=True)
        output.losses["total"].backward()
        torch.nn.utils.clip_grad_norm_(trainable, settings.grad_clip)
        optimizer.step()
        step += 1
        last = {name: float(value.detach()) for name, value in output.losses.items()}
        history.append(last["total"])
        bar.update(1)
        bar.set_postfix(loss=f"{last['total']:.4f}")
        if val_set is not None and step % settings.val_every == 0:
            val = validate(model, val_set, collate, device)
            last["val"] = val
            best_val = min(best_val, val)
            if ranks.main:
                bar.write(f"step {step}: train {last['total']:.4f}  val {val:.4f}")
        if ranks.main and (step % settings.save_every == 0 or step == stop_at):
            save_weights(model, out_dir)
            _save_training_state(out_dir, optimizer, step, best_val)
    bar.close()
    result = {"step": step, **last, "history": history, "checksum": parameter_checksum(model),
              "rank": ranks.rank, "world": ranks.world}
    if ranks.world > 1:
        import torch.distributed as dist

        checksums = [None] * ranks.world
        dist.all_gather_object(checksums, result["checksum"])
        if len(set(checksums)) != 1:
            raise TrainError(f"DDP replicas diverged: parameter checksums {checksums}")
        dist.barrier()
        dist.destroy_process_group()
    return result


@torch.no_grad()
def validate(model: PMMTalk, dataset, collate, device: torch.device, batch_size: int = 4) -> float:
    """Mean position loss over the validation set (whole utterances, eval mode)."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for start in range(0, len(dataset), batch_size):
        batch = collate([dataset.item(i, 0) for i in range(start, min(start + batch_size, len(dataset)))]).to(device)
        output = model(batch)
        total += float(output.losses["position"]) * batch.audio.shape[0]
        count += batch.audio.shape[0]
    model.train(was_training)
    return total / max(count, 1)
