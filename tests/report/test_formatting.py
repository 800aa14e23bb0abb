"""The one shared number/time formatting of reports."""

from __future__ import annotations

import datetime as dt

import pytest

from holterlab.report.formatting import DASH, Clock, digits_for, fmt, fmt_duration, fmt_unit


@pytest.mark.parametrize(
    "value, key, expected",
    [
        (None, "sdnn_ms", DASH),
        (float("nan"), "sdnn_ms", DASH),
        (4512, None, "4,512"),
        (52.097, "min_bpm", "52"),
        (52.097, "bpm", "52"),
        (127.3, "sdnn_ms", "127.3"),
        (9.131, "burden_pct", "9.1"),
        (0.043, "burden_pct", "0.04"),
        (3.472, "pause_s", "3.47"),
        (3.472, "longest_s", "3.5"),
        (-0.1249, "extreme_mv", "-0.12"),
        (-0.001, "extreme_mv", "0.00"),
        (1.0045, "lf_hf", "1.00"),
        (9846.06, "total_power_ms2", "9,846"),
        (True, None, "yes"),
        ("abc", None, "abc"),
    ],
)
def test_fmt(value, key, expected):
    assert fmt(value, key) == expected


def test_digits_override_and_units():
    assert fmt(75.26, "mean_bpm", digits=1) == "75.3"
    assert digits_for("unknown_field") == 1
    assert fmt_unit(52.4, "min_bpm") == "52 bpm"
    assert fmt_unit(9.131, "burden_pct") == "9.1%"
    assert fmt_unit(None, "sdnn_ms") == DASH
    assert fmt_unit(532.4, "lf_ms2") == "532 ms²"


@pytest.mark.parametrize(
    "seconds, expected",
    [
        (54.87, "54.9 s"),
        (141.04, "2 min 21 s"),
        (3600, "1 h 00 min"),
        (86399, "23 h 59 min"),
        (3 * 86400 + 7200, "3 d 2 h 00 min"),
        (None, DASH),
    ],
)
def test_fmt_duration(seconds, expected):
    assert fmt_duration(seconds) == expected


def test_clock_wall_elapsed_and_multi_day():
    start = dt.datetime(2000, 1, 3, 9, 0, 0)
    c = Clock(start)
    assert c(3332.22) == "09:55:32" and c(3332.22, seconds=False) == "09:55"
    assert c.span(0, 61) == "09:00:00–09:01:01"
    assert c.precise(0.948) == "09:00:00.9"
    assert c.date() == "2000-01-03 (Mon)"
    assert Clock(None)(3725) == "+01:02:05"
    result = {"recording": {"start_time": "2000-01-03T20:00:00", "duration_s": 2 * 86400.0}}
    multi = Clock.from_result(result)
    assert multi.multi_day and multi(5 * 3600) == "D2 01:00:00"
    assert Clock.from_result({"recording": {"start_time": None}}).wall is False
