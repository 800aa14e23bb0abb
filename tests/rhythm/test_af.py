"""Atrial fibrillation: synthetic AF in sinus rhythm, ectopy patterns, MIT-BIH DS1 records,
the numba kernel against its reference, and the atrial-activity (flutter) hook."""

import numpy as np
import pytest

from holterlab.annotations import read_annotations
from holterlab.evaluate.episodes import compare_episodes, episodes_from_rhythm
from holterlab.events import Event
from holterlab.params.rhythm import AFParams
from holterlab.rhythm import analyze_rhythm, rhythm_annotations
from holterlab.rhythm._input import prepare
from holterlab.rhythm._kernels import window_scores, window_scores_py
from holterlab.rhythm.af import (
    AtrialActivity,
    apply_atrial_activity,
    detect_af,
    irregularity_trace,
)
from tests.conftest import MITDB, NSRDB
from tests.rhythm.rr_synth import RRBuilder, from_pattern

FS = 250.0


def af_in_sinus(seed, af_s=180.0, **af_kw):
    b = RRBuilder(seed=seed).sinus(300, bpm=70, ectopy=0.03).af(af_s, **af_kw).sinus(300)
    beats, labels, truth = b.build()
    return beats, labels, truth[0]


def test_af_inserted_in_sinus_found_with_boundaries_within_a_few_beats():
    onset, offset = [], []
    for seed in range(20):
        rng = np.random.default_rng(seed)
        bpm, cv = rng.uniform(70, 130), rng.uniform(0.15, 0.3)
        beats, labels, (_, start, end) = af_in_sinus(seed, bpm=bpm, cv=cv)
        (ev,) = detect_af(prepare(beats, labels, FS))
        onset.append(abs(ev.start_s - start) * bpm / 60)  # error in beats
        offset.append(abs(ev.end_s - end) * bpm / 60)
        assert ev.rate_bpm == pytest.approx(bpm, rel=0.1)
        assert ev.detail["irregularity"] > AFParams().threshold
    # measured (20 seeds): onset median 0, 90th percentile 1.6 beats; offset median 1.6,
    # 90th percentile 8.4 beats (a run of similar RR intervals at the end of AF)
    assert np.median(onset) <= 1 and np.percentile(onset, 90) <= 3
    assert np.median(offset) <= 2 and np.percentile(offset, 90) <= 9
    assert max(onset + offset) <= 15


def test_minimum_episode_length():
    beats, labels, _ = af_in_sinus(1, af_s=20.0, bpm=100, cv=0.25)
    series = prepare(beats, labels, FS)
    assert detect_af(series) == []
    (ev,) = detect_af(series, AFParams(min_duration_s=10))
    assert 15 < ev.duration_s < 25


@pytest.mark.parametrize(
    "pattern",
    ["NS" * 150, "NNS" * 100, "NV" * 150, "NNV" * 100, "NNNNNNNSNNNNSNNNNNNV" * 15],
)
def test_ectopy_patterns_are_not_af(pattern):
    # bigeminy/trigeminy with short-long cycles: lags 2/3 and V exclusion suppress them
    labels = np.array(list(pattern))
    rr = np.where(labels == "N", 0.9, 0.55)  # premature ectopic beats
    rr[1:][labels[:-1] != "N"] = 1.25  # compensatory pause after them
    t = 1 + np.cumsum(rr)
    r = analyze_rhythm(np.round(t * FS).astype(np.int64), labels, FS)
    assert r.events_of("af") == []


def test_frequent_isolated_ectopy_in_sinus_is_not_af():
    for seed in range(4):
        b = RRBuilder(seed=seed).sinus(900, bpm=75, rsa=0.06, ectopy=0.12)
        beats, labels, _ = b.build()
        assert detect_af(prepare(beats, labels, FS)) == []


def test_s_intervals_option():
    # a classifier calling a third of the AF beats S: still AF with either setting
    beats, labels, _ = af_in_sinus(4, bpm=90, cv=0.2)
    labels = labels.copy()
    labels[::3] = "S"
    for mode in ("exclude", "include"):
        assert len(detect_af(prepare(beats, labels, FS), AFParams(s_intervals=mode))) == 1


def test_irregularity_trace_shape():
    beats, labels, (_, start, end) = af_in_sinus(2)
    series = prepare(beats, labels, FS)
    idx, score = irregularity_trace(series)
    assert idx.shape == score.shape
    t = series.t[idx]
    assert np.nanmedian(score[(t > start + 30) & (t < end - 30)]) > 0.5
    assert np.nanmedian(score[t < start - 30]) < 0.2


def test_window_scores_kernel_equals_reference():
    rng = np.random.default_rng(7)
    for _ in range(200):
        n = int(rng.integers(0, 40))
        lags = int(rng.integers(1, 4))
        d = np.round(rng.random((lags, n)), 1)
        d[rng.random((lags, n)) < 0.2] = np.nan
        seg = np.sort(rng.integers(0, 4, n)).astype(np.int64)
        hb, ha, need = (int(x) for x in rng.integers(0, 6, 3))
        thr = np.array([0.3, 0.5, 0.8])
        a = window_scores(d, seg, hb, ha, need, thr)
        b = window_scores_py(d, seg, hb, ha, need, thr)
        assert np.allclose(a, b, equal_nan=True)


# ------------------------------------------------------------------ MIT-BIH DS1
def _mitdb(record):
    ann = read_annotations(MITDB / f"{record}.atr")
    beats = ann.beats()
    end = float(ann.sample[-1] / ann.fs)
    return ann, beats, end


@pytest.mark.parametrize(
    "record, floor",
    # measured (learning period 0): 201 duration Se 0.989 +P 0.797 (frequent blocked and
    # conducted APCs before the AF onset look like AF), 203 duration Se 0.997 +P 0.976
    [(201, (0.98, 0.78)), (203, (0.99, 0.97))],
)
def test_af_on_mitbih_reference_beats(record, floor):
    ann, beats, end = _mitdb(record)
    r = analyze_rhythm(beats.sample, beats.aami(), ann.fs, duration_s=end + 0.5)
    ref = episodes_from_rhythm(ann, "(AFIB", end)
    afl = episodes_from_rhythm(ann, "(AFL", end)
    test = [(e.start_s, e.end_s) for e in r.events_of("af", "afl")]
    c = compare_episodes(ref, test, learning_s=0, end_s=end, exclude=afl)
    assert c.duration_se >= floor[0] and c.duration_pp >= floor[1]
    assert c.episode_se == 1.0 and c.episode_pp == 1.0
    long = compare_episodes(ref, test, learning_s=0, end_s=end, exclude=afl, min_duration_s=30)
    assert long.episode_se == 1.0 and long.episode_pp == 1.0
    # the same through the rhythm annotations (VT runs interrupt AF there, as in the .atr)
    hlab = rhythm_annotations(r, ann.fs)
    test2 = episodes_from_rhythm(hlab, "(AFIB", end)
    c2 = compare_episodes(ref, test2, learning_s=0, end_s=end, exclude=afl)
    assert c2.duration_se >= floor[0] - 0.01 and c2.duration_pp >= c.duration_pp - 0.005


@pytest.mark.parametrize("record", [106, 119, 208, 209, 223])
def test_no_af_on_mitbih_records_with_heavy_ectopy(record):
    ann, beats, end = _mitdb(record)
    r = analyze_rhythm(beats.sample, beats.aami(), ann.fs, duration_s=end + 0.5)
    assert r.events_of("af") == []


def test_no_af_in_a_day_of_normal_sinus_rhythm():
    ann = read_annotations(NSRDB / "16272.atr").beats()
    r = analyze_rhythm(ann.sample, ann.aami(), ann.fs)
    assert r.events_of("af") == [] and r.af.burden_pct == 0.0
    assert r.n_beats > 80000


# ------------------------------------------------------------------ flutter hook
def _activity(times, rate, org, pw=None):
    return AtrialActivity(
        time_s=np.asarray(times, float),
        atrial_rate_bpm=np.full(len(times), rate, float),
        organisation=np.full(len(times), org, float),
        p_wave_fraction=None if pw is None else np.full(len(times), pw, float),
    )


def test_atrial_activity_relabels_af_as_flutter_or_drops_it():
    beats, labels, (_, start, end) = af_in_sinus(3, bpm=100, cv=0.25)
    series = prepare(beats, labels, FS)
    af = detect_af(series)
    assert apply_atrial_activity(af, series, None) == af
    inside = np.arange(start + 5, end - 5, 10.0)
    (ev,) = apply_atrial_activity(af, series, _activity(inside, 300.0, 0.9))
    assert ev.type == "afl" and ev.detail["atrial_rate_bpm"] == 300.0
    (ev,) = apply_atrial_activity(af, series, _activity(inside, 420.0, 0.1))
    assert ev.type == "af"  # fibrillatory activity keeps AF
    assert apply_atrial_activity(af, series, _activity(inside, 420.0, 0.1, pw=0.9)) == []


def test_regular_flutter_with_2_to_1_conduction_needs_atrial_activity():
    # 150 bpm regular ventricular response: RR alone says sinus tachycardia
    beats, labels = from_pattern("N" * 600, rr_s=0.4, fs=FS)
    series = prepare(beats, labels, FS)
    assert detect_af(series) == []
    act = _activity(np.arange(5.0, 240.0, 10.0), 300.0, 0.8)
    (ev,) = apply_atrial_activity([], series, act)
    assert ev.type == "afl" and ev.duration_s > 200 and ev.rate_bpm == pytest.approx(150, rel=0.02)
    r = analyze_rhythm(beats, labels, FS, atrial_activity=act)
    assert r.af.afl_episodes == 1 and r.af.episodes == 0 and r.af.burden_pct > 80
    # the AF/flutter burden is all flutter here; the AF counts stay at zero
    assert r.af.afl_burden_pct == pytest.approx(r.af.burden_pct) and r.af.total_s == 0.0


def test_atrial_activity_arrays_must_match():
    beats, labels = from_pattern("N" * 100, fs=FS)
    bad = AtrialActivity(np.arange(3.0), np.zeros(2), np.zeros(3))
    with pytest.raises(ValueError):
        apply_atrial_activity([Event("af", 0, 10)], prepare(beats, labels, FS), bad)


def test_flutter_with_variable_conduction_labelled_s_is_found():
    """2:1, 3:1 and 4:1 alternating at an atrial rate of 300 bpm: every RR is 2, 3 or 4
    flutter cycles. The classifier calls the short cycles S, so the RR test (N-N intervals)
    has little to work with; the whole-cycle multiples show the flutter."""
    rng = np.random.default_rng(2)
    rr = rng.choice([0.4, 0.6, 0.8], 400)
    t = np.cumsum(rr)
    beats = (t * FS).astype(np.int64)
    labels = np.where(rr < 0.5, "S", "N")
    series = prepare(beats, labels, FS)
    act = _activity(np.arange(5.0, t[-1] - 5, 8.0), 300.0, 0.8)
    (ev,) = apply_atrial_activity([], series, act)
    assert ev.type == "afl" and ev.duration_s > 0.9 * t[-1]
    # the same RR intervals without flutter-rate atrial activity are not flutter
    assert apply_atrial_activity([], series, _activity(act.time_s, 420.0, 0.8)) == []
    # nor are RR intervals that are not whole multiples of the atrial cycle
    off = prepare((np.cumsum(rr * 1.15) * FS).astype(np.int64), labels, FS)
    assert apply_atrial_activity([], off, _activity(act.time_s, 300.0, 0.8)) == []


def test_flutter_episodes_are_joined_across_a_gap_of_flutter():
    beats, labels = from_pattern("N" * 600, rr_s=0.4, fs=FS)
    series = prepare(beats, labels, FS)
    times = np.arange(4.0, 240.0, 8.0)
    act = _activity(times, 300.0, 0.8)
    two = [
        Event("afl", 0.0, 100.0, detail={"atrial_rate_bpm": 300.0}),
        Event("afl", 130.0, 240.0, detail={"atrial_rate_bpm": 300.0}),
    ]
    from holterlab.rhythm.af import _bridge_flutter

    flutter = np.ones(times.size, dtype=bool)
    (ev,) = _bridge_flutter(two, series, act, flutter)
    assert (ev.start_s, ev.end_s) == (0.0, 240.0)
    assert ev.n_beats == np.count_nonzero(series.t <= 240.0)
    flutter[(times > 100) & (times < 130)] = False  # the gap is not flutter: two episodes
    assert len(_bridge_flutter(two, series, act, flutter)) == 2
