"""Delineation of a median beat: QRS onset, J point, PR level, ST level, T end.

All leads are used together through the spatial velocity (sum over leads of the absolute
first derivative): the QRS onset is where it rises above a fraction of its QRS peak before the
fiducial point, the J point where it falls below it after. The T-wave end is found with the
tangent method on the lead with the largest T wave: the tangent at the steepest point of the
T wave's descending (or ascending, for inverted T) limb crosses the isoelectric level.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["Fiducials", "delineate"]


@dataclass(frozen=True)
class Fiducials:
    """Fiducial points of one median beat (sample indices in the median beat, ms offsets).

    ``st_mv`` and ``pr_mv`` are per lead; ``qt_ms`` is None where no T end was found.
    """

    onset: int
    j_point: int
    t_end: int | None
    pr_mv: np.ndarray
    st_mv: np.ndarray
    qrs_ms: float
    qt_ms: float | None


def _smooth(v: np.ndarray, k: int) -> np.ndarray:
    if k <= 1:
        return v
    return np.convolve(v, np.ones(k) / k, mode="same")


def delineate(
    beat: np.ndarray,
    fs: float,
    pre: int,
    *,
    st_offset_ms: float = 60.0,
    rr_ms: float | None = None,
) -> Fiducials:
    """Delineate one median beat.

    Parameters
    ----------
    beat
        Median beat, shape (n_leads, width), fiducial (R) at index ``pre``.
    fs
        Sampling rate (Hz).
    pre
        Index of the fiducial point.
    st_offset_ms
        ST measurement point after J (ms).
    rr_ms
        Mean RR of the window (bounds the T-wave search).
    """
    beat = np.atleast_2d(np.asarray(beat, dtype=np.float64))
    width = beat.shape[1]
    ms = fs / 1000.0
    d = np.abs(np.diff(beat, axis=1)).sum(axis=0) * fs  # spatial velocity, mV/s
    d = _smooth(d, max(1, int(round(8 * ms))))
    lo, hi = max(1, pre - int(60 * ms)), min(width - 2, pre + int(60 * ms))
    peak = float(d[lo:hi].max()) if hi > lo else float(d.max())
    thr = 0.12 * peak
    hold = max(1, int(round(12 * ms)))

    # QRS onset: walking back from R, the first point where velocity stays low for `hold`
    onset = max(0, pre - int(150 * ms))
    for i in range(pre, max(hold, pre - int(150 * ms)), -1):
        if np.all(d[i - hold : i] < thr):
            onset = i
            break
    # J point: walking forward from R
    j_point = min(width - 1, pre + int(150 * ms))
    for i in range(pre, min(width - hold, pre + int(160 * ms))):
        if np.all(d[i : i + hold] < thr):
            j_point = i
            break

    # PR isoelectric level: the flattest 20 ms stretch in [onset-100 ms, onset-5 ms]
    seg = max(2, int(round(20 * ms)))
    a, b = max(0, onset - int(100 * ms)), max(1, onset - int(5 * ms))
    best, best_i = np.inf, max(0, b - seg)
    for i in range(a, max(a + 1, b - seg)):
        v = d[i : i + seg].sum()
        if v < best:
            best, best_i = v, i
    pr = beat[:, best_i : best_i + seg].mean(axis=1)

    st_i = min(width - 1, j_point + int(round(st_offset_ms * ms)))
    half = max(1, int(round(5 * ms)))
    st = beat[:, max(0, st_i - half) : st_i + half + 1].mean(axis=1) - pr

    # T end by the tangent method on the lead with the largest T wave
    t_end = None
    t_lo = j_point + int(80 * ms)
    limit = pre + int(((rr_ms or 1000.0) * 0.75) * ms) if rr_ms else width - 1
    t_hi = min(width - 2, limit, pre + int(600 * ms))
    if t_hi - t_lo > int(60 * ms):
        rel = beat[:, t_lo:t_hi] - pr[:, None]
        lead = int(np.argmax(np.abs(rel).max(axis=1)))
        w = _smooth(rel[lead], max(1, int(round(10 * ms))))
        k = int(np.argmax(np.abs(w)))
        amp = w[k]
        if abs(amp) > 0.05:  # a T wave of at least 0.05 mV
            after = w[k:]
            if after.size > 3:
                slope = np.diff(after) * np.sign(amp)  # descending limb -> negative
                m = int(np.argmin(slope))
                s = slope[m] * np.sign(amp)
                if slope[m] < 0 and s != 0:
                    x0 = k + m
                    y0 = w[x0]
                    cross = x0 - y0 / s
                    if np.isfinite(cross) and k < cross < (t_hi - t_lo) + int(100 * ms):
                        t_end = int(round(t_lo + cross))
    qt_ms = None if t_end is None else (t_end - onset) / ms
    return Fiducials(
        onset=int(onset),
        j_point=int(j_point),
        t_end=t_end,
        pr_mv=pr.astype(np.float32),
        st_mv=st.astype(np.float32),
        qrs_ms=(j_point - onset) / ms,
        qt_ms=qt_ms,
    )
