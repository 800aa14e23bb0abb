"""Compiled (numba) kernels of the HRV layer; imported on first use.

The plain-Python reference of :func:`change_filter` is
:func:`holterlab.hrv.nn.change_filter_python`; ``tests/hrv/test_nn.py`` proves them equal.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(cache=True)
def change_filter(nn_ms, start_s, end_s, max_frac, reset_s):  # pragma: no cover - compiled
    """Keep mask of the percent-change filter; see ``change_filter_python``."""
    n = nn_ms.size
    keep = np.zeros(n, dtype=np.bool_)
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


@numba.njit(cache=True)
def dfa_fluctuation(profile, scales):  # pragma: no cover - compiled
    """DFA ``F(s)`` of a profile for each box size; see ``nonlinear._dfa_fluctuation_numpy``."""
    out = np.full(scales.size, np.nan)
    for i in range(scales.size):
        s = scales[i]
        rows = profile.size // s
        if rows < 1:
            continue
        half = (s - 1) / 2.0
        sxx = s * (s * s - 1) / 12.0
        total = 0.0
        for r in range(rows):
            base = r * s
            mean = 0.0
            for j in range(s):
                mean += profile[base + j]
            mean /= s
            syy = 0.0
            sxy = 0.0
            for j in range(s):
                d = profile[base + j] - mean
                syy += d * d
                sxy += (j - half) * d
            total += syy - sxy * sxy / sxx
        out[i] = np.sqrt(max(total, 0.0) / (rows * s))
    return out
