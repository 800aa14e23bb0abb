"""Heart-rate turbulence (Schmidt et al., Lancet 1999; Bauer et al., JACC 2008 consensus).

A ventricular premature beat (label ``V``) at beat ``i`` qualifies when (defaults in
brackets, all from :class:`~holterlab.params.hrv.HRVParams`):

- it is isolated in sinus rhythm: the ``hrt_n_before + 1`` [3] beats before it and the
  ``hrt_n_after + 1`` [16] beats after it are all ``N``, giving ``hrt_n_before`` [2] sinus
  RR intervals before the coupling interval and ``hrt_n_after`` [15] after the
  compensatory pause;
- the **reference** interval is the mean of the up to ``hrt_reference_n`` [5] sinus RR
  intervals immediately before the coupling interval (consecutive N-N intervals, so at least
  RR-2 and RR-1);
- coupling interval <= (100 - ``hrt_min_prematurity_pct`` [20]) % of the reference and
  compensatory pause >= (100 + ``hrt_min_pause_pct`` [20]) % of the reference;
- every one of the required sinus intervals lies within ``[min_rr_ms, max_rr_ms]``
  [300, 2000 ms], differs by at most ``hrt_max_deviation_pct`` [20 %] from the reference
  and by at most ``hrt_max_step_ms`` [200 ms] from the preceding sinus interval (pre- and
  post-VPB runs checked separately);
- no ``excluded`` time overlaps the span from the first required beat to the last.

**Turbulence onset** ``TO = ((RR1 + RR2) - (RR-2 + RR-1)) / (RR-2 + RR-1) * 100`` is computed
for each qualifying VPB and averaged (%). **Turbulence slope** ``TS`` is the largest slope
(ms per beat) of the least-squares line through any ``hrt_ts_window`` [5] consecutive
intervals among RR1..RR15 of the *averaged* tachogram. Both are ``None`` when fewer than
``hrt_min_vpb`` [1] VPBs qualify: a single VPB is enough for the published risk categories
(HRT0-2), while research protocols often ask for more; raise ``hrt_min_vpb`` for those.
"""

from __future__ import annotations

import numpy as np

from holterlab.hrv.nn import check_beats, merge_intervals, overlaps_excluded
from holterlab.hrv.result import HRTResult
from holterlab.params.hrv import HRVParams

__all__ = ["heart_rate_turbulence", "turbulence_slope"]


def turbulence_slope(post_rr_ms: np.ndarray, window: int = 5) -> float:
    """Largest least-squares slope (ms/beat) over ``window`` consecutive intervals."""
    rr = np.asarray(post_rr_ms, dtype=float)
    if rr.size < window:
        return float("nan")
    views = np.lib.stride_tricks.sliding_window_view(rr, window)
    xc = np.arange(window) - (window - 1) / 2.0
    return float(np.max(views @ xc / np.dot(xc, xc)))


def heart_rate_turbulence(
    beats: np.ndarray,
    labels: np.ndarray,
    fs: float,
    *,
    params: HRVParams | None = None,
    excluded=None,
) -> HRTResult:
    """Turbulence onset and slope after isolated ventricular premature beats.

    Parameters
    ----------
    beats, labels, fs
        Beat sample indices, AAMI labels and sampling rate, as for
        :func:`~holterlab.hrv.nn.nn_intervals`.
    params
        :class:`~holterlab.params.hrv.HRVParams` (``hrt_*`` fields and RR limits).
    excluded
        ``(start_s, end_s)`` rows of unanalysable time.

    Returns
    -------
    HRTResult
    """
    p = params or HRVParams()
    b, lab, fs = check_beats(beats, labels, fs)
    nb, na = p.hrt_n_before, p.hrt_n_after
    pre = max(p.hrt_reference_n, nb)
    is_v = lab == "V"
    n_v = int(is_v.sum())
    idx = np.flatnonzero(is_v)
    idx = idx[(idx >= pre + 1) & (idx + na + 1 < b.size)]
    if idx.size == 0:
        return HRTResult(None, None, 0, n_v, [])
    offsets = np.arange(-(pre + 1), na + 2)
    win = idx[:, None] + offsets[None, :]
    normal = lab[win] == "N"  # column pre + 1 is the VPB
    times = b[win] / fs
    rr = np.diff(b[win], axis=1) * (1000.0 / fs)
    # rr columns: 0..pre-1 sinus before (pre-1 is RR-1), pre = coupling, pre+1 = pause,
    # pre+2 .. pre+1+na = RR1..RRna
    ok = normal[:, pre - nb : pre + 1].all(axis=1) & normal[:, pre + 2 :].all(axis=1)
    # reference: consecutive sinus intervals back from RR-1 (both beats N)
    back_ok = np.cumprod(normal[:, :pre][:, ::-1], axis=1).astype(bool)  # beat pre-1-j is N
    n_ref_cols = min(p.hrt_reference_n, pre)
    usable = back_ok[:, :n_ref_cols]  # interval pre-1-j valid when beats pre-1-j..pre N
    before = rr[:, :pre][:, ::-1][:, :n_ref_cols]
    n_ref = usable.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        ref = np.where(usable, before, 0.0).sum(axis=1) / n_ref
    sinus = np.concatenate([rr[:, pre - nb : pre], rr[:, pre + 2 :]], axis=1)
    ok &= ((sinus >= p.min_rr_ms) & (sinus <= p.max_rr_ms)).all(axis=1)
    ref_col = ref[:, None]
    ok &= (np.abs(sinus - ref_col) <= p.hrt_max_deviation_pct / 100.0 * ref_col).all(axis=1)
    steps = np.concatenate(
        [np.diff(rr[:, pre - nb : pre], axis=1), np.diff(rr[:, pre + 2 :], axis=1)], axis=1
    )
    ok &= (np.abs(steps) <= p.hrt_max_step_ms).all(axis=1)
    ok &= rr[:, pre] <= (1.0 - p.hrt_min_prematurity_pct / 100.0) * ref
    ok &= rr[:, pre + 1] >= (1.0 + p.hrt_min_pause_pct / 100.0) * ref
    starts, ends = merge_intervals(excluded)
    if starts.size:
        ok &= ~overlaps_excluded(times[:, pre - nb], times[:, -1], starts, ends)
    n_ok = int(ok.sum())
    if n_ok < p.hrt_min_vpb:
        return HRTResult(None, None, n_ok, n_v, [])
    used = rr[ok][:, pre - nb :]  # RR-nb .. RR-1, CI, CP, RR1 .. RRna
    pre_sum = used[:, nb - 2] + used[:, nb - 1]
    post_sum = used[:, nb + 2] + used[:, nb + 3]
    onset = float(np.mean((post_sum - pre_sum) / pre_sum * 100.0))
    tachogram = used.mean(axis=0)
    slope = turbulence_slope(tachogram[nb + 2 :], p.hrt_ts_window)
    return HRTResult(onset, slope, n_ok, n_v, [float(v) for v in tachogram])
