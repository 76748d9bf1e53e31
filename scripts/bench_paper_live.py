"""The paper-size PMMTalk live on this machine: a ``StreamSession`` in 10 ms pushes with every branch
streaming (wav2vec 2.0 base in chunks, the streaming recogniser's words, the Wav2Lip mouths), CPU time
per branch over audio time. Random weights (the speed does not depend on them; nothing is downloaded).

    python scripts/bench_paper_live.py [--seconds 4]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import soundfile as sf
import torch

from pmmtalk_live.model.config import paper_config
from pmmtalk_live.model.encoders.visual import Wav2LipCheckpoint
from pmmtalk_live.model.inference import StreamSession, latency_s
from pmmtalk_live.model.pmmtalk import PMMTalk

EXAMPLE = Path(__file__).resolve().parents[1] / "pmmtalk_live" / "data" / "example.wav"
HOP_SAMPLES = 160


class Clock:
    """CPU time spent in wrapped methods, per branch."""

    def __init__(self):
        self.spent: dict[str, float] = {}

    def wrap(self, obj, method: str, branch: str) -> None:
        inner = getattr(obj, method)

        def timed(*args, **kwargs):
            start = time.process_time()
            try:
                return inner(*args, **kwargs)
            finally:
                self.spent[branch] = self.spent.get(branch, 0.0) + time.process_time() - start

        setattr(obj, method, timed)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0, help="of the bundled example")
    args = parser.parse_args()
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        generator = Path(tmp) / "wav2lip.pth"
        torch.save({"state_dict": Wav2LipCheckpoint().state_dict()}, generator)
        config = paper_config(audio_checkpoint=None, wav2lip_checkpoint=str(generator))
        model = PMMTalk(config).eval()
        samples, _ = sf.read(EXAMPLE, dtype="float32")
        samples = samples[:int(args.seconds * 16000)]
        session = StreamSession(model)
        clock = Clock()
        for method in ("push", "flush"):
            clock.wrap(session.audio, method, "audio: wav2vec 2.0 base, chunked")
            clock.wrap(session.text, method, f"text: {config.recognizer} streaming, a pass every {config.text_step_s:g} s")
            clock.wrap(session.mouths, method, "visual: Wav2Lip mouths")
        clock.wrap(session, "_add_visual", "visual: Wav2Lip mouths")  # the mouth encoder
        start = time.process_time()
        frames = sum(len(session.push(samples[i:i + HOP_SAMPLES])) for i in range(0, len(samples), HOP_SAMPLES))
        frames += len(session.flush())
        total = time.process_time() - start
    seconds = len(samples) / 16000
    print(f"paper-size PMMTalk live: {seconds:.1f} s of speech in 10 ms pushes, {frames} frames at {config.fps} fps, "
          f"{torch.get_num_threads()} torch threads, stated latency {latency_s(config):.2f} s; CPU time / audio time:")
    for branch, spent in clock.spent.items():
        print(f"  {branch:<58} {spent / seconds:6.2f}")
    print(f"  {'fusion and decoder (the rest)':<58} {(total - sum(clock.spent.values())) / seconds:6.2f}")
    print(f"  {'whole':<58} {total / seconds:6.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
