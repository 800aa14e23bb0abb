"""Numba kernels of beat classification, each with a plain-Python reference.

The kernels work on float32 signal blocks ``x`` of shape ``(n_leads, n)`` and int64 beat
positions. Indices outside the block are clipped to its first/last sample (edge
replication), so beats near the ends of a block still get a full window.

* :func:`extract_windows` re-aligns each beat on the peak of its QRS slope energy, cuts a
  baseline-corrected window around it and measures a few scalar morphology features.
* :func:`cluster_beats` groups beat windows into morphology families by incremental
  correlation clustering with a lag search (the running template of each family follows slow
  drift).
* :func:`track_dominant` correlates every beat with a running template of the dominant family.
* :func:`track_p_wave` correlates every beat's P-wave range with a running P template of recent
  normal beats.

The ``*_ref`` functions are straightforward Python/numpy implementations of the same
definitions; tests prove both equal.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = [
    "N_SCALAR",
    "SCALAR_NAMES",
    "extract_windows",
    "extract_windows_ref",
    "extract_windows_serial",
    "cluster_beats",
    "cluster_beats_ref",
    "track_dominant",
    "track_dominant_ref",
    "window_corr",
    "window_corr_ref",
    "window_median",
    "window_median_ref",
    "gbt_raw",
    "gbt_raw_ref",
    "pack_trees",
    "track_p_wave",
    "track_p_wave_ref",
]

#: Names of the scalar features :func:`extract_windows` measures per beat (columns of ``scal``).
SCALAR_NAMES = (
    "qrs_ptp",  # sum over leads of the peak-to-peak amplitude in the QRS range (mV)
    "max_slope",  # largest summed absolute slope in the QRS range (mV per slope step)
    "width",  # samples of the QRS range whose summed slope exceeds 20 % of its maximum
    "p_power",  # mean power in the P-wave range, summed over leads (mV^2)
    "noise",  # mean |second difference| outside the QRS range, summed over leads (mV)
    "spike",  # largest |second difference| just before the QRS relative to QRS ptp
    "energy",  # mean power in the QRS range, summed over leads (mV^2)
)
N_SCALAR = len(SCALAR_NAMES)


def _clip(i: int, n: int) -> int:
    return 0 if i < 0 else (n - 1 if i >= n else i)


_clip_nb = numba.njit(cache=True, inline="always")(_clip)


# ---------------------------------------------------------------------------- extraction
@numba.njit(cache=True, parallel=True)
def extract_windows(x, beats, search, slope_k, env_half, base_half, pre, post, ranges):
    """Re-align beats and cut baseline-corrected windows.

    Parameters
    ----------
    x
        float32 ``(n_leads, n)`` signal block (mV).
    beats
        int64 beat positions in ``x``.
    search
        Re-alignment search (samples either side).
    slope_k
        Slope step: slope at ``i`` is ``x[i + k] - x[i - k]``.
    env_half
        Half-width of the box that smooths the summed absolute slope (the alignment envelope).
    base_half
        Half-width of the moving-average baseline subtracted from the window.
    pre, post
        Window extent before/after the aligned fiducial (samples).
    ranges
        int64 ``[qrs_lo, qrs_hi, p_lo, p_hi, spike_lo]`` offsets from the fiducial (samples)
        of the QRS range, the P-wave range and the start of the pacing-spike search.

    Returns
    -------
    win
        float32 ``(n_beats, n_leads, pre + post + 1)``.
    fid
        int64 re-aligned fiducials.
    scal
        float32 ``(n_beats, N_SCALAR)`` scalar features (see :data:`SCALAR_NAMES`).
    """
    n_leads = x.shape[0]
    nb = beats.shape[0]
    width = pre + post + 1
    win = np.zeros((nb, n_leads, width), dtype=np.float32)
    fid = np.empty(nb, dtype=np.int64)
    scal = np.zeros((nb, 7), dtype=np.float32)
    n_blocks = min(nb, 64)
    for k in numba.prange(n_blocks):
        b0 = nb * k // n_blocks
        b1 = nb * (k + 1) // n_blocks
        _extract_block(
            x,
            beats,
            b0,
            b1,
            search,
            slope_k,
            env_half,
            base_half,
            pre,
            post,
            ranges,
            win,
            fid,
            scal,
        )
    return win, fid, scal


@numba.njit(cache=True)
def extract_windows_serial(x, beats, search, slope_k, env_half, base_half, pre, post, ranges):
    """:func:`extract_windows` without threads (for a few beats: no parallel start-up cost)."""
    n_leads = x.shape[0]
    nb = beats.shape[0]
    width = pre + post + 1
    win = np.zeros((nb, n_leads, width), dtype=np.float32)
    fid = np.empty(nb, dtype=np.int64)
    scal = np.zeros((nb, 7), dtype=np.float32)
    _extract_block(
        x, beats, 0, nb, search, slope_k, env_half, base_half, pre, post, ranges, win, fid, scal
    )
    return win, fid, scal


@numba.njit(cache=True)
def _extract_block(
    x, beats, b0, b1, search, slope_k, env_half, base_half, pre, post, ranges, win, fid, scal
):
    """:func:`extract_windows` for beats ``b0:b1`` (writes into the output arrays)."""
    n_leads, n = x.shape
    width = pre + post + 1
    span = 2 * (search + env_half) + 1
    slope = np.empty(span, dtype=np.float64)
    seg = np.empty(width, dtype=np.float64)
    q_lo, q_hi, p_lo, p_hi, s_lo = ranges[0], ranges[1], ranges[2], ranges[3], ranges[4]
    for b in range(b0, b1):
        c = beats[b]
        # --- re-alignment on the smoothed summed absolute slope
        first = c - search - env_half
        for j in range(span):
            i = first + j
            acc = 0.0
            for lead in range(n_leads):
                acc += abs(
                    float(x[lead, _clip_nb(i + slope_k, n)])
                    - float(x[lead, _clip_nb(i - slope_k, n)])
                )
            slope[j] = acc
        run = 0.0
        for j in range(2 * env_half + 1):
            run += slope[j]
        best = run
        best_j = 0
        for j in range(1, 2 * search + 1):
            run += slope[j + 2 * env_half] - slope[j - 1]
            if run > best + 1e-9:
                best = run
                best_j = j
        f = c - search + best_j
        fid[b] = f
        # --- baseline-corrected window
        start = f - pre
        for lead in range(n_leads):
            acc = 0.0
            for i in range(start - base_half, start + base_half + 1):
                acc += x[lead, _clip_nb(i, n)]
            norm = 1.0 / (2 * base_half + 1)
            for j in range(width):
                i = start + j
                if j > 0:
                    acc += float(x[lead, _clip_nb(i + base_half, n)]) - float(
                        x[lead, _clip_nb(i - base_half - 1, n)]
                    )
                seg[j] = float(x[lead, _clip_nb(i, n)]) - acc * norm
            for j in range(width):
                win[b, lead, j] = seg[j]
        # --- scalar features from the window
        ptp = 0.0
        energy = 0.0
        ppow = 0.0
        noise = 0.0
        n_noise = 0
        for lead in range(n_leads):
            lo = 1e30
            hi = -1e30
            for j in range(pre + q_lo, pre + q_hi + 1):
                v = float(win[b, lead, j])
                if v < lo:
                    lo = v
                if v > hi:
                    hi = v
                energy += v * v
            ptp += hi - lo
            mean = 0.0
            for j in range(pre + p_lo, pre + p_hi + 1):
                mean += float(win[b, lead, j])
            mean /= p_hi - p_lo + 1
            for j in range(pre + p_lo, pre + p_hi + 1):
                d = float(win[b, lead, j]) - mean
                ppow += d * d
            for j in range(1, width - 1):
                if j >= pre + q_lo and j <= pre + q_hi:
                    continue
                noise += abs(
                    float(win[b, lead, j + 1])
                    - 2.0 * float(win[b, lead, j])
                    + float(win[b, lead, j - 1])
                )
                if lead == 0:
                    n_noise += 1
        # summed absolute slope in the QRS range
        smax = 0.0
        for j in range(pre + q_lo, pre + q_hi + 1):
            acc = 0.0
            for lead in range(n_leads):
                acc += abs(
                    float(win[b, lead, _clip_nb(j + slope_k, width)])
                    - float(win[b, lead, _clip_nb(j - slope_k, width)])
                )
            seg[j] = acc
            if acc > smax:
                smax = acc
        count = 0
        for j in range(pre + q_lo, pre + q_hi + 1):
            if seg[j] > 0.2 * smax:
                count += 1
        spike = 0.0
        for j in range(pre + s_lo, pre + 1):
            acc = 0.0
            for lead in range(n_leads):
                acc += abs(
                    float(win[b, lead, j + 1])
                    - 2.0 * float(win[b, lead, j])
                    + float(win[b, lead, j - 1])
                )
            if acc > spike:
                spike = acc
        scal[b, 0] = ptp
        scal[b, 1] = smax
        scal[b, 2] = count
        scal[b, 3] = ppow / (p_hi - p_lo + 1)
        scal[b, 4] = noise / max(n_noise, 1)
        scal[b, 5] = spike / ptp if ptp > 0 else 0.0
        scal[b, 6] = energy / (q_hi - q_lo + 1)


def extract_windows_ref(x, beats, search, slope_k, env_half, base_half, pre, post, ranges):
    """Plain numpy reference of :func:`extract_windows` (same definitions, per beat)."""
    x = np.asarray(x, dtype=np.float64)
    n_leads, n = x.shape
    nb = len(beats)
    width = pre + post + 1
    win = np.zeros((nb, n_leads, width), dtype=np.float32)
    fid = np.empty(nb, dtype=np.int64)
    scal = np.zeros((nb, 7), dtype=np.float32)
    q_lo, q_hi, p_lo, p_hi, s_lo = (int(v) for v in ranges)
    for b, c in enumerate(np.asarray(beats, dtype=np.int64)):
        idx = np.arange(c - search - env_half, c + search + env_half + 1)
        slope = np.abs(
            x[:, np.clip(idx + slope_k, 0, n - 1)] - x[:, np.clip(idx - slope_k, 0, n - 1)]
        ).sum(axis=0)
        env = np.convolve(slope, np.ones(2 * env_half + 1), mode="valid")
        # first maximum, tolerant to rounding like the kernel's running sum
        best_j = 0
        for j in range(1, env.size):
            if env[j] > env[best_j] + 1e-9:
                best_j = j
        f = c - search + best_j
        fid[b] = f
        pos = np.arange(f - pre, f + post + 1)
        for lead in range(n_leads):
            base = np.array(
                [
                    x[lead, np.clip(np.arange(p - base_half, p + base_half + 1), 0, n - 1)].mean()
                    for p in pos
                ]
            )
            win[b, lead] = (x[lead, np.clip(pos, 0, n - 1)] - base).astype(np.float32)
        w = win[b].astype(np.float64)
        qrs = w[:, pre + q_lo : pre + q_hi + 1]
        ptp = float((qrs.max(axis=1) - qrs.min(axis=1)).sum())
        pw = w[:, pre + p_lo : pre + p_hi + 1]
        ppow = float(((pw - pw.mean(axis=1, keepdims=True)) ** 2).sum()) / pw.shape[1]
        d2 = np.abs(w[:, 2:] - 2 * w[:, 1:-1] + w[:, :-2])
        keep = np.ones(width - 2, dtype=bool)
        keep[pre + q_lo - 1 : pre + q_hi] = False
        noise = float(d2[:, keep].sum()) / max(int(keep.sum()), 1)
        jj = np.arange(pre + q_lo, pre + q_hi + 1)
        sl = np.abs(
            w[:, np.clip(jj + slope_k, 0, width - 1)] - w[:, np.clip(jj - slope_k, 0, width - 1)]
        ).sum(axis=0)
        count = int((sl > 0.2 * sl.max()).sum()) if sl.max() > 0 else 0
        spike = float(d2[:, pre + s_lo - 1 : pre].sum(axis=0).max())
        scal[b] = [
            ptp,
            sl.max(),
            count,
            ppow,
            noise,
            spike / ptp if ptp > 0 else 0.0,
            float((qrs**2).sum()) / qrs.shape[1],
        ]
    return win, fid, scal


# ---------------------------------------------------------------------------- correlation
@numba.njit(cache=True)
def _corr_lag(w, lo, m, max_lag, t, t_mean, t_ss, sums):
    """Best combined Pearson correlation of window ``w`` (slice ``lo+lag : lo+lag+m``) with a
    template ``t`` over lags ``-max_lag..max_lag``; returns (corr, lag, std ratio w/t).

    ``sums`` (3, n_leads, 2 * max_lag + 1) float64 scratch receives each lead's sum, sum of
    squares and product sum with the template at every lag. The sum and the sum of squares
    slide from one lag to the next (two samples change), so a lag costs one dot product.
    """
    n_leads = w.shape[0]
    n_lags = 2 * max_lag + 1
    for lead in range(n_leads):
        base = lo - max_lag
        s = 0.0
        ss = 0.0
        for j in range(m):
            v = float(w[lead, base + j])
            s += v
            ss += v * v
        for k in range(n_lags):
            if k > 0:
                v_out = float(w[lead, base + k - 1])
                v_in = float(w[lead, base + k - 1 + m])
                s += v_in - v_out
                ss += v_in * v_in - v_out * v_out
            st = 0.0
            for j in range(m):
                st += float(w[lead, base + k + j]) * t[lead, j]
            sums[0, lead, k] = s
            sums[1, lead, k] = ss
            sums[2, lead, k] = st
    best = -2.0
    best_lag = 0
    best_ratio = 1.0
    for k in range(n_lags):
        sxx = 0.0
        sxt = 0.0
        for lead in range(n_leads):
            mean = sums[0, lead, k] / m
            sxx += sums[1, lead, k] - m * mean * mean
            sxt += sums[2, lead, k] - m * mean * t_mean[lead]
        if sxx <= 1e-12 or t_ss <= 1e-12:
            c = 0.0
        else:
            c = sxt / np.sqrt(sxx * t_ss)
        if c > best:
            best = c
            best_lag = k - max_lag
            best_ratio = np.sqrt(sxx / t_ss) if t_ss > 1e-12 else 0.0
    return best, best_lag, best_ratio


def _corr_lag_ref(w, lo, m, max_lag, t):
    w = np.asarray(w, dtype=np.float64)
    t = np.asarray(t, dtype=np.float64)
    tc = t - t.mean(axis=1, keepdims=True)
    t_ss = float((tc**2).sum())
    best, best_lag, best_ratio = -2.0, 0, 1.0
    for lag in range(-max_lag, max_lag + 1):
        seg = w[:, lo + lag : lo + lag + m]
        sc = seg - seg.mean(axis=1, keepdims=True)
        sxx = float((sc**2).sum())
        c = 0.0 if sxx <= 1e-12 or t_ss <= 1e-12 else float((sc * tc).sum()) / np.sqrt(sxx * t_ss)
        if c > best:
            best, best_lag = c, lag
            best_ratio = np.sqrt(sxx / t_ss) if t_ss > 1e-12 else 0.0
    return best, best_lag, best_ratio


#: A family is only lag-searched when the lag-0 correlation is within this of the threshold.
PREFILTER_MARGIN = 0.15


@numba.njit(cache=True)
def _corr0(w, lo, m, t, t_mean, t_ss):
    """Combined correlation at lag 0 (a cheap lower bound of :func:`_corr_lag`)."""
    n_leads = w.shape[0]
    sxx = 0.0
    sxt = 0.0
    for lead in range(n_leads):
        s = 0.0
        ss = 0.0
        st = 0.0
        for j in range(m):
            v = float(w[lead, lo + j])
            s += v
            ss += v * v
            st += v * t[lead, j]
        mean = s / m
        sxx += ss - m * mean * mean
        sxt += st - m * mean * t_mean[lead]
    if sxx <= 1e-12 or t_ss <= 1e-12:
        return 0.0
    return sxt / np.sqrt(sxx * t_ss)


@numba.njit(cache=True)
def _template_stats(t, t_mean, t_ssl):
    """Centred sum of squares of template ``t`` over all leads; each lead's mean goes to
    ``t_mean`` and its own centred sum of squares to ``t_ssl``."""
    n_leads, m = t.shape
    ss = 0.0
    for lead in range(n_leads):
        s = 0.0
        for j in range(m):
            s += t[lead, j]
        mean = s / m
        t_mean[lead] = mean
        sl = 0.0
        for j in range(m):
            d = t[lead, j] - mean
            dd = d * d
            ss += dd
            sl += dd
        t_ssl[lead] = sl
    return ss


@numba.njit(cache=True)
def window_corr(win, template, lo, max_lag):
    """Combined correlation (best over lags) of every window with one template.

    Returns float32 correlations, int64 lags and float32 std ratios (window / template).
    """
    nb = win.shape[0]
    n_leads, m = template.shape
    t = template.astype(np.float64)
    t_mean = np.empty(n_leads)
    t_ss = _template_stats(t, t_mean, np.empty(n_leads))
    corr = np.empty(nb, dtype=np.float32)
    lag = np.empty(nb, dtype=np.int64)
    ratio = np.empty(nb, dtype=np.float32)
    sums = np.empty((3, n_leads, 2 * max_lag + 1))
    for b in range(nb):
        c, lg, r = _corr_lag(win[b], lo, m, max_lag, t, t_mean, t_ss, sums)
        corr[b] = c
        lag[b] = lg
        ratio[b] = r
    return corr, lag, ratio


def window_corr_ref(win, template, lo, max_lag):
    """Plain numpy reference of :func:`window_corr`."""
    nb = len(win)
    m = template.shape[1]
    corr = np.empty(nb, dtype=np.float32)
    lag = np.empty(nb, dtype=np.int64)
    ratio = np.empty(nb, dtype=np.float32)
    for b in range(nb):
        corr[b], lag[b], ratio[b] = _corr_lag_ref(win[b], lo, m, max_lag, template)
    return corr, lag, ratio


# ---------------------------------------------------------------------------- clustering
@numba.njit(cache=True)
def cluster_beats(win, valid, lo, m, max_lag, threshold, amp_ratio, max_families, memory):
    """Incremental correlation clustering of beat windows into morphology families.

    Each beat is compared with the family its predecessor joined, then with the other
    families in creation order; it joins the first family whose running template it matches
    with correlation >= ``threshold`` and a std ratio within ``[1/amp_ratio, amp_ratio]``.
    The lag search is skipped for a family whose lag-0 correlation is below
    ``threshold - PREFILTER_MARGIN``.
    Otherwise it founds a new family (while fewer than ``max_families`` exist) or joins the
    best-correlated family without updating it. The matched template moves towards the beat by
    ``1 / min(count, memory)``. Beats with ``valid`` false get family -1.

    Returns family (int64), corr with the family template (float32), lag (int64),
    templates (float64 ``(n_families, n_leads, m)``) and counts (int64).
    """
    nb, n_leads, _ = win.shape
    templates = np.zeros((max_families, n_leads, m))
    t_mean = np.zeros((max_families, n_leads))
    t_ss = np.zeros(max_families)
    counts = np.zeros(max_families, dtype=np.int64)
    family = np.full(nb, -1, dtype=np.int64)
    corr = np.zeros(nb, dtype=np.float32)
    lags = np.zeros(nb, dtype=np.int64)
    n_fam = 0
    last = -1
    inv = 1.0 / amp_ratio
    sums = np.empty((3, n_leads, 2 * max_lag + 1))
    t_ssl = np.empty(n_leads)  # per-lead sums of _template_stats (not needed here)
    for b in range(nb):
        if not valid[b]:
            continue
        chosen = -1
        chosen_c = 0.0
        chosen_lag = 0
        any_f = -1
        any_c = -3.0
        any_lag = 0
        for k in range(n_fam + 1):
            if k == 0:
                f = last
                if f < 0:
                    continue
            else:
                f = k - 1
                if f == last:
                    continue
            c0 = _corr0(win[b], lo, m, templates[f], t_mean[f], t_ss[f])
            if c0 < threshold - PREFILTER_MARGIN:
                if c0 > any_c:
                    any_c = c0
                    any_f = f
                    any_lag = 0
                continue
            c, lg, r = _corr_lag(win[b], lo, m, max_lag, templates[f], t_mean[f], t_ss[f], sums)
            if c > any_c:
                any_c = c
                any_f = f
                any_lag = lg
            if c >= threshold and r >= inv and r <= amp_ratio:
                chosen = f
                chosen_c = c
                chosen_lag = lg
                break
        if chosen < 0 and n_fam < max_families:
            f = n_fam
            n_fam += 1
            for lead in range(n_leads):
                for j in range(m):
                    templates[f, lead, j] = win[b, lead, lo + j]
            t_ss[f] = _template_stats(templates[f], t_mean[f], t_ssl)
            counts[f] = 1
            family[b] = f
            corr[b] = 1.0
            lags[b] = 0
            last = f
            continue
        if chosen < 0:
            family[b] = any_f
            corr[b] = any_c
            lags[b] = any_lag
            counts[any_f] += 1
            last = any_f
            continue
        f = chosen
        counts[f] += 1
        step = 1.0 / min(counts[f], memory)
        for lead in range(n_leads):
            for j in range(m):
                templates[f, lead, j] += step * (
                    win[b, lead, lo + chosen_lag + j] - templates[f, lead, j]
                )
        t_ss[f] = _template_stats(templates[f], t_mean[f], t_ssl)
        family[b] = f
        corr[b] = chosen_c
        lags[b] = chosen_lag
        last = f
    return family, corr, lags, templates[:n_fam].copy(), counts[:n_fam].copy()


def cluster_beats_ref(win, valid, lo, m, max_lag, threshold, amp_ratio, max_families, memory):
    """Plain Python reference of :func:`cluster_beats` (same algorithm, numpy per beat)."""
    nb, n_leads, _ = win.shape
    templates: list[np.ndarray] = []
    counts: list[int] = []
    family = np.full(nb, -1, dtype=np.int64)
    corr = np.zeros(nb, dtype=np.float32)
    lags = np.zeros(nb, dtype=np.int64)
    last = -1
    for b in range(nb):
        if not valid[b]:
            continue
        order = ([last] if last >= 0 else []) + [f for f in range(len(templates)) if f != last]
        chosen, any_f, any_c, any_lag = None, -1, -3.0, 0
        for f in order:
            c0, _, _ = _corr_lag_ref(win[b], lo, m, 0, templates[f])
            if c0 < threshold - PREFILTER_MARGIN:
                if c0 > any_c:
                    any_f, any_c, any_lag = f, c0, 0
                continue
            c, lg, r = _corr_lag_ref(win[b], lo, m, max_lag, templates[f])
            if c > any_c:
                any_f, any_c, any_lag = f, c, lg
            if c >= threshold and 1.0 / amp_ratio <= r <= amp_ratio:
                chosen = (f, c, lg)
                break
        if chosen is None and len(templates) < max_families:
            templates.append(np.asarray(win[b, :, lo : lo + m], dtype=np.float64).copy())
            counts.append(1)
            family[b], corr[b], lags[b] = len(templates) - 1, 1.0, 0
            last = len(templates) - 1
            continue
        if chosen is None:
            family[b], corr[b], lags[b] = any_f, any_c, any_lag
            counts[any_f] += 1
            last = any_f
            continue
        f, c, lg = chosen
        counts[f] += 1
        step = 1.0 / min(counts[f], memory)
        seg = np.asarray(win[b, :, lo + lg : lo + lg + m], dtype=np.float64)
        templates[f] = templates[f] + step * (seg - templates[f])
        family[b], corr[b], lags[b] = f, c, lg
        last = f
    tpl = np.array(templates) if templates else np.zeros((0, n_leads, m))
    return family, corr, lags, tpl, np.array(counts, dtype=np.int64)


# ---------------------------------------------------------------------------- dominant family
@numba.njit(cache=True)
def track_dominant(win, is_dom, lo, m, max_lag, memory, init):
    """Correlate every beat with a running template of the dominant family.

    The template starts as ``init`` and moves towards each dominant-family beat (``is_dom``)
    by ``1 / memory`` after that beat has been measured, so it follows slow morphology drift.

    Returns float32 corr, int64 lag, float32 std ratio and float32 per-lead correlation
    ``(n_beats, n_leads)`` (at the combined best lag).
    """
    nb, n_leads, _ = win.shape
    t = init.astype(np.float64).copy()
    t_mean = np.empty(n_leads)
    t_ssl = np.empty(n_leads)
    t_ss = _template_stats(t, t_mean, t_ssl)
    corr = np.empty(nb, dtype=np.float32)
    lags = np.empty(nb, dtype=np.int64)
    ratio = np.empty(nb, dtype=np.float32)
    lead_corr = np.empty((nb, n_leads), dtype=np.float32)
    sums = np.empty((3, n_leads, 2 * max_lag + 1))
    step = 1.0 / memory
    for b in range(nb):
        c, lg, r = _corr_lag(win[b], lo, m, max_lag, t, t_mean, t_ss, sums)
        corr[b] = c
        lags[b] = lg
        ratio[b] = r
        k = lg + max_lag
        for lead in range(n_leads):
            mean = sums[0, lead, k] / m
            sxx = sums[1, lead, k] - m * mean * mean
            sxt = sums[2, lead, k] - m * mean * t_mean[lead]
            stt = t_ssl[lead]
            lead_corr[b, lead] = sxt / np.sqrt(sxx * stt) if sxx > 1e-12 and stt > 1e-12 else 0.0
        if is_dom[b]:
            for lead in range(n_leads):
                for j in range(m):
                    t[lead, j] += step * (win[b, lead, lo + lg + j] - t[lead, j])
            t_ss = _template_stats(t, t_mean, t_ssl)
    return corr, lags, ratio, lead_corr


def track_dominant_ref(win, is_dom, lo, m, max_lag, memory, init):
    """Plain numpy reference of :func:`track_dominant`."""
    nb, n_leads, _ = win.shape
    t = np.asarray(init, dtype=np.float64).copy()
    corr = np.empty(nb, dtype=np.float32)
    lags = np.empty(nb, dtype=np.int64)
    ratio = np.empty(nb, dtype=np.float32)
    lead_corr = np.empty((nb, n_leads), dtype=np.float32)
    for b in range(nb):
        c, lg, r = _corr_lag_ref(win[b], lo, m, max_lag, t)
        corr[b], lags[b], ratio[b] = c, lg, r
        seg = np.asarray(win[b, :, lo + lg : lo + lg + m], dtype=np.float64)
        d = seg - seg.mean(axis=1, keepdims=True)
        e = t - t.mean(axis=1, keepdims=True)
        sxx, stt = (d**2).sum(axis=1), (e**2).sum(axis=1)
        ok = (sxx > 1e-12) & (stt > 1e-12)
        lead_corr[b] = np.where(ok, (d * e).sum(axis=1) / np.sqrt(np.where(ok, sxx * stt, 1)), 0)
        if is_dom[b]:
            t = t + (seg - t) / memory
    return corr, lags, ratio, lead_corr


# ---------------------------------------------------------------------------- tree ensemble
def pack_trees(feature, threshold, left, right, is_leaf, value):
    """Node arrays for :func:`gbt_raw`: (feature int32, -1 for a leaf; threshold float64, the
    leaf value for a leaf; children int32 ``(n_nodes, 2)``)."""
    leaf = np.asarray(is_leaf, dtype=bool)
    feat = np.where(leaf, -1, np.asarray(feature)).astype(np.int32)
    thr = np.where(leaf, value, threshold).astype(np.float64)
    children = np.stack([np.asarray(left), np.asarray(right)], axis=1).astype(np.int32)
    return feat, thr, children


#: Samples processed together per tree in :func:`gbt_raw` (keeps a tree hot in cache).
GBT_BLOCK = 512


@numba.njit(cache=True, parallel=True)
def gbt_raw(X, packed, missing_left, offsets, n_classes):
    """Raw scores of a gradient-boosted tree ensemble (trees ordered iteration-major).

    Tree ``t`` occupies nodes ``offsets[t]:offsets[t+1]`` of the node arrays ``packed``
    (:func:`pack_trees`; child indices are local to the tree) and adds its leaf value to
    class ``t % n_classes``. A sample goes left when its feature is ``<= threshold`` (or is
    NaN and ``missing_left``). Samples are processed in blocks of :data:`GBT_BLOCK`, every tree
    over a whole block, in parallel over blocks.
    """
    feat, thr, children = packed
    n = X.shape[0]
    n_trees = offsets.size - 1
    out = np.zeros((n, n_classes))
    n_blocks = (n + GBT_BLOCK - 1) // GBT_BLOCK
    for blk in numba.prange(n_blocks):
        lo = blk * GBT_BLOCK
        hi = min(n, lo + GBT_BLOCK)
        for t in range(n_trees):
            base = offsets[t]
            cls = t % n_classes
            for i in range(lo, hi):
                node = base
                f = feat[node]
                while f >= 0:
                    v = X[i, f]
                    if np.isnan(v):
                        go = 0 if missing_left[node] else 1
                    else:
                        go = 0 if v <= thr[node] else 1
                    node = base + children[node, go]
                    f = feat[node]
                out[i, cls] += thr[node]
    return out


def gbt_raw_ref(
    X, feature, threshold, left, right, is_leaf, value, missing_left, offsets, n_classes
):
    """Plain Python reference of :func:`gbt_raw`."""
    X = np.asarray(X, dtype=np.float64)
    out = np.zeros((X.shape[0], n_classes))
    for t in range(len(offsets) - 1):
        base = int(offsets[t])
        for i in range(X.shape[0]):
            node = 0
            while not is_leaf[base + node]:
                v = X[i, feature[base + node]]
                go_left = (
                    bool(missing_left[base + node]) if np.isnan(v) else v <= threshold[base + node]
                )
                node = int(left[base + node] if go_left else right[base + node])
            out[i, t % n_classes] += value[base + node]
    return out


# ---------------------------------------------------------------------------- rolling medians
@numba.njit(cache=True)
def _insort(buf, count, v):
    i = count
    while i > 0 and buf[i - 1] > v:
        buf[i] = buf[i - 1]
        i -= 1
    buf[i] = v


@numba.njit(cache=True)
def _remove(buf, count, v):
    i = 0
    while i < count and buf[i] != v:
        i += 1
    while i < count - 1:
        buf[i] = buf[i + 1]
        i += 1


@numba.njit(cache=True)
def window_median(values, lo_off, hi_off):
    """Median of ``values[i + lo_off : i + hi_off + 1]`` (clipped to the array) for every i."""
    n = values.size
    out = np.empty(n)
    if n == 0:
        return out
    size = hi_off - lo_off + 1
    buf = np.empty(size + 1)
    count = 0
    cur_lo = 0
    cur_hi = -1  # inclusive range currently in buf
    for i in range(n):
        lo = max(0, i + lo_off)
        hi = min(n - 1, i + hi_off)
        while cur_hi < hi:
            cur_hi += 1
            _insort(buf, count, values[cur_hi])
            count += 1
        while cur_lo < lo:
            _remove(buf, count, values[cur_lo])
            count -= 1
            cur_lo += 1
        if count == 0:
            out[i] = values[min(max(i, 0), n - 1)]
        elif count % 2 == 1:
            out[i] = buf[count // 2]
        else:
            out[i] = 0.5 * (buf[count // 2 - 1] + buf[count // 2])
    return out


def window_median_ref(values, lo_off, hi_off):
    """Plain numpy reference of :func:`window_median`."""
    values = np.asarray(values, dtype=np.float64)
    n = values.size
    out = np.empty(n)
    for i in range(n):
        lo, hi = max(0, i + lo_off), min(n - 1, i + hi_off)
        out[i] = np.median(values[lo : hi + 1]) if hi >= lo else values[min(max(i, 0), n - 1)]
    return out


# ---------------------------------------------------------------------------- P waves
@numba.njit(cache=True)
def track_p_wave(win, lag, p_lo, width, update, memory, init):
    """Correlate every beat's P-wave range with a running P template of recent normal beats.

    The P range of beat ``b`` is ``win[b, :, p_lo + lag[b] : p_lo + lag[b] + width]`` (each lead
    mean-removed). The template (``init``, ``(n_leads, width)``) and a running mean P power move
    towards each beat with ``update`` by ``1 / memory`` after the beat has been measured, so the
    reference follows heart-rate dependent changes (a T wave that reaches into the P range at
    fast rates) instead of a fixed template.

    Returns float64 combined correlation (over the leads), best single-lead correlation and the
    P power relative to the running mean P power of the updating beats.
    """
    nb, n_leads, w_all = win.shape
    t = init.astype(np.float64).copy()
    for lead in range(n_leads):
        s = 0.0
        for j in range(width):
            s += t[lead, j]
        for j in range(width):
            t[lead, j] -= s / width
    pw_ref = 0.0
    for lead in range(n_leads):
        for j in range(width):
            pw_ref += t[lead, j] * t[lead, j]
    pw_ref /= width
    comb = np.zeros(nb)
    best = np.zeros(nb)
    power = np.ones(nb)
    seg = np.empty((n_leads, width))
    step = 1.0 / memory
    for b in range(nb):
        s0 = p_lo + lag[b]
        if s0 < 0:
            s0 = 0
        if s0 + width > w_all:
            s0 = w_all - width
        sxt_all = 0.0
        sxx_all = 0.0
        stt_all = 0.0
        bst = -1.0
        for lead in range(n_leads):
            s = 0.0
            for j in range(width):
                s += win[b, lead, s0 + j]
            mean = s / width
            sxx = 0.0
            sxt = 0.0
            stt = 0.0
            for j in range(width):
                d = win[b, lead, s0 + j] - mean
                seg[lead, j] = d
                e = t[lead, j]
                sxx += d * d
                sxt += d * e
                stt += e * e
            c = sxt / np.sqrt(max(sxx * stt, 1e-18))
            if c > bst:
                bst = c
            sxt_all += sxt
            sxx_all += sxx
            stt_all += stt
        comb[b] = sxt_all / np.sqrt(max(sxx_all * stt_all, 1e-18))
        best[b] = bst
        pw = sxx_all / width
        power[b] = pw / pw_ref if pw_ref > 1e-12 else 1.0
        if update[b]:
            for lead in range(n_leads):
                for j in range(width):
                    t[lead, j] += step * (seg[lead, j] - t[lead, j])
            pw_ref += step * (pw - pw_ref)
    return comb, best, power


def track_p_wave_ref(win, lag, p_lo, width, update, memory, init):
    """Plain numpy reference of :func:`track_p_wave`."""
    nb, n_leads, w_all = win.shape
    t = np.asarray(init, dtype=np.float64)
    t = t - t.mean(axis=1, keepdims=True)
    pw_ref = float((t**2).sum() / width)
    comb, best, power = np.zeros(nb), np.zeros(nb), np.ones(nb)
    for b in range(nb):
        s0 = min(max(p_lo + int(lag[b]), 0), w_all - width)
        seg = np.asarray(win[b, :, s0 : s0 + width], dtype=np.float64)
        seg = seg - seg.mean(axis=1, keepdims=True)
        sxt, sxx, stt = (seg * t).sum(axis=1), (seg**2).sum(axis=1), (t**2).sum(axis=1)
        best[b] = np.max(sxt / np.sqrt(np.maximum(sxx * stt, 1e-18)))
        comb[b] = sxt.sum() / np.sqrt(max(sxx.sum() * stt.sum(), 1e-18))
        pw = sxx.sum() / width
        power[b] = pw / pw_ref if pw_ref > 1e-12 else 1.0
        if update[b]:
            t = t + (seg - t) / memory
            pw_ref += (pw - pw_ref) / memory
    return comb, best, power
