"""Frequency-domain HRV (Task Force 1996): long-term (whole record) and 5-minute spectra.

Method (FFT-based, O(n log n)):

1. **Resampling.** The NN series (values at the times of their ending beats) is resampled on
   an even grid at ``resample_hz`` (4 Hz) by a cubic spline through the NN values; across a
   *gap* (two consecutive NN intervals that are not adjacent: ectopy, artefact, excluded
   time, rejected intervals) the grid points are filled by straight-line interpolation
   between the NN values on either side, so the spline cannot overshoot into missing time.
2. **Long-term spectrum** (the whole record, meant for 24 h): the resampled series from the
   first to the last NN interval, mean removed (no linear detrend, which would remove ULF
   power), one FFT zero-padded to a fast length, one-sided power spectral density in
   ms²/Hz. No taper: with a rectangular window every hour weighs the same and, by
   Parseval, the total equals the variance of the resampled series; a Hann taper discounts
   the first and last hours (it lost ~30 % of the power on the NSRDB records), while the
   rectangular window's leakage is negligible at a 1/86400 Hz resolution. Band powers are
   the PSD summed over the bins in each band times the bin width: ULF ``(0, 0.003]``, VLF
   ``(0.003, 0.04]``, LF ``(0.04, 0.15]``, HF ``(0.15, 0.4]`` Hz; total power is their sum
   (``<= 0.4`` Hz, DC excluded). A band holding no frequency bin (record too short) is NaN.
   ``lf_nu = 100 LF / (LF + HF)`` (the Task Force's ``LF / (total - VLF - ULF)``),
   ``hf_nu`` likewise.
3. **Short-term spectra**: every ``segment_s`` (5-minute) segment of the clock-aligned grid
   whose NN intervals cover at least ``segment_min_coverage_pct`` (80 %) of it is resampled
   on its own 4 Hz grid (1200 points), linearly detrended (closed-form least squares), Hann
   windowed and transformed; all valid segments are processed as one 2-D FFT. VLF is
   ``(0, 0.04]`` Hz there. The short-term values are the means over valid segments of each
   segment's VLF, LF, HF, total power, LF/HF, LF n.u. and HF n.u.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from holterlab.hrv._spline import NotAKnotSpline, next_fast_len
from holterlab.hrv.nn import as_nn_arrays
from holterlab.hrv.time_domain import segment_stats
from holterlab.params.hrv import HRVParams

__all__ = [
    "frequency_domain",
    "frequency_analysis",
    "long_term_spectrum",
    "short_term_spectra",
    "resample_nn",
    "band_powers",
    "SegmentSpectra",
]

NAN = float("nan")


class _NNInterpolator:
    """Cubic spline through the NN values, straight lines across gaps.

    Called with sorted times; times outside the series take the end values.
    """

    def __init__(self, nn: np.ndarray, times: np.ndarray, adjacent: np.ndarray):
        self.nn = nn
        self.times = times
        self.spline = None
        gap = np.flatnonzero(~adjacent[1:]) + 1  # node k: no NN data between k - 1 and k
        self.gap_lo = times[gap - 1]
        self.gap_hi = times[gap]
        if nn.size >= 4:
            self.spline = NotAKnotSpline(times, nn)

    def __call__(self, t: np.ndarray) -> np.ndarray:
        t = np.clip(t, self.times[0], self.times[-1])
        if self.spline is None:
            return np.interp(t, self.times, self.nn)
        y = self.spline(t)
        if self.gap_lo.size:
            # grid points strictly inside a gap: mark the ranges with a difference array
            lo = np.searchsorted(t, self.gap_lo, side="right")
            hi = np.searchsorted(t, self.gap_hi, side="left")
            edges = np.bincount(lo, minlength=t.size + 1) - np.bincount(hi, minlength=t.size + 1)
            inside = np.cumsum(edges[:-1]) > 0
            y[inside] = np.interp(t[inside], self.times, self.nn)
        return y


def resample_nn(
    nn_ms: np.ndarray,
    nn_times_s: np.ndarray | None = None,
    *,
    adjacent: np.ndarray | None = None,
    rate_hz: float = 4.0,
) -> tuple[np.ndarray, np.ndarray]:
    """NN series on an even ``rate_hz`` grid from its first to its last interval.

    Returns ``(t_s, nn_ms)``; grid times are whole multiples of ``1 / rate_hz``.
    """
    nn, times, adj = as_nn_arrays(nn_ms, nn_times_s, adjacent)
    if nn.size == 0:
        return np.empty(0), np.empty(0)
    t = _grid(times, rate_hz)
    return t, _NNInterpolator(nn, times, adj)(t)


def _grid(times: np.ndarray, rate_hz: float) -> np.ndarray:
    k0 = int(np.ceil(times[0] * rate_hz))
    k1 = int(np.floor(times[-1] * rate_hz))
    return np.arange(k0, k1 + 1) / rate_hz


def _resample(nn, times, rate_hz, interpolator) -> np.ndarray:
    return interpolator(_grid(times, rate_hz))


def _hann(n: int) -> np.ndarray:
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)  # periodic Hann


def _psd(
    x: np.ndarray, rate_hz: float, nfft: int, *, taper: bool = True
) -> tuple[np.ndarray, np.ndarray]:
    """One-sided PSD (ms²/Hz) along the last axis (Hann taper or none); (freqs, psd)."""
    n = x.shape[-1]
    w = _hann(n) if taper else np.ones(n)
    spec = np.fft.rfft(x * w, n=nfft, axis=-1)
    psd = (spec.real**2 + spec.imag**2) / (rate_hz * np.sum(w * w))
    if nfft % 2 == 0:
        psd[..., 1:-1] *= 2
    else:
        psd[..., 1:] *= 2
    return np.fft.rfftfreq(nfft, 1.0 / rate_hz), psd


def band_powers(
    freqs: np.ndarray, psd: np.ndarray, edges: list[tuple[str, float, float]]
) -> dict[str, np.ndarray]:
    """Power (ms²) in each ``(name, low, high]`` band along the last axis; NaN if no bins."""
    df = freqs[1] - freqs[0] if freqs.size > 1 else NAN
    out = {}
    for name, lo, hi in edges:
        mask = (freqs > lo) & (freqs <= hi)
        if mask.any():
            out[name] = psd[..., mask].sum(axis=-1) * df
        else:
            out[name] = np.full(psd.shape[:-1], NAN)
    return out


def long_term_spectrum(
    nn_ms: np.ndarray,
    nn_times_s: np.ndarray | None = None,
    *,
    adjacent: np.ndarray | None = None,
    rate_hz: float = 4.0,
    _interpolator: _NNInterpolator | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """PSD (ms²/Hz) of the whole NN series; returns ``(freqs_hz, psd)`` (empty if < 8 s)."""
    nn, times, adj = as_nn_arrays(nn_ms, nn_times_s, adjacent)
    if nn.size == 0:
        return np.empty(0), np.empty(0)
    x = _resample(nn, times, rate_hz, _interpolator or _NNInterpolator(nn, times, adj))
    if x.size < 32:
        return np.empty(0), np.empty(0)
    x = x - x.mean()
    return _psd(x, rate_hz, next_fast_len(x.size), taper=False)


@dataclass(frozen=True)
class SegmentSpectra:
    """Band powers of the valid short-term segments.

    Attributes
    ----------
    start_s
        Start time of each valid segment (s).
    segment_s
        Segment length (s).
    vlf, lf, hf, total
        Band powers per segment (ms²).
    """

    start_s: np.ndarray
    segment_s: float
    vlf: np.ndarray
    lf: np.ndarray
    hf: np.ndarray
    total: np.ndarray

    def __len__(self) -> int:
        return int(self.start_s.size)

    def summary(self, mask: np.ndarray | None = None) -> dict[str, float]:
        """Means over the (selected) segments: VLF, LF, HF, total, LF/HF, LF and HF n.u."""
        sel = slice(None) if mask is None else np.asarray(mask, dtype=bool)
        vlf, lf, hf, tot = self.vlf[sel], self.lf[sel], self.hf[sel], self.total[sel]
        n = int(lf.size)
        if n == 0:
            keys = ("vlf_ms2", "lf_ms2", "hf_ms2", "total_power_ms2", "lf_hf", "lf_nu", "hf_nu")
            return {**dict.fromkeys(keys, NAN), "n_segments": 0.0}
        with np.errstate(invalid="ignore", divide="ignore"):
            ratio = lf / hf
            lf_nu = 100.0 * lf / (lf + hf)
        return {
            "vlf_ms2": float(np.mean(vlf)),
            "lf_ms2": float(np.mean(lf)),
            "hf_ms2": float(np.mean(hf)),
            "total_power_ms2": float(np.mean(tot)),
            "lf_hf": _nanmean(ratio),
            "lf_nu": _nanmean(lf_nu),
            "hf_nu": _nanmean(100.0 - lf_nu),
            "n_segments": float(n),
        }


def _nanmean(x: np.ndarray) -> float:
    x = x[np.isfinite(x)]
    return float(x.mean()) if x.size else NAN


def short_term_spectra(
    nn_ms: np.ndarray,
    nn_times_s: np.ndarray | None = None,
    *,
    adjacent: np.ndarray | None = None,
    params: HRVParams | None = None,
    segment_origin_s: float = 0.0,
    _interpolator: _NNInterpolator | None = None,
) -> SegmentSpectra:
    """Band powers of every valid ``segment_s`` segment (see the module notes)."""
    p = params or HRVParams()
    nn, times, adj = as_nn_arrays(nn_ms, nn_times_s, adjacent)
    seg = segment_stats(
        nn,
        times,
        segment_s=p.segment_s,
        origin_s=segment_origin_s,
        min_coverage_pct=p.segment_min_coverage_pct,
    )
    k = np.flatnonzero(seg["valid"]) + seg["first"]
    starts = segment_origin_s + k * p.segment_s
    n_pts = int(round(p.segment_s * p.resample_hz))
    empty = np.empty(0)
    if k.size == 0 or n_pts < 16:
        return SegmentSpectra(empty, p.segment_s, empty, empty, empty, empty)
    grid = starts[:, None] + np.arange(n_pts)[None, :] / p.resample_hz
    interpolate = _interpolator or _NNInterpolator(nn, times, adj)
    x = interpolate(grid.ravel()).reshape(grid.shape)
    x = _detrend_rows(x)
    freqs, psd = _psd(x, p.resample_hz, n_pts)
    bands = band_powers(
        freqs,
        psd,
        [
            ("vlf", 0.0, p.vlf_max_hz),
            ("lf", p.vlf_max_hz, p.lf_max_hz),
            ("hf", p.lf_max_hz, p.hf_max_hz),
            ("total", 0.0, p.hf_max_hz),
        ],
    )
    return SegmentSpectra(
        starts, p.segment_s, bands["vlf"], bands["lf"], bands["hf"], bands["total"]
    )


def _detrend_rows(x: np.ndarray) -> np.ndarray:
    """Remove each row's least-squares line (closed form)."""
    n = x.shape[-1]
    xc = np.arange(n) - (n - 1) / 2.0
    mean = x.mean(axis=-1, keepdims=True)
    slope = (x @ xc) / np.dot(xc, xc)
    return x - mean - slope[:, None] * xc[None, :]


def frequency_domain(
    nn_ms: np.ndarray,
    nn_times_s: np.ndarray | None = None,
    *,
    adjacent: np.ndarray | None = None,
    params: HRVParams | None = None,
    segment_origin_s: float = 0.0,
) -> dict[str, object]:
    """Long-term band powers of the whole series plus the short-term (5-minute) averages.

    Returns
    -------
    dict
        ``ulf_ms2``, ``vlf_ms2``, ``lf_ms2``, ``hf_ms2``, ``total_power_ms2``, ``lf_hf``,
        ``lf_nu``, ``hf_nu`` (NaN where undefined) and ``short_term``: the dict of
        :meth:`SegmentSpectra.summary`.
    """
    return frequency_analysis(
        nn_ms, nn_times_s, adjacent=adjacent, params=params, segment_origin_s=segment_origin_s
    )[0]


def frequency_analysis(
    nn_ms: np.ndarray,
    nn_times_s: np.ndarray | None = None,
    *,
    adjacent: np.ndarray | None = None,
    params: HRVParams | None = None,
    segment_origin_s: float = 0.0,
) -> tuple[dict[str, object], SegmentSpectra]:
    """:func:`frequency_domain` and the per-segment spectra, sharing one interpolation."""
    p = params or HRVParams()
    nn, times, adj = as_nn_arrays(nn_ms, nn_times_s, adjacent)
    interp = _NNInterpolator(nn, times, adj) if nn.size else None
    freqs, psd = long_term_spectrum(
        nn, times, adjacent=adj, rate_hz=p.resample_hz, _interpolator=interp
    )
    out: dict[str, object] = {}
    if freqs.size:
        bands = band_powers(
            freqs,
            psd,
            [
                ("ulf_ms2", 0.0, p.ulf_max_hz),
                ("vlf_ms2", p.ulf_max_hz, p.vlf_max_hz),
                ("lf_ms2", p.vlf_max_hz, p.lf_max_hz),
                ("hf_ms2", p.lf_max_hz, p.hf_max_hz),
            ],
        )
        out.update({k: float(v) for k, v in bands.items()})
        out["total_power_ms2"] = float(np.nansum([out[k] for k in bands]))
    else:
        out.update(dict.fromkeys(("ulf_ms2", "vlf_ms2", "lf_ms2", "hf_ms2"), NAN))
        out["total_power_ms2"] = NAN
    lf, hf = out["lf_ms2"], out["hf_ms2"]
    ok = bool(np.isfinite(lf) and np.isfinite(hf) and lf + hf > 0)
    out["lf_hf"] = lf / hf if ok and hf > 0 else NAN
    out["lf_nu"] = 100.0 * lf / (lf + hf) if ok else NAN
    out["hf_nu"] = 100.0 * hf / (lf + hf) if ok else NAN
    segments = short_term_spectra(
        nn, times, adjacent=adj, params=p, segment_origin_s=segment_origin_s, _interpolator=interp
    )
    out["short_term"] = segments.summary()
    return out, segments
