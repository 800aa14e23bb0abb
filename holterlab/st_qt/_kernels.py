"""Hot loops of the median-beat stage: knot-baseline removal and per-window medians.

:func:`median_segments_py` is the plain-Python reference; :data:`median_segments` the same code
compiled by numba (a test proves them equal). Only the samples of the averaged beats are
touched, never the whole signal.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["median_segments", "median_segments_py"]


def median_segments_py(
    x: np.ndarray,
    knots: np.ndarray,
    levels: np.ndarray,
    centres: np.ndarray,
    bounds: np.ndarray,
    pre: int,
    post: int,
) -> np.ndarray:
    """Median beat of each group of beats after subtracting the knot baseline.

    Parameters
    ----------
    x
        Signal block, float32, shape (n_leads, n).
    knots
        Knot samples in ``x`` (sorted, at least two), int64.
    levels
        Baseline level at each knot, float32, shape (n_leads, n_knots).
    centres
        Fiducial samples in ``x`` of the averaged beats, grouped consecutively.
    bounds
        Group ``g`` holds ``centres[bounds[g]:bounds[g + 1]]``.
    pre, post
        Samples before and after each fiducial point.

    Returns
    -------
    numpy.ndarray
        Float32 array (n_groups, n_leads, pre + post): the per-sample median over the group's
        beats of ``x - baseline``, where the baseline is linear between knots (constant
        beyond the first and the last knot, as :func:`numpy.interp`).
    """
    n_leads = x.shape[0]
    width = pre + post
    n_groups = bounds.size - 1
    n_knots = knots.size
    out = np.zeros((n_groups, n_leads, width), dtype=np.float32)
    for g in range(n_groups):
        a = bounds[g]
        m = bounds[g + 1] - a
        buf = np.empty((n_leads, width, m), dtype=np.float32)
        for j in range(m):
            c = centres[a + j]
            # first knot strictly after the segment start
            k = np.searchsorted(knots, c - pre, side="right")
            for i in range(width):
                t = c - pre + i
                while k < n_knots and knots[k] <= t:
                    k += 1
                for lead in range(n_leads):
                    if k == 0:
                        base = levels[lead, 0]
                    elif k == n_knots:
                        base = levels[lead, n_knots - 1]
                    else:
                        t0 = knots[k - 1]
                        t1 = knots[k]
                        w = (t - t0) / (t1 - t0)
                        base = levels[lead, k - 1] + w * (levels[lead, k] - levels[lead, k - 1])
                    buf[lead, i, j] = x[lead, t] - base
        for lead in range(n_leads):
            for i in range(width):
                out[g, lead, i] = np.median(buf[lead, i])
    return out


@numba.njit(cache=True, nogil=True)
def _fill_segments(x, knots, levels, centres, a, m, pre, buf):
    n_leads, width = buf.shape[0], buf.shape[2]
    n_knots = knots.size
    for j in range(m):
        c = centres[a + j]
        k = np.searchsorted(knots, c - pre, side="right")
        for i in range(width):
            t = c - pre + i
            while k < n_knots and knots[k] <= t:
                k += 1
            if k == 0 or k == n_knots:
                kk = 0 if k == 0 else n_knots - 1
                for lead in range(n_leads):
                    buf[lead, j, i] = x[lead, t] - levels[lead, kk]
            else:
                t0 = knots[k - 1]
                w = (t - t0) / (knots[k] - t0)
                for lead in range(n_leads):
                    lo = levels[lead, k - 1]
                    buf[lead, j, i] = x[lead, t] - (lo + w * (levels[lead, k] - lo))


@numba.njit(cache=True, nogil=True)
def _median_by_rank(col, m):
    # branch-free ranks (ties broken by position): no mispredictions on short random columns
    h = m // 2
    lo = np.float32(0.0)
    hi = np.float32(0.0)
    for i in range(m):
        v = col[i]
        r = 0
        for j in range(m):
            w = col[j]
            r += (w < v) | ((w == v) & (j < i))
        if r == h:
            hi = v
        if r == h - 1:
            lo = v
    if m % 2 == 1:
        return hi
    return 0.5 * (lo + hi)


@numba.njit(cache=True, nogil=True, parallel=True)
def median_segments(x, knots, levels, centres, bounds, pre, post):
    """Numba twin of :func:`median_segments_py` (same arguments and result); the groups are
    independent and run in parallel."""
    n_leads = x.shape[0]
    width = pre + post
    n_groups = bounds.size - 1
    out = np.zeros((n_groups, n_leads, width), dtype=np.float32)
    for g in numba.prange(n_groups):
        a = bounds[g]
        m = bounds[g + 1] - a
        buf = np.empty((n_leads, max(m, 1), width), dtype=np.float32)
        col = np.empty(max(m, 1), dtype=np.float32)
        _fill_segments(x, knots, levels, centres, a, m, pre, buf)
        for lead in range(n_leads):
            for i in range(width):
                for j in range(m):
                    col[j] = buf[lead, j, i]
                out[g, lead, i] = _median_by_rank(col, m)
    return out


@numba.njit(cache=True, nogil=True)
def _smooth_same(v: np.ndarray, k: int) -> np.ndarray:
    """``np.convolve(v, np.ones(k) / k, mode="same")``."""
    n = v.size
    if k <= 1:
        return v.copy()
    out = np.zeros(n)
    shift = (k - 1) // 2
    for i in range(n):
        acc = 0.0
        for j in range(k):
            m = i + shift - j
            if 0 <= m < n:
                acc += v[m]
        out[i] = acc / k
    return out


@numba.njit(cache=True, nogil=True)
def delineate_kernel(
    beat: np.ndarray, fs: float, pre: int, st_offset_ms: float, rr_ms: float
) -> tuple[int, int, int, np.ndarray, np.ndarray]:
    """Numba twin of :func:`holterlab.st_qt.delineate.delineate` (the reference).

    ``beat`` is float64 (n_leads, width); ``rr_ms <= 0`` means unknown. Returns ``onset,
    j_point, t_end`` (-1 when no T end was found), ``pr`` and ``st`` (per lead, mV).
    """
    n_leads, width = beat.shape
    ms = fs / 1000.0
    d = np.zeros(width - 1)
    for lead in range(n_leads):
        for i in range(width - 1):
            d[i] += abs(beat[lead, i + 1] - beat[lead, i])
    d *= fs
    d = _smooth_same(d, max(1, int(round(8 * ms))))
    lo = max(1, pre - int(60 * ms))
    hi = min(width - 2, pre + int(60 * ms))
    peak = d[lo:hi].max() if hi > lo else d.max()
    thr = 0.12 * peak
    hold = max(1, int(round(12 * ms)))

    onset = max(0, pre - int(150 * ms))
    for i in range(pre, max(hold, pre - int(150 * ms)), -1):
        if np.all(d[i - hold : i] < thr):
            onset = i
            break
    j_point = min(width - 1, pre + int(150 * ms))
    for i in range(pre, min(width - hold, pre + int(160 * ms))):
        if np.all(d[i : i + hold] < thr):
            j_point = i
            break

    seg = max(2, int(round(20 * ms)))
    a = max(0, onset - int(100 * ms))
    b = max(1, onset - int(5 * ms))
    best = np.inf
    best_i = max(0, b - seg)
    for i in range(a, max(a + 1, b - seg)):
        v = d[i : i + seg].sum()
        if v < best:
            best = v
            best_i = i
    pr = np.zeros(n_leads)
    stv = np.zeros(n_leads)
    st_i = min(width - 1, j_point + int(round(st_offset_ms * ms)))
    half = max(1, int(round(5 * ms)))
    s0 = max(0, st_i - half)
    s1 = min(width, st_i + half + 1)
    p1 = min(width, best_i + seg)
    for lead in range(n_leads):
        pr[lead] = beat[lead, best_i:p1].mean()
        stv[lead] = beat[lead, s0:s1].mean() - pr[lead]

    t_end = -1
    t_lo = j_point + int(80 * ms)
    if rr_ms > 0:
        limit = pre + int((rr_ms * 0.75) * ms)
    else:
        limit = width - 1
    t_hi = min(width - 2, limit, pre + int(600 * ms))
    if t_hi - t_lo > int(60 * ms):
        lead_best = 0
        amp_best = -1.0
        for lead in range(n_leads):
            m = 0.0
            for i in range(t_lo, t_hi):
                r = abs(beat[lead, i] - pr[lead])
                if r > m:
                    m = r
            if m > amp_best:
                amp_best = m
                lead_best = lead
        rel = beat[lead_best, t_lo:t_hi] - pr[lead_best]
        w = _smooth_same(rel, max(1, int(round(10 * ms))))
        k = int(np.argmax(np.abs(w)))
        amp = w[k]
        if abs(amp) > 0.05:
            after = w[k:]
            if after.size > 3:
                sgn = np.sign(amp)
                slope = (after[1:] - after[:-1]) * sgn
                m2 = int(np.argmin(slope))
                s = slope[m2] * sgn
                if slope[m2] < 0 and s != 0:
                    x0 = k + m2
                    y0 = w[x0]
                    cross = x0 - y0 / s
                    if np.isfinite(cross) and k < cross < (t_hi - t_lo) + int(100 * ms):
                        t_end = int(round(t_lo + cross))
    return onset, j_point, t_end, pr, stv
