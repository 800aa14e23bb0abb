"""Atrial fibrillation (and, with atrial-activity evidence, flutter) from RR intervals.

Method
------
AF is recognised by the irregularity of the ventricular response, measured in a way that
ectopic beats and bigeminal/trigeminal patterns do not imitate. The design follows the
RR-based detectors of Petrėnas, Marozas & Sörnmo (2015, "Low-complexity detection of atrial
fibrillation in continuous long-term monitoring", Comput Biol Med 65:184-191: ectopic-beat
removal, bigeminy suppression, a median of absolute successive RR differences normalised by
the heart rate) and Dash et al. (2009, "Automatic real time detection of atrial fibrillation",
Ann Biomed Eng 37:1701-1709: normalised successive-difference irregularity over a window);
it is a re-design in their spirit, not a reproduction of either:

1. Ectopic-beat removal: RR intervals touching a V, F or Q beat, and by default (``s_intervals
   = "exclude"``) an S beat, are left out, as are intervals shorter than ``min_rr_s``, longer
   than ``max_rr_s`` or across excluded time. The window then holds N-N intervals only:
   sinus rhythm with frequent APCs has regular N-N intervals, AF irregular ones however many
   of its beats a classifier calls S (it only needs some N-N intervals in the window).
2. For each remaining interval ``r[j]`` and lag ``k = 1..lags`` (counted in the sequence of
   remaining intervals) the relative difference ``d_k[j] = |r[j] - r[j-k]| / ((r[j] +
   r[j-k]) / 2)``.
3. Window decision: over a centred window of ``window_beats`` remaining intervals (never
   across excluded time) the median of ``d_k`` must reach the threshold *at every lag*,
   computed as "more than half of the window's ``d_k >= threshold``" (a numba sliding
   count). A bigeminal short-long pattern has ``d_2 ~ 0`` and trigeminy ``d_3 ~ 0``
   (Petrėnas' bigeminy suppression in another form); AF differs at every lag; the median
   ignores isolated irregular intervals.
4. Hysteresis: an episode starts where the window decision holds at ``threshold`` and lasts
   while it holds at ``exit_threshold``.
5. Boundary refinement: a centred median moves the boundary late when the AF is only
   moderately irregular, so within half a window of each boundary it is moved to the change
   point of ``z = (d_1 >= threshold)`` (the cumulative sum of ``z - 0.5`` at its minimum for
   an onset, maximum for an offset).
6. Episodes closer than ``merge_gap_s`` are merged, episodes shorter than ``min_duration_s``
   dropped.

Defaults (``window_beats=32, lags=3, threshold=0.08, exit_threshold=0.07``) were chosen on
MIT-BIH DS1 (reference beats) and on synthetic RR series; measured figures are in the tests
(``tests/rhythm/test_af.py``) and ``benchmarks/rhythm.py``.

Known limits: frequent blocked and conducted APCs give irregular N-N intervals and read as
AF (MIT-BIH 201 before its AF onset); AF with an unusually regular ventricular response
(RR coefficient of variation below ~0.1) is missed.

Flutter
-------
Atrial flutter with fixed (e.g. 2:1) conduction gives a *regular* ventricular response, which
RR intervals cannot tell from sinus tachycardia; flutter with variable conduction is
irregular and is detected as AF here. :func:`apply_atrial_activity` is the hook for a
signal stage that measures atrial activity (F/flutter waves, P waves): given an
:class:`AtrialActivity` it relabels AF episodes with organised atrial activity at flutter
rate as ``afl``, adds regular flutter episodes, and drops "AF" where P waves are present.
Without it no ``afl`` episodes are reported.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from holterlab.errors import ParameterError
from holterlab.events import Event
from holterlab.params.rhythm import AFParams
from holterlab.rhythm._input import CODE, BeatSeries, segment_bounds
from holterlab.rhythm.runs import merge_spans, runs_of

__all__ = [
    "AtrialActivity",
    "rr_irregularity",
    "irregularity_trace",
    "detect_af",
    "sinus_ectopy_mask",
    "apply_atrial_activity",
    "af_burden",
]


@dataclass(frozen=True)
class AtrialActivity:
    """Atrial-activity evidence measured on the signal (filled by a signal stage).

    All arrays have one value per measurement window.

    Attributes
    ----------
    time_s
        Window centres, seconds from the recording start (increasing).
    atrial_rate_bpm
        Dominant atrial rate (flutter/fibrillatory waves), NaN where none was measured.
    organisation
        0..1: how organised (flutter-like, periodic) the atrial activity is; 0 = fibrillatory.
    p_wave_fraction
        Optional 0..1: fraction of beats with a normal P wave before the QRS.
    """

    time_s: np.ndarray
    atrial_rate_bpm: np.ndarray
    organisation: np.ndarray
    p_wave_fraction: np.ndarray | None = None


def rr_irregularity(
    series: BeatSeries, params: AFParams | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Relative RR differences at each lag (steps 1-2 of the method).

    Returns
    -------
    beat_index
        Index (into ``series.t``) of the beat ending each usable interval.
    d
        Shape ``(lags, n)``: ``d[k-1, j] = |r[j] - r[j-k]| / ((r[j] + r[j-k]) / 2)`` in the
        sequence of usable intervals, NaN where ``r[j-k]`` is in another segment or missing.
    seg
        Segment of each usable interval.
    """
    p = params or AFParams()
    t, code, seg = series.t, series.code, series.seg
    if t.size < 2:
        return np.zeros(0, np.int64), np.zeros((p.lags, 0)), np.zeros(0, np.int64)
    rr = np.diff(t)
    ok_beat = code == CODE["N"]
    if p.s_intervals == "include":
        ok_beat = ok_beat | (code == CODE["S"])
    usable = (
        (seg[1:] == seg[:-1]) & ok_beat[1:] & ok_beat[:-1] & (rr >= p.min_rr_s) & (rr <= p.max_rr_s)
    )
    idx = np.flatnonzero(usable) + 1
    r = rr[usable]
    s = seg[idx]
    d = np.full((p.lags, r.size), np.nan)
    for k in range(1, p.lags + 1):
        if r.size <= k:
            break
        rel = np.abs(r[k:] - r[:-k]) / (0.5 * (r[k:] + r[:-k]))
        rel[s[k:] != s[:-k]] = np.nan
        d[k - 1, k:] = rel
    return idx, d, s


def _af_scores(
    d: np.ndarray, s: np.ndarray, p: AFParams, thresholds: tuple[float, ...]
) -> np.ndarray:
    """For each threshold: the smallest, over the lags, fraction of the window's relative
    differences ``>= threshold`` (centred window of ``window_beats`` usable intervals, clipped
    to the segment); shape ``(len(thresholds), n)``.

    A score ``> 0.5`` means the median relative difference at every lag reaches the
    threshold. NaN where a window holds fewer than ``max(4, window_beats // 2)`` values.
    """
    from holterlab.rhythm._kernels import window_scores

    half = p.window_beats // 2
    return window_scores(
        np.ascontiguousarray(d, dtype=np.float64),
        np.ascontiguousarray(s, dtype=np.int64),
        half,
        p.window_beats - half - 1,
        max(4, p.window_beats // 2),
        np.asarray(thresholds, dtype=np.float64),
    )


def irregularity_trace(
    series: BeatSeries, params: AFParams | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """AF score of every usable RR interval (step 3): ``(beat_index, score)``.

    The score is the smallest, over the lags, fraction of the window's relative RR
    differences at or above ``threshold``: AF where it is at least 0.5 (the median reaches the
    threshold at every lag). Bigeminy (lag 2) and trigeminy (lag 3) score near 0.
    """
    p = params or AFParams()
    idx, d, s = rr_irregularity(series, p)
    return idx, _af_scores(d, s, p, (p.threshold,))[0]


def _episodes_from_mask(
    start_t: np.ndarray,
    end_t: np.ndarray,
    seg: np.ndarray,
    mask: np.ndarray,
    merge_gap_s: float,
    min_duration_s: float,
) -> list[tuple[float, float]]:
    """Runs of ``mask`` within a segment as (start, end) times, merged and length-filtered."""
    first, last = runs_of(mask, seg)
    if first.size == 0:
        return []
    s, e = merge_spans(start_t[first], end_t[last], seg[first], merge_gap_s)
    keep = (e - s) >= min_duration_s
    return [(float(a), float(b)) for a, b in zip(s[keep], e[keep], strict=True)]


def _hysteresis(enter: np.ndarray, stay: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """Runs of ``stay`` (within a segment) that contain at least one ``enter``."""
    first, last = runs_of(stay | enter, seg)
    mask = np.zeros(enter.size, dtype=bool)
    if first.size == 0:
        return mask
    c = np.concatenate([[0], np.cumsum(enter)])
    keep = c[last + 1] > c[first]
    for a, b in zip(first[keep], last[keep], strict=True):
        mask[a : b + 1] = True
    return mask


def _refine(
    first: np.ndarray,
    last: np.ndarray,
    d1: np.ndarray,
    seg: np.ndarray,
    p: AFParams,
    sinus: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Move each episode boundary to the most likely change point nearby.

    The windowed score puts a boundary late when the AF is only moderately irregular (the
    median needs more than half the window). Within half a window of each boundary,
    ``z = (lag-1 relative difference >= threshold)`` is mostly 1 in AF and mostly 0 outside;
    the onset moves to where the cumulative sum of ``z - 0.5`` is smallest and the offset to
    where it is largest: the change point that best splits the irregular from the regular
    intervals.
    """
    z = (np.nan_to_num(d1, nan=0.0) >= p.threshold).astype(np.float64) - 0.5
    if sinus is not None:
        z[sinus] = -0.5  # sinus rhythm with APCs (step 4b) counts as regular
    n, h = z.size, p.window_beats // 2
    seg_first, seg_stop = segment_bounds(seg)
    seg_last = seg_stop - 1
    new_first, new_last = first.copy(), last.copy()
    for k, (a, b) in enumerate(zip(first, last, strict=True)):
        lo, hi = max(seg_first[a], a - h), min(b, a + h, n - 1)
        c = np.concatenate([[0.0], np.cumsum(z[lo : hi + 1])])
        new_first[k] = lo + int(np.argmin(c))
        lo, hi = max(a, b - h), min(seg_last[b], b + h)
        c = np.concatenate([[0.0], np.cumsum(z[lo : hi + 1])])
        new_last[k] = lo + int(np.argmax(c)) - 1
    ok = new_last >= new_first
    return new_first[ok], new_last[ok]


def sinus_ectopy_mask(series: BeatSeries, params: AFParams | None = None) -> np.ndarray:
    """Beats in stretches of sinus rhythm with frequent atrial premature beats (step 4b).

    A premature atrial beat resets the sinus node, so the interval from an S beat to the next
    N beat (the return cycle) is nearly constant in sinus rhythm, however irregular the
    ectopy (and blocked APCs) make the N-N intervals; in AF the interval after a beat a
    classifier calls S is as random as any other. Wherever ``return_cycle_count``
    consecutive S-to-N return cycles of one segment, with APCs frequent enough to leave few
    N-N intervals (at most ``return_cycle_spacing`` beats per S beat on average),

    * have a median absolute deviation below ``return_cycle_mad`` of their median, and
    * a median at least ``return_cycle_ratio`` times the median coupling interval (the
      interval before the S beat): clearly premature beats followed by a reset pause,

    the beats they span are marked (True). ``return_cycle_mad = 0`` disables the test.
    The second condition separates true APCs from AF beats a classifier calls S because
    their interval was short: in AF the next interval is no longer than usual (ratio about
    1.3-1.7 on the holterlab.synth benchmark with classifier labels, 2.6-2.9 in MIT-BIH 201
    before its AF onset).
    """
    p = params or AFParams()
    t, code, seg = series.t, series.code, series.seg
    mask = np.zeros(t.size, dtype=bool)
    k = p.return_cycle_count
    if p.return_cycle_mad <= 0 or t.size < 2:
        return mask
    same = seg[1:] == seg[:-1]
    # S beats with a preceding beat and a following N beat, all in one segment
    i = (
        np.flatnonzero((code[1:-1] == CODE["S"]) & (code[2:] == CODE["N"]) & same[1:] & same[:-1])
        + 1
    )
    if i.size < k:
        return mask
    rc = t[i + 1] - t[i]  # return cycle
    cp = t[i] - t[i - 1]  # coupling interval
    win = np.lib.stride_tricks.sliding_window_view(rc, k)
    med = np.median(win, axis=1)
    mad = np.median(np.abs(win - med[:, None]), axis=1)
    coupling = np.median(np.lib.stride_tricks.sliding_window_view(cp, k), axis=1)
    a, b = i[: i.size - k + 1], i[k - 1 :] + 1  # first S beat, last N beat of each window
    ok = (mad < p.return_cycle_mad * med) & (seg[a] == seg[b])
    ok &= med >= p.return_cycle_ratio * coupling
    ok &= (b - a) <= p.return_cycle_spacing * k
    diff = np.zeros(t.size + 1, dtype=np.int64)
    np.add.at(diff, a[ok], 1)
    np.add.at(diff, b[ok] + 1, -1)
    return np.cumsum(diff)[:-1] > 0


def detect_af(series: BeatSeries, params: AFParams | None = None) -> list[Event]:
    """AF episodes (``Event(type="af")``) from a :class:`BeatSeries`.

    Each event has ``rate_bpm`` (mean ventricular rate: beats per minute of the episode),
    ``n_beats`` and ``detail={"irregularity": median windowed irregularity}``.
    """
    p = params or AFParams()
    if not p.enabled or series.n < 3:
        return []
    idx, d, s = rr_irregularity(series, p)
    if idx.size == 0:
        return []
    enter, stay = (x > 0.5 for x in _af_scores(d, s, p, (p.threshold, p.exit_threshold)))
    sinus = sinus_ectopy_mask(series, p)[idx]
    enter &= ~sinus
    stay &= ~sinus
    mask = _hysteresis(enter, stay, s)
    first, last = runs_of(mask, s)
    if first.size == 0:
        return []
    first, last = _refine(first, last, d[0], s, p, sinus)
    order = np.argsort(first, kind="stable")
    first, last = first[order], last[order]
    t = series.t
    t_idx = t[idx]
    starts, ends = merge_spans(t[idx[first] - 1], t_idx[last], s[first], p.merge_gap_s)
    events = []
    for a, b in zip(starts, ends, strict=True):
        a, b = float(a), float(b)
        if b - a < p.min_duration_s:
            continue
        i0 = int(np.searchsorted(t, a, side="left"))
        i1 = int(np.searchsorted(t, b, side="right"))
        n_beats = i1 - i0
        j0, j1 = np.searchsorted(t_idx, [a, b], side="right")
        meds = [np.nanmedian(d[k, j0:j1]) for k in range(d.shape[0]) if j1 > j0]
        irr_med = round(float(min(meds)), 4) if meds and np.isfinite(min(meds)) else None
        rate = 60.0 * (n_beats - 1) / (b - a) if b > a else None
        events.append(
            Event("af", a, b, rate_bpm=rate, n_beats=n_beats, detail={"irregularity": irr_med})
        )
    return events


def _window_mask(activity: AtrialActivity, a: float, b: float) -> np.ndarray:
    ts = np.asarray(activity.time_s, dtype=np.float64)
    return (ts >= a) & (ts <= b)


def apply_atrial_activity(
    episodes: list[Event],
    series: BeatSeries,
    activity: AtrialActivity | None,
    params: AFParams | None = None,
) -> list[Event]:
    """Refine RR-based AF episodes with atrial-activity evidence from the signal.

    Without ``activity`` the episodes are returned unchanged (RR alone cannot show flutter).
    With it:

    * an AF episode whose windows have median ``organisation >= 0.5`` and a median atrial
      rate within ``[afl_min_atrial_bpm, afl_max_atrial_bpm]`` becomes ``afl``;
    * an AF episode whose median ``p_wave_fraction >= 0.7`` is dropped (an irregular rhythm
      with P waves is not AF);
    * outside AF, stretches of organised flutter-rate atrial activity whose ventricular rate
      is close (10 %) to the atrial rate divided by 2, 3 or 4 and that last at least
      ``min_duration_s`` become ``afl`` episodes (regular flutter with fixed conduction), and
      so do stretches where each of the 8 nearest RR intervals is 2, 3 or 4 atrial cycles
      (within 10 %: flutter with variable conduction, which the RR test may miss when the
      classifier calls its short cycles S);
    * consecutive flutter episodes whose gap still shows flutter-rate organised atrial
      activity are one episode.
    """
    p = params or AFParams()
    if activity is None:
        return list(episodes)
    ts = np.asarray(activity.time_s, dtype=np.float64)
    rate = np.asarray(activity.atrial_rate_bpm, dtype=np.float64)
    org = np.asarray(activity.organisation, dtype=np.float64)
    pw = None if activity.p_wave_fraction is None else np.asarray(activity.p_wave_fraction, float)
    if not (ts.shape == rate.shape == org.shape) or (pw is not None and pw.shape != ts.shape):
        raise ParameterError("AtrialActivity arrays must all have one value per window")
    flutter_win = (org >= 0.5) & (rate >= p.afl_min_atrial_bpm) & (rate <= p.afl_max_atrial_bpm)
    out: list[Event] = []
    for ev in episodes:
        w = _window_mask(activity, ev.start_s, ev.end_s)
        if not w.any():
            out.append(ev)
            continue
        if pw is not None and np.nanmedian(pw[w]) >= 0.7:
            continue
        if np.nanmedian(org[w]) >= 0.5:
            r = float(np.nanmedian(rate[w]))
            if p.afl_min_atrial_bpm <= r <= p.afl_max_atrial_bpm:
                detail = dict(ev.detail, atrial_rate_bpm=round(r, 1))
                out.append(
                    Event("afl", ev.start_s, ev.end_s, ev.rate_bpm, ev.n_beats, detail=detail)
                )
                continue
        out.append(ev)
    # regular flutter outside the RR-detected episodes
    t = series.t
    if t.size > 8 and flutter_win.any():
        rr = series.rr
        ok = ~np.isnan(rr)
        v_rate = np.full(ts.size, np.nan)
        multiples = np.zeros(ts.size, dtype=bool)
        tt, rv = t[ok], rr[ok]
        if rv.size >= 8:
            # ventricular rate at each window centre: median of the 8 nearest RR intervals
            near = np.lib.stride_tricks.sliding_window_view(rv, 8)
            med8 = np.median(near, axis=1)
            k = np.clip(np.searchsorted(tt, ts) - 4, 0, med8.size - 1)
            v_rate = 60.0 / med8[k]
            # variable conduction: every one of those RR intervals is 2, 3 or 4 flutter cycles
            with np.errstate(invalid="ignore", divide="ignore"):
                cycles = near[k] * (rate[:, None] / 60.0)
            whole = np.rint(cycles)
            multiples = np.all(
                (whole >= 2) & (whole <= 4) & (np.abs(cycles - whole) <= 0.1 * whole), axis=1
            )
        ratio = rate / v_rate
        conduct = multiples.copy()
        for k in (2, 3, 4):
            conduct |= np.abs(ratio - k) <= 0.1 * k
        cand = flutter_win & conduct
        if series.excluded.shape[0]:
            k = np.searchsorted(series.excluded[:, 0], ts, side="right") - 1
            cand &= ~((k >= 0) & (ts < series.excluded[np.maximum(k, 0), 1]))
        for ev in out:
            cand &= ~_window_mask(activity, ev.start_s, ev.end_s)
        if cand.any():
            step = float(np.median(np.diff(ts))) if ts.size > 1 else 0.0
            seg = np.zeros(ts.size, dtype=np.int64)
            seg[1:] = np.cumsum(np.diff(ts) > 1.5 * step) if ts.size > 1 else 0
            spans = _episodes_from_mask(
                ts - step / 2, ts + step / 2, seg, cand, step, p.min_duration_s
            )
            for a, b in spans:
                a, b = max(a, 0.0), min(b, series.duration_s)
                if b <= a:
                    continue
                n_beats = int(np.searchsorted(t, b, "right") - np.searchsorted(t, a, "left"))
                w = _window_mask(activity, a, b)
                out.append(
                    Event(
                        "afl",
                        a,
                        b,
                        rate_bpm=60.0 * max(n_beats - 1, 0) / (b - a) if b > a else None,
                        n_beats=n_beats,
                        detail={"atrial_rate_bpm": round(float(np.nanmedian(rate[w])), 1)},
                    )
                )
    out.sort(key=lambda e: e.start_s)
    return _bridge_flutter(out, series, activity, flutter_win)


def _bridge_flutter(
    episodes: list[Event], series: BeatSeries, activity: AtrialActivity, flutter_win: np.ndarray
) -> list[Event]:
    """Join consecutive flutter episodes whose gap is flutter-rate organised atrial activity.

    The atrial activity decides whether flutter goes on; the ventricular response only helps
    to find it. With variable conduction (2:1, 3:1, 4:1 alternating) a stretch of flutter can
    fail both the RR test and the fixed-ratio test and split one episode in two; where every
    atrial window of the gap still shows flutter the episode continues.
    """
    if len(episodes) < 2:
        return episodes
    t = series.t
    out = [episodes[0]]
    for ev in episodes[1:]:
        prev = out[-1]
        if prev.type == ev.type == "afl" and ev.start_s >= prev.end_s:
            w = _window_mask(activity, prev.end_s, ev.start_s)
            if w.any() and flutter_win[w].all():
                a, b = prev.start_s, max(prev.end_s, ev.end_s)
                n_beats = int(np.searchsorted(t, b, "right") - np.searchsorted(t, a, "left"))
                rate = 60.0 * max(n_beats - 1, 0) / (b - a) if b > a else None
                out[-1] = Event("afl", a, b, rate, n_beats, detail=dict(prev.detail))
                continue
        out.append(ev)
    return out


def af_burden(
    episodes: list[Event], series: BeatSeries, types: tuple[str, ...] = ("af", "afl")
) -> float | None:
    """Percentage of analysable time in episodes of ``types`` (default AF or flutter; None
    without analysable time)."""
    if series.analysable_s <= 0:
        return None
    from holterlab.rhythm._input import analysable_before

    total = 0.0
    for ev in episodes:
        if ev.type in types:
            a, b = analysable_before(np.array([ev.start_s, ev.end_s]), series.excluded)
            total += b - a
    return 100.0 * total / series.analysable_s
