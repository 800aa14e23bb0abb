"""Numba kernel of the AF score, with the plain-Python reference a test holds it to.

Imported lazily (numba is heavy to import).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["window_scores", "window_scores_py"]


@numba.njit(cache=True)
def window_scores(d, seg, half_before, half_after, need, thresholds):  # pragma: no cover
    """Smallest, over the rows (lags) of ``d``, fraction of window values ``>= threshold``.

    For every column ``j`` the window is ``[j - half_before, j + half_after]`` clipped to the
    run of equal ``seg`` values holding ``j``; NaN values of ``d`` are ignored. Returns an
    array ``(len(thresholds), n)``; NaN where some lag has fewer than ``need`` values.
    Sliding counts: O(lags * thresholds * n).
    """
    n_lag, n = d.shape
    n_thr = thresholds.size
    out = np.full((n_thr, n), np.inf)
    start = 0
    while start < n:
        stop = start
        while stop < n and seg[stop] == seg[start]:
            stop += 1
        for k in range(n_lag):
            cnt = 0
            hits = np.zeros(n_thr, dtype=np.int64)
            lo = start
            hi = start  # window is [lo, hi)
            for j in range(start, stop):
                new_lo = max(start, j - half_before)
                new_hi = min(stop, j + half_after + 1)
                while hi < new_hi:
                    v = d[k, hi]
                    if not math.isnan(v):
                        cnt += 1
                        for q in range(n_thr):
                            if v >= thresholds[q]:
                                hits[q] += 1
                    hi += 1
                while lo < new_lo:
                    v = d[k, lo]
                    if not math.isnan(v):
                        cnt -= 1
                        for q in range(n_thr):
                            if v >= thresholds[q]:
                                hits[q] -= 1
                    lo += 1
                for q in range(n_thr):
                    if cnt >= need and cnt > 0:
                        f = hits[q] / cnt
                        if f < out[q, j]:
                            out[q, j] = f
                    else:
                        out[q, j] = np.nan
        start = stop
    for q in range(n_thr):
        for j in range(n):
            if math.isinf(out[q, j]):
                out[q, j] = np.nan
    return out


def window_scores_py(d, seg, half_before, half_after, need, thresholds):
    """Plain-Python reference of :func:`window_scores`."""
    n_lag, n = d.shape
    out = np.full((len(thresholds), n), np.nan)
    for q, thr in enumerate(thresholds):
        for j in range(n):
            fracs = []
            for k in range(n_lag):
                window = [
                    d[k, i]
                    for i in range(max(0, j - half_before), min(n, j + half_after + 1))
                    if seg[i] == seg[j] and not math.isnan(d[k, i])
                ]
                if len(window) < need or not window:
                    fracs = None
                    break
                fracs.append(sum(v >= thr for v in window) / len(window))
            if fracs:
                out[q, j] = min(fracs)
    return out
