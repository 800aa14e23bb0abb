"""The overview: the whole recording (hours to days), every lead, rasterised with Datashader.

Each redraw reads the min/max envelope of the visible window from the
:class:`~holterlab.viz.pyramid.MinMaxPyramid` at about one bin per pixel, and Datashader draws
it as plain one-pixel lines (``line_width=0``: no anti-aliasing, about 3x cheaper) into one
band per lead. The image is an ``hv.RGB`` in a ``DynamicMap`` driven by the plot's x range and
size, so pan and zoom re-render only the pixels on screen, whatever the recording length.
Pan and zoom stay on the recording (from :data:`MIN_SPAN_S` to its whole length).
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from holterlab.viz.pyramid import MinMaxPyramid

__all__ = ["LEAD_COLORS", "MIN_SPAN_S", "render_overview", "overview_plot", "warm_up"]

#: Shortest window the overview zooms to (s): about a sample per pixel column; closer, the
#: one-pixel lines break up and then the image empties (the detail view shows seconds).
MIN_SPAN_S = 5.0
#: Line colours of the leads (cycled).
LEAD_COLORS = ["#1a1a2e", "#1c4e80", "#0b7285", "#5c3d99", "#2b8a3e", "#862e9c"]
_warm = threading.Event()


def _band_image(x: np.ndarray, y: np.ndarray, x_range, y_range, width: int, height: int):
    import datashader as ds
    import pandas as pd

    cvs = ds.Canvas(plot_width=width, plot_height=height, x_range=x_range, y_range=y_range)
    finite = np.isfinite(y)
    if not finite.all():
        y = np.where(finite, y, np.nan)
    df = pd.DataFrame({"x": x, "y": y})
    agg = cvs.line(df, "x", "y", agg=ds.any(), line_width=0)
    return np.asarray(agg.values, dtype=bool)[::-1]  # datashader row 0 is the bottom


def _hex_rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def render_overview(
    pyramid: MinMaxPyramid,
    x_range: tuple[float, float],
    width: int,
    height: int,
    *,
    leads: list[int] | None = None,
    y_ranges: list[tuple[float, float]] | None = None,
) -> np.ndarray:
    """RGBA uint8 image ``(height, width, 4)``: one band per lead, top to bottom.

    Parameters
    ----------
    pyramid
        The recording's pyramid (reads only the level that fits ``width``).
    x_range
        Window in seconds.
    width, height
        Image size in pixels (each lead gets ``height // n_leads`` rows).
    leads
        Lead indices (default all).
    y_ranges
        Amplitude range of each lead in mV (default: the pyramid's robust range).
    """
    idx = list(range(len(pyramid.leads))) if leads is None else list(leads)
    width = max(2, int(width))
    height = max(len(idx), int(height))
    x0, x1 = float(x_range[0]), float(x_range[1])
    if not x1 > x0:
        x1 = x0 + 1.0 / pyramid.fs
    env = pyramid.envelope(x0, x1, width, leads=idx)
    img = np.zeros((height, width, 4), dtype=np.uint8)
    img[..., :3] = 255
    edges = np.linspace(0, height, len(idx) + 1).round().astype(int)
    for k, lead in enumerate(idx):
        h = int(edges[k + 1] - edges[k])
        if h <= 0:
            continue
        lo, hi = y_ranges[k] if y_ranges is not None else pyramid.y_range[lead]
        pad = 0.05 * (hi - lo)
        x, y = env.polyline(k)
        if x.size == 0:
            continue
        mask = _band_image(x, y, (x0, x1), (lo - pad, hi + pad), width, h)
        rgb = _hex_rgb(LEAD_COLORS[lead % len(LEAD_COLORS)])
        band = img[edges[k] : edges[k + 1]]
        band[mask, 0], band[mask, 1], band[mask, 2] = rgb
        if k > 0:
            img[edges[k], :, :3] = 200  # a thin separator between leads
    img[..., 3] = 255
    return img


def warm_up() -> None:
    """Compile Datashader's line kernels once (several seconds) so the first paint is fast.

    Runs the same code path with the same array types as :func:`render_overview`.
    """
    if _warm.is_set():
        return
    x = np.linspace(0.0, 1.0, 16)
    y = np.sin(8 * x)
    y[3] = np.nan
    _band_image(x, y, (0.0, 1.0), (-1.0, 1.0), 8, 8)
    _warm.set()


def overview_plot(
    pyramid: MinMaxPyramid,
    *,
    start_time: Any = None,
    height: int = 240,
    width: int = 1200,
    leads: list[int] | None = None,
    x_range: tuple[float, float] | None = None,
) -> Any:
    """A ``DynamicMap`` of the overview image that re-renders on pan, zoom and resize.

    The x axis is seconds from the start (shown as clock time); link it to other plots with
    the same ``time`` dimension (e.g. in an ``hv.Layout``). ``x_range`` is the window shown
    first (default: the whole recording); the ``RangeX`` stream in ``dmap.streams`` follows
    the plot's x range.
    """
    import holoviews as hv

    from holterlab.viz import ensure_bokeh

    ensure_bokeh()

    from holterlab.viz.axes import clock_formatter

    idx = list(range(len(pyramid.leads))) if leads is None else list(leads)
    duration = pyramid.n_samples / pyramid.fs
    n = len(idx)
    ticks = [(n - k - 0.5, pyramid.leads[lead]) for k, lead in enumerate(idx)]
    first = (0.0, duration) if x_range is None else (float(x_range[0]), float(x_range[1]))
    range_stream = hv.streams.RangeX(x_range=first)
    size_stream = hv.streams.PlotSize(width=width, height=height)

    def image(x_range=None, width=None, height=None, scale=1.0):
        x0, x1 = x_range if x_range is not None else (0.0, duration)
        x0, x1 = max(0.0, float(x0)), min(duration, float(x1))
        if not x1 > x0:
            x0, x1 = 0.0, duration
        w = int(width or 1200)
        h = int(height or 240)
        rgba = render_overview(pyramid, (x0, x1), w, h, leads=idx)
        return hv.RGB(rgba, bounds=(x0, 0, x1, n), kdims=["time", "lead"])

    def keep_on_the_recording(plot, element):
        # without limits the wheel zooms out to +-1e16 s or in to an empty image
        x = plot.state.x_range
        x.bounds = (0.0, duration)
        x.min_interval = min(MIN_SPAN_S, duration)
        x.max_interval = duration

    dmap = hv.DynamicMap(image, streams=[range_stream, size_stream])
    return dmap.opts(
        hv.opts.RGB(
            height=height,
            responsive=True,
            yticks=ticks,
            xformatter=clock_formatter(start_time),
            xlim=first,
            ylim=(0, n),
            xlabel="",
            ylabel="",
            tools=["xwheel_zoom", "xpan", "tap"],
            active_tools=["xwheel_zoom", "xpan"],
            default_tools=["reset"],
            framewise=False,
            hooks=[keep_on_the_recording],
        )
    )
