"""Heart rate: running averages, min/mean/max with times, day/night, hourly table, brady/tachy.

Conventions
-----------
* Every beat counts (N, S, V, F, Q): the heart rate is the ventricular rate.
* ``mean_bpm`` = beats in analysable time / analysable minutes.
* Minimum and maximum are the extremes of a running average (``RateParams.minmax_basis``):
  ``"window"`` (default): for every beat, the rate of the RR intervals ending in the
  ``minmax_window_s`` seconds before it (beats / time); windows crossing excluded time are
  cut at it and windows holding less than 80 % of ``minmax_window_s`` of RR intervals are
  skipped. ``"beats"``: the mean rate of every ``minmax_beats`` consecutive intervals. The
  time reported is the centre of the window. RR intervals longer than ``max_rr_s`` are left
  out of the averages (they are pauses, reported as such).
* Day and night are clock periods (default day 07:00-23:00, night 23:00-07:00), known only
  when the recording start time is given; the wall clock of ``start_time`` is used as is
  (no daylight-saving changes within a recording).
* Hourly rows follow clock hours when the start time is known (the first and last rows are
  partial), else hours from the start.
* Brady/tachycardia: a centred running rate over ``episode_average_beats`` RR intervals
  below ``brady_bpm`` (above ``tachy_bpm``) for at least the minimum duration, within
  analysable time. They are *sinus* rate episodes: beats inside the ``exclude`` spans given
  to :func:`rate_episodes` (by :func:`holterlab.rhythm.analyze_rhythm`: AF/flutter episodes
  and VT/IVR/SVT/slow-S runs, unless ``rate_episodes_exclude_arrhythmia`` is off) never
  belong to one, so AF with a fast ventricular response is AF, not also tachycardia.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

from holterlab.events import Event
from holterlab.params.rhythm import RateParams
from holterlab.rhythm._input import BeatSeries, analysable_before, segment_bounds
from holterlab.rhythm.result import HeartRateSummary, HourRow, PeriodSummary, RatePoint
from holterlab.rhythm.runs import runs_of

__all__ = [
    "running_rate",
    "heart_rate_summary",
    "day_night",
    "hour_edges",
    "hourly_table",
    "rate_episodes",
    "clock_of",
]


def _valid_rr(
    series: BeatSeries, max_rr_s: float, exclude: list[tuple[float, float]] | None = None
) -> np.ndarray:
    """RR intervals used in rate averages: not across excluded time, at most ``max_rr_s``,
    and not overlapping any of the ``exclude`` spans (seconds)."""
    rr = series.rr
    ok = ~np.isnan(rr)
    ok[ok] = rr[ok] <= max_rr_s
    t = series.t
    for a, b in exclude or ():
        # the interval ending at beat i spans (t[i-1], t[i]]: it overlaps [a, b] when
        # t[i] >= a and t[i-1] <= b, i.e. beats i0 .. i1 with t[i0] >= a, t[i1 - 1] <= b
        i0 = int(np.searchsorted(t, a, side="left"))
        i1 = int(np.searchsorted(t, b, side="right")) + 1
        ok[i0 : min(i1, ok.size)] = False
    return ok


def running_rate(
    series: BeatSeries,
    params: RateParams | None = None,
    exclude: list[tuple[float, float]] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The running average used for min/max: ``(time_s, bpm)`` of every valid window.

    RR intervals overlapping an ``exclude`` span (seconds) are left out, like pauses: a
    window keeps the rate of its other intervals if they still fill 80 % of it
    (``"window"`` basis), a ``"beats"`` average holding one is skipped.
    """
    p = params or RateParams()
    t = series.t
    if t.size < 2:
        return np.zeros(0), np.zeros(0)
    rr = np.nan_to_num(series.rr, nan=0.0)
    ok = _valid_rr(series, p.max_rr_s, exclude)
    rr = np.where(ok, rr, 0.0)
    c_rr = np.concatenate([[0.0], np.cumsum(rr)])
    c_n = np.concatenate([[0], np.cumsum(ok)])
    seg_lo = segment_bounds(series.seg)[0]
    i = np.arange(t.size)
    if p.minmax_basis == "window":
        w = p.minmax_window_s
        j = np.maximum(np.searchsorted(t, t - w, side="right"), seg_lo + 1)
        total = c_rr[i + 1] - c_rr[j]
        count = c_n[i + 1] - c_n[j]
        good = (j <= i) & (total >= 0.8 * w) & (count > 0)
        bpm = 60.0 * count[good] / total[good]
        return t[good] - w / 2.0, bpm
    k = p.minmax_beats
    j = i - k + 1
    good = (j >= seg_lo + 1) & (j >= 1)
    jj = np.where(good, j, 0)
    count = c_n[i + 1] - c_n[jj]
    good &= count == k
    total = c_rr[i + 1] - c_rr[jj]
    bpm = 60.0 * k / total[good]
    centre = 0.5 * (t[i[good]] + t[jj[good] - 1])
    return centre, bpm


def clock_of(start_time: _dt.datetime | None, time_s: float | None) -> str | None:
    """ISO wall-clock time of ``time_s`` seconds after ``start_time`` (None if unknown)."""
    if start_time is None or time_s is None:
        return None
    return (start_time + _dt.timedelta(seconds=float(time_s))).isoformat(timespec="seconds")


def _extremes(
    times: np.ndarray, bpm: np.ndarray, start_time: _dt.datetime | None
) -> tuple[RatePoint, RatePoint]:
    if bpm.size == 0:
        return RatePoint(), RatePoint()
    lo, hi = int(np.argmin(bpm)), int(np.argmax(bpm))
    return (
        RatePoint(float(bpm[lo]), float(times[lo]), clock_of(start_time, times[lo])),
        RatePoint(float(bpm[hi]), float(times[hi]), clock_of(start_time, times[hi])),
    )


def _basis(p: RateParams) -> str:
    if p.minmax_basis == "window":
        return f"{p.minmax_window_s:g} s window"
    return f"{p.minmax_beats} beats"


def heart_rate_summary(
    series: BeatSeries,
    params: RateParams | None = None,
    running: tuple[np.ndarray, np.ndarray] | None = None,
    arrhythmia: list[tuple[float, float]] | None = None,
) -> HeartRateSummary:
    """Min/mean/max heart rate over the analysable time (see the module conventions).

    ``sinus_min``/``sinus_max`` are the extremes of the same running average without the RR
    intervals that overlap the ``arrhythmia`` spans (seconds; :func:`holterlab.rhythm.\
analyze_rhythm` passes the AF/flutter episodes and the VT, IVR, SVT and slow S runs), so a
    fast AF or a VT run, which sets ``max``, does not hide the fastest sinus rate. Without
    spans they equal ``min``/``max``.
    """
    p = params or RateParams()
    times, bpm = running if running is not None else running_rate(series, p)
    lo, hi = _extremes(times, bpm, series.start_time)
    if arrhythmia:
        s_lo, s_hi = _extremes(*running_rate(series, p, arrhythmia), series.start_time)
    else:
        s_lo, s_hi = lo, hi
    mean = 60.0 * series.n / series.analysable_s if series.analysable_s > 0 else None
    return HeartRateSummary(
        n_beats=series.n,
        analysable_s=series.analysable_s,
        mean_bpm=mean,
        min=lo,
        max=hi,
        basis=_basis(p),
        sinus_min=s_lo,
        sinus_max=s_hi,
    )


def _seconds_of_day(start_time: _dt.datetime) -> float:
    return (
        start_time.hour * 3600.0
        + start_time.minute * 60.0
        + start_time.second
        + start_time.microsecond / 1e6
    )


def _is_day(clock_s: np.ndarray, p: RateParams) -> np.ndarray:
    sod = np.mod(clock_s, 86400.0)
    a, b = p.day_start_h * 3600.0, p.night_start_h * 3600.0
    if a < b:
        return (sod >= a) & (sod < b)
    return (sod >= a) | (sod < b)


def day_night(
    series: BeatSeries,
    params: RateParams | None = None,
    running: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[PeriodSummary | None, PeriodSummary | None]:
    """Day and night summaries, or ``(None, None)`` without a start time."""
    p = params or RateParams()
    if series.start_time is None:
        return None, None
    times, bpm = running if running is not None else running_rate(series, p)
    sod0 = _seconds_of_day(series.start_time)
    dur = series.duration_s
    # period boundaries (day start / night start) inside the recording
    marks = []
    for h in (p.day_start_h, p.night_start_h):
        first = (h * 3600.0 - sod0) % 86400.0
        marks.append(np.arange(first, dur, 86400.0))
    edges = np.unique(np.concatenate([[0.0, dur], *marks]))
    edges = edges[(edges >= 0) & (edges <= dur)]
    mids = 0.5 * (edges[:-1] + edges[1:])
    day_piece = _is_day(sod0 + mids, p)
    avail = np.diff(analysable_before(edges, series.excluded))
    # beats and running-rate points per piece (both time series are sorted)
    beat_cut = np.searchsorted(series.t, edges, side="left")
    beat_cut[-1] = series.n
    beats_per_piece = np.diff(beat_cut)
    run_cut = np.searchsorted(times, edges, side="left")
    run_cut[-1] = times.size
    out = []
    for name, flag, start_h, end_h in (
        ("day", True, p.day_start_h, p.night_start_h),
        ("night", False, p.night_start_h, p.day_start_h),
    ):
        pieces = np.flatnonzero(day_piece == flag)
        a_s = float(avail[pieces].sum())
        n = int(beats_per_piece[pieces].sum())
        sel = np.concatenate([np.arange(run_cut[k], run_cut[k + 1]) for k in pieces] or [[]])
        sel = sel.astype(np.int64)
        lo, hi = _extremes(times[sel], bpm[sel], series.start_time)
        out.append(
            PeriodSummary(
                name=name,
                start_h=start_h,
                end_h=end_h,
                analysable_s=a_s,
                n_beats=n,
                mean_bpm=60.0 * n / a_s if a_s > 0 else None,
                min=lo,
                max=hi,
            )
        )
    return out[0], out[1]


def hour_edges(duration_s: float, start_time: _dt.datetime | None) -> np.ndarray:
    """Edges of the hourly rows: clock hours when the start time is known."""
    first = 3600.0
    if start_time is not None:
        first = 3600.0 - (_seconds_of_day(start_time) % 3600.0)
    inner = np.arange(first, duration_s, 3600.0)
    inner = inner[(inner > 0) & (inner < duration_s)]
    return np.concatenate([[0.0], inner, [duration_s]]) if duration_s > 0 else np.zeros(1)


def _count_in_bins(times: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Count of ``times`` in ``[edges[k], edges[k+1])`` (the last bin includes its end)."""
    nb = edges.size - 1
    if nb <= 0:
        return np.zeros(0, dtype=np.int64)
    k = np.searchsorted(edges, times, side="right") - 1
    k = np.clip(k, 0, nb - 1)
    return np.bincount(k, minlength=nb)[:nb]


def hourly_table(
    series: BeatSeries,
    running: tuple[np.ndarray, np.ndarray],
    *,
    v_times: np.ndarray,
    s_times: np.ndarray,
    pause_times: np.ndarray,
    af_spans: list[tuple[float, float]],
) -> list[HourRow]:
    """One :class:`HourRow` per (clock) hour; the columns sum to the recording totals."""
    edges = hour_edges(series.duration_s, series.start_time)
    nb = edges.size - 1
    if nb <= 0:
        return []
    avail = np.diff(analysable_before(edges, series.excluded))
    beats = _count_in_bins(series.t, edges)
    v = _count_in_bins(np.asarray(v_times, dtype=float), edges)
    s = _count_in_bins(np.asarray(s_times, dtype=float), edges)
    pa = _count_in_bins(np.asarray(pause_times, dtype=float), edges)
    af = np.zeros(nb)
    for a, b in af_spans:
        lo = np.clip(edges[:-1], a, b)
        hi = np.clip(edges[1:], a, b)
        af += np.diff(analysable_before(np.stack([lo, hi]), series.excluded), axis=0)[0]
    times, bpm = running  # times are increasing
    cut = np.searchsorted(times, edges, side="left")
    cut[-1] = times.size
    rows = []
    for k in range(nb):
        sel = bpm[cut[k] : cut[k + 1]]
        rows.append(
            HourRow(
                index=k,
                start_s=float(edges[k]),
                end_s=float(edges[k + 1]),
                clock=clock_of(series.start_time, edges[k]),
                analysable_s=float(avail[k]),
                n_beats=int(beats[k]),
                min_bpm=float(sel.min()) if sel.size else None,
                mean_bpm=60.0 * beats[k] / avail[k] if avail[k] > 0 else None,
                max_bpm=float(sel.max()) if sel.size else None,
                v_beats=int(v[k]),
                s_beats=int(s[k]),
                pauses=int(pa[k]),
                af_s=float(af[k]),
            )
        )
    return rows


def _centred_rate(series: BeatSeries, k: int, max_rr_s: float) -> np.ndarray:
    """Rate at each beat from the ``k`` RR intervals centred on it (NaN near gaps)."""
    t = series.t
    n = t.size
    out = np.full(n, np.nan)
    if n < k + 1:
        return out
    ok = _valid_rr(series, max_rr_s)
    c_ok = np.concatenate([[0], np.cumsum(ok)])
    i = np.arange(n)
    a = i - k // 2  # first beat of the window
    b = a + k  # last beat of the window
    good = (a >= 0) & (b < n)
    aa, bb = np.where(good, a, 0), np.where(good, b, 0)
    # intervals ending at beats a+1..b must all be valid
    good &= (c_ok[bb + 1] - c_ok[aa + 1]) == k
    out[good] = 60.0 * k / (t[bb[good]] - t[aa[good]])
    return out


def _inside(t: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    """Which times lie in any of the closed ``spans``."""
    out = np.zeros(t.size, dtype=bool)
    for a, b in spans:
        out[np.searchsorted(t, a, side="left") : np.searchsorted(t, b, side="right")] = True
    return out


def rate_episodes(
    series: BeatSeries,
    params: RateParams | None = None,
    *,
    exclude: list[tuple[float, float]] | None = None,
    skip: list[tuple[float, float]] | None = None,
) -> list[Event]:
    """Bradycardia and tachycardia episodes (``brady`` / ``tachy`` events).

    ``rate_bpm`` is the mean rate of the episode (beats per minute of episode time) and
    ``detail`` holds the extreme running rate (``min_rate_bpm`` / ``max_rate_bpm``). Beats in
    the ``exclude`` spans (seconds, closed; e.g. AF episodes) belong to no episode: an
    episode never spans them. Beats in the ``skip`` spans (short ectopic runs) belong to no
    episode either, but an episode may continue across them.
    """
    p = params or RateParams()
    rate = _centred_rate(series, p.episode_average_beats, p.max_rr_s)
    t = series.t
    allowed = ~_inside(t, exclude or [])
    kept = np.flatnonzero(~_inside(t, skip or []))  # beats that take part
    events: list[Event] = []
    for kind, mask, min_dur in (
        ("brady", (rate < p.brady_bpm) & allowed, p.brady_min_duration_s),
        ("tachy", (rate > p.tachy_bpm) & allowed, p.tachy_min_duration_s),
    ):
        first, last = runs_of(mask[kept], series.seg[kept])
        first, last = kept[first], kept[last]
        for a, b in zip(first, last, strict=True):
            start, end = float(t[a]), float(t[b])
            if end - start < min_dur or b == a:
                continue
            r = rate[a : b + 1]
            extreme = float(r.min() if kind == "brady" else r.max())
            key = "min_rate_bpm" if kind == "brady" else "max_rate_bpm"
            events.append(
                Event(
                    kind,
                    start,
                    end,
                    rate_bpm=60.0 * (b - a) / (end - start),
                    n_beats=int(b - a + 1),
                    detail={key: round(extreme, 1)},
                )
            )
    events.sort(key=lambda e: e.start_s)
    return events
