"""Hourly and day/night HRV are computed on the right subsets of the NN series."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from holterlab.hrv import compute_hrv
from holterlab.hrv.frequency import short_term_spectra
from holterlab.hrv.nn import nn_intervals
from holterlab.hrv.segments import clock_seconds, day_night_hrv, hourly_hrv, in_clock_window
from holterlab.hrv.time_domain import time_domain
from holterlab.params.hrv import HRVParams
from tests.hrv.synth import beats_from_rr

START = dt.datetime(2024, 3, 1, 21, 30, 0)


def _record(hours=26.0, seed=0):
    """Beats starting at 21:30: NN ~1000 ms from 00:00 to 06:00, ~700 ms otherwise."""
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 / 0.7)
    rr = np.full(n, 700.0)
    for _ in range(3):  # rate by clock time of each beat (fixed point)
        t = np.concatenate([[0.0], np.cumsum(rr)[:-1]]) / 1000.0
        night = in_clock_window(clock_seconds(START) + t, 0.0, 6.0)
        rr = np.where(night, 1000.0, 700.0)
    rr = rr + rng.normal(0, 25, n) + 20 * np.sin(2 * np.pi * 0.1 * t)
    t_end = np.cumsum(rr) / 1000.0
    rr = rr[t_end < hours * 3600]
    labels = np.full(rr.size + 1, "N")
    labels[rng.choice(np.arange(2, rr.size - 2), 300, replace=False)] = "V"
    return beats_from_rr(rr, fs=1000.0, t0_s=0.5), labels


@pytest.fixture(scope="module")
def record():
    beats, labels = _record()
    s = nn_intervals(beats, labels, 1000.0)
    origin = -np.mod(clock_seconds(START), 300.0)
    segs = short_term_spectra(s.nn_ms, s.times_s, adjacent=s.adjacent, segment_origin_s=origin)
    return beats, labels, s, segs


def test_hourly_values_equal_time_domain_on_each_clock_hour(record):
    _, _, s, segs = record
    hours = hourly_hrv(s.nn_ms, s.times_s, adjacent=s.adjacent, segments=segs, start_time=START)
    assert len(hours) == 27  # 21:00 (partial) ... 23:00 next day (partial)
    assert hours[0].start == "2024-03-01T21:00:00" and hours[0].end == "2024-03-01T22:00:00"
    assert hours[0].offset_s == -1800.0 and hours[3].start == "2024-03-02T00:00:00"
    for h in (hours[0], hours[3], hours[10], hours[-1]):
        mask = (s.times_s >= h.offset_s) & (s.times_s < h.offset_s + 3600)
        sub = s.subset(mask)
        td = time_domain(sub.nn_ms, sub.times_s, adjacent=sub.adjacent)
        assert h.n_nn == len(sub)
        assert h.mean_nn_ms == pytest.approx(td["mean_nn_ms"], rel=1e-12)
        assert h.sdnn_ms == pytest.approx(td["sdnn_ms"], rel=1e-9)
        assert h.rmssd_ms == pytest.approx(td["rmssd_ms"], rel=1e-9)
        assert h.pnn50_pct == pytest.approx(td["pnn50_pct"], rel=1e-9)
        in_hour = (segs.start_s >= h.offset_s) & (segs.start_s < h.offset_s + 3600)
        assert h.n_segments == in_hour.sum()
        assert h.lf_ms2 == pytest.approx(segs.lf[in_hour].mean(), rel=1e-9)
        assert h.hf_ms2 == pytest.approx(segs.hf[in_hour].mean(), rel=1e-9)
        assert h.lf_hf == pytest.approx(np.mean(segs.lf[in_hour] / segs.hf[in_hour]), rel=1e-9)
    assert hours[0].n_segments == 6  # 21:30-22:00
    assert hours[4].mean_nn_ms == pytest.approx(1000, abs=5)  # 01:00
    assert hours[12].mean_nn_ms == pytest.approx(700, abs=5)  # 09:00


def test_day_and_night_use_their_clock_windows(record):
    _, _, s, segs = record
    day, night = day_night_hrv(
        s.nn_ms, s.times_s, adjacent=s.adjacent, segments=segs, start_time=START
    )
    assert (day.start, day.end, night.start, night.end) == ("08:00", "20:00", "00:00", "06:00")
    tod = clock_seconds(START) + s.times_s
    for period, (a, b) in ((day, (8, 20)), (night, (0, 6))):
        sub = s.subset(in_clock_window(tod, a, b))
        td = time_domain(sub.nn_ms, sub.times_s, adjacent=sub.adjacent)
        assert period.n_nn == len(sub)
        assert period.mean_nn_ms == pytest.approx(td["mean_nn_ms"], rel=1e-12)
        assert period.sdnn_ms == pytest.approx(td["sdnn_ms"], rel=1e-9)
        assert period.rmssd_ms == pytest.approx(td["rmssd_ms"], rel=1e-9)
        seg_tod = clock_seconds(START) + segs.start_s
        inside = in_clock_window(seg_tod, a, b) & in_clock_window(seg_tod + 299.9, a, b)
        assert period.n_segments == inside.sum()
        assert period.lf_ms2 == pytest.approx(segs.lf[inside].mean(), rel=1e-9)
    assert night.mean_nn_ms == pytest.approx(1000, abs=3)
    assert day.mean_nn_ms == pytest.approx(700, abs=3)
    assert night.n_segments == 72 and day.n_segments == 144


def test_windows_that_wrap_midnight(record):
    _, _, s, segs = record
    p = HRVParams(night_start_h=22.0, night_end_h=6.0, day_start_h=7.5, day_end_h=21.25)
    day, night = day_night_hrv(
        s.nn_ms, s.times_s, adjacent=s.adjacent, segments=segs, params=p, start_time=START
    )
    assert (night.start, night.end, day.start, day.end) == ("22:00", "06:00", "07:30", "21:15")
    tod = np.mod(clock_seconds(START) + s.times_s, 86400)
    assert night.n_nn == int(((tod >= 22 * 3600) | (tod < 6 * 3600)).sum())
    assert 700 < night.mean_nn_ms < 1000


def test_without_start_time_hours_count_from_zero_and_no_day_night():
    beats, labels = _record(hours=3.0)
    res = compute_hrv(beats, labels, 1000.0)
    assert [h.offset_s for h in res.hourly] == [0.0, 3600.0, 7200.0]
    assert all(h.start is None for h in res.hourly)
    assert res.day is None and res.night is None
    assert res.hourly[0].n_segments == 12  # the grid starts at sample 0, 0.5 s before beat 1


def test_compute_hrv_aligns_segments_with_the_clock(record):
    beats, labels, s, segs = record
    res = compute_hrv(beats, labels, 1000.0, start_time=START)
    assert res.hourly[0].n_segments == 6
    assert res.night.n_segments == 72
    assert res.short_term.n_segments == len(segs)
    assert np.all(np.mod(clock_seconds(START) + segs.start_s, 300.0) == 0)
