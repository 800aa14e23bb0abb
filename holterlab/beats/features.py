"""Per-beat features for beat classification: beat windows, RR timing and morphology.

Everything here is relative to the recording itself: RR intervals are divided by the local and
long-term average RR, morphology is compared with the recording's dominant family, so the
features do not depend on the gain, the polarity of a lead or the sampling rate.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numba
import numpy as np

from holterlab.beats import _classify_kernels as K
from holterlab.params.classification import ClassificationParams

__all__ = [
    "WindowGeometry",
    "BeatWindows",
    "FEATURE_NAMES",
    "window_geometry",
    "extract_beat_windows",
    "concatenate_windows",
    "rr_features",
    "morphology_features",
    "feature_matrix",
    "p_wave_correlation",
    "rolling_median",
    "CONTEXT_BEATS",
]


# ---------------------------------------------------------------------------- windows
@dataclass(frozen=True)
class WindowGeometry:
    """Window sizes in samples for one sampling rate (derived from the parameters)."""

    fs: float
    pre: int  # full window before the fiducial
    post: int  # full window after the fiducial
    match_lo: int  # start of the correlation range inside the stored window
    match_len: int  # length of the correlation range
    max_lag: int
    search: int
    slope_k: int
    env_half: int
    base_half: int
    ranges: np.ndarray  # qrs_lo, qrs_hi, p_lo, p_hi, spike_lo (offsets from the fiducial)
    keep_lo: int  # stored slice of the full window: [keep_lo, keep_hi)
    keep_hi: int

    @property
    def p_slice(self) -> slice:
        """The P-wave range inside the stored window (at lag 0)."""
        lo = self.pre + int(self.ranges[2]) - self.keep_lo
        hi = self.pre + int(self.ranges[3]) - self.keep_lo + 1
        return slice(lo, hi)

    @property
    def margin(self) -> int:
        """Samples of context a block needs beyond its beats."""
        return (
            self.search
            + self.env_half
            + self.slope_k
            + max(self.pre, self.post)
            + (self.base_half + 1)
        )


#: P-wave range (ms before the QRS fiducial): from, to.
P_RANGE_MS = (240.0, 90.0)


def _ms(value_ms: float, fs: float) -> int:
    return int(round(value_ms * fs / 1000.0))


def window_geometry(fs: float, params: ClassificationParams) -> WindowGeometry:
    """Window sizes in samples at sampling rate ``fs``."""
    pre = _ms(params.window_pre_ms, fs)
    post = _ms(params.window_post_ms, fs)
    max_lag = _ms(params.max_lag_ms, fs)
    m_pre = _ms(params.match_pre_ms, fs)
    m_post = _ms(params.match_post_ms, fs)
    p_start = _ms(P_RANGE_MS[0], fs)
    keep_lo = max(0, pre - max(m_pre, p_start) - max_lag)
    keep_hi = pre + m_post + max_lag + 1
    ranges = np.array(
        [
            -_ms(80.0, fs),  # QRS range
            _ms(120.0, fs),
            -_ms(P_RANGE_MS[0], fs),  # P-wave range
            -_ms(P_RANGE_MS[1], fs),
            -_ms(80.0, fs),  # pacing spike search start
        ],
        dtype=np.int64,
    )
    ranges[2] = max(ranges[2], -pre + 1)
    ranges[4] = max(ranges[4], -pre + 1)
    return WindowGeometry(
        fs=float(fs),
        pre=pre,
        post=post,
        match_lo=pre - m_pre - keep_lo,
        match_len=m_pre + m_post + 1,
        max_lag=max_lag,
        search=_ms(params.align_search_ms, fs),
        slope_k=max(1, _ms(8.0, fs)),
        env_half=max(1, _ms(20.0, fs)),
        base_half=max(1, _ms(params.baseline_window_ms / 2.0, fs)),
        ranges=ranges,
        keep_lo=keep_lo,
        keep_hi=keep_hi,
    )


@dataclass
class BeatWindows:
    """Beat windows (the correlation range plus the lag margin) and scalar features.

    Attributes
    ----------
    win
        float32 ``(n_beats, n_leads, width)`` baseline-corrected windows around the re-aligned
        fiducials.
    fid
        int64 re-aligned fiducial of each beat (sample index in the recording).
    scal
        float32 ``(n_beats, N_SCALAR)`` scalar features (:data:`~._classify_kernels.SCALAR_NAMES`).
    geometry
        The :class:`WindowGeometry` used.
    """

    win: np.ndarray
    fid: np.ndarray
    scal: np.ndarray
    geometry: WindowGeometry


def _blocks(beats: np.ndarray, size: int) -> Iterator[slice]:
    for i in range(0, beats.size, size):
        yield slice(i, min(beats.size, i + size))


def extract_beat_windows(
    x: np.ndarray,
    beats: np.ndarray,
    geometry: WindowGeometry,
    *,
    offset: int = 0,
    block: int = 20000,
    out: BeatWindows | None = None,
    at: int = 0,
) -> BeatWindows:
    """Cut beat windows out of a signal block.

    Parameters
    ----------
    x
        float32 ``(n_leads, n)`` block of the recording (mV) starting at sample ``offset``.
    beats
        int64 beat positions in recording samples (inside the block, ideally with
        ``geometry.margin`` samples of context on both sides).
    geometry
        Window sizes (:func:`window_geometry`).
    offset
        Recording sample index of ``x[:, 0]``.
    block
        Beats processed at once (bounds the temporary full-width windows).
    out, at
        Write the windows into ``out`` (preallocated for all beats of a recording) from beat
        index ``at`` on, instead of new arrays; ``out`` is returned.
    """
    g = geometry
    x = np.ascontiguousarray(x, dtype=np.float32)
    local = np.asarray(beats, dtype=np.int64) - int(offset)
    n = local.size
    width = g.keep_hi - g.keep_lo
    if out is None:
        out = BeatWindows(
            np.empty((n, x.shape[0], width), dtype=np.float32),
            np.empty(n, dtype=np.int64),
            np.empty((n, K.N_SCALAR), dtype=np.float32),
            g,
        )
        at = 0
    for sl in _blocks(local, block):
        w, f, s = K.extract_windows(
            x, local[sl], g.search, g.slope_k, g.env_half, g.base_half, g.pre, g.post, g.ranges
        )
        dst = slice(at + sl.start, at + sl.stop)
        out.win[dst] = w[:, :, g.keep_lo : g.keep_hi]
        out.fid[dst] = f + int(offset)
        out.scal[dst] = s
    return out


def concatenate_windows(parts: list[BeatWindows], geometry: WindowGeometry) -> BeatWindows:
    """Join the windows of consecutive blocks."""
    if not parts:
        n_leads = 1
        width = geometry.keep_hi - geometry.keep_lo
        return BeatWindows(
            np.zeros((0, n_leads, width), np.float32),
            np.zeros(0, np.int64),
            np.zeros((0, K.N_SCALAR), np.float32),
            geometry,
        )
    if len(parts) == 1:
        return parts[0]
    return BeatWindows(
        np.concatenate([p.win for p in parts]),
        np.concatenate([p.fid for p in parts]),
        np.concatenate([p.scal for p in parts]),
        geometry,
    )


# ---------------------------------------------------------------------------- timing
#: Beats either side of a beat that make up its rhythm context (``ctx_*`` features).
CONTEXT_BEATS = 10


@numba.njit(cache=True)
def _previous_mean(rr, ok, k, fallback):
    """Mean of the ``k`` most recent intervals with ``ok`` before each index (not included)."""
    n = rr.size
    out = np.empty(n)
    buf = np.empty(k)
    count = 0
    pos = 0
    total = 0.0
    for i in range(n):
        out[i] = total / count if count > 0 else fallback[i]
        if ok[i]:
            if count < k:
                buf[pos] = rr[i]
                total += rr[i]
                count += 1
            else:
                total += rr[i] - buf[pos]
                buf[pos] = rr[i]
            pos = (pos + 1) % k
    return out


def _previous_median(values: np.ndarray, k: int) -> np.ndarray:
    """Median of the ``k`` values before each index (the first uses its own value)."""
    return K.window_median(np.ascontiguousarray(values, dtype=np.float64), -k, -1)


def _rolling_median(values: np.ndarray, half: int) -> np.ndarray:
    """Centred median over ``2 * half + 1`` values (clipped at the ends)."""
    return K.window_median(np.ascontiguousarray(values, dtype=np.float64), -half, half)


def rolling_median(values: np.ndarray, half: int) -> np.ndarray:
    """Centred median over ``2 * half + 1`` values (clipped at the ends), float64."""
    return _rolling_median(values, half)


def _time_window_mean(t: np.ndarray, values: np.ndarray, ok: np.ndarray, half_s: float):
    """Mean of ``values[ok]`` within ``half_s`` seconds of each time (falls back to all)."""
    v = np.where(ok, values, 0.0)
    cs = np.concatenate([[0.0], np.cumsum(v)])
    cn = np.concatenate([[0], np.cumsum(ok.astype(np.int64))])
    lo = np.searchsorted(t, t - half_s, side="left")
    hi = np.searchsorted(t, t + half_s, side="right")
    num = cs[hi] - cs[lo]
    den = cn[hi] - cn[lo]
    overall = values[ok].mean() if ok.any() else (values.mean() if values.size else 1.0)
    return np.where(den > 0, num / np.maximum(den, 1), overall)


def rr_features(
    t: np.ndarray, normal_like: np.ndarray, params: ClassificationParams
) -> dict[str, np.ndarray]:
    """Timing features of each beat.

    Parameters
    ----------
    t
        Beat times in seconds (non-decreasing).
    normal_like
        True for beats whose morphology matches the dominant family (used to pick the
        normal-to-normal intervals of the local average).
    params
        Classification parameters (``local_rr_beats``, ``long_rr_s``).

    Returns
    -------
    dict of float64 arrays, one value per beat.
    """
    n = t.size
    if n < 2:
        one = np.ones(n)
        return {
            name: one.copy()
            for name in (
                "rr_pre",
                "rr_post",
                "pre_local",
                "post_local",
                "pre_prev",
                "pre_long",
                "post_pre",
                "local_long",
                "irregularity",
                "pre_nn",
                "next_pre_local",
                "pre_cmed30",
                "pre_prev32",
                "pre_prev128",
                "irr_long",
                "ctx_irr",
            )
        }
    d = np.diff(t)
    d = np.maximum(d, 1e-3)
    rr_pre = np.concatenate([[d[0]], d])
    rr_post = np.concatenate([d, [d[-1]]])
    # normal-to-normal intervals: both ends normal-like
    nn = np.concatenate([[False], normal_like[1:] & normal_like[:-1]])
    med_c = _rolling_median(rr_pre, 8)
    # local average: mean of the previous k NN intervals that are not grossly premature
    ok = nn & (rr_pre > 0.75 * med_c) & (rr_pre < 1.6 * med_c)
    k = int(params.local_rr_beats)
    prev_nn = _previous_mean(rr_pre, ok, k, med_c)
    long_rr = _time_window_mean(t, rr_pre, ok, params.long_rr_s / 2.0)
    local = med_c
    drr = np.abs(np.diff(rr_pre, prepend=rr_pre[0]))
    irr = _rolling_median(drr, 8) / med_c
    # irregularity of the neighbourhood (+-10 beats): high in atrial fibrillation. The smallest
    # over RR differences at lags 1, 2 and 3 beats, so that bi- and trigeminy (regular patterns
    # of ectopic beats) do not count as irregular
    ctx_irr = _rolling_median(drr / med_c, CONTEXT_BEATS)
    for lag in (2, 3):
        if n > lag:
            d_lag = np.abs(rr_pre[lag:] - rr_pre[:-lag])
            d_lag = np.concatenate([np.resize(d_lag, lag), d_lag])
            ctx_irr = np.minimum(ctx_irr, _rolling_median(d_lag / med_c, CONTEXT_BEATS))
    med_long = _rolling_median(rr_pre, 30)
    irr_long = _rolling_median(drr, 30) / med_long
    prev_med = _previous_median(rr_pre, 32)
    prev_med128 = _previous_median(rr_pre, 128)
    pre_local = rr_pre / local
    return {
        "pre_cmed30": rr_pre / med_long,
        "pre_prev32": rr_pre / prev_med,
        "pre_prev128": rr_pre / prev_med128,
        "irr_long": irr_long,
        "ctx_irr": ctx_irr,
        "rr_pre": rr_pre,
        "rr_post": rr_post,
        "pre_local": pre_local,
        "post_local": rr_post / local,
        "pre_prev": rr_pre / np.concatenate([[rr_pre[0]], rr_pre[:-1]]),
        "pre_long": rr_pre / long_rr,
        "post_pre": rr_post / rr_pre,
        "local_long": local / long_rr,
        "irregularity": irr,
        "pre_nn": rr_pre / prev_nn,
        "next_pre_local": np.concatenate([pre_local[1:], [1.0]]),
    }


# ---------------------------------------------------------------------------- morphology
def _safe_ratio(a: np.ndarray, b: float) -> np.ndarray:
    b = float(b)
    if not np.isfinite(b) or b <= 1e-12:
        return np.ones_like(a, dtype=np.float64)
    return np.asarray(a, dtype=np.float64) / b


def morphology_features(
    windows: BeatWindows,
    family: np.ndarray,
    fam_corr: np.ndarray,
    dominant: int,
    dom_corr: np.ndarray,
    dom_ratio: np.ndarray,
    dom_lead_corr: np.ndarray,
    family_dom_corr: np.ndarray,
    counts: np.ndarray,
) -> dict[str, np.ndarray]:
    """Morphology features of each beat relative to the dominant family.

    ``dom_*`` come from :func:`~._classify_kernels.track_dominant`; ``family_dom_corr`` is the
    correlation of each family template with the dominant template.
    """
    g = windows.geometry
    scal = windows.scal.astype(np.float64)
    n = scal.shape[0]
    is_dom = family == dominant
    ref = scal[is_dom] if is_dom.any() else scal
    med = np.median(ref, axis=0) if ref.size else np.ones(K.N_SCALAR)
    width_ms = scal[:, 2] * 1000.0 / g.fs
    ptp = np.maximum(scal[:, 0], 1e-6)
    fam = np.where(family >= 0, family, 0)
    n_fam = counts.size
    fam_size = counts[fam] / max(n, 1) if n_fam else np.ones(n)
    fdc = family_dom_corr[fam] if n_fam else np.ones(n)
    fdc = np.where(family >= 0, fdc, 0.0)
    lead_min = dom_lead_corr.min(axis=1) if dom_lead_corr.size else dom_corr
    lead_max = dom_lead_corr.max(axis=1) if dom_lead_corr.size else dom_corr
    return {
        "dom_corr": dom_corr.astype(np.float64),
        "dom_lead_min": lead_min.astype(np.float64),
        "dom_lead_max": lead_max.astype(np.float64),
        "dom_amp": dom_ratio.astype(np.float64),
        "fam_corr": fam_corr.astype(np.float64),
        "fam_dom_corr": fdc.astype(np.float64),
        "fam_size": np.log10(np.maximum(fam_size, 1e-6)),
        "is_dom": is_dom.astype(np.float64),
        "width_ms": width_ms,
        "width_rel": _safe_ratio(scal[:, 2], med[2]),
        "slope_rel": _safe_ratio(scal[:, 1], med[1]),
        "ptp_rel": _safe_ratio(scal[:, 0], med[0]),
        "energy_rel": _safe_ratio(scal[:, 6], med[6]),
        "slope_per_ptp": scal[:, 1] / ptp / _safe_ratio(np.array([med[1]]), med[0])[0],
        "p_rel": _safe_ratio(scal[:, 3], med[3]),
        "p_per_qrs": scal[:, 3] / ptp**2,
        "noise_rel": _safe_ratio(scal[:, 4], med[4]),
        "noise_per_qrs": scal[:, 4] / ptp,
        "spike": scal[:, 5],
    }


def p_wave_correlation(
    windows: BeatWindows,
    lag: np.ndarray,
    update: np.ndarray,
    *,
    memory: int = 16,
    k: int = 64,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each beat's P-wave range compared with a running P template of recent normal beats.

    ``update`` marks the beats that are normal by morphology and timing (they move the running
    template, :func:`~._classify_kernels.track_p_wave`); the template starts as the median P
    range of the first ``k`` of them. Windows are taken at the lag at which each beat matched
    the dominant template. A running (not a fixed) template keeps the reference valid when
    the heart rate changes: at fast rates the previous T wave reaches into the P range.

    Returns the combined (over leads) and best single-lead correlation and the P power relative
    to the running mean of the normal beats' P power (float64, one value per beat).
    """
    g = windows.geometry
    n, n_leads, _ = windows.win.shape
    members = np.flatnonzero(update)[:k]
    if n == 0 or members.size == 0:
        return np.zeros(n), np.zeros(n), np.ones(n)
    ps = g.p_slice
    width = ps.stop - ps.start
    lag = np.clip(np.asarray(lag, dtype=np.int64), -g.max_lag, g.max_lag)
    cols = ps.start + lag[members, None] + np.arange(width)[None, :]
    cols = np.clip(cols, 0, windows.win.shape[2] - 1)
    seg = np.take_along_axis(
        windows.win[members], np.broadcast_to(cols[:, None, :], (members.size, n_leads, width)), 2
    ).astype(np.float64)
    seg -= seg.mean(axis=2, keepdims=True)
    init = np.median(seg, axis=0)
    return K.track_p_wave(
        windows.win, lag, ps.start, width, np.asarray(update, dtype=np.bool_), memory, init
    )


def _family_median(values: np.ndarray, family: np.ndarray, n_fam: int) -> np.ndarray:
    """Per-beat median of ``values`` over the beat's family (0 for family -1)."""
    out = np.zeros(values.size)
    if n_fam == 0 or values.size == 0:
        return out
    order = np.argsort(family, kind="stable")
    fs_sorted = family[order]
    bounds = np.searchsorted(fs_sorted, np.arange(-1, n_fam + 1))
    meds = np.zeros(n_fam + 1)
    for f in range(-1, n_fam):
        lo, hi = bounds[f + 1], bounds[f + 2]
        if hi > lo:
            meds[f + 1] = np.median(values[order[lo:hi]])
    return meds[family + 1]


def _family_mean(values: np.ndarray, family: np.ndarray, n_fam: int) -> np.ndarray:
    if values.size == 0:
        return np.zeros(0)
    idx = family + 1
    sums = np.bincount(idx, weights=values, minlength=n_fam + 1)
    cnt = np.bincount(idx, minlength=n_fam + 1)
    return (sums / np.maximum(cnt, 1))[idx]


#: Columns of :func:`feature_matrix` (the model's inputs), in order.
FEATURE_NAMES = (
    "pre_local",
    "post_local",
    "pre_prev",
    "pre_long",
    "post_pre",
    "local_long",
    "irregularity",
    "pre_nn",
    "next_pre_local",
    "rr_pre",
    "dom_corr",
    "dom_lead_min",
    "dom_lead_max",
    "dom_amp",
    "fam_corr",
    "fam_dom_corr",
    "fam_size",
    "is_dom",
    "width_ms",
    "width_rel",
    "slope_rel",
    "ptp_rel",
    "energy_rel",
    "slope_per_ptp",
    "p_rel",
    "p_per_qrs",
    "noise_rel",
    "noise_per_qrs",
    "spike",
    "fam_pre_local",
    "fam_premature",
    "fam_width_rel",
    "fam_dom_corr_med",
    "prev_dom_corr",
    "next_dom_corr",
    "pre_cmed30",
    "pre_prev32",
    "pre_prev128",
    "irr_long",
    "p_corr",
    "p_lead_max",
    "ctx_irr",
    "ctx_p",
)


def feature_matrix(
    timing: dict[str, np.ndarray], morph: dict[str, np.ndarray], family: np.ndarray
) -> np.ndarray:
    """Assemble the float32 feature matrix ``(n_beats, len(FEATURE_NAMES))``."""
    n_fam = int(family.max()) + 1 if family.size else 0
    cols = {**timing, **morph}
    cols["rr_pre"] = np.clip(timing["rr_pre"], 0.0, 5.0)
    cols["fam_pre_local"] = _family_median(timing["pre_local"], family, n_fam)
    cols["fam_premature"] = _family_mean(
        (timing["pre_local"] < 0.9).astype(np.float64), family, n_fam
    )
    cols["fam_width_rel"] = _family_median(morph["width_rel"], family, n_fam)
    cols["fam_dom_corr_med"] = _family_median(morph["dom_corr"], family, n_fam)
    dc = morph["dom_corr"]
    cols["prev_dom_corr"] = np.concatenate([dc[:1], dc[:-1]]) if dc.size else dc
    cols["next_dom_corr"] = np.concatenate([dc[1:], dc[-1:]]) if dc.size else dc
    out = np.empty((family.size, len(FEATURE_NAMES)), dtype=np.float32)
    for j, name in enumerate(FEATURE_NAMES):
        v = np.nan_to_num(np.asarray(cols[name], dtype=np.float64), nan=1.0, posinf=1e3)
        if name in _LOG_RATIOS:
            v = np.log2(np.clip(v, 1e-3, 1e3))
        elif name in _LOG_SMALL:
            v = np.log10(np.clip(v, 0.0, 1e3) + 1e-4)
        out[:, j] = np.clip(v, -1e3, 1e3)
    return out


#: Positive ratios, given to the model as log2 (symmetric around 1).
_LOG_RATIOS = frozenset(
    (
        "pre_local",
        "post_local",
        "pre_prev",
        "pre_long",
        "post_pre",
        "local_long",
        "pre_nn",
        "next_pre_local",
        "dom_amp",
        "width_rel",
        "slope_rel",
        "ptp_rel",
        "energy_rel",
        "slope_per_ptp",
        "p_rel",
        "noise_rel",
        "fam_pre_local",
        "fam_width_rel",
        "pre_cmed30",
        "pre_prev32",
        "pre_prev128",
    )
)
#: Small positive magnitudes, given to the model as log10.
_LOG_SMALL = frozenset(
    ("p_per_qrs", "noise_per_qrs", "spike", "irregularity", "irr_long", "ctx_irr")
)
