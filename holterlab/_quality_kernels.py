"""Per-segment "is there ECG at all?" statistics for :mod:`holterlab.quality` (numba kernel).

Every segment of every lead is filtered on its own samples only (so the result does not
depend on how a recording is cut into chunks) into

* a QRS-band signal ``q``: a boxcar moving average over ``w`` samples (about 25 ms: removes
  muscle noise and mains) differenced over ``qlag`` samples (about 20 ms: removes baseline
  wander); its pass band is roughly 5-30 Hz, where the QRS complex has its energy;
* a high-frequency signal ``h[i] = x[i] - (x[i-k] + x[i+k]) / 2`` (``k`` about fs / 90,
  response peak near 40-45 Hz), where muscle noise has much energy and the ECG little.

Per segment, the largest ``|q|`` (QRS amplitude, mV), the kurtosis of ``q``
(``E[q^4] / E[q^2]^2``; ECG is spiky, 8-25; Gaussian noise 3) and the ratio of the
root-mean-square of ``h`` to that of ``q`` are returned; filter outputs whose window holds a
non-finite sample are skipped. :func:`quality_stats` computes them in the same single pass
over the signal as the flat/saturation/slope statistics, whose plain-Python reference is
:func:`holterlab.beats._reference.segment_stats`; :func:`ecg_stats_reference` is the plain
numpy reference of the QRS-band columns.
"""

from __future__ import annotations

import numba
import numpy as np

from holterlab.beats._kernels import _median_inplace

__all__ = [
    "quality_stats",
    "ecg_stats_reference",
    "constant_fraction_reference",
    "N_ECG_STATS",
    "CONSTANT_COLUMN",
]

#: Columns of the output: max |q|, kurtosis of q, rms(h) / rms(q).
N_ECG_STATS = 3
#: Column of the fraction of samples on runs of identical values (see :func:`quality_stats`).
CONSTANT_COLUMN = 8


@numba.njit(cache=True, nogil=True, parallel=True)
def quality_stats(x, seg_len, lag, dec, run_len, max_abs, w, qlag, k, out):
    # pragma: no cover - numba
    """One pass over ``x`` (n_leads, n) float32 filling ``out`` (n_leads, n_seg, 9) float64.

    Columns 0-4 are those of :func:`holterlab.beats._reference.segment_stats` (same arguments
    ``lag``, ``dec``, ``run_len``, ``max_abs``; equal results, which a test checks), columns
    5-7 those of :func:`ecg_stats_reference` (arguments ``w``, ``qlag``, ``k``): max ``|q|``,
    kurtosis of ``q``, rms(h) / rms(q), NaN where too few finite samples; column 8 the
    fraction of the segment's samples on runs of at least ``run_len`` identical finite values
    within ``max_abs`` (:func:`constant_fraction_reference`: a lead off for part of the
    segment). Segments are
    independent (each filtered on its own samples), so they run in parallel.
    """
    n_leads = x.shape[0]
    n_seg = out.shape[1]
    for job in numba.prange(n_leads * n_seg):
        lead = job // n_seg
        s = job - lead * n_seg
        buf = np.empty(seg_len // dec + 2, np.float64)
        run_v = np.empty(seg_len // max(run_len, 1) + 2, np.float64)
        run_n = np.empty(seg_len // max(run_len, 1) + 2, np.int64)
        ring = np.zeros(qlag + 1, np.float64)
        y = np.empty(seg_len, np.float64)
        if not _segment_all_finite(x, lead, s, seg_len, lag, dec, run_len, max_abs, w, qlag,
                                   k, out, buf, run_v, run_n, ring, y):  # fmt: skip
            _segment(x, lead, s, seg_len, lag, dec, run_len, max_abs, w, qlag, k, out, buf,
                     run_v, run_n, ring)  # fmt: skip


@numba.njit(cache=True, nogil=True)
def _write_ecg_stats(out, lead, s, nq, s2, s4, qtop, nh, h2):  # pragma: no cover - numba
    """Columns 5-7 of :func:`quality_stats` from the QRS-band and high-frequency sums."""
    if nq < 2 or nh < 2:
        out[lead, s, 5] = np.nan
        out[lead, s, 6] = np.nan
        out[lead, s, 7] = np.nan
        return
    m2 = s2 / nq
    out[lead, s, 5] = qtop
    if m2 > 0.0:
        out[lead, s, 6] = (s4 / nq) / (m2 * m2)
        out[lead, s, 7] = np.sqrt((h2 / nh) / m2)
    else:  # no QRS-band activity at all: not spiky, all high frequency (if any)
        out[lead, s, 6] = 0.0
        out[lead, s, 7] = np.inf if h2 > 0.0 else 0.0


@numba.njit(cache=True, nogil=True)
def _write_segment_stats(out, lead, s, m, n_bad, mn, mx, beyond, run_v, run_n, n_runs, top,
                         buf, k_med):  # fmt: skip  # pragma: no cover - numba
    """Columns 0-4 and 8 of :func:`quality_stats` of a segment with finite samples."""
    clipped = beyond
    constant = 0
    for r in range(n_runs):
        constant += run_n[r]
    if mx > mn:
        for r in range(n_runs):
            if run_v[r] == mx or run_v[r] == mn:
                clipped += run_n[r]
    out[lead, s, 8] = constant / m
    med = 0.0
    if k_med > 0:
        med = _median_inplace(buf, k_med)
    out[lead, s, 0] = n_bad / m
    out[lead, s, 1] = mx - mn
    out[lead, s, 2] = clipped / m
    out[lead, s, 3] = top
    out[lead, s, 4] = med


@numba.njit(cache=True, nogil=True)
def _segment_all_finite(x, lead, s, seg_len, lag, dec, run_len, max_abs, w, qlag, k, out, buf,
                        run_v, run_n, ring, y):  # fmt: skip  # pragma: no cover - numba
    """:func:`_segment` for a segment without a non-finite sample (the usual case).

    Copies the segment to ``y`` and computes each statistic in its own loop without the
    finiteness tests, in the same order of operations as :func:`_segment`, so the results
    are the same to the last bit (a test checks). Returns False, writing nothing, when the
    segment holds a non-finite sample.
    """
    n = x.shape[1]
    a = s * seg_len
    b = min(n, a + seg_len)
    m = b - a
    if m <= 0:
        return False
    mn = np.inf
    mx = -np.inf
    for j in range(m):
        v = np.float64(x[lead, a + j])
        if not np.isfinite(v):
            return False
        y[j] = v
        mn = min(mn, v)
        mx = max(mx, v)
    # runs of identical values
    n_runs = 0
    beyond = 0
    run_start = 0
    run_val = y[0]
    for j in range(1, m + 1):
        if j < m and y[j] == run_val:
            continue
        length = j - run_start
        if abs(run_val) >= max_abs:
            beyond += length
        elif length >= run_len:
            run_v[n_runs] = run_val
            run_n[n_runs] = length
            n_runs += 1
        if j < m:
            run_start = j
            run_val = y[j]
    # slope over lag samples: the largest, and the median of every dec-th
    top = 0.0
    for j in range(lag, m):
        d = abs(y[j] - y[j - lag])
        if d > top:
            top = d
    k_med = 0
    for j in range(lag, m, dec):
        buf[k_med] = abs(y[j] - y[j - lag])
        k_med += 1
    # QRS band: boxcar sum of the last w samples, differenced over qlag
    span = w + qlag
    inv_w = 1.0 / w
    box = 0.0
    nq = 0
    s2 = 0.0
    s4 = 0.0
    qtop = 0.0
    # a ring of the last qlag + 1 box sums, as in _segment (each read after it is written)
    ring_len = qlag + 1
    pos = 0
    for j in range(m):
        box += y[j]
        if j >= w:
            box -= y[j - w]
        ring[pos] = box
        pos += 1
        if pos == ring_len:
            pos = 0
        if j >= span - 1:
            q = (box - ring[pos]) * inv_w
            q2 = q * q
            s2 += q2
            s4 += q2 * q2
            if abs(q) > qtop:
                qtop = abs(q)
            nq += 1
    # high frequency
    h2 = 0.0
    nh = 0
    for j in range(k, m - k):
        h = y[j] - 0.5 * (y[j - k] + y[j + k])
        h2 += h * h
        nh += 1
    _write_ecg_stats(out, lead, s, nq, s2, s4, qtop, nh, h2)
    _write_segment_stats(out, lead, s, m, 0, mn, mx, beyond, run_v, run_n, n_runs, top, buf,
                         k_med)  # fmt: skip
    return True


@numba.njit(cache=True, nogil=True)
def _segment(x, lead, s, seg_len, lag, dec, run_len, max_abs, w, qlag, k, out, buf, run_v,
             run_n, ring):  # fmt: skip  # pragma: no cover - numba
    """The statistics of segment ``s`` of ``lead`` (see :func:`quality_stats`)."""
    n = x.shape[1]
    span = w + qlag
    inv_w = 1.0 / w
    a = s * seg_len
    b = min(n, a + seg_len)
    m = b - a
    n_bad = 0
    mn = np.inf
    mx = -np.inf
    top = 0.0
    k_med = 0
    n_runs = 0
    beyond = 0
    run_start = a
    run_val = np.float64(x[lead, a]) if m > 0 else np.nan
    dcount = 0
    # QRS-band and high-frequency accumulators
    box = 0.0
    pos = 0  # j % (qlag + 1)
    last_bad = -(1 << 40)
    nq = 0
    s2 = 0.0
    s4 = 0.0
    qtop = 0.0
    nh = 0
    h2 = 0.0
    for i in range(a, b + 1):
        if i < b:
            v = np.float64(x[lead, i])
            if i > a and v == run_val:
                pass
            elif i > a:
                length = i - run_start
                if np.isfinite(run_val):
                    if abs(run_val) >= max_abs:
                        beyond += length
                    elif length >= run_len:
                        run_v[n_runs] = run_val
                        run_n[n_runs] = length
                        n_runs += 1
                run_start = i
                run_val = v
        else:
            # the run bookkeeping above, for the segment's last run (written out twice on
            # purpose: an inlined helper returning (n_runs, beyond) made this kernel 2x slower)
            if m > 0:
                length = i - run_start
                if np.isfinite(run_val):
                    if abs(run_val) >= max_abs:
                        beyond += length
                    elif length >= run_len:
                        run_v[n_runs] = run_val
                        run_n[n_runs] = length
                        n_runs += 1
            break
        fin = np.isfinite(v)
        j = i - a
        # ---- QRS band: boxcar sum of the last w samples, differenced over qlag
        if fin:
            box += v
        else:
            last_bad = j
        if j >= w:
            old = np.float64(x[lead, i - w])
            if np.isfinite(old):
                box -= old
        ring[pos] = box
        pos += 1
        if pos == qlag + 1:
            pos = 0
        # ring[pos] now holds the box sum of qlag samples ago
        if j >= span - 1 and j - last_bad >= span:
            q = (box - ring[pos]) * inv_w
            q2 = q * q
            s2 += q2
            s4 += q2 * q2
            if abs(q) > qtop:
                qtop = abs(q)
            nq += 1
        # ---- segment_stats
        if i - a >= lag:
            if fin:
                v0 = np.float64(x[lead, i - lag])
                if np.isfinite(v0):
                    d = abs(v - v0)
                    if d > top:
                        top = d
                    if dcount == 0:
                        buf[k_med] = d
                        k_med += 1
            dcount += 1
            if dcount == dec:
                dcount = 0
        if not fin:
            n_bad += 1
            continue
        if v < mn:
            mn = v
        if v > mx:
            mx = v
    # ---- high frequency (a second pass over the segment, which is in cache)
    for i in range(a + k, b - k):
        v0 = np.float64(x[lead, i - k])
        v1 = np.float64(x[lead, i])
        v2 = np.float64(x[lead, i + k])
        h = v1 - 0.5 * (v0 + v2)
        if np.isfinite(h):
            h2 += h * h
            nh += 1
    _write_ecg_stats(out, lead, s, nq, s2, s4, qtop, nh, h2)
    if n_bad == m or m == 0:
        out[lead, s, 0] = 1.0
        out[lead, s, 1] = 0.0
        out[lead, s, 2] = 0.0
        out[lead, s, 3] = 0.0
        out[lead, s, 4] = 0.0
        out[lead, s, 8] = 0.0
        return
    _write_segment_stats(out, lead, s, m, n_bad, mn, mx, beyond, run_v, run_n, n_runs, top, buf,
                         k_med)  # fmt: skip


def constant_fraction_reference(
    x: np.ndarray, seg_len: int, run_len: int, max_abs: float
) -> np.ndarray:
    """Plain Python version of column 8 of :func:`quality_stats` ((n_leads, n_seg) array)."""
    x = np.asarray(x, dtype=np.float32)
    n_leads, n = x.shape
    n_seg = -(-n // seg_len)
    out = np.zeros((n_leads, n_seg))
    for lead in range(n_leads):
        for s in range(n_seg):
            seg = [float(v) for v in x[lead, s * seg_len : min(n, (s + 1) * seg_len)]]
            if not any(np.isfinite(v) for v in seg):
                continue
            constant, start = 0, 0
            for i in range(1, len(seg) + 1):
                if i < len(seg) and seg[i] == seg[start]:
                    continue
                v = seg[start]
                if np.isfinite(v) and abs(v) < max_abs and i - start >= run_len:
                    constant += i - start
                start = i
            out[lead, s] = constant / len(seg)
    return out


def ecg_stats_reference(x: np.ndarray, seg_len: int, w: int, lag: int, k: int) -> np.ndarray:
    """Plain numpy version of :func:`ecg_stats` (returns the (n_leads, n_seg, 3) array)."""
    x = np.asarray(x, dtype=np.float32)
    n_leads, n = x.shape
    n_seg = -(-n // seg_len)
    out = np.zeros((n_leads, n_seg, N_ECG_STATS), dtype=np.float64)
    for lead in range(n_leads):
        for s in range(n_seg):
            seg = x[lead, s * seg_len : min(n, (s + 1) * seg_len)].astype(np.float64)
            m = seg.size
            fin = np.isfinite(seg)
            csum = np.concatenate([[0.0], np.cumsum(np.where(fin, seg, 0.0))])
            cbad = np.concatenate([[0], np.cumsum(~fin)])
            j = np.arange(w + lag, m + 1)
            ok = cbad[j] - cbad[j - w - lag] == 0
            j = j[ok]
            q = ((csum[j] - csum[j - w]) - (csum[j - lag] - csum[j - lag - w])) * (1.0 / w)
            i = np.arange(k, max(k, m - k))
            with np.errstate(invalid="ignore"):
                h = seg[i] - 0.5 * (seg[i - k] + seg[i + k])
            h = h[np.isfinite(h)]
            if q.size < 2 or h.size < 2:
                out[lead, s] = np.nan
                continue
            m2 = float(np.mean(q * q))
            out[lead, s, 0] = float(np.max(np.abs(q)))
            if m2 > 0.0:
                out[lead, s, 1] = float(np.mean(q**4)) / (m2 * m2)
                out[lead, s, 2] = float(np.sqrt(np.mean(h * h) / m2))
            else:
                out[lead, s, 1] = 0.0
                out[lead, s, 2] = np.inf if np.any(h != 0.0) else 0.0
    return out


@numba.njit(cache=True, nogil=True)
def running_nanmedian(values, size):  # pragma: no cover - numba
    """Centred running median of ``size`` (odd) columns per row, ignoring NaN.

    The window is clipped at the ends; all-NaN windows give NaN. Equals ``np.nanmedian`` over
    the windows (:func:`holterlab.quality._running_median_reference`).
    """
    n_rows, n = values.shape
    half = size // 2
    out = np.empty((n_rows, n), np.float64)
    win = np.empty(size, np.float64)
    for r in range(n_rows):
        for i in range(n):
            c = 0
            for j in range(max(0, i - half), min(n, i + half + 1)):
                v = values[r, j]
                if v == v:  # not NaN: insertion sort
                    p = c
                    while p > 0 and win[p - 1] > v:
                        win[p] = win[p - 1]
                        p -= 1
                    win[p] = v
                    c += 1
            if c == 0:
                out[r, i] = np.nan
            elif c % 2 == 1:
                out[r, i] = win[c // 2]
            else:
                out[r, i] = (win[c // 2 - 1] + win[c // 2]) / 2.0
    return out
