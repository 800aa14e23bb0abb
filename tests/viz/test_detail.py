"""The calibration pulse of the detail view (1 mV x 0.2 s at the left of every lead)."""

from __future__ import annotations

import numpy as np
import pytest

from holterlab.recording import Recording
from holterlab.viz.detail import CAL_MV, CAL_S, calibration_paths, detail_data, detail_plot
from holterlab.viz.grid import MM_PER_MV, MM_PER_S


@pytest.fixture
def recording():
    fs = 250.0
    t = np.arange(int(120 * fs)) / fs
    x = np.stack(
        [np.sin(2 * np.pi * t), 0.5 * np.sin(2 * np.pi * 0.3 * t), 0.2 * np.cos(2 * np.pi * t)]
    )
    return Recording.from_array(x.astype(np.float32), fs, ["I", "II", "V5"])


def _pulses(overlay):
    import holoviews as hv

    (cal,) = [e for e in overlay if isinstance(e, hv.Path) and e.group == "Calibration"]
    return cal.split()


def _pulse_shape(time: np.ndarray, mv: np.ndarray) -> tuple[float, float, float, float]:
    """(height mV, width s, rising edge s, baseline mV) of a rectangular step polyline."""
    base = mv[0]
    high = mv > base + 1e-9
    up = np.flatnonzero(high)
    return float(mv.max() - base), float(time[up[-1]] - time[up[0]]), float(time[up[0]]), base


@pytest.mark.parametrize("start", [0.0, 37.4])
@pytest.mark.parametrize("seconds", [5.0, 10.0, 30.0])
def test_each_lead_has_a_1mv_200ms_pulse_at_the_window_start(recording, start, seconds):
    from holterlab.viz.detail import detail_elements

    d = detail_data(recording, start, seconds, width=1000)
    pulses = _pulses(detail_elements(d))
    assert len(pulses) == len(d.leads) == 3
    y0, y1 = d.y_range
    for k, p in enumerate(pulses):
        time, mv = p.dimension_values("time"), p.dimension_values("mV")
        height, width, rise, base = _pulse_shape(time, mv)
        assert height == pytest.approx(1.0) and CAL_MV == 1.0
        assert width == pytest.approx(0.2) and CAL_S == 0.2
        # 10 mm high and 5 mm wide on the paper
        assert height * MM_PER_MV == pytest.approx(10.0)
        assert width * MM_PER_S == pytest.approx(5.0)
        # at the left edge of the visible window, inside the lead's own band
        assert time.min() == pytest.approx(start)
        assert start < rise < start + 0.1
        assert time.max() < start + 0.5
        top, bottom = d.offsets[k] + d.band_mv / 2, d.offsets[k] - d.band_mv / 2
        assert bottom < base and base + 1.0 < top
        assert y0 <= mv.min() and mv.max() <= y1


def test_pulse_follows_the_window_when_paging(recording):
    from holterlab.viz.detail import detail_elements

    a = calibration_paths(detail_data(recording, 0.0, 10.0, width=1000))
    b = calibration_paths(detail_data(recording, 10.0, 10.0, width=1000))
    for pa, pb in zip(a, b, strict=True):
        np.testing.assert_allclose(pb["time"], pa["time"] + 10.0)
        np.testing.assert_allclose(pb["mV"], pa["mV"])
    # the element drawn is the same geometry
    d = detail_data(recording, 10.0, 10.0, width=1000)
    drawn = _pulses(detail_elements(d))
    np.testing.assert_allclose(drawn[0].dimension_values("time"), b[0]["time"])


def test_pulse_stands_on_the_baseline_when_the_band_is_tall_enough(recording):
    # 5 s over 1000 px: 8 px/mm, bands of the minimum 1.5 mV -> pulse centred on the lead
    narrow = detail_data(recording, 0.0, 5.0, width=1000)
    assert narrow.band_mv < 2.4
    p = calibration_paths(narrow)[1]
    assert p["mV"].min() == pytest.approx(narrow.offsets[1] - 0.5)
    # 60 s over 1000 px: bands of several mV -> pulse from the baseline (0 mV) up
    wide = detail_data(recording, 0.0, 60.0, width=1000)
    assert wide.band_mv >= 2.4
    p = calibration_paths(wide)[1]
    assert p["mV"].min() == pytest.approx(wide.offsets[1])


def test_detail_plot_with_pulse_renders_in_the_trace_colour(recording):
    import holoviews as hv
    from bokeh.models import GlyphRenderer, MultiLine

    d = detail_data(recording, 3.0, 10.0, width=900)
    fig = hv.render(detail_plot(d), backend="bokeh")
    lines = [r for r in fig.select({"type": GlyphRenderer}) if isinstance(r.glyph, MultiLine)]
    xs = [x for r in lines for x in r.data_source.data["xs"]]
    # 3 leads + 3 pulses, all in the trace colour; the axis still spans exactly the window
    assert len(xs) == 6
    assert {r.glyph.line_color for r in lines} == {"#111111"}
    assert fig.x_range.start == pytest.approx(3.0) and fig.x_range.end == pytest.approx(13.0)
