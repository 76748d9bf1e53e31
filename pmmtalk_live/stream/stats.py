"""Live statistics of a serving session, in constant memory, and the one-line status display.

Latency here is what the user feels: from the moment the audio of a frame's instant entered the
microphone to the moment the frame left the last socket. It includes the look-ahead (a frame waits
for ``lookahead_ms`` of later audio), the device's block size and the compute.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

LATENCY_BIN_MS = 1.0
LATENCY_MAX_MS = 5000.0
"""Latencies are counted in a histogram of 1 ms bins up to 5 s (the last bin holds anything longer),
so percentiles over a run of days cost the same memory as over a minute."""

LEVEL_FLOOR_DB = -60.0
METER_WIDTH = 12


class LatencyHistogram:
    """Percentiles of a stream of latencies, in constant memory."""

    def __init__(self) -> None:
        self.counts = np.zeros(int(LATENCY_MAX_MS / LATENCY_BIN_MS) + 1, np.int64)
        self.total = 0
        self.max_ms = 0.0

    def add(self, latency_ms: float) -> None:
        index = min(max(int(latency_ms / LATENCY_BIN_MS), 0), len(self.counts) - 1)
        self.counts[index] += 1
        self.total += 1
        self.max_ms = max(self.max_ms, latency_ms)

    def percentile(self, q: float) -> float:
        """The q-th percentile (0..100) in ms, to the bin's upper edge; NaN before the first sample."""
        if self.total == 0:
            return math.nan
        rank = math.ceil(q / 100.0 * self.total)
        index = int(np.searchsorted(np.cumsum(self.counts), max(rank, 1)))
        return (index + 1) * LATENCY_BIN_MS

    def reset(self) -> None:
        self.counts[:] = 0
        self.total = 0
        self.max_ms = 0.0


@dataclass
class Snapshot:
    """The figures the status line and the final summary show."""

    frames_sent: int
    frames_dropped: int
    latency_p50_ms: float
    latency_p95_ms: float
    latency_max_ms: float
    real_time_factor: float
    """Compute time / audio time over the run (below 1 keeps up; the lower, the more headroom)."""
    level_db: float
    audio_s: float


class LiveStats:
    """Counters of one session. The engine thread writes; any thread may read a ``snapshot``."""

    def __init__(self) -> None:
        self.latency = LatencyHistogram()
        """Over the whole run."""
        self.recent_latency = LatencyHistogram()
        """Since the status line was last drawn."""
        self.frames_sent = 0
        self.frames_dropped = 0
        self.compute_s = 0.0
        self.audio_s = 0.0
        self.level_db = LEVEL_FLOOR_DB

    def frame_sent(self, latency_s: float) -> None:
        self.frames_sent += 1
        self.latency.add(latency_s * 1000.0)
        self.recent_latency.add(latency_s * 1000.0)

    def frames_skipped(self, count: int) -> None:
        self.frames_dropped += count

    def hop_done(self, compute_s: float, audio_s: float, samples: np.ndarray) -> None:
        """One hop of ``audio_s`` seconds processed in ``compute_s``; ``samples`` feed the level meter."""
        self.compute_s += compute_s
        self.audio_s += audio_s
        rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64)))) if len(samples) else 0.0
        level = 20.0 * math.log10(rms) if rms > 1e-6 else LEVEL_FLOOR_DB
        # a meter falls back slowly and jumps up at once, so short syllables stay visible
        self.level_db = max(level, self.level_db - 1.5)

    def snapshot(self, recent: bool = False) -> Snapshot:
        hist = self.recent_latency if recent else self.latency
        return Snapshot(self.frames_sent, self.frames_dropped, hist.percentile(50), hist.percentile(95),
                        hist.max_ms, self.compute_s / self.audio_s if self.audio_s else math.nan,
                        self.level_db, self.audio_s)


def level_meter(level_db: float, width: int = METER_WIDTH) -> str:
    """``[#######     ]`` from LEVEL_FLOOR_DB to 0 dBFS."""
    filled = round(width * min(max((level_db - LEVEL_FLOOR_DB) / -LEVEL_FLOOR_DB, 0.0), 1.0))
    return "[" + "#" * filled + " " * (width - filled) + "]"


def status_line(snap: Snapshot, extra: str = "") -> str:
    """One compact line: level, time, frames, latency, real-time factor, drops, then ``extra``."""
    minutes, seconds = divmod(int(snap.audio_s), 60)
    line = (f"{level_meter(snap.level_db)} {snap.level_db:4.0f} dB  {minutes:02d}:{seconds:02d}  "
            f"frames {snap.frames_sent}  latency p50 {_ms(snap.latency_p50_ms)} p95 {_ms(snap.latency_p95_ms)}  "
            f"rtf {snap.real_time_factor:.2f}  dropped {snap.frames_dropped}")
    return f"{line}  {extra}" if extra else line


def _ms(value: float) -> str:
    return "--" if math.isnan(value) else f"{value:.0f} ms"


class StatusPrinter:
    """Redraws the status line on a terminal (``\\r``, every ``interval_s``); elsewhere (a log, CI)
    prints a plain line every ``log_interval_s``."""

    def __init__(self, stream, interval_s: float = 0.25, log_interval_s: float = 5.0) -> None:
        self.stream = stream
        self.tty = hasattr(stream, "isatty") and stream.isatty()
        self.interval_s = interval_s if self.tty else log_interval_s
        self._next = time.monotonic() + self.interval_s
        self._drawn = False

    def maybe_print(self, stats: LiveStats, extra: str = "") -> None:
        now = time.monotonic()
        if now < self._next:
            return
        self._next = now + self.interval_s
        line = status_line(stats.snapshot(recent=True), extra)
        stats.recent_latency.reset()
        if self.tty:
            self.stream.write("\r\033[K" + line)
            self._drawn = True
        else:
            self.stream.write(line + "\n")
        self.stream.flush()

    def end(self) -> None:
        """Leave the terminal on a fresh line."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
