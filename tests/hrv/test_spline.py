"""The SciPy-free not-a-knot spline and FFT length equal SciPy's."""

import numpy as np
import pytest
from scipy.fft import next_fast_len as scipy_next_fast_len
from scipy.interpolate import CubicSpline

from holterlab.hrv._spline import (
    NotAKnotSpline,
    next_fast_len,
    solve_tridiagonal,
    solve_tridiagonal_py,
)


@pytest.mark.parametrize("n", [4, 5, 9, 200, 5000])
def test_spline_equals_scipy_on_an_rr_like_series(n):
    rng = np.random.default_rng(n)
    rr = 0.8 + 0.1 * np.sin(np.arange(n) / 7.0) + rng.normal(0, 0.03, n)
    t = np.cumsum(rr)
    y = 1000 * rr
    grid = np.arange(t[0] - 1.0, t[-1] + 1.0, 0.25)  # also outside: extrapolation
    ours = NotAKnotSpline(t, y)(grid)
    ref = CubicSpline(t, y, bc_type="not-a-knot")(grid)
    np.testing.assert_allclose(ours, ref, rtol=0, atol=1e-6 * np.abs(ref).max())


def test_thomas_kernel_equals_reference_and_solves_the_system():
    rng = np.random.default_rng(1)
    n = 50
    lower, upper = rng.uniform(0, 1, n), rng.uniform(0, 1, n)
    diag = 3 + rng.uniform(0, 1, n)
    rhs = rng.normal(size=n)
    x = solve_tridiagonal_py(lower, diag, upper, rhs)
    np.testing.assert_allclose(solve_tridiagonal(lower, diag, upper, rhs), x, atol=1e-13)
    a = np.diag(diag) + np.diag(lower[1:], -1) + np.diag(upper[:-1], 1)
    np.testing.assert_allclose(a @ x, rhs, atol=1e-10)


def test_next_fast_len_equals_scipy():
    for n in [1, 2, 5, 7, 11, 97, 1000, 1001, 4097, 65537, 345601, 999983]:
        assert next_fast_len(n) == scipy_next_fast_len(n, real=True)


def test_spline_rejects_too_few_or_unsorted_points():
    with pytest.raises(ValueError):
        NotAKnotSpline(np.arange(3.0), np.ones(3))
    with pytest.raises(ValueError):
        NotAKnotSpline(np.array([0.0, 2.0, 1.0, 3.0]), np.ones(4))
