"""Matplotlib figures of a Holter report, sized in millimetres for print.

Every function takes the result as plain JSON (``HolterResult.to_dict(include_beats=True)``)
and returns a :class:`matplotlib.figure.Figure` (built without pyplot, so nothing is shown or
kept by a notebook); :func:`to_html` embeds a figure as SVG at its physical size, which keeps
the ECG grid of :func:`ecg_strip` at exactly 25 mm/s and 10 mm/mV on paper. Dense scatter and
line plots are rasterised inside the SVG so a 24-hour report stays small.
"""

from __future__ import annotations

import io
import math
import re
from typing import Any

import numpy as np
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Ellipse, Rectangle
from matplotlib.ticker import FixedLocator, FuncFormatter

from holterlab.report.findings import qtc_formula
from holterlab.report.formatting import Clock, fmt, fmt_unit

__all__ = [
    "MM",
    "PAPER_SPEED_MM_S",
    "GAIN_MM_MV",
    "CAL_MM",
    "to_html",
    "hr_series",
    "hr_trend",
    "tachogram",
    "poincare",
    "st_trend",
    "qt_trend",
    "ecg_strip",
    "EVENT_LANES",
    "LABEL_COLORS",
]

#: Inches per millimetre.
MM = 1.0 / 25.4
#: Standard ECG paper speed and gain.
PAPER_SPEED_MM_S = 25.0
GAIN_MM_MV = 10.0
#: Width of the calibration area left of each ECG strip: a 1 mV pulse of 0.2 s (10 mm high,
#: 5 mm wide) between 1.5 mm of baseline on either side.
CAL_MM = 8.0

#: Colours of beat labels (AAMI classes).
LABEL_COLORS = {"N": "#222222", "S": "#1f5fbf", "V": "#c0392b", "F": "#8e44ad", "Q": "#7f7f7f"}

#: Lanes of the event strip under the heart-rate trend: (name, event types, colour).
EVENT_LANES: tuple[tuple[str, tuple[str, ...], str], ...] = (
    ("AF / flutter", ("af", "afl"), "#d35400"),
    ("V runs", ("vt", "ivr"), "#c0392b"),
    ("SVT / S runs", ("svt", "s_run"), "#1f5fbf"),
    ("Pauses", ("pause",), "#6c3483"),
    ("Brady", ("brady",), "#117a65"),
    ("Tachy", ("tachy",), "#b7950b"),
    ("ST episodes", ("st_depression", "st_elevation"), "#2e4053"),
    ("Noise", ("noise",), "#aab7b8"),
)

_RC = {
    "font.family": "DejaVu Sans",
    "font.size": 7.0,
    "axes.titlesize": 8.0,
    "axes.labelsize": 7.0,
    "xtick.labelsize": 6.5,
    "ytick.labelsize": 6.5,
    "legend.fontsize": 6.5,
    "axes.linewidth": 0.6,
    "lines.linewidth": 0.8,
    "svg.fonttype": "path",
}


def _figure(width_mm: float, height_mm: float) -> Figure:
    import matplotlib

    matplotlib.rcParams.update(_RC)
    return Figure(figsize=(width_mm * MM, height_mm * MM), dpi=100)


def to_html(
    fig: Figure, *, css_class: str = "hl-fig", dpi: int = 200, text_as_text: bool = False
) -> str:
    """The figure as inline SVG (physical size kept; rasterised parts at ``dpi``).

    ``text_as_text`` keeps the figure's text as SVG text (selectable and searchable in the
    PDF) instead of glyph outlines.
    """
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.fonttype": "none" if text_as_text else "path"}):
        fig.savefig(buf, format="svg", dpi=dpi, metadata={"Date": None, "Creator": None})
    svg = buf.getvalue()
    svg = svg[svg.find("<svg") :]
    # figures may appear several times: make the SVG ids unique to this figure
    prefix = f"f{abs(hash(svg)) % 10**8:08d}"
    svg = re.sub(r'id="([^"]+)"', rf'id="{prefix}\1"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", rf"url(#{prefix}\1)", svg)
    svg = re.sub(r'xlink:href="#([^"]+)"', rf'xlink:href="#{prefix}\1"', svg)
    return f'<div class="{css_class}">{svg}</div>'


# ---------------------------------------------------------------------- time axes
def _clock_axis(ax: Any, clock: Clock, total_s: float) -> None:
    """Ticks on round clock times (or round elapsed times) over an x axis in hours."""
    hours = max(total_s / 3600.0, 1e-3)
    steps = [1 / 12, 1 / 6, 0.25, 0.5, 1, 2, 3, 4, 6, 12, 24, 48]
    step = next((s for s in steps if hours / s <= 12), 48)
    offset_h = 0.0
    if clock.start is not None:
        s = clock.start
        offset_h = s.hour + s.minute / 60.0 + s.second / 3600.0
    first = math.ceil(offset_h / step - 1e-9) * step - offset_h
    ticks = np.arange(first, hours + 1e-9, step)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(
        FuncFormatter(lambda x, _pos: clock(x * 3600.0, seconds=False).replace("D", "d"))
    )
    ax.set_xlim(0, hours)


def _events(result: dict[str, Any], types: tuple[str, ...]) -> list[dict[str, Any]]:
    return [e for e in result.get("events") or [] if e.get("type") in types]


def _beats(result: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, float | None]:
    bl = result.get("beat_list") or {}
    fs = bl.get("fs")
    t = np.asarray(bl.get("sample") or [], dtype=np.float64)
    labels = np.asarray(bl.get("label") or [], dtype="<U1")
    if fs:
        t = t / float(fs)
    return t, labels, fs


def _in_spans(t: np.ndarray, events: list[dict[str, Any]]) -> np.ndarray:
    """Which times ``t`` (s) lie inside one of the events' [start_s, end_s]."""
    out = np.zeros(t.size, dtype=bool)
    for e in events:
        out |= (t >= float(e["start_s"])) & (t <= float(e["end_s"]))
    return out


def _note(ax: Any, text: str) -> None:
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", color="#666666")


# ---------------------------------------------------------------------- heart rate
def hr_series(
    time_s: np.ndarray, *, bin_s: float = 60.0, smooth_beats: int = 8, max_rr_s: float = 3.0
) -> dict[str, np.ndarray]:
    """Heart rate per ``bin_s``: mean (beats per minute of RR time) and the min/max of the
    ``smooth_beats``-beat running mean. Bins without usable RR intervals are NaN."""
    t = np.asarray(time_s, dtype=np.float64)
    if t.size < 3:
        empty = np.zeros(0)
        return {"time_s": empty, "mean": empty, "min": empty, "max": empty}
    rr = np.diff(t)
    tm = t[1:]
    ok = (rr > 0.2) & (rr <= max_rr_s)
    n_bins = int(np.ceil((t[-1] + 1e-9) / bin_s))
    idx = np.minimum((tm // bin_s).astype(np.int64), n_bins - 1)
    sum_rr = np.bincount(idx[ok], weights=rr[ok], minlength=n_bins)
    n_rr = np.bincount(idx[ok], minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(n_rr >= 3, 60.0 * n_rr / sum_rr, np.nan)
    k = max(int(smooth_beats), 1)
    rr_ok = np.where(ok, rr, np.nan)
    if rr.size >= k:
        win = np.lib.stride_tricks.sliding_window_view(rr_ok, k)
        with np.errstate(invalid="ignore"):
            run = 60.0 / win.mean(axis=1)  # NaN where a window holds an unusable RR
        run_idx = idx[k - 1 :]
    else:
        run, run_idx = np.zeros(0), np.zeros(0, dtype=np.int64)
    lo = np.full(n_bins, np.nan)
    hi = np.full(n_bins, np.nan)
    good = np.isfinite(run)
    if good.any():
        np.fmin.at(lo, run_idx[good], run[good])
        np.fmax.at(hi, run_idx[good], run[good])
    return {
        "time_s": (np.arange(n_bins) + 0.5) * bin_s,
        "mean": mean,
        "min": lo,
        "max": hi,
    }


def hr_trend(result: dict[str, Any], *, width_mm: float = 180.0) -> Figure:
    """Heart rate over the whole recording with the events marked in lanes below it.

    With the beat list: the mean rate per minute and the range of the 8-beat mean rate per
    5 minutes; without it: the hourly mean, minimum and maximum. The minimum and maximum of
    the result are marked with their values.
    """
    clock = Clock.from_result(result)
    total = float((result.get("recording") or {}).get("duration_s") or 0.0)
    lanes = EVENT_LANES
    fig = _figure(width_mm, 92.0)
    gs = fig.add_gridspec(
        2,
        1,
        height_ratios=[3.2, 1.45],
        hspace=0.08,
        left=0.09,
        right=0.97,
        top=0.92,
        bottom=0.1,
    )
    ax = fig.add_subplot(gs[0])
    ev_ax = fig.add_subplot(gs[1], sharex=ax)
    t, _labels, fs = _beats(result)
    if t.size >= 3:
        mean = hr_series(t, bin_s=60.0)
        bin_s = 60.0 if total <= 6 * 3600 else 300.0
        band = mean if bin_s == 60.0 else hr_series(t, bin_s=bin_s)
        h = band["time_s"] / 3600.0
        ax.fill_between(
            h,
            band["min"],
            band["max"],
            step="mid",
            color="#f5cbbd",
            lw=0,
            label=f"range of 8-beat mean ({bin_s / 60:g} min)",
            rasterized=True,
        )
        ax.plot(
            mean["time_s"] / 3600.0,
            mean["mean"],
            color="#a93226",
            lw=0.7,
            label="mean per minute",
            rasterized=True,
        )
    elif result.get("hourly"):
        rows = result["hourly"]
        edges = [r["start_s"] / 3600.0 for r in rows] + [rows[-1]["end_s"] / 3600.0]

        def col(name):
            return [np.nan if r.get(name) is None else r[name] for r in rows]

        for name, style in (("max_bpm", ":"), ("mean_bpm", "-"), ("min_bpm", ":")):
            v = col(name)
            ax.stairs(
                v,
                edges,
                color="#a93226",
                ls=style,
                lw=0.9,
                label=name.replace("_bpm", "").replace("mean", "hourly mean"),
            )
    else:
        _note(ax, "no beats: heart rate not available")
    hr = result.get("heart_rate") or {}
    for key, marker, va in (("max", "v", "bottom"), ("min", "^", "top")):
        p = hr.get(key) or {}
        if p.get("bpm") is not None and p.get("time_s") is not None:
            x = p["time_s"] / 3600.0
            y = p["bpm"] + (4 if key == "max" else -4)
            ax.plot([x], [y], marker=marker, color="black", ms=4, ls="none")
            frac = x / max(total / 3600.0, 1e-9)  # keep the label inside the plot
            ax.annotate(
                f"{key} {fmt_unit(p['bpm'], 'bpm')} {clock(p['time_s'], seconds=False)}",
                (x, y),
                xytext=(0, 4 if key == "max" else -4),
                textcoords="offset points",
                ha="left" if frac < 0.1 else ("right" if frac > 0.9 else "center"),
                va=va,
                fontsize=6.5,
                bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.5, "alpha": 0.8},
            )
    _shade_night(ax, result, clock, total)
    ax.set_ylabel("heart rate (bpm)")
    lo, hi = ax.get_ylim()
    ax.set_ylim(max(0.0, min(lo, 40.0) - 5), max(hi, 110.0) + 12)
    ax.grid(True, color="#dddddd", lw=0.4)
    ax.tick_params(labelbottom=False)
    if ax.get_legend_handles_labels()[0]:
        _legend_above(ax, ncol=4)
    # event lanes
    min_w = max(total, 1.0) / 3600.0 * 0.003
    for i, (_name, types, color) in enumerate(lanes):
        y = len(lanes) - 1 - i
        spans = [
            (e["start_s"] / 3600.0, max((e["end_s"] - e["start_s"]) / 3600.0, min_w))
            for e in _events(result, types)
        ]
        if spans:
            ev_ax.broken_barh(spans, (y - 0.38, 0.76), color=color, lw=0)
    ev_ax.set_yticks(range(len(lanes)))
    ev_ax.set_yticklabels([name for name, _t, _c in reversed(lanes)], fontsize=6)
    ev_ax.set_ylim(-0.6, len(lanes) - 0.4)
    ev_ax.grid(True, axis="x", color="#dddddd", lw=0.4)
    ev_ax.tick_params(axis="y", length=0)
    _clock_axis(ev_ax, clock, total)
    ev_ax.set_xlabel("clock time" if clock.wall else "time from start (h:mm)")
    return fig


def _legend_above(ax: Any, **kwargs: Any) -> None:
    """The legend above the plot's top right corner: never over the data."""
    ax.legend(
        loc="lower right", bbox_to_anchor=(1.0, 1.0), frameon=False, borderaxespad=0.2, **kwargs
    )


def _shade_night(ax: Any, result: dict[str, Any], clock: Clock, total_s: float) -> None:
    """Grey background over the night period (clock hours of the rhythm parameters)."""
    if clock.start is None or total_s <= 0:
        return
    rate = ((result.get("params") or {}).get("rhythm") or {}).get("rate") or {}
    night_h, day_h = rate.get("night_start_h", 23.0), rate.get("day_start_h", 7.0)
    s = clock.start
    offset_h = s.hour + s.minute / 60.0 + s.second / 3600.0
    hours = total_s / 3600.0
    first = True
    for day in range(-1, int(hours // 24) + 2):
        a = day * 24 + night_h - offset_h
        b = day * 24 + (day_h if day_h > night_h else day_h + 24) - offset_h
        a, b = max(a, 0.0), min(b, hours)
        if b > a:
            ax.axvspan(a, b, color="#e5e8e8", lw=0, zorder=0, label="night" if first else None)
            first = False


def tachogram(result: dict[str, Any], *, width_mm: float = 180.0) -> Figure:
    """RR intervals over time; intervals ending in an ectopic beat coloured by its class."""
    clock = Clock.from_result(result)
    total = float((result.get("recording") or {}).get("duration_s") or 0.0)
    fig = _figure(width_mm, 55.0)
    ax = fig.add_axes((0.09, 0.18, 0.88, 0.7))
    t, labels, _fs = _beats(result)
    if t.size < 3:
        _note(ax, "no beat list in the result: tachogram not available")
        ax.set_xticks([])
        ax.set_yticks([])
        return fig
    rr = np.diff(t) * 1000.0
    x = t[1:] / 3600.0
    end_label = labels[1:]
    for lab in ("N", "Q", "F", "S", "V"):
        m = end_label == lab
        if lab == "N":
            m = m & (labels[:-1] == "N")
            color, name = "#333333", "NN"
        else:
            color, name = LABEL_COLORS[lab], f"to {lab}"
        if m.any():
            ax.scatter(
                x[m],
                rr[m],
                s=0.6 if lab == "N" else 1.6,
                color=color,
                lw=0,
                rasterized=True,
                label=name,
            )
    m = (end_label == "N") & (labels[:-1] != "N")
    if m.any():
        ax.scatter(
            x[m], rr[m], s=1.2, color="#e67e22", lw=0, rasterized=True, label="after ectopic"
        )
    top = float(np.nanpercentile(rr, 99.9)) if rr.size else 2000.0
    ax.set_ylim(0, min(max(1500.0, top * 1.1), 4000.0))
    ax.set_ylabel("RR (ms)")
    ax.grid(True, color="#dddddd", lw=0.4)
    _legend_above(ax, ncol=6, markerscale=4, handletextpad=0.2)
    _clock_axis(ax, clock, total)
    return fig


def poincare(result: dict[str, Any], *, width_mm: float = 180.0) -> Figure:
    """Poincaré plot of NN intervals with the SD1/SD2 ellipse, and the NN histogram.

    NN intervals inside AF/flutter episodes are left out, as the HRV analysis leaves them out.
    """
    fig = _figure(width_mm, 78.0)
    ax = fig.add_axes((0.075, 0.14, 0.37, 0.8))
    hx = fig.add_axes((0.57, 0.14, 0.41, 0.8))
    t, labels, _fs = _beats(result)
    hrv = result.get("hrv") or {}
    if t.size < 4:
        for a in (ax, hx):
            _note(a, "no beat list in the result")
            a.set_xticks([])
            a.set_yticks([])
        return fig
    rr = np.diff(t) * 1000.0
    nn = (labels[:-1] == "N") & (labels[1:] == "N") & (rr >= 300) & (rr <= 2000)
    nn &= ~_in_spans(t[1:], _events(result, ("af", "afl")))  # HRV takes no NN from AF
    pair = nn[:-1] & nn[1:]
    a, b = rr[:-1][pair], rr[1:][pair]
    ax.scatter(a, b, s=0.8, color="#1f3a5f", alpha=0.35, lw=0, rasterized=True)
    lo = float(np.percentile(rr[nn], 0.1)) - 50 if nn.any() else 300.0
    hi = float(np.percentile(rr[nn], 99.9)) + 50 if nn.any() else 1500.0
    lo, hi = max(lo, 250.0), min(hi, 2100.0)
    ax.plot([lo, hi], [lo, hi], color="#999999", lw=0.5, ls="--")
    sd1, sd2, m = hrv.get("sd1_ms"), hrv.get("sd2_ms"), hrv.get("mean_nn_ms")
    if None not in (sd1, sd2, m):
        ax.add_patch(
            Ellipse((m, m), 2 * sd2, 2 * sd1, angle=45, fill=False, color="#c0392b", lw=0.9)
        )
        ax.text(
            0.03,
            0.97,
            f"SD1 {fmt_unit(sd1, 'sd1_ms')}\nSD2 {fmt_unit(sd2, 'sd2_ms')}",
            transform=ax.transAxes,
            va="top",
            fontsize=6.5,
        )
    ax.set_xlim(lo, hi)
    ax.set_ylim(lo, hi)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xlabel("NN interval n (ms)")
    ax.set_ylabel("NN interval n+1 (ms)")
    ax.set_title("Poincaré plot", loc="left")
    bin_ms = float(
        ((result.get("params") or {}).get("hrv") or {}).get("histogram_bin_ms") or 7.8125
    )
    if nn.any():
        edges = np.arange(lo, hi + bin_ms, bin_ms)
        hx.hist(rr[nn], bins=edges, color="#5d6d7e", lw=0)
    hx.set_xlim(lo, hi)
    hx.set_xlabel("NN interval (ms)")
    hx.set_ylabel("count")
    hx.set_title("NN interval histogram", loc="left")
    if hrv.get("triangular_index") is not None:
        hx.text(
            0.98,
            0.97,
            f"HRV triangular index {fmt(hrv['triangular_index'], 'triangular_index')}"
            f"\nTINN {fmt_unit(hrv.get('tinn_ms'), 'tinn_ms')}",
            transform=hx.transAxes,
            ha="right",
            va="top",
            fontsize=6.5,
        )
    for a_ in (ax, hx):
        a_.grid(True, color="#dddddd", lw=0.4)
    return fig


# ---------------------------------------------------------------------- ST and QT
def st_trend(result: dict[str, Any], *, width_mm: float = 180.0) -> Figure:
    """ST level per lead over time, the episode threshold and the ST episodes shaded."""
    clock = Clock.from_result(result)
    total = float((result.get("recording") or {}).get("duration_s") or 0.0)
    st = result.get("st") or {}
    trend = st.get("trend") or {}
    leads = [k for k in trend if k != "time_s"] or list((st.get("leads") or {}).keys())
    n = max(len(leads), 1)
    fig = _figure(width_mm, 14.0 + 24.0 * n)
    window = float(st.get("window_s") or 30.0)
    thr = float(
        ((result.get("params") or {}).get("st_qt") or {}).get("episode_threshold_mv") or 0.1
    )
    axes = fig.subplots(n, 1, sharex=True, squeeze=False)[:, 0]
    fig.subplots_adjust(
        left=0.09,
        right=0.97,
        top=1 - 4.0 / (14.0 + 24.0 * n),
        bottom=10.0 / (14.0 + 24.0 * n),
        hspace=0.12,
    )
    tt = (np.asarray(trend.get("time_s") or [], dtype=np.float64) + window / 2) / 3600.0
    for ax, lead in zip(axes, leads or [""], strict=False):
        y = np.asarray([np.nan if v is None else v for v in trend.get(lead) or []], dtype=float)
        if y.size and tt.size == y.size:
            ax.plot(tt, y, color="#1f3a5f", lw=0.8)
        else:
            _note(ax, "no ST trend")
        for sign in (-1, 1):
            ax.axhline(sign * thr, color="#c0392b", lw=0.5, ls="--")
        ax.axhline(0, color="#999999", lw=0.4)
        for e in _events(result, ("st_depression", "st_elevation")):
            if e.get("lead") == lead:
                c = "#e74c3c" if e["type"] == "st_depression" else "#f5b041"
                ax.axvspan(e["start_s"] / 3600.0, e["end_s"] / 3600.0, color=c, alpha=0.25, lw=0)
        ax.set_ylabel(f"{lead}\nST (mV)")
        finite = y[np.isfinite(y)] if y.size else y
        span = max(0.3, float(np.max(np.abs(finite))) * 1.15 if finite.size else 0.3)
        ax.set_ylim(-span, span)
        ax.grid(True, color="#dddddd", lw=0.4)
    _clock_axis(axes[-1], clock, total)
    return fig


def qt_trend(result: dict[str, Any], *, width_mm: float = 180.0) -> Figure:
    """QT and QTc over time with the 450 and 500 ms reference lines."""
    clock = Clock.from_result(result)
    total = float((result.get("recording") or {}).get("duration_s") or 0.0)
    qt = result.get("qt") or {}
    trend = qt.get("trend") or {}
    window = float((result.get("st") or {}).get("window_s") or 30.0)
    fig = _figure(width_mm, 55.0)
    ax = fig.add_axes((0.09, 0.2, 0.88, 0.74))
    t = (np.asarray(trend.get("time_s") or [], dtype=np.float64) + window / 2) / 3600.0

    def series(name):
        return np.asarray([np.nan if v is None else v for v in trend.get(name) or []], dtype=float)

    q, qc = series("qt_ms"), series("qtc_ms")
    if t.size and q.size == t.size:
        ax.plot(t, q, color="#5d6d7e", lw=0.8, marker=".", ms=1.5, label="QT")
        ax.plot(
            t,
            qc,
            color="#c0392b",
            lw=0.8,
            marker=".",
            ms=1.5,
            label=f"QTc ({qtc_formula(qt)})",
        )
        ax.legend(loc="upper right", frameon=False, ncol=2)
    else:
        _note(ax, "no QT trend")
    for level in (450, 500):
        ax.axhline(level, color="#999999", lw=0.5, ls=":")
    vals = np.concatenate([q[np.isfinite(q)], qc[np.isfinite(qc)]]) if q.size else np.zeros(0)
    lo = min(300.0, float(vals.min()) - 20) if vals.size else 300.0
    hi = max(520.0, float(vals.max()) + 20) if vals.size else 520.0
    ax.set_ylim(lo, hi)
    ax.set_ylabel("ms")
    ax.grid(True, color="#dddddd", lw=0.4)
    _clock_axis(ax, clock, total)
    return fig


# ---------------------------------------------------------------------- ECG strips
def _grid(ax: Any, width_s: float, y0: float, y1: float, *, x0: float = 0.0) -> None:
    """ECG paper: 1 mm minor (0.04 s, 0.1 mV) and 5 mm major (0.2 s, 0.5 mV) lines over
    ``[x0, x0 + width_s]`` s; major lines fall on multiples of 0.2 s (of ``x0 = 0``).

    Each set of lines is one path (NaN-separated), which keeps the SVG small and fast.
    """
    minor: list[tuple[float, float, float, float]] = []
    major: list[tuple[float, float, float, float]] = []
    i0, i1 = int(round(x0 / 0.04)), int(round((x0 + width_s) / 0.04))
    for i in range(i0, i1 + 1):
        x = i * 0.04
        (major if i % 5 == 0 else minor).append((x, x, y0, y1))
    k0, k1 = int(math.ceil(y0 / 0.1 - 1e-9)), int(math.floor(y1 / 0.1 + 1e-9))
    for k in range(k0, k1 + 1):
        y = k * 0.1
        (major if k % 5 == 0 else minor).append((x0, x0 + width_s, y, y))
    for lines, color, lw in ((minor, "#f7c6c6", 0.25), (major, "#e58e8e", 0.5)):
        seg = np.asarray(lines, dtype=np.float64)
        xs = np.column_stack([seg[:, 0], seg[:, 1], np.full(len(seg), np.nan)]).ravel()
        ys = np.column_stack([seg[:, 2], seg[:, 3], np.full(len(seg), np.nan)]).ravel()
        ax.plot(xs, ys, color=color, lw=lw, zorder=0, solid_capstyle="butt")


def _calibration(
    fig: Figure, rect: tuple[float, float, float, float], cal_s: float, y0: float, y1: float
) -> Any:
    """The 1 mV / 0.2 s calibration pulse on its own patch of ECG paper (axes at ``rect``).

    The pulse stands on 0 mV when it fits the band ``[y0, y1]``, else on the band's middle
    minus 0.5 mV. Its line is labelled ``"calibration"``.
    """
    ax = fig.add_axes(rect)
    # the paper runs on from the strip's: time -cal_s..0 s before its first sample
    _grid(ax, cal_s, y0, y1, x0=-cal_s)
    base = 0.0 if (y0 + 0.2 <= 0.0 and 1.0 <= y1 - 0.2) else round((y0 + y1) / 2 / 0.1) * 0.1 - 0.5
    a = -cal_s + (cal_s - 0.2) / 2
    ax.plot(
        [-cal_s, a, a, a + 0.2, a + 0.2, 0.0],
        [base, base, base + 1.0, base + 1.0, base, base],
        color="black",
        lw=0.7,
        zorder=2,
        solid_joinstyle="miter",
        label="calibration",
    )
    ax.set_xlim(-cal_s, 0.0)
    ax.set_ylim(y0, y1)
    ax.axis("off")
    return ax


def ecg_strip(
    signal: np.ndarray,
    fs: float,
    start_s: float,
    leads: list[str],
    *,
    clock: Clock,
    beat_times_s: np.ndarray | None = None,
    beat_labels: np.ndarray | None = None,
    marks: tuple[tuple[float, float], ...] = (),
    band_mv: float = 3.0,
) -> Figure:
    """An ECG strip on standard paper: 25 mm/s, 10 mm/mV, at its true size when printed.

    Parameters
    ----------
    signal
        mV, shape (leads, n), baseline removed (see :func:`~holterlab.report.strips.strip_signal`).
    start_s
        Time of the first sample (seconds from the recording start).
    leads
        Lead names, one per row of ``signal``.
    clock
        Writes the time stamps (one per second, under the strip).
    beat_times_s, beat_labels
        Beats in the strip (seconds from the recording start) and their labels, written above
        the strip in the colour of their class.
    marks
        Event spans (seconds from the recording start) underlined above the strip.
    band_mv
        Height of each lead's band (3 mV = 30 mm).

    Each lead starts with a 1 mV calibration pulse (:data:`CAL_MM` wide, on the same grid),
    so the figure is ``CAL_MM`` wider than the ``width_s * 25`` mm of signal.
    """
    x = np.atleast_2d(np.asarray(signal, dtype=np.float64))
    n_leads, n = x.shape
    width_s = n / fs
    top_mm, bottom_mm, band_mm = 6.0, 5.0, band_mv * GAIN_MM_MV
    w_mm = width_s * PAPER_SPEED_MM_S
    h_mm = top_mm + n_leads * band_mm + bottom_mm
    fig_w = CAL_MM + w_mm
    fig = _figure(fig_w, h_mm)
    x0, sig_w = CAL_MM / fig_w, w_mm / fig_w  # the signal's share of the figure width
    cal_s = CAL_MM / PAPER_SPEED_MM_S
    t = np.arange(n) / fs
    for i in range(n_leads):
        bottom = (bottom_mm + (n_leads - 1 - i) * band_mm) / h_mm
        ax = fig.add_axes((x0, bottom, sig_w, band_mm / h_mm))
        y = x[i]
        finite = y[np.isfinite(y)]
        if finite.size:
            p1, p99 = np.percentile(finite, [1, 99])
            centre = round(float(p1 + p99) / 2 / 0.1) * 0.1
        else:
            centre = 0.0
        y0, y1 = centre - band_mv / 2, centre + band_mv / 2
        _grid(ax, width_s, y0, y1)
        _calibration(fig, (0, bottom, x0, band_mm / h_mm), cal_s, y0, y1)
        ax.plot(t, y, color="black", lw=0.55, zorder=2, solid_joinstyle="round")
        ax.set_xlim(0, width_s)
        ax.set_ylim(y0, y1)
        ax.axis("off")
        ax.text(
            0.6 / w_mm,
            1 - 0.8 / band_mm,
            leads[i],
            transform=ax.transAxes,
            ha="left",
            va="top",
            fontsize=7.5,
            fontweight="bold",
            zorder=3,
            bbox={"facecolor": "white", "edgecolor": "none", "pad": 0.6, "alpha": 0.85},
        )
        if i < n_leads - 1:
            fig.add_artist(Line2D([0, 1], [bottom, bottom], color="#e58e8e", lw=0.8, zorder=1))
    # beat labels and event marks above the strip
    top = fig.add_axes((x0, 1 - top_mm / h_mm, sig_w, top_mm / h_mm))
    top.set_xlim(0, width_s)
    top.set_ylim(0, 1)
    top.axis("off")
    for a, b in marks:
        a_, b_ = max(a - start_s, 0.0), min(b - start_s, width_s)
        if b_ >= 0 and a_ <= width_s:
            b_ = max(b_, a_ + 0.08)
            top.add_patch(Rectangle((a_, 0.05), b_ - a_, 0.22, color="#f39c12", alpha=0.8, lw=0))
    if beat_times_s is not None and beat_labels is not None:
        for bt, lab in zip(beat_times_s, beat_labels, strict=False):
            xt = float(bt) - start_s
            if 0.0 <= xt <= width_s:
                top.text(
                    xt,
                    0.62,
                    str(lab),
                    ha="center",
                    va="center",
                    fontsize=7,
                    fontweight="bold",
                    color=LABEL_COLORS.get(str(lab), "black"),
                )
    # time stamps under the strip, one per second
    bot = fig.add_axes((x0, 0, sig_w, bottom_mm / h_mm))
    bot.set_xlim(0, width_s)
    bot.set_ylim(0, 1)
    bot.axis("off")
    k0 = math.ceil(start_s - 1e-9)
    for k in range(k0, int(math.floor(start_s + width_s)) + 1):
        xt = k - start_s
        bot.plot([xt, xt], [0.78, 1.0], color="#555555", lw=0.5)
        ha = "left" if xt < 0.3 else ("right" if xt > width_s - 0.3 else "center")
        bot.text(xt, 0.4, clock(k), ha=ha, va="center", fontsize=6, color="#333333")
    return fig
