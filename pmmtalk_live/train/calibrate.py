"""How much of its correction a trained viseme-residual model applies (``correction_scale``), and
from which chance its closure gate closes the lips (``gate_threshold``).

The decoder learns its correction at full scale, and in full it overcorrects on voices it has not
heard: it pulls every frame towards the training voices' average mouth. After training,
``calibrate_correction`` measures the lip error (``evaluation.curve_errors.lip_errors``, per frame the largest
over the lip channels) and the lip closures hit (``evaluation.curve_errors.closures_hit``) on every utterance
of the corpora's held-out voices, clean and augmented alike, at each scale in ``SCALES`` (with each
of ``GATE_THRESHOLDS`` for a ``closure_gate`` model), and keeps the setting with the lowest lip error
among those that close the lips at least as often as the uncorrected track (scale 0, gate off): a
correction that smooths closures away lowers the mean error and loses the bilabials a viewer looks
for. A model without a viseme track to correct (the Whisper default) has no scale to choose, only its
gate: it keeps the threshold that closes the lips most often at a lip error within
``ERROR_TOLERANCE`` of the lowest, so the gate fires where it shuts real closures and not where it
would shut open vowels. The augmented utterances count because a user's microphone is not a clean synthetic voice: the
augmentation (noise, reverberation, equalisation, band limits) stands in for it, and there the live
recogniser's track misses more, so the correction matters more. Real recordings play no part in it.

    python -m pmmtalk_live.train.calibrate RUN CORPUS [CORPUS ...]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
from tqdm import tqdm

from ..evaluation.curve_errors import closures_hit, lip_errors
from ..model.checkpoint import CONFIG, read_config, save_config
from ..model.gate import close_lips
from ..model.inference import load_model
from ..corpus import held_out_voices
from ..dataset import load_dataset
from .batches import CoeffDataset, collate
from .features import FeatureCache

SCALES = (0.0, 0.125, 0.25, 0.375, 0.5, 0.625, 0.75, 0.875, 1.0)
GATE_THRESHOLDS = (1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3)
"""``closure_gate`` models: the gate thresholds tried with each scale (1.0: the gate off)."""
ERROR_TOLERANCE = 0.02
"""Models without a correction scale: the gate threshold may cost this much lip error (relative)
over the lowest for more closures."""


def held_out(corpora: list[str | Path]) -> list:
    """The utterances of the corpora's held-out voices, clean and augmented."""
    out = []
    for root in corpora:
        held = held_out_voices(root)
        out += [utt for utt in load_dataset(root) if utt.subject in held]
    return out


Setting = tuple[float, float]
"""(correction_scale, gate_threshold)."""


def best_setting(measured: dict[Setting, tuple[float, int, int]]) -> Setting:
    """{(scale, threshold): (lip error, closures hit, closures)} -> the setting with the most closures
    among those within ``ERROR_TOLERANCE`` of the lowest lip error that close the lips at least as
    often as the track alone (scale 0, gate off, where it was measured: a model with no track to
    correct has scale 1.0 only); the lower error on a tie. The tolerance lets the lips-closed output
    work where it costs next to nothing on the held-out voices, and no further."""
    floor = measured[(0.0, 1.0)][1] if (0.0, 1.0) in measured else 0
    kept = {s: v for s, v in measured.items() if v[1] >= floor} or dict(measured)
    lowest = min(error for error, _, _ in kept.values())
    near = {s: v for s, v in kept.items() if v[0] <= lowest * (1 + ERROR_TOLERANCE)}
    return max(near, key=lambda s: (near[s][1], -near[s][0]))


@torch.no_grad()
def calibrate_correction(run: str | Path, corpora: list[str | Path],
                         scales: tuple[float, ...] = SCALES) -> dict[Setting, tuple[float, int, int]]:
    """{(scale, gate threshold): (mean lip error, closures hit, closures)} over ``SCALES`` (and
    ``GATE_THRESHOLDS`` for a ``closure_gate`` model; 1.0 alone otherwise); writes the chosen
    setting (``best_setting``) into the run's config.yaml."""
    model = load_model(run)
    if not model.config.viseme_residual and not model.config.closure_gate:
        raise ValueError(f"{run}: neither a viseme_residual model nor one with a closure gate, nothing to calibrate")
    utts = held_out(corpora)
    if not utts:
        raise ValueError("no utterances of held-out voices in " + ", ".join(map(str, corpora)))
    dataset = CoeffDataset(utts, model.config, features=FeatureCache(model.config))
    items = [dataset.item(i) for i in range(len(utts))]
    thresholds = GATE_THRESHOLDS if model.config.closure_gate else (1.0,)
    if model.gate is not None:
        model.gate.threshold = 1.0  # the gate is applied below, at each threshold
    measured = {}
    if model.config.viseme_residual and 0.0 not in scales:
        raise ValueError("the scales must include 0 (the track alone: the floor of closures)")
    scales = scales if model.config.viseme_residual else (1.0,)
    for scale in tqdm(scales, desc="calibrate", unit="scale"):
        model.decoder.correction_scale = scale
        errors = {threshold: [] for threshold in thresholds}
        hits = {threshold: 0 for threshold in thresholds}
        events = 0
        for item in items:
            output = model(collate([item]))
            reference = item["coeffs"].numpy()
            for threshold in thresholds:
                coeffs = output.coeffs[0]
                if output.closed is not None:
                    coeffs = close_lips(coeffs, output.closed[0], threshold)
                errors[threshold].append(np.mean(lip_errors(coeffs.numpy(), reference)[0]))
                hit, count = closures_hit(coeffs.numpy(), reference, model.config.fps)
                hits[threshold] += hit
            events += count  # the reference's closures: the same at every threshold
        for threshold in thresholds:
            measured[(scale, threshold)] = (float(np.mean(errors[threshold])), hits[threshold], events)
    config, train_settings = read_config(Path(run))
    config.correction_scale, config.gate_threshold = best_setting(measured)
    save_config(Path(run), config, train_settings)
    return measured


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run")
    parser.add_argument("corpora", nargs="+")
    parser.add_argument("--scales", type=float, nargs="+", default=list(SCALES),
                        help="correction scales to try (one model pass over the held-out speech each; 0 must be "
                             f"among them; default: {' '.join(map(str, SCALES))})")
    args = parser.parse_args()
    measured = calibrate_correction(args.run, args.corpora, tuple(args.scales))
    best = best_setting(measured)
    thresholds = sorted({threshold for _, threshold in measured}, reverse=True)
    print("lip error / closures hit, per correction_scale (rows) and gate_threshold (columns; 1.0 = gate off)")
    print("scale  " + "".join(f"{threshold:>16.2f}" for threshold in thresholds))
    for scale in sorted({scale for scale, _ in measured}):
        cells = []
        for threshold in thresholds:
            error, hits, events = measured[(scale, threshold)]
            mark = "*" if (scale, threshold) == best else " "
            cells.append(f"{error:.4f} {hits:>4d}/{events}{mark}")
        print(f"{scale:5.3f}  " + "".join(f"{cell:>16}" for cell in cells))
    print(f"{args.run}/{CONFIG}: correction_scale {best[0]}, gate_threshold {best[1]} (* above)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
