"""Hand-made cases for the EC57 / bxb beat-by-beat comparison."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from holterlab.annotations import Annotations
from holterlab.errors import ParameterError
from holterlab.evaluate import (
    BXB_CLASS_MAP,
    BeatStatistics,
    compare_beats,
    evaluate_records,
    fiducial_timing,
)

FS = 1000.0  # 1 sample = 1 ms, so the 150 ms window is exactly 150 samples


def ann(samples, symbols="N", fs: float = FS, aux=None) -> Annotations:
    samples = list(samples)
    if isinstance(symbols, str) and len(symbols) == 1:
        symbols = [symbols] * len(samples)
    return Annotations(np.asarray(samples, dtype=np.int64), list(symbols), fs, aux)


def regular(n: int = 20, rr: int = 800, first: int = 1000) -> list[int]:
    return [first + k * rr for k in range(n)]


def compare(ref, test, **kw):
    kw.setdefault("learning_s", 0.0)
    return compare_beats(ref, test, **kw)


# ------------------------------------------------------------------ QRS detection
def test_perfect_match():
    beats = regular()
    c = compare(ann(beats), ann(beats))
    assert c.qrs_se == 1.0 and c.qrs_pp == 1.0
    assert c.cell("N", "n") == 20
    assert c.matrix.sum() == 20
    assert np.array_equal(c.pairs, np.column_stack([np.arange(20), np.arange(20)]))
    assert c.unmatched_ref.size == 0 and c.unmatched_test.size == 0


def test_missed_beat():
    beats = regular()
    test = beats[:7] + beats[8:]
    c = compare(ann(beats), ann(test))
    s = c.statistics
    assert (s.qrs_tp, s.qrs_fn, s.qrs_fp) == (19, 1, 0)
    assert c.cell("N", "o") == 1
    assert c.unmatched_ref.tolist() == [7]
    assert c.qrs_se == pytest.approx(19 / 20)
    assert c.qrs_pp == 1.0


def test_extra_beat():
    beats = regular()
    test = sorted(beats + [beats[5] + 400])  # mid-RR, far outside any window
    c = compare(ann(beats), ann(test))
    s = c.statistics
    assert (s.qrs_tp, s.qrs_fn, s.qrs_fp) == (20, 0, 1)
    assert c.cell("O", "n") == 1
    assert c.unmatched_test.tolist() == [6]
    assert c.qrs_pp == pytest.approx(20 / 21)


def test_two_detections_near_one_reference_beat():
    beats = regular()
    extra = beats[10] - 40  # 40 ms early; the on-time detection is 5 ms late
    test = sorted([b + 5 for b in beats] + [extra])
    c = compare(ann(beats), ann(test))
    s = c.statistics
    assert (s.qrs_tp, s.qrs_fn, s.qrs_fp) == (20, 0, 1)
    # the closer detection is paired, the other one is the false positive
    t = ann(test).sample
    partner = dict(map(tuple, c.pairs.tolist()))[10]
    assert t[partner] == beats[10] + 5
    assert t[c.unmatched_test].tolist() == [extra]


def test_equidistant_detections_pair_the_later_one():
    """bxb case 1: the earlier of two equidistant test beats is not a *better* match."""
    ref = [1000, 2000]
    c = compare(ann(ref), ann([990, 1010, 2000]))
    assert c.pairs.tolist() == [[0, 1], [1, 2]]
    assert c.unmatched_test.tolist() == [0]


@pytest.mark.parametrize("offset", [150, -150])
def test_window_edge_150_ms_matches(offset):
    beats = regular(rr=1000)
    test = list(beats)
    test[4] += offset
    c = compare(ann(beats), ann(test))
    assert c.statistics.qrs_fn == 0 and c.statistics.qrs_fp == 0


@pytest.mark.parametrize("offset", [151, -151])
def test_window_edge_151_ms_does_not_match(offset):
    beats = regular(rr=1000)
    test = list(beats)
    test[4] += offset
    c = compare(ann(beats), ann(test))
    s = c.statistics
    assert (s.qrs_tp, s.qrs_fn, s.qrs_fp) == (19, 1, 1)


def test_window_option():
    beats = regular(rr=1000)
    test = [b + 60 for b in beats]
    assert compare(ann(beats), ann(test), window_ms=50).statistics.qrs_tp == 0
    assert compare(ann(beats), ann(test), window_ms=60).statistics.qrs_tp == 20


def test_window_at_360_hz_is_54_samples():
    beats = [1000 + 300 * k for k in range(10)]
    for offset, tp in ((54, 10), (55, 9)):
        test = list(beats)
        test[3] += offset
        c = compare(ann(beats, fs=360.0), ann(test, fs=360.0))
        assert c.statistics.qrs_tp == tp


def test_different_sampling_rates_compare_by_time():
    seconds = np.arange(1, 30) * 0.8
    ref = ann(np.round(seconds * 360).astype(int), fs=360.0)
    test = ann(np.round(seconds * 250).astype(int), fs=250.0)
    c = compare(ref, test)
    assert c.qrs_se == 1.0 and c.qrs_pp == 1.0
    assert c.fs == 360.0


# ------------------------------------------------------------------ classes
def mislabel_record():
    """10 N right, 4 V right, V->N, N->V, 3 S right, S->N."""
    ref_sym = list("NNNNNNNNNN" + "VVVV" + "V" + "N" + "SSS" + "S")
    test_sym = list("NNNNNNNNNN" + "VVVV" + "N" + "V" + "SSS" + "N")
    times = regular(len(ref_sym))
    return ann(times, ref_sym), ann(times, test_sym)


def test_fiducial_offsets_of_paired_beats():
    beats = regular(10)
    shift = [3, 3, 3, -10, 3, 3, 3, 3, 3, 3]
    test = [b + d for b, d in zip(beats, shift, strict=True)]
    test = test[:5] + test[6:] + [beats[-1] + 400]  # one missed, one extra beat
    c = compare(ann(beats), ann(test))
    # one offset per pair, in pair order; the missed and the extra beat have none
    assert c.offsets_s.shape == (c.pairs.shape[0],) == (9,)
    np.testing.assert_allclose(c.offsets_s * 1000, [3, 3, 3, -10, 3, 3, 3, 3, 3])
    t = c.timing()
    assert t["n"] == 9 and t["median_ms"] == pytest.approx(3.0)
    assert t["sd_ms"] == pytest.approx(np.std([3] * 8 + [-10]))
    assert 3.0 < t["p95_abs_ms"] <= 10.0 and 0.0 < t["p95_dev_ms"] <= 13.0
    assert c.to_dict()["timing"] == t
    # another sampling rate: offsets are in seconds, on the reference beats' time
    test250 = ann([round((b + 8) / 4) for b in beats], fs=250.0)
    c = compare(ann(beats), test250)
    np.testing.assert_allclose(c.offsets_s, 0.008)
    # records pooled; no pair at all gives no figures
    rep = evaluate_records(
        {"a": (ann(beats), ann(beats)), "b": (ann(beats), test250)}, learning_s=0
    )
    g = rep.gross_timing()
    assert g["n"] == 20 and g["median_ms"] == pytest.approx(4.0)
    assert rep.to_dict()["gross"]["timing"] == g
    table = rep.table()
    assert table.loc["b", "Offset ms"] == pytest.approx(8.0)
    assert table.loc["a", "Offset SD ms"] == 0.0
    assert table.loc["Gross", "Offset ms"] == pytest.approx(4.0)
    assert np.isnan(table.loc["Average", "Offset ms"])
    for bad in (["x"], [[0.1]], [np.nan]):
        with pytest.raises(ParameterError, match="offsets_s"):
            fiducial_timing(bad)
    assert compare(ann(beats), ann([])).timing() == {
        "n": 0, "median_ms": None, "sd_ms": None, "p95_dev_ms": None, "p95_abs_ms": None
    }  # fmt: skip


def test_mislabels_land_in_the_right_cells():
    c = compare(*mislabel_record())
    assert c.cell("N", "n") == 10
    assert c.cell("V", "v") == 4
    assert c.cell("V", "n") == 1
    assert c.cell("N", "v") == 1
    assert c.cell("S", "s") == 3
    assert c.cell("S", "n") == 1
    assert c.matrix.sum() == 20
    frame = c.matrix_frame()
    assert frame.loc["V", "n"] == 1 and frame.loc["S", "n"] == 1


def test_mislabel_statistics():
    s = compare(*mislabel_record()).statistics
    assert s.qrs_se == 1.0 and s.qrs_pp == 1.0
    assert (s.veb_tp, s.veb_fn, s.veb_fp) == (4, 1, 1)
    assert s.veb_se == pytest.approx(0.8)
    assert s.veb_pp == pytest.approx(0.8)
    # TN = rows N S F Q O x columns n s f q = Nn 10 + Sn 1 + Ss 3
    assert s.veb_tn == 14
    assert s.veb_fpr == pytest.approx(1 / 15)
    assert (s.sveb_tp, s.sveb_fn, s.sveb_fp) == (3, 1, 0)
    assert s.sveb_se == pytest.approx(0.75)
    assert s.sveb_pp == 1.0


def test_fusion_and_unknown_called_v_are_not_veb_false_positives():
    m = np.zeros((6, 6), dtype=np.int64)
    m[0, 0] = 10  # Nn
    m[3, 2] = 2  # Fv
    m[4, 2] = 1  # Qv
    m[4, 1] = 3  # Qs
    m[3, 1] = 4  # Fs
    s = BeatStatistics.from_matrix(m)
    assert s.veb_fp == 0 and s.veb_pp is None
    assert s.sveb_fp == 4  # Fs counts, Qs does not (bxb SFP = Ns + Vs + Fs + Os + Xs)


def test_unmatched_beats_in_veb_and_sveb_statistics():
    ref = ann(regular(6), list("NVVSSN"))
    test = ann([regular(6)[i] for i in (0, 2, 4, 5)] + [1000 + 4 * 800 + 400], list("NVSNV"))
    c = compare(ref, test)
    assert c.cell("V", "o") == 1 and c.cell("S", "o") == 1 and c.cell("O", "v") == 1
    s = c.statistics
    assert (s.veb_tp, s.veb_fn, s.veb_fp) == (1, 1, 1)
    assert (s.sveb_tp, s.sveb_fn) == (1, 1)


def test_bxb_class_map_counts_escape_beats_as_s():
    times = regular(4)
    ref, test = ann(times, list("jjNN")), ann(times, list("NNNN"))
    assert compare(ref, test).cell("N", "n") == 4
    c = compare(ref, test, class_map=BXB_CLASS_MAP)
    assert c.cell("S", "n") == 2


def test_non_beat_annotations_are_ignored():
    times = regular(5)
    ref = ann(sorted(times + [times[1] + 10, times[3] + 300]), list("NN+NN~N"), aux=[""] * 7)
    c = compare(ref, ann(times))
    assert c.qrs_se == 1.0 and c.qrs_pp == 1.0
    assert c.pairs[:, 0].tolist() == [0, 1, 2, 3, 4]  # indices into reference.beats()


# ------------------------------------------------------------------ learning period and end
def test_learning_period_excludes_the_first_300_s():
    ref = ann([int((k + 0.5) * 1000) for k in range(600)])  # one beat a second for 10 min
    test = ann([s for s in ref.sample if s >= 290_000])  # no detections for 290 s
    c = compare_beats(ref, test)  # default learning_s = 300
    assert c.qrs_se == 1.0 and c.qrs_pp == 1.0
    assert c.statistics.qrs_tp == 300
    c0 = compare_beats(ref, test, learning_s=0)
    assert c0.statistics.qrs_fn == 290
    assert c0.statistics.qrs_tp == 310


def test_start_s_replaces_learning_s():
    ref = ann([int((k + 0.5) * 1000) for k in range(100)])
    assert compare_beats(ref, ref, start_s=60).statistics.qrs_tp == 40


def test_last_test_beat_before_start_may_pair_with_first_scored_reference_beat():
    ref = ann([299_000, 300_020, 301_000])
    test = ann([299_000, 299_990, 301_000])
    c = compare_beats(ref, test)
    assert c.statistics.qrs_tp == 2 and c.statistics.qrs_fp == 0
    assert c.pairs.tolist() == [[1, 1], [2, 2]]


def test_end_of_comparison():
    ref = ann(regular(10))
    test = ann(regular(10) + [regular(10)[-1] + 800, regular(10)[-1] + 1600])
    # default: up to the last reference beat; later test beats are ignored
    assert compare(ref, test).statistics.qrs_fp == 0
    # with a record length every beat up to it is scored
    assert compare(ref, test, end_s=30.0).statistics.qrs_fp == 2
    # a beat after end_s is ignored
    assert compare(ref, test, end_s=9.0).statistics.qrs_tp == 10
    assert compare(ref, test, end_s=5.0).statistics.qrs_tp == 6


# ------------------------------------------------------------------ VF episodes
def test_beats_inside_reference_vf_are_not_scored():
    times = regular(10)
    sym = list("NNN[NN]NNNNN")
    ref_times = times[:3] + [times[3] - 100, times[3], times[4], times[4] + 100] + times[5:]
    ref = ann(ref_times, sym)
    # test beats inside the VF episode that have no reference partner are not counted
    test = ann(times[:3] + [times[3] + 20, times[4] + 20] + times[5:])
    c = compare(ref, test)
    s = c.statistics
    assert (s.qrs_tp, s.qrs_fn, s.qrs_fp) == (8, 0, 0)
    assert c.excluded_test.tolist() == [3, 4]


# ------------------------------------------------------------------ undefined and pooled
def test_record_without_v_beats_has_undefined_veb_statistics():
    c = compare(ann(regular()), ann(regular()))
    assert c.veb_se is None and c.veb_pp is None
    assert c.veb_fpr == 0.0
    assert c.sveb_se is None
    d = c.to_dict()
    assert d["veb_se"] is None
    json.dumps(d)  # JSON-ready


def test_averages_skip_undefined_records():
    times = regular(4)
    with_v = (ann(times, list("NVNV")), ann(times, list("NVNN")))  # VEB Se 0.5
    without_v = (ann(times), ann(times))
    report = evaluate_records({"a": with_v, "b": without_v}, learning_s=0)
    assert report.records["b"].veb_se is None
    assert report.average["veb_se"] == pytest.approx(0.5)
    assert report.average_counts["veb_se"] == 1
    assert report.average["qrs_se"] == 1.0
    table = report.table()
    assert math.isnan(table.loc["b", "VEB Se"])
    assert table.loc["Average", "VEB Se"] == pytest.approx(50.0)


def test_gross_and_average_differ():
    big_ref = ann(regular(100), "V")
    big_test = ann(regular(100), ["V"] * 50 + ["N"] * 50)  # VEB Se 50 %
    small = (ann(regular(2), "V"), ann(regular(2), "V"))  # VEB Se 100 %
    report = evaluate_records({"big": (big_ref, big_test), "small": small}, learning_s=0)
    assert report.gross.veb_se == pytest.approx(52 / 102)
    assert report.average["veb_se"] == pytest.approx(0.75)
    assert report.gross_matrix[2, 2] == 52
    assert report.gross_matrix[2, 0] == 50
    table = report.table()
    assert table.loc["Gross", "VEB Se"] == pytest.approx(100 * 52 / 102)
    assert list(table.index) == ["big", "small", "Gross", "Average"]


def test_format_lists_records_gross_average_and_matrix():
    report = evaluate_records({"rec1": mislabel_record(), "x": (ann([]), ann([]))}, learning_s=0)
    text = report.format()
    lines = text.splitlines()
    assert lines[0].split()[:5] == ["Record", "Beats", "TP", "FN", "FP"]
    assert any(line.startswith("rec1") for line in lines)
    assert any(line.startswith("Gross") for line in lines)
    assert any(line.startswith("Average") for line in lines)
    row_x = next(line for line in lines if line.startswith("x "))
    assert row_x.split()[5:8] == ["-", "-", "-"]
    v_row = next(line for line in lines if line.strip().startswith("V ") and "|" not in line)
    assert v_row.split() == ["V", "1", "0", "4", "0", "0", "0"]
    json.dumps(report.to_dict())


# ------------------------------------------------------------------ bad input
@pytest.mark.parametrize(
    "kwargs",
    [
        {"window_ms": 0},
        {"window_ms": float("nan")},
        {"learning_s": -1},
        {"start_s": -5},
        {"learning_s": 10, "end_s": 5},
        {"class_map": {"N": "N"}},
        {"class_map": {**BXB_CLASS_MAP, "N": "X"}},
    ],
)
def test_bad_options_raise_parameter_error(kwargs):
    with pytest.raises(ParameterError):
        compare_beats(ann(regular()), ann(regular()), **kwargs)


def test_bad_inputs_raise_parameter_error():
    with pytest.raises(ParameterError, match="Annotations"):
        compare_beats([1, 2, 3], ann(regular()))
    with pytest.raises(ParameterError):
        evaluate_records({"a": ann(regular())})
    with pytest.raises(ParameterError):
        evaluate_records([("a", ann(regular()))])
    with pytest.raises(ParameterError):
        BeatStatistics.from_matrix(np.zeros((5, 5)))
    with pytest.raises(ParameterError):
        compare(ann(regular()), ann(regular())).cell("Z", "n")


def test_first_test_beat_after_start_is_skipped_when_the_next_is_closer():
    """bxb's start-up rule: a test beat just after the start whose successor is the better
    partner of the first scored reference beat is dropped uncounted."""
    ref = ann([299_000, 300_100, 301_000])
    test = ann([300_040, 300_090, 301_000])
    c = compare_beats(ref, test)
    s = c.statistics
    assert (s.qrs_tp, s.qrs_fn, s.qrs_fp) == (2, 0, 0)
    assert c.pairs.tolist() == [[1, 1], [2, 2]]


def test_non_integer_rate_pair_falls_back_to_rounding():
    seconds = np.arange(1, 30) * 0.8
    ref = ann(np.round(seconds * 360).astype(int), fs=360.0)
    test = ann(np.round(seconds * 128.5).astype(int), fs=128.5)
    c = compare(ref, test)
    assert c.qrs_se == 1.0 and c.qrs_pp == 1.0
