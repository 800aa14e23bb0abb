"""Helpers shared by the format writers: chunked reading, range scans and quantisation.

Writers never hold a whole multi-day signal in memory. They walk the recording in windows
(an hour by default) with :func:`iter_windows`, get exact physical values with
:func:`read_physical64`, and turn them into stored integers with :func:`quantise`. When the
stored calibration is not known in advance, :func:`scan_range` finds each lead's finite
minimum and maximum in one extra pass.

Conventions: physical values are millivolts and ``mV = (raw - zero) / gain``, so
``raw = round(mV * gain + zero)``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from holterlab.recording import Recording

__all__ = [
    "CHUNK_SECONDS",
    "chunk_samples",
    "iter_windows",
    "read_physical64",
    "scan_range",
    "quantise",
]

#: Default length of one writer chunk in seconds.
CHUNK_SECONDS = 3600.0


def chunk_samples(fs: float, seconds: float = CHUNK_SECONDS, *, multiple: int = 1) -> int:
    """Number of samples in a chunk of ``seconds`` at ``fs``, rounded to a ``multiple``."""
    n = max(1, int(round(seconds * fs)))
    multiple = max(1, int(multiple))
    return max(multiple, (n // multiple) * multiple)


def iter_windows(
    n_samples: int, step: int, *, progress: bool = False, desc: str = ""
) -> Iterator[tuple[int, int]]:
    """Yield ``(start, stop)`` windows of ``step`` samples covering ``[0, n_samples)``.

    With ``progress=True`` a tqdm bar counts the samples done (on stderr).
    """
    step = max(1, int(step))
    bar = None
    if progress:
        from tqdm.auto import tqdm

        bar = tqdm(total=int(n_samples), desc=desc or None, unit="sample", unit_scale=True)
    try:
        for i0 in range(0, int(n_samples), step):
            i1 = min(int(n_samples), i0 + step)
            yield i0, i1
            if bar is not None:
                bar.update(i1 - i0)
    finally:
        if bar is not None:
            bar.close()


def read_physical64(rec: Recording, start: int, stop: int) -> np.ndarray:
    """Physical values (mV) of all leads for samples ``[start, stop)`` as float64.

    When the source keeps stored integers and the recording has ``adc_gain``, the values are
    computed from the integers in float64 (``(raw - zero) / gain``), so that a writer using
    the same calibration reproduces the integers exactly; samples the source reports as NaN
    (invalid) stay NaN. Otherwise the source's float32 values are widened.
    """
    phys = rec.get_samples(None, start, stop)
    if rec.adc_gain is None:
        return phys.astype(np.float64)
    digital = rec.get_digital(None, start, stop)
    if digital is None:
        return phys.astype(np.float64)
    zero = np.zeros(rec.n_leads) if rec.adc_zero is None else rec.adc_zero
    out = (np.asarray(digital, dtype=np.float64) - zero[:, None]) / rec.adc_gain[:, None]
    nan = np.isnan(phys)
    if nan.any():
        out[nan] = np.nan
    return out


def scan_range(
    rec: Recording, *, step: int | None = None, progress: bool = False
) -> tuple[np.ndarray, np.ndarray]:
    """Finite minimum and maximum of each lead in mV (one pass over the recording).

    Leads without any finite sample get ``(0, 0)``. Returns two float64 arrays of shape
    ``(n_leads,)``.
    """
    n_leads = rec.n_leads
    lo = np.full(n_leads, np.inf)
    hi = np.full(n_leads, -np.inf)
    step = chunk_samples(rec.fs) if step is None else step
    for i0, i1 in iter_windows(rec.n_samples, step, progress=progress, desc="scan"):
        block = read_physical64(rec, i0, i1)
        with np.errstate(invalid="ignore"):
            finite = np.isfinite(block)
            if finite.all():
                lo = np.minimum(lo, block.min(axis=1))
                hi = np.maximum(hi, block.max(axis=1))
            else:
                lo = np.minimum(lo, np.where(finite, block, np.inf).min(axis=1))
                hi = np.maximum(hi, np.where(finite, block, -np.inf).max(axis=1))
    empty = ~np.isfinite(lo)
    lo[empty] = 0.0
    hi[empty] = 0.0
    return lo, hi


def quantise(
    x: np.ndarray,
    gain: np.ndarray,
    zero: np.ndarray,
    dmin: int | np.ndarray,
    dmax: int | np.ndarray,
    *,
    nan_value: int,
) -> np.ndarray:
    """Stored integers for physical values ``x`` (shape ``(n_leads, n)``).

    ``raw = round(x * gain + zero)`` clipped to ``[dmin, dmax]`` (per lead or scalar); NaN
    becomes ``nan_value``. The rounding error is at most half a step, ``0.5 / gain`` mV, for
    values inside the digital range. Returns int32.
    """
    gain = np.asarray(gain, dtype=np.float64).reshape(-1, 1)
    zero = np.asarray(zero, dtype=np.float64).reshape(-1, 1)
    lo = np.asarray(dmin, dtype=np.float64).reshape(-1, 1) if np.ndim(dmin) else float(dmin)
    hi = np.asarray(dmax, dtype=np.float64).reshape(-1, 1) if np.ndim(dmax) else float(dmax)
    d = np.asarray(x, dtype=np.float64) * gain + zero
    nan = np.isnan(d)
    has_nan = bool(nan.any())
    if has_nan:
        d[nan] = 0.0
    np.rint(d, out=d)
    np.clip(d, lo, hi, out=d)
    out = d.astype(np.int32)
    if has_nan:
        out[nan] = nan_value
    return out
