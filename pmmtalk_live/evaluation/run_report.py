"""``pmmtalk-live eval --data DIR --ckpt RUN``: a trained model against a dataset's reference curves.

Every utterance is animated whole (offline, the model's own look-ahead), at the model's frame rate,
and compared with its reference coefficients (``curve_errors.py``): lip error (per-frame maximum and
mean over the lip channels), vertex-space lip error when a mesh basis is given, bilabial closure rate,
jitter, timing lag. Writes ``metrics.json`` and ``plots.png`` to the output folder.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from .. import rig
from ..errors import EvalDataError
from ..model.checkpoint import load_run
from ..model.compute import torch_device
from ..dataset import load_dataset, split
from ..train.batches import CoeffDataset, collate
from ..train.features import FeatureCache
from .curve_errors import aperture, evaluate


def evaluate_run(data_dir: str | Path, ckpt: str | Path, out_dir: str | Path, *, split_name: str = "all",
                 basis: np.ndarray | None = None, lip_vertices: np.ndarray | None = None,
                 show_progress: bool = True, compute: str = "cpu") -> dict:
    """Metrics of ``ckpt`` on ``data_dir`` (``split_name``: all, val or train, as the run split it);
    the model runs on ``compute`` (``cpu``, ``cuda``, ``cuda:N``)."""
    device = torch_device(compute)
    model = load_run(ckpt, device)
    config = model.config
    utterances = load_dataset(data_dir)
    if split_name != "all":
        from ..model.checkpoint import read_config

        _, train_settings = read_config(Path(ckpt))
        train_utts, val_utts = split(utterances, train_settings.get("val_fraction", 0.1),
                                     train_settings.get("seed", 0))
        utterances = val_utts if split_name == "val" else train_utts
    features = FeatureCache(config, data_dir, compute) if config.cached_features else None
    dataset = CoeffDataset(utterances, config, features=features, max_seconds=None)
    pairs, ids = [], []
    with torch.no_grad():
        for i in tqdm(range(len(dataset)), desc="eval", unit="utt", disable=not show_progress):
            item = dataset.item(i, 0)
            prediction = model(collate([item]).to(device)).coeffs[0].float().cpu().numpy()
            pairs.append((prediction, item["coeffs"]))
            ids.append(item["id"])
    results = evaluate(pairs, config.fps, basis=basis, lip_vertices=lip_vertices)
    results.update({"checkpoint": str(ckpt), "data": str(data_dir), "split": split_name})
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(results, indent=1))
    _plot(pairs[:4], ids[:4], config.fps, out_dir / "plots.png")
    return results


def _plot(pairs, ids, fps: float, path: Path) -> None:
    """Lip aperture and jawOpen, prediction against reference, for the first few utterances."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    jaw = rig.CHANNEL_INDEX["jawOpen"]
    fig, axes = plt.subplots(len(pairs), 1, figsize=(10, 2.2 * max(len(pairs), 1)), squeeze=False)
    for ax, (prediction, reference), utt_id in zip(axes[:, 0], pairs, ids):
        t = np.arange(len(reference)) / fps
        n = min(len(prediction), len(reference))
        ax.plot(t[:n], aperture(reference[:n]), color="k", label="reference lip aperture")
        ax.plot(t[:n], aperture(prediction[:n]), color="tab:red", label="predicted lip aperture")
        ax.plot(t[:n], prediction[:n, jaw], color="tab:blue", alpha=0.5, label="predicted jawOpen")
        ax.set_title(utt_id, fontsize=9)
        ax.set_ylim(-0.05, 1.05)
    axes[0, 0].legend(fontsize=7, loc="upper right")
    axes[-1, 0].set_xlabel("s")
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def format_results(results: dict) -> str:
    """The figures as a few readable lines."""
    def show(value, unit=""):
        return "n/a" if value is None else (f"{value:.4f}{unit}" if isinstance(value, float) else f"{value}{unit}")

    return "\n".join([
        f"utterances {results['utterances']}, frames {results['frames']} at {results['fps']} fps",
        f"lip error (coefficients): max per frame {show(results['lip_max_error'])}, mean {show(results['lip_mean_error'])}",
        f"lip vertex error: {show(results['lip_vertex_error'])}",
        f"bilabial closures: {results['closures_hit']}/{results['closure_events']} "
        f"(rate {show(results['closure_rate'])})",
        f"jitter: prediction {show(results['jitter_prediction'])}, reference {show(results['jitter_reference'])}",
        f"timing lag: {show(results['lag_ms'], ' ms')}",
    ])


def read_mesh_basis(path: str | Path) -> tuple[np.ndarray, np.ndarray]:
    """(basis (32, V, 3), lip_vertices) from an ``.npz`` for the vertex error; EvalDataError (one line)
    when the file is missing or not such a mesh."""
    try:
        with np.load(path) as mesh:
            return mesh["basis"], mesh["lip_vertices"]
    except (OSError, KeyError, ValueError) as err:
        raise EvalDataError(f"cannot read mesh basis {path} (an .npz with basis (32, V, 3) and "
                            f"lip_vertices): {err}") from None
