"""The numba kernels of beat classification equal their plain-Python references."""

from __future__ import annotations

import numpy as np
import pytest

from holterlab.beats import _classify_kernels as K
from holterlab.beats.features import extract_beat_windows, window_geometry
from holterlab.params.classification import ClassificationParams

from ._synthetic_beats import synthetic_ecg


@pytest.fixture(scope="module")
def data():
    kinds = ["N"] * 6 + ["V"] + ["N"] * 5 + ["S"] + ["N"] * 4 + ["V", "N", "V"] + ["N"] * 3
    x, beats = synthetic_ecg(kinds, fs=250.0, noise=0.02, seed=3)
    rng = np.random.default_rng(1)
    jittered = beats + rng.integers(-6, 7, beats.size)
    jittered[0] = 2  # a beat at the very start: windows reach outside the signal
    g = window_geometry(250.0, ClassificationParams())
    return x, jittered, g


def test_extract_windows_equals_reference(data):
    x, beats, g = data
    args = (beats, g.search, g.slope_k, g.env_half, g.base_half, g.pre, g.post, g.ranges)
    w1, f1, s1 = K.extract_windows(x, *args)
    w2, f2, s2 = K.extract_windows_ref(x, *args)
    np.testing.assert_array_equal(f1, f2)
    np.testing.assert_allclose(w1, w2, atol=2e-5)
    np.testing.assert_allclose(s1, s2, rtol=1e-4, atol=1e-5)
    w3, f3, s3 = K.extract_windows_serial(x, *args)
    np.testing.assert_array_equal(w1, w3)
    np.testing.assert_array_equal(f1, f3)
    np.testing.assert_array_equal(s1, s3)


def test_window_corr_equals_reference(data):
    x, beats, g = data
    w = extract_beat_windows(x, beats, g).win
    tpl = w[3, :, g.match_lo : g.match_lo + g.match_len]
    c1, l1, r1 = K.window_corr(w, tpl, g.match_lo, g.max_lag)
    c2, l2, r2 = K.window_corr_ref(w, tpl, g.match_lo, g.max_lag)
    np.testing.assert_array_equal(l1, l2)
    np.testing.assert_allclose(c1, c2, atol=1e-5)
    np.testing.assert_allclose(r1, r2, rtol=1e-5)
    assert c1[3] == pytest.approx(1.0, abs=1e-6)


@pytest.mark.parametrize("max_families", [64, 2])
def test_cluster_beats_equals_reference(data, max_families):
    x, beats, g = data
    w = extract_beat_windows(x, beats, g).win
    valid = np.ones(w.shape[0], dtype=bool)
    valid[5] = False
    args = (w, valid, g.match_lo, g.match_len, g.max_lag, 0.92, 2.0, max_families, 8)
    out1 = K.cluster_beats(*args)
    out2 = K.cluster_beats_ref(*args)
    np.testing.assert_array_equal(out1[0], out2[0])  # family
    np.testing.assert_allclose(out1[1], out2[1], atol=1e-5)  # corr
    np.testing.assert_array_equal(out1[2], out2[2])  # lag
    np.testing.assert_allclose(out1[3], out2[3], atol=1e-5)  # templates
    np.testing.assert_array_equal(out1[4], out2[4])  # counts
    assert out1[0][5] == -1
    assert out1[4].sum() == valid.sum()


def test_track_dominant_equals_reference(data):
    x, beats, g = data
    w = extract_beat_windows(x, beats, g).win
    is_dom = np.zeros(w.shape[0], dtype=bool)
    is_dom[::2] = True
    init = w[1, :, g.match_lo : g.match_lo + g.match_len].astype(np.float64)
    args = (w, is_dom, g.match_lo, g.match_len, g.max_lag, 8, init)
    out1 = K.track_dominant(*args)
    out2 = K.track_dominant_ref(*args)
    np.testing.assert_allclose(out1[0], out2[0], atol=1e-5)
    np.testing.assert_array_equal(out1[1], out2[1])
    np.testing.assert_allclose(out1[2], out2[2], rtol=1e-5)
    np.testing.assert_allclose(out1[3], out2[3], atol=1e-5)


def test_track_p_wave_equals_reference(data):
    x, beats, g = data
    w = extract_beat_windows(x, beats, g).win
    ps = g.p_slice
    width = ps.stop - ps.start
    rng = np.random.default_rng(2)
    lag = rng.integers(-g.max_lag, g.max_lag + 1, w.shape[0])
    update = np.ones(w.shape[0], dtype=bool)
    update[[6, 12, 17, 19]] = False  # the ectopic beats do not move the template
    init = w[0, :, ps].astype(np.float64)
    args = (w, lag, ps.start, width, update, 4, init)
    out1 = K.track_p_wave(*args)
    out2 = K.track_p_wave_ref(*args)
    for a, b in zip(out1, out2, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-9, atol=1e-12)
    comb, best, power = out1
    assert np.all(np.abs(comb) <= 1 + 1e-9) and np.all(np.abs(best) <= 1 + 1e-9)
    assert np.all(power > 0)


@pytest.mark.parametrize("lo_off, hi_off", [(-8, 8), (-32, -1), (-3, 0), (0, 5)])
def test_window_median_equals_reference(lo_off, hi_off):
    rng = np.random.default_rng(4)
    v = rng.random(300)
    v[50:60] = 0.5  # ties
    np.testing.assert_allclose(
        K.window_median(v, lo_off, hi_off), K.window_median_ref(v, lo_off, hi_off), rtol=1e-12
    )
    assert K.window_median(np.zeros(0), -2, 2).size == 0
