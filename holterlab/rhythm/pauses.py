"""Pauses and sinus arrest.

A pause is an RR interval of at least ``PauseParams.pause_s`` between two beats of one
analysable segment: an interval across excluded (noise, lead-off) time is never a pause,
because beats may be missing there. Each pause gets a ``kind`` (``detail["kind"]``):

``"af"``
    inside an AF/flutter episode (a long ventricular cycle of AF, not sinus arrest);
``"post_ectopic"``
    the beat before the pause is S, V, F or Q (post-extrasystolic pause);
``"sa_block"``
    both beats are N and the pause is within ``block_tolerance`` of a whole multiple
    (x2, x3, ...) of the underlying sinus cycle, the median of up to 8 preceding N-N
    intervals shorter than the pause threshold (sino-atrial exit block: the sinus node kept
    firing, the impulses did not conduct);
``"sinus_arrest"``
    both beats are N and the pause is not such a multiple (the sinus node stopped);
``"other"``
    the closing beat is not N (escape beat) or the sinus cycle is unknown.

``detail["sinus_arrest"]`` is true for kind ``"sinus_arrest"`` pauses of at least
``sinus_arrest_s``. Without P-wave information this is the usual RR-based approximation.
"""

from __future__ import annotations

import numpy as np

from holterlab.events import Event
from holterlab.params.rhythm import PauseParams
from holterlab.rhythm._input import CODE, BeatSeries
from holterlab.rhythm.result import PauseSummary

__all__ = ["find_pauses", "pause_summary"]

_N = CODE["N"]


def _in_spans(times: np.ndarray, spans: list[tuple[float, float]]) -> np.ndarray:
    if not spans:
        return np.zeros(times.size, dtype=bool)
    arr = np.asarray(sorted(spans), dtype=np.float64)
    k = np.searchsorted(arr[:, 0], times, side="right") - 1
    return (k >= 0) & (times <= arr[np.maximum(k, 0), 1])


def find_pauses(
    series: BeatSeries,
    params: PauseParams | None = None,
    af_spans: list[tuple[float, float]] | None = None,
) -> list[Event]:
    """Pause events (type ``pause``) with ``detail = {"rr_s", "kind", "sinus_arrest"}``."""
    p = params or PauseParams()
    t, code, seg = series.t, series.code, series.seg
    if t.size < 2:
        return []
    rr = np.diff(t)
    same = seg[1:] == seg[:-1]
    # RR >= pause_s, tolerant of rounding in sample / fs (1 us, far below one sample)
    long_rr = rr >= p.pause_s - 1e-6
    idx = np.flatnonzero(same & long_rr)  # pause between beats idx and idx+1
    if idx.size == 0:
        return []
    mid = 0.5 * (t[idx] + t[idx + 1])
    in_af = _in_spans(mid, af_spans or [])
    nn = same & (code[1:] == _N) & (code[:-1] == _N) & ~long_rr
    events = []
    for i, af in zip(idx.tolist(), in_af.tolist(), strict=True):
        r = float(rr[i])
        before, after = int(code[i]), int(code[i + 1])
        cycle = None
        if af:
            kind = "af"
        elif before != _N:
            kind = "post_ectopic"
        elif after != _N:
            kind = "other"
        else:
            # up to 8 preceding N-N intervals of the same segment
            lo = max(0, i - 16)
            prev = np.flatnonzero(nn[lo:i] & (seg[lo + 1 : i + 1] == seg[i]))
            if prev.size:
                cycle = float(np.median(rr[lo:i][prev[-8:]]))
            if cycle is None:
                kind = "other"
            else:
                ratio = r / cycle
                k = round(ratio)
                kind = (
                    "sa_block"
                    if k >= 2 and abs(ratio / k - 1.0) <= p.block_tolerance
                    else "sinus_arrest"
                )
        detail = {
            "rr_s": round(r, 3),
            "kind": kind,
            "sinus_arrest": kind == "sinus_arrest" and r >= p.sinus_arrest_s,
        }
        if cycle is not None:
            detail["sinus_cycle_s"] = round(cycle, 3)
        events.append(Event("pause", float(t[i]), float(t[i + 1]), n_beats=2, detail=detail))
    return events


def pause_summary(events: list[Event], params: PauseParams | None = None) -> PauseSummary:
    """Counts, longest pause and counts by kind."""
    p = params or PauseParams()
    pauses = [e for e in events if e.type == "pause"]
    by_kind: dict[str, int] = {}
    for e in pauses:
        by_kind[e.detail["kind"]] = by_kind.get(e.detail["kind"], 0) + 1
    longest = max(pauses, key=lambda e: e.duration_s, default=None)
    return PauseSummary(
        threshold_s=p.pause_s,
        count=len(pauses),
        sinus_arrests=sum(bool(e.detail.get("sinus_arrest")) for e in pauses),
        longest_s=None if longest is None else longest.duration_s,
        longest_start_s=None if longest is None else longest.start_s,
        by_kind=dict(sorted(by_kind.items())),
    )
