"""How much of its correction a trained viseme-residual model applies (``correction_scale``).

The synthetic corpus augments most of its audio, so the live recogniser's viseme track is worse in
training than on a clean voice, and the decoder learns corrections sized for that: applied in full
to a clean track they overcorrect. After training, ``calibrate_correction`` measures the lip error
(``train.metrics.lip_errors``, per frame the largest over the lip channels) and the lip closures hit
(``train.metrics.closures_hit``) on the unaugmented utterances of the corpora's held-out voices at
each scale in ``SCALES``, and keeps the scale with the lowest lip error among those that close the
lips at least as often as the uncorrected track (scale 0): a correction that smooths closures away
lowers the mean error and loses the bilabials a viewer looks for. Real recordings play no part in it.

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
from .metrics import closures_hit, lip_errors

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


def best_scale(measured: dict[float, tuple[float, int, int]]) -> float:
    """{scale: (lip error, closures hit, closures)} -> the scale with the lowest error among those
    hitting at least as many closures as scale 0 (scale 0 itself always qualifies)."""
    floor = measured[0.0][1]
    kept = {scale: error for scale, (error, hits, _) in measured.items() if hits >= floor}
    return min(kept, key=kept.get)


@torch.no_grad()
def calibrate_correction(run: str | Path, corpora: list[str | Path]) -> dict[float, tuple[float, int, int]]:
    """{scale: (mean lip error, closures hit, closures)}; writes the chosen scale (``best_scale``)
    into the run's config.yaml."""
    model = load_model(run)
    if not model.config.viseme_residual:
        raise ValueError(f"{run}: not a viseme_residual model, nothing to calibrate")
    utts = clean_held_out(corpora)
    if not utts:
        raise ValueError("no unaugmented utterances of held-out voices in " + ", ".join(map(str, corpora)))
    dataset = CoeffDataset(utts, model.config, features=FeatureCache(model.config))
    items = [dataset.item(i) for i in range(len(utts))]
    measured = {}
    for scale in SCALES:
        model.decoder.correction_scale = scale
        errors, hits, events = [], 0, 0
        for item in items:
            coeffs, reference = model(collate([item])).coeffs[0].numpy(), item["coeffs"].numpy()
            errors.append(np.mean(lip_errors(coeffs, reference)[0]))
            hit, count = closures_hit(coeffs, reference, model.config.fps)
            hits, events = hits + hit, events + count
        measured[scale] = (float(np.mean(errors)), hits, events)
    config, train_settings = read_config(Path(run))
    config.correction_scale = best_scale(measured)
    save_config(Path(run), config, train_settings)
    return measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("corpora", nargs="+")
    args = parser.parse_args()
    measured = calibrate_correction(args.run, args.corpora)
    best = best_scale(measured)
    for scale, (error, hits, events) in measured.items():
        print(f"correction_scale {scale:5.3f}: lip error {error:.4f}, closures hit {hits}/{events}"
              f"{'   <- kept' if scale == best else ''}")
    print(f"{args.run}/{CONFIG}: correction_scale {best}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
