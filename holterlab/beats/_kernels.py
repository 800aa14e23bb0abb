"""Numba kernels of signal quality and QRS detection.

Every kernel has a plain-Python twin with the same name in :mod:`holterlab.beats._reference`
that performs the same float64 operations in the same order; the tests prove that both give
identical results. Kernels that keep state between calls (the detector is streaming: a
recording is fed chunk by chunk) take their state as arrays and update it in place, so a
signal fed in any number of pieces gives bit-identical output.
"""

from __future__ import annotations

import math

import numba
import numpy as np

__all__ = [
    "envelope",
    "fuse",
    "block_stats",
    "find_peaks",
    "decide",
    "refine",
    "verify",
    "refine_batch",
    "verify_batch",
    "RR_SLOTS",
    "LEVEL_SLOTS",
]

#: RR intervals averaged by the threshold logic (Pan-Tompkins: 8).
RR_SLOTS = 8
#: Recent beats whose levels give the reference level of the verification step.
LEVEL_SLOTS = 8

# indices into the float and int state arrays of `decide`
_SPK, _NPK, _LASTV = 0, 1, 2
_LAST, _HAVE, _RRI, _NZN = 0, 1, 2, 3


@numba.njit(cache=True, nogil=True)
def _median_inplace(a, n):  # pragma: no cover - numba
    """Median of ``a[:n]`` by quickselect; reorders ``a[:n]``."""
    k = n // 2
    lo = 0
    hi = n - 1
    while lo < hi:
        pivot = a[(lo + hi) // 2]
        i = lo
        j = hi
        while i <= j:
            while a[i] < pivot:
                i += 1
            while a[j] > pivot:
                j -= 1
            if i <= j:
                tmp = a[i]
                a[i] = a[j]
                a[j] = tmp
                i += 1
                j -= 1
        if k <= j:
            hi = j
        elif k >= i:
            lo = i
        else:
            break
    upper = a[k]
    if n % 2 == 1:
        return upper
    lower = a[0]
    for q in range(1, k):
        if a[q] > lower:
            lower = a[q]
    return 0.5 * (lower + upper)


#: Filter states below this magnitude are set to 0: a decaying recursion on a flat signal
#: would otherwise end in subnormal numbers, which are ~100 times slower to compute with.
TINY = 1e-200


@numba.njit(cache=True, nogil=True, inline="always")
def _ftz(v):  # pragma: no cover - numba
    return v if abs(v) >= TINY else 0.0


@numba.njit(cache=True, nogil=True, inline="always")
def _start_lead(v, lead, zi_unit, inited, zi):  # pragma: no cover - numba
    inited[lead] = 1
    for s in range(zi_unit.shape[0]):
        zi[lead, s, 0] = zi_unit[s, 0] * v
        zi[lead, s, 1] = zi_unit[s, 1] * v


@numba.njit(cache=True, nogil=True)
def _envelope_one(x, lead, sos, zi_unit, inited, zi, last_x, prev, ring, pos, acc, count, out):
    # pragma: no cover - numba
    n = x.shape[1]
    n_sec = sos.shape[0]
    w = ring.shape[1]
    lx = last_x[lead]
    pv = prev[lead]
    k = pos[lead]
    ac = acc[lead]
    c = count[lead]
    for i in range(n):
        v = np.float64(x[lead, i])
        if inited[lead] == 0:
            if not np.isfinite(v):
                out[lead, i] = np.float32(0.0)
                continue
            _start_lead(v, lead, zi_unit, inited, zi)
            lx = v
            pv = 0.0
        if np.isfinite(v):
            lx = v
        else:
            v = lx
        for s in range(n_sec):
            y = sos[s, 0] * v + zi[lead, s, 0]
            zi[lead, s, 0] = _ftz(sos[s, 1] * v - sos[s, 4] * y + zi[lead, s, 1])
            zi[lead, s, 1] = _ftz(sos[s, 2] * v - sos[s, 5] * y)
            v = y
        d = v - pv
        pv = v
        e = _ftz(d * d)
        ac += e - ring[lead, k]
        ring[lead, k] = e
        k += 1
        if k == w:
            k = 0
        c += 1
        if (c & 65535) == 0:
            ac = 0.0
            for j in range(w):
                ac += ring[lead, j]
        if ac < 0.0:
            ac = 0.0
        out[lead, i] = np.float32(math.sqrt(ac / w))
    last_x[lead] = lx
    prev[lead] = pv
    pos[lead] = k
    acc[lead] = ac
    count[lead] = c


@numba.njit(cache=True, nogil=True)
def _envelope_pair(x, la, lb, sos, zi_unit, inited, zi, last_x, prev, ring, pos, acc, count, out):
    # pragma: no cover - numba
    # two leads of a two-section filter, interleaved so that their recursions overlap
    n = x.shape[1]
    w = ring.shape[1]
    b00, b01, b02, a01, a02 = sos[0, 0], sos[0, 1], sos[0, 2], sos[0, 4], sos[0, 5]
    b10, b11, b12, a11, a12 = sos[1, 0], sos[1, 1], sos[1, 2], sos[1, 4], sos[1, 5]
    za0, za1, za2, za3 = zi[la, 0, 0], zi[la, 0, 1], zi[la, 1, 0], zi[la, 1, 1]
    zb0, zb1, zb2, zb3 = zi[lb, 0, 0], zi[lb, 0, 1], zi[lb, 1, 0], zi[lb, 1, 1]
    lxa, pva, ka, aca, ca = last_x[la], prev[la], pos[la], acc[la], count[la]
    lxb, pvb, kb, acb, cb = last_x[lb], prev[lb], pos[lb], acc[lb], count[lb]
    ia, ib = inited[la], inited[lb]
    for i in range(n):
        va = np.float64(x[la, i])
        vb = np.float64(x[lb, i])
        fa = np.isfinite(va)
        fb = np.isfinite(vb)
        if ia == 0:
            if fa:
                ia = 1
                za0, za1 = zi_unit[0, 0] * va, zi_unit[0, 1] * va
                za2, za3 = zi_unit[1, 0] * va, zi_unit[1, 1] * va
                lxa = va
                pva = 0.0
        if ib == 0:
            if fb:
                ib = 1
                zb0, zb1 = zi_unit[0, 0] * vb, zi_unit[0, 1] * vb
                zb2, zb3 = zi_unit[1, 0] * vb, zi_unit[1, 1] * vb
                lxb = vb
                pvb = 0.0
        if fa:
            lxa = va
        else:
            va = lxa
        if fb:
            lxb = vb
        else:
            vb = lxb
        # section 1
        ya = b00 * va + za0
        yb = b00 * vb + zb0
        za0 = _ftz(b01 * va - a01 * ya + za1)
        zb0 = _ftz(b01 * vb - a01 * yb + zb1)
        za1 = _ftz(b02 * va - a02 * ya)
        zb1 = _ftz(b02 * vb - a02 * yb)
        # section 2
        ua = b10 * ya + za2
        ub = b10 * yb + zb2
        za2 = _ftz(b11 * ya - a11 * ua + za3)
        zb2 = _ftz(b11 * yb - a11 * ub + zb3)
        za3 = _ftz(b12 * ya - a12 * ua)
        zb3 = _ftz(b12 * yb - a12 * ub)
        if ia == 1:
            d = ua - pva
            pva = ua
            e = _ftz(d * d)
            aca += e - ring[la, ka]
            ring[la, ka] = e
            ka += 1
            if ka == w:
                ka = 0
            ca += 1
            if (ca & 65535) == 0:
                aca = 0.0
                for j in range(w):
                    aca += ring[la, j]
            if aca < 0.0:
                aca = 0.0
            out[la, i] = np.float32(math.sqrt(aca / w))
        else:
            out[la, i] = np.float32(0.0)
        if ib == 1:
            d = ub - pvb
            pvb = ub
            e = _ftz(d * d)
            acb += e - ring[lb, kb]
            ring[lb, kb] = e
            kb += 1
            if kb == w:
                kb = 0
            cb += 1
            if (cb & 65535) == 0:
                acb = 0.0
                for j in range(w):
                    acb += ring[lb, j]
            if acb < 0.0:
                acb = 0.0
            out[lb, i] = np.float32(math.sqrt(acb / w))
        else:
            out[lb, i] = np.float32(0.0)
    zi[la, 0, 0], zi[la, 0, 1], zi[la, 1, 0], zi[la, 1, 1] = za0, za1, za2, za3
    zi[lb, 0, 0], zi[lb, 0, 1], zi[lb, 1, 0], zi[lb, 1, 1] = zb0, zb1, zb2, zb3
    last_x[la], prev[la], pos[la], acc[la], count[la] = lxa, pva, ka, aca, ca
    last_x[lb], prev[lb], pos[lb], acc[lb], count[lb] = lxb, pvb, kb, acb, cb
    inited[la], inited[lb] = ia, ib


@numba.njit(cache=True, nogil=True)
def envelope(x, sos, zi_unit, inited, zi, last_x, prev, ring, pos, acc, count, out):
    # pragma: no cover - numba
    """Streaming QRS energy envelope of every lead.

    Per sample: band-pass (cascade of second-order sections ``sos`` in transposed direct
    form II, states ``zi`` of shape (n_leads, n_sections, 2)), first difference, square,
    moving sum over ``ring.shape[1]`` samples, and ``sqrt(sum / w)`` into ``out`` (float32).
    A lead starts (``inited``) at its first finite sample ``v0`` with the filter in the steady
    state of a constant ``v0`` (``zi_unit * v0``), so a DC offset gives no transient; until
    then the output is 0. Non-finite input repeats the last finite sample (``last_x``). The
    moving sum is recomputed exactly every 65536 samples (``count``) so that no rounding drift
    builds up. Pairs of leads are processed together when the filter has two sections.
    """
    n_leads = x.shape[0]
    lead = 0
    if sos.shape[0] == 2:
        while lead + 1 < n_leads:
            _envelope_pair(
                x,
                lead,
                lead + 1,
                sos,
                zi_unit,
                inited,
                zi,
                last_x,
                prev,
                ring,
                pos,
                acc,
                count,
                out,
            )
            lead += 2
    while lead < n_leads:
        _envelope_one(x, lead, sos, zi_unit, inited, zi, last_x, prev, ring, pos, acc, count, out)
        lead += 1


@numba.njit(cache=True, nogil=True)
def fuse(f, start, block, wgt, inv, power, out):  # pragma: no cover - numba
    """Fuse the lead envelopes into one detection signal.

    ``f``: (n_leads, m) envelopes of absolute samples ``start .. start + m``. ``wgt`` and
    ``inv``: (n_leads, n_blocks) lead weights (summing to 1 over the leads, or all 0) and
    inverse QRS levels per block of ``block`` samples. Both are interpolated linearly between
    block centres ``c_b = b * block + (block - 1) / 2`` (constant before the first and after
    the last centre): at sample ``a`` in ``[c_b, c_b+1)``, ``W = W_b + (W_b+1 - W_b) * frac``
    with ``frac = (a - b * block - (block - 1) / 2) / block``.
    ``out[i] = (sum_l W_l * (f_l * inv_l) ** power) ** (1 / power)``.
    """
    n_leads, m = f.shape
    nb = wgt.shape[1]
    half = (block - 1) / 2.0
    w0 = np.empty(n_leads, np.float64)
    dw = np.empty(n_leads, np.float64)
    s0 = np.empty(n_leads, np.float64)
    ds = np.empty(n_leads, np.float64)
    i = 0
    while i < m:
        a = start + i
        b0 = int(math.floor((a - half) / block))
        # the interval [c_b0, c_b0+1) ends at the first sample >= c_b0+1
        end = int(math.ceil((b0 + 1) * block + half)) - start
        if end > m:
            end = m
        if end <= i:
            end = i + 1
        flat = b0 < 0 or b0 >= nb - 1
        bb = 0 if b0 < 0 else (nb - 1 if b0 >= nb - 1 else b0)
        for lead in range(n_leads):
            w0[lead] = wgt[lead, bb]
            s0[lead] = inv[lead, bb]
            if flat:
                dw[lead] = 0.0
                ds[lead] = 0.0
            else:
                dw[lead] = wgt[lead, bb + 1] - wgt[lead, bb]
                ds[lead] = inv[lead, bb + 1] - inv[lead, bb]
        base = bb * block + half
        for j in range(i, end):
            frac = 0.0 if flat else ((start + j) - base) / block
            acc = 0.0
            for lead in range(n_leads):
                w = w0[lead] + dw[lead] * frac
                if w <= 0.0:
                    continue
                v = np.float64(f[lead, j]) * (s0[lead] + ds[lead] * frac)
                if power == 0.5:
                    acc += w * math.sqrt(v)
                elif power == 1.0:
                    acc += w * v
                else:
                    acc += w * math.pow(v, power)
            if power == 0.5:
                out[j] = acc * acc
            elif power == 1.0:
                out[j] = acc
            else:
                out[j] = math.pow(acc, 1.0 / power) if acc > 0.0 else 0.0
        i = end


@numba.njit(cache=True, nogil=True)
def block_stats(f, n_blocks, block, dec, n_valid, fmax, fbg):  # pragma: no cover - numba
    """Maximum and median (of every ``dec``-th sample) of ``f`` in consecutive blocks.

    ``f`` (n_leads, m) starts on a block boundary; block ``b`` covers columns
    ``[b * block, min((b + 1) * block, n_valid))``. Results go to ``fmax[:, b]`` and
    ``fbg[:, b]``.
    """
    n_leads = f.shape[0]
    work = np.empty(block // dec + 2, np.float64)
    for lead in range(n_leads):
        for b in range(n_blocks):
            a = b * block
            e = min(a + block, n_valid)
            mx = -np.inf
            k = 0
            cnt = 0
            for i in range(a, e):
                v = np.float64(f[lead, i])
                if v > mx:
                    mx = v
                if cnt == 0:
                    work[k] = v
                    k += 1
                cnt += 1
                if cnt == dec:
                    cnt = 0
            if k == 0:
                fmax[lead, b] = 0.0
                fbg[lead, b] = 0.0
                continue
            fmax[lead, b] = mx
            fbg[lead, b] = _median_inplace(work, k)


@numba.njit(cache=True, nogil=True)
def find_peaks(g, g_start, lo, hi, h, n_total):  # pragma: no cover - numba
    """Local maxima of ``g`` at absolute positions ``lo <= i < hi``.

    ``g`` holds absolute samples ``g_start ..``; a peak is a sample with ``g > 0`` that is
    larger than every sample in ``[i - h, i)`` and not smaller than any in ``(i, i + h]``
    (the window clipped to ``[0, n_total)`` and to the samples held). Returns the absolute
    peak positions (int64).
    """
    n = g.size
    end = min(n_total, g_start + n)
    out = np.empty((hi - lo) // (h + 1) + 2, np.int64)
    m = 0
    i = lo
    while i < hi:
        v = g[i - g_start]
        if not v > 0.0:
            i += 1
            continue
        # cheap rejections first: a larger neighbour
        if i + 1 < end and g[i + 1 - g_start] > v:
            i += 1
            continue
        if i - 1 >= 0 and i - 1 >= g_start and g[i - 1 - g_start] >= v:
            i += 1
            continue
        ok = True
        j1 = min(end, i + h + 1)
        for j in range(i + 1, j1):
            if g[j - g_start] > v:
                ok = False
                break
        if ok:
            for j in range(max(0, i - h), i):
                if g[j - g_start] >= v:
                    ok = False
                    break
        if ok:
            out[m] = i
            m += 1
            i += h + 1
        else:
            i += 1
    return out[:m]


@numba.njit(cache=True, nogil=True)
def decide(
    pk_t,
    pk_v,
    fst,
    ist,
    rr,
    nz_t,
    nz_v,
    refractory,
    twave,
    twave_ratio,
    threshold,
    noise_factor,
    replace_ratio,
    sb_rr,
    sb_threshold,
    max_threshold,
    level_clip,
):  # pragma: no cover - numba
    """Adaptive-threshold beat decisions over envelope peaks (Pan-Tompkins style).

    State: ``fst`` = [signal level, noise level, value of the last beat]; ``ist`` = [last
    beat position, a beat exists (0/1), RR slot, noise peaks stored]; ``rr``: last RR
    intervals (samples); ``nz_t``/``nz_v``: noise peaks since the last beat (search-back
    candidates, oldest dropped when full). The most recent beat is held back (it may still be
    replaced by a larger peak within the refractory period); beats are emitted when the next
    beat is found. Returns the emitted beats as an (k, 2) float64 array (position, value).
    """
    n = pk_t.size
    cap = nz_t.size
    out = np.empty((2 * n + 2, 2), np.float64)
    m = 0
    n_rr = rr.size
    for k in range(n):
        t = pk_t[k]
        v = pk_v[k]
        # search back for beats missed in a too long interval
        while ist[_HAVE] == 1 and ist[_NZN] > 0:
            rr_mean = 0.0
            for q in range(n_rr):
                rr_mean += rr[q]
            rr_mean /= n_rr
            if t - ist[_LAST] <= sb_rr * rr_mean:
                break
            thr2 = sb_threshold * min(
                max(threshold * fst[_SPK], noise_factor * fst[_NPK]), max_threshold * fst[_SPK]
            )
            best = -1
            bv = 0.0
            for q in range(ist[_NZN]):
                if nz_t[q] - ist[_LAST] >= twave and nz_v[q] > thr2 and nz_v[q] > bv:
                    if nz_t[q] < t:
                        best = q
                        bv = nz_v[q]
            if best < 0:
                break
            tb = nz_t[best]
            out[m, 0] = ist[_LAST]
            out[m, 1] = fst[_LASTV]
            m += 1
            rr[ist[_RRI]] = tb - ist[_LAST]
            ist[_RRI] = (ist[_RRI] + 1) % n_rr
            ist[_LAST] = tb
            fst[_LASTV] = bv
            fst[_SPK] = 0.25 * bv + 0.75 * fst[_SPK]
            keep = 0
            for q in range(ist[_NZN]):
                if nz_t[q] > tb:
                    nz_t[keep] = nz_t[q]
                    nz_v[keep] = nz_v[q]
                    keep += 1
            ist[_NZN] = keep
        thr1 = min(max(threshold * fst[_SPK], noise_factor * fst[_NPK]), max_threshold * fst[_SPK])
        if ist[_HAVE] == 1 and t - ist[_LAST] < refractory:
            if v > replace_ratio * fst[_LASTV]:
                ist[_LAST] = t
                fst[_LASTV] = v
            continue
        is_beat = v >= thr1
        if is_beat and ist[_HAVE] == 1 and t - ist[_LAST] < twave:
            if v < twave_ratio * fst[_LASTV]:
                is_beat = False
        if is_beat:
            if ist[_HAVE] == 1:
                rr[ist[_RRI]] = t - ist[_LAST]
                ist[_RRI] = (ist[_RRI] + 1) % n_rr
                out[m, 0] = ist[_LAST]
                out[m, 1] = fst[_LASTV]
                m += 1
            ist[_HAVE] = 1
            ist[_LAST] = t
            fst[_LASTV] = v
            fst[_SPK] = 0.125 * min(v, level_clip * fst[_SPK]) + 0.875 * fst[_SPK]
            ist[_NZN] = 0
        else:
            fst[_NPK] = 0.125 * min(v, fst[_SPK]) + 0.875 * fst[_NPK]
            if ist[_NZN] == cap:
                for q in range(cap - 1):
                    nz_t[q] = nz_t[q + 1]
                    nz_v[q] = nz_v[q + 1]
                ist[_NZN] = cap - 1
            nz_t[ist[_NZN]] = t
            nz_v[ist[_NZN]] = v
            ist[_NZN] += 1
    return out[:m]


@numba.njit(cache=True, nogil=True)
def _refine_impl(x, x_start, n_total, t, lead, before, after, short, long_, half, seg, pref):
    # pragma: no cover - numba
    n_leads = x.shape[0]
    s2 = short // 2
    l2 = long_ // 2
    w0 = t - before - half - l2
    w1 = t + after + half + l2 + 1  # exclusive
    wn = w1 - w0
    for lead_i in range(n_leads):
        last = 0.0
        found = False
        pref[lead_i, 0] = 0.0
        for j in range(wn):
            a = w0 + j
            if a < 0:
                a = 0
            if a > n_total - 1:
                a = n_total - 1
            v = np.float64(x[lead_i, a - x_start])
            if np.isfinite(v):
                last = v
                found = True
            else:
                v = last if found else 0.0
            pref[lead_i, j + 1] = pref[lead_i, j] + v
    best = t - before
    bv = -1.0
    for a in range(t - before, t + after + 1):
        j = a - w0
        v = abs(
            (pref[lead, j + s2 + 1] - pref[lead, j - s2]) / short
            - (pref[lead, j + l2 + 1] - pref[lead, j - l2]) / long_
        )
        if v > bv:
            bv = v
            best = a
    for lead_i in range(n_leads):
        for q in range(2 * half + 1):
            j = best - half + q - w0
            seg[lead_i, q] = (pref[lead_i, j + s2 + 1] - pref[lead_i, j - s2]) / short - (
                pref[lead_i, j + l2 + 1] - pref[lead_i, j - l2]
            ) / long_
    return best


@numba.njit(cache=True, nogil=True)
def refine(x, x_start, n_total, t, lead, before, after, short, long_, half, seg):
    # pragma: no cover - numba
    """Fiducial point of one beat and its QRS-band waveform in every lead.

    The QRS-band signal is the difference of centred moving averages of ``short`` and
    ``long_`` samples (odd) of the raw signal ``x`` (absolute samples ``x_start ..``; indices
    outside ``[0, n_total)`` take the edge value, non-finite samples the last finite value),
    computed from running sums over the window ``[t - before - half - long_ // 2,
    t + after + half + long_ // 2]``. The fiducial is the first sample of largest absolute
    value in ``[t - before, t + after]`` of lead ``lead``. ``seg`` (n_leads, 2 * half + 1)
    receives the band signal of every lead around the fiducial. Everything depends on ``t``
    only, not on how the signal was buffered.
    """
    wn = before + after + 2 * half + 2 * (long_ // 2) + 1
    pref = np.empty((x.shape[0], wn + 1), np.float64)
    return _refine_impl(x, x_start, n_total, t, lead, before, after, short, long_, half, seg, pref)


@numba.njit(cache=True, nogil=True)
def _median(values, count, work):  # pragma: no cover - numba
    for i in range(count):
        v = values[i]
        j = i
        while j > 0 and work[j - 1] > v:
            work[j] = work[j - 1]
            j -= 1
        work[j] = v
    if count % 2 == 1:
        return work[count // 2]
    return 0.5 * (work[count // 2 - 1] + work[count // 2])


@numba.njit(cache=True, nogil=True)
def _corr(a, b):  # pragma: no cover - numba
    n = a.size
    ma = 0.0
    mb = 0.0
    for i in range(n):
        ma += a[i]
        mb += b[i]
    ma /= n
    mb /= n
    sab = 0.0
    saa = 0.0
    sbb = 0.0
    for i in range(n):
        da = a[i] - ma
        db = b[i] - mb
        sab += da * db
        saa += da * da
        sbb += db * db
    if saa <= 0.0 or sbb <= 0.0:
        return 0.0
    return sab / math.sqrt(saa * sbb)


@numba.njit(cache=True, nogil=True)
def _verify_impl(
    t,
    t_next,
    lead_level,
    weight,
    seg,
    lv_ring,
    rr_ring,
    ist,
    tmpl,
    tuse,
    fs,
    enabled,
    lead_ratio,
    next_rr,
    correlation,
    min_weight,
    rate,
    match,
    col,
    work,
):  # pragma: no cover - numba
    # see verify()
    n_leads = lead_level.size
    slots = lv_ring.shape[0]
    n_tmpl = tmpl.shape[0]
    wmax = 0.0
    for lead in range(n_leads):
        if weight[lead] > wmax:
            wmax = weight[lead]
    n_use = 0
    for lead in range(n_leads):
        if wmax > 0.0 and weight[lead] >= min_weight * wmax:
            n_use += 1
    have_tmpl = False
    for k in range(n_tmpl):
        if tuse[k] >= 0:
            have_tmpl = True
    reject = False
    if enabled and ist[0] > 0 and have_tmpl and n_use > 0:
        # cheap conditions first; the correlations only when they hold
        relmin = np.inf
        for lead in range(n_leads):
            if weight[lead] < min_weight * wmax:
                continue
            cnt = ist[0]
            for q in range(cnt):
                col[q] = lv_ring[q, lead]
            lv = _median(col, cnt, work)
            rel = lead_level[lead] / max(lv, 1e-9)
            if rel < relmin:
                relmin = rel
        rra = fs
        if ist[1] > 0:
            rra = _median(rr_ring, ist[1], work)
        rrn = 1.0
        if t_next >= 0:
            rrn = (t_next - t) / rra
        if relmin <= lead_ratio and rrn <= next_rr:
            ccmax = -np.inf
            for lead in range(n_leads):
                if weight[lead] < min_weight * wmax:
                    continue
                for k in range(n_tmpl):
                    if tuse[k] < 0:
                        continue
                    cc = _corr(seg[lead], tmpl[k, lead])
                    if cc > ccmax:
                        ccmax = cc
            if ccmax <= correlation:
                reject = True
    if reject:
        return False
    slot = ist[2]
    for lead in range(n_leads):
        lv_ring[slot, lead] = lead_level[lead]
    ist[2] = (slot + 1) % slots
    if ist[0] < slots:
        ist[0] += 1
    if ist[4] >= 0:
        rr_ring[ist[3]] = t - ist[4]
        ist[3] = (ist[3] + 1) % slots
        if ist[1] < slots:
            ist[1] += 1
    ist[4] = t
    # templates: update the best matching one, or replace the least recently used
    best = -1
    bc = -np.inf
    for k in range(n_tmpl):
        if tuse[k] < 0:
            continue
        c = 0.0
        nc = 0
        for lead in range(n_leads):
            if n_use > 0 and weight[lead] < min_weight * wmax:
                continue
            c += _corr(seg[lead], tmpl[k, lead])
            nc += 1
        c /= max(nc, 1)
        if c > bc:
            bc = c
            best = k
    ist[5] += 1
    width = tmpl.shape[2]
    if best >= 0 and bc >= match:
        for lead in range(n_leads):
            for j in range(width):
                tmpl[best, lead, j] = (1.0 - rate) * tmpl[best, lead, j] + rate * seg[lead, j]
        tuse[best] = ist[5]
    else:
        slot = 0
        for k in range(n_tmpl):
            if tuse[k] < tuse[slot]:
                slot = k
        for lead in range(n_leads):
            for j in range(width):
                tmpl[slot, lead, j] = seg[lead, j]
        tuse[slot] = ist[5]
    return True


@numba.njit(cache=True, nogil=True)
def verify(
    t,
    t_next,
    lead_level,
    weight,
    seg,
    lv_ring,
    rr_ring,
    ist,
    tmpl,
    tuse,
    fs,
    enabled,
    lead_ratio,
    next_rr,
    correlation,
    min_weight,
    rate,
    match,
):  # pragma: no cover - numba
    """Accept or reject one candidate beat; update the verification state if accepted.

    A candidate is rejected when (all three) its weakest usable lead is below
    ``lead_ratio`` x that lead's median level at the last accepted beats, the next candidate
    follows within ``next_rr`` x the median RR, and no usable lead correlates with any of the
    beat templates better than ``correlation``. ``t_next < 0`` means no next candidate.
    Leads below ``min_weight`` x the largest weight are ignored. An accepted beat updates the
    template it matches best (mean correlation over the usable leads at least ``match``) with
    rate ``rate``, or replaces the least recently used template.
    State: ``lv_ring`` (LEVEL_SLOTS, n_leads), ``rr_ring`` (LEVEL_SLOTS,), ``ist`` = [levels
    stored, RR stored, ring slot, RR slot, last accepted beat or -1, beats accepted],
    ``tmpl`` (n_templates, n_leads, 2 * half + 1), ``tuse`` (n_templates,) last use of each
    template (-1: empty). Returns True if accepted.
    """
    slots = lv_ring.shape[0]
    col = np.empty(slots, np.float64)
    work = np.empty(slots, np.float64)
    return _verify_impl(
        t,
        t_next,
        lead_level,
        weight,
        seg,
        lv_ring,
        rr_ring,
        ist,
        tmpl,
        tuse,
        fs,
        enabled,
        lead_ratio,
        next_rr,
        correlation,
        min_weight,
        rate,
        match,
        col,
        work,
    )


@numba.njit(cache=True, nogil=True)
def refine_batch(
    ts, ws, x, x_start, n_total, before, after, short, long_, half, lead_frac, fids, segs
):  # pragma: no cover - numba
    """:func:`refine` for a batch of candidates ``ts`` (per-lead weights ``ws[k]``).

    The reference lead of each is the first lead whose weight is at least ``lead_frac`` x
    the largest (lead 0 if all are 0). Fiducial points go to ``fids``, the band waveforms to
    ``segs`` (k, n_leads, 2 * half + 1).
    """
    n_leads = ws.shape[1]
    wn = before + after + 2 * half + 2 * (long_ // 2) + 1
    pref = np.empty((n_leads, wn + 1), np.float64)
    for k in range(ts.size):
        wmax = 0.0
        for lead in range(n_leads):
            if ws[k, lead] > wmax:
                wmax = ws[k, lead]
        ref = 0
        if wmax > 0.0:
            for lead in range(n_leads):
                if ws[k, lead] >= lead_frac * wmax:
                    ref = lead
                    break
        fids[k] = _refine_impl(
            x, x_start, n_total, ts[k], ref, before, after, short, long_, half, segs[k], pref
        )


@numba.njit(cache=True, nogil=True)
def verify_batch(
    ts,
    fids,
    lvls,
    ws,
    segs,
    flush,
    pend_i,
    pend_lvl,
    pend_w,
    pend_seg,
    lv_ring,
    rr_ring,
    vist,
    tmpl,
    tuse,
    fs,
    enabled,
    lead_ratio,
    next_rr,
    correlation,
    min_weight,
    rate,
    match,
):  # pragma: no cover - numba
    """Verification (:func:`verify`) of a batch of refined candidates, in order.

    A candidate is verified once the next one is known, so the last one waits in ``pend_*``
    (``pend_i`` = [waiting (0/1), position, fiducial, last fiducial emitted or -1]) until the
    next batch, or until ``flush``. Returns the fiducial points of the accepted beats
    (strictly increasing: a fiducial point not after the previous one is dropped).
    """
    n = ts.size
    n_leads = lvls.shape[1]
    width = segs.shape[2]
    out = np.empty(n + 1, np.int64)
    m = 0
    col = np.empty(lv_ring.shape[0], np.float64)
    work = np.empty(lv_ring.shape[0], np.float64)
    for k in range(n + 1):
        if k == n and not flush:
            break
        if pend_i[0] == 1:
            t_next = ts[k] if k < n else -1
            ok = _verify_impl(
                pend_i[1],
                t_next,
                pend_lvl,
                pend_w,
                pend_seg,
                lv_ring,
                rr_ring,
                vist,
                tmpl,
                tuse,
                fs,
                enabled,
                lead_ratio,
                next_rr,
                correlation,
                min_weight,
                rate,
                match,
                col,
                work,
            )
            if ok and pend_i[2] > pend_i[3]:
                out[m] = pend_i[2]
                m += 1
                pend_i[3] = pend_i[2]
            pend_i[0] = 0
        if k == n:
            break
        pend_i[0] = 1
        pend_i[1] = ts[k]
        pend_i[2] = fids[k]
        for lead in range(n_leads):
            pend_lvl[lead] = lvls[k, lead]
            pend_w[lead] = ws[k, lead]
            for j in range(width):
                pend_seg[lead, j] = segs[k, lead, j]
    return out[:m]


@numba.njit(cache=True, nogil=True)
def running_max(vals, width):
    """Per row, the maximum over the current and the ``width - 1`` previous columns.

    A monotonic deque per row: O(n) whatever the width.
    """
    n_rows, n = vals.shape
    out = np.empty_like(vals)
    idx = np.empty(n, dtype=np.int64)
    for r in range(n_rows):
        head = 0
        tail = 0
        for i in range(n):
            v = vals[r, i]
            while tail > head and vals[r, idx[tail - 1]] <= v:
                tail -= 1
            idx[tail] = i
            tail += 1
            if idx[head] <= i - width:
                head += 1
            out[r, i] = vals[r, idx[head]]
    return out
