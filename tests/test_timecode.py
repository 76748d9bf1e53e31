"""Live Link Face timecode: what Unreal's importer reads as each row's time."""

from __future__ import annotations

import datetime
import re

import numpy as np
import pytest

from pmmtalk_live.timecode import format_timecode, parse_timecode, time_of_day_s

TIMECODE = re.compile(r"^\d\d:\d\d:\d\d:\d\d\.\d\d\d$")


def test_a_real_app_timecode_round_trips():
    seconds = 19 * 3600 + 17 * 60 + 23 + 30.429 / 60
    assert format_timecode(seconds) == "19:17:23:30.429"
    assert parse_timecode("19:17:23:30.429") == pytest.approx(seconds, abs=1e-9)


def test_frames_count_at_60_fps_with_thousandths():
    codes = [format_timecode(k / 60) for k in range(62)]
    assert all(TIMECODE.match(c) for c in codes)
    assert codes[:3] == ["00:00:00:00.000", "00:00:00:01.000", "00:00:00:02.000"]
    assert codes[59:] == ["00:00:00:59.000", "00:00:01:00.000", "00:00:01:01.000"]
    assert format_timecode(1 / 120) == "00:00:00:00.500"


def test_rounding_carries_into_the_next_second_and_wraps_at_midnight():
    assert format_timecode(59.9999 / 60) == "00:00:01:00.000"
    assert format_timecode(3599.999999) == "01:00:00:00.000"
    assert format_timecode(86_400 + 1.5) == "00:00:01:30.000"


def test_format_then_parse_is_exact_to_a_thousandth_of_a_frame():
    seconds = np.random.default_rng(0).uniform(0, 86_399, 500)
    back = np.array([parse_timecode(format_timecode(s)) for s in seconds])
    assert np.abs(back - seconds).max() <= 0.5 / 60_000 + 1e-9


@pytest.mark.parametrize("text", ["12:00:00", "12:00:00:00.", "12:61:00:00.000", "12:00:60:00.000",
                                  "12:00:00:60.000", "ab:cd:ef:gh.ijk", ""])
def test_parse_rejects_what_is_not_a_timecode(text):
    with pytest.raises(ValueError, match="timecode"):
        parse_timecode(text)


def test_parse_accepts_a_timecode_without_fraction():
    assert parse_timecode("00:00:01:30") == pytest.approx(1.5)


def test_time_of_day_is_the_local_clock_since_midnight():
    epoch_s = 1_700_000_000.25
    local = datetime.datetime.fromtimestamp(epoch_s)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    assert time_of_day_s(epoch_s) == pytest.approx((local - midnight).total_seconds(), abs=1e-6)
    assert 0 <= time_of_day_s() < 86_400
