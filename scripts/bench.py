"""Speed of the offline path (``make bench``): real-time factors measured in this one run.

`animate` = read the recording, phones (forced alignment with a transcript, phone recognition
without), render the 32 coefficients, idle layer, retarget, write the CSV take and its WAV.
Reported as seconds of audio per second of compute ("x real time"; the target is at least 20x on a
2-core machine), once cold (the first call in the process builds pocketsphinx's decoders: about
0.4 s for the aligner's dictionary, 0.15 s for the phone recogniser, a fixed cost whatever the
length) and warm (decoders reused, as in a session that animates several files). The target is
judged on the warm runs; the cold figure is printed beside it.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

from pmmtalk_live.evaluation import dev_set
from pmmtalk_live.offline import animate_file

TARGET_X = 20.0
EXAMPLE = Path(__file__).resolve().parents[1] / "pmmtalk_live" / "data"


def long_recording(folder: Path) -> tuple[Path, str, float]:
    """The dev set's five utterances and the bundled example back to back: one ~33 s file."""
    utts = dev_set()
    example, rate = sf.read(EXAMPLE / "example.wav", dtype="float32")
    pieces, words = [], []
    for utt in utts:
        pieces += [utt.audio.samples, np.zeros(8000, np.float32)]
        words.append(utt.text)
    pieces.append(example)
    words.append((EXAMPLE / "example.txt").read_text())
    audio = np.concatenate(pieces)
    path = folder / "long.wav"
    sf.write(path, audio, rate)
    return path, " ".join(words), len(audio) / rate


def timed(path: Path, text: str | None, out: Path) -> float:
    started = time.perf_counter()
    animate_file(path, out, text=text, show_progress=False, preset="arkit", animator="phonetic")
    return time.perf_counter() - started


def main() -> int:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        path, text, duration_s = long_recording(tmp)
        for label, transcript in (("with transcript", text), ("without transcript", None)):
            cold = timed(path, transcript, tmp / f"cold-{len(rows)}")
            warm = min(timed(path, transcript, tmp / f"warm-{len(rows)}-{i}") for i in range(3))
            rows.append((label, duration_s, cold, warm))

    ok = True
    print(f"animate, {rows[0][1]:.1f} s recording, 60 fps, preset arkit (target >= {TARGET_X:g}x real time)")
    for label, duration_s, cold, warm in rows:
        x_cold, x_warm = duration_s / cold, duration_s / warm
        ok &= x_warm >= TARGET_X
        print(f"  {label:<19} cold {cold:6.3f} s = {x_cold:5.1f}x real time   "
              f"warm {warm:6.3f} s = {x_warm:5.1f}x real time")
    print("bench:", "PASS" if ok else "FAIL", f"(warm runs >= {TARGET_X:g}x)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
