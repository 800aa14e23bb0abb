"""Validated beat series shared by every rhythm module.

:func:`prepare` checks the inputs of :func:`holterlab.rhythm.analyze_rhythm` and returns a
:class:`BeatSeries`: beat times in seconds, integer label codes, the segment number of each
beat (a new segment starts wherever excluded time lies between two beats) and the merged
excluded intervals. Beats inside excluded time are dropped: nothing in unanalysable signal
is counted.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property

import numpy as np

from holterlab.annotations import AAMI_MAP
from holterlab.errors import AnnotationError, ParameterError

__all__ = ["BeatSeries", "prepare", "CODE", "LABELS", "analysable_before", "segment_bounds"]

#: Integer code of each AAMI class (``labels`` are mapped to these).
CODE = {"N": 0, "S": 1, "V": 2, "F": 3, "Q": 4}
#: AAMI class of each code.
LABELS = np.array(["N", "S", "V", "F", "Q"])


@dataclass(frozen=True)
class BeatSeries:
    """Beats in analysable time, ready for the rhythm modules.

    Attributes
    ----------
    t
        Beat times in seconds (float64, increasing).
    code
        Label code per beat (int8, see :data:`CODE`).
    seg
        Segment number per beat (int64, non-decreasing); consecutive beats of one segment
        have no excluded time between them.
    excluded
        Merged excluded intervals, shape (k, 2), seconds, clipped to ``[0, duration_s]``.
    duration_s
        Recording duration in seconds.
    analysable_s
        ``duration_s`` minus the excluded time.
    start_time
        Clock time of the recording start, or None.
    n_dropped
        Beats dropped because they lie in excluded time.
    """

    t: np.ndarray
    code: np.ndarray
    seg: np.ndarray
    excluded: np.ndarray
    duration_s: float
    analysable_s: float
    start_time: _dt.datetime | None
    n_dropped: int

    @property
    def n(self) -> int:
        return int(self.t.size)

    @cached_property
    def rr(self) -> np.ndarray:
        """RR interval ending at each beat (s); NaN for the first beat of each segment.

        Computed once; treat as read-only."""
        rr = np.full(self.n, np.nan)
        if self.n > 1:
            rr[1:] = np.diff(self.t)
            rr[1:][self.seg[1:] != self.seg[:-1]] = np.nan
        return rr


def segment_bounds(seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every element of a non-decreasing ``seg``: first index of its segment and one past
    the last (what ``searchsorted(seg, seg, "left"/"right")`` gives, in linear time)."""
    seg = np.asarray(seg)
    n = seg.size
    if n == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e.copy()
    new = np.flatnonzero(np.diff(seg)) + 1
    starts = np.concatenate([[0], new])
    stops = np.concatenate([new, [n]])
    which = np.repeat(np.arange(starts.size), stops - starts)
    return starts[which], stops[which]


def _labels_to_codes(labels: Iterable[str] | np.ndarray, n: int) -> np.ndarray:
    arr = np.asarray(labels if isinstance(labels, np.ndarray) else list(labels))
    if arr.shape != (n,):
        raise AnnotationError(f"labels must have one entry per beat ({n}), got shape {arr.shape}")
    arr = arr.astype(str)
    code = np.full(n, -1, dtype=np.int8)
    for label, c in CODE.items():
        code[arr == label] = c
    unknown = code < 0
    if unknown.any():
        # accept MIT-BIH beat symbols too, mapped to their AAMI class
        for sym, cls in AAMI_MAP.items():
            code[unknown & (arr == sym)] = CODE[cls]
        bad = np.unique(arr[code < 0])
        if bad.size:
            raise AnnotationError(
                f"unknown beat label(s) {', '.join(map(repr, bad[:5]))}: use the AAMI classes "
                "N S V F Q (or MIT-BIH beat symbols)"
            )
    return code


def _merge_excluded(excluded, duration_s: float) -> np.ndarray:
    if excluded is None:
        return np.zeros((0, 2))
    try:
        arr = np.asarray(excluded, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(
            "excluded must be a list of (start_s, end_s) pairs of numbers"
        ) from None
    if arr.size == 0:
        return np.zeros((0, 2))
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ParameterError(
            f"excluded must be a list of (start_s, end_s) pairs, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ParameterError("excluded intervals must be finite numbers of seconds")
    if np.any(arr[:, 1] < arr[:, 0]):
        raise ParameterError("an excluded interval ends before it starts (give (start_s, end_s))")
    arr = np.clip(arr, 0.0, duration_s)
    arr = arr[np.argsort(arr[:, 0], kind="stable")]
    arr = arr[arr[:, 1] > arr[:, 0]]
    if arr.shape[0] == 0:
        return np.zeros((0, 2))
    # merge overlapping or touching intervals
    run_end = np.maximum.accumulate(arr[:, 1])
    new = np.ones(arr.shape[0], dtype=bool)
    new[1:] = arr[1:, 0] > run_end[:-1]
    group = np.cumsum(new) - 1
    starts = arr[new, 0]
    ends = np.zeros(starts.size)
    np.maximum.at(ends, group, arr[:, 1])
    return np.column_stack([starts, ends])


def analysable_before(x: np.ndarray | float, excluded: np.ndarray) -> np.ndarray:
    """Analysable seconds in ``[0, x]`` for each ``x`` (excluded intervals merged, sorted)."""
    x = np.asarray(x, dtype=np.float64)
    if excluded.shape[0] == 0:
        return x.copy()
    starts, ends = excluded[:, 0], excluded[:, 1]
    lengths = ends - starts
    cum = np.concatenate([[0.0], np.cumsum(lengths)])
    k = np.searchsorted(starts, x, side="right")  # intervals that start at or before x
    full_before = cum[np.maximum(k - 1, 0)]  # every interval before the k-th one is complete
    last = np.maximum(k - 1, 0)
    partial = np.where(k > 0, np.clip(x - starts[last], 0.0, lengths[last]), 0.0)
    return x - (full_before + partial)


def prepare(
    beats,
    labels,
    fs: float,
    *,
    excluded=None,
    start_time: _dt.datetime | None = None,
    duration_s: float | None = None,
) -> BeatSeries:
    """Check the inputs and build the :class:`BeatSeries` (see module docstring)."""
    try:
        fs = float(fs)
    except (TypeError, ValueError):
        raise ParameterError(f"fs must be a number of Hz, got {fs!r}") from None
    if not np.isfinite(fs) or fs <= 0:
        raise ParameterError(f"fs must be a positive sampling rate in Hz, got {fs}")
    b = np.asarray(beats)
    if b.ndim != 1:
        raise AnnotationError(f"beats must be a 1-D array of sample indices, got shape {b.shape}")
    if b.size and not np.issubdtype(b.dtype, np.integer):
        if not np.issubdtype(b.dtype, np.number) or not np.all(np.isfinite(b)):
            raise AnnotationError("beats must be whole sample indices (int64)")
        if np.any(b != np.round(b)):
            raise AnnotationError("beats must be whole sample indices, not seconds")
    b = b.astype(np.int64)
    if b.size and b[0] < 0:
        raise AnnotationError("beat sample indices must not be negative")
    if b.size > 1 and np.any(np.diff(b) <= 0):
        raise AnnotationError(
            "beat sample indices must be strictly increasing (sort them and drop duplicates)"
        )
    code = _labels_to_codes(labels, b.size)
    if start_time is not None and not isinstance(start_time, _dt.datetime):
        raise ParameterError(f"start_time must be a datetime.datetime, got {start_time!r}")
    t = b / fs
    last = float(t[-1]) if t.size else 0.0
    if duration_s is None:
        duration_s = last
    else:
        try:
            duration_s = float(duration_s)
        except (TypeError, ValueError):
            raise ParameterError(f"duration_s must be a number, got {duration_s!r}") from None
        if not np.isfinite(duration_s) or duration_s < 0:
            raise ParameterError(f"duration_s must be a non-negative number, got {duration_s}")
        if duration_s < last:
            raise ParameterError(
                f"a beat lies at {last:.3f} s, after the end of the recording "
                f"(duration_s={duration_s:.3f}); check fs and duration_s"
            )
    exc = _merge_excluded(excluded, duration_s)
    keep = np.ones(t.size, dtype=bool)
    seg = np.zeros(t.size, dtype=np.int64)
    if exc.shape[0] and t.size:
        # a beat is excluded if start <= t < end
        k = np.searchsorted(exc[:, 0], t, side="right") - 1
        inside = (k >= 0) & (t < exc[np.maximum(k, 0), 1])
        keep = ~inside
        t_k = t[keep]
        if t_k.size > 1:
            # excluded time between consecutive kept beats: an interval with start < t2, end > t1
            n_start_before_t2 = np.searchsorted(exc[:, 0], t_k[1:], side="left")
            n_end_before_t1 = np.searchsorted(exc[:, 1], t_k[:-1], side="right")
            gap = n_start_before_t2 > n_end_before_t1
            seg = np.concatenate([[0], np.cumsum(gap)]).astype(np.int64)
        else:
            seg = np.zeros(t_k.size, dtype=np.int64)
    analysable = float(duration_s - (exc[:, 1] - exc[:, 0]).sum())
    return BeatSeries(
        t=np.ascontiguousarray(t[keep]),
        code=np.ascontiguousarray(code[keep]),
        seg=seg,
        excluded=exc,
        duration_s=float(duration_s),
        analysable_s=max(analysable, 0.0),
        start_time=start_time,
        n_dropped=int((~keep).sum()),
    )
