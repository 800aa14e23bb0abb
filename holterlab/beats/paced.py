"""Paced beats (AAMI class Q) recognised from the pacemaker spike before the QRS.

Physics
-------
A pacemaker pulse lasts 0.1-2 ms. A Holter front end passes it through a band-limited
amplifier (low-pass around 100-150 Hz) and samples it at 125-1000 Hz, so on the record the
spike is a deflection a few milliseconds (one to a few samples) wide: far narrower than any
cardiac wave. Its amplitude relative to the QRS varies widely (bipolar pacing gives small
spikes), so a spike is not recognised by its size but by its *shape*: energy concentrated in a
few samples, on a smooth background.

Method
------
Per lead, a fourth-difference operator at lag ``k`` (about 3 ms, at least one sample)

    e[j] = 3/4 x[j] - 1/2 (x[j-k] + x[j+k]) + 1/8 (x[j-2k] + x[j+2k])

is exactly zero on any cubic polynomial, so baseline, P, T and even the QRS (smooth on a 3 ms
scale) barely excite it, while a spike a few samples wide passes at 1/4-3/4 of its height.
The score of a lead is the largest ``|e|`` in the search window before the QRS divided by

    mean |e| over +-0.4 s around the beat  +  ``QRS_FRACTION`` x QRS peak-to-peak,

the first term the local noise level (muscle noise raises it, so noise does not score high),
the second a floor tied to the QRS amplitude (so a clean signal with quantisation-level noise
does not make the QRS's own small curvature look like a spike). Both terms scale with the
signal, so the score is dimensionless and invariant to gain and polarity. The beat's score is
the largest over the leads (a spike can be visible in one lead only).

Thresholds were chosen on synthetic band-limited spikes (125-1000 Hz, several amplitudes,
widths and filter cut-offs, with synthetic ECG, EMG and real NSTDB muscle noise) and on the
MIT-BIH DS1 records (none paced: every DS1 beat must stay non-paced); the MIT-BIH paced records
102 104 107 217 were used only to measure (``benchmarks/paced.py``).

Limitation (measured): on those four records the single-beat sensitivity is about 0 (the
spikes of these analogue tape recordings do not match the band-limited-pulse model); only
record 104 is recognised, and only at family level. Do not rely on this detector for MIT-BIH
paced records without a redesign validated on other paced data.

>>> score = pacing_spike_score(x, fs, beats)         # doctest: +SKIP
>>> q = paced_beats(x, fs, beats)                    # doctest: +SKIP  (bool per beat)
>>> fam_q = paced_families(score, family, n_fam)     # doctest: +SKIP  (bool per family)
"""

from __future__ import annotations

import numba
import numpy as np

from holterlab.errors import ParameterError

__all__ = [
    "pacing_spike_score",
    "pacing_spike_score_ref",
    "paced_beats",
    "paced_families",
    "paced_labels",
    "SPIKE_THRESHOLD",
    "FAMILY_THRESHOLD",
    "MIN_FRACTION",
]

#: Lag of the fourth-difference operator (seconds; at least one sample).
LAG_S = 0.003
#: Half-width of the window over which the local noise level (mean |e|) is taken (seconds).
NOISE_HALF_S = 0.4
#: Half-width of the window over which the QRS peak-to-peak is taken (seconds).
QRS_HALF_S = 0.06
#: Weight of the QRS peak-to-peak in the score's denominator.
QRS_FRACTION = 0.005
#: Beat-level score at and above which a single beat is called paced.
SPIKE_THRESHOLD = 10.0
#: Lower score that counts as a spike when judging a whole family.
FAMILY_THRESHOLD = 5.0
#: Fraction of a family's beats that must carry a spike for the family to be paced.
MIN_FRACTION = 0.6

_FS_MIN, _FS_MAX = 125.0, 1000.0


def _check_inputs(signal, fs, beats, search_ms):
    x = np.asarray(signal)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2 or x.shape[0] < 1 or x.shape[1] < 1:
        raise ParameterError(
            f"signal must be an array (n_leads, n_samples) or (n_samples,), got shape {x.shape}"
        )
    if not np.issubdtype(x.dtype, np.number) or np.iscomplexobj(x):
        raise ParameterError(f"signal must be real numbers, got dtype {x.dtype}")
    try:
        fs = float(fs)
    except (TypeError, ValueError) as exc:
        raise ParameterError(f"fs must be a number in Hz, got {fs!r}") from exc
    if not (_FS_MIN <= fs <= _FS_MAX):
        raise ParameterError(
            f"fs={fs} Hz is outside {_FS_MIN:g}-{_FS_MAX:g} Hz, the range in which pacing spikes "
            "can be recognised; resample the signal first"
        )
    b = np.asarray(beats)
    if b.ndim != 1:
        raise ParameterError(f"beats must be a 1-D array of sample indices, got shape {b.shape}")
    if b.size and not np.issubdtype(b.dtype, np.integer):
        if not np.issubdtype(b.dtype, np.floating) or not np.all(b == np.round(b)):
            raise ParameterError("beats must be whole sample indices")
    b = b.astype(np.int64)
    if b.size and (b.min() < 0 or b.max() >= x.shape[1]):
        raise ParameterError(
            f"beats must lie in 0..{x.shape[1] - 1} (the signal's samples); got "
            f"{b.min()}..{b.max()}"
        )
    try:
        lo_ms, hi_ms = (float(v) for v in search_ms)
    except (TypeError, ValueError) as exc:
        raise ParameterError(
            f"search_ms must be two numbers (lo, hi) in ms, got {search_ms!r}"
        ) from exc
    if not (-500.0 <= lo_ms < hi_ms <= 200.0):
        raise ParameterError(
            f"search_ms must satisfy -500 <= lo < hi <= 200 (ms from the beat), got {search_ms!r}"
        )
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.all(np.isfinite(x)):
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    lag = max(1, int(round(LAG_S * fs)))
    offsets = np.array(
        [
            int(np.floor(lo_ms * fs / 1000.0)),
            int(np.ceil(hi_ms * fs / 1000.0)),
            int(round(NOISE_HALF_S * fs)),
            max(1, int(round(QRS_HALF_S * fs))),
            lag,
        ],
        dtype=np.int64,
    )
    return x, fs, b, offsets


def _qrs_fraction(fs: float, lag: int) -> float:
    """QRS weight of the denominator: raised when one sample is longer than :data:`LAG_S`.

    At low rates the lag is forced to one sample (8 ms at 125 Hz) and the QRS itself then
    excites the fourth difference, so the QRS floor grows with (lag / LAG_S)^2.
    """
    return QRS_FRACTION * max(1.0, lag / fs / LAG_S) ** 2


def pacing_spike_score_ref(
    x: np.ndarray, beats: np.ndarray, offsets: np.ndarray, qrs_fraction: float
) -> np.ndarray:
    """Plain-numpy reference of the spike score (same definitions as the numba kernel).

    ``x`` float32 (n_leads, n), ``beats`` int64, ``offsets`` int64
    ``[search_lo, search_hi, noise_half, qrs_half, lag]`` in samples, ``qrs_fraction`` the
    QRS weight of the denominator.
    """
    n_leads, n = x.shape
    s_lo, s_hi, n_half, q_half, k = (int(v) for v in offsets)
    out = np.zeros(beats.size, dtype=np.float32)
    xd = x.astype(np.float64)
    lo_ok, hi_ok = 2 * k, n - 1 - 2 * k  # samples where e is defined
    for i, b in enumerate(beats):
        best = 0.0
        for lead in range(n_leads):
            r = xd[lead]

            def e(j0: int, j1: int, r: np.ndarray = r) -> np.ndarray:
                j = np.arange(max(j0, lo_ok), min(j1, hi_ok) + 1)
                return np.abs(
                    0.75 * r[j]
                    - 0.5 * (r[j - k] + r[j + k])
                    + 0.125 * (r[j - 2 * k] + r[j + 2 * k])
                )

            peak = e(b + s_lo, b + s_hi)
            if peak.size == 0:
                continue
            noise = e(b - n_half, b + n_half)
            q = r[max(b - q_half, 0) : min(b + q_half, n - 1) + 1]
            den = noise.mean() + qrs_fraction * (q.max() - q.min())
            if den > 0.0:
                best = max(best, peak.max() / den)
        out[i] = best
    return out


@numba.njit(cache=True, nogil=True)
def _e_abs(r, j, k):
    return abs(
        0.75 * float(r[j])
        - 0.5 * (float(r[j - k]) + float(r[j + k]))
        + 0.125 * (float(r[j - 2 * k]) + float(r[j + 2 * k]))
    )


@numba.njit(cache=True, nogil=True, fastmath={"reassoc", "contract"})
def _e_abs_sum(r, j0, j1, k):
    """Sum of ``|e|`` over ``j0..j1`` (reassociated: vectorised)."""
    acc = 0.0
    for j in range(j0, j1 + 1):
        acc += abs(
            0.75 * float(r[j])
            - 0.5 * (float(r[j - k]) + float(r[j + k]))
            + 0.125 * (float(r[j - 2 * k]) + float(r[j + 2 * k]))
        )
    return acc


@numba.njit(cache=True, nogil=True, parallel=True)
def _score_kernel(x, beats, offsets, qrs_fraction, out):
    n_leads, n = x.shape
    s_lo = offsets[0]
    s_hi = offsets[1]
    n_half = offsets[2]
    q_half = offsets[3]
    k = offsets[4]
    lo_ok = 2 * k
    hi_ok = n - 1 - 2 * k
    # beats are independent; the noise level of each is summed over its own window (the
    # windows of neighbouring beats about tile the signal, so this is one pass over it)
    for i in numba.prange(beats.size):
        b = beats[i]
        best = 0.0
        for lead in range(n_leads):
            r = x[lead]
            j0 = max(b + s_lo, lo_ok)
            j1 = min(b + s_hi, hi_ok)
            if j1 < j0:
                continue
            peak = 0.0
            for j in range(j0, j1 + 1):
                v = _e_abs(r, j, k)
                if v > peak:
                    peak = v
            j0 = max(b - n_half, lo_ok)
            j1 = min(b + n_half, hi_ok)
            noise = _e_abs_sum(r, j0, j1, k) / (j1 - j0 + 1)
            q0 = max(b - q_half, 0)
            q1 = min(b + q_half, n - 1)
            mx = float(r[q0])
            mn = mx
            for j in range(q0 + 1, q1 + 1):
                v = float(r[j])
                if v > mx:
                    mx = v
                elif v < mn:
                    mn = v
            den = noise + qrs_fraction * (mx - mn)
            if den > 0.0:
                s = peak / den
                if s > best:
                    best = s
        out[i] = best


def pacing_spike_score(
    signal: np.ndarray,
    fs: float,
    beats: np.ndarray,
    *,
    search_ms: tuple[float, float] = (-120.0, 10.0),
) -> np.ndarray:
    """Evidence of a pacemaker spike before or at each beat's QRS (float32 per beat).

    Parameters
    ----------
    signal
        Raw (not band-passed) ECG, float (n_leads, n_samples) or (n_samples,), any unit/gain.
    fs
        Sampling rate in Hz, 125-1000.
    beats
        Sample index of each beat's QRS (int, within the signal).
    search_ms
        Window, in ms relative to each beat, searched for the spike.

    Returns
    -------
    numpy.ndarray
        float32 score per beat, >= 0, dimensionless; invariant to gain and polarity. Beats
        without a spike score about 1-4; a spike typically scores above 10
        (:data:`SPIKE_THRESHOLD`).

    Raises
    ------
    ParameterError
        Wrong shape or dtype, ``fs`` outside 125-1000 Hz, beats outside the signal, bad window.
    """
    x, fs, b, offsets = _check_inputs(signal, fs, beats, search_ms)
    out = np.zeros(b.size, dtype=np.float32)
    if b.size:
        _score_kernel(x, b, offsets, _qrs_fraction(fs, int(offsets[4])), out)
    return out


def paced_beats(
    signal: np.ndarray,
    fs: float,
    beats: np.ndarray,
    *,
    threshold: float = SPIKE_THRESHOLD,
    search_ms: tuple[float, float] = (-120.0, 10.0),
) -> np.ndarray:
    """Beats preceded by a pacemaker spike (bool per beat), judged one beat at a time.

    A beat scoring ``>= threshold`` (:func:`pacing_spike_score`) is paced; this includes
    fusion and pseudo-fusion beats, where the spike falls on an intrinsic QRS (AAMI class Q
    as MIT-BIH ``f``). For labels that use morphology families too, see :func:`paced_labels`.
    """
    if not np.isfinite(threshold) or threshold <= 0:
        raise ParameterError(f"threshold must be a positive number, got {threshold!r}")
    return pacing_spike_score(signal, fs, beats, search_ms=search_ms) >= threshold


def _check_family(score, family, n_families, min_fraction):
    s = np.asarray(score, dtype=np.float64)
    f = np.asarray(family)
    if s.ndim != 1 or f.shape != s.shape:
        raise ParameterError(
            f"score and family must be 1-D arrays of the same length, got {s.shape} and {f.shape}"
        )
    if f.size and not np.issubdtype(f.dtype, np.integer):
        raise ParameterError(f"family must hold integer family indices, got dtype {f.dtype}")
    n_families = int(n_families)
    if n_families < 0:
        raise ParameterError(f"n_families must be >= 0, got {n_families}")
    f = f.astype(np.int64)
    if f.size and (f.max() >= n_families or f.min() < -1):
        raise ParameterError(
            f"family indices must lie in 0..{n_families - 1} (or -1 for no family), got "
            f"{f.min()}..{f.max()}"
        )
    if not (0.0 < min_fraction <= 1.0):
        raise ParameterError(f"min_fraction must be in (0, 1], got {min_fraction!r}")
    return s, f, n_families


def paced_families(
    score: np.ndarray,
    family: np.ndarray,
    n_families: int,
    *,
    min_fraction: float = MIN_FRACTION,
    threshold: float = FAMILY_THRESHOLD,
    min_beats: int = 3,
) -> np.ndarray:
    """Morphology families whose beats mostly carry a pacemaker spike (bool per family).

    Parameters
    ----------
    score
        :func:`pacing_spike_score` per beat.
    family
        Family index per beat (0..n_families-1; -1 = no family, ignored).
    n_families
        Number of families.
    min_fraction
        A family is paced when at least this fraction of its beats score ``>= threshold``.
    threshold
        Score counted as a spike here; lower than the single-beat threshold, as many beats
        agree.
    min_beats
        Families with fewer beats are never paced as a family (judge their beats singly).
    """
    s, f, n_families = _check_family(score, family, n_families, min_fraction)
    ok = f >= 0
    total = np.bincount(f[ok], minlength=n_families)[:n_families]
    hits = np.bincount(f[ok & (s >= threshold)], minlength=n_families)[:n_families]
    return (total >= max(int(min_beats), 1)) & (hits >= min_fraction * total)


def paced_labels(
    score: np.ndarray,
    family: np.ndarray,
    n_families: int,
    *,
    threshold: float = SPIKE_THRESHOLD,
    min_fraction: float = MIN_FRACTION,
) -> np.ndarray:
    """Beats to label paced (AAMI Q), bool per beat: paced family, or a spike of their own.

    A beat of a paced family is paced (a spike missed in noise does not unpace it); a beat of
    another family is paced when its own score reaches ``threshold``: fusion and pseudo-fusion
    of paced beats (MIT-BIH ``f``) have an intrinsic-looking QRS but carry the spike.
    """
    s, f, n_families = _check_family(score, family, n_families, min_fraction)
    fam = paced_families(s, f, n_families, min_fraction=min_fraction)
    out = s >= threshold
    ok = f >= 0
    out[ok] |= fam[f[ok]]
    return out
