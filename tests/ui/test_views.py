"""Panel views render without a server (as in a notebook) and drive the model."""

from __future__ import annotations

import numpy as np
import pytest

pn = pytest.importorskip("panel")

from holterlab.ui.models import WorkbenchModel  # noqa: E402
from holterlab.ui.views import (  # noqa: E402
    ComparisonView,
    DetailView,
    EventsView,
    ExportView,
    FamiliesView,
    OpenView,
    OverviewView,
    ParamsView,
    SummaryView,
)


@pytest.fixture
def wb(sample):
    model = WorkbenchModel(background=False)
    model.open(sample.recording)
    return model


def _render(view):
    """Build the Bokeh models, as pn.panel(view) does when a notebook displays it."""
    return pn.panel(view).get_root()


@pytest.mark.parametrize(
    "cls",
    [
        OpenView,
        SummaryView,
        OverviewView,
        DetailView,
        EventsView,
        FamiliesView,
        ParamsView,
        ComparisonView,
        ExportView,
    ],
)
def test_views_render_like_in_a_notebook(wb, cls):
    root = _render(cls(wb))
    assert root is not None


def test_views_render_without_a_recording():
    m = WorkbenchModel(background=False)
    for cls in (SummaryView, OverviewView, DetailView, EventsView, FamiliesView):
        assert _render(cls(m)) is not None


def test_dashboard_composes(wb):
    from holterlab.ui.app import Dashboard

    d = Dashboard(model=wb)
    assert _render(d) is not None
    assert d.open_view.path_input.value == wb.path


def test_events_table_selection_moves_detail(wb):
    view = EventsView(wb)
    assert len(view.table.value) == len(wb.events)
    view.table.selection = [3]
    e = wb.events[3]
    assert wb.detail_start <= e.start_s <= wb.detail_start + wb.detail_seconds
    assert wb.event_index == 3


def test_keys_and_buttons_navigate(wb):
    view = DetailView(wb)
    start = wb.detail_start
    view.keys.event = "1|ArrowRight"
    assert wb.detail_start == pytest.approx(start + wb.detail_seconds)
    view.keys.event = "2|j"  # next beat of nav_class (V)
    assert wb.selected_beat >= 0 and wb.labels[wb.selected_beat] == "V"
    view.keys.event = "3|N"  # relabel it
    assert wb.labels[wb.selected_beat] == "N" and wb.n_edits == 1
    assert 'id="hl-selected-label">N<' in view.info.object
    page_right = view.nav.objects[1]
    before = wb.detail_start
    page_right.clicks += 1
    assert wb.detail_start == pytest.approx(before + wb.detail_seconds)


def test_summary_shows_counts(wb):
    view = SummaryView(wb)
    assert f">{wb.counts['V']:,}<" in view.pane.object
    i = wb.next_beat(1, "V")
    wb.relabel_beat("N", index=i)
    assert f">{wb.counts['V']:,}<" in view.pane.object
    assert 'id="hl-n-edits">1<' in view.pane.object


def test_family_selector_relabels(wb):
    view = FamiliesView(wb)
    labels = wb.families.family_labels(wb.labels)
    f = labels.index("S")
    n_s = wb.counts["S"]
    _, select = view._cards[f]
    select.value = "N"
    assert wb.counts["S"] == 0
    pane, _ = view._cards[f]
    assert f"{n_s:,}</span> beats" in pane.object and ">N</b>" in pane.object


def test_params_view_widgets_from_describe(wb):
    view = ParamsView(wb)
    editor = view.editor("rhythm.pause")
    widget = editor._widgets["pause_s"]
    assert isinstance(widget, pn.widgets.FloatInput)
    assert widget.start == 1.0 and widget.end == 30.0
    pauses = sum(e.type == "pause" for e in wb.events)
    widget.value = 1.2
    assert wb.params.stages["rhythm.pause"].pause_s == 1.2
    assert sum(e.type == "pause" for e in wb.events) > pauses
    view.stage_select.value = "detection"
    assert view.holder.objects[0] is view.editor("detection")
    assert len(view.editors["detection"]._widgets) > 10


def test_comparison_view(wb, sample):
    view = ComparisonView(wb)
    wb.comparison.reference_path = str(sample.result)
    view.button.clicks += 1
    assert wb.comparison.comparison is not None
    assert view.stats.object is not None and view.matrix.object is not None
    assert "reference beats scored" in view.status.object


def test_overview_view_builds_layout(wb):
    import holoviews as hv

    view = OverviewView(wb)
    layout = view.pane.object
    assert isinstance(layout, hv.Layout)
    assert len(layout) == 3  # signal, heart-rate trend, event track
    assert np.isfinite(wb.duration_s)


def test_served_widget_script_composes_the_dashboard(sample, monkeypatch):
    """widgets/holter_dashboard.py (for `panel serve`) builds the dashboard from its args."""
    import runpy
    from pathlib import Path

    script = Path(__file__).resolve().parents[2] / "widgets" / "holter_dashboard.py"
    monkeypatch.setattr("sys.argv", [str(script), str(sample.recording), str(sample.result)])
    namespace = runpy.run_path(str(script), run_name="__main__")
    assert namespace["_path"] == str(sample.recording)
    assert namespace["_result"] == str(sample.result)
