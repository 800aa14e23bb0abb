"""The numba kernels of the atrial-activity stage equal their plain-Python references."""

from __future__ import annotations

import numpy as np
import pytest

from holterlab.atrial._kernels import blank_windows, blank_windows_py, p_match, p_match_py


@pytest.mark.parametrize("q", [1, 2, 3])
def test_blank_windows_matches_python_reference(q):
    rng = np.random.default_rng(q)
    x = rng.normal(size=(2, 5000)).astype(np.float32)
    beats = np.sort(rng.choice(np.arange(-30, 5030), size=40, replace=False)).astype(np.int64)
    m = 900 // q
    starts = np.array([0, 450, 1000, 4000, 5000 - q * m], dtype=np.int64)
    taper = np.hanning(m)
    a = np.empty((starts.size, 2, m), np.float32)
    b = np.empty_like(a)
    blank_windows(x, starts, q, beats, 12, 20, taper, a)
    blank_windows_py(x, starts, q, beats, 12, 20, taper, b)
    np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def test_blank_windows_blanks_and_detrends():
    x = np.zeros((1, 1000), np.float32)
    x[0, 500] = 10.0  # a "QRS" spike on a flat line
    x[0] += np.linspace(0, 1, 1000, dtype=np.float32)  # a trend
    out = np.empty((1, 1, 1000), np.float32)
    blank_windows_py(x, np.array([0]), 1, np.array([500]), 10, 10, np.ones(1000), out)
    assert np.abs(out).max() < 1e-3  # spike blanked, trend removed


def test_p_match_matches_python_reference():
    rng = np.random.default_rng(7)
    n = 6000
    x = (0.02 * rng.normal(size=(2, n))).astype(np.float32)
    beats = np.arange(100, n, 200, dtype=np.int64)
    bump = np.exp(-0.5 * ((np.arange(40) - 20) / 5.0) ** 2).astype(np.float32) * 0.15
    for b in beats[::2]:  # every other beat has a P wave
        x[:, b - 50 : b - 10] += bump
    first = np.array([0, 5, 10, 29], dtype=np.int64)
    last = np.array([10, 15, 29, 29], dtype=np.int64)
    a = p_match(x, beats, 60, 5, first, last, 0.04, 0.6)
    b = p_match_py(x, beats, 60, 5, first, last, 0.04, 0.6)
    np.testing.assert_allclose(a, b, rtol=1e-9, equal_nan=True)
    assert 0.3 <= a[0] <= 0.7  # half the beats carry the P wave
    assert np.isnan(a[3])  # empty window
