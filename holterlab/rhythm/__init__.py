"""Rhythm and event analysis from beat times and AAMI labels alone.

Works on any beat annotation (with or without the signal): heart-rate summary with day/night
and an hourly table, brady/tachycardia, pauses and sinus arrest, ventricular and
supraventricular ectopy (isolated, couplets, triplets, VT/IVR/SVT runs, bigeminy,
trigeminy, burden) and atrial fibrillation episodes from RR irregularity.

>>> from holterlab.rhythm import analyze_rhythm, rhythm_annotations
>>> result = analyze_rhythm(beats, labels, fs, start_time=start)   # doctest: +SKIP
>>> result.to_dict()["af"]["burden_pct"]                            # doctest: +SKIP
>>> ann = rhythm_annotations(result, fs)                            # '+' (AFIB ... (N

Modules: :mod:`~holterlab.rhythm.rate`, :mod:`~holterlab.rhythm.pauses`,
:mod:`~holterlab.rhythm.ectopy`, :mod:`~holterlab.rhythm.af`,
:mod:`~holterlab.rhythm.annotate`, :mod:`~holterlab.rhythm.result`.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

import numpy as np

from holterlab.errors import ParameterError
from holterlab.params.rhythm import RhythmParams
from holterlab.rhythm._input import CODE, LABELS, prepare
from holterlab.rhythm.af import AtrialActivity, af_burden, apply_atrial_activity, detect_af
from holterlab.rhythm.annotate import RHYTHM_CODES, rhythm_annotations
from holterlab.rhythm.ectopy import af_precedence, analyze_ectopy, effective_codes
from holterlab.rhythm.pauses import find_pauses, pause_summary
from holterlab.rhythm.rate import (
    day_night,
    heart_rate_summary,
    hourly_table,
    rate_episodes,
    running_rate,
)
from holterlab.rhythm.result import AFSummary, RhythmResult

__all__ = [
    "af_precedence",
    "analyze_rhythm",
    "rhythm_annotations",
    "RhythmResult",
    "AtrialActivity",
    "RHYTHM_CODES",
]


def _params(params: Any) -> RhythmParams:
    if params is None:
        return RhythmParams()
    if isinstance(params, RhythmParams):
        return params
    if isinstance(params, dict):
        return RhythmParams.from_dict(params)
    raise ParameterError(
        f"params must be a RhythmParams, a dict of rhythm parameters or None, got {params!r}"
    )


def _af_summary(episodes, series) -> AFSummary:
    af = [e for e in episodes if e.type == "af"]
    afl = [e for e in episodes if e.type == "afl"]
    both = af + afl
    total = float(sum(e.duration_s for e in both))
    beats = sum(max((e.n_beats or 1) - 1, 0) for e in both)
    return AFSummary(
        episodes=len(af),
        total_s=float(sum(e.duration_s for e in af)),
        burden_pct=af_burden(both, series),
        mean_rate_bpm=60.0 * beats / total if total > 0 else None,
        longest_s=max((e.duration_s for e in af), default=None),
        afl_episodes=len(afl),
        afl_s=float(sum(e.duration_s for e in afl)),
        afl_burden_pct=af_burden(afl, series, ("afl",)),
        method="RR irregularity (holterlab.rhythm.af)",
    )


#: Ectopic run events that are not sinus rhythm (left out of brady/tachy and sinus rates).
_RUN_TYPES = ("vt", "ivr", "svt", "s_run")


def analyze_rhythm(
    beats,
    labels,
    fs: float,
    *,
    params: RhythmParams | dict | None = None,
    excluded=None,
    start_time: _dt.datetime | None = None,
    duration_s: float | None = None,
    atrial_activity: AtrialActivity | None = None,
) -> RhythmResult:
    """Rhythm and event analysis of a beat sequence.

    Event conventions: ectopic beats of one class in a row are couplets (2), triplets (3) and
    runs (>= ``ectopy.run_min_beats``, default 4: VT/IVR, SVT/slow S run); brady/tachycardia
    are sinus rate episodes that leave out AF/flutter episodes and ectopic runs (see
    :class:`holterlab.params.rhythm.RhythmParams`).

    Parameters
    ----------
    beats
        Beat sample indices (int64, strictly increasing).
    labels
        One AAMI class per beat: ``N S V F Q`` (MIT-BIH beat symbols are mapped).
    fs
        Sampling rate of ``beats`` (Hz).
    params
        :class:`holterlab.params.rhythm.RhythmParams` (or its dict form); defaults if None.
    excluded
        ``(start_s, end_s)`` intervals of unanalysable signal. Beats inside are ignored;
        nothing spans them (no pause, run or RR interval across excluded time).
    start_time
        Wall-clock time of the recording start: gives clock times, clock hours in the hourly
        table, and the day/night split.
    duration_s
        Recording duration (default: the last beat). Analysable time = duration - excluded.
    atrial_activity
        Optional atrial-activity evidence from the signal (flutter detection; see
        :func:`holterlab.rhythm.af.apply_atrial_activity`).

    Returns
    -------
    RhythmResult
    """
    p = _params(params)
    series = prepare(
        beats, labels, fs, excluded=excluded, start_time=start_time, duration_s=duration_s
    )
    af_events = apply_atrial_activity(detect_af(series, p.af), series, atrial_activity, p.af)
    af_spans = [(e.start_s, e.end_s) for e in af_events]
    v_sum, s_sum, ectopy_events = analyze_ectopy(series, p.ectopy, af_spans)
    pause_events = find_pauses(series, p.pause, af_spans)
    running = running_rate(series, p.rate)
    runs = [(e.start_s, e.end_s) for e in ectopy_events if e.type in _RUN_TYPES]
    hr = heart_rate_summary(series, p.rate, running, arrhythmia=af_spans + runs)
    day, night = day_night(series, p.rate, running)
    breaking: list[tuple[float, float]] = []
    skipped: list[tuple[float, float]] = []
    if p.rate.rate_episodes_exclude_arrhythmia:
        # brady/tachy are sinus episodes: AF/flutter ends them, short ectopic runs are skipped
        breaking = list(af_spans)
        for e in ectopy_events:
            if e.type in _RUN_TYPES:
                short = e.end_s - e.start_s <= p.rate.rate_episodes_bridge_s
                (skipped if short else breaking).append((e.start_s, e.end_s))
    rate_events = rate_episodes(series, p.rate, exclude=breaking, skip=skipped)
    code = effective_codes(series, af_spans, p.ectopy.af_onset_s)
    hourly = hourly_table(
        series,
        running,
        v_times=series.t[code == CODE["V"]],
        s_times=series.t[code == CODE["S"]],
        pause_times=np.array([e.start_s for e in pause_events]),
        af_spans=af_spans,
    )
    events = sorted(
        af_events + ectopy_events + pause_events + rate_events,
        key=lambda e: (e.start_s, e.end_s, e.type),
    )
    counts = np.bincount(series.code.astype(np.int64), minlength=len(LABELS))
    return RhythmResult(
        duration_s=series.duration_s,
        analysable_s=series.analysable_s,
        start_time=start_time,
        n_beats=series.n,
        n_excluded_beats=series.n_dropped,
        label_counts={str(k): int(v) for k, v in zip(LABELS, counts, strict=True)},
        heart_rate=hr,
        day=day,
        night=night,
        ventricular=v_sum,
        supraventricular=s_sum,
        pauses=pause_summary(pause_events, p.pause),
        af=_af_summary(af_events, series),
        hourly=hourly,
        events=events,
        params=p,
    )
