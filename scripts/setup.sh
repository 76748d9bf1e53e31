#!/usr/bin/env bash
# Sets up a fresh machine: Debian packages (as root), .venv with the pinned CPU torch, the project.
# Idempotent: `make` re-runs it only when pyproject.toml or this script changes.
set -euo pipefail
cd "$(dirname "$0")/.."

DEBIAN_PACKAGES=(
  flite                  # speaks the bundled example recording and synthetic training voices
  festival               # more English training voices (recorded diphones, HTS), with segment timings
  festvox-kallpc16k
  festvox-kdlpc16k
  festvox-us-slt-hts
  espeak-ng              # training voices in other languages (Mandarin included), phone events by ctypes
  libespeak-ng1
  fortunes               # text for the synthetic corpus (English), on the machine, no download
  fortunes-zh            # ... Mandarin
  fortunes-de            # ... German
  fortunes-es            # ... Spanish
  pocketsphinx-testdata  # real human recordings with transcripts: the lip-sync dev set
  codec2-examples        # more real speakers (8 kHz, radio amateurs, Harvard sentences): evaluation only
  libsndfile1            # soundfile's library (the wheel bundles one; this one also reads more formats)
  libportaudio2          # sounddevice: the live microphone path
  sox                    # audio conversion in the tests and scripts
  pulseaudio             # a virtual microphone (pipe source) for the live path's tests and benchmark
  pulseaudio-utils
  libasound2-plugins     # ALSA's pulse plugin: PortAudio reaches PulseAudio through it
  chromium               # a real browser for the studio page's tests (headless)
  chromium-driver        # ... driven by Selenium through chromedriver
)

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: missing Debian packages (run as root, or install them): ${missing[*]}" >&2
  fi
fi

PYTHON=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv"
  "$PYTHON" -m venv .venv || {
    # Debian's python3 needs python3-venv for `-m venv`.
    [ "$(id -u)" = 0 ] && apt-get install -y -qq python3-venv >/dev/null && "$PYTHON" -m venv .venv
  }
fi

# torch first and pinned: a looser requirement would pull several GB of CUDA packages.
echo "setup: installing torch==2.13.0 and the project"
log=.venv/setup.log
pip_install() {
  .venv/bin/python -m pip install "$@" >>"$log" 2>&1 || { tail -n 30 "$log" >&2; echo "setup: pip failed (log: $log)" >&2; exit 1; }
}
: >"$log"
pip_install --upgrade pip
pip_install "torch==2.13.0"
echo "torch==2.13.0" > .venv/constraints.txt
pip_install -c .venv/constraints.txt -e ".[dev]"
touch .venv/.installed
echo "setup: done"
