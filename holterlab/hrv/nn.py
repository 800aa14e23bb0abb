"""The NN series: normal-to-normal intervals from beat times and beat labels.

An RR interval (between beat ``i`` and beat ``i + 1``) becomes an NN interval when

1. both beats are labelled ``N`` (AAMI class). The interval before and the interval after an
   ectopic beat (``S``, ``V``, ``F``, ``Q``) or an artefact mark (``|``, ``X``, anything that
   is not ``N``) are therefore never NN;
2. it does not overlap any ``excluded`` interval (unanalysable, noisy time);
3. it lies within ``[min_rr_ms, max_rr_ms]`` (default 300-2000 ms);
4. optionally (``change_filter``), it differs by at most ``max_change_pct`` (20 %) from the
   last *accepted* NN interval. The reference is forgotten when the last accepted interval
   ended more than ``change_reset_s`` (10 s) before the candidate starts, so a gap or a
   genuine change of rate cannot lock the filter out for good; the first interval after such
   a reset is accepted unchecked and becomes the reference.

Each NN interval is stamped with the time of the beat that ends it. Two NN intervals are
*adjacent* when the second starts at the beat where the first ends; successive differences
(RMSSD, pNN50, Poincaré) use adjacent pairs only, so a difference is never taken across a
removed interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from holterlab.errors import AnnotationError, ParameterError
from holterlab.params.hrv import HRVParams

__all__ = [
    "NNSeries",
    "nn_intervals",
    "as_nn_arrays",
    "check_beats",
    "merge_intervals",
    "overlaps_excluded",
]


@dataclass(frozen=True)
class NNSeries:
    """NN intervals with their times and adjacency.

    Attributes
    ----------
    nn_ms
        NN interval lengths (ms), float64.
    times_s
        Time of the beat ending each interval (s from sample 0), strictly increasing.
    adjacent
        ``adjacent[k]`` is true when interval ``k`` starts at the beat where interval
        ``k - 1`` ends (always false for ``k = 0``).
    start_beat
        Index (into the input beats) of the beat starting each interval.
    n_beats
        Number of input beats (all labels).
    span_s
        Time from the first to the last input beat (s).
    rejected
        Number of RR intervals rejected by each rule, in the order the rules apply
        (``not_normal``, ``excluded``, ``out_of_range``, ``change``).
    """

    nn_ms: np.ndarray
    times_s: np.ndarray
    adjacent: np.ndarray
    start_beat: np.ndarray
    n_beats: int
    span_s: float
    rejected: dict[str, int] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.nn_ms.size)

    @property
    def start_s(self) -> np.ndarray:
        """Time of the beat starting each interval (s)."""
        return self.times_s - self.nn_ms / 1000.0

    @property
    def coverage_pct(self) -> float:
        """Share of the span from first to last beat covered by NN intervals (%)."""
        if self.span_s <= 0:
            return float("nan")
        return float(min(100.0, self.nn_ms.sum() / 10.0 / self.span_s))

    def subset(self, mask: np.ndarray) -> NNSeries:
        """The intervals where ``mask`` holds; adjacency kept only between kept neighbours."""
        mask = np.asarray(mask, dtype=bool)
        idx = np.flatnonzero(mask)
        adjacent = self.adjacent[idx].copy()
        if idx.size:
            prev_kept = np.zeros(idx.size, dtype=bool)
            prev_kept[1:] = np.diff(idx) == 1
            adjacent &= prev_kept
            adjacent[0] = False
        return NNSeries(
            self.nn_ms[idx],
            self.times_s[idx],
            adjacent,
            self.start_beat[idx],
            self.n_beats,
            self.span_s,
            dict(self.rejected),
        )


# ---------------------------------------------------------------------- input checks
def check_beats(beats: np.ndarray, labels: np.ndarray | None, fs: float):
    """Validate beat sample indices, labels and fs; return (int64 beats, str labels, fs)."""
    try:
        fs = float(fs)
    except (TypeError, ValueError):
        raise ParameterError(f"fs must be a number of Hz, got {fs!r}") from None
    if not np.isfinite(fs) or fs <= 0:
        raise ParameterError(f"fs must be a positive number of Hz, got {fs!r}")
    b = np.asarray(beats)
    if b.ndim != 1:
        raise AnnotationError(f"beats must be a 1-D array of sample indices, got shape {b.shape}")
    if b.size and not np.issubdtype(b.dtype, np.integer):
        if not np.issubdtype(b.dtype, np.number):
            raise AnnotationError("beats must be integer sample indices")
        if not np.all(np.isfinite(b)) or np.any(b != np.round(b)):
            raise AnnotationError("beats must be whole sample indices (int64), not times")
    b = b.astype(np.int64)
    if b.size > 1 and np.any(np.diff(b) < 0):
        raise AnnotationError(
            "beats must be sorted by time; sort beats and labels together (np.argsort) first"
        )
    if labels is None:
        lab = np.full(b.size, "N", dtype="<U1")
    else:
        lab = np.asarray(labels)
        if lab.dtype.kind != "U":
            lab = lab.astype(str)
        if lab.shape != b.shape:
            raise AnnotationError(
                f"labels must have one entry per beat ({b.size}), got shape {lab.shape}"
            )
    return b, lab, fs


def merge_intervals(excluded) -> tuple[np.ndarray, np.ndarray]:
    """Validate ``(start_s, end_s)`` intervals and merge overlaps; return (starts, ends)."""
    if excluded is None:
        return np.empty(0), np.empty(0)
    arr = np.asarray(excluded, dtype=float)
    if arr.size == 0:
        return np.empty(0), np.empty(0)
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ParameterError(
            f"excluded must be an array of (start_s, end_s) rows, got shape {arr.shape}"
        )
    if not np.all(np.isfinite(arr)):
        raise ParameterError("excluded intervals must be finite numbers of seconds")
    if np.any(arr[:, 1] < arr[:, 0]):
        raise ParameterError("each excluded interval needs start_s <= end_s")
    arr = arr[np.argsort(arr[:, 0], kind="stable")]
    ends = np.maximum.accumulate(arr[:, 1])
    # a new merged interval starts where the start lies beyond every earlier end
    new = np.ones(arr.shape[0], dtype=bool)
    new[1:] = arr[1:, 0] > ends[:-1]
    group = np.cumsum(new) - 1
    starts = arr[new, 0]
    merged_ends = np.zeros(starts.size)
    np.maximum.at(merged_ends, group, ends)
    return starts, merged_ends


def overlaps_excluded(t0: np.ndarray, t1: np.ndarray, starts: np.ndarray, ends: np.ndarray):
    """True where the time span ``[t0, t1]`` overlaps a merged excluded interval."""
    if starts.size == 0:
        return np.zeros(np.shape(t0), dtype=bool)
    idx = np.searchsorted(ends, t0, side="right")  # first interval ending after t0
    hit = idx < starts.size
    out = np.zeros(np.shape(t0), dtype=bool)
    out[hit] = starts[idx[hit]] < t1[hit]
    return out


# ---------------------------------------------------------------------- change filter
def change_filter_python(
    nn_ms: np.ndarray, start_s: np.ndarray, end_s: np.ndarray, max_frac: float, reset_s: float
) -> np.ndarray:
    """Reference implementation of the percent-change filter (keep mask)."""
    n = nn_ms.size
    keep = np.zeros(n, dtype=bool)
    have_ref = False
    ref = 0.0
    ref_end = 0.0
    for i in range(n):
        if not have_ref or start_s[i] - ref_end > reset_s:
            ok = True
        else:
            ok = abs(nn_ms[i] - ref) <= max_frac * ref
        keep[i] = ok
        if ok:
            ref = nn_ms[i]
            ref_end = end_s[i]
            have_ref = True
    return keep


def _change_filter(nn_ms, start_s, end_s, max_frac, reset_s, *, compiled=True):
    if compiled and nn_ms.size > 2000:
        from holterlab.hrv._kernels import change_filter

        return change_filter(
            np.ascontiguousarray(nn_ms, dtype=np.float64),
            np.ascontiguousarray(start_s, dtype=np.float64),
            np.ascontiguousarray(end_s, dtype=np.float64),
            float(max_frac),
            float(reset_s),
        )
    return change_filter_python(nn_ms, start_s, end_s, max_frac, reset_s)


# ---------------------------------------------------------------------- NN series
def nn_intervals(
    beats: np.ndarray,
    labels: np.ndarray | None,
    fs: float,
    *,
    params: HRVParams | None = None,
    excluded=None,
    non_sinus=None,
) -> NNSeries:
    """Extract the NN series from beat sample indices and beat labels.

    Parameters
    ----------
    beats
        Beat sample indices (int64), sorted.
    labels
        One label per beat: AAMI ``N S V F Q``; ``|``/``X`` (or any other non-``N`` code) mark
        artefacts. ``None`` treats every beat as ``N``.
    fs
        Sampling rate the indices refer to (Hz).
    params
        :class:`~holterlab.params.hrv.HRVParams` (RR limits, change filter).
    excluded
        ``(start_s, end_s)`` rows of unanalysable time; intervals overlapping them are dropped.
    non_sinus
        ``(start_s, end_s)`` rows of atrial fibrillation and flutter: their beats are labelled
        N (AAMI) but are not sinus beats, so intervals overlapping them are dropped too
        (counted as ``rejected["non_sinus"]``).

    Returns
    -------
    NNSeries
    """
    p = params or HRVParams()
    b, lab, fs = check_beats(beats, labels, fs)
    n_beats = int(b.size)
    span = float((b[-1] - b[0]) / fs) if n_beats > 1 else 0.0
    empty = NNSeries(
        np.empty(0), np.empty(0), np.empty(0, bool), np.empty(0, np.int64), n_beats, span, {}
    )
    if n_beats < 2:
        return empty
    t = b / fs
    rr = np.diff(b) * (1000.0 / fs)
    normal = lab == "N"
    ok = normal[:-1] & normal[1:]
    rejected = {"not_normal": int(rr.size - ok.sum())}
    for reason, spans in (("excluded", excluded), ("non_sinus", non_sinus)):
        starts, ends = merge_intervals(spans)
        bad = ok & overlaps_excluded(t[:-1], t[1:], starts, ends)
        rejected[reason] = int(bad.sum())
        ok &= ~bad
    in_range = (rr >= p.min_rr_ms) & (rr <= p.max_rr_ms)
    rejected["out_of_range"] = int((ok & ~in_range).sum())
    ok &= in_range
    idx = np.flatnonzero(ok)
    if p.change_filter and idx.size:
        keep = _change_filter(
            rr[idx], t[idx], t[idx + 1], p.max_change_pct / 100.0, p.change_reset_s
        )
        rejected["change"] = int(idx.size - keep.sum())
        idx = idx[keep]
    else:
        rejected["change"] = 0
    adjacent = np.zeros(idx.size, dtype=bool)
    adjacent[1:] = np.diff(idx) == 1
    return NNSeries(rr[idx], t[idx + 1], adjacent, idx.astype(np.int64), n_beats, span, rejected)


def as_nn_arrays(
    nn_ms, nn_times_s=None, adjacent=None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Validate an NN series given as arrays; return float64 ``nn``, ``times``, bool ``adjacent``.

    ``nn_times_s`` defaults to the cumulative sum of the intervals; ``adjacent`` defaults to
    every interval following its predecessor (an uninterrupted series).
    """
    nn = np.asarray(nn_ms, dtype=float)
    if nn.ndim != 1:
        raise ParameterError(f"nn_ms must be a 1-D array of intervals, got shape {nn.shape}")
    if not np.all(np.isfinite(nn)) or np.any(nn <= 0):
        raise ParameterError("nn_ms must hold positive, finite intervals in milliseconds")
    if nn_times_s is None:
        times = np.cumsum(nn) / 1000.0
    else:
        times = np.asarray(nn_times_s, dtype=float)
        if times.shape != nn.shape:
            raise ParameterError(
                f"nn_times_s must have one time per interval ({nn.size}), got {times.shape}"
            )
        if not np.all(np.isfinite(times)) or np.any(np.diff(times) <= 0):
            raise ParameterError("nn_times_s must be finite and strictly increasing seconds")
    if adjacent is None:
        adj = np.ones(nn.size, dtype=bool)
        if nn.size:
            adj[0] = False
    else:
        adj = np.asarray(adjacent, dtype=bool)
        if adj.shape != nn.shape:
            raise ParameterError(f"adjacent must have one flag per interval ({nn.size})")
    return nn, times, adj
