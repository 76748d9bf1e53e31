"""How much of its correction a trained viseme-residual model applies (``correction_scale``).

The synthetic corpus augments most of its audio, so the live recogniser's viseme track is worse in
training than on a clean voice, and the decoder learns corrections sized for that: applied in full
to a clean track they overcorrect. After training, ``calibrate_correction`` measures the lip error
(``train.metrics.lip_errors``, per frame the largest over the lip channels) on the unaugmented
utterances of the corpora's held-out voices at each scale in ``SCALES`` and keeps the best. Real
recordings play no part in it.

    python -m pmmtalk_live.train.calibrate RUN CORPUS [CORPUS ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import yaml

from ..model.checkpoint import CONFIG, read_config, save_config
from ..model.inference import load_model
from .corpus import held_out_voices
from .dataset import CoeffDataset, collate, load_dataset
from .features import FeatureCache
from .metrics import lip_errors

SCALES = (0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0)


def clean_held_out(corpora: list[str | Path]) -> list:
    """The unaugmented utterances of the corpora's held-out voices."""
    out = []
    for root in corpora:
        held = held_out_voices(root)
        for utt in load_dataset(root):
            if utt.subject in held:
                meta = yaml.safe_load((utt.audio_path.parent / "meta.yaml").read_text(encoding="utf-8")) or {}
                if not meta.get("augmentation"):
                    out.append(utt)
    return out


@torch.no_grad()
def calibrate_correction(run: str | Path, corpora: list[str | Path]) -> dict[float, float]:
    """Mean lip error per scale; writes the best scale into the run's config.yaml."""
    model = load_model(run)
    if not model.config.viseme_residual:
        raise ValueError(f"{run}: not a viseme_residual model, nothing to calibrate")
    utts = clean_held_out(corpora)
    if not utts:
        raise ValueError("no unaugmented utterances of held-out voices in " + ", ".join(map(str, corpora)))
    dataset = CoeffDataset(utts, model.config, features=FeatureCache(model.config))
    items = [dataset.item(i) for i in range(len(utts))]
    errors = {}
    for scale in SCALES:
        model.decoder.correction_scale = scale
        per_utt = []
        for item in items:
            coeffs = model(collate([item])).coeffs[0].numpy()
            per_utt.append(np.mean(lip_errors(coeffs, item["coeffs"].numpy())[0]))
        errors[scale] = float(np.mean(per_utt))
    best = min(errors, key=errors.get)
    config, train_settings = read_config(Path(run))
    config.correction_scale = best
    save_config(Path(run), config, train_settings)
    return errors


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("corpora", nargs="+")
    args = parser.parse_args()
    errors = calibrate_correction(args.run, args.corpora)
    best = min(errors, key=errors.get)
    for scale, error in errors.items():
        print(f"correction_scale {scale:5.3f}: lip error {error:.4f}{'   <- kept' if scale == best else ''}")
    print(f"{args.run}/{CONFIG}: correction_scale {best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
