"""Median beats over short windows, after per-beat isoelectric baseline removal.

ST analysis must not distort the ST segment: instead of a high-pass filter, the baseline is
removed with the knot method — one knot per beat at its PR segment (a short mean before the
QRS), the baseline interpolated linearly between knots and subtracted. The normal beats of
each window are aligned on their fiducial point and median-averaged per lead, and the median
beat is low-passed (zero phase). Only the samples of the averaged beats are processed
(:mod:`holterlab.st_qt._kernels`), never the whole signal.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from holterlab.dsp.design import butter_sos, sosfiltfilt
from holterlab.st_qt import _kernels as K

__all__ = ["MedianBeats", "remove_baseline_knots", "median_beats", "PRE_MS", "POST_MS"]

#: Median-beat window around the fiducial point.
PRE_MS = 300.0
POST_MS = 650.0
#: Knot position before the fiducial point and its averaging width.
KNOT_MS = 90.0
KNOT_WIDTH_MS = 20.0


@dataclass
class MedianBeats:
    """Median beats of consecutive windows.

    Attributes
    ----------
    window_start_s
        Start of each window (s from the recording start), shape (n_windows,).
    beats
        Median beats, float32 mV, shape (n_windows, n_leads, width); fiducial at ``pre``.
    n_beats
        Normal beats averaged per window.
    rr_ms
        Mean normal RR of each window (ms).
    pre
        Index of the fiducial point in each median beat.
    fs
        Sampling rate (Hz).
    """

    window_start_s: np.ndarray
    beats: np.ndarray
    n_beats: np.ndarray
    rr_ms: np.ndarray
    pre: int
    fs: float


def remove_baseline_knots(x: np.ndarray, fs: float, beats: np.ndarray) -> np.ndarray:
    """Subtract a baseline interpolated through one PR-segment knot per beat.

    Parameters
    ----------
    x
        Signal, shape (n_leads, n).
    fs
        Sampling rate (Hz).
    beats
        Fiducial samples of the beats inside ``x`` (sorted).

    Returns
    -------
    numpy.ndarray
        Float32 signal of the same shape with the baseline removed. Without at least two
        beats the median of each lead is subtracted.
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float32))
    knots, levels = _knot_levels(x, fs, beats)
    if knots.size < 2:
        return x - np.median(x, axis=1, keepdims=True)
    t = np.arange(x.shape[1])
    out = np.empty_like(x)
    for lead in range(x.shape[0]):
        out[lead] = x[lead] - np.interp(t, knots, levels[lead]).astype(np.float32)
    return out


def _knot_levels(x: np.ndarray, fs: float, beats: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Knot samples (one per beat, in its PR segment) and the mean signal level at each."""
    n = x.shape[1]
    off = int(round(KNOT_MS * fs / 1000))
    half = max(1, int(round(KNOT_WIDTH_MS * fs / 2000)))
    knots = np.asarray(beats, dtype=np.int64) - off
    knots = knots[(knots - half >= 0) & (knots + half < n)]
    if knots.size == 0:
        return knots, np.zeros((x.shape[0], 0), dtype=np.float32)
    around = knots[:, None] + np.arange(-half, half + 1)[None, :]
    levels = x[:, around].mean(axis=2, dtype=np.float64).astype(np.float32)
    return knots, levels


def _lowpass(x: np.ndarray, fs: float, cutoff: float) -> np.ndarray:
    """Zero-phase 4th-order Butterworth low-pass along the last axis (float32)."""
    if cutoff >= 0.45 * fs or x.shape[-1] < 32:
        return x.astype(np.float32, copy=False)
    return sosfiltfilt(butter_sos(4, cutoff, "lowpass", fs), x).astype(np.float32)


def median_beats(
    x: np.ndarray,
    fs: float,
    beats: np.ndarray,
    labels: np.ndarray,
    *,
    offset: int = 0,
    window_s: float = 30.0,
    min_beats: int = 6,
    lowpass_hz: float = 40.0,
    window_range: tuple[int, int] | None = None,
) -> MedianBeats:
    """Median beats of the normal beats in consecutive windows of a signal block.

    Parameters
    ----------
    x
        Signal block in mV, shape (n_leads, n); its first sample is recording sample
        ``offset``.
    fs
        Sampling rate (Hz).
    beats, labels
        Fiducial samples (recording sample indices) and AAMI labels of the beats; only ``N``
        beats whose neighbours are also ``N`` are averaged.
    offset
        Recording sample index of ``x[:, 0]``.
    window_s
        Window length (s); windows start at multiples of ``window_s`` from the recording start.
    min_beats
        Windows with fewer usable beats are skipped.
    lowpass_hz
        Low-pass cut-off applied before averaging.
    window_range
        ``(first, stop)`` window indices to produce (default: every window whose beats lie in
        the block).
    """
    x = np.atleast_2d(np.asarray(x, dtype=np.float32))
    n_leads, n = x.shape
    beats = np.asarray(beats, dtype=np.int64)
    labels = np.asarray(labels).astype(str)
    pre = int(round(PRE_MS * fs / 1000))
    post = int(round(POST_MS * fs / 1000))
    width = pre + post
    empty = MedianBeats(
        np.zeros(0),
        np.zeros((0, n_leads, width), np.float32),
        np.zeros(0, np.int64),
        np.zeros(0),
        pre,
        fs,
    )
    inside = (beats >= offset) & (beats < offset + n)
    if inside.sum() < 2:
        return empty
    local = beats[inside] - offset

    # usable beats: N with N neighbours (so the window is not distorted by ectopy)
    is_n = labels == "N"
    usable = is_n.copy()
    usable[1:] &= is_n[:-1]
    usable[:-1] &= is_n[1:]
    usable[0] = usable[-1] = False
    rr = np.diff(beats, prepend=beats[0]) * (1000.0 / fs)
    sel = usable & inside
    sel &= (beats - offset - pre >= 0) & (beats - offset + post <= n)
    idx = np.nonzero(sel)[0]
    if idx.size == 0:
        return empty
    win_len = int(round(window_s * fs))
    win = beats[idx] // win_len
    if window_range is not None:
        keep = (win >= window_range[0]) & (win < window_range[1])
        idx, win = idx[keep], win[keep]
    bounds = np.concatenate(([0], np.flatnonzero(np.diff(win)) + 1, [idx.size]))
    sizes = np.diff(bounds)
    big = sizes >= min_beats
    if not big.any():
        return empty
    # keep only the groups with enough beats
    members = np.repeat(big, sizes)
    idx, win = idx[members], win[members]
    sizes = sizes[big]
    bounds = np.concatenate(([0], np.cumsum(sizes)))
    knots, levels = _knot_levels(x, fs, local)
    centres = beats[idx] - offset
    if knots.size < 2:
        clean = x - np.median(x, axis=1, keepdims=True)
        knots = np.array([0, n - 1], dtype=np.int64)
        levels = np.zeros((n_leads, 2), dtype=np.float32)
    else:
        clean = x
    meds = K.median_segments(np.ascontiguousarray(clean), knots, levels, centres, bounds, pre, post)
    meds = _lowpass(meds, fs, lowpass_hz)
    starts = win[bounds[:-1]] * window_s
    counts = sizes
    rrs = np.add.reduceat(rr[idx], bounds[:-1]) / sizes
    return MedianBeats(
        np.asarray(starts, dtype=np.float64),
        np.asarray(meds, dtype=np.float32),
        np.asarray(counts, dtype=np.int64),
        np.asarray(rrs, dtype=np.float64),
        pre,
        fs,
    )
