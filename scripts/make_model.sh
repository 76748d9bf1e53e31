#!/usr/bin/env bash
# Rebuilds the shipped PMMTalk checkpoint from scratch (make model; docs/model-card.md):
#   1. the synthetic corpus: 8 h of English voices (flite, festival) and 1.6 h of espeak-ng voices
#      (Mandarin, German, Spanish), each with its held-out voices (docs/corpus.md);
#   2. the Whisper encoder's features of every utterance, on the live windows (cached beside the corpus);
#   3. training with scripts/model/default.yaml (resumable: run again to go on after a stop);
#   4. the closure gate's threshold calibrated on the held-out voices' speech, clean and augmented (train/calibrate.py);
#   5. the weights and config copied into pmmtalk_live/data/models/default/.
# Takes about an hour on 2 CPU cores. DATA (default data/corpus) and RUN (default out/model-default) move it.
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-data/corpus}
RUN=${RUN:-out/model-default}
JOBS=${JOBS:-$(nproc)}
CLI=.venv/bin/pmmtalk-live

$CLI corpus build --hours 8 --out "$DATA/en" --languages en --jobs "$JOBS"
$CLI corpus build --hours 1.6 --out "$DATA/other" --languages cmn de es --jobs "$JOBS"
$CLI train --data "$DATA/en" "$DATA/other" --config scripts/model/default.yaml --out "$RUN" --jobs "$JOBS"
# from which chance the lips-closed output closes the lips: chosen on the held-out voices' speech, clean and augmented (docs/model-card.md)
.venv/bin/python -m pmmtalk_live.train.calibrate "$RUN" "$DATA/en" "$DATA/other"

DEST=pmmtalk_live/data/models/default
mkdir -p "$DEST"
cp "$RUN/model.safetensors" "$RUN/config.yaml" "$DEST/"
echo "make model: $DEST ($(du -h "$DEST/model.safetensors" | cut -f1)) from $RUN"
