"""Time-domain HRV (Task Force 1996): statistical and geometric measures of the NN series.

Definitions used here (``n`` NN intervals, ``d`` successive differences of *adjacent* NN
intervals — see :mod:`holterlab.hrv.nn`):

- ``mean_nn_ms``: mean NN; ``sdnn_ms``: sample standard deviation (``ddof=1``).
- ``sdann_ms``: sample SD of the mean NN of the 5-minute segments; ``sdnn_index_ms``: mean of
  their sample SDs. Segments are consecutive ``segment_s`` windows on a grid starting at
  ``segment_origin_s`` (the clock's 5-minute marks when the start time is known); an NN
  interval belongs to the segment holding its ending beat, and a segment counts when its NN
  intervals cover at least ``segment_min_coverage_pct`` (80 %) of it.
- ``rmssd_ms``: root mean square of ``d``; ``pnn50_pct``: percentage of ``|d| > 50 ms`` among
  all ``d`` (the number of adjacent pairs, not ``n``: with gaps the two differ; NeuroKit2
  divides by ``len(d) + 1``).
- ``triangular_index``: ``n`` over the height of the NN histogram with bins
  ``[k w, (k + 1) w)``, ``w = 1/128 s = 7.8125 ms`` (bins from 0 ms, as NeuroKit2; a
  relative 1e-9 guard keeps values computed from 128 Hz samples in their own bin).
- ``tinn_ms``: base width ``M - N`` of the triangle fitted to the same histogram (see
  :func:`tinn`).
"""

from __future__ import annotations

import numpy as np

from holterlab.hrv.nn import as_nn_arrays
from holterlab.params.hrv import HRVParams

__all__ = [
    "time_domain",
    "successive_differences",
    "nn_histogram",
    "triangular_index",
    "tinn",
    "segment_stats",
]

NAN = float("nan")


def successive_differences(nn_ms: np.ndarray, adjacent: np.ndarray | None = None) -> np.ndarray:
    """Differences ``nn[k] - nn[k-1]`` over adjacent pairs only."""
    nn = np.asarray(nn_ms, dtype=float)
    d = np.diff(nn)
    if adjacent is None:
        return d
    return d[np.asarray(adjacent, dtype=bool)[1:]]


def nn_histogram(nn_ms: np.ndarray, bin_ms: float = 1000.0 / 128.0) -> tuple[np.ndarray, int]:
    """Counts of the NN histogram in bins ``[k w, (k+1) w)``; returns (counts, first k)."""
    k = np.floor(np.asarray(nn_ms, dtype=float) / bin_ms * (1 + 1e-9)).astype(np.int64)
    k0 = int(k.min())
    return np.bincount(k - k0), k0


def triangular_index(nn_ms: np.ndarray, bin_ms: float = 1000.0 / 128.0) -> float:
    """HRV triangular index: number of NN intervals / height of their histogram."""
    nn = np.asarray(nn_ms, dtype=float)
    if nn.size == 0:
        return NAN
    counts, _ = nn_histogram(nn, bin_ms)
    return float(nn.size / counts.max())


def tinn(nn_ms: np.ndarray, bin_ms: float = 1000.0 / 128.0) -> float:
    """TINN: base width of the least-squares triangle fitted to the NN histogram (ms).

    Task Force 1996: with ``D`` the histogram, ``X`` its mode and ``Y = D(X)``, find ``N <
    X < M`` minimising ``sum (D(t) - q(t))**2`` over all bins, where ``q`` is 0 outside
    ``[N, M]``, rises linearly from 0 at ``N`` to ``Y`` at ``X`` and falls linearly to 0 at
    ``M``. ``N`` and ``M`` run over bin centres, extended beyond the histogram by as many
    bins as lie between the mode and the histogram's end on that side. Because ``q`` left
    of ``X`` depends on ``N`` only and right of ``X`` on ``M`` only, the error splits into
    two independent sums: each side is minimised over all candidates at once (a matrix of
    candidates x bins), O(B^2) for B bins — microseconds for a 24 h histogram. The first
    mode is used when several bins share the maximum. Returns ``M - N`` in ms.
    """
    nn = np.asarray(nn_ms, dtype=float)
    if nn.size < 3:
        return NAN
    counts, _ = nn_histogram(nn, bin_ms)
    d = counts.astype(float)
    x = int(np.argmax(d))
    y = d[x]
    best_left = _best_foot(d[:x][::-1], y)
    best_right = _best_foot(d[x + 1 :], y)
    return float((best_left + best_right) * bin_ms)


def _best_foot(side: np.ndarray, y: float) -> int:
    """Distance (bins) from the mode of the least-squares foot on one side of the triangle.

    ``side[i]`` is the count ``i + 1`` bins away from the mode. Candidates lie 1 .. 2 L + 1
    bins away (L = len(side)); bins beyond the histogram count as empty.
    """
    size = 2 * side.size + 1
    dist = np.zeros(size)
    dist[: side.size] = side
    j = np.arange(1, size + 1)[:, None]  # candidate foot distance
    i = np.arange(1, size + 1)[None, :]  # bin distance
    q = np.where(i < j, y * (1.0 - i / j), 0.0)
    err = ((dist[None, :] - q) ** 2).sum(axis=1)
    return int(np.argmin(err)) + 1


def segment_index(times_s: np.ndarray, segment_s: float, origin_s: float = 0.0) -> np.ndarray:
    """Index of the ``segment_s`` window (grid from ``origin_s``) holding each time."""
    return np.floor((np.asarray(times_s, dtype=float) - origin_s) / segment_s).astype(np.int64)


def segment_stats(
    nn_ms: np.ndarray,
    times_s: np.ndarray,
    *,
    segment_s: float = 300.0,
    origin_s: float = 0.0,
    min_coverage_pct: float = 80.0,
) -> dict[str, np.ndarray]:
    """Per-segment count, coverage (%), mean and sample SD of NN, and validity.

    Returns arrays indexed by segment number ``k`` relative to the first segment
    (``first`` gives its absolute index: segment ``k`` spans
    ``origin_s + (first + k) * segment_s`` onwards).
    """
    nn = np.asarray(nn_ms, dtype=float)
    seg = segment_index(times_s, segment_s, origin_s)
    if nn.size == 0:
        z = np.empty(0)
        return {"first": 0, "count": z, "coverage_pct": z, "mean": z, "sd": z, "valid": z > 0}
    first = int(seg[0])
    rel = seg - first
    count = np.bincount(rel).astype(float)
    total = np.bincount(rel, weights=nn)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = total / count
        ss = np.bincount(rel, weights=(nn - mean[rel]) ** 2)
        sd = np.sqrt(ss / (count - 1))
    sd[count < 2] = np.nan
    coverage = np.minimum(100.0, total / (10.0 * segment_s))
    valid = (coverage >= min_coverage_pct) & (count >= 2)
    return {
        "first": first,
        "count": count,
        "coverage_pct": coverage,
        "mean": mean,
        "sd": sd,
        "valid": valid,
    }


def time_domain(
    nn_ms: np.ndarray,
    nn_times_s: np.ndarray | None = None,
    *,
    adjacent: np.ndarray | None = None,
    params: HRVParams | None = None,
    segment_origin_s: float = 0.0,
) -> dict[str, float]:
    """Time-domain HRV of an NN series.

    Parameters
    ----------
    nn_ms
        NN intervals (ms).
    nn_times_s
        Time of the beat ending each interval (s); default: cumulative sum of ``nn_ms``.
    adjacent
        Adjacency flags (see :class:`~holterlab.hrv.nn.NNSeries`); default: all adjacent.
    params
        :class:`~holterlab.params.hrv.HRVParams` (segment length and coverage, histogram bin,
        pNN threshold).
    segment_origin_s
        Time of a segment boundary (s), e.g. to align 5-minute segments with the clock.

    Returns
    -------
    dict
        ``mean_nn_ms``, ``mean_hr_bpm``, ``sdnn_ms``, ``sdann_ms``, ``sdnn_index_ms``,
        ``rmssd_ms``, ``sdsd_ms``, ``nn50``, ``pnn50_pct``, ``triangular_index``, ``tinn_ms``,
        ``n_nn``, ``n_segments``; NaN where undefined (too few intervals or segments).
    """
    p = params or HRVParams()
    nn, times, adj = as_nn_arrays(nn_ms, nn_times_s, adjacent)
    n = nn.size
    out: dict[str, float] = {"n_nn": float(n)}
    out["mean_nn_ms"] = float(nn.mean()) if n else NAN
    out["mean_hr_bpm"] = 60000.0 / out["mean_nn_ms"] if n else NAN
    out["sdnn_ms"] = float(nn.std(ddof=1)) if n > 1 else NAN
    seg = segment_stats(
        nn,
        times,
        segment_s=p.segment_s,
        origin_s=segment_origin_s,
        min_coverage_pct=p.segment_min_coverage_pct,
    )
    valid = seg["valid"]
    n_seg = int(valid.sum())
    out["n_segments"] = float(n_seg)
    out["sdann_ms"] = float(np.std(seg["mean"][valid], ddof=1)) if n_seg > 1 else NAN
    out["sdnn_index_ms"] = float(np.mean(seg["sd"][valid])) if n_seg > 0 else NAN
    d = successive_differences(nn, adj)
    out["rmssd_ms"] = float(np.sqrt(np.mean(d * d))) if d.size else NAN
    out["sdsd_ms"] = float(np.std(d, ddof=1)) if d.size > 1 else NAN
    nn50 = int(np.count_nonzero(np.abs(d) > p.pnn_threshold_ms))
    out["nn50"] = float(nn50)
    out["pnn50_pct"] = 100.0 * nn50 / d.size if d.size else NAN
    out["triangular_index"] = triangular_index(nn, p.histogram_bin_ms)
    out["tinn_ms"] = tinn(nn, p.histogram_bin_ms)
    return out
