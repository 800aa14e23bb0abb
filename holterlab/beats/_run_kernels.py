"""Numba kernel of the supraventricular-run rule, with its plain-Python reference.

:func:`sv_runs` marks the beats of regular narrow-complex runs that start abruptly
(:func:`holterlab.beats.decision.supraventricular_runs` explains the rule). ``sv_runs_ref``
is a direct Python transcription of the same definition; tests prove both equal.
"""

from __future__ import annotations

import numba
import numpy as np

__all__ = ["sv_runs", "sv_runs_ref"]


@numba.njit(cache=True)
def sv_runs(rr, ctx_p, onset, ok, look, cont, min_len, max_irr, min_p):  # pragma: no cover
    """Beats inside supraventricular runs (bool per beat).

    Parameters
    ----------
    rr : float64 array
        RR interval before each beat (s).
    ctx_p : float64 array
        Sinus-P-wave evidence around each beat (correlation with the running P template).
    onset : bool array
        Beats that may start a run (abruptly premature, narrow, regular neighbourhood).
    ok : bool array
        Beats that may continue a run (narrow, not ventricular).
    look : int
        Number of RR intervals before the onset whose median is the run's reference RR.
        The two beats before the onset must be ``ok``: the prematurity of a beat after an
        ectopic beat's pause means nothing.
    cont : float
        A beat continues the run while its RR is below ``cont`` times the reference RR. The
        second beat's RR must also be below the onset's RR divided by ``cont``: a run keeps
        its rate, while an isolated early beat is followed by a longer return cycle (also
        when sinus tachycardia builds up behind it).
    min_len : int
        Fewest beats of a run.
    max_irr : float
        Largest median ``|RR[j] - RR[j-1]| / RR[j]`` inside the run (runs are regular).
    min_p : float
        Smallest median ``ctx_p`` over the run's beats (atrial activity is P-wave-like, not
        flutter or fibrillatory waves).
    """
    n = rr.size
    out = np.zeros(n, dtype=np.bool_)
    last = -1
    for i in range(max(look, 2), n):
        if i <= last or not onset[i] or not ok[i - 1] or not ok[i - 2]:
            continue
        anchor = np.median(rr[i - look : i])
        j = i + 1
        if j < n and cont * rr[j] >= rr[i]:
            continue  # an early beat followed by a return cycle, not a run
        while j < n and ok[j] and rr[j] < cont * anchor:
            j += 1
        if j - i < min_len:
            continue
        m = j - i - 1
        d = np.empty(m)
        for k in range(m):
            d[k] = abs(rr[i + k + 1] - rr[i + k]) / rr[i + k + 1]
        if np.median(d) > max_irr or np.median(ctx_p[i:j]) < min_p:
            continue
        out[i:j] = True
        last = j
    return out


def sv_runs_ref(rr, ctx_p, onset, ok, look, cont, min_len, max_irr, min_p) -> np.ndarray:
    """Plain-Python reference of :func:`sv_runs`."""
    rr = [float(v) for v in rr]
    n = len(rr)
    out = [False] * n
    last = -1
    for i in range(max(look, 2), n):
        if i <= last or not onset[i] or not ok[i - 1] or not ok[i - 2]:
            continue
        anchor = float(np.median(rr[i - look : i]))
        j = i + 1
        if j < n and cont * rr[j] >= rr[i]:
            continue  # an early beat followed by a return cycle, not a run
        while j < n and ok[j] and rr[j] < cont * anchor:
            j += 1
        if j - i < min_len:
            continue
        d = [abs(rr[k] - rr[k - 1]) / rr[k] for k in range(i + 1, j)]
        if float(np.median(d)) > max_irr or float(np.median(ctx_p[i:j])) < min_p:
            continue
        for k in range(i, j):
            out[k] = True
        last = j
    return np.array(out, dtype=bool)
