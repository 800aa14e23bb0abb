"""Heart-rate summary, min/max times, day/night, hourly table, brady/tachy episodes."""

import datetime as dt

import numpy as np
import pytest

from holterlab.params.rhythm import RateParams
from holterlab.rhythm import analyze_rhythm
from holterlab.rhythm._input import prepare
from holterlab.rhythm.rate import hour_edges, running_rate
from tests.rhythm.rr_synth import RRBuilder, from_times

FS = 250.0
NO_AF = {"af": {"enabled": False}}


def constant_rate(pieces, start=0.5):
    """Beat times for consecutive (duration_s, bpm) pieces at constant rate."""
    times = [start]
    for duration, bpm in pieces:
        end = times[-1] + duration
        while times[-1] + 60.0 / bpm <= end + 1e-9:
            times.append(times[-1] + 60.0 / bpm)
    return np.array(times)


def analyze(times, labels=None, **kw):
    labels = labels if labels is not None else "N" * len(times)
    kw.setdefault("params", NO_AF)
    return analyze_rhythm(*from_times(times, labels, FS), FS, **kw)


def test_min_max_with_times_and_mean():
    times = constant_rate([(600, 70), (300, 45), (600, 70), (180, 120), (600, 70)])
    r = analyze(times)
    hr = r.heart_rate
    assert hr.min.bpm == pytest.approx(45, abs=0.5)
    assert hr.max.bpm == pytest.approx(120, abs=0.5)
    assert 600 < hr.min.time_s < 900  # centre of a window inside the slow stretch
    assert 1500 < hr.max.time_s < 1680
    assert hr.mean_bpm == pytest.approx(60 * len(times) / times[-1], rel=1e-6)
    assert hr.min.clock is None and hr.basis == "60 s window"


def test_min_max_beats_basis():
    times = constant_rate([(120, 70), (20, 40), (120, 70)])
    p = {"rate": {"minmax_basis": "beats", "minmax_beats": 8}, **NO_AF}
    r = analyze(times, params=p)
    assert r.heart_rate.min.bpm == pytest.approx(40, abs=0.5)
    assert r.heart_rate.basis == "8 beats"
    # a 20 s dip is too short to show fully in a 60 s window
    assert analyze(times).heart_rate.min.bpm > 50


def test_running_rate_skips_windows_across_excluded_time():
    times = constant_rate([(600, 60)])
    s = prepare(*from_times(times, "N" * len(times), FS), FS, excluded=[(300, 330)])
    t, bpm = running_rate(s, RateParams())
    assert np.allclose(bpm, 60.0)
    # no window ending within 48 s (80 % of 60 s) after the excluded part
    assert not np.any((t + 30 > 330) & (t + 30 < 330 + 47))


def test_clock_times_and_day_night_split():
    # 06:00 start: one hour at 55 bpm (night), then two hours at 85 bpm (day)
    times = constant_rate([(3600, 55), (7200, 85)], start=0.0)
    start = dt.datetime(2024, 3, 1, 6, 0, 0)
    r = analyze(times, start_time=start, duration_s=10800)
    assert r.night.mean_bpm == pytest.approx(55, abs=0.2)
    assert r.day.mean_bpm == pytest.approx(85, abs=0.2)
    assert r.night.analysable_s == pytest.approx(3600) and r.day.analysable_s == pytest.approx(7200)
    assert r.day.n_beats + r.night.n_beats == r.n_beats
    assert r.heart_rate.min.clock.startswith("2024-03-01T06:")
    assert r.heart_rate.max.clock.startswith("2024-03-01T0")
    assert r.night.min.bpm == pytest.approx(55, abs=0.5) and r.night.max.bpm < 85
    assert r.day.max.bpm == pytest.approx(85, abs=0.5) and r.day.min.bpm > 55
    # configurable boundaries: day from 06:30
    p = {"rate": {"day_start_h": 6.5}, **NO_AF}
    r2 = analyze(times, start_time=start, duration_s=10800, params=p)
    assert r2.night.analysable_s == pytest.approx(1800)


def test_day_night_undefined_without_start_time():
    r = analyze(constant_rate([(600, 60)]))
    assert r.day is None and r.night is None
    assert r.to_dict()["day"] is None


def test_hourly_table_follows_clock_hours_and_sums_to_totals():
    b = RRBuilder(seed=5)
    for _ in range(6):
        b.sinus(900, bpm=70, ectopy=0.05).run("V", 4, 150).pause(2.6).geminy("S", 4, 1)
    b.af(400, bpm=90)
    b.sinus(600)
    beats, labels, _ = b.build()
    start = dt.datetime(2024, 1, 1, 22, 40, 0)
    r = analyze_rhythm(
        beats, labels, FS, start_time=start, excluded=[(3000, 3100)], duration_s=beats[-1] / FS + 5
    )
    rows = r.hourly
    assert rows[0].clock == "2024-01-01T22:40:00" and rows[1].clock == "2024-01-01T23:00:00"
    assert rows[1].start_s == pytest.approx(1200.0)
    assert sum(x.n_beats for x in rows) == r.n_beats
    assert sum(x.v_beats for x in rows) == r.ventricular.total
    assert sum(x.s_beats for x in rows) == r.supraventricular.total
    assert sum(x.pauses for x in rows) == r.pauses.count == 6
    assert sum(x.analysable_s for x in rows) == pytest.approx(r.analysable_s)
    af_total = sum(e.duration_s for e in r.events_of("af"))
    assert af_total > 300
    assert sum(x.af_s for x in rows) == pytest.approx(af_total, abs=1e-6)
    df = r.hourly_frame()
    assert list(df["n_beats"]) == [x.n_beats for x in rows]


def test_hour_edges_without_start_time():
    assert hour_edges(7300.0, None).tolist() == [0.0, 3600.0, 7200.0, 7300.0]
    start = dt.datetime(2024, 1, 1, 10, 59, 0)
    assert hour_edges(3700.0, start).tolist() == [0.0, 60.0, 3660.0, 3700.0]


def test_brady_minimum_duration_rule():
    times = constant_rate([(300, 70), (50, 40), (300, 70), (90, 40), (300, 70)])
    r = analyze(times)
    (ev,) = r.events_of("brady")
    assert ev.start_s == pytest.approx(650, abs=5) and ev.duration_s == pytest.approx(90, abs=5)
    assert ev.rate_bpm == pytest.approx(40, abs=1) and ev.detail["min_rate_bpm"] == 40.0
    p = {"rate": {"brady_min_duration_s": 30}, **NO_AF}
    assert len(analyze(times, params=p).events_of("brady")) == 2
    p = {"rate": {"brady_bpm": 35}, **NO_AF}
    assert analyze(times, params=p).events_of("brady") == []


def test_tachy_minimum_duration_rule():
    times = constant_rate([(300, 70), (40, 130), (300, 70), (120, 130), (300, 70)])
    r = analyze(times)
    (ev,) = r.events_of("tachy")
    assert ev.duration_s == pytest.approx(120, abs=5) and ev.detail["max_rate_bpm"] == 130.0
    p = {"rate": {"tachy_min_duration_s": 20}, **NO_AF}
    assert len(analyze(times, params=p).events_of("tachy")) == 2


def test_rate_params_validate():
    with pytest.raises(ValueError):
        RateParams(brady_bpm=90, tachy_bpm=80)
    with pytest.raises(ValueError):
        RateParams(day_start_h=7, night_start_h=7)


def test_sinus_max_leaves_out_fast_af_and_vt_runs():
    b = RRBuilder(seed=11)
    b.sinus(900, bpm=70, rsa=0.0).sinus(300, bpm=95, rsa=0.0).sinus(600, bpm=70, rsa=0.0)
    b.af(600, bpm=150, cv=0.2).sinus(600, bpm=70, rsa=0.0)
    b.run("V", 40, 180).sinus(600, bpm=70, rsa=0.0)
    beats, labels, truth = b.build()
    r = analyze_rhythm(beats, labels, FS)
    assert r.events_of("af") and r.events_of("vt")
    hr = r.heart_rate
    # the overall maximum is the ventricular rate of the AF; the sinus maximum is the
    # 95/min stretch, found in its own time
    assert hr.max.bpm > 130
    af = r.events_of("af")[0]
    assert af.start_s - 60 < hr.max.time_s < af.end_s + 60
    assert hr.sinus_max.bpm == pytest.approx(95, abs=3)
    assert 900 < hr.sinus_max.time_s < 1200
    assert hr.sinus_min.bpm == pytest.approx(70, abs=3)
    d = r.to_dict()["heart_rate"]
    assert d["sinus_max"]["bpm"] == pytest.approx(hr.sinus_max.bpm)


def test_sinus_extremes_equal_overall_ones_in_sinus_rhythm():
    times = constant_rate([(600, 70), (300, 45), (600, 70), (180, 120), (600, 70)])
    hr = analyze(times).heart_rate
    assert hr.sinus_max == hr.max and hr.sinus_min == hr.min


def test_running_rate_leaves_out_intervals_in_exclude_spans():
    times = constant_rate([(600, 60), (120, 150), (600, 60)])
    s = prepare(*from_times(times, "N" * len(times), FS), FS)
    _, bpm = running_rate(s, RateParams())
    assert bpm.max() == pytest.approx(150, abs=1)
    t, bpm = running_rate(s, RateParams(), exclude=[(600.4, 720.6)])
    assert np.allclose(bpm, 60.0)
    # windows overlapping the span by more than 20 % of their length are skipped
    assert not np.any((t > 600 + 10) & (t < 720 - 10))
