"""Several characters in one daemon: CPU per character for 1, 2 and 4 characters (docs/performance.md,
"Several characters"), and whether batching the characters' Whisper encoder calls would pay.

    python scripts/bench_characters.py --seconds 20 --counts 1 2 4
    python scripts/bench_characters.py --live 30     # two characters at real-time pace, takes recorded

Each run is ``pmmtalk-live serve --characters FILE --fast`` (every character a copy of the bundled
example, looped to ``--seconds``, its own Live Link Face sink, no take); its CPU time (user + sys of
the process) less that of the same daemon on a 0.3 s clip (start-up: the model load, warm-up) is
divided by the audio animated. Then the Whisper encoder alone: one (80, M) window per call against
a batch of N windows in one call, as a batched hop of N characters would make it.

``--live S``: two characters (the example from two starting points, looped to S seconds) read at
real-time pace as a microphone delivers audio, both recording a take: the daemon's own summary per
character (frames sent, dropped, real-time factor) and each take's frame count against S x 60 fps.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from pmmtalk_live.audio.files import read_audio  # noqa: E402

EXAMPLE = REPO / "pmmtalk_live" / "data" / "example.wav"


def _clip(folder: Path, seconds: float) -> Path:
    audio = read_audio(EXAMPLE)
    samples = np.resize(audio.samples, int(seconds * audio.sample_rate_hz))
    path = folder / f"clip_{seconds:g}.wav"
    sf.write(path, samples, audio.sample_rate_hz)
    return path


def _serve_cpu_s(folder: Path, clip: Path, count: int) -> tuple[float, float]:
    """(CPU s, wall s) of one daemon of ``count`` characters on ``clip``."""
    cast = folder / f"cast_{count}.yaml"
    cast.write_text("characters:\n" + "".join(
        f"  - {{subject: C{i}, input: {clip}, livelink: 127.0.0.1:{19100 + i}}}\n" for i in range(count)))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "pmmtalk_live.cli", "serve", "--characters", str(cast), "--fast",
                    "--no-osc", "--control", "off", "-q"], check=True, capture_output=True, cwd=REPO)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), wall


def _encoder_batches(counts: list[int], repeats: int = 30) -> None:
    from pmmtalk_live.model.encoders.whisper import Geometry, encode_windows, speech_model
    from pmmtalk_live.model.inference import load_model

    model = load_model("default")
    encoder = speech_model(model.config.speech_model, "cpu", 1)
    mels = Geometry.of(model.config).window_mels
    rng = np.random.default_rng(0)
    for count in counts:
        windows = rng.standard_normal((count, 80, mels)).astype(np.float32)
        encode_windows(encoder, windows)
        start = time.process_time()
        for _ in range(repeats):
            encode_windows(encoder, windows)
        batched = (time.process_time() - start) / repeats
        start = time.process_time()
        for _ in range(repeats):
            for one in windows:
                encode_windows(encoder, one[None])
        single = (time.process_time() - start) / repeats
        print(f"encoder, {count} window(s) of {mels} mels: batched {batched * 1000:.1f} ms CPU, "
              f"one call each {single * 1000:.1f} ms CPU ({single / batched:.2f}x)")


def _live(folder: Path, seconds: float) -> None:
    from pmmtalk_live.sinks.csv_take import read_take

    audio = read_audio(EXAMPLE)
    cast = folder / "cast_live.yaml"
    lines = []
    for i, subject in enumerate(("Ada", "Bob")):
        samples = np.resize(np.roll(audio.samples, -i * 3 * audio.sample_rate_hz), int(seconds * audio.sample_rate_hz))
        sf.write(folder / f"{subject}.wav", samples, audio.sample_rate_hz)
        lines.append(f"  - {{subject: {subject}, input: {folder / subject}.wav, livelink: 127.0.0.1:{19200 + i}}}\n")
    cast.write_text("characters:\n" + "".join(lines))
    result = subprocess.run([sys.executable, "-m", "pmmtalk_live.cli", "serve", "--characters", str(cast), "--no-osc",
                             "--control", "off", "--record", str(folder / "takes")], capture_output=True, text=True,
                            cwd=REPO, check=True)
    print(f"two characters live, {seconds:g} s each at real-time pace (the daemon's summary):")
    for line in result.stdout.splitlines() + result.stderr.splitlines():
        if ": served " in line:
            print("  " + line.strip())
    for subject in ("Ada", "Bob"):
        take = read_take(folder / "takes" / f"live_1_{subject}_raw.csv")
        print(f"  take {subject}: {take.num_frames} frames at {take.fps:g} fps ({seconds * 60:.0f} expected)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="audio per character")
    parser.add_argument("--counts", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--live", type=float, metavar="S", help="only the live check: two characters, S s each")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        if args.live:
            _live(folder, args.live)
            return
        clip, short = _clip(folder, args.seconds), _clip(folder, 0.3)
        for count in args.counts:
            start_cpu, _ = _serve_cpu_s(folder, short, count)
            cpu, wall = _serve_cpu_s(folder, clip, count)
            per_character = (cpu - start_cpu) / (count * args.seconds)
            print(f"{count} character(s), {args.seconds:g} s each: {cpu:.1f} s CPU ({start_cpu:.1f} s start-up), "
                  f"{wall:.1f} s wall; {per_character:.3f} s CPU per character per second of audio")
    _encoder_batches(args.counts)


if __name__ == "__main__":
    main()
