"""The ECG paper grid: 25 mm/s and 10 mm/mV, 1 mm minor and 5 mm major lines.

Grid lines sit at whole multiples of 1 mm from the recording start (0.04 s) and from 0 mV
(0.1 mV), so paging keeps them in place. :func:`grid_lines` gives the line positions (numpy
only); :func:`paper_grid` draws them as HoloViews segments.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from holterlab.errors import ParameterError

__all__ = [
    "MM_PER_S",
    "MM_PER_MV",
    "MINOR_S",
    "MINOR_MV",
    "GridLines",
    "grid_lines",
    "grid_segments",
    "paper_grid",
    "MINOR_COLOR",
    "MAJOR_COLOR",
]

#: Paper speed (mm per second) and gain (mm per millivolt).
MM_PER_S = 25.0
MM_PER_MV = 10.0
#: One millimetre in seconds and in millivolts.
MINOR_S = 1.0 / MM_PER_S
MINOR_MV = 1.0 / MM_PER_MV
#: Every 5th line is a major line.
MAJOR_EVERY = 5
MINOR_COLOR = "#f6c6cc"
MAJOR_COLOR = "#e88a96"
#: Minor lines are left out when they would be closer than this many pixels.
MIN_MINOR_PX = 3.0
_MAX_LINES = 20000


@dataclass
class GridLines:
    """Positions of the grid lines of a window.

    Attributes
    ----------
    minor_x, major_x
        Times (s) of the vertical lines.
    minor_y, major_y
        Amplitudes (mV) of the horizontal lines.
    """

    minor_x: np.ndarray
    major_x: np.ndarray
    minor_y: np.ndarray
    major_y: np.ndarray


def _ticks(lo: float, hi: float, step: float) -> tuple[np.ndarray, np.ndarray]:
    i0 = int(np.ceil(lo / step - 1e-9))
    i1 = int(np.floor(hi / step + 1e-9))
    if i1 - i0 > _MAX_LINES:
        raise ParameterError(
            f"an ECG paper grid over this window would need {i1 - i0} lines; zoom in"
        )
    i = np.arange(i0, i1 + 1, dtype=np.int64)
    major = i % MAJOR_EVERY == 0
    values = i * step
    return values[~major], values[major]


def grid_lines(
    x0: float, x1: float, y0: float, y1: float, *, px_per_mm: float | None = None
) -> GridLines:
    """Grid line positions in the window ``[x0, x1]`` s x ``[y0, y1]`` mV.

    With ``px_per_mm`` below :data:`MIN_MINOR_PX` the minor lines are omitted (they would fill
    the plot with pink).
    """
    if not (x1 > x0 and y1 > y0):
        raise ParameterError("the grid window needs x1 > x0 and y1 > y0")
    minor_x, major_x = _ticks(x0, x1, MINOR_S)
    minor_y, major_y = _ticks(y0, y1, MINOR_MV)
    if px_per_mm is not None and px_per_mm < MIN_MINOR_PX:
        minor_x = minor_x[:0]
        minor_y = minor_y[:0]
    return GridLines(minor_x, major_x, minor_y, major_y)


def grid_segments(
    x0: float, x1: float, y0: float, y1: float, *, px_per_mm: float | None = None
) -> dict[str, np.ndarray]:
    """The grid as line segments: columns ``x0 y0 x1 y1`` and ``color`` (minor lines first,
    so major lines are drawn on top)."""
    g = grid_lines(x0, x1, y0, y1, px_per_mm=px_per_mm)
    xs = [g.minor_x, g.major_x]
    ys = [g.minor_y, g.major_y]
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("x0", "y0", "x1", "y1")}
    colors = []
    for xv, yv, color in ((xs[0], ys[0], MINOR_COLOR), (xs[1], ys[1], MAJOR_COLOR)):
        cols["x0"] += [xv, np.full(yv.size, x0)]
        cols["x1"] += [xv, np.full(yv.size, x1)]
        cols["y0"] += [np.full(xv.size, y0), yv]
        cols["y1"] += [np.full(xv.size, y1), yv]
        colors += [color] * (xv.size + yv.size)
    out = {k: np.concatenate(v).astype(np.float64) for k, v in cols.items()}
    out["color"] = np.array(colors, dtype=object)
    return out


def paper_grid(
    x0: float, x1: float, y0: float, y1: float, *, px_per_mm: float | None = None
) -> Any:
    """The grid as one ``hv.Segments`` element (minor and major lines, coloured)."""
    import holoviews as hv

    from holterlab.viz import ensure_bokeh

    ensure_bokeh()
    seg = grid_segments(x0, x1, y0, y1, px_per_mm=px_per_mm)
    data = {
        "time": seg["x0"],
        "mV": seg["y0"],
        "time2": seg["x1"],
        "mV2": seg["y1"],
        "color": seg["color"],
    }
    return hv.Segments(data, kdims=["time", "mV", "time2", "mV2"], vdims=["color"]).opts(
        color="color", line_width=1
    )
