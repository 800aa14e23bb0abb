"""Overview rendering, ECG paper grid, detail data, trends, gallery and clock formatting."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from holterlab.errors import ParameterError
from holterlab.events import Event
from holterlab.recording import Recording
from holterlab.viz.axes import format_clock
from holterlab.viz.detail import detail_data, detail_layout, detail_plot
from holterlab.viz.gallery import template_svg
from holterlab.viz.grid import MINOR_MV, MINOR_S, grid_lines
from holterlab.viz.overview import render_overview
from holterlab.viz.pyramid import MinMaxPyramid
from holterlab.viz.trend import event_rows, event_track_plot, hr_trend_data, hr_trend_plot


@pytest.fixture
def recording():
    fs = 250.0
    t = np.arange(int(600 * fs)) / fs
    x = np.stack([np.sin(2 * np.pi * 1.0 * t), 0.5 * np.sin(2 * np.pi * 0.3 * t)])
    return Recording.from_array(x.astype(np.float32), fs, ["II", "V5"])


@pytest.fixture
def pyramid(recording, tmp_path):
    return MinMaxPyramid.open(recording, cache_dir=tmp_path)


# --------------------------------------------------------------------------- grid
def test_grid_lines_are_millimetres_aligned_to_the_start():
    g = grid_lines(1.01, 2.0, -0.55, 0.55)
    minor = np.sort(np.concatenate([g.minor_x, g.major_x]))
    np.testing.assert_allclose(np.diff(minor), MINOR_S)
    np.testing.assert_allclose(np.diff(g.major_x), 5 * MINOR_S)
    np.testing.assert_allclose(g.major_x / 0.2, np.round(g.major_x / 0.2), atol=1e-9)
    assert g.minor_x[0] == pytest.approx(1.04) and g.major_x[0] == pytest.approx(1.2)
    ys = np.sort(np.concatenate([g.minor_y, g.major_y]))
    np.testing.assert_allclose(np.diff(ys), MINOR_MV)
    np.testing.assert_allclose(g.major_y, [-0.5, 0.0, 0.5], atol=1e-12)


def test_grid_drops_minor_lines_when_too_dense():
    g = grid_lines(0, 60, -1, 1, px_per_mm=1.0)
    assert g.minor_x.size == 0 and g.minor_y.size == 0 and g.major_x.size > 0
    with pytest.raises(ParameterError):
        grid_lines(0, 86400, -1, 1)
    with pytest.raises(ParameterError):
        grid_lines(1, 1, -1, 1)


def test_detail_layout_is_true_paper_scale():
    px_per_mm, band, height = detail_layout(10.0, 2, 1000)
    assert px_per_mm == pytest.approx(1000 / 250)
    assert band % 0.5 == 0 and band >= 1.5
    assert height == round(2 * band * 10 * px_per_mm)
    with pytest.raises(ParameterError):
        detail_layout(0, 2, 1000)


# --------------------------------------------------------------------------- detail
def test_detail_data_window_beats_and_rr(recording):
    beats = np.arange(0, recording.n_samples, 200, dtype=np.int64)  # RR 800 ms
    labels = np.array(["N"] * beats.size)
    labels[10] = "V"
    d = detail_data(
        recording, 4.0, 5.0, width=1000, beat_samples=beats, beat_labels=labels, selected=10
    )
    assert d.signal.shape == (2, 1250)
    assert d.time[0] == pytest.approx(4.0)
    inside = beats[(beats >= 1000) & (beats < 2250)]
    np.testing.assert_allclose(d.beat_time, inside / 250.0)
    np.testing.assert_allclose(d.rr_ms, 800.0)
    assert "V" in d.beat_label and d.selected == 10
    assert abs(float(np.median(d.signal[0]))) < 1e-3  # baseline removed
    assert d.offsets[0] == 0 and d.offsets[1] == -d.band_mv


def test_rr_values_are_written_only_where_they_fit(recording):
    """In a 60 s window (0.7 px per mm) the RR values of successive beats overprinted each
    other into an unreadable band; they are left out where an RR is under 30 px wide."""
    import holoviews as hv

    from holterlab.viz.detail import detail_elements

    beats = np.arange(0, recording.n_samples, 200, dtype=np.int64)  # RR 800 ms
    labels = np.array(["N"] * beats.size)

    def rr_texts(seconds: float) -> list[str]:
        d = detail_data(recording, 0.0, seconds, width=1100, beat_samples=beats, beat_labels=labels)
        text = next(e for e in detail_elements(d) if isinstance(e, hv.Labels))
        return [t for t in text.dimension_values("text") if t.isdigit()]

    assert len(rr_texts(10.0)) >= 11  # 110 px per RR: written
    assert rr_texts(60.0) == []  # 18 px per RR: left out


def test_detail_plot_renders_with_bokeh(recording):
    import holoviews as hv

    beats = np.arange(100, recording.n_samples, 250, dtype=np.int64)
    d = detail_data(
        recording,
        0.0,
        10.0,
        width=900,
        beat_samples=beats,
        beat_labels=np.array(["N"] * beats.size),
        selected=3,
    )
    overlay = detail_plot(d)
    fig = hv.render(overlay, backend="bokeh")
    assert fig.frame_width == 900 and fig.frame_height == d.height
    assert fig.x_range.start == pytest.approx(0.0) and fig.x_range.end == pytest.approx(10.0)


def test_detail_plot_cannot_be_zoomed_off_paper_scale(recording):
    """HoloViews' default tools (wheel zoom and pan active, the toolbar hidden) let a scroll
    stretch the 25 mm/s x 10 mm/mV scale and a drag move the plot away from the window it
    reports; only a tap tool that selects nothing (clicks select beats) is left."""
    import holoviews as hv
    from bokeh.models import TapTool

    d = detail_data(recording, 0.0, 10.0, width=900)
    fig = hv.render(detail_plot(d), backend="bokeh")
    (tool,) = fig.toolbar.tools
    assert isinstance(tool, TapTool) and tool.behavior == "inspect"


def _fields_missing_from_the_data(fig) -> list[tuple[str, str, str]]:
    """Glyph properties mapped to a column their data source does not have (BokehJS then
    logs "attempted to retrieve property array for nonexistent field")."""
    from bokeh.models import GlyphRenderer

    out = []
    for r in fig.select({"type": GlyphRenderer}):
        for name, value in r.glyph.properties_with_values(include_defaults=False).items():
            field = value.get("field") if isinstance(value, dict) else getattr(value, "field", None)
            if field is not None and field not in r.data_source.data:
                out.append((type(r.glyph).__name__, name, field))
    return out


def test_marker_colours_survive_an_update_to_one_class(recording):
    """Beat markers coloured with ``color=`` mapped the hatch colour to the colour column
    too; when an update held a single class, HoloViews sent a scalar colour and dropped the
    column, leaving the hatch colour pointing at it (a browser console warning on every
    redraw of a window of normal beats)."""
    import holoviews as hv
    from holoviews.streams import Stream

    from holterlab.viz.detail import detail_elements, detail_options

    beats = np.arange(100, recording.n_samples, 200, dtype=np.int64)
    frames = [
        detail_data(recording, 0.0, 10.0, width=800),  # opened, no result yet
        detail_data(
            recording, 0.0, 10.0, width=800, beat_samples=beats, beat_labels=np.array(["N"] * 750)
        ),
    ]
    which = Stream.define("Which", k=0)()
    dmap = hv.DynamicMap(lambda k: detail_elements(frames[k]), streams=[which])
    plot = hv.renderer("bokeh").get_plot(dmap.opts(*detail_options(frames[0])))
    which.event(k=1)
    assert _fields_missing_from_the_data(plot.state) == []


# --------------------------------------------------------------------------- overview
def test_render_overview_draws_each_lead_in_its_band(pyramid):
    img = render_overview(pyramid, (0.0, 600.0), 400, 200)
    assert img.shape == (200, 400, 4) and img.dtype == np.uint8
    ink = img[..., :3].min(axis=2) < 150
    top, bottom = ink[:100], ink[100:]
    assert top.sum() > 400 and bottom.sum() > 400
    # the 1 Hz sine fills its band from top to bottom; lines are solid (no anti-aliasing)
    rows_top = np.flatnonzero(top.any(axis=1))
    assert rows_top.min() < 15 and rows_top.max() > 85
    assert set(np.unique(img[..., 3])) == {255}
    # only background, separator and the two lead colours: no blended (anti-aliased) pixels
    assert set(np.unique(img[..., 0]).tolist()) <= {255, 200, 0x1A, 0x1C}


def test_render_overview_reads_only_the_fitting_level(pyramid, monkeypatch):
    seen = []
    original = pyramid.level_array

    def spy(level):
        seen.append(level)
        return original(level)

    monkeypatch.setattr(pyramid, "level_array", spy)
    render_overview(pyramid, (0.0, 600.0), 300, 100)
    assert seen == [pyramid.level_for(150_000, 300)]
    seen.clear()
    render_overview(pyramid, (10.0, 12.0), 300, 100)  # 500 samples: raw
    assert seen == []


def test_overview_plot_dynamic_map(pyramid):
    import holoviews as hv

    from holterlab.viz.overview import overview_plot

    dmap = overview_plot(pyramid, height=120)
    frame = dmap[()]
    assert isinstance(frame, hv.RGB)
    l, b, r, t = frame.bounds.lbrt()
    assert (l, r) == (0.0, 600.0) and (b, t) == (0, 2)


def test_overview_zoom_and_pan_stay_on_the_recording(pyramid):
    """The overview's wheel zoom had no limits: out to +-1e16 s of empty axis, in to a
    window narrower than a sample where the image was blank."""
    import holoviews as hv

    from holterlab.viz.overview import MIN_SPAN_S, overview_plot

    fig = hv.render(overview_plot(pyramid, height=120), backend="bokeh")
    x = fig.x_range
    assert tuple(x.bounds) == (0.0, 600.0)
    assert x.min_interval == MIN_SPAN_S and x.max_interval == 600.0


# --------------------------------------------------------------------------- trends
def test_hr_trend_bins_rate_and_skips_pauses():
    fs = 100.0
    beats = np.arange(0, 100_000, 100)  # RR 1 s: 60 bpm
    beats = np.concatenate([beats[:500], beats[500:] + 400])  # one 5 s pause
    tr = hr_trend_data(beats, fs, bin_s=60.0)
    finite = np.isfinite(tr.mean)
    np.testing.assert_allclose(tr.mean[finite], 60.0)
    assert np.nanmax(tr.high) == pytest.approx(60.0)  # the pause is left out
    assert tr.time[1] == 60.0


def test_event_track_and_trend_plots():
    import holoviews as hv

    events = [
        Event("pause", 10, 13),
        Event("af", 100, 400, rate_bpm=110),
        Event("vt", 50, 52, n_beats=5),
    ]
    assert event_rows(events) == ["af", "pause", "vt"]
    plot = event_track_plot(events, duration_s=1000)
    fig = hv.render(plot, backend="bokeh")
    assert fig is not None
    tr = hr_trend_data(np.arange(0, 50_000, 180), 250.0)
    assert hv.render(hr_trend_plot(tr), backend="bokeh") is not None


# --------------------------------------------------------------------------- misc
def test_template_svg():
    t = np.vstack([np.sin(np.linspace(0, 6, 50)), np.cos(np.linspace(0, 6, 50))])
    t[1, 10:20] = np.nan
    svg = template_svg(t, color="#ff0000", title="family <1>")
    assert svg.startswith("<svg") and svg.endswith("</svg>")
    assert svg.count("<path") == 2 and "#ff0000" in svg
    assert "family &lt;1&gt;" in svg
    assert svg.split('d="')[2].count("M") == 2  # the gap restarts the second lead's line


def test_format_clock():
    start = dt.datetime(2020, 1, 1, 23, 59, 0)
    assert format_clock(30, start) == "23:59:30"
    assert format_clock(90, start) == "00:00:30 +1d"
    assert format_clock(3723.25, None, decimals=2) == "1:02:03.25"
