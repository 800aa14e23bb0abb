"""ST deviation and QT/QTc trends over a whole recording, and ST episodes."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from holterlab.errors import CancelledError
from holterlab.events import Event
from holterlab.params.st_qt import STQTParams
from holterlab.st_qt._kernels import delineate_kernel
from holterlab.st_qt.median import POST_MS, PRE_MS, MedianBeats, median_beats

__all__ = ["STQTResult", "analyze_st_qt", "st_qt_recording", "st_episodes", "qtc"]


def qtc(qt_ms: np.ndarray, rr_ms: np.ndarray, formula: str = "bazett") -> np.ndarray:
    """Heart-rate corrected QT (ms): Bazett QT/sqrt(RR) or Fridericia QT/cbrt(RR), RR in s."""
    rr_s = np.asarray(rr_ms, dtype=np.float64) / 1000.0
    qt = np.asarray(qt_ms, dtype=np.float64)
    if formula == "bazett":
        return qt / np.sqrt(rr_s)
    if formula == "fridericia":
        return qt / np.cbrt(rr_s)
    raise ValueError(f"unknown QTc formula {formula!r}")


@dataclass
class STQTResult:
    """ST and QT trends (one value per median-beat window) and ST episodes.

    Attributes
    ----------
    leads
        Lead names.
    time_s
        Window start times (s).
    st_mv
        ST deviation per window and lead (mV, J + offset relative to PR), shape (n, n_leads).
    qt_ms, rr_ms
        QT per window (NaN where no T end) and mean RR (ms).
    n_beats
        Beats averaged per window.
    episodes
        ST episodes (:class:`holterlab.events.Event` of type ``st_depression`` /
        ``st_elevation``).
    params
        The parameters used.
    """

    leads: list[str]
    time_s: np.ndarray
    st_mv: np.ndarray
    qt_ms: np.ndarray
    rr_ms: np.ndarray
    n_beats: np.ndarray
    qrs_ms: np.ndarray
    params: STQTParams = field(default_factory=STQTParams)
    episodes: list[Event] = field(default_factory=list)

    @property
    def qtc_bazett_ms(self) -> np.ndarray:
        return qtc(self.qt_ms, self.rr_ms, "bazett")

    @property
    def qtc_fridericia_ms(self) -> np.ndarray:
        return qtc(self.qt_ms, self.rr_ms, "fridericia")

    def st_summary(self) -> dict[str, Any]:
        """Per lead: min/max ST (mV) with times, and the mean."""
        out: dict[str, Any] = {}
        for i, lead in enumerate(self.leads):
            col = self.st_mv[:, i] if self.st_mv.size else np.zeros(0)
            ok = np.flatnonzero(np.isfinite(col))  # NaN: the lead was unusable (lead off)
            if ok.size == 0:
                out[lead] = {
                    "min_mv": None,
                    "min_time_s": None,
                    "max_mv": None,
                    "max_time_s": None,
                    "mean_mv": None,
                }
                continue
            k_min, k_max = int(ok[np.argmin(col[ok])]), int(ok[np.argmax(col[ok])])
            out[lead] = {
                "min_mv": round(float(col[k_min]), 3),
                "min_time_s": float(self.time_s[k_min]),
                "max_mv": round(float(col[k_max]), 3),
                "max_time_s": float(self.time_s[k_max]),
                "mean_mv": round(float(col[ok].mean()), 3),
            }
        return out

    def to_dict(self, *, trend: bool = True) -> dict[str, Any]:
        """JSON-ready ``{"st": ..., "qt": ...}`` sections (trends as columnar lists)."""
        qt = self.qt_ms
        ok = np.isfinite(qt)

        def stat(values: np.ndarray, fn) -> float | None:
            v = values[np.isfinite(values)]
            return None if v.size == 0 else round(float(fn(v)), 1)

        qtc_b, qtc_f = self.qtc_bazett_ms, self.qtc_fridericia_ms
        headline = qtc_b if self.params.qtc_formula == "bazett" else qtc_f
        # maxima of a QTc sustained over several windows, not one window's outlier
        sus_b, sus_f = sustained(qtc_b), sustained(qtc_f)
        sus = sus_b if self.params.qtc_formula == "bazett" else sus_f
        k_max = int(np.nanargmax(sus)) if np.isfinite(sus).any() else None
        st = {
            "offset_ms": self.params.st_offset_ms,
            "window_s": self.params.window_s,
            "leads": self.st_summary(),
            "episodes": [e.to_dict() for e in self.episodes],
            "n_windows": int(self.time_s.size),
        }
        qtd = {
            "formula": self.params.qtc_formula,
            "mean_qt_ms": stat(qt, np.mean),
            "mean_qtc_bazett_ms": stat(qtc_b, np.mean),
            "max_qtc_bazett_ms": stat(sus_b, np.max),
            "mean_qtc_fridericia_ms": stat(qtc_f, np.mean),
            "max_qtc_fridericia_ms": stat(sus_f, np.max),
            "mean_qtc_ms": stat(headline, np.mean),
            "max_qtc_ms": stat(sus, np.max),
            "max_qtc_time_s": None if k_max is None else float(self.time_s[k_max]),
            "mean_qrs_ms": stat(self.qrs_ms, np.mean),
            "measured_windows": int(ok.sum()),
        }
        if trend:
            st["trend"] = {
                "time_s": [float(t) for t in self.time_s],
                **{
                    lead: [round(float(v), 4) if np.isfinite(v) else None for v in self.st_mv[:, i]]
                    for i, lead in enumerate(self.leads)
                },
            }
            qtd["trend"] = {
                "time_s": [float(t) for t in self.time_s],
                "qt_ms": [None if not np.isfinite(v) else round(float(v), 1) for v in qt],
                "qtc_ms": [None if not np.isfinite(v) else round(float(v), 1) for v in headline],
                "rr_ms": [round(float(v), 1) for v in self.rr_ms],
            }
        return {"st": st, "qt": qtd}


#: Consecutive median-beat windows over which a maximum QTc must hold (2.5 min at 30 s).
SUSTAINED_WINDOWS = 5


def sustained(values: np.ndarray, k: int = SUSTAINED_WINDOWS) -> np.ndarray:
    """Running median of ``k`` consecutive windows (NaN-aware; NaN where fewer than
    ``min(3, finite values)`` of them are finite): the level a trend holds for ``k``
    windows. The maximum QTc is taken from it, so one window with a mismeasured T end or an
    RR outlier does not make the record's maximum."""
    v = np.asarray(values, dtype=np.float64)
    if v.size == 0:
        return v.copy()
    need = max(1, min(3, int(np.isfinite(v).sum())))
    half = k // 2
    padded = np.pad(v, half, constant_values=np.nan)
    win = np.lib.stride_tricks.sliding_window_view(padded, k)
    enough = np.isfinite(win).sum(axis=1) >= need
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(win, axis=1)
    return np.where(enough & np.isfinite(v), med, np.nan)


def st_episodes(
    time_s: np.ndarray,
    st_mv: np.ndarray,
    leads: list[str],
    *,
    window_s: float,
    threshold_mv: float = 0.1,
    min_s: float = 60.0,
    gap_s: float = 60.0,
    duration_s: float | None = None,
) -> list[Event]:
    """ST episodes by the 1 mm / 1 minute rule, per lead.

    A window is *deviated* when its ST level is at or beyond ``threshold_mv`` (depression:
    ``<= -threshold``; elevation: ``>= +threshold``). Runs of consecutive deviated windows
    closer than ``gap_s`` are merged. Each window's level stands for its centre, so an
    episode starts and ends where the level crosses the threshold, interpolated linearly
    between the centres of the windows either side (at the window edge when the neighbour
    is missing; never past ``duration_s``); an episode lasting at least ``min_s`` is reported
    with its extreme value and time.
    """
    events: list[Event] = []
    if time_s.size == 0:
        return events
    for li, lead in enumerate(leads):
        for kind, sign in (("st_depression", -1.0), ("st_elevation", 1.0)):
            dev = sign * st_mv[:, li] >= threshold_mv
            if not dev.any():
                continue
            idx = np.flatnonzero(dev)
            runs: list[list[int]] = [[idx[0], idx[0]]]
            for k in idx[1:]:
                prev_end = time_s[runs[-1][1]] + window_s
                if time_s[k] - prev_end <= gap_s:
                    runs[-1][1] = k
                else:
                    runs.append([k, k])
            val = sign * st_mv[:, li]
            for a, b in runs:
                start = _crossing(time_s, val, a, a - 1, window_s, threshold_mv)
                end = _crossing(time_s, val, b, b + 1, window_s, threshold_mv)
                if duration_s is not None:  # the last window may run past the recording
                    end = min(end, float(duration_s))
                if end - start < min_s:
                    continue
                seg = st_mv[a : b + 1, li]  # NaN where the lead was off inside the run
                k = int(np.nanargmin(seg) if sign < 0 else np.nanargmax(seg))
                events.append(
                    Event(
                        kind,
                        start,
                        end,
                        lead=lead,
                        detail={
                            "extreme_mv": round(float(seg[k]), 3),
                            "extreme_time_s": float(time_s[a + k]),
                        },
                    )
                )
    events.sort(key=lambda e: e.start_s)
    return events


def _crossing(
    time_s: np.ndarray, val: np.ndarray, inside: int, outside: int, window_s: float, thr: float
) -> float:
    """Time where the level crosses ``thr`` between window ``inside`` (deviated) and its
    neighbour ``outside``; the outer edge of ``inside`` when the neighbour is missing."""
    edge = float(time_s[inside] + (window_s if outside > inside else 0.0))
    if not 0 <= outside < time_s.size or abs(time_s[outside] - time_s[inside]) > 1.5 * window_s:
        return edge
    v_in, v_out = float(val[inside]), float(val[outside])
    if not (np.isfinite(v_out) and v_in > v_out):
        return edge
    c_in = float(time_s[inside]) + 0.5 * window_s
    c_out = float(time_s[outside]) + 0.5 * window_s
    return c_in + (c_out - c_in) * (v_in - thr) / (v_in - v_out)


def _clean_qt(qt: np.ndarray, *, k: int = 11, tolerance: float = 0.15) -> np.ndarray:
    """Drop implausible QT values: outside 200-700 ms, or more than ``tolerance`` away from the
    running median of ``k`` neighbouring windows (a missed or spurious T end)."""
    qt = np.where((qt >= 200) & (qt <= 700), qt, np.nan)
    if qt.size < 3:
        return qt
    half = k // 2
    padded = np.pad(qt, half, constant_values=np.nan)
    windows = np.lib.stride_tricks.sliding_window_view(padded, k)
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med = np.nanmedian(windows, axis=1)
    bad = np.abs(qt - med) > tolerance * med
    return np.where(bad, np.nan, qt)


def _measure(mb: MedianBeats, params: STQTParams) -> tuple[np.ndarray, ...]:
    """Delineate every median beat (numba twin of :func:`delineate`, tested equal)."""
    n = mb.window_start_s.size
    n_leads = mb.beats.shape[1]
    st = np.zeros((n, n_leads), dtype=np.float32)
    qt = np.full(n, np.nan)
    qrs = np.full(n, np.nan)
    ms = mb.fs / 1000.0
    for i in range(n):
        rr = float(mb.rr_ms[i]) if np.isfinite(mb.rr_ms[i]) else 0.0
        onset, j_point, t_end, _pr, st_i = delineate_kernel(
            mb.beats[i].astype(np.float64), float(mb.fs), int(mb.pre), params.st_offset_ms, rr
        )
        st[i] = st_i
        qrs[i] = (j_point - onset) / ms
        if t_end >= 0:
            qt[i] = (t_end - onset) / ms
    return st, qt, qrs


#: Fraction of a window's time a lead must be usable for its ST level to be reported.
MIN_USABLE_FRACTION = 0.5


def _usable_fraction(quality: Any, time_s: np.ndarray, window_s: float) -> np.ndarray:
    """(n_windows, n_leads) fraction of each window's quality segments in which the lead is
    usable (:attr:`holterlab.quality.QualityResult.usable`)."""
    usable = np.asarray(quality.usable, dtype=np.float64)  # (n_leads, n_segments)
    seg_s = quality.segment_samples / quality.fs
    cum = np.concatenate([np.zeros((usable.shape[0], 1)), np.cumsum(usable, axis=1)], axis=1)
    n_seg = usable.shape[1]
    a = np.clip(np.floor(time_s / seg_s + 1e-9).astype(np.int64), 0, n_seg)
    b = np.clip(np.ceil((time_s + window_s) / seg_s - 1e-9).astype(np.int64), 0, n_seg)
    b = np.maximum(b, a + 1).clip(max=n_seg)
    count = np.maximum(b - a, 1)
    return ((cum[:, b] - cum[:, a]) / count).T


def _finish(
    parts: list[tuple[MedianBeats, tuple[np.ndarray, ...]]],
    leads: list[str],
    params: STQTParams,
    quality: Any = None,
    duration_s: float | None = None,
) -> STQTResult:
    if parts:
        time_s = np.concatenate([p[0].window_start_s for p in parts])
        st = np.concatenate([p[1][0] for p in parts]).reshape(-1, len(leads))
        qt = np.concatenate([p[1][1] for p in parts])
        qrs = np.concatenate([p[1][2] for p in parts])
        rr = np.concatenate([p[0].rr_ms for p in parts])
        nb = np.concatenate([p[0].n_beats for p in parts])
    else:
        time_s, rr, qt, qrs = np.zeros(0), np.zeros(0), np.zeros(0), np.zeros(0)
        st, nb = np.zeros((0, len(leads)), np.float32), np.zeros(0, np.int64)
    if quality is not None and time_s.size and quality.n_segments:
        frac = _usable_fraction(quality, time_s, params.window_s)
        if frac.shape[1] == st.shape[1]:
            bad = frac < MIN_USABLE_FRACTION
            # a lead off (flat, saturated, noise only) gives a flat median beat: ST 0.000 mV
            # that is not a measurement; with no usable lead, QT and QRS are not either
            st = np.where(bad, np.float32(np.nan), st).astype(np.float32)
            none = bad.all(axis=1)
            qt = np.where(none, np.nan, qt)
            qrs = np.where(none, np.nan, qrs)
    qt = _clean_qt(qt)
    episodes = st_episodes(
        time_s,
        st,
        leads,
        window_s=params.window_s,
        threshold_mv=params.episode_threshold_mv,
        min_s=params.episode_min_s,
        gap_s=params.episode_gap_s,
        duration_s=duration_s,
    )
    return STQTResult(leads, time_s, st, qt, rr, nb, qrs, params, episodes)


def analyze_st_qt(
    signal: np.ndarray,
    fs: float,
    beats: np.ndarray,
    labels: np.ndarray,
    *,
    leads: list[str] | None = None,
    params: STQTParams | None = None,
    quality: Any = None,
) -> STQTResult:
    """ST and QT analysis of an in-memory signal (mV, shape (n_leads, n)); ``quality`` as for
    :func:`st_qt_recording`."""
    params = params or STQTParams()
    x = np.atleast_2d(np.asarray(signal, dtype=np.float32))
    leads = leads or [f"ECG{i + 1}" for i in range(x.shape[0])]
    mb = median_beats(
        x,
        fs,
        beats,
        labels,
        window_s=params.window_s,
        min_beats=params.min_beats,
        lowpass_hz=params.lowpass_hz,
    )
    duration = x.shape[1] / float(fs)
    return _finish([(mb, _measure(mb, params))], leads, params, quality, duration)


def st_qt_recording(
    recording: Any,
    beats: np.ndarray,
    labels: np.ndarray,
    *,
    params: STQTParams | None = None,
    chunk_s: float = 1800.0,
    progress: Callable[[float], None] | None = None,
    cancel: Callable[[], bool] | None = None,
    quality: Any = None,
) -> STQTResult:
    """ST and QT analysis of a :class:`~holterlab.recording.Recording`, chunk by chunk.

    Chunks are whole multiples of the median-beat window, read with a halo so every beat of
    a window is complete; results do not depend on ``chunk_s``. With ``quality`` (a
    :class:`~holterlab.quality.QualityResult`), a lead usable for less than half of a window
    reports no ST level there (NaN; ``null`` in JSON), and a window without any usable lead
    no QT either.
    """
    params = params or STQTParams()
    fs = recording.fs
    n_win_chunk = max(1, int(round(chunk_s / params.window_s)))
    win_len = int(round(params.window_s * fs))
    halo = int(round((PRE_MS + POST_MS + 200) * fs / 1000))
    total_windows = int(np.ceil(recording.n_samples / win_len))
    beats = np.asarray(beats, dtype=np.int64)
    labels = np.asarray(labels).astype(str)
    parts = []
    for w0 in range(0, total_windows, n_win_chunk):
        if cancel is not None and cancel():
            raise CancelledError("ST/QT analysis cancelled")
        w1 = min(total_windows, w0 + n_win_chunk)
        i0 = max(0, w0 * win_len - halo)
        i1 = min(recording.n_samples, w1 * win_len + halo)
        x = recording.get_samples(None, i0, i1)
        # beats of the block plus one neighbour each side for the knot baseline and labels
        a = max(0, int(np.searchsorted(beats, i0)) - 1)
        b = min(beats.size, int(np.searchsorted(beats, i1)) + 1)
        mb = median_beats(
            x,
            fs,
            beats[a:b],
            labels[a:b],
            offset=i0,
            window_s=params.window_s,
            min_beats=params.min_beats,
            lowpass_hz=params.lowpass_hz,
            window_range=(w0, w1),
        )
        parts.append((mb, _measure(mb, params)))
        if progress is not None:
            progress(w1 / total_windows)
    duration = recording.n_samples / float(fs)
    return _finish(parts, list(recording.leads), params, quality, duration)
