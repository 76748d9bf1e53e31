"""The pitch tracker of pmmtalk_live.prosody measured against Praat, and its speed (docs/prosody.md).

    .venv/bin/python scripts/prosody_check.py            # dev set, held-out set, codec2 set (if installed)

Per set: gross pitch error (steps voiced in both with |error| > 20 %) and voicing precision/recall
against Praat's autocorrelation tracker (``to_pitch_ac``, 60..500 Hz, 10 ms); the same for Praat's
cross-correlation tracker as a second opinion; then microseconds per 10 ms hop (ours: the pitch
alone and the whole prosody stream; Praat: its own time on the same audio). Needs praat-parselmouth.
"""

from __future__ import annotations

import time

import numpy as np
import parselmouth

from pmmtalk_live.prosody import HOP, ProsodyStream, estimate, prosody_track
from pmmtalk_live.tracks import SAMPLE_RATE_HZ

STEPS_PER_S = SAMPLE_RATE_HZ / HOP
F0_MIN_HZ, F0_MAX_HZ = 60.0, 500.0


def praat_f0(samples: np.ndarray, method: str) -> np.ndarray:
    """Praat's F0 (0 unvoiced) on our 10 ms step grid, shape (ceil(N / HOP),)."""
    # Praat centres its frames in the sound: for a whole number of steps they fall on our grid or
    # half a step off it, and half a step of silence on both sides toggles which.
    end = (-len(samples)) % HOP
    for pad in (0, HOP // 2):
        padded = np.concatenate([np.zeros(pad), samples, np.zeros(end + pad)]).astype(np.float64)
        track = getattr(parselmouth.Sound(padded, SAMPLE_RATE_HZ), f"to_pitch_{method}")(
            time_step=1 / STEPS_PER_S, pitch_floor=F0_MIN_HZ, pitch_ceiling=F0_MAX_HZ)
        times = track.xs() - pad / SAMPLE_RATE_HZ
        if int(round(times[0] * SAMPLE_RATE_HZ)) % HOP == 0:
            break
    f0 = track.selected_array["frequency"]
    steps = np.arange(int(np.ceil(len(samples) / HOP))) / STEPS_PER_S
    nearest = np.clip(np.round((steps - times[0]) * STEPS_PER_S).astype(int), 0, len(times) - 1)
    return np.where(np.abs(times[nearest] - steps) < 0.6 / SAMPLE_RATE_HZ, f0[nearest], 0.0)


def our_f0(samples: np.ndarray) -> np.ndarray:
    """Our F0 per 10 ms step: the stream read at 100 frames per second."""
    return prosody_track(samples, STEPS_PER_S, 0.1).f0_hz[:int(np.ceil(len(samples) / HOP))]


def compare(reference: np.ndarray, other: np.ndarray) -> np.ndarray:
    """Counts: both voiced, gross errors among them, voiced in other, voiced in reference."""
    both = (reference > 0) & (other > 0)
    gross = both & (np.abs(other - reference) > 0.2 * reference)
    return np.array([both.sum(), gross.sum(), (other > 0).sum(), (reference > 0).sum()])


def report(name: str, counts: np.ndarray) -> str:
    both, gross, voiced, reference = counts
    return (f"{name:>10}: GPE {100 * gross / max(both, 1):5.2f} %  voicing precision "
            f"{100 * both / max(voiced, 1):5.1f} %  recall {100 * both / max(reference, 1):5.1f} %")


def best_us_per_hop(run, hops: int, repeats: int = 3) -> float:
    """The fastest of ``repeats`` runs, in microseconds per hop (the least disturbed by other work)."""
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        run()
        times.append(time.perf_counter() - t0)
    return min(times) / hops * 1e6


def stream_live(samples: np.ndarray) -> None:
    """As the daemon does: a hop in, the frames it made ready out."""
    stream, next_frame = ProsodyStream(60.0, 0.1), 0
    for start in range(0, len(samples) - HOP + 1, HOP):
        stream.process(samples[start:start + HOP])
        ready = stream.frames_ready()
        if ready > next_frame:
            stream.take(next_frame, ready - next_frame)
            next_frame = ready


def speed(samples: np.ndarray) -> str:
    hops = len(samples) // HOP
    windows = [samples[i * HOP:i * HOP + 640] for i in range(hops - 4)]
    praat_windows = [samples[i * HOP:i * HOP + 800] for i in range(min(hops - 5, 2000))]
    pitch_us = best_us_per_hop(lambda: [estimate(w) for w in windows], len(windows))
    stream_us = best_us_per_hop(lambda: stream_live(samples), hops)
    sound = parselmouth.Sound(samples.astype(np.float64), SAMPLE_RATE_HZ)
    praat_us = best_us_per_hop(lambda: sound.to_pitch_ac(time_step=0.01, pitch_floor=F0_MIN_HZ,
                                                         pitch_ceiling=F0_MAX_HZ), hops)
    praat_live_us = best_us_per_hop(lambda: [praat_window(w) for w in praat_windows], len(praat_windows))
    return (f"speed per 10 ms hop ({len(samples) / SAMPLE_RATE_HZ:.0f} s of audio, best of 3): "
            f"YIN on every window {pitch_us:.1f} us, the whole live stream {stream_us:.1f} us; "
            f"Praat to_pitch_ac {praat_us:.1f} us on whole files, {praat_live_us:.1f} us called once per hop "
            f"on a 50 ms window as live would")


def praat_window(window: np.ndarray) -> float:
    """Praat's F0 of one live window: the least it needs for one frame at 60 Hz (3 periods, 50 ms)."""
    sound = parselmouth.Sound(window.astype(np.float64), SAMPLE_RATE_HZ)
    return sound.to_pitch_ac(time_step=0.01, pitch_floor=F0_MIN_HZ, pitch_ceiling=F0_MAX_HZ).selected_array[0][0]


def sets() -> dict[str, list]:
    from pmmtalk_live.evaluation.sets import dev_set, held_out_set
    out = {"dev": dev_set(), "held-out": held_out_set()}
    try:
        from pmmtalk_live.evaluation.codec2_examples import codec2_set
        out["codec2"] = codec2_set()
    except Exception as error:  # the package is optional
        print(f"codec2 set skipped: {error}")
    return out


def main() -> None:
    all_audio = []
    for set_name, utterances in sets().items():
        ours, cc = np.zeros(4, np.int64), np.zeros(4, np.int64)
        for utt in utterances:
            samples = utt.audio.samples.astype(np.float32)
            all_audio.append(samples)
            reference, mine = praat_f0(samples, "ac"), our_f0(samples)
            n = min(len(reference), len(mine))
            ours += compare(reference[:n], mine[:n])
            cc += compare(reference[:n], praat_f0(samples, "cc")[:n])
        seconds = sum(len(u.audio.samples) for u in utterances) / SAMPLE_RATE_HZ
        print(f"{set_name} set: {len(utterances)} utterances, {seconds:.0f} s, vs Praat ac")
        print(report("ours", ours))
        print(report("Praat cc", cc))
    print(speed(np.concatenate(all_audio)))


if __name__ == "__main__":
    main()
