"""Heart-rate trend and event track, on the same time axis as the overview.

:func:`hr_trend_data` bins the instantaneous heart rate (numpy only); :func:`hr_trend_plot`
draws its mean with a min-max band; :func:`event_track_plot` draws one row per event type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from holterlab.errors import ParameterError

__all__ = [
    "EVENT_COLORS",
    "HRTrend",
    "hr_trend_data",
    "hr_trend_plot",
    "event_rows",
    "event_track_plot",
]

#: Colour of each event type on the event track.
EVENT_COLORS: dict[str, str] = {
    "af": "#7048e8",
    "afl": "#9c36b5",
    "pause": "#e03131",
    "brady": "#1c7ed6",
    "tachy": "#f76707",
    "vt": "#c92a2a",
    "ivr": "#fa5252",
    "v_couplet": "#ff8787",
    "v_triplet": "#ff6b6b",
    "v_bigeminy": "#ffa8a8",
    "v_trigeminy": "#ffc9c9",
    "svt": "#1971c2",
    "s_run": "#4dabf7",
    "s_couplet": "#74c0fc",
    "s_triplet": "#74c0fc",
    "s_bigeminy": "#a5d8ff",
    "s_trigeminy": "#d0ebff",
    "st_depression": "#2f9e44",
    "st_elevation": "#66a80f",
    "noise": "#adb5bd",
}


@dataclass
class HRTrend:
    """Binned heart rate: bin start times (s) and mean/min/max rate (bpm; NaN: no beats)."""

    time: np.ndarray
    mean: np.ndarray
    low: np.ndarray
    high: np.ndarray
    bin_s: float


def hr_trend_data(
    beat_samples: np.ndarray,
    fs: float,
    *,
    duration_s: float | None = None,
    bin_s: float | None = None,
    max_rr_s: float = 3.0,
) -> HRTrend:
    """Instantaneous heart rate ``60 / RR`` binned in time.

    Parameters
    ----------
    beat_samples
        Sorted beat sample indices.
    fs
        Their sampling rate.
    duration_s
        Recording length (default: the last beat).
    bin_s
        Bin length; default about 2000 bins over the recording, at least 5 s.
    max_rr_s
        Longer RR intervals (pauses, gaps) are left out of the rate.
    """
    if not fs > 0:
        raise ParameterError("fs must be positive")
    b = np.asarray(beat_samples, dtype=np.int64)
    t = b / float(fs)
    if duration_s is None:
        duration_s = float(t[-1]) + 1.0 if t.size else 1.0
    if bin_s is None:
        bin_s = max(5.0, float(duration_s) / 2000.0)
    n_bins = max(1, int(np.ceil(duration_s / bin_s)))
    edges = np.arange(n_bins, dtype=np.float64) * bin_s
    mean = np.full(n_bins, np.nan)
    low = np.full(n_bins, np.nan)
    high = np.full(n_bins, np.nan)
    if t.size >= 2:
        rr = np.diff(t)
        ok = (rr > 0.2) & (rr <= max_rr_s)
        hr = 60.0 / rr[ok]
        where = np.clip((t[1:][ok] / bin_s).astype(np.int64), 0, n_bins - 1)
        counts = np.bincount(where, minlength=n_bins)
        sums = np.bincount(where, weights=hr, minlength=n_bins)
        has = counts > 0
        mean[has] = sums[has] / counts[has]
        lo = np.full(n_bins, np.inf)
        hi = np.full(n_bins, -np.inf)
        np.minimum.at(lo, where, hr)
        np.maximum.at(hi, where, hr)
        low[has] = lo[has]
        high[has] = hi[has]
    return HRTrend(edges, mean, low, high, float(bin_s))


def hr_trend_plot(trend: HRTrend, *, start_time: Any = None, height: int = 130) -> Any:
    """Mean heart rate with its min-max band (HoloViews)."""
    import holoviews as hv

    from holterlab.viz import ensure_bokeh

    ensure_bokeh()

    from holterlab.viz.axes import clock_formatter

    x = trend.time + trend.bin_s / 2
    band = hv.Area((x, trend.low, trend.high), "time", ["bpm", "bpm_high"], label="HR range").opts(
        color="#ffc9c9", line_alpha=0, alpha=0.8
    )
    curve = hv.Curve((x, trend.mean), "time", "bpm", label="HR").opts(
        color="#c92a2a", line_width=1.2
    )
    finite = np.isfinite(trend.high)
    top = float(np.nanmax(trend.high[finite])) if finite.any() else 120.0
    return (band * curve).opts(
        hv.opts.Overlay(
            height=height,
            responsive=True,
            show_legend=False,
            ylim=(20, min(250.0, max(100.0, top + 10))),
            xlim=(0.0, float(trend.time[-1] + trend.bin_s)),
            padding=0,
            xformatter=clock_formatter(start_time),
            ylabel="HR (bpm)",
            xlabel="",
            toolbar=None,
        )
    )


def event_rows(events: list[Any]) -> list[str]:
    """Event types present, in a fixed clinical order (one track row each)."""
    present = {e.type for e in events}
    return [t for t in EVENT_COLORS if t in present]


def event_track_plot(
    events: list[Any],
    *,
    duration_s: float,
    start_time: Any = None,
    height: int = 110,
    rows: list[str] | None = None,
) -> Any:
    """One row per event type, a coloured bar per episode (HoloViews rectangles).

    ``rows`` fixes the rows (default: the types present, :func:`event_rows`); events of other
    types are left out.
    """
    import holoviews as hv

    from holterlab.viz import ensure_bokeh

    ensure_bokeh()

    from holterlab.viz.axes import clock_formatter

    rows = event_rows(events) if rows is None else list(rows)
    events = [e for e in events if e.type in rows]
    row_of = {t: i for i, t in enumerate(rows)}
    # very short events get a minimum visible width (0.1 % of the recording)
    min_w = duration_s * 0.001
    data: dict[str, list] = {
        "time": [],
        "row": [],
        "time_end": [],
        "row_end": [],
        "type": [],
        "color": [],
    }
    for e in events:
        i = row_of[e.type]
        end = max(e.end_s, e.start_s + min_w)
        data["time"].append(float(e.start_s))
        data["time_end"].append(float(end))
        data["row"].append(i + 0.1)
        data["row_end"].append(i + 0.9)
        data["type"].append(e.type)
        data["color"].append(EVENT_COLORS.get(e.type, "#495057"))
    rect = hv.Rectangles(
        data, kdims=["time", "row", "time_end", "row_end"], vdims=["type", "color"]
    ).opts(color="color", line_alpha=0, tools=["hover"])
    ticks = [(i + 0.5, t) for i, t in enumerate(rows)]
    return rect.opts(
        height=max(height, 18 * len(rows) + 40),
        responsive=True,
        yticks=ticks,
        ylim=(0, max(1, len(rows))),
        xlim=(0.0, float(duration_s)),
        padding=0,
        xformatter=clock_formatter(start_time),
        ylabel="",
        xlabel="",
        toolbar=None,
    )
