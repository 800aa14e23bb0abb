"""Time-domain HRV: formulas by hand, adjacency, histogram measures, segments, NeuroKit2."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from holterlab.errors import ParameterError
from holterlab.hrv.nn import nn_intervals
from holterlab.hrv.time_domain import (
    nn_histogram,
    segment_stats,
    time_domain,
    tinn,
    triangular_index,
)
from holterlab.params.hrv import HRVParams
from tests.hrv.synth import beats_from_rr, modulated_rr


def test_hand_computed_values():
    nn = np.array([800.0, 860.0, 790.0, 900.0, 905.0])
    td = time_domain(nn)
    d = np.diff(nn)  # 60, -70, 110, 5
    assert td["mean_nn_ms"] == pytest.approx(nn.mean())
    assert td["sdnn_ms"] == pytest.approx(np.std(nn, ddof=1))
    assert td["rmssd_ms"] == pytest.approx(np.sqrt(np.mean(d**2)))
    assert td["nn50"] == 3
    assert td["pnn50_pct"] == pytest.approx(75.0)
    assert td["mean_hr_bpm"] == pytest.approx(60000 / nn.mean())


def test_successive_differences_skip_gaps():
    nn = np.array([800.0, 810.0, 1000.0, 1010.0])
    adjacent = np.array([False, True, False, True])  # a gap between 810 and 1000
    td = time_domain(nn, adjacent=adjacent)
    assert td["rmssd_ms"] == pytest.approx(10.0)
    assert td["pnn50_pct"] == 0.0
    assert time_domain(nn)["pnn50_pct"] == pytest.approx(100 / 3)


def test_histogram_bins_are_multiples_of_the_bin_width():
    w = 1000 / 128
    nn = np.array([7, 8, 8, 9, 100]) * w  # values exactly on bin edges stay in their bin
    counts, k0 = nn_histogram(nn, w)
    assert k0 == 7 and counts[:3].tolist() == [1, 2, 1] and counts[-1] == 1
    assert triangular_index(nn, w) == pytest.approx(5 / 2)


def test_tinn_of_a_triangular_histogram_is_its_base():
    w = 1000 / 128
    # counts rise linearly over 20 bins to a peak of 200 and fall over 30 bins
    centres = np.arange(100, 151)
    heights = np.where(centres <= 120, (centres - 100) * 10, (150 - centres) * 200 / 30)
    nn = np.repeat(centres * w + w / 2, np.round(heights).astype(int))
    assert tinn(nn, w) == pytest.approx(50 * w, abs=2 * w)


def test_tinn_penalises_mass_outside_the_triangle():
    w = 1000 / 128
    rng = np.random.default_rng(1)
    nn = rng.normal(800, 40, 50000)
    width = tinn(nn, w)
    # a normal distribution's least-squares triangle spans roughly +-2.5 SD
    assert 160 < width < 240


def test_segments_sdann_sdnn_index_and_coverage():
    # four 5-minute segments with constant NN 800/900/800/900
    rr = np.concatenate([np.full(375, 800.0), np.full(333, 900.0), np.full(375, 800.0)])
    rr = np.concatenate([rr, np.full(334, 900.0)])
    times = np.cumsum(rr) / 1000.0 - 0.4  # each rate fills one segment exactly
    td = time_domain(rr, times)
    assert td["n_segments"] == 4
    assert td["sdann_ms"] == pytest.approx(np.std([800, 900, 800, 900], ddof=1), rel=1e-12)
    assert td["sdnn_index_ms"] == pytest.approx(0.0, abs=1e-9)
    # drop half of the third segment: it no longer counts (coverage < 80 %)
    keep = ~((times > 650) & (times < 800))
    td = time_domain(rr[keep], times[keep])
    assert td["n_segments"] == 3
    seg = segment_stats(rr[keep], times[keep], segment_s=300.0)
    assert seg["coverage_pct"][2] < 80 and seg["valid"].sum() == 3


def test_segment_origin_shifts_the_grid():
    rr = np.full(2000, 750.0)
    times = np.cumsum(rr) / 1000.0
    a = segment_stats(rr, times, origin_s=0.0)
    b = segment_stats(rr, times, origin_s=-120.0)
    assert a["first"] == 0 and b["first"] == 0
    assert a["count"][0] != b["count"][0]


def test_undefined_values_are_nan_not_errors():
    td = time_domain(np.array([800.0]))
    assert np.isnan(td["sdnn_ms"]) and np.isnan(td["rmssd_ms"]) and np.isnan(td["sdann_ms"])
    td = time_domain(np.empty(0))
    assert td["n_nn"] == 0 and np.isnan(td["mean_nn_ms"])


def test_bad_nn_arrays_raise_parameter_error():
    with pytest.raises(ParameterError, match="positive"):
        time_domain(np.array([800.0, -1.0]))
    with pytest.raises(ParameterError, match="strictly increasing"):
        time_domain(np.array([800.0, 810.0]), np.array([1.0, 1.0]))
    with pytest.raises(ParameterError, match="one time per interval"):
        time_domain(np.array([800.0, 810.0]), np.array([1.0]))


# ---------------------------------------------------------------------- NeuroKit2
def _nk_time(nn, times):
    nk = pytest.importorskip("neurokit2")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return nk.hrv_time({"RRI": nn, "RRI_Time": times}).iloc[0]


def test_equals_neurokit2_on_a_series_with_ectopy():
    rr = np.round(modulated_rr(1800, components=((0.1, 30), (0.25, 25)), noise_ms=30, seed=2))
    beats = beats_from_rr(rr)
    labels = np.full(beats.size, "N")
    rng = np.random.default_rng(5)
    labels[rng.choice(np.arange(5, beats.size - 5), 40, replace=False)] = "V"
    s = nn_intervals(beats, labels, 1000.0)
    td = time_domain(s.nn_ms, s.times_s, adjacent=s.adjacent)
    ref = _nk_time(s.nn_ms, s.times_s)
    n_d = int(s.adjacent.sum())
    assert td["mean_nn_ms"] == pytest.approx(ref["HRV_MeanNN"], rel=1e-12)
    assert td["sdnn_ms"] == pytest.approx(ref["HRV_SDNN"], rel=1e-12)
    # NeuroKit2 also takes successive differences over adjacent intervals only (RRI_Time)
    assert td["rmssd_ms"] == pytest.approx(ref["HRV_RMSSD"], rel=1e-12)
    # ... but divides NN50 by len(d) + 1 instead of len(d)
    assert td["pnn50_pct"] == pytest.approx(ref["HRV_pNN50"] * (n_d + 1) / n_d, rel=1e-12)
    assert td["triangular_index"] == pytest.approx(ref["HRV_HTI"], rel=1e-12)


def test_params_change_bin_and_threshold():
    nn = np.array([800.0, 830.0, 790.0, 900.0])
    p = HRVParams(pnn_threshold_ms=35.0, histogram_bin_ms=50.0)
    td = time_domain(nn, params=p)
    assert td["nn50"] == 2  # 30, -40, 110 -> two above 35 ms
    assert td["triangular_index"] == pytest.approx(2.0)  # bins 15, 16, 16, 18


def _tinn_brute_force(nn_ms, w):
    """Task Force TINN by exhaustive search over every (N, M) pair of bin positions."""
    from holterlab.hrv.time_domain import nn_histogram

    d = nn_histogram(np.asarray(nn_ms), w)[0].astype(float)
    x = int(np.argmax(d))
    y = d[x]
    b = d.size
    pos = np.arange(b, dtype=float)
    best = (np.inf, None)
    for n in range(-(x + 1), x):  # N left of the mode, as far out as the mode is from 0
        for m in range(x + 1, 2 * b - x):  # M right of the mode, mirrored the same way
            q = np.zeros(b)
            left = (pos > n) & (pos <= x)
            right = (pos > x) & (pos < m)
            q[left] = y * (pos[left] - n) / (x - n)
            q[right] = y * (m - pos[right]) / (m - x)
            err = float(np.sum((d - q) ** 2))
            if err < best[0] - 1e-9:
                best = (err, (m - n) * w)
    return best[1]


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_tinn_equals_an_exhaustive_least_squares_search(seed):
    """The split O(B^2) search gives the Task Force least-squares triangle exactly (it is
    not NeuroKit2's TINN, which differs: NeuroKit2 fits another triangle)."""
    rng = np.random.default_rng(seed)
    w = 1000.0 / 128.0
    nn = np.concatenate(
        [
            rng.normal(850, 40, 3000),
            rng.normal(700, 25, 800 * seed + 200),
            rng.uniform(600, 1100, 50),
        ]
    )
    assert tinn(nn, w) == pytest.approx(_tinn_brute_force(nn, w), abs=1e-9)
