"""Int16 interleaved samples to float32 millivolts in one pass (numba).

Reading a multi-day file chunk by chunk is dominated by this conversion when done with numpy
(a transpose, a cast and two in-place passes, each over the whole block). The kernel does it
in one pass, with the same float32 operations, so its output is bit-identical to the numpy
path in :meth:`holterlab.io.aiecg.Int16MemmapSource.read` (the plain reference; a test
compares both). Imported only for long reads, so opening a file does not load numba.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["int16_rows_to_mv"]


@numba.njit(cache=True, nogil=True)
def _convert(rows, leads, zero, gain, missing, has_missing, out):
    n = rows.shape[0]
    for k in range(leads.size):
        lead = leads[k]
        z = zero[lead]
        g = gain[lead]
        for i in range(n):
            v = rows[i, lead]
            if has_missing and v == missing:
                out[k, i] = np.nan
            else:
                out[k, i] = (np.float32(v) - z) / g


def int16_rows_to_mv(
    rows: np.ndarray,
    leads: list[int],
    zero: np.ndarray,
    gain: np.ndarray,
    missing: int | None,
) -> np.ndarray:
    """``(len(leads), n)`` float32 ``(raw - zero) / gain`` of int16 ``rows`` (n, n_leads),
    NaN where ``raw == missing``; ``zero``/``gain`` per lead, computed in float32."""
    out = np.empty((len(leads), rows.shape[0]), dtype=np.float32)
    _convert(
        np.ascontiguousarray(rows),
        np.asarray(leads, dtype=np.int64),
        np.asarray(zero, dtype=np.float32),
        np.asarray(gain, dtype=np.float32),
        np.int16(0 if missing is None else missing),
        missing is not None,
        out,
    )
    return out
