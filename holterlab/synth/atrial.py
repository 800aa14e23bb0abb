"""Atrial activity that is not a P wave: fibrillatory f waves (AF) and flutter F waves.

Both are closed-form functions of the absolute time inside their episode, so any window
renders the same values. f waves: a frequency-modulated oscillation (4-9 Hz, drifting) with a
harmonic and a slowly varying amplitude. F waves: a sawtooth at the flutter rate (about
300/min) whose phase origin is the one the beat walk aligned the conducted beats to.

:func:`render_atrial_py` is the plain-Python kernel; :data:`render_atrial` the same code
compiled by numba.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numba
import numpy as np

__all__ = ["AtrialEpisodes", "render_atrial", "render_atrial_py", "TAPER_S"]

#: Seconds over which f/F waves fade in and out at an episode's edges.
TAPER_S = 0.5


@dataclass
class AtrialEpisodes:
    """Episodes with atrial waves; ``kind`` 1 = AF, 2 = flutter.

    ``start``/``end`` bound the waves (s), ``t0`` is the phase origin, ``freq`` the mean f-wave
    frequency (Hz, AF) or the flutter cycle length (s, AFL), ``df``/``fm`` the frequency
    deviation and modulation rate (AF), ``ph1``/``ph2`` phases, ``lead_amp`` (E, n_leads) the
    amplitude in mV per lead.
    """

    kind: np.ndarray
    start: np.ndarray
    end: np.ndarray
    t0: np.ndarray
    freq: np.ndarray
    df: np.ndarray
    fm: np.ndarray
    ph1: np.ndarray
    ph2: np.ndarray
    lead_amp: np.ndarray

    def __len__(self) -> int:
        return int(self.kind.size)

    def select(self, lo: float, hi: float) -> AtrialEpisodes:
        """Episodes overlapping ``[lo, hi)`` seconds."""
        m = (self.end > lo) & (self.start < hi)
        return AtrialEpisodes(
            *(getattr(self, f)[m] for f in
              ("kind", "start", "end", "t0", "freq", "df", "fm", "ph1", "ph2", "lead_amp"))
        )  # fmt: skip


def render_atrial_py(out, first, fs, leads, kind, start, end, t0, freq, df, fm, ph1, ph2, lead_amp):
    """Add the atrial waves of some episodes to ``out`` (rows = ``leads``) from ``first``."""
    two_pi = 2.0 * math.pi
    n = out.shape[1]
    last = first + n
    for e in range(kind.size):
        lo = math.ceil(start[e] * fs)
        hi = math.ceil(end[e] * fs)
        if lo < first:
            lo = first
        if hi > last:
            hi = last
        for i in range(lo, hi):
            t = i / fs
            taper = min((t - start[e]) / 0.5, (end[e] - t) / 0.5, 1.0)
            if taper <= 0.0:
                continue
            taper = 0.5 - 0.5 * math.cos(math.pi * taper)
            tau = t - t0[e]
            if kind[e] == 1:
                theta = two_pi * freq[e] * tau - df[e] / fm[e] * math.cos(
                    two_pi * fm[e] * tau + ph1[e]
                )
                level = 1.0 + 0.35 * math.sin(two_pi * 0.13 * tau + ph2[e])
                v = level * (math.sin(theta) + 0.35 * math.sin(2.0 * theta + ph2[e]))
            else:
                x = tau / freq[e]
                phase = x - math.floor(x)
                if phase < 0.8:
                    v = 1.0 - 2.0 * phase / 0.8
                else:
                    v = -1.0 + 2.0 * (phase - 0.8) / 0.2
            v *= taper
            for k in range(out.shape[0]):
                out[k, i - first] += lead_amp[e, leads[k]] * v
    return out


render_atrial = numba.njit(cache=True)(render_atrial_py)
