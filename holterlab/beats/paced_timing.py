"""Paced families recognised by their timing: a pacemaker fires at an exact interval.

Physics
-------
A pacemaker that paces at its lower rate (fixed-rate VOO, or demand VVI while the heart's own
rate is slower) delivers its pulses from a crystal clock: consecutive paced beats follow each
other at the *same* interval to within a millisecond, beat after beat, for minutes. No
intrinsic rhythm is that exact. Sinus rhythm varies from beat to beat by tens of
milliseconds (the MIT-BIH DS1 families: median ``|RR(i) - RR(i-1)|`` at least 11 ms, at most
16 % of intervals within 4 ms of the most common one; 24 h of the NSRDB: 3 %), and
ventricular escape and idioventricular rhythms wander as much. Unlike the pacing spike,
which band-limited or analogue recordings smooth away (:mod:`holterlab.beats.paced`), the
timing survives any recording chain.

Method
------
For every morphology family: take the RR intervals between two consecutive beats of the
family, and the pairs of such intervals that follow each other. The family is paced at a fixed
rate when

* it has at least :data:`MIN_PAIRS` such pairs,
* its median QRS width is at least :data:`MIN_WIDTH_MS` (a ventricular paced QRS is wide;
  narrow conducted beats at a fixed ratio, as in 2:1 atrial flutter, can be just as regular),
* the median ``|RR(i) - RR(i-1)|`` is at most :data:`MAX_JITTER_MS` (or 1.5 samples), and
* at least :data:`MIN_MODE_FRACTION` of its intervals lie within :data:`MODE_TOL_MS` (or one
  sample) of the most common interval, the pacing interval.

Designed on the DS1 records (no family comes near: jitter >= 11 ms, mode fraction <= 0.16),
the NSRDB and the synthetic generator's rhythms; the MIT-BIH paced records are used only to
measure (``benchmarks/paced.py``). Rate-responsive and atrial-tracking (DDD) pacing vary the
interval with the patient's own rate and are not found this way; their spikes may be.
"""

from __future__ import annotations

import numpy as np

from holterlab.errors import ParameterError

__all__ = [
    "fixed_rate_families",
    "MIN_PAIRS",
    "MIN_WIDTH_MS",
    "MAX_JITTER_MS",
    "MODE_TOL_MS",
    "MIN_MODE_FRACTION",
]

#: Fewest pairs of consecutive same-family intervals for a family to be judged.
MIN_PAIRS = 30
#: Smallest median QRS width (ms) of a family paced in the ventricles.
MIN_WIDTH_MS = 120.0
#: Largest median beat-to-beat interval change (ms) of a pacemaker rhythm.
MAX_JITTER_MS = 4.0
#: Distance (ms) from the most common interval within which an interval is the pacing one.
MODE_TOL_MS = 4.0
#: Smallest fraction of a family's intervals at the pacing interval.
MIN_MODE_FRACTION = 0.4


def fixed_rate_families(
    beats: np.ndarray,
    fs: float,
    family: np.ndarray,
    n_families: int,
    width_ms: np.ndarray,
) -> np.ndarray:
    """Families paced at a fixed interval (bool per family).

    Parameters
    ----------
    beats
        Beat sample indices (increasing).
    fs
        Sampling rate (Hz).
    family
        Family index per beat (0..n_families-1; -1 = no family, ignored).
    n_families
        Number of families.
    width_ms
        QRS width per beat (ms).
    """
    b = np.asarray(beats, dtype=np.int64)
    f = np.asarray(family)
    w = np.asarray(width_ms, dtype=np.float64)
    n_families = int(n_families)
    if b.ndim != 1 or f.shape != b.shape or w.shape != b.shape:
        raise ParameterError(
            "beats, family and width_ms must be 1-D arrays of the same length, got "
            f"{b.shape}, {f.shape} and {w.shape}"
        )
    if not np.isfinite(fs) or fs <= 0:
        raise ParameterError(f"fs must be a positive sampling rate in Hz, got {fs!r}")
    if n_families < 0:
        raise ParameterError(f"n_families must be >= 0, got {n_families}")
    out = np.zeros(n_families, dtype=bool)
    if b.size < 3 or n_families == 0:
        return out
    f = f.astype(np.int64)
    sample_ms = 1000.0 / float(fs)
    jitter_max = max(MAX_JITTER_MS, 1.5 * sample_ms)
    tol = max(MODE_TOL_MS, sample_ms)
    rr = np.diff(b) * sample_ms  # rr[i]: beat i -> i + 1
    fam_iv = np.where(f[1:] == f[:-1], f[:-1], -1)  # family of each same-family interval
    for k in np.unique(fam_iv[fam_iv >= 0]):
        iv = np.flatnonzero(fam_iv == k)
        pairs = iv[1:][np.diff(iv) == 1]  # interval i follows interval i - 1 of the family
        if pairs.size < MIN_PAIRS:
            continue
        if np.median(w[f == k]) < MIN_WIDTH_MS:
            continue
        if np.median(np.abs(rr[pairs] - rr[pairs - 1])) > jitter_max:
            continue
        vals = np.sort(rr[iv])
        # the most common interval: the one with the most intervals within +-tol of it
        within = np.searchsorted(vals, vals + tol, side="right") - np.searchsorted(
            vals, vals - tol, side="left"
        )
        out[k] = within.max() >= MIN_MODE_FRACTION * vals.size
    return out
