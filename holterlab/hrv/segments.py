"""HRV per clock hour and in the day and night windows.

**Hours** are clock hours when the recording's start time is known (the first, partial hour
starts at the full hour before the start), otherwise consecutive hours from the first beat's
time zero (sample 0). **Day** and **night** are clock-time windows (defaults 08:00-20:00 and
00:00-06:00, repeated every day of a multi-day record, pooled); they need the start time and
are ``None`` without it. The narrow windows leave out the evening and morning hours in
which Holter patients go to bed and get up at varying times, as in the common HRV
day/night comparisons; both are configurable (``day_*_h``, ``night_*_h``; a window may wrap
midnight, e.g. 22-06).

For each period: mean NN, SDNN, RMSSD and pNN50 of the NN intervals whose ending beat lies in
it (successive differences only between adjacent intervals that are both in it), and LF, HF
and LF/HF as means over the valid 5-minute segments lying wholly in it (the segment grid is
aligned with the clock, so every segment falls in one hour). Daylight-saving changes within
a record are ignored (the clock is the start time plus elapsed time).
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

from holterlab.hrv.frequency import SegmentSpectra
from holterlab.hrv.nn import as_nn_arrays
from holterlab.hrv.result import PeriodHRV, clean_float
from holterlab.params.hrv import HRVParams

__all__ = ["hourly_hrv", "day_night_hrv", "clock_seconds", "in_clock_window"]

NAN = float("nan")


def clock_seconds(start_time: _dt.datetime | None) -> float:
    """Seconds since midnight of ``start_time`` (0 when unknown)."""
    if start_time is None:
        return 0.0
    t = start_time
    return t.hour * 3600.0 + t.minute * 60.0 + t.second + t.microsecond / 1e6


def in_clock_window(tod_s: np.ndarray, start_h: float, end_h: float) -> np.ndarray:
    """True where the time of day (s) lies in ``[start_h, end_h)``, wrapping midnight."""
    a, b = start_h * 3600.0, end_h * 3600.0
    tod = np.mod(np.asarray(tod_s, dtype=float), 86400.0)
    if a < b:
        return (tod >= a) & (tod < b)
    return (tod >= a) | (tod < b)


def _grouped_stats(nn, adj, group, n_groups, threshold_ms):
    """Per-group count, mean, SDNN, RMSSD and pNN50 (groups ``0 .. n_groups - 1``; -1 = none)."""
    sel = group >= 0
    g = group[sel]
    x = nn[sel]
    count = np.bincount(g, minlength=n_groups).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(g, weights=x, minlength=n_groups) / count
        ss = np.bincount(g, weights=(x - mean[g]) ** 2, minlength=n_groups)
        sdnn = np.sqrt(ss / (count - 1))
    sdnn[count < 2] = NAN
    pair = adj[1:] & (group[1:] == group[:-1]) & (group[1:] >= 0)
    d = np.diff(nn)[pair]
    gp = group[1:][pair]
    n_d = np.bincount(gp, minlength=n_groups).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        rmssd = np.sqrt(np.bincount(gp, weights=d * d, minlength=n_groups) / n_d)
        big = np.bincount(gp, weights=(np.abs(d) > threshold_ms).astype(float), minlength=n_groups)
        pnn = 100.0 * big / n_d
    return count, mean, sdnn, rmssd, pnn


def _segment_means(segments: SegmentSpectra | None, group: np.ndarray, n_groups: int):
    """Per-group mean LF, HF, LF/HF and count of the segments (group -1 = none)."""
    if segments is None or len(segments) == 0:
        nan = np.full(n_groups, NAN)
        return nan, nan, nan, np.zeros(n_groups)
    sel = group >= 0
    g = group[sel]
    n = np.bincount(g, minlength=n_groups).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        lf = np.bincount(g, weights=segments.lf[sel], minlength=n_groups) / n
        hf = np.bincount(g, weights=segments.hf[sel], minlength=n_groups) / n
        ratio_each = segments.lf[sel] / segments.hf[sel]
        fin = np.isfinite(ratio_each)
        n_r = np.bincount(g[fin], minlength=n_groups).astype(float)
        ratio = np.bincount(g[fin], weights=ratio_each[fin], minlength=n_groups) / n_r
    return lf, hf, ratio, n


def hourly_hrv(
    nn_ms: np.ndarray,
    nn_times_s: np.ndarray,
    *,
    adjacent: np.ndarray | None = None,
    segments: SegmentSpectra | None = None,
    params: HRVParams | None = None,
    start_time: _dt.datetime | None = None,
    span_s: tuple[float, float] | None = None,
) -> list[PeriodHRV]:
    """HRV of every hour from the one holding ``span_s[0]`` to the one holding ``span_s[1]``.

    ``span_s`` defaults to the first and last NN times; hours without NN intervals are listed
    with ``None`` values.
    """
    p = params or HRVParams()
    nn, times, adj = as_nn_arrays(nn_ms, nn_times_s, adjacent)
    if span_s is None:
        if nn.size == 0:
            return []
        span_s = (float(times[0] - nn[0] / 1000.0), float(times[-1]))
    origin = -np.mod(clock_seconds(start_time), 3600.0)
    h0 = int(np.floor((span_s[0] - origin) / 3600.0))
    h1 = int(np.floor((span_s[1] - origin) / 3600.0))
    n_hours = max(h1 - h0 + 1, 0)
    group = np.floor((times - origin) / 3600.0).astype(np.int64) - h0
    group[(group < 0) | (group >= n_hours)] = -1
    count, mean, sdnn, rmssd, pnn = _grouped_stats(nn, adj, group, n_hours, p.pnn_threshold_ms)
    if segments is not None and len(segments):
        sg = np.floor((segments.start_s - origin) / 3600.0).astype(np.int64)
        sg_end = np.floor((segments.start_s + segments.segment_s - 1e-6 - origin) / 3600.0)
        sgroup = np.where(sg_end.astype(np.int64) == sg, sg - h0, -1)
        sgroup[(sgroup < 0) | (sgroup >= n_hours)] = -1
    else:
        sgroup = np.empty(0, dtype=np.int64)
    lf, hf, ratio, n_seg = _segment_means(segments, sgroup, n_hours)
    out = []
    for k in range(n_hours):
        offset = origin + (h0 + k) * 3600.0
        if start_time is not None:
            begin = start_time + _dt.timedelta(seconds=offset)
            begin = begin.replace(microsecond=0)
            start_txt = begin.isoformat()
            end_txt = (begin + _dt.timedelta(hours=1)).isoformat()
        else:
            start_txt = end_txt = None
        out.append(
            PeriodHRV(
                label="hour",
                start=start_txt,
                end=end_txt,
                offset_s=float(offset),
                n_nn=int(count[k]),
                mean_nn_ms=clean_float(mean[k]),
                sdnn_ms=clean_float(sdnn[k]),
                rmssd_ms=clean_float(rmssd[k]),
                pnn50_pct=clean_float(pnn[k]),
                lf_ms2=clean_float(lf[k]),
                hf_ms2=clean_float(hf[k]),
                lf_hf=clean_float(ratio[k]),
                n_segments=int(n_seg[k]),
            )
        )
    return out


def _hhmm(hours: float) -> str:
    minutes = int(round(hours * 60))
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def day_night_hrv(
    nn_ms: np.ndarray,
    nn_times_s: np.ndarray,
    *,
    adjacent: np.ndarray | None = None,
    segments: SegmentSpectra | None = None,
    params: HRVParams | None = None,
    start_time: _dt.datetime | None = None,
) -> tuple[PeriodHRV | None, PeriodHRV | None]:
    """HRV in the day and night clock windows; ``(None, None)`` without a start time."""
    if start_time is None:
        return None, None
    p = params or HRVParams()
    nn, times, adj = as_nn_arrays(nn_ms, nn_times_s, adjacent)
    clock0 = clock_seconds(start_time)
    results = []
    for label, a, b in (
        ("day", p.day_start_h, p.day_end_h),
        ("night", p.night_start_h, p.night_end_h),
    ):
        inside = in_clock_window(clock0 + times, a, b)
        group = np.where(inside, 0, -1).astype(np.int64)
        count, mean, sdnn, rmssd, pnn = _grouped_stats(nn, adj, group, 1, p.pnn_threshold_ms)
        if segments is not None and len(segments):
            s0 = clock0 + segments.start_s
            whole = in_clock_window(s0, a, b) & in_clock_window(
                s0 + segments.segment_s - 1e-6, a, b
            )
            sgroup = np.where(whole, 0, -1).astype(np.int64)
        else:
            sgroup = np.empty(0, dtype=np.int64)
        lf, hf, ratio, n_seg = _segment_means(segments, sgroup, 1)
        results.append(
            PeriodHRV(
                label=label,
                start=_hhmm(a),
                end=_hhmm(b),
                offset_s=None,
                n_nn=int(count[0]),
                mean_nn_ms=clean_float(mean[0]),
                sdnn_ms=clean_float(sdnn[0]),
                rmssd_ms=clean_float(rmssd[0]),
                pnn50_pct=clean_float(pnn[0]),
                lf_ms2=clean_float(lf[0]),
                hf_ms2=clean_float(hf[0]),
                lf_hf=clean_float(ratio[0]),
                n_segments=int(n_seg[0]),
            )
        )
    return results[0], results[1]
