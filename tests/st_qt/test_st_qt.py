"""ST and QT analysis on synthetic beats with known ST level and QT, and on MIT-BIH."""

import warnings

import numpy as np
import pytest

from holterlab.params.st_qt import STQTParams
from holterlab.recording import Recording
from holterlab.st_qt import analyze_st_qt, qtc, st_episodes, st_qt_recording
from tests.conftest import MITDB

FS = 250.0


def _gauss(t, mu, sigma, amp):
    return amp * np.exp(-0.5 * ((t - mu) / sigma) ** 2)


def make_ecg(minutes=20, hr=60.0, st_windows=(), seed=0, wander=0.3):
    """Beats with P, QRS and T; ST shifted by `shift` mV between J and T in given windows.

    Returns signal (2, n), beat samples, the true QRS onset->T end (ms).
    """
    rng = np.random.default_rng(seed)
    n = int(minutes * 60 * FS)
    rr = 60.0 / hr
    beats = np.arange(int(1.0 * FS), n - int(1.0 * FS), int(rr * FS))
    t = np.arange(-0.4, 0.7, 1 / FS)
    base = (
        _gauss(t, -0.16, 0.02, 0.15)  # P
        + _gauss(t, -0.02, 0.008, -0.1)  # Q
        + _gauss(t, 0.0, 0.010, 1.2)  # R
        + _gauss(t, 0.025, 0.009, -0.25)  # S
        + _gauss(t, 0.30, 0.045, 0.35)  # T
    )
    # QRS onset ~ Q centre - 2.5 sigma = -0.04 s; the tangent method puts the end of a
    # Gaussian T wave at mu + 2 sigma (the steepest tangent meets the baseline there)
    true_qt_ms = (0.30 + 2 * 0.045 + 0.04) * 1000
    x = np.zeros((2, n), dtype=np.float64)
    idx = np.arange(t.size) - int(0.4 * FS)
    for b in beats:
        shift = 0.0
        for a, e, s in st_windows:
            if a * FS <= b < e * FS:
                shift = s
        # ST shift: a plateau from J (~+0.045 s) blending into the T wave
        st = shift * (1 / (1 + np.exp(-(t - 0.05) / 0.006))) * (1 / (1 + np.exp((t - 0.36) / 0.02)))
        beat = base + st
        x[0, b + idx] += beat
        x[1, b + idx] += -0.6 * beat
    tt = np.arange(n) / FS
    x += wander * np.sin(2 * np.pi * 0.15 * tt + 0.3)[None, :]
    x += rng.normal(0, 0.01, size=x.shape)
    return x.astype(np.float32), beats, true_qt_ms


def test_qtc_formulas():
    assert qtc(np.array([400.0]), np.array([1000.0]))[0] == pytest.approx(400.0)
    assert qtc(np.array([360.0]), np.array([810.0]))[0] == pytest.approx(400.0)
    assert qtc(np.array([400.0]), np.array([1000.0]), "fridericia")[0] == pytest.approx(400.0)
    assert qtc(np.array([400.0]), np.array([512.0]), "fridericia")[0] == pytest.approx(500.0)


def test_st_levels_and_episode_found_despite_baseline_wander():
    x, beats, _ = make_ecg(minutes=20, st_windows=[(300, 540, -0.2)])
    labels = np.full(beats.size, "N")
    res = analyze_st_qt(x, FS, beats, labels, leads=["II", "V5"])
    st = res.st_mv[:, 0]
    in_ep = (res.time_s >= 330) & (res.time_s < 510)
    outside = (res.time_s < 270) | (res.time_s >= 570)
    assert np.all(np.abs(st[outside]) < 0.04)
    assert np.all(np.abs(st[in_ep] + 0.2) < 0.04)
    # lead 2 is inverted and scaled: elevation of 0.12 mV there
    assert np.all(np.abs(res.st_mv[in_ep, 1] - 0.12) < 0.04)
    dep = [e for e in res.episodes if e.type == "st_depression" and e.lead == "II"]
    assert len(dep) == 1
    assert abs(dep[0].start_s - 300) <= 30 and abs(dep[0].end_s - 540) <= 30
    assert dep[0].detail["extreme_mv"] < -0.15
    elev = [e for e in res.episodes if e.type == "st_elevation" and e.lead == "V5"]
    assert len(elev) == 1


def test_short_deviation_is_not_an_episode():
    x, beats, _ = make_ecg(minutes=10, st_windows=[(300, 330, -0.25)])
    res = analyze_st_qt(x, FS, beats, np.full(beats.size, "N"), params=STQTParams())
    assert not [e for e in res.episodes if e.lead == "ECG1"]


def test_qt_measured_close_to_truth():
    x, beats, true_qt = make_ecg(minutes=5)
    res = analyze_st_qt(x, FS, beats, np.full(beats.size, "N"))
    qt = res.qt_ms[np.isfinite(res.qt_ms)]
    assert qt.size >= 0.8 * res.time_s.size
    assert abs(np.median(qt) - true_qt) < 25
    d = res.to_dict()
    assert d["qt"]["mean_qtc_bazett_ms"] == pytest.approx(np.median(qt), abs=30)  # RR = 1 s


def test_ectopic_beats_are_not_averaged():
    x, beats, _ = make_ecg(minutes=5)
    labels = np.full(beats.size, "N")
    labels[::2] = "V"  # bigeminy: no N beat has N neighbours
    res = analyze_st_qt(x, FS, beats, labels)
    assert res.time_s.size == 0
    d = res.to_dict()
    assert d["qt"]["mean_qt_ms"] is None and d["st"]["leads"]["ECG1"]["min_mv"] is None


def test_recording_result_does_not_depend_on_chunk_size():
    x, beats, _ = make_ecg(minutes=30, st_windows=[(600, 900, -0.15)])
    rec = Recording.from_array(x, FS, ["II", "V5"])
    labels = np.full(beats.size, "N")
    a = st_qt_recording(rec, beats, labels, chunk_s=300)
    b = st_qt_recording(rec, beats, labels, chunk_s=1200)
    full = analyze_st_qt(x, FS, beats, labels, leads=["II", "V5"])
    np.testing.assert_array_equal(a.time_s, b.time_s)
    np.testing.assert_allclose(a.st_mv, b.st_mv, atol=1e-4)
    np.testing.assert_allclose(a.st_mv, full.st_mv, atol=1e-3)
    assert [e.to_dict() for e in a.episodes] == [e.to_dict() for e in b.episodes]


def test_episode_merging_rule():
    t = np.arange(0, 600, 30.0)
    st = np.zeros((t.size, 1))
    st[2:5, 0] = -0.15  # 60..150
    st[6:8, 0] = -0.15  # 180..240: gap of 30 s -> merged
    # levels stand for window centres (75 .. 135, 195 .. 225); edges are the interpolated
    # -0.1 mV crossings, a third of the way to the neighbouring window centre at 0 mV
    ev = st_episodes(t, st, ["II"], window_s=30, threshold_mv=0.1, min_s=60, gap_s=60)
    assert [(e.start_s, e.end_s) for e in ev] == [(65, 235)]
    ev = st_episodes(t, st, ["II"], window_s=30, threshold_mv=0.1, min_s=60, gap_s=0)
    assert [(e.start_s, e.end_s) for e in ev] == [(65, 145)]  # the 185..235 part is < 1 min
    # a recording that starts deviated: the episode starts at the first window's edge
    st2 = np.zeros((t.size, 1))
    st2[0:4, 0] = -0.2
    ev = st_episodes(t, st2, ["II"], window_s=30, threshold_mv=0.1, min_s=60, gap_s=0)
    assert [(e.start_s, e.end_s) for e in ev] == [(0, 120)]


def test_mitdb_values_are_physiological(mitdb):
    warnings.filterwarnings("ignore")
    import wfdb

    from holterlab.annotations import aami_class

    r = wfdb.rdrecord(str(MITDB / "101"))
    a = wfdb.rdann(str(MITDB / "101"), "atr")
    lab = aami_class(a.symbol)
    m = lab != ""
    res = analyze_st_qt(r.p_signal.T, 360, a.sample[m], lab[m], leads=r.sig_name)
    d = res.to_dict(trend=False)
    assert 340 <= d["qt"]["mean_qt_ms"] <= 460
    assert 60 <= d["qt"]["mean_qrs_ms"] <= 110
    assert abs(d["st"]["leads"]["MLII"]["mean_mv"]) < 0.15


def test_chunk_without_usable_beats_does_not_break_the_trend():
    """A chunk with no median beat (e.g. all ectopy or no beats) between normal chunks."""
    x, beats, _ = make_ecg(minutes=30)
    labels = np.full(beats.size, "N")
    quiet = (beats >= 600 * FS) & (beats < 1200 * FS)
    labels[quiet] = "V"
    rec = Recording.from_array(x, FS, ["II", "V5"])
    res = st_qt_recording(rec, beats, labels, chunk_s=600)
    assert res.st_mv.shape == (res.time_s.size, 2)
    assert not ((res.time_s >= 630) & (res.time_s < 1170)).any()
    assert res.time_s.size > 30


def test_lead_off_gives_no_st_level_instead_of_zero():
    """A lead that is off (flat) for part of the recording reports no ST level there (NaN,
    ``null`` in JSON): its flat median beat would read 0.000 mV, cut short an ST episode of
    that lead and pull its mean towards 0. The other lead keeps its values."""
    from holterlab.quality import quality_recording

    x, beats, _ = make_ecg(minutes=20, st_windows=[(300, 900, -0.2)])
    off = slice(int(600 * FS), int(780 * FS))
    x[1, off] = 0.0  # V5 off for 3 minutes inside the ST depression
    rec = Recording.from_array(x, FS, ["II", "V5"])
    labels = np.full(beats.size, "N")
    q = quality_recording(rec)
    res = st_qt_recording(rec, beats, labels, quality=q)
    w = res.params.window_s
    inside = (res.time_s >= 600) & (res.time_s + w <= 780)
    assert inside.sum() >= 4
    assert np.all(np.isnan(res.st_mv[inside, 1]))
    assert np.all(np.isfinite(res.st_mv[:, 0]))
    assert np.all(res.st_mv[inside, 0] < -0.15)
    d = res.to_dict()
    trend = d["st"]["trend"]["V5"]
    assert all(trend[i] is None for i in np.flatnonzero(inside))
    assert d["st"]["leads"]["V5"]["mean_mv"] == pytest.approx(
        float(np.nanmean(res.st_mv[:, 1])), abs=1e-3
    )
    # II's depression is one episode; V5 (inverted: an elevation) is split by the lead-off
    # gap, not closed early by zeros nor bridged over it
    ii = [e for e in res.episodes if e.lead == "II" and e.type == "st_depression"]
    assert len(ii) == 1 and ii[0].start_s < 320 and ii[0].end_s > 880
    v5 = sorted(
        (e for e in res.episodes if e.lead == "V5" and e.type == "st_elevation"),
        key=lambda e: e.start_s,
    )
    assert len(v5) == 2 and v5[0].end_s <= 620 and v5[1].start_s >= 760
    # without quality information the flat lead reads about 0 there (what the mask prevents)
    plain = st_qt_recording(rec, beats, labels)
    assert np.all(np.abs(plain.st_mv[inside, 1]) < 0.02)


@pytest.mark.parametrize("slope_mv_s", [2.0, -1.5])
def test_st_offset_moves_the_measurement_point_along_a_sloping_st(slope_mv_s):
    """On an up- or down-sloping ST segment the level at J+40, J+60 and J+80 ms differs by
    the slope times 20 ms: ``st_offset_ms`` really moves the measurement point."""
    rng = np.random.default_rng(7)
    n = int(5 * 60 * FS)
    beats = np.arange(int(1.0 * FS), n - int(1.0 * FS), int(FS))
    t = np.arange(-0.4, 0.7, 1 / FS)
    beat = (
        _gauss(t, -0.16, 0.02, 0.15)
        + _gauss(t, -0.02, 0.008, -0.1)
        + _gauss(t, 0.0, 0.010, 1.2)
        + _gauss(t, 0.025, 0.009, -0.25)
        + _gauss(t, 0.33, 0.045, 0.35)
    )
    # a straight ST from J (~ +0.05 s) that fades out into the T wave
    ramp = slope_mv_s * np.clip(t - 0.05, 0.0, None) / (1 + np.exp((t - 0.24) / 0.015))
    x = np.zeros((1, n))
    idx = np.arange(t.size) - int(0.4 * FS)
    for b in beats:
        x[0, b + idx] += beat + ramp
    x += rng.normal(0, 0.005, size=x.shape)
    labels = np.full(beats.size, "N")
    levels = []
    for off in (40.0, 60.0, 80.0):
        res = analyze_st_qt(
            x.astype(np.float32), FS, beats, labels, params=STQTParams(st_offset_ms=off)
        )
        levels.append(float(np.nanmedian(res.st_mv[:, 0])))
    steps = np.diff(levels)
    np.testing.assert_allclose(steps, slope_mv_s * 0.020, rtol=0.3)


def test_maximum_qtc_is_sustained_not_one_window():
    """One window with a mismeasured T end does not make the record's maximum QTc; a QTc
    held for several windows does."""
    from holterlab.st_qt.analysis import sustained

    qtc = np.full(40, 420.0)
    qtc[10] = 530.0  # one 30-s window
    qtc[25:31] = 505.0  # three minutes
    qtc[33] = np.nan
    s = sustained(qtc)
    assert np.nanmax(s) == 505.0 and int(np.nanargmax(s)) in range(25, 31)
    assert np.isnan(s[33]) and s[10] == 420.0
    assert np.isnan(sustained(np.full(4, np.nan))).all()
    assert sustained(np.array([450.0]))[0] == 450.0  # a short record keeps its one value


def test_st_episode_over_a_lead_off_gap_and_past_the_end():
    """A run of deviated windows with a lead-off (NaN) window inside keeps a real extreme;
    an episode reaching the last window ends at the end of the recording."""
    t = np.arange(0.0, 600.0, 30.0)
    st = np.zeros((t.size, 1), dtype=np.float32)
    st[8:, 0] = -0.2
    st[10, 0] = np.nan
    st[14, 0] = -0.35
    (ev,) = st_episodes(t, st, ["II"], window_s=30.0, duration_s=590.0)
    assert ev.detail["extreme_mv"] == -0.35 and ev.detail["extreme_time_s"] == 420.0
    assert ev.end_s == 590.0
