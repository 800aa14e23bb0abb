"""Atrial activity from the ECG signal: flutter F waves, fibrillatory f waves, P waves.

Method
------
The classic spectral analysis of the atrial signal (Slocum et al. 1992; Bollmann et al.
1998; Stridh & Sörnmo 2001 for the measures of organisation), in its simplest robust form:

1. The recording is cut into windows of ``window_s`` seconds on a fixed time grid (a window
   starts every ``step_s`` seconds from the recording start).
2. Ventricular activity is reduced by *blanking*: ``[beat - blank_before_s, beat +
   blank_after_s]`` of every beat is replaced by the straight line between its ends, and the
   window's linear trend is removed. Average-beat subtraction is deliberately not used: in
   flutter the conducted beats are locked to the F waves (constant F-R interval), so a beat
   template holds the F waves and subtracting it would remove them.
3. The Hann-windowed power spectra of all leads are summed. Within ``[band_low_hz,
   band_high_hz]`` the highest bin is the dominant atrial frequency ``f0`` (rate = 60 f0).
4. ``organisation`` = the power within ``peak_halfwidth_hz`` of ``f0`` and of ``2 f0``
   divided by the power in the band (plus the ``2 f0`` peak when it lies above it): near 1
   for a sawtooth F wave, low for the broad, drifting spectrum of f waves.
5. No rate is reported (NaN, organisation 0) where the band's power density is below
   ``min_snr`` times the noise density (``[noise_low_hz, noise_high_hz]``), where the RMS of
   the dominant component is below ``min_atrial_mv``, where the window
   holds fewer than ``min_beats`` beats, or where ``f0`` is a harmonic ``k fv`` of the
   ventricular rate ``fv`` and is not clearly atrial: the T waves left by the blanking put
   power at every harmonic of ``fv`` while F waves conducted ``k:1`` only add power at
   multiples of ``k fv``, so ``f0`` counts as atrial only if ``k >= 2`` and its power
   exceeds ``ventricular_ratio`` times the strongest harmonic ``j fv`` with ``j`` not a
   multiple of ``k`` (sinus and supraventricular tachycardia fail this test); where the
   window's RR intervals are metronomic (coefficient of variation below ``metronomic_cv``,
   as fixed conduction of a stable flutter circuit makes them, while sinus rhythm keeps some
   variation) ``metronomic_ratio`` replaces ``ventricular_ratio``. An odd
   ``k >= 3`` counts only where the window's RR intervals vary (coefficient of variation at
   least 0.08): fixed 3:1 conduction is rare in flutter, while the P and T waves of a regular
   sinus rhythm can put organised power at three times its rate.
6. ``p_wave_fraction``: for the N beats of the window, the segment ``[beat - p_start_s,
   beat - p_end_s]`` (linear trend removed) is averaged into a template; a beat has a P wave
   when its segment correlates with the template by at least ``p_min_corr`` and the template
   reaches ``p_min_mv`` peak to peak. Where the atrial activity is organised
   (``organisation >= 0.5``) the fraction is set to 0: flutter waves locked to the beats
   would otherwise pass for P waves.

Every window is computed from its own samples and the beats inside it only, so
:func:`atrial_activity_recording` gives the same values whatever its chunk length.

Known limits: blanking distorts the atrial signal at high ventricular rates (at 150/min a
130 ms blank removes a third of each cycle); 1:1 flutter cannot be told from a ventricular
rhythm; F waves of very low amplitude (below the T-wave residue) are missed.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from holterlab._checks import as_leads, check_fs
from holterlab.errors import AnnotationError, CancelledError, ParameterError
from holterlab.params.atrial import AtrialParams
from holterlab.rhythm.af import AtrialActivity

__all__ = ["measure_atrial_activity", "atrial_activity_recording", "window_grid"]

#: AAMI class codes accepted in ``labels`` (MIT-BIH beat symbols are mapped to these).
_AAMI = ("N", "S", "V", "F", "Q")


@dataclass(frozen=True)
class _Geometry:
    length: int  # window length (samples)
    step: int  # window step (samples)
    pre: int
    post: int
    p_start: int
    p_end: int
    q: int  # decimation factor of the spectral analysis
    m: int  # window length after decimation


def _geometry(fs: float, p: AtrialParams) -> _Geometry:
    length = max(16, int(round(p.window_s * fs)))
    # the spectrum is needed up to the noise band only: decimate to at least 2.5x its top
    q = max(1, int(fs // (2.5 * p.noise_high_hz)))
    return _Geometry(
        length=length,
        step=max(1, int(round(p.step_s * fs))),
        pre=int(round(p.blank_before_s * fs)),
        post=int(round(p.blank_after_s * fs)),
        p_start=max(2, int(round(p.p_start_s * fs))),
        p_end=int(round(p.p_end_s * fs)),
        q=q,
        m=length // q,
    )


def window_grid(n_samples: int, fs: float, params: AtrialParams | None = None) -> np.ndarray:
    """First sample of every measurement window of a recording of ``n_samples`` samples."""
    g = _geometry(check_fs(fs), params or AtrialParams())
    if n_samples < g.length:
        return np.zeros(0, dtype=np.int64)
    return np.arange(0, n_samples - g.length + 1, g.step, dtype=np.int64)


def _check_beats(beats: Any) -> np.ndarray:
    """Beat indices as int64, strictly increasing (AnnotationError otherwise)."""
    b = np.asarray(beats)
    if b.ndim != 1:
        raise AnnotationError(f"beats must be a 1-D array of sample indices, got shape {b.shape}")
    if b.size and not np.issubdtype(b.dtype, np.integer):
        if not np.issubdtype(b.dtype, np.number):
            raise AnnotationError(f"beats must be sample indices, got dtype {b.dtype}")
        if not np.all(np.isfinite(b)) or np.any(b != np.round(b)):
            raise AnnotationError("beats must be whole sample indices")
    b = b.astype(np.int64, copy=False)
    if b.size > 1 and np.any(np.diff(b) <= 0):
        raise AnnotationError("beats must be strictly increasing sample indices")
    return b


def _labels(labels: Any, n: int) -> np.ndarray:
    """Labels as a string array with one entry per beat (checked lazily, see _is_n)."""
    lab = np.asarray(labels)
    if lab.ndim != 1 or lab.size != n:
        raise AnnotationError(
            f"labels must have one entry per beat: {lab.size} labels for {n} beats"
        )
    return lab


def _is_n(lab: np.ndarray) -> np.ndarray:
    """'Is an N beat' for AAMI classes or MIT-BIH beat symbols (AnnotationError otherwise)."""
    lab = lab.astype(str)
    is_n = lab == "N"
    other = lab[~is_n]
    if other.size and not np.isin(other, _AAMI[1:]).all():
        from holterlab.annotations import aami_class

        aami = aami_class(lab)
        bad = np.flatnonzero(aami == "")
        if bad.size:
            raise AnnotationError(
                f"label {lab[bad[0]]!r} is not a beat class; use AAMI classes N S V F Q "
                "(or MIT-BIH beat symbols)"
            )
        is_n = aami == "N"
    return is_n


def _band_power(cum: np.ndarray, df: float, lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Power in ``[lo, hi]`` Hz per window from the cumulative spectrum ``cum`` (leading 0)."""
    nf = cum.shape[1] - 1
    i0 = np.clip(np.ceil(np.asarray(lo) / df - 1e-9).astype(np.int64), 0, nf)
    i1 = np.clip(np.floor(np.asarray(hi) / df + 1e-9).astype(np.int64) + 1, 0, nf)
    i1 = np.maximum(i1, i0)
    rows = np.arange(cum.shape[0])
    if i0.ndim == 2:
        rows = rows[:, None]
    return cum[rows, i1] - cum[rows, i0]


def _measure(
    x: np.ndarray,
    fs: float,
    beats: np.ndarray,
    is_n: np.ndarray,
    starts: np.ndarray,
    p: AtrialParams,
    g: _Geometry,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rate, organisation and P-wave fraction of the windows starting at ``starts`` (block
    samples); ``beats`` are block sample indices."""

    from holterlab.atrial._kernels import blank_windows, p_match

    n_win = starts.size
    n_leads = x.shape[0]
    rate = np.full(n_win, np.nan)
    org = np.zeros(n_win)
    pw = np.full(n_win, np.nan)
    if n_win == 0:
        return rate, org, pw
    L = g.length
    # -- 1. blanked, detrended, tapered windows and their summed power spectrum
    w = np.empty((n_win, n_leads, g.m), dtype=np.float32)
    taper = np.hanning(g.m)
    blank_windows(x, starts, g.q, beats, g.pre, g.post, taper, w)
    spec = np.fft.rfft(w, axis=-1)
    del w
    power = np.square(spec.real, dtype=np.float32)
    power += np.square(spec.imag, dtype=np.float32)
    del spec
    power = power.sum(axis=1, dtype=np.float64)
    fs_d = fs / g.q  # sampling rate of the decimated windows
    df = fs_d / g.m
    cum = np.zeros((n_win, power.shape[1] + 1))
    np.cumsum(power, axis=1, out=cum[:, 1:])
    nyq = fs_d / 2
    b_lo, b_hi = p.band_low_hz, min(p.band_high_hz, nyq)
    i_lo = int(np.ceil(b_lo / df))
    i_hi = int(np.floor(b_hi / df))
    if i_hi <= i_lo:
        raise ParameterError(
            f"atrial band {b_lo}-{p.band_high_hz} Hz holds no frequency bin at fs={fs:g} Hz "
            f"and a {p.window_s:g} s window; lengthen the window or widen the band"
        )
    k0 = i_lo + np.argmax(power[:, i_lo : i_hi + 1], axis=1)
    f0 = k0 * df
    hw = p.peak_halfwidth_hz
    p_band = cum[:, i_hi + 1] - cum[:, i_lo]
    p_f0 = _band_power(cum, df, f0 - hw, f0 + hw)
    p_h2 = _band_power(cum, df, 2 * f0 - hw, 2 * f0 + hw)
    above = _band_power(cum, df, np.maximum(2 * f0 - hw, b_hi + df / 2), 2 * f0 + hw)
    with np.errstate(invalid="ignore", divide="ignore"):
        organisation = np.clip((p_f0 + p_h2) / (p_band + above), 0.0, 1.0)
    # RMS (mV, root-sum-square over leads) of the dominant atrial component
    amp = np.sqrt(2.0 * p_f0 / (g.m * float(np.sum(taper**2))))
    # -- 2. signal-to-noise
    n_lo, n_hi = p.noise_low_hz, min(p.noise_high_hz, nyq)
    j_lo, j_hi = int(np.ceil(n_lo / df)), int(np.floor(n_hi / df))
    if j_hi > j_lo:
        noise = (cum[:, j_hi + 1] - cum[:, j_lo]) / (j_hi + 1 - j_lo)
        with np.errstate(invalid="ignore", divide="ignore"):
            snr = (p_band / (i_hi + 1 - i_lo)) / noise
        snr[noise <= 0] = np.inf
    else:
        snr = np.full(n_win, np.inf)
    # -- 3. ventricular rate and harmonic test
    first = np.searchsorted(beats, starts)
    last = np.searchsorted(beats, starts + L)  # beats first..last-1 lie in the window
    nb = last - first
    enough = nb >= max(2, p.min_beats)
    fv = np.full(n_win, np.nan)
    if beats.size:
        t_first = beats[np.minimum(first, beats.size - 1)]
        t_last = beats[np.clip(last - 1, 0, beats.size - 1)]
        span = (t_last - t_first) / fs
        ok = enough & (span > 0)
        fv[ok] = (nb[ok] - 1) / span[ok]
    with np.errstate(invalid="ignore", divide="ignore"):
        k = np.rint(f0 / fv)
        coincide = (k >= 1) & (np.abs(f0 - k * fv) <= p.harmonic_tolerance * f0)
    harmonic_ok = ~coincide
    if coincide.any():
        c = np.flatnonzero(coincide)
        j = np.arange(1, 9)
        fj = fv[c, None] * j[None, :]
        pj = _band_power(cum[c], df, fj - hw, fj + hw)
        use = (fj >= 1.0) & (fj <= b_hi + hw) & (j[None, :] % k[c, None] != 0)
        p_other = np.where(use, pj, 0.0).max(axis=1)
        # fixed even conduction gives a metronomic ventricular rhythm (sinus rhythm keeps a
        # beat-to-beat variation): there a weaker atrial peak suffices
        ratio = np.where(
            _regular_rr(beats, first[c], last[c], fs, p.metronomic_cv),
            p.metronomic_ratio,
            p.ventricular_ratio,
        )
        harmonic_ok[c] = (k[c] >= 2) & (p_f0[c] >= ratio * p_other)
        # fixed odd conduction (3:1, 5:1) is rare in flutter, while the P and T waves of a
        # regular sinus rhythm often put organised power at 3 x its rate: an odd harmonic
        # counts only where the RR intervals vary (variable conduction)
        odd = (k[c] % 2 == 1) & _regular_rr(beats, first[c], last[c], fs)
        harmonic_ok[c] &= ~odd
    valid = (
        enough
        & (snr >= p.min_snr)
        & (amp >= p.min_atrial_mv)
        & harmonic_ok
        & np.isfinite(organisation)
    )
    rate[valid] = 60.0 * f0[valid]
    org[valid] = organisation[valid]
    # -- 4. P waves
    cand = beats[is_n]
    cand = cand[(cand - g.p_start >= 0) & (cand - g.p_end <= x.shape[1])]
    pf = np.searchsorted(cand, starts + g.p_start)
    pl = np.searchsorted(cand, starts + L + g.p_end, side="right")
    pw = p_match(x, cand, g.p_start, g.p_end, pf, pl, p.p_min_mv, p.p_min_corr)
    pw[~enough] = np.nan
    pw[org >= 0.5] = 0.0
    return rate, org, pw


#: Coefficient of variation of the RR intervals of a window below which it is regular.
REGULAR_RR_CV = 0.08


def _regular_rr(
    beats: np.ndarray, first: np.ndarray, last: np.ndarray, fs: float, cv: float = REGULAR_RR_CV
) -> np.ndarray:
    """Whether the RR intervals between beats ``first..last-1`` of each window are regular
    (coefficient of variation below ``cv``; windows of fewer than 3 beats are not)."""
    rr = np.diff(beats).astype(np.float64) / fs
    c1 = np.concatenate([[0.0], np.cumsum(rr)])
    c2 = np.concatenate([[0.0], np.cumsum(rr * rr)])
    n = last - first - 1  # intervals first..last-2
    hi = np.maximum(last - 1, first)
    s1 = c1[hi] - c1[first]
    s2 = c2[hi] - c2[first]
    out = np.zeros(first.size, dtype=bool)
    ok = n >= 2
    mean = s1[ok] / n[ok]
    var = np.maximum(s2[ok] / n[ok] - mean * mean, 0.0)
    out[ok] = np.sqrt(var) < cv * mean
    return out


def _params(params: Any) -> AtrialParams:
    if params is None:
        return AtrialParams()
    if isinstance(params, AtrialParams):
        return params
    if isinstance(params, dict):
        return AtrialParams.from_dict(params)
    raise ParameterError(f"params must be an AtrialParams, a dict or None, got {params!r}")


def _activity(
    time_s: np.ndarray, rate: np.ndarray, org: np.ndarray, pw: np.ndarray
) -> AtrialActivity:
    return AtrialActivity(
        time_s=np.asarray(time_s, dtype=np.float64),
        atrial_rate_bpm=np.asarray(rate, dtype=np.float64),
        organisation=np.asarray(org, dtype=np.float64),
        p_wave_fraction=np.asarray(pw, dtype=np.float64),
    )


def measure_atrial_activity(
    signal: np.ndarray,
    fs: float,
    beats: Any,
    labels: Any,
    *,
    params: AtrialParams | dict | None = None,
    offset: int = 0,
) -> AtrialActivity:
    """Atrial activity of an in-memory block of signal, one value per window.

    Parameters
    ----------
    signal
        Samples in mV, shape ``(n_leads, n)`` (or ``(n,)``).
    fs
        Sampling rate (Hz).
    beats
        Beat sample indices in *recording* samples (the block starts at ``offset``); beats
        outside the block are ignored.
    labels
        AAMI class per beat (``N S V F Q``; MIT-BIH beat symbols are mapped).
    params
        :class:`~holterlab.params.atrial.AtrialParams` (or its dict form).
    offset
        Recording sample of the block's first sample. Windows lie on the recording's grid
        (a window starts every ``step_s`` from sample 0); those wholly inside the block are
        measured.

    Returns
    -------
    AtrialActivity
        ``time_s`` (window centres, s from the recording start), ``atrial_rate_bpm`` (NaN
        where no atrial activity stands out), ``organisation`` (0..1) and
        ``p_wave_fraction`` (NaN where the window has too few beats).
    """
    p = _params(params)
    fs = check_fs(fs)
    x = as_leads(signal)
    if x.dtype != np.float32:
        x = x.astype(np.float32)
    if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) or offset < 0:
        raise ParameterError(f"offset must be a non-negative whole sample index, got {offset!r}")
    b = _check_beats(beats)
    lab = _labels(labels, b.size)
    g = _geometry(fs, p)
    offset = int(offset)
    first = -(-offset // g.step) * g.step
    starts = np.arange(first, offset + x.shape[1] - g.length + 1, g.step, dtype=np.int64)
    return _run(x, fs, b, lab, starts, offset, p, g)


def _run(
    x: np.ndarray,
    fs: float,
    beats: np.ndarray,
    labels: np.ndarray,
    starts: np.ndarray,
    offset: int,
    p: AtrialParams,
    g: _Geometry,
) -> AtrialActivity:
    # beats just outside the block still blank its edges
    lo, hi = np.searchsorted(beats, [offset - g.post, offset + x.shape[1] + g.pre])
    rel = beats[lo:hi] - offset
    rate, org, pw = _measure(x, fs, rel, _is_n(labels[lo:hi]), starts - offset, p, g)
    return _activity((starts + g.length / 2) / fs, rate, org, pw)


def _cancel_check(cancel: Any) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    if callable(cancel):
        return cancel
    raise ParameterError("cancel must be a threading.Event or a callable returning bool")


def _progress(progress: Any) -> Callable[[float], None]:
    if progress is None or progress is False:
        return lambda f: None
    if callable(progress):
        return progress
    raise ParameterError("progress must be None or a callable taking a fraction (0..1)")


def atrial_activity_recording(
    recording: Any,
    beats: Any,
    labels: Any,
    *,
    params: AtrialParams | dict | None = None,
    chunk_s: float = 1800.0,
    progress: Callable[[float], None] | None = None,
    cancel: threading.Event | Callable[[], bool] | None = None,
) -> AtrialActivity:
    """:func:`measure_atrial_activity` of a whole :class:`~holterlab.recording.Recording`.

    The recording is read in chunks of about ``chunk_s`` seconds (a whole number of window
    steps, each read with one window of overlap), so no more than a chunk is in memory; the
    result does not depend on ``chunk_s``. ``progress`` is called with the fraction done
    after each chunk; ``cancel`` (a :class:`threading.Event` or a callable) is checked before
    each chunk and raises :class:`~holterlab.errors.CancelledError`.
    """
    from holterlab.recording import Recording

    if not isinstance(recording, Recording):
        raise ParameterError("atrial_activity_recording needs a holterlab Recording")
    p = _params(params)
    if not np.isfinite(chunk_s) or chunk_s <= 0:
        raise ParameterError(f"chunk_s must be a positive number of seconds, got {chunk_s!r}")
    fs = float(recording.fs)
    b = _check_beats(beats)
    lab = _labels(labels, b.size)
    g = _geometry(fs, p)
    grid = window_grid(recording.n_samples, fs, p)
    per_chunk = max(1, int(round(chunk_s * fs / g.step)))
    is_cancelled = _cancel_check(cancel)
    report = _progress(progress)
    parts = []
    for c0 in range(0, grid.size, per_chunk):
        if is_cancelled():
            raise CancelledError("atrial activity measurement cancelled")
        starts = grid[c0 : c0 + per_chunk]
        i0, i1 = int(starts[0]), int(starts[-1]) + g.length
        x = np.asarray(recording.get_samples(None, i0, i1), dtype=np.float32)
        parts.append(_run(x, fs, b, lab, starts, i0, p, g))
        report(min(1.0, (c0 + starts.size) / grid.size))
    if not parts:
        report(1.0)
        e = np.zeros(0)
        return _activity(e, e, e, e)
    return _activity(
        *(np.concatenate([getattr(a, f) for a in parts]) for f in
          ("time_s", "atrial_rate_bpm", "organisation", "p_wave_fraction"))
    )  # fmt: skip
