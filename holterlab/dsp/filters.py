"""Zero-phase filters for ECG: band limiting, baseline-wander and mains removal, resampling.

Every function takes a signal of shape ``(n,)`` or ``(n_leads, n)`` (time on the last axis)
with its sampling rate ``fs`` in Hz, and returns float32 of the same shape. Filters are
Butterworth or notch designs run forwards and backwards (:func:`scipy.signal.sosfiltfilt`),
so they add no delay. NaN samples are not allowed here (gaps must be handled by the caller,
e.g. with :mod:`holterlab.quality`).
"""

from __future__ import annotations

from fractions import Fraction

import numpy as np

from holterlab.dsp.design import butter_sos
from holterlab.errors import ParameterError

__all__ = [
    "design_sos",
    "bandpass",
    "highpass",
    "lowpass",
    "remove_baseline",
    "mains_frequency",
    "remove_mains",
    "resample",
    "resample_indices",
]


def _scipy_signal():
    """:mod:`scipy.signal`, imported on first use (it costs about a second)."""
    from scipy import signal

    return signal


def _check_fs(fs: float) -> float:
    try:
        value = float(fs)
    except (TypeError, ValueError):
        raise ParameterError(f"fs must be a number of Hz, got {fs!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ParameterError(f"fs must be a positive number of Hz, got {fs!r}")
    return value


def _as_signal(signal: np.ndarray, *, allow_nan: bool = False) -> np.ndarray:
    x = np.asarray(signal)
    if x.ndim not in (1, 2):
        raise ParameterError(f"signal must have shape (n,) or (n_leads, n), got {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ParameterError(f"signal must be numeric, got dtype {x.dtype}")
    if not allow_nan and x.size and not np.all(np.isfinite(x)):
        raise ParameterError(
            "signal contains NaN or infinite samples; fill or cut the gaps first "
            "(holterlab.quality marks them)"
        )
    return x


def design_sos(
    fs: float,
    *,
    low_hz: float | None = None,
    high_hz: float | None = None,
    order: int = 2,
) -> np.ndarray:
    """Butterworth second-order sections: band-pass, high-pass (no ``high_hz``) or low-pass.

    Parameters
    ----------
    fs
        Sampling rate in Hz.
    low_hz, high_hz
        Cut-off frequencies in Hz; at least one. They must satisfy
        ``0 < low_hz < high_hz < fs / 2``.
    order
        Butterworth order per edge (a band-pass has ``2 * order`` poles).
    """
    fs = _check_fs(fs)
    nyq = fs / 2.0
    if not isinstance(order, (int, np.integer)) or not 1 <= int(order) <= 10:
        raise ParameterError(f"filter order must be a whole number from 1 to 10, got {order!r}")
    if low_hz is None and high_hz is None:
        raise ParameterError("give low_hz, high_hz or both")
    for name, value in (("low_hz", low_hz), ("high_hz", high_hz)):
        if value is not None and (not np.isfinite(value) or not 0 < value < nyq):
            raise ParameterError(
                f"{name}={value} Hz must lie between 0 and the Nyquist frequency {nyq:g} Hz "
                f"(fs={fs:g} Hz)"
            )
    if low_hz is not None and high_hz is not None:
        if low_hz >= high_hz:
            raise ParameterError(f"low_hz ({low_hz}) must be below high_hz ({high_hz})")
        return butter_sos(int(order), (low_hz, high_hz), "bandpass", fs)
    if low_hz is not None:
        return butter_sos(int(order), low_hz, "highpass", fs)
    return butter_sos(int(order), high_hz, "lowpass", fs)


def _filtfilt(sos: np.ndarray, x: np.ndarray) -> np.ndarray:
    if x.shape[-1] == 0:
        return x.astype(np.float32)
    # scipy's default odd-extension padding, shortened for very short signals
    padlen = min(x.shape[-1] - 1, 3 * (2 * sos.shape[0] + 1))
    y = _scipy_signal().sosfiltfilt(sos, x.astype(np.float64, copy=False), axis=-1, padlen=padlen)
    return y.astype(np.float32)


def bandpass(
    signal: np.ndarray,
    fs: float,
    *,
    low_hz: float,
    high_hz: float,
    order: int = 2,
) -> np.ndarray:
    """Zero-phase Butterworth band-pass between ``low_hz`` and ``high_hz``."""
    x = _as_signal(signal)
    return _filtfilt(design_sos(fs, low_hz=low_hz, high_hz=high_hz, order=order), x)


def highpass(signal: np.ndarray, fs: float, *, cutoff_hz: float, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth high-pass at ``cutoff_hz``."""
    x = _as_signal(signal)
    return _filtfilt(design_sos(fs, low_hz=cutoff_hz, order=order), x)


def lowpass(signal: np.ndarray, fs: float, *, cutoff_hz: float, order: int = 2) -> np.ndarray:
    """Zero-phase Butterworth low-pass at ``cutoff_hz``."""
    x = _as_signal(signal)
    return _filtfilt(design_sos(fs, high_hz=cutoff_hz, order=order), x)


def remove_baseline(
    signal: np.ndarray,
    fs: float,
    *,
    cutoff_hz: float = 0.67,
    method: str = "butter",
) -> np.ndarray:
    """Remove baseline wander.

    Parameters
    ----------
    cutoff_hz
        For ``method="butter"``: cut-off of a zero-phase 2nd-order Butterworth high-pass.
        0.67 Hz (40 bpm) is the AHA recommendation for monitoring that keeps the ST segment.
    method
        ``"butter"`` (fast, default) or ``"median"``: subtract the baseline estimated by a
        200 ms then a 600 ms median filter (de Chazal et al. 2004; slower, keeps the
        QRS shape exactly).
    """
    x = _as_signal(signal)
    fs = _check_fs(fs)
    if method == "butter":
        return highpass(x, fs, cutoff_hz=cutoff_hz, order=2)
    if method == "median":
        from scipy.ndimage import median_filter

        x32 = np.asarray(x, dtype=np.float32)
        w1 = max(1, int(round(0.2 * fs)) | 1)
        w2 = max(1, int(round(0.6 * fs)) | 1)
        size1 = (1, w1) if x32.ndim == 2 else (w1,)
        size2 = (1, w2) if x32.ndim == 2 else (w2,)
        base = median_filter(x32, size=size1, mode="nearest")
        base = median_filter(base, size=size2, mode="nearest")
        return (x32 - base).astype(np.float32)
    raise ParameterError(f"unknown baseline method {method!r}; use 'butter' or 'median'")


def mains_frequency(
    signal: np.ndarray,
    fs: float,
    *,
    candidates: tuple[float, ...] = (50.0, 60.0),
    min_prominence_db: float = 6.0,
    max_seconds: float = 600.0,
) -> float | None:
    """Find the mains (power-line) frequency from the data.

    Welch's power spectrum of (up to) ``max_seconds`` of every lead is searched for a narrow
    peak at each candidate frequency (±0.5 Hz) above the median level of its neighbourhood
    (2-6 Hz away). The candidate with the most prominent peak wins if it stands at least
    ``min_prominence_db`` above its neighbourhood; otherwise there is no mains interference
    worth removing and None is returned. Candidates at or above ``fs / 2`` are skipped (at
    125 Hz a 60 Hz peak sits close to the Nyquist frequency and is judged on one side only).
    """
    x = _as_signal(signal)
    fs = _check_fs(fs)
    x = np.atleast_2d(x)
    n = min(x.shape[-1], int(max_seconds * fs))
    if n < int(2 * fs):
        return None
    nperseg = min(n, int(round(4 * fs)))  # 0.25 Hz resolution
    freqs, psd = _scipy_signal().welch(
        x[:, :n].astype(np.float64), fs=fs, nperseg=nperseg, axis=-1, detrend="linear"
    )
    psd = psd.mean(axis=0)
    best, best_db = None, -np.inf
    for f0 in candidates:
        if f0 >= fs / 2:
            continue
        peak_band = (freqs >= f0 - 0.5) & (freqs <= f0 + 0.5)
        near = (np.abs(freqs - f0) >= 2.0) & (np.abs(freqs - f0) <= 6.0)
        if not peak_band.any() or near.sum() < 3:
            continue
        peak = psd[peak_band].max()
        floor = np.median(psd[near])
        if floor <= 0 or peak <= 0:
            continue
        db = 10.0 * np.log10(peak / floor)
        if db > best_db:
            best, best_db = float(f0), db
    if best is None or best_db < min_prominence_db:
        return None
    return best


def remove_mains(
    signal: np.ndarray,
    fs: float,
    *,
    mains_hz: float | None = None,
    harmonics: bool = True,
    quality_factor: float = 30.0,
) -> np.ndarray:
    """Remove mains interference with zero-phase notch filters.

    Parameters
    ----------
    mains_hz
        Mains frequency; None finds it from the data with :func:`mains_frequency` (and
        returns the signal unchanged, as float32, when there is no mains peak).
    harmonics
        Also notch the harmonics below 0.95 x the Nyquist frequency.
    quality_factor
        Notch quality factor (centre frequency / -3 dB bandwidth).
    """
    x = _as_signal(signal)
    fs = _check_fs(fs)
    if mains_hz is None:
        mains_hz = mains_frequency(x, fs)
        if mains_hz is None:
            return np.asarray(x, dtype=np.float32).copy()
    if not np.isfinite(mains_hz) or mains_hz <= 0:
        raise ParameterError(f"mains_hz must be a positive frequency, got {mains_hz!r}")
    if mains_hz >= 0.95 * fs / 2:
        raise ParameterError(
            f"mains frequency {mains_hz:g} Hz is too close to the Nyquist frequency {fs / 2:g} Hz"
        )
    if quality_factor <= 0:
        raise ParameterError("quality_factor must be positive")
    sections = []
    k = 1
    while k * mains_hz < 0.95 * fs / 2 and (k == 1 or harmonics):
        b, a = _scipy_signal().iirnotch(k * mains_hz, quality_factor, fs=fs)
        sections.append(_scipy_signal().tf2sos(b, a))
        k += 1
    sos = np.concatenate(sections, axis=0)
    return _filtfilt(sos, x)


def resample(signal: np.ndarray, fs: float, fs_new: float) -> np.ndarray:
    """Resample to ``fs_new`` Hz with a polyphase anti-aliasing filter.

    The rate ratio is approximated by a fraction with denominator at most 1000; the output
    has ``round(n * fs_new / fs)`` samples and sample ``i`` lies at time ``i / fs_new``.
    """
    x = _as_signal(signal)
    fs = _check_fs(fs)
    fs_new = _check_fs(fs_new)
    ratio = Fraction(fs_new / fs).limit_denominator(1000)
    up, down = ratio.numerator, ratio.denominator
    if up == down:
        return np.asarray(x, dtype=np.float32).copy()
    n_out = int(round(x.shape[-1] * fs_new / fs))
    if x.shape[-1] == 0:
        return np.zeros(x.shape[:-1] + (0,), dtype=np.float32)
    x64 = x.astype(np.float64, copy=False)
    y = _scipy_signal().resample_poly(x64, up, down, axis=-1, padtype="line")
    if y.shape[-1] < n_out:
        pad = [(0, 0)] * (y.ndim - 1) + [(0, n_out - y.shape[-1])]
        y = np.pad(y, pad, mode="edge")
    return y[..., :n_out].astype(np.float32)


def resample_indices(indices: np.ndarray, fs: float, fs_new: float) -> np.ndarray:
    """Convert sample indices at ``fs`` to the nearest sample indices at ``fs_new`` (int64)."""
    fs = _check_fs(fs)
    fs_new = _check_fs(fs_new)
    idx = np.asarray(indices, dtype=np.float64)
    return np.round(idx * (fs_new / fs)).astype(np.int64)
