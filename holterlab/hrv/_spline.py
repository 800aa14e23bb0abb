"""Cubic spline with not-a-knot end conditions (as ``scipy.interpolate.CubicSpline``).

The NN series is resampled for the spectra with this spline; importing
:mod:`scipy.interpolate` for it costs most of a second per process. The slopes come from a
tridiagonal system solved by the Thomas algorithm: :func:`solve_tridiagonal_py` is the
plain-Python reference of the numba kernel :func:`solve_tridiagonal` (tests compare both, and
the spline with SciPy's).
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["NotAKnotSpline", "solve_tridiagonal", "solve_tridiagonal_py", "next_fast_len"]


def solve_tridiagonal_py(
    lower: np.ndarray, diag: np.ndarray, upper: np.ndarray, rhs: np.ndarray
) -> np.ndarray:
    """Solve ``lower[i] x[i-1] + diag[i] x[i] + upper[i] x[i+1] = rhs[i]`` (Thomas algorithm).

    ``lower[0]`` and ``upper[-1]`` are ignored.
    """
    n = diag.size
    c = np.empty(n)
    d = np.empty(n)
    c[0] = upper[0] / diag[0]
    d[0] = rhs[0] / diag[0]
    for i in range(1, n):
        m = diag[i] - lower[i] * c[i - 1]
        c[i] = upper[i] / m if i < n - 1 else 0.0
        d[i] = (rhs[i] - lower[i] * d[i - 1]) / m
    x = np.empty(n)
    x[n - 1] = d[n - 1]
    for i in range(n - 2, -1, -1):
        x[i] = d[i] - c[i] * x[i + 1]
    return x


solve_tridiagonal = numba.njit(cache=True, nogil=True)(solve_tridiagonal_py)


class NotAKnotSpline:
    """Interpolating cubic spline through ``(x, y)`` (``x`` strictly increasing, n >= 4)."""

    def __init__(self, x: np.ndarray, y: np.ndarray) -> None:
        x = np.asarray(x, dtype=np.float64)
        y = np.asarray(y, dtype=np.float64)
        n = x.size
        if n < 4 or y.size != n or np.any(np.diff(x) <= 0):
            raise ValueError("NotAKnotSpline needs >= 4 points with strictly increasing x")
        dx = np.diff(x)
        slope = np.diff(y) / dx
        lower = np.zeros(n)
        diag = np.zeros(n)
        upper = np.zeros(n)
        rhs = np.zeros(n)
        diag[1:-1] = 2.0 * (dx[:-1] + dx[1:])
        upper[1:-1] = dx[:-1]
        lower[1:-1] = dx[1:]
        rhs[1:-1] = 3.0 * (dx[1:] * slope[:-1] + dx[:-1] * slope[1:])
        d0 = x[2] - x[0]
        diag[0], upper[0] = dx[1], d0
        rhs[0] = ((dx[0] + 2 * d0) * dx[1] * slope[0] + dx[0] ** 2 * slope[1]) / d0
        d1 = x[-1] - x[-3]
        lower[-1], diag[-1] = d1, dx[-2]
        rhs[-1] = (dx[-1] ** 2 * slope[-2] + (2 * d1 + dx[-1]) * dx[-2] * slope[-1]) / d1
        s = solve_tridiagonal(lower, diag, upper, rhs)
        t = (s[:-1] + s[1:] - 2.0 * slope) / dx
        self.x = x
        self.c = np.stack([t / dx, (slope - s[:-1]) / dx - t, s[:-1], y[:-1]])

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.asarray(t, dtype=np.float64)
        i = np.clip(np.searchsorted(self.x, t, side="right") - 1, 0, self.x.size - 2)
        u = t - self.x[i]
        c = self.c
        return ((c[0, i] * u + c[1, i]) * u + c[2, i]) * u + c[3, i]


def next_fast_len(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n (a fast FFT length for real input)."""
    n = int(n)
    if n <= 6:
        return max(n, 1)
    best = 1 << (n - 1).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            q = -(-n // p35)  # ceil(n / p35), then the next power of two
            p2 = 1 << (q - 1).bit_length()
            best = min(best, p2 * p35)
            p35 *= 3
        p5 *= 5
    return best
