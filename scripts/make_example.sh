#!/usr/bin/env bash
# Rebuilds the bundled example recording (pmmtalk_live/data/example.wav) with flite's slt voice.
# The project makes its own media: no downloaded audio. Needs Debian's flite.
set -euo pipefail
cd "$(dirname "$0")/.."
text=$(cat pmmtalk_live/data/example.txt)
flite -voice slt -t "$text" -o pmmtalk_live/data/example.wav
echo "wrote pmmtalk_live/data/example.wav"
