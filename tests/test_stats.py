"""Live statistics: latency percentiles in constant memory, the status line a user reads."""

import io

import numpy as np
import pytest

from pmmtalk_live.stream.stats import LatencyHistogram, LiveStats, StatusPrinter, level_meter, status_line


def test_percentiles_match_numpy_to_a_bin():
    rng = np.random.default_rng(1)
    latencies = rng.gamma(4.0, 20.0, 20_000)
    hist = LatencyHistogram()
    for value in latencies:
        hist.add(value)
    for q in (50, 95, 99):
        assert hist.percentile(q) == pytest.approx(np.percentile(latencies, q), abs=1.5)
    assert hist.max_ms == pytest.approx(latencies.max())


def test_empty_and_huge():
    hist = LatencyHistogram()
    assert np.isnan(hist.percentile(50))
    hist.add(1e6)
    assert hist.percentile(50) > 4999


def test_status_line_reports_what_the_user_needs():
    stats = LiveStats()
    for _ in range(100):
        stats.hop_done(0.001, 0.01, np.full(160, 0.1, np.float32))
        stats.frame_sent(0.120)
    stats.frames_skipped(3)
    line = status_line(stats.snapshot(), "REC a_1_pm_raw.csv 1 s")
    assert "p50 121 ms" in line and "rtf 0.10" in line and "dropped 3" in line and "REC" in line
    assert "-20 dB" in line
    assert level_meter(0.0) == "[" + "#" * 12 + "]" and level_meter(-120.0) == "[" + " " * 12 + "]"


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    printer = StatusPrinter(out, log_interval_s=0.0)
    stats = LiveStats()
    stats.frame_sent(0.05)
    printer.maybe_print(stats)
    printer.maybe_print(stats)
    printer.end()
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and "\r" not in out.getvalue()
    assert "p50 51 ms" in lines[0] and "p50 --" in lines[1]  # the second covers only the time since the first
