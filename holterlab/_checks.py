"""Argument checks shared by the signal-processing stages (clear ParameterError messages)."""

from __future__ import annotations

from typing import Any

import numpy as np

from holterlab.errors import ParameterError

__all__ = ["check_fs", "as_leads"]


def check_fs(fs: Any) -> float:
    """A sampling rate as a positive finite float (ParameterError otherwise)."""
    try:
        value = float(fs)
    except (TypeError, ValueError):
        raise ParameterError(f"fs must be a number of Hz, got {fs!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise ParameterError(f"fs must be a positive number of Hz, got {fs!r}")
    return value


def as_leads(signal: Any, *, float32: bool = False) -> np.ndarray:
    """A signal as a 2-D ``(n_leads, n)`` numeric array (1-D input is one lead).

    With ``float32=True`` the result is a C-contiguous float32 array.
    """
    x = np.asarray(signal)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ParameterError(f"signal must have shape (n,) or (n_leads, n), got {x.shape}")
    if not (np.issubdtype(x.dtype, np.floating) or np.issubdtype(x.dtype, np.integer)):
        raise ParameterError(f"signal must be numeric (mV), got dtype {x.dtype}")
    if x.shape[0] == 0:
        raise ParameterError("signal has no leads")
    return np.ascontiguousarray(x, dtype=np.float32) if float32 else x
