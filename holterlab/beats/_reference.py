"""Plain-Python reference implementations of the kernels in :mod:`holterlab.beats._kernels`.

Each function here performs the same float64 operations in the same order as the numba
kernel of the same name, one sample at a time, so that the tests can require *identical*
results. They are slow and meant for tests and for reading, not for use.
"""

from __future__ import annotations

import math

import numpy as np

from holterlab.beats._kernels import LEVEL_SLOTS, RR_SLOTS  # noqa: F401 (re-exported)

_SPK, _NPK, _LASTV = 0, 1, 2
_LAST, _HAVE, _RRI, _NZN = 0, 1, 2, 3


TINY = 1e-200


def _ftz(v: float) -> float:
    return v if abs(v) >= TINY else 0.0


def _f(value) -> float:
    return float(np.float64(value))


def _isfinite(v: float) -> bool:
    return math.isfinite(v)


def _median_list(values: list[float]) -> float:
    srt = sorted(values)
    k = len(srt)
    if k % 2 == 1:
        return srt[k // 2]
    return 0.5 * (srt[k // 2 - 1] + srt[k // 2])


def segment_stats(x, seg_len, lag, dec, run_len, max_abs, out) -> None:
    """Per-lead, per-segment raw statistics (reference of columns 0-4 of
    :func:`holterlab._quality_kernels.quality_stats`).

    ``x``: (n_leads, n) float32 cut into segments of ``seg_len`` samples (the last may be
    shorter). ``out``: (n_leads, n_seg, 5) float64 receiving, per segment: fraction of
    non-finite samples, peak-to-peak amplitude, fraction of clipped samples (plateaus of
    ``run_len`` identical values at the segment extreme, or beyond ``max_abs``), maximum and
    median (over every ``dec``-th sample) of ``|x[i] - x[i - lag]|``.
    """
    n_leads, n = x.shape
    n_seg = out.shape[1]
    for lead in range(n_leads):
        row = [_f(v) for v in x[lead]]
        for s in range(n_seg):
            a = s * seg_len
            b = min(n, a + seg_len)
            m = b - a
            finite = [v for v in row[a:b] if _isfinite(v)]
            n_bad = m - len(finite)
            if m == 0 or not finite:
                out[lead, s, :] = (1.0, 0.0, 0.0, 0.0, 0.0)
                continue
            mn, mx = min(finite), max(finite)
            clipped = 0
            run_start, run_val = a, row[a]
            for i in range(a + 1, b + 1):
                v = row[i] if i < b else math.nan
                if i < b and v == run_val:
                    continue
                length = i - run_start
                if _isfinite(run_val):
                    if abs(run_val) >= max_abs:
                        clipped += length
                    elif length >= run_len and mx > mn and (run_val == mx or run_val == mn):
                        clipped += length
                run_start, run_val = i, v
            top = 0.0
            picked: list[float] = []
            for i in range(a + lag, b):
                v1, v0 = row[i], row[i - lag]
                if not (_isfinite(v1) and _isfinite(v0)):
                    continue
                d = abs(v1 - v0)
                top = max(top, d)
                if (i - a - lag) % dec == 0:
                    picked.append(d)
            med = _median_list(picked) if picked else 0.0
            out[lead, s, :] = (n_bad / m, mx - mn, clipped / m, top, med)


def envelope(x, sos, zi_unit, inited, zi, last_x, prev, ring, pos, acc, count, out) -> None:
    """Reference of :func:`holterlab.beats._kernels.envelope`."""
    n_leads, n = x.shape
    n_sec = sos.shape[0]
    w = ring.shape[1]
    for lead in range(n_leads):
        lx, pv, k = float(last_x[lead]), float(prev[lead]), int(pos[lead])
        ac, c = float(acc[lead]), int(count[lead])
        for i in range(n):
            v = _f(x[lead, i])
            if inited[lead] == 0:
                if not _isfinite(v):
                    out[lead, i] = np.float32(0.0)
                    continue
                inited[lead] = 1
                for s in range(n_sec):
                    zi[lead, s, 0] = float(zi_unit[s, 0]) * v
                    zi[lead, s, 1] = float(zi_unit[s, 1]) * v
                lx = v
                pv = 0.0
            if _isfinite(v):
                lx = v
            else:
                v = lx
            for s in range(n_sec):
                y = float(sos[s, 0]) * v + float(zi[lead, s, 0])
                zi[lead, s, 0] = _ftz(
                    float(sos[s, 1]) * v - float(sos[s, 4]) * y + float(zi[lead, s, 1])
                )
                zi[lead, s, 1] = _ftz(float(sos[s, 2]) * v - float(sos[s, 5]) * y)
                v = y
            d = v - pv
            pv = v
            e = _ftz(d * d)
            ac += e - float(ring[lead, k])
            ring[lead, k] = e
            k += 1
            if k == w:
                k = 0
            c += 1
            if c % 65536 == 0:
                ac = 0.0
                for j in range(w):
                    ac += float(ring[lead, j])
            if ac < 0.0:
                ac = 0.0
            out[lead, i] = np.float32(math.sqrt(ac / w))
        last_x[lead], prev[lead], pos[lead], acc[lead], count[lead] = lx, pv, k, ac, c


def fuse(f, start, block, wgt, inv, power, out) -> None:
    """Reference of :func:`holterlab.beats._kernels.fuse`."""
    n_leads, m = f.shape
    nb = wgt.shape[1]
    half = (block - 1) / 2.0
    for i in range(m):
        a = start + i
        b0 = int(math.floor((a - half) / block))
        flat = b0 < 0 or b0 >= nb - 1
        bb = 0 if b0 < 0 else (nb - 1 if b0 >= nb - 1 else b0)
        base = bb * block + half
        frac = 0.0 if flat else (a - base) / block
        acc = 0.0
        for lead in range(n_leads):
            w0, s0 = float(wgt[lead, bb]), float(inv[lead, bb])
            dw = 0.0 if flat else float(wgt[lead, bb + 1]) - w0
            ds = 0.0 if flat else float(inv[lead, bb + 1]) - s0
            w = w0 + dw * frac
            if w <= 0.0:
                continue
            v = _f(f[lead, i]) * (s0 + ds * frac)
            if power == 0.5:
                acc += w * math.sqrt(v)
            elif power == 1.0:
                acc += w * v
            else:
                acc += w * math.pow(v, power)
        if power == 0.5:
            out[i] = acc * acc
        elif power == 1.0:
            out[i] = acc
        else:
            out[i] = math.pow(acc, 1.0 / power) if acc > 0.0 else 0.0


def block_stats(f, n_blocks, block, dec, n_valid, fmax, fbg) -> None:
    """Reference of :func:`holterlab.beats._kernels.block_stats`."""
    for lead in range(f.shape[0]):
        for b in range(n_blocks):
            a = b * block
            e = min(a + block, n_valid)
            vals = [_f(v) for v in f[lead, a:e]]
            if not vals:
                fmax[lead, b] = 0.0
                fbg[lead, b] = 0.0
                continue
            fmax[lead, b] = max(vals)
            fbg[lead, b] = _median_list(vals[::dec])


def find_peaks(g, g_start, lo, hi, h, n_total) -> np.ndarray:
    """Reference of :func:`holterlab.beats._kernels.find_peaks` (without the skip)."""
    n = len(g)
    out = []
    for i in range(lo, hi):
        v = float(g[i - g_start])
        if not v > 0.0:
            continue
        j0 = max(0, i - h)
        j1 = min(n_total, i + h + 1, g_start + n)
        if any(float(g[j - g_start]) > v for j in range(i + 1, j1)):
            continue
        if any(float(g[j - g_start]) >= v for j in range(j0, i)):
            continue
        out.append(i)
    return np.asarray(out, dtype=np.int64)


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
) -> np.ndarray:
    """Reference of :func:`holterlab.beats._kernels.decide`."""
    cap = len(nz_t)
    n_rr = len(rr)
    out: list[tuple[float, float]] = []
    for k in range(len(pk_t)):
        t = int(pk_t[k])
        v = float(pk_v[k])
        while ist[_HAVE] == 1 and ist[_NZN] > 0:
            rr_mean = 0.0
            for q in range(n_rr):
                rr_mean += float(rr[q])
            rr_mean /= n_rr
            if t - int(ist[_LAST]) <= sb_rr * rr_mean:
                break
            spk, npk = float(fst[_SPK]), float(fst[_NPK])
            thr2 = sb_threshold * min(max(threshold * spk, noise_factor * npk), max_threshold * spk)
            best, bv = -1, 0.0
            for q in range(int(ist[_NZN])):
                if (
                    int(nz_t[q]) - int(ist[_LAST]) >= twave
                    and float(nz_v[q]) > thr2
                    and float(nz_v[q]) > bv
                    and int(nz_t[q]) < t
                ):
                    best, bv = q, float(nz_v[q])
            if best < 0:
                break
            tb = int(nz_t[best])
            out.append((float(ist[_LAST]), float(fst[_LASTV])))
            rr[ist[_RRI]] = tb - int(ist[_LAST])
            ist[_RRI] = (int(ist[_RRI]) + 1) % n_rr
            ist[_LAST] = tb
            fst[_LASTV] = bv
            fst[_SPK] = 0.25 * bv + 0.75 * float(fst[_SPK])
            keep = [(int(nz_t[q]), float(nz_v[q])) for q in range(int(ist[_NZN])) if nz_t[q] > tb]
            for q, (a, b) in enumerate(keep):
                nz_t[q], nz_v[q] = a, b
            ist[_NZN] = len(keep)
        spk, npk = float(fst[_SPK]), float(fst[_NPK])
        thr1 = min(max(threshold * spk, noise_factor * npk), max_threshold * spk)
        if ist[_HAVE] == 1 and t - int(ist[_LAST]) < refractory:
            if v > replace_ratio * float(fst[_LASTV]):
                ist[_LAST] = t
                fst[_LASTV] = v
            continue
        is_beat = v >= thr1
        if is_beat and ist[_HAVE] == 1 and t - int(ist[_LAST]) < twave:
            if v < twave_ratio * float(fst[_LASTV]):
                is_beat = False
        if is_beat:
            if ist[_HAVE] == 1:
                rr[ist[_RRI]] = t - int(ist[_LAST])
                ist[_RRI] = (int(ist[_RRI]) + 1) % n_rr
                out.append((float(ist[_LAST]), float(fst[_LASTV])))
            ist[_HAVE] = 1
            ist[_LAST] = t
            fst[_LASTV] = v
            spk = float(fst[_SPK])
            fst[_SPK] = 0.125 * min(v, level_clip * spk) + 0.875 * spk
            ist[_NZN] = 0
        else:
            fst[_NPK] = 0.125 * min(v, float(fst[_SPK])) + 0.875 * float(fst[_NPK])
            if ist[_NZN] == cap:
                for q in range(cap - 1):
                    nz_t[q], nz_v[q] = nz_t[q + 1], nz_v[q + 1]
                ist[_NZN] = cap - 1
            nz_t[ist[_NZN]] = t
            nz_v[ist[_NZN]] = v
            ist[_NZN] += 1
    return np.asarray(out, dtype=np.float64).reshape(-1, 2)


def refine(x, x_start, n_total, t, lead, before, after, short, long_, half, seg) -> int:
    """Reference of :func:`holterlab.beats._kernels.refine`."""
    n_leads = x.shape[0]
    s2, l2 = short // 2, long_ // 2
    w0 = t - before - half - l2
    w1 = t + after + half + l2 + 1
    wn = w1 - w0
    band = []
    for lead_i in range(n_leads):
        pref = [0.0]
        last, found = 0.0, False
        for j in range(wn):
            a = min(max(w0 + j, 0), n_total - 1)
            v = _f(x[lead_i, a - x_start])
            if _isfinite(v):
                last, found = v, True
            else:
                v = last if found else 0.0
            pref.append(pref[-1] + v)
        row = []
        for j in range(wn):
            if j - l2 < 0 or j + l2 + 1 > wn:
                row.append(0.0)
                continue
            ms = (pref[j + s2 + 1] - pref[j - s2]) / short
            ml = (pref[j + l2 + 1] - pref[j - l2]) / long_
            row.append(ms - ml)
        band.append(row)
    best, bv = t - before, -1.0
    for a in range(t - before, t + after + 1):
        v = abs(band[lead][a - w0])
        if v > bv:
            bv, best = v, a
    for lead_i in range(n_leads):
        for j in range(2 * half + 1):
            seg[lead_i, j] = band[lead_i][best - half + j - w0]
    return best


def _corr(a, b) -> float:
    n = len(a)
    ma = 0.0
    mb = 0.0
    for i in range(n):
        ma += float(a[i])
        mb += float(b[i])
    ma /= n
    mb /= n
    sab = saa = sbb = 0.0
    for i in range(n):
        da = float(a[i]) - ma
        db = float(b[i]) - mb
        sab += da * db
        saa += da * da
        sbb += db * db
    if saa <= 0.0 or sbb <= 0.0:
        return 0.0
    return sab / math.sqrt(saa * sbb)


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
) -> bool:
    """Reference of :func:`holterlab.beats._kernels.verify`."""
    n_leads = len(lead_level)
    slots = lv_ring.shape[0]
    n_tmpl = tmpl.shape[0]
    wmax = max([0.0] + [float(w) for w in weight])
    use = [wmax > 0.0 and float(weight[i]) >= min_weight * wmax for i in range(n_leads)]
    n_use = sum(use)
    have_tmpl = any(int(u) >= 0 for u in tuse)
    reject = False
    if enabled and ist[0] > 0 and have_tmpl and n_use > 0:
        relmin, ccmax = math.inf, -math.inf
        for lead in range(n_leads):
            if float(weight[lead]) < min_weight * wmax:
                continue
            lv = _median_list([float(lv_ring[q, lead]) for q in range(int(ist[0]))])
            relmin = min(relmin, float(lead_level[lead]) / max(lv, 1e-9))
            for k in range(n_tmpl):
                if tuse[k] >= 0:
                    ccmax = max(ccmax, _corr(seg[lead], tmpl[k, lead]))
        rra = float(fs)
        if ist[1] > 0:
            rra = _median_list([float(v) for v in rr_ring[: int(ist[1])]])
        rrn = 1.0 if t_next < 0 else (t_next - t) / rra
        if relmin <= lead_ratio and rrn <= next_rr and ccmax <= correlation:
            reject = True
    if reject:
        return False
    slot = int(ist[2])
    lv_ring[slot, :] = lead_level
    ist[2] = (slot + 1) % slots
    ist[0] = min(int(ist[0]) + 1, slots)
    if ist[4] >= 0:
        rr_ring[ist[3]] = t - int(ist[4])
        ist[3] = (int(ist[3]) + 1) % slots
        ist[1] = min(int(ist[1]) + 1, slots)
    ist[4] = t
    best, bc = -1, -math.inf
    for k in range(n_tmpl):
        if tuse[k] < 0:
            continue
        leads = [i for i in range(n_leads) if n_use == 0 or use[i]]
        c = 0.0
        for i in leads:
            c += _corr(seg[i], tmpl[k, i])
        c /= max(len(leads), 1)
        if c > bc:
            bc, best = c, k
    ist[5] += 1
    if best >= 0 and bc >= match:
        for lead in range(n_leads):
            for j in range(tmpl.shape[2]):
                tmpl[best, lead, j] = (1.0 - rate) * float(tmpl[best, lead, j]) + rate * float(
                    seg[lead, j]
                )
        tuse[best] = ist[5]
    else:
        slot = min(range(n_tmpl), key=lambda k: (int(tuse[k]), k))
        tmpl[slot, :, :] = seg
        tuse[slot] = ist[5]
    return True


def refine_batch(
    ts, ws, x, x_start, n_total, before, after, short, long_, half, lead_frac, fids, segs
) -> None:
    """Reference of :func:`holterlab.beats._kernels.refine_batch`."""
    n_leads = ws.shape[1]
    for k in range(len(ts)):
        w = [float(v) for v in ws[k]]
        wmax = max([0.0] + w)
        ref = 0
        if wmax > 0.0:
            ref = next(i for i in range(n_leads) if w[i] >= lead_frac * wmax)
        fids[k] = refine(
            x, x_start, n_total, int(ts[k]), ref, before, after, short, long_, half, segs[k]
        )


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
) -> np.ndarray:
    """Reference of :func:`holterlab.beats._kernels.verify_batch`."""
    out: list[int] = []
    vargs = (lv_ring, rr_ring, vist, tmpl, tuse, fs, enabled, lead_ratio, next_rr, correlation)
    n = len(ts)
    for k in range(n + 1):
        if k == n and not flush:
            break
        if pend_i[0] == 1:
            t_next = int(ts[k]) if k < n else -1
            ok = verify(
                int(pend_i[1]), t_next, pend_lvl, pend_w, pend_seg, *vargs, min_weight, rate, match
            )
            if ok and pend_i[2] > pend_i[3]:
                out.append(int(pend_i[2]))
                pend_i[3] = pend_i[2]
            pend_i[0] = 0
        if k == n:
            break
        pend_i[0], pend_i[1], pend_i[2] = 1, int(ts[k]), int(fids[k])
        pend_lvl[:] = lvls[k]
        pend_w[:] = ws[k]
        pend_seg[:, :] = segs[k]
    return np.asarray(out, dtype=np.int64)


def running_max(vals, width) -> np.ndarray:
    """Per row, the maximum over the current and the ``width - 1`` previous columns."""
    out = np.empty_like(vals)
    for r in range(vals.shape[0]):
        for i in range(vals.shape[1]):
            out[r, i] = max(vals[r, max(0, i - width + 1) : i + 1])
    return out
