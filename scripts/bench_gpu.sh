#!/usr/bin/env bash
# The GPU check (issue 20), set-up included: on a Linux machine with an NVIDIA GPU and its driver,
#   bash scripts/bench_gpu.sh [bench_gpu.py options, e.g. --seconds 10 --characters 1 4 8]
# prints the paper-size pipeline's milliseconds per hop per branch, the real-time factor and latency of
# 1, 4 and 8 characters, GPU memory, and the shipped model on the GPU against the CPU
# (scripts/bench_gpu.py says what each figure is). The markdown it prints is also kept in
# out/bench-gpu.md, ready for docs/performance.md.
#
# Set-up, in .venv-gpu (the CPU .venv of `make` is left alone): a venv that sees the system's packages,
# so a CUDA torch already installed is used as it is; else torch==2.13.0 from PyPI (its Linux build is
# the CUDA one); the project; cuBLAS for CUDA 12 when the machine has none (CTranslate2, which runs
# Whisper, is built for CUDA 12). Offline, point pip at wheels: PIP_NO_INDEX=1 PIP_FIND_LINKS=<folder>.
set -euo pipefail
cd "$(dirname "$0")/.."
started=$SECONDS
PYTHON=${PYTHON:-python3}
VENV=${VENV:-.venv-gpu}
mkdir -p out
log=out/bench-gpu-setup.log
: >"$log"
step() { echo "bench_gpu: $*" >&2; }
pip_install() {
  "$VENV/bin/python" -m pip install --disable-pip-version-check -q "$@" >>"$log" 2>&1 \
    || { tail -n 20 "$log" >&2; step "pip failed (log: $log)"; exit 1; }
}

command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader >&2 \
  || step "nvidia-smi not found: is the NVIDIA driver installed?"

if [ ! -x "$VENV/bin/python" ]; then
  step "creating $VENV"
  "$PYTHON" -m venv --system-site-packages "$VENV"
fi
if ! "$VENV/bin/python" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  step "installing torch==2.13.0 (CUDA build)"
  pip_install "torch==2.13.0"
fi
torch_version=$("$VENV/bin/python" -c 'import torch; print(torch.__version__.split("+")[0])')
step "installing the project (torch $torch_version kept)"
echo "torch==$torch_version" >"$VENV/constraints.txt"
pip_install -c "$VENV/constraints.txt" -e .

# CTranslate2 looks for libcublas.so.12 on the library path; pip's NVIDIA wheels put it in site-packages.
if ! ldconfig -p 2>/dev/null | grep -q 'libcublas\.so\.12'; then
  cublas_lib() { "$VENV/bin/python" -c 'import nvidia.cublas, os; print(os.path.join(list(nvidia.cublas.__path__)[0], "lib"))' 2>/dev/null; }
  lib=$(cublas_lib || true)
  if [ -z "$lib" ] || [ ! -e "$lib/libcublas.so.12" ]; then
    step "installing cuBLAS for CUDA 12 (CTranslate2)"
    pip_install "nvidia-cublas-cu12"
    lib=$(cublas_lib)
  fi
  export LD_LIBRARY_PATH="$lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
fi

"$VENV/bin/python" - <<'EOF' || exit 1
import sys, ctranslate2, torch
if not torch.cuda.is_available():
    sys.exit(f"bench_gpu: torch {torch.__version__} sees no CUDA GPU (a CPU build, or no driver): nothing to measure")
if ctranslate2.get_cuda_device_count() == 0:
    sys.exit("bench_gpu: CTranslate2 sees no CUDA GPU (Whisper could not run there)")
EOF
step "set-up took $((SECONDS - started)) s"
set -o pipefail
"$VENV/bin/python" scripts/bench_gpu.py "$@" | tee out/bench-gpu.md
step "whole check, set-up included: $((SECONDS - started)) s"
