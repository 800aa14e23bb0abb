"""The detail view: seconds of every lead on ECG paper, beat markers by class, RR values.

:func:`detail_data` gathers what to draw (numpy only: samples of the window, the lead
offsets, beat positions, labels and RR intervals); :func:`detail_plot` draws it with
HoloViews (Bokeh) on a :func:`~holterlab.viz.grid.paper_grid`. The scale is true ECG paper:
one grid millimetre is 0.04 s wide and 0.1 mV high, so the plot's pixel height follows from
its width and the window length.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from holterlab.errors import ParameterError
from holterlab.viz.grid import MINOR_S, MM_PER_MV, MM_PER_S

__all__ = [
    "CAL_MV",
    "CAL_S",
    "CLASS_COLORS",
    "DetailData",
    "calibration_paths",
    "detail_layout",
    "detail_data",
    "detail_elements",
    "detail_options",
    "detail_plot",
]

#: Colour of each beat class (AAMI N S V F Q; ``|`` = artefact).
CLASS_COLORS: dict[str, str] = {
    "N": "#2b8a3e",
    "S": "#1971c2",
    "V": "#e03131",
    "F": "#e8590c",
    "Q": "#7048e8",
    "|": "#868e96",
}
#: Pixel height aimed at for one lead's band.
LEAD_PX = 150.0
#: RR values are written only between beats at least this many pixels apart (a number
#: of 3-4 digits needs about that much; closer, they overprint each other).
RR_LABEL_PX = 30.0
#: The calibration pulse: 1 mV high (10 mm at standard gain) and 0.2 s wide (5 mm), its
#: rising edge this far (2 mm) after the window start.
CAL_MV = 1.0
CAL_S = 0.2
CAL_LEAD_S = 2 * MINOR_S


def detail_layout(seconds: float, n_leads: int, width: int) -> tuple[float, float, int]:
    """``(px_per_mm, band_mv, height_px)`` of a detail plot ``width`` pixels wide.

    The band of each lead is a whole number of 5 mm squares (0.5 mV), at least 1.5 mV, chosen
    so that a lead is about :data:`LEAD_PX` pixels high.
    """
    if not seconds > 0 or width <= 0 or n_leads <= 0:
        raise ParameterError("the detail window needs seconds > 0, width > 0 and leads")
    px_per_mm = width / (seconds * MM_PER_S)
    band_mv = LEAD_PX / (MM_PER_MV * px_per_mm)
    band_mv = max(1.5, float(np.ceil(band_mv / 0.5) * 0.5))
    height = int(round(n_leads * band_mv * MM_PER_MV * px_per_mm))
    return px_per_mm, band_mv, height


@dataclass
class DetailData:
    """Everything a detail plot draws (see :func:`detail_data`)."""

    start_s: float
    stop_s: float
    leads: list[str]
    time: np.ndarray
    signal: np.ndarray
    offsets: np.ndarray
    band_mv: float
    px_per_mm: float
    width: int
    height: int
    beat_time: np.ndarray = field(default_factory=lambda: np.zeros(0))
    beat_label: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype="<U1"))
    beat_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    rr_ms: np.ndarray = field(default_factory=lambda: np.zeros(0))
    selected: int = -1
    start_time: _dt.datetime | None = None

    @property
    def y_range(self) -> tuple[float, float]:
        top = self.offsets[0] + self.band_mv / 2 if self.offsets.size else 1.0
        bottom = self.offsets[-1] - self.band_mv / 2 if self.offsets.size else -1.0
        return float(bottom), float(top)


def detail_data(
    recording: Any,
    start_s: float,
    seconds: float,
    *,
    width: int = 1200,
    beat_samples: np.ndarray | None = None,
    beat_labels: np.ndarray | None = None,
    selected: int = -1,
    leads: list[int] | None = None,
) -> DetailData:
    """Read the window ``[start_s, start_s + seconds)`` of every lead and its beats.

    Parameters
    ----------
    recording
        A :class:`~holterlab.recording.Recording`.
    start_s, seconds
        The window.
    width
        Plot width in pixels (sets the paper scale).
    beat_samples, beat_labels
        All beats of the recording (sorted sample indices and their labels).
    selected
        Index (into ``beat_samples``) of the selected beat, or -1.
    leads
        Lead indices to draw (default all).
    """
    idx = list(range(recording.n_leads)) if leads is None else list(leads)
    fs = float(recording.fs)
    i0 = max(0, int(round(start_s * fs)))
    i1 = max(i0 + 1, int(round((start_s + seconds) * fs)))
    x = recording.get_samples(idx, i0, i1)
    with np.errstate(all="ignore"):
        base = np.nanmedian(x, axis=1, keepdims=True) if x.shape[1] else 0.0
    base = np.where(np.isfinite(base), base, 0.0)
    x = (x - base).astype(np.float32)
    px_per_mm, band_mv, height = detail_layout(seconds, len(idx), width)
    offsets = -np.arange(len(idx), dtype=np.float64) * band_mv
    t = np.arange(i0, i0 + x.shape[1], dtype=np.float64) / fs
    data = DetailData(
        start_s=float(start_s),
        stop_s=float(start_s + seconds),
        leads=[recording.leads[i] for i in idx],
        time=t,
        signal=x,
        offsets=offsets,
        band_mv=band_mv,
        px_per_mm=px_per_mm,
        width=int(width),
        height=height,
        start_time=recording.start_time,
    )
    if beat_samples is not None and len(beat_samples):
        samples = np.asarray(beat_samples, dtype=np.int64)
        labels = np.asarray(beat_labels if beat_labels is not None else ["N"] * samples.size)
        j0, j1 = np.searchsorted(samples, [i0, i1])
        sel = np.arange(j0, j1)
        prev = np.clip(sel - 1, 0, None)
        rr = np.where(sel > 0, (samples[sel] - samples[prev]) * 1000.0 / fs, np.nan)
        data.beat_time = samples[sel] / fs
        data.beat_label = labels[sel].astype(str)
        data.beat_index = sel.astype(np.int64)
        data.rr_ms = rr
        data.selected = int(selected)
    return data


def calibration_paths(data: DetailData) -> list[dict[str, np.ndarray]]:
    """The 1 mV / 0.2 s calibration pulse of each lead, at the left edge of the window.

    One ``{"time", "mV"}`` polyline per lead, in plot coordinates (seconds, mV with the lead
    offset), as in the PDF report (:mod:`holterlab.report.figures`): a 2 mm flat lead-in from
    the window start, a step of :data:`CAL_MV` held for :data:`CAL_S`, and back down for
    2 mm. The pulse stands on the lead's baseline (0 mV) when it fits its band with 0.2 mV to
    spare, else on the band middle minus 0.5 mV (it then spans the middle of the band).
    """
    a = data.start_s + CAL_LEAD_S
    b = a + CAL_S
    time = np.array([data.start_s, a, a, b, b, b + CAL_LEAD_S])
    half = data.band_mv / 2
    base = 0.0 if CAL_MV <= half - 0.2 else -CAL_MV / 2
    step = np.array([0.0, 0.0, CAL_MV, CAL_MV, 0.0, 0.0])
    return [{"time": time, "mV": float(o) + base + step} for o in data.offsets]


def detail_elements(data: DetailData) -> Any:
    """The layers of a detail plot as bare HoloViews elements (no options).

    Six layers, always the same, so a ``DynamicMap`` updates them in place and its options
    (:func:`detail_options`) are set once: the grid (``Segments``), the leads (one multi-line
    ``Path``), the calibration pulses (a ``Path`` of group ``Calibration``, see
    :func:`calibration_paths`), the selected beat (``VLines``), the beat markers coloured by
    class (``Points``) and the text (``Labels``: class letters above, RR in ms below). The
    grid spans exactly the window, which therefore sets the axis ranges.
    """
    import holoviews as hv

    from holterlab.viz import ensure_bokeh
    from holterlab.viz.grid import grid_segments

    ensure_bokeh()
    y0, y1 = data.y_range
    x0, x1 = data.start_s, data.stop_s
    seg = grid_segments(x0, x1, y0, y1, px_per_mm=data.px_per_mm)
    grid = hv.Segments(
        {
            "time": seg["x0"],
            "mV": seg["y0"],
            "time2": seg["x1"],
            "mV2": seg["y1"],
            "color": seg["color"],
        },
        kdims=["time", "mV", "time2", "mV2"],
        vdims=["color"],
    )
    paths = [
        {"time": data.time, "mV": np.clip(data.signal[k] + data.offsets[k], y0, y1)}
        for k in range(len(data.leads))
    ]
    leads = hv.Path(paths, kdims=["time", "mV"])
    calibration = hv.Path(calibration_paths(data), kdims=["time", "mV"], group="Calibration")
    top = y1 - 0.2 * data.band_mv
    bottom = y0 + 0.08 * data.band_mv
    n = data.beat_time.size
    markers = hv.Points(
        {
            "time": data.beat_time,
            "mV": np.full(n, top),
            "label": data.beat_label,
            # a string array even when empty (Bokeh rejects an empty float colour array)
            "color": np.array(
                [CLASS_COLORS.get(lab, "#444444") for lab in data.beat_label], dtype="<U7"
            ),
            "beat": data.beat_index,
        },
        kdims=["time", "mV"],
        vdims=["label", "color", "beat"],
    )
    finite = np.isfinite(data.rr_ms)
    # RR values sit between their two beats; leave out those whose midpoint is off screen
    # and those too narrow on screen to be read (long windows)
    finite &= data.beat_time - data.rr_ms / 2000.0 > x0 + 0.15
    px_per_s = data.px_per_mm * MM_PER_S
    with np.errstate(invalid="ignore"):
        finite &= data.rr_ms / 1000.0 * px_per_s >= RR_LABEL_PX
    mid = data.beat_time[finite] - data.rr_ms[finite] / 2000.0
    text = hv.Labels(
        {
            "time": np.concatenate([data.beat_time, mid]),
            "mV": np.concatenate(
                [np.full(n, top + 0.05 * data.band_mv), np.full(mid.size, bottom)]
            ),
            "text": [str(x) for x in data.beat_label] + [f"{v:.0f}" for v in data.rr_ms[finite]],
        },
        kdims=["time", "mV"],
        vdims=["text"],
    )
    sel = data.selected
    in_window = np.flatnonzero(data.beat_index == sel) if sel >= 0 else np.zeros(0, np.int64)
    selected = hv.VLines(data.beat_time[in_window], kdims=["time"])
    return hv.Overlay([grid, leads, calibration, selected, markers, text])


def _sized_by_its_frame(plot: Any, element: Any) -> None:
    # HoloViews makes a frame-sized figure "fixed" with no width or height, which Bokeh's
    # validation flags (W-1005) in every served session; the frame size alone sizes it
    plot.state.sizing_mode = None


def detail_options(data: DetailData, *, title: str = "") -> list[Any]:
    """Options of a detail plot (size on true paper scale, lead ticks, clock axis, styles)."""
    import holoviews as hv

    from holterlab.viz import ensure_bokeh
    from holterlab.viz.axes import clock_formatter

    ensure_bokeh()
    from bokeh.models import TapTool

    ticks = [(float(o), name) for o, name in zip(data.offsets, data.leads, strict=True)]
    common = {"framewise": True, "padding": 0, "default_tools": []}
    return [
        hv.opts.Overlay(
            frame_width=data.width,
            frame_height=data.height,
            yticks=ticks,
            xformatter=clock_formatter(data.start_time),
            show_legend=False,
            title=title,
            toolbar=None,
            ylabel="",
            xlabel="",
            bgcolor="#fffafa",
            hooks=[_sized_by_its_frame],
        ),
        # only a tap tool (on the grid, which spans the window), reporting clicks without
        # selecting glyphs: HoloViews' default wheel zoom and pan (active, the toolbar
        # hidden) stretched the paper scale and moved the plot away from the window, and
        # without a tap tool a click on a beat never reached the stream that selects it
        hv.opts.Segments(
            color="color", line_width=1, tools=[TapTool(behavior="inspect")], **common
        ),
        hv.opts.Path(color="#111111", line_width=1.2, **common),
        # the calibration pulses in the trace colour, with square corners
        hv.opts.Path(
            "Path.Calibration", color="#111111", line_width=1.2, line_join="miter", **common
        ),
        hv.opts.VLines(color="#f59f00", line_width=3, alpha=0.6, default_tools=[]),
        hv.opts.Points(
            fill_color="color", marker="inverted_triangle", size=11, line_color="white", **common
        ),
        hv.opts.Labels(
            text_font_size="8pt", text_color="#343a40", text_baseline="bottom", **common
        ),
    ]


def detail_plot(data: DetailData, *, title: str = "") -> Any:
    """A detail plot of a :class:`DetailData` on ECG paper (HoloViews overlay)."""
    return detail_elements(data).opts(*detail_options(data, title=title))
