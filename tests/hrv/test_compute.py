"""compute_hrv end to end: result shape, JSON, parameters, and the NSRDB 24 h records."""

from __future__ import annotations

import datetime as dt
import json
import warnings

import numpy as np
import pytest

from holterlab.annotations import aami_class, read_annotations
from holterlab.errors import ParameterError
from holterlab.hrv import HRVResult, compute_hrv, dfa, nn_intervals, poincare, time_domain
from holterlab.params.hrv import HRVParams
from tests.conftest import NSRDB
from tests.hrv.synth import beats_from_rr, modulated_rr

REQUIRED = [
    "mean_nn_ms", "sdnn_ms", "sdann_ms", "sdnn_index_ms", "rmssd_ms", "pnn50_pct",
    "triangular_index", "tinn_ms", "ulf_ms2", "vlf_ms2", "lf_ms2", "hf_ms2", "total_power_ms2",
    "lf_hf", "lf_nu", "hf_nu", "sd1_ms", "sd2_ms", "dfa_alpha1", "dfa_alpha2", "hrt_to_pct",
    "hrt_ts_ms_per_beat", "n_nn", "nn_coverage_pct", "short_term", "hourly", "day", "night",
]  # fmt: skip


def _synthetic(hours=2.0, seed=0):
    rr = modulated_rr(hours * 3600, components=((0.1, 25), (0.25, 20)), noise_ms=15, seed=seed)
    beats = beats_from_rr(np.round(rr), fs=250.0)
    labels = np.full(beats.size, "N")
    rng = np.random.default_rng(seed)
    labels[rng.choice(np.arange(30, beats.size - 30), 20, replace=False)] = "V"
    return beats, labels


def test_result_has_every_value_and_plain_json():
    beats, labels = _synthetic()
    res = compute_hrv(beats, labels, 250.0, start_time=dt.datetime(2024, 1, 1, 23, 10))
    assert isinstance(res, HRVResult)
    d = res.to_dict()
    assert set(REQUIRED) <= set(d)
    text = json.dumps(d, allow_nan=False)  # no NaN anywhere
    back = json.loads(text)
    assert back["sdnn_ms"] == round(res.sdnn_ms, 2)
    assert isinstance(back["n_nn"], int) and back["n_nn"] == res.n_nn
    assert set(back["short_term"]) >= {"vlf_ms2", "lf_ms2", "hf_ms2", "lf_hf", "n_segments"}
    assert back["hourly"][0]["start"] == "2024-01-01T23:00:00"
    assert back["night"]["n_nn"] > 0 and back["day"]["n_nn"] == 0 and back["day"]["sdnn_ms"] is None
    assert back["params"] == HRVParams().to_dict()
    # the synthetic VPBs have no compensatory pause: no HRT, reported as null
    assert back["hrt_to_pct"] is None and back["hrt_n_vpb"] == 0


def test_values_match_the_individual_functions():
    beats, labels = _synthetic(seed=1)
    res = compute_hrv(beats, labels, 250.0)
    s = nn_intervals(beats, labels, 250.0)
    td = time_domain(s.nn_ms, s.times_s, adjacent=s.adjacent)
    assert res.n_nn == len(s) and res.sdnn_ms == td["sdnn_ms"] and res.rmssd_ms == td["rmssd_ms"]
    assert res.sd1_ms == poincare(s.nn_ms, s.adjacent)["sd1_ms"]
    assert res.dfa_alpha1 == dfa(s.nn_ms, min_beats=4, max_beats=16)
    assert res.rejected["not_normal"] == 40
    assert res.lf_ms2 > res.hf_ms2 and res.short_term.lf_ms2 > res.short_term.hf_ms2


def test_undefined_values_are_none_for_a_tiny_record():
    res = compute_hrv(np.array([0, 200, 400]), np.array(["N", "N", "N"]), 250.0)
    assert res.n_nn == 2 and res.rmssd_ms == pytest.approx(0.0)
    assert res.lf_ms2 is None and res.dfa_alpha1 is None and res.sdann_ms is None
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    empty = compute_hrv(np.array([], dtype=np.int64), np.array([], dtype=str), 250.0)
    assert empty.n_nn == 0 and empty.mean_nn_ms is None and empty.hourly == []
    json.dumps(empty.to_dict(), allow_nan=False)


def test_excluded_time_and_params_reach_every_part():
    beats, labels = _synthetic(seed=2)
    excluded = np.array([[600.0, 1500.0]])
    res = compute_hrv(beats, labels, 250.0, excluded=excluded)
    assert res.rejected["excluded"] > 1000
    assert res.short_term.n_segments <= 24 - 3
    res2 = compute_hrv(beats, labels, 250.0, params=HRVParams(segment_s=120.0))
    assert res2.short_term.segment_s == 120.0 and res2.short_term.n_segments > 50


def test_bad_arguments():
    beats, labels = _synthetic()
    with pytest.raises(ParameterError, match="HRVParams"):
        compute_hrv(beats, labels, 250.0, params={"min_rr_ms": 300})
    with pytest.raises(ParameterError, match="datetime"):
        compute_hrv(beats, labels, 250.0, start_time="10:00")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"min_rr_ms": 900, "max_rr_ms": 800}, "below hrv.max_rr_ms"),
        ({"vlf_max_hz": 0.1, "lf_max_hz": 0.06}, "band edges must increase"),
        ({"resample_hz": 1.0, "hf_max_hz": 0.6}, "twice hf_max_hz"),
        ({"dfa_short_min": 16, "dfa_short_max": 16}, "min < max"),
        ({"day_start_h": 8, "day_end_h": 8}, "must differ"),
        ({"hrt_ts_window": 10, "hrt_n_after": 8}, "cannot exceed"),
        ({"segment_min_coverage_pct": 0}, "at least 1"),
    ],
)
def test_params_are_validated(changes, message):
    with pytest.raises(ParameterError, match=message):
        HRVParams(**changes)


def test_params_round_trip():
    p = HRVParams(change_filter=True, max_change_pct=25, day_start_h=7)
    assert HRVParams.from_dict(json.loads(json.dumps(p.to_dict()))) == p


# ---------------------------------------------------------------------- NSRDB, 24 h
def _nsrdb(record):
    """Beats plus the annotators' artefact marks (``|``) of an NSRDB record, and its start."""
    ann = read_annotations(NSRDB / f"{record}.atr")
    sym = ann.symbol.astype(str)
    beat = aami_class(sym) != ""
    keep = beat | (sym == "|")
    labels = np.where(sym[keep] == "|", "|", aami_class(sym[keep]))
    header = (NSRDB / f"{record}.hea").read_text().split()[4]
    start = dt.datetime.combine(dt.date(2000, 1, 1), dt.time.fromisoformat(header.zfill(8)))
    return ann.sample[keep], labels, ann.fs, start


@pytest.mark.parametrize("record", ["16272", "17453"])
def test_nsrdb_values_are_physiological_and_equal_neurokit2(record):
    """Ranges: Task Force 1996 normal values (mean +- 2 SD) for 24 h SDNN (141 +- 39 ms),
    SDANN (127 +- 35), RMSSD (27 +- 12) and triangular index (37 +- 15); healthy 24 h
    spectra are dominated by ULF power and DFA exponents of healthy subjects lie near 1."""
    nk = pytest.importorskip("neurokit2")
    beats, labels, fs, start = _nsrdb(record)
    res = compute_hrv(beats, labels, fs, start_time=start)
    assert res.duration_s > 20 * 3600 and res.nn_coverage_pct > 90
    assert 100 <= res.sdnn_ms <= 200
    assert 141 - 2 * 39 <= res.sdnn_ms <= 141 + 2 * 39
    assert 127 - 2 * 35 <= res.sdann_ms <= 127 + 2 * 35
    assert 27 - 2 * 12 <= res.rmssd_ms <= 27 + 2 * 12
    assert 37 - 2 * 15 <= res.triangular_index <= 37 + 2 * 15
    assert 55 <= res.mean_hr_bpm <= 90 and 1 <= res.pnn50_pct <= 40
    assert res.ulf_ms2 > max(res.vlf_ms2, res.lf_ms2, res.hf_ms2)
    assert 0.5 <= res.lf_hf <= 10 and 0.5 <= res.short_term.lf_hf <= 10
    assert 0.8 <= res.dfa_alpha1 <= 1.6 and 0.8 <= res.dfa_alpha2 <= 1.4
    assert res.sdnn_index_ms < res.sdnn_ms and res.sd1_ms < res.sd2_ms
    # the night is slower than the day (healthy circadian rhythm)
    assert res.night.mean_nn_ms > res.day.mean_nn_ms
    assert 20 <= len(res.hourly) <= 26
    assert sum(h.n_nn for h in res.hourly) == res.n_nn

    s = nn_intervals(beats, labels, fs)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = nk.hrv_time({"RRI": s.nn_ms, "RRI_Time": s.times_s}).iloc[0]
        ref_pc = nk.hrv_nonlinear.__globals__["_hrv_nonlinear_poincare"](
            s.nn_ms, s.times_s, True, {}
        )
        # NeuroKit2's DFA is slow (a polyval per box): compare on the first 8,000 intervals
        part = s.nn_ms[:8000]
        a1, _ = nk.fractal_dfa(part, scale=np.arange(4, 17), overlap=False)
        a2, _ = nk.fractal_dfa(part, scale=np.arange(16, 65), overlap=False)
    n_d = int(s.adjacent.sum())
    assert res.mean_nn_ms == pytest.approx(ref["HRV_MeanNN"], rel=1e-12)
    assert res.sdnn_ms == pytest.approx(ref["HRV_SDNN"], rel=1e-12)
    assert res.rmssd_ms == pytest.approx(ref["HRV_RMSSD"], rel=1e-12)
    assert res.pnn50_pct == pytest.approx(ref["HRV_pNN50"] * (n_d + 1) / n_d, rel=1e-12)
    assert res.triangular_index == pytest.approx(ref["HRV_HTI"], rel=1e-12)
    assert res.sd1_ms == pytest.approx(ref_pc["SD1"], rel=1e-12)
    assert res.sd2_ms == pytest.approx(ref_pc["SD2"], rel=1e-12)
    # NeuroKit2 drops boxes of zero residual variance (RR quantised at 128 Hz makes some
    # 4-beat boxes exactly linear); we keep them, so alpha1 differs slightly
    assert dfa(part, min_beats=4, max_beats=16) == pytest.approx(a1, abs=0.01)
    assert dfa(part, min_beats=16, max_beats=64) == pytest.approx(a2, abs=1e-6)


def test_ulf_only_for_long_series():
    """Task Force 1996: ULF power is a 24-hour measure; 2 hours give none (null), unless the
    user lowers ``ulf_min_hours``; the other bands stay defined."""
    beats, labels = _synthetic(hours=2.0)
    res = compute_hrv(beats, labels, 250.0)
    assert res.ulf_ms2 is None and res.to_dict()["ulf_ms2"] is None
    assert res.vlf_ms2 > 0 and res.lf_ms2 > 0 and res.hf_ms2 > 0
    loose = compute_hrv(beats, labels, 250.0, params=HRVParams(ulf_min_hours=1.0))
    assert loose.ulf_ms2 is not None and loose.ulf_ms2 >= 0
