"""Numba kernels of the atrial-activity stage, each with the plain-Python reference that a
test holds it to (``*_py``). Imported lazily (numba is heavy to import).
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = ["blank_windows", "blank_windows_py", "p_match", "p_match_py"]


def blank_windows_py(x, starts, q, beats, pre, post, taper, out):
    """Cut windows out of ``x``, decimate, blank the QRS complexes, detrend and taper.

    Parameters
    ----------
    x
        Block of samples, shape ``(n_leads, n)``.
    starts
        First sample (in ``x``) of each window; ``starts[w] + q * out.shape[2] <= n``.
    q
        Decimation factor: output sample ``i`` is the mean of ``x[s + q i : s + q (i + 1)]``.
    beats
        Beat sample indices in ``x`` (sorted; may lie outside the block).
    pre, post
        Samples (of ``x``) blanked before and after each beat: the output samples covering
        ``[b - pre, b + post]`` (clipped to the window) are replaced by the straight line
        between the two around them (by the one inside the window, held constant, where the
        span touches the window edge).
    taper
        Multiplied into each window after its linear trend is removed (length
        ``out.shape[2]``).
    out
        Output, shape ``(len(starts), n_leads, m)`` (float32), filled in place.
    """
    n_leads = x.shape[0]
    m = out.shape[2]
    tt = np.arange(m).astype(np.float64) - 0.5 * (m - 1)
    stt = 0.0
    for i in range(m):
        stt += tt[i] * tt[i]
    span = q * m
    for w in range(starts.size):
        s = starts[w]
        j0 = np.searchsorted(beats, s - post)
        j1 = np.searchsorted(beats, s + span + pre)
        for k in range(n_leads):
            seg = out[w, k]
            for i in range(m):
                acc = 0.0
                for r in range(q):
                    acc += np.float64(x[k, s + i * q + r])
                seg[i] = acc / q
            for j in range(j0, j1):
                a = (beats[j] - pre - s) // q - 1
                c = -((s - beats[j] - post) // q) + 1
                if a < 0:
                    a = 0
                if c > m - 1:
                    c = m - 1
                if c <= a:
                    continue
                if a == 0:
                    for i in range(a, c):
                        seg[i] = seg[c]
                elif c == m - 1:
                    for i in range(a + 1, c + 1):
                        seg[i] = seg[a]
                else:
                    va = np.float64(seg[a])
                    vc = np.float64(seg[c])
                    for i in range(a + 1, c):
                        seg[i] = va + (vc - va) * (i - a) / (c - a)
            mean = 0.0
            slope = 0.0
            for i in range(m):
                v = np.float64(seg[i])
                mean += v
                slope += v * tt[i]
            mean /= m
            slope /= stt
            for i in range(m):
                seg[i] = (seg[i] - (mean + slope * tt[i])) * taper[i]
    return out


blank_windows = numba.njit(cache=True)(blank_windows_py)


def p_match_py(x, beats, p_start, p_end, first, last, min_pp, min_corr):
    """Fraction of beats whose pre-QRS segment matches the window's P template.

    Parameters
    ----------
    x
        Block of samples, shape ``(n_leads, n)``.
    beats
        Sample indices (in ``x``) of the beats that may carry a P wave, sorted, each with
        ``b - p_start >= 0`` and ``b - p_end <= n``.
    p_start, p_end
        The segment of beat ``b`` is ``x[:, b - p_start : b - p_end]``; its mean and linear
        trend are removed per lead.
    first, last
        Beats ``first[w]:last[w]`` belong to window ``w``.
    min_pp
        The template (mean segment) must reach this peak-to-peak amplitude in some lead.
    min_corr
        A beat matches when the correlation of its segment (all leads) with the template
        reaches this.

    Returns
    -------
    Fraction of matching beats per window (0 where the template is too small), NaN where
    the window has no beat.
    """
    n_win = first.size
    n_leads = x.shape[0]
    m = p_start - p_end
    tt = np.arange(m).astype(np.float64) - 0.5 * (m - 1)
    stt = 0.0
    for i in range(m):
        stt += tt[i] * tt[i]
    frac = np.full(n_win, np.nan)
    most = 0
    for w in range(n_win):
        if last[w] - first[w] > most:
            most = last[w] - first[w]
    seg = np.zeros((most, n_leads, m))
    tpl = np.zeros((n_leads, m))
    for w in range(n_win):
        a = first[w]
        nb = last[w] - a
        if nb <= 0:
            continue
        tpl[:, :] = 0.0
        for j in range(nb):
            b0 = beats[a + j] - p_start
            for k in range(n_leads):
                mean = 0.0
                slope = 0.0
                for i in range(m):
                    v = np.float64(x[k, b0 + i])
                    mean += v
                    slope += v * tt[i]
                mean /= m
                slope /= stt
                for i in range(m):
                    v = np.float64(x[k, b0 + i]) - mean - slope * tt[i]
                    seg[j, k, i] = v
                    tpl[k, i] += v
        pp = 0.0
        for k in range(n_leads):
            lo = math.inf
            hi = -math.inf
            for i in range(m):
                tpl[k, i] /= nb
                if tpl[k, i] < lo:
                    lo = tpl[k, i]
                if tpl[k, i] > hi:
                    hi = tpl[k, i]
            if hi - lo > pp:
                pp = hi - lo
        if pp < min_pp:
            frac[w] = 0.0
            continue
        tvar = 0.0
        for k in range(n_leads):
            for i in range(m):
                tvar += tpl[k, i] ** 2
        hits = 0
        for j in range(nb):
            cov = 0.0
            svar = 0.0
            for k in range(n_leads):
                for i in range(m):
                    cov += seg[j, k, i] * tpl[k, i]
                    svar += seg[j, k, i] ** 2
            if svar > 0.0 and tvar > 0.0 and cov / math.sqrt(svar * tvar) >= min_corr:
                hits += 1
        frac[w] = hits / nb
    return frac


p_match = numba.njit(cache=True)(p_match_py)
