"""Heart-rate variability from beat times and beat labels (Task Force 1996 conventions).

>>> from holterlab.hrv import compute_hrv
>>> res = compute_hrv(beats, labels, fs=128, start_time=start)   # doctest: +SKIP
>>> res.sdnn_ms, res.short_term.lf_hf, res.night.rmssd_ms         # doctest: +SKIP
>>> json.dumps(res.to_dict())                                     # doctest: +SKIP

The parts: :mod:`~holterlab.hrv.nn` (the NN series and its filters),
:mod:`~holterlab.hrv.time_domain`, :mod:`~holterlab.hrv.frequency`,
:mod:`~holterlab.hrv.nonlinear` (Poincaré, DFA), :mod:`~holterlab.hrv.turbulence` (HRT),
:mod:`~holterlab.hrv.segments` (hourly, day and night) and :mod:`~holterlab.hrv.result`.
Every method choice is documented in its module. All work is vectorised numpy (FFT for the
spectra, one reshape per DFA box size); a 24 h record of ~100,000 beats takes well under a
second.
"""

from __future__ import annotations

import datetime as _dt

import numpy as np

from holterlab.errors import ParameterError
from holterlab.hrv.frequency import frequency_analysis, frequency_domain, short_term_spectra
from holterlab.hrv.nn import NNSeries, merge_intervals, nn_intervals
from holterlab.hrv.nonlinear import dfa, poincare
from holterlab.hrv.result import HRTResult, HRVResult, PeriodHRV, ShortTermHRV, clean_float
from holterlab.hrv.segments import clock_seconds, day_night_hrv, hourly_hrv
from holterlab.hrv.time_domain import time_domain
from holterlab.hrv.turbulence import heart_rate_turbulence
from holterlab.params.hrv import HRVParams

__all__ = [
    "compute_hrv",
    "nn_intervals",
    "time_domain",
    "frequency_domain",
    "frequency_analysis",
    "short_term_spectra",
    "poincare",
    "dfa",
    "heart_rate_turbulence",
    "hourly_hrv",
    "day_night_hrv",
    "NNSeries",
    "HRVResult",
    "HRTResult",
    "ShortTermHRV",
    "PeriodHRV",
    "HRVParams",
]


def compute_hrv(
    beats: np.ndarray,
    labels: np.ndarray | None,
    fs: float,
    *,
    params: HRVParams | None = None,
    excluded=None,
    start_time: _dt.datetime | None = None,
    non_sinus=None,
) -> HRVResult:
    """All HRV values of a record: time, frequency, nonlinear, turbulence, hourly, day/night.

    Parameters
    ----------
    beats
        Beat sample indices (int64), sorted; sample 0 is the recording start.
    labels
        One AAMI label per beat (``N S V F Q``; ``|`` or ``X`` mark artefacts; anything other
        than ``N`` breaks the NN series). ``None``: all beats normal.
    fs
        Sampling rate of the indices (Hz).
    params
        :class:`~holterlab.params.hrv.HRVParams`; defaults when ``None``.
    excluded
        ``(start_s, end_s)`` rows of unanalysable time (noise, lead off).
    non_sinus
        ``(start_s, end_s)`` rows of atrial fibrillation and flutter: HRV and heart-rate
        turbulence describe sinus rhythm (Task Force 1996; Schmidt et al. 1999), so the
        intervals overlapping them are left out.
    start_time
        Clock time of sample 0: aligns the 5-minute segments and hours with the clock and
        enables the day and night values.

    Returns
    -------
    HRVResult
    """
    p = params or HRVParams()
    if not isinstance(p, HRVParams):
        raise ParameterError(f"params must be an HRVParams, got {type(p).__name__}")
    if start_time is not None and not isinstance(start_time, _dt.datetime):
        raise ParameterError(f"start_time must be a datetime, got {start_time!r}")
    series = nn_intervals(beats, labels, fs, params=p, excluded=excluded, non_sinus=non_sinus)
    nn, times, adj = series.nn_ms, series.times_s, series.adjacent
    origin = -float(np.mod(clock_seconds(start_time), p.segment_s))
    td = time_domain(nn, times, adjacent=adj, params=p, segment_origin_s=origin)
    fd, segs = frequency_analysis(nn, times, adjacent=adj, params=p, segment_origin_s=origin)
    pc = poincare(nn, adj)
    spans = [merge_intervals(excluded), merge_intervals(non_sinus)]
    hrt_excluded = np.column_stack([np.concatenate(c) for c in zip(*spans, strict=True)])
    hrt = heart_rate_turbulence(
        beats, labels, fs, params=p, excluded=hrt_excluded if hrt_excluded.size else None
    )
    first_s = float(np.asarray(beats)[0] / float(fs)) if series.n_beats else 0.0
    span = (first_s, first_s + series.span_s)
    hourly = (
        hourly_hrv(
            nn, times, adjacent=adj, segments=segs, params=p, start_time=start_time, span_s=span
        )
        if series.n_beats > 1
        else []
    )
    day, night = day_night_hrv(
        nn, times, adjacent=adj, segments=segs, params=p, start_time=start_time
    )
    f = clean_float
    return HRVResult(
        n_beats=series.n_beats,
        n_nn=len(series),
        nn_coverage_pct=f(series.coverage_pct),
        duration_s=float(series.span_s),
        start_time=start_time.isoformat() if start_time is not None else None,
        rejected=dict(series.rejected),
        mean_nn_ms=f(td["mean_nn_ms"]),
        mean_hr_bpm=f(td["mean_hr_bpm"]),
        sdnn_ms=f(td["sdnn_ms"]),
        sdann_ms=f(td["sdann_ms"]),
        sdnn_index_ms=f(td["sdnn_index_ms"]),
        rmssd_ms=f(td["rmssd_ms"]),
        sdsd_ms=f(td["sdsd_ms"]),
        nn50=int(td["nn50"]),
        pnn50_pct=f(td["pnn50_pct"]),
        triangular_index=f(td["triangular_index"]),
        tinn_ms=f(td["tinn_ms"]),
        ulf_ms2=f(fd["ulf_ms2"]) if series.span_s >= 3600.0 * p.ulf_min_hours else None,
        vlf_ms2=f(fd["vlf_ms2"]),
        lf_ms2=f(fd["lf_ms2"]),
        hf_ms2=f(fd["hf_ms2"]),
        total_power_ms2=f(fd["total_power_ms2"]),
        lf_hf=f(fd["lf_hf"]),
        lf_nu=f(fd["lf_nu"]),
        hf_nu=f(fd["hf_nu"]),
        sd1_ms=f(pc["sd1_ms"]),
        sd2_ms=f(pc["sd2_ms"]),
        sd1_sd2=f(pc["sd1_sd2"]),
        dfa_alpha1=f(dfa(nn, min_beats=p.dfa_short_min, max_beats=p.dfa_short_max)),
        dfa_alpha2=f(dfa(nn, min_beats=p.dfa_long_min, max_beats=p.dfa_long_max)),
        hrt_to_pct=hrt.to_pct,
        hrt_ts_ms_per_beat=hrt.ts_ms_per_beat,
        hrt_n_vpb=hrt.n_vpb,
        short_term=ShortTermHRV.from_summary(fd["short_term"], p.segment_s),
        hourly=hourly,
        day=day,
        night=night,
        hrt=hrt,
        params=p,
    )
