"""Nonlinear HRV: Poincaré plot descriptors and detrended fluctuation analysis (DFA).

**Poincaré.** Over the adjacent pairs ``(x, y) = (NN[k-1], NN[k])``:
``SD1 = std((x - y) / sqrt 2)``, ``SD2 = std((x + y) / sqrt 2)`` (sample SDs, ``ddof=1``, as
Brennan et al. 2001 and NeuroKit2).

**DFA** (Peng et al. 1995). The profile is the cumulative sum of the NN series minus its mean
(NN intervals concatenated across gaps, as is usual for Holter DFA). For a box size ``s`` the
profile's first ``floor(n / s) * s`` points are reshaped into non-overlapping rows of ``s``
points; each row's least-squares line is removed in closed form (``x`` centred, slope
``sum(x y) / sum(x^2)``, residual sum of squares ``sum(y_c^2) - (sum x y_c)^2 / sum x^2``), and
``F(s) = sqrt(mean residual square over all rows)``: O(n) per box size, no Python loop over
boxes. ``alpha`` is the least-squares slope of ``log F(s)`` against ``log s`` over every whole
box size in the range: ``alpha1`` over 4-16 beats, ``alpha2`` over 16-64 beats. This equals
NeuroKit2's ``fractal_dfa(nn, scale=range(lo, hi + 1), overlap=False)``. Over the smallest
boxes linear-detrended DFA reads white noise slightly high (alpha1 ~0.58 instead of 0.5, a
known finite-size bias; Kantelhardt et al. 2001).
"""

from __future__ import annotations

import numpy as np

from holterlab.errors import ParameterError
from holterlab.hrv.nn import as_nn_arrays

__all__ = ["poincare", "dfa", "dfa_fluctuation"]

NAN = float("nan")


def poincare(nn_ms: np.ndarray, adjacent: np.ndarray | None = None) -> dict[str, float]:
    """Poincaré SD1, SD2 (ms) and SD1/SD2 over adjacent NN pairs."""
    nn, _, adj = as_nn_arrays(nn_ms, None, adjacent)
    pair = adj[1:]
    x = nn[:-1][pair]
    y = nn[1:][pair]
    if x.size < 2:
        return {"sd1_ms": NAN, "sd2_ms": NAN, "sd1_sd2": NAN}
    sd1 = float(np.std((x - y) / np.sqrt(2.0), ddof=1))
    sd2 = float(np.std((x + y) / np.sqrt(2.0), ddof=1))
    return {"sd1_ms": sd1, "sd2_ms": sd2, "sd1_sd2": sd1 / sd2 if sd2 > 0 else NAN}


def dfa_fluctuation(nn_ms: np.ndarray, scales, *, compiled: bool | None = None) -> np.ndarray:
    """DFA fluctuation ``F(s)`` of the NN series for each box size ``s`` (beats).

    Series longer than 200,000 intervals (multi-day records) use a compiled kernel (one pass
    per box size, no temporary arrays); ``compiled`` forces either path. Both give the same
    values (``tests/hrv/test_nonlinear.py``).
    """
    nn = np.asarray(nn_ms, dtype=float)
    sc = np.asarray(scales)
    if sc.ndim != 1 or sc.size == 0 or np.any(sc < 3) or np.any(sc != np.round(sc)):
        raise ParameterError("DFA box sizes must be whole numbers of beats, at least 3")
    profile = np.cumsum(nn - nn.mean())
    if compiled is None:
        compiled = nn.size > 200_000
    if compiled:
        from holterlab.hrv._kernels import dfa_fluctuation as kernel

        return kernel(np.ascontiguousarray(profile), sc.astype(np.int64))
    return _dfa_fluctuation_numpy(profile, sc.astype(int))


def _dfa_fluctuation_numpy(profile: np.ndarray, scales: np.ndarray) -> np.ndarray:
    """Reference implementation: one reshape and closed-form detrend per box size."""
    out = np.full(scales.size, NAN)
    for i, s in enumerate(scales):
        rows = profile.size // s
        if rows < 1:
            continue
        y = profile[: rows * s].reshape(rows, s)
        y = y - y.mean(axis=1, keepdims=True)
        xc = np.arange(s) - (s - 1) / 2.0
        sxx = float(np.dot(xc, xc))
        sxy = y @ xc
        rss = np.einsum("ij,ij->i", y, y) - sxy * sxy / sxx
        out[i] = np.sqrt(max(float(rss.sum()), 0.0) / (rows * s))
    return out


def dfa(nn_ms: np.ndarray, *, min_beats: int = 4, max_beats: int = 16) -> float:
    """DFA scaling exponent over whole box sizes ``min_beats .. max_beats``.

    NaN when the series holds fewer than ``4 * max_beats`` intervals (too few boxes of the
    largest size for a stable estimate).
    """
    if min_beats >= max_beats:
        raise ParameterError("dfa needs min_beats < max_beats")
    nn = np.asarray(nn_ms, dtype=float)
    if nn.size < 4 * max_beats:
        return NAN
    scales = np.arange(min_beats, max_beats + 1)
    f = dfa_fluctuation(nn, scales)
    ok = np.isfinite(f) & (f > 0)
    if ok.sum() < 2:
        return NAN
    return float(np.polyfit(np.log(scales[ok]), np.log(f[ok]), 1)[0])
