"""Per-lead, per-segment signal quality: noise, saturation, lead-off (flat) and gaps.

Every lead is cut into segments of ``QualityParams.segment_s`` seconds on a fixed grid from
the first sample, and each segment gets flags (:data:`FLAT`, :data:`SATURATED`,
:data:`MISSING`, :data:`NOISY`, :data:`SEVERE_NOISE`, :data:`NO_ECG`) and a signal-to-noise
ratio (QRS slope over background slope). A segment is *usable* unless it is flat, saturated,
missing, severely noisy or shows no ECG at all. The no-ECG test (signal-quality indices of
the Clifford/Li/Behar family, on the segment's own samples, then medians over
``ecg_window_s``) rejects leads whose QRS band (5-30 Hz) carries no QRS-sized deflections
(baseline wander, electrode noise) or carries mostly high-frequency, non-spiky content (muscle
noise: high ~40 Hz-to-QRS-band ratio and low kurtosis); ECG is spiky in that band whatever
the rhythm, so atrial fibrillation, flutter waves or noisy but readable ECG stay usable.
Time where no lead is usable is *excluded*: detection finds no beats there,
rhythm analysis does not count it (no pause or asystole is reported across it), and it is
reported as noise (:meth:`QualityResult.noise_events`, ``noise_pct``).

>>> q = signal_quality(x, fs=250)           # doctest: +SKIP
>>> q.analysable_s, q.noise_pct, q.excluded_intervals()  # doctest: +SKIP

Amplitude matters only through the millivolt thresholds of :class:`QualityParams`
(``flat_mv``, ``max_abs_mv``, ``qrs_min_mv``); the other measures are ratios and do not
depend on gain or polarity.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from holterlab._checks import as_leads, check_fs
from holterlab.errors import CancelledError, ParameterError
from holterlab.params.detection import QualityParams

__all__ = [
    "QualityResult",
    "signal_quality",
    "quality_recording",
    "FLAT",
    "SATURATED",
    "NOISY",
    "MISSING",
    "SEVERE_NOISE",
    "NO_ECG",
    "ISOLATED",
    "UNUSABLE",
]

#: Peak-to-peak amplitude below ``flat_mv``: lead off or disconnected.
FLAT = 1
#: Clipped at the ADC rail (plateaus at the extreme) or beyond ``max_abs_mv``.
SATURATED = 2
#: Signal-to-noise ratio below ``noisy_snr`` (still used, with less weight).
NOISY = 4
#: More than ``max_missing_pct`` of the samples are NaN/inf (a gap in the recording).
MISSING = 8
#: Signal-to-noise ratio below ``unusable_snr``: unusable.
SEVERE_NOISE = 16
#: No QRS complexes: a QRS band that is not spiky and either tiny (below ``qrs_min_mv``:
#: baseline wander or amplifier noise only) or dominated by high-frequency content (muscle
#: noise, where no lead shows ECG): no ECG to analyse.
NO_ECG = 32
#: Usable time of less than ``min_island_s`` between long excluded stretches (at least
#: ``island_gap_s``): a loose electrode touching for a few seconds, not ECG to analyse
#: (set on every lead of its segments).
ISOLATED = 64
#: Flags that make a segment of a lead unusable.
UNUSABLE = FLAT | SATURATED | MISSING | SEVERE_NOISE | NO_ECG | ISOLATED

_FLAG_NAMES = {
    FLAT: "flat",
    SATURATED: "saturated",
    NOISY: "noisy",
    MISSING: "missing",
    SEVERE_NOISE: "severe_noise",
    NO_ECG: "no_ecg",
    ISOLATED: "isolated",
}

ProgressArg = bool | Callable[[float], None] | None
CancelArg = threading.Event | Callable[[], bool] | None


# ---------------------------------------------------------------------- progress and cancel
def _progress_callback(progress: ProgressArg, total: int, desc: str):
    """Return ``(update(done), close())`` for a bool (tqdm bar) or a fraction callback."""
    if progress is None or progress is False:
        return (lambda done: None), (lambda: None)
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, unit="samples", unit_scale=True, leave=False)

        def update(done: int) -> None:
            bar.n = done
            bar.refresh()

        return update, bar.close
    if callable(progress):
        return (lambda done: progress(done / total if total else 1.0)), (lambda: None)
    raise ParameterError("progress must be True/False or a callable taking a fraction (0..1)")


def _cancel_check(cancel: CancelArg) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    if callable(cancel):
        return cancel
    raise ParameterError("cancel must be a threading.Event or a callable returning bool")


# ---------------------------------------------------------------------- result
@dataclass
class QualityResult:
    """Quality of every lead on a grid of segments.

    Attributes
    ----------
    fs
        Sampling rate (Hz).
    n_samples
        Samples per lead of the signal that was assessed.
    segment_samples
        Segment length in samples (the last segment may be shorter).
    flags
        (n_leads, n_segments) uint8 bit flags (:data:`FLAT`, :data:`SATURATED`, ...).
    snr
        (n_leads, n_segments) float32 QRS-to-background slope ratio (0 where unusable for
        another reason, capped at 1000).
    leads
        Lead names.
    params
        The :class:`QualityParams` used.
    """

    fs: float
    n_samples: int
    segment_samples: int
    flags: np.ndarray
    snr: np.ndarray
    leads: list[str] = field(default_factory=list)
    params: QualityParams = field(default_factory=QualityParams)

    # ------------------------------------------------------------------ shape
    @property
    def n_leads(self) -> int:
        return int(self.flags.shape[0])

    @property
    def n_segments(self) -> int:
        return int(self.flags.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs

    def segment_bounds(self) -> np.ndarray:
        """(n_segments, 2) int64 first and one-past-last sample of every segment."""
        starts = np.arange(self.n_segments, dtype=np.int64) * self.segment_samples
        stops = np.minimum(starts + self.segment_samples, self.n_samples)
        return np.stack([starts, stops], axis=1)

    # ------------------------------------------------------------------ usability
    @property
    def usable(self) -> np.ndarray:
        """(n_leads, n_segments) bool: the lead can be used in that segment."""
        return (self.flags & UNUSABLE) == 0

    @property
    def segment_usable(self) -> np.ndarray:
        """(n_segments,) bool: at least one lead is usable."""
        return self.usable.any(axis=0)

    @property
    def score(self) -> np.ndarray:
        """(n_leads, n_segments) float32 in [0, 1]: 0 unusable, 1 clean, in between noisy."""
        p = self.params
        span = max(p.noisy_snr - p.unusable_snr, 1e-9)
        s = np.clip((self.snr.astype(np.float64) - p.unusable_snr) / span, 0.0, 1.0)
        s[~self.usable] = 0.0
        return s.astype(np.float32)

    def _segment_lengths(self) -> np.ndarray:
        b = self.segment_bounds()
        return (b[:, 1] - b[:, 0]).astype(np.float64)

    @property
    def analysable_s(self) -> float:
        """Seconds in which at least one lead is usable."""
        return float(self._segment_lengths()[self.segment_usable].sum() / self.fs)

    @property
    def noise_pct(self) -> float:
        """Percentage of the recording that is excluded (no usable lead)."""
        if self.n_samples == 0:
            return 0.0
        return float(100.0 * (1.0 - self.analysable_s / self.duration_s))

    @property
    def noisy_pct(self) -> float:
        """Percentage of the recording that is analysed although noisy: at least one lead is
        usable, but every usable lead is flagged :data:`NOISY` (SNR below ``noisy_snr``).
        Beats found there are less certain. Excluded time is not counted (see
        :attr:`noise_pct`)."""
        if self.n_samples == 0 or self.n_segments == 0:
            return 0.0
        clean = self.usable & ((self.flags & NOISY) == 0)
        noisy = self.segment_usable & ~clean.any(axis=0)
        return float(100.0 * self._segment_lengths()[noisy].sum() / self.n_samples)

    def excluded_intervals(self) -> np.ndarray:
        """Merged stretches with no usable lead, (k, 2) float64 seconds ``[start, end)``."""
        bad = ~self.segment_usable
        if not bad.any():
            return np.zeros((0, 2), dtype=np.float64)
        b = self.segment_bounds()
        first, stop = _runs(bad)
        return np.stack([b[first, 0], b[stop - 1, 1]], axis=1).astype(np.float64) / self.fs

    def sample_mask(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Bool array for samples ``[start, stop)``: True where no lead is usable."""
        stop = self.n_samples if stop is None else int(stop)
        start = int(start)
        if self.n_segments == 0 or stop <= start:
            return np.zeros(max(0, stop - start), dtype=bool)
        s0 = start // self.segment_samples
        s1 = min(self.n_segments, (stop - 1) // self.segment_samples + 1)
        mask = np.repeat(~self.segment_usable[s0:s1], self.segment_samples)
        offset = start - s0 * self.segment_samples
        return mask[offset : offset + (stop - start)]

    def usable_at(self, samples: np.ndarray) -> np.ndarray:
        """(n_leads, k) bool: lead usable at each of the given sample indices."""
        seg = np.clip(
            np.asarray(samples, dtype=np.int64) // self.segment_samples, 0, self.n_segments - 1
        )
        return self.usable[:, seg]

    def beat_quality(self, beats: np.ndarray) -> np.ndarray:
        """Per beat, the best lead's quality score (0..1) in the segment of the beat."""
        beats = np.asarray(beats, dtype=np.int64)
        if beats.size == 0 or self.n_segments == 0:
            return np.zeros(beats.size, dtype=np.float32)
        seg = np.clip(beats // self.segment_samples, 0, self.n_segments - 1)
        return self.score[:, seg].max(axis=0)

    def noise_events(self) -> list:
        """Excluded stretches of at least ``min_event_s`` as ``noise`` events (seconds)."""
        from holterlab.events import Event

        events = []
        for start, end in self.excluded_intervals():
            if end - start < self.params.min_event_s:
                continue
            s0 = int(round(start * self.fs)) // self.segment_samples
            s1 = int(np.ceil(end * self.fs / self.segment_samples))
            sub = self.flags[:, s0:s1]
            reasons = {
                name: int(np.count_nonzero((sub & bit).any(axis=0)))
                for bit, name in _FLAG_NAMES.items()
                if bit != NOISY and (sub & bit).any()
            }
            events.append(Event("noise", float(start), float(end), detail={"segments": reasons}))
        return events

    def summary(self) -> dict[str, Any]:
        """Per-lead percentages of time flagged, analysable time and noise percentage."""
        lengths = self._segment_lengths()
        total = max(float(lengths.sum()), 1.0)
        per_lead = {}
        names = self.leads or [f"lead{i}" for i in range(self.n_leads)]
        for i, name in enumerate(names):
            row = {
                flag_name: round(100.0 * lengths[(self.flags[i] & bit) != 0].sum() / total, 2)
                for bit, flag_name in _FLAG_NAMES.items()
            }
            row["usable_pct"] = round(100.0 * lengths[self.usable[i]].sum() / total, 2)
            per_lead[name] = row
        return {
            "duration_s": round(self.duration_s, 3),
            "analysable_s": round(self.analysable_s, 3),
            "noise_pct": round(self.noise_pct, 2),
            "noisy_pct": round(self.noisy_pct, 2),
            "segment_s": self.segment_samples / self.fs,
            "leads": per_lead,
        }

    def __repr__(self) -> str:
        return (
            f"<QualityResult leads={self.n_leads} segments={self.n_segments} "
            f"analysable={self.analysable_s:.1f}s noise={self.noise_pct:.1f}%>"
        )


# ---------------------------------------------------------------------- computation
@dataclass(frozen=True)
class _Geometry:
    seg_len: int
    lag: int
    dec: int
    run_len: int
    qrs_w: int
    qrs_lag: int
    hf_k: int


#: Boxcar length (s) and difference lag (s) of the QRS-band signal of the no-ECG test, and the
#: frequency (Hz) the high-frequency filter aims at (its lag is fs / (2 * that), >= 1 sample).
_QRS_BOX_S = 0.025
_QRS_LAG_S = 0.020
_HF_PEAK_HZ = 45.0
#: Columns of the raw statistics (see :func:`holterlab._quality_kernels.quality_stats`).
_N_STATS = 9


def _geometry(fs: float, params: QualityParams) -> _Geometry:
    seg_len = max(1, int(round(params.segment_s * fs)))
    lag = max(1, int(round(params.noise_band_ms * fs / 1000.0)))
    dec = max(1, int(round(fs / 50.0)))
    run_len = max(2, int(round(params.saturation_ms * fs / 1000.0)))
    qrs_w = max(1, int(round(_QRS_BOX_S * fs)))
    qrs_lag = max(1, int(round(_QRS_LAG_S * fs)))
    hf_k = max(1, int(round(fs / (2.0 * _HF_PEAK_HZ))))
    return _Geometry(seg_len, lag, dec, run_len, qrs_w, qrs_lag, hf_k)


def _stats(x: np.ndarray, fs: float, params: QualityParams) -> np.ndarray:
    """Raw per-segment statistics (n_leads, n_seg, 9) of a block starting on the grid."""
    from holterlab._quality_kernels import quality_stats

    geo = _geometry(fs, params)
    n_seg = -(-x.shape[1] // geo.seg_len)
    out = np.zeros((x.shape[0], n_seg, _N_STATS), dtype=np.float64)
    if n_seg:
        quality_stats(
            x, geo.seg_len, geo.lag, geo.dec, geo.run_len, params.max_abs_mv,
            geo.qrs_w, geo.qrs_lag, geo.hf_k, out,
        )  # fmt: skip
    return out


def _window_segments(window_s: float, segment_s: float) -> int:
    """Odd number of segments closest to ``window_s`` (at least 1)."""
    n = max(1, int(round(window_s / segment_s)))
    return n if n % 2 == 1 else n + 1


def _running_median(values: np.ndarray, size: int) -> np.ndarray:
    """Centred running median along the last axis ignoring NaN (window clipped at edges)."""
    from holterlab._quality_kernels import running_nanmedian

    v = np.asarray(values, dtype=np.float64)
    if v.shape[-1] == 0:
        return v.copy()
    flat = np.ascontiguousarray(v.reshape(-1, v.shape[-1]))
    return running_nanmedian(flat, int(size)).reshape(v.shape)


def _running_median_reference(values: np.ndarray, size: int) -> np.ndarray:
    """Plain numpy version of :func:`_running_median` (nanmedian over sliding windows)."""
    half = size // 2
    n = values.shape[-1]
    if n == 0:
        return values.copy()
    padded = np.pad(values, [(0, 0)] * (values.ndim - 1) + [(half, half)], constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, size, axis=-1)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return np.nanmedian(windows, axis=-1)


def _no_ecg(stats: np.ndarray, hard: np.ndarray, params: QualityParams, seg_s: float):
    """(n_leads, n_seg) bool: the lead shows no QRS complexes (see :class:`QualityParams`).

    Per-segment QRS-band amplitude, kurtosis and high-frequency ratio are replaced by their
    running medians over ``ecg_window_s`` (hard-flagged segments ignored), so a pause or a
    short burst of noise does not decide alone.
    """
    size = _window_segments(params.ecg_window_s, seg_s)
    top, kurt, hf = (
        _running_median(np.where(hard, np.nan, stats[..., c]), size) for c in (5, 6, 7)
    )
    with np.errstate(invalid="ignore"):
        too_small = (top < params.qrs_min_mv) & (kurt < params.ecg_kurtosis)
        muscle = (hf > params.hf_ratio_max) & (kurt < params.ecg_kurtosis)
    # muscle-like content rules a lead out only where no lead shows ECG: ECG under heavy
    # muscle noise on one lead still helps the multi-lead detector (its weight follows
    # its SNR), while a recording of noise alone must not yield beats
    usable = ~hard & ~too_small
    muscle_everywhere = np.all(muscle | ~usable, axis=0, keepdims=True)
    return ~hard & (too_small | (muscle & muscle_everywhere))


def _runs(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First and one-past-last index of every run of True in ``mask``."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)


def _islands(flags: np.ndarray, params: QualityParams, seg_s: float) -> np.ndarray:
    """(n_seg,) bool: usable segments lying between two excluded stretches of at least
    ``island_gap_s`` (or one and the recording's edge) with less than ``min_island_s`` of
    usable time in between."""
    n_seg = flags.shape[1]
    out = np.zeros(n_seg, dtype=bool)
    if params.min_island_s <= 0 or n_seg == 0:
        return out
    usable = ((flags & UNUSABLE) == 0).any(axis=0)
    b0, b1 = _runs(~usable)
    long_gap = (b1 - b0) * seg_s >= params.island_gap_s
    if not long_gap.any():
        return out
    # the stretches between consecutive long gaps (and the recording's edges)
    lo = np.concatenate([[0], b1[long_gap]])
    hi = np.concatenate([b0[long_gap], [n_seg]])
    cum = np.concatenate([[0], np.cumsum(usable)])
    for a, b in zip(lo, hi, strict=True):
        n_usable = cum[b] - cum[a]
        if b > a and 0 < n_usable and n_usable * seg_s < params.min_island_s:
            out[a:b] = usable[a:b]
    return out


def _result(
    stats: np.ndarray, fs: float, n_samples: int, params: QualityParams, leads: list[str]
) -> QualityResult:
    geo = _geometry(fs, params)
    missing = stats[..., 0] * 100.0 > params.max_missing_pct
    flat = ~missing & (stats[..., 1] < params.flat_mv)
    saturated = ~missing & ~flat & (stats[..., 2] * 100.0 > params.saturation_pct)
    # a lead off for part of the segment: long runs of one (not extreme) value
    flat |= ~missing & ~saturated & (stats[..., 8] * 100.0 > params.max_constant_pct)
    hard = missing | flat | saturated
    top = np.where(hard, np.nan, stats[..., 3])
    ref = _running_median(top, params.reference_segments)
    bg = stats[..., 4]
    with np.errstate(divide="ignore", invalid="ignore"):
        snr = np.where(bg > 0, ref / np.where(bg > 0, bg, 1.0), np.inf)
    snr = np.where(np.isfinite(ref), snr, 0.0)
    snr = np.where(hard, 0.0, np.minimum(snr, 1000.0))
    flags = np.zeros(stats.shape[:2], dtype=np.uint8)
    flags[flat] |= FLAT
    flags[saturated] |= SATURATED
    flags[missing] |= MISSING
    noisy = ~hard & (snr < params.noisy_snr)
    flags[noisy] |= NOISY
    flags[~hard & (snr < params.unusable_snr)] |= SEVERE_NOISE
    flags[_no_ecg(stats, hard, params, geo.seg_len / fs)] |= NO_ECG
    flags[:, _islands(flags, params, geo.seg_len / fs)] |= ISOLATED
    return QualityResult(
        fs=fs,
        n_samples=int(n_samples),
        segment_samples=geo.seg_len,
        flags=flags,
        snr=snr.astype(np.float32),
        leads=list(leads),
        params=params,
    )


def signal_quality(
    signal: np.ndarray,
    fs: float,
    *,
    params: QualityParams | None = None,
    leads: list[str] | None = None,
) -> QualityResult:
    """Assess the quality of a signal, lead by lead and segment by segment.

    Parameters
    ----------
    signal
        Millivolts, shape ``(n_leads, n)`` or ``(n,)``; NaN/inf samples mark gaps.
    fs
        Sampling rate in Hz.
    params
        :class:`~holterlab.params.detection.QualityParams` (defaults if None).
    leads
        Lead names (default ``lead0``, ``lead1``, ...).

    Returns
    -------
    QualityResult
    """
    params = params or QualityParams()
    fs = check_fs(fs)
    x = as_leads(signal, float32=True)
    names = list(leads) if leads is not None else [f"lead{i}" for i in range(x.shape[0])]
    if len(names) != x.shape[0]:
        raise ParameterError(f"{len(names)} lead names given for {x.shape[0]} leads")
    return _result(_stats(x, fs, params), fs, x.shape[1], params, names)


def quality_recording(
    recording,
    *,
    params: QualityParams | None = None,
    chunk_s: float = 1800.0,
    leads: Any = None,
    progress: ProgressArg = None,
    cancel: CancelArg = None,
) -> QualityResult:
    """:func:`signal_quality` of a :class:`~holterlab.recording.Recording`, read in chunks.

    Chunks are whole numbers of segments, so the result equals :func:`signal_quality` on
    the whole signal whatever ``chunk_s`` is. ``progress`` is True (tqdm bar) or a callable
    taking the fraction done; ``cancel`` is a :class:`threading.Event` or a callable, checked
    between chunks (raises :class:`~holterlab.errors.CancelledError`).
    """
    params = params or QualityParams()
    fs = float(recording.fs)
    idx = recording.lead_indices(leads)
    geo = _geometry(fs, params)
    if not np.isfinite(chunk_s) or chunk_s <= 0:
        raise ParameterError(f"chunk_s must be a positive number of seconds, got {chunk_s!r}")
    step = max(1, int(round(chunk_s * fs)) // geo.seg_len) * geo.seg_len
    n = recording.n_samples
    is_cancelled = _cancel_check(cancel)
    update, close = _progress_callback(progress, n, "signal quality")
    parts = []
    try:
        for i0 in range(0, n, step):
            if is_cancelled():
                raise CancelledError("signal quality assessment cancelled")
            block = as_leads(recording.get_samples(idx, i0, min(n, i0 + step)), float32=True)
            parts.append(_stats(block, fs, params))
            update(min(n, i0 + step))
    finally:
        close()
    stats = (
        np.concatenate(parts, axis=1)
        if parts
        else np.zeros((len(idx), 0, _N_STATS), dtype=np.float64)
    )
    return _result(stats, fs, n, params, [recording.leads[i] for i in idx])
