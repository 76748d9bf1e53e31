"""The GPU check (issue 20): the paper-size PMMTalk live on a GPU, every branch streaming.

Run it through ``scripts/bench_gpu.sh`` (which sets up a Python whose torch and CTranslate2 see the
GPU). Prints, as markdown for docs/performance.md:

1. precision: the coefficients of one live session in float32 and in float16 (what ``--compute cuda``
   runs), largest difference;
2. per branch, milliseconds per 10 ms hop (wall time: the branches hand their results back to the CPU,
   so each call has finished on the GPU when it returns) and the whole hop's p50 / p95 / max;
3. for 1, 4 and 8 characters (one shared model, a thread and a ``StreamSession`` each, as
   ``serve --characters`` runs them): the real-time factor (audio seconds per wall second, all
   characters at once, as fast as they go) and, fed at real time, the wait of each hop's features
   after its audio came in (p50 / p95 / max) and hops that came back later than the next one's audio;
4. GPU memory (torch's peak, and what nvidia-smi says the process holds: CTranslate2's is outside torch);
5. the shipped default model on this GPU against the CPU: real-time factor and largest difference.

Random weights for the paper-size model (the speed does not depend on them; nothing is downloaded).
``--compute cpu --tiny`` runs the whole script on a tiny model without a GPU (its test does).

    python scripts/bench_gpu.py [--compute cuda] [--seconds 10] [--characters 1 4 8] [--tiny]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from pmmtalk_live.errors import PmmtalkError
from pmmtalk_live.model.config import paper_config, tiny_config
from pmmtalk_live.model.encoders.visual import Wav2LipCheckpoint
from pmmtalk_live.model.inference import StreamSession, latency_s, load_model, set_compute
from pmmtalk_live.model.pmmtalk import PMMTalk

EXAMPLE = Path(__file__).resolve().parents[1] / "pmmtalk_live" / "data" / "example.wav"
HOP_SAMPLES = 160
HOP_S = HOP_SAMPLES / 16000


def speech(seconds: float) -> np.ndarray:
    """The bundled example, looped to ``seconds``."""
    samples, _ = sf.read(EXAMPLE, dtype="float32")
    repeats = int(np.ceil(seconds * 16000 / len(samples)))
    return np.tile(samples, repeats)[:int(seconds * 16000)]


def build(tiny: bool, folder: Path) -> PMMTalk:
    """The paper-size model (or a tiny one) with all three branches, random weights."""
    torch.manual_seed(0)
    generator = folder / "wav2lip.pth"
    torch.save({"state_dict": Wav2LipCheckpoint().state_dict()}, generator)
    make = tiny_config if tiny else paper_config
    overrides = dict(text_stream=True, recognizer="faster-whisper", visual=True, fps=10) if tiny else {}
    config = make(audio_checkpoint=None, wav2lip_checkpoint=str(generator), **overrides)
    return PMMTalk(config).eval()


def run_session(model: PMMTalk, samples: np.ndarray, hop_times: list[float] | None = None,
                paced_from: float | None = None) -> np.ndarray:
    """One live session in 10 ms pushes -> its coefficients. ``hop_times``: each push's duration is
    appended; ``paced_from``: push k waits until its audio would have come in (k + 1 hops after it),
    and the time recorded is from then to the push's return (so a backlog adds to it)."""
    session = StreamSession(model)
    out = []
    for k, start in enumerate(range(0, len(samples), HOP_SAMPLES)):
        began = time.perf_counter()
        if paced_from is not None:  # from when its audio came in: a backlog counts
            began = paced_from + (k + 1) * HOP_S
            time.sleep(max(began - time.perf_counter(), 0.0))
        out.append(session.push(samples[start:start + HOP_SAMPLES]))
        if hop_times is not None:
            hop_times.append(time.perf_counter() - began)
    out.append(session.flush())
    return np.concatenate([o for o in out if len(o)])


class BranchClock:
    """Wall time spent in each branch's push and flush of one session."""

    def __init__(self, session: StreamSession):
        self.spent: dict[str, float] = {}
        self._wrap(session.audio, "audio")
        if session.text is not None:
            self._wrap(session.text, "text")
        if session.mouths is not None:
            self._wrap(session.mouths, "visual: Wav2Lip")
        self._wrap(session, "visual: mouth encoder", methods=("_add_visual",))

    def _wrap(self, obj, branch: str, methods=("push", "flush")) -> None:
        for method in methods:
            inner = getattr(obj, method)

            def timed(*args, _inner=inner, **kwargs):
                start = time.perf_counter()
                try:
                    return _inner(*args, **kwargs)
                finally:
                    self.spent[branch] = self.spent.get(branch, 0.0) + time.perf_counter() - start

            setattr(obj, method, timed)


def per_branch(model: PMMTalk, samples: np.ndarray) -> None:
    session = StreamSession(model)
    clock = BranchClock(session)
    hops = []
    start = time.perf_counter()
    for offset in range(0, len(samples), HOP_SAMPLES):
        began = time.perf_counter()
        session.push(samples[offset:offset + HOP_SAMPLES])
        hops.append(time.perf_counter() - began)
    session.flush()
    total = time.perf_counter() - start
    count = len(hops)
    print("\n| branch, live | ms per 10 ms hop (mean) |\n|---|---|")
    for branch, spent in clock.spent.items():
        print(f"| {branch} | {1000 * spent / count:.2f} |")
    print(f"| fusion, decoder, the rest | {1000 * (total - sum(clock.spent.values())) / count:.2f} |")
    hop_ms = 1000 * np.array(hops)
    print(f"| **whole hop** (p50 / p95 / max) | **{1000 * total / count:.2f}** "
          f"({np.percentile(hop_ms, 50):.2f} / {np.percentile(hop_ms, 95):.1f} / {hop_ms.max():.1f}) |")


def characters(model: PMMTalk, samples: np.ndarray, count: int) -> tuple[float, np.ndarray, int]:
    """``count`` characters at once: (real-time factor as fast as they go, the waits fed at real time
    (s), hops that came back after the next hop's audio)."""
    def together(paced: bool) -> tuple[float, list[float]]:
        waits: list[list[float]] = [[] for _ in range(count)]
        start = time.perf_counter() + 0.05
        threads = [threading.Thread(target=run_session, args=(model, samples, waits[i], start if paced else None))
                   for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return time.perf_counter() - start, [w for ws in waits for w in ws]

    wall, _ = together(paced=False)
    _, waits = together(paced=True)
    waits = np.array(waits)
    return len(samples) / 16000 / wall, waits, int(np.sum(waits > HOP_S))


def gpu_memory_line(device: torch.device) -> str:
    if device.type != "cuda":
        return "GPU memory: - (on the CPU)"
    peak = torch.cuda.max_memory_allocated(device) / 2**20
    held = "?"
    try:
        apps = subprocess.run(["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                              capture_output=True, text=True, timeout=20).stdout
        mine = [line.split(",")[1].strip() for line in apps.splitlines() if line.split(",")[0].strip() == str(os.getpid())]
        if mine:
            held = f"{mine[0]} MiB"
        else:
            total = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                                   capture_output=True, text=True, timeout=20).stdout.split()
            held = f"{total[0]} MiB on the whole GPU (this process not listed)" if total else "?"
    except (OSError, subprocess.TimeoutExpired, IndexError):
        pass
    return f"GPU memory: torch peak {peak:.0f} MiB; held by the process (nvidia-smi): {held}"


def shipped_default(compute: str, samples: np.ndarray) -> None:
    """The shipped model, live, on the CPU and on ``compute``."""
    rows = {}
    for where in dict.fromkeys(["cpu", compute]):
        model = set_compute(load_model("default"), where)
        run_session(model, samples[:16000])  # warm-up: loads, kernels
        start = time.perf_counter()
        coeffs = run_session(model, samples)
        rows[where] = (len(samples) / 16000 / (time.perf_counter() - start), coeffs)
    print("\n| shipped default, 1 character | real-time factor | largest difference from the CPU |\n|---|---|---|")
    for where, (factor, coeffs) in rows.items():
        print(f"| {where} | {factor:.1f}x | {np.abs(coeffs - rows['cpu'][1]).max():.4f} |")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compute", default="cuda", help="cuda, cuda:N, or cpu for a dry run (default: cuda)")
    parser.add_argument("--seconds", type=float, default=10.0, help="of speech per character (the example, looped)")
    parser.add_argument("--characters", type=int, nargs="+", default=[1, 4, 8])
    parser.add_argument("--tiny", action="store_true", help="a tiny model with every branch (a dry run of this script)")
    args = parser.parse_args()
    samples = speech(args.seconds)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        try:
            model = set_compute(build(args.tiny, Path(tmp)), args.compute, half=False)
        except PmmtalkError as error:
            print(f"bench_gpu: {error}", file=sys.stderr)
            return 1
        device = torch.device(args.compute if args.compute != "cpu" else "cpu")
        name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
        print(f"# {'tiny' if args.tiny else 'paper-size'} PMMTalk live on {name} ({args.compute}), torch {torch.__version__}, "
              f"{args.seconds:g} s of speech per character, stated latency {latency_s(model.config):.2f} s")

        run_session(model, samples[:16000])  # warm-up: the recogniser, cuDNN's choices
        full = run_session(model, samples)
        if device.type == "cuda":
            set_compute(model, args.compute, half=True)  # float32 first: half then float loses the weights' bits
            run_session(model, samples[:16000])
            half = run_session(model, samples)
            print(f"\nfloat16 against float32 (wav2vec 2.0, Wav2Lip): largest coefficient difference "
                  f"{np.abs(half - full).max():.4f}, mean {np.abs(half - full).mean():.5f}")
        else:
            print("\nfloat16: not run on the CPU (it is for GPUs; tests/test_model_compute.py checks its numbers)")

        per_branch(model, samples)
        print("\n| characters | real-time factor (each, all at once) | wait of a hop fed at real time p50 / p95 / max | late hops |"
              "\n|---|---|---|---|")
        for count in args.characters:
            factor, waits, late = characters(model, samples, count)
            ms = 1000 * waits
            print(f"| {count} | {factor:.1f}x | {np.percentile(ms, 50):.1f} / {np.percentile(ms, 95):.1f} / {ms.max():.1f} ms "
                  f"| {late} of {len(waits)} |", flush=True)
        print(f"\n{gpu_memory_line(device)}")
    shipped_default(args.compute, samples)
    print(f"\nbench_gpu: done in {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
