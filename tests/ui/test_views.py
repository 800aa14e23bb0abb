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


def test_events_table_numbers_and_empty_states(wb, sample, tmp_path):
    """Events without a rate showed "NaN" and beat counts "82.0" (number formats picked
    from the first, empty, table); an empty table did not say why it was empty."""
    view = EventsView(wb)
    frame = view.table.value
    assert frame["rate_bpm"].isna().any()  # pauses have no rate
    for col, fmt in (("rate_bpm", "0"), ("beats", "0"), ("duration_s", "0.0")):
        formatter = view.table.formatters[col]
        assert formatter.format == fmt and formatter.nan_format == "-"
        assert frame[col].dtype == np.float64
    rendered = _render(view)
    assert rendered is not None and not view.note.visible

    empty = WorkbenchModel(background=False)
    view = EventsView(empty)
    assert "open a recording" in view.note.object and view.note.visible
    (tmp_path / "alone").mkdir()
    alone = tmp_path / "alone" / sample.recording.name
    alone.write_bytes(sample.recording.read_bytes())
    empty.open(alone)  # no result beside it
    assert "no result loaded" in view.note.object
    empty.load_result(sample.result)
    assert not view.note.visible and len(view.table.value) == len(empty.events)


def test_comparison_view_says_why_it_is_empty_and_shows_no_nan(wb):
    view = ComparisonView(wb)
    assert "No comparison yet" in view.status.object
    from holterlab.annotations import Annotations

    labels = np.where(wb.labels == "S", "N", wb.labels)  # a reference without S beats
    wb.compare(Annotations(wb.samples, labels.tolist(), wb.fs))
    stats = view.stats.object.set_index("statistic")["percent"]
    assert stats.isna()["SVEB Se"]  # no reference S beat to find
    html = view.stats.object.to_html(na_rep=view.stats.na_rep)
    assert "NaN" not in html and view.stats.na_rep == "-"
    assert "reference beats scored" in view.status.object


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
    view.keys.event = "4|X"  # an artefact is named, not shown as its MIT symbol "|"
    assert 'id="hl-selected-label">artefact<' in view.info.object
    view.keys.event = "5|N"
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
    sinus = wb.summary.get("hr_max_sinus_bpm")
    expected = "-" if sinus is None else f"{sinus:,.0f}"
    assert f"<td>HR max, sinus</td><td>{expected} bpm</td>" in view.pane.object


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
    assert "from 1.0 to 30.0" in widget.description
    pauses = sum(e.type == "pause" for e in wb.events)
    widget.value = 1.2
    assert wb.params.stages["rhythm.pause"].pause_s == 1.2
    assert sum(e.type == "pause" for e in wb.events) > pauses
    view.stage_select.value = "detection"
    assert view.holder.objects[0] is view.editor("detection")
    assert len(view.editors["detection"]._widgets) > 10


def test_params_boxes_report_out_of_range_and_empty_values(wb):
    """The number boxes had start/end: Chromium dropped a typed value out of range (the box
    showed 40, the analysis used the old value, nothing said so), and an emptied box sent
    None, which raised a ValueError in the server."""
    view = ParamsView(wb)
    widget = view.editor("rhythm.pause")._widgets["pause_s"]
    assert widget.start is None and widget.end is None  # the browser sends what is typed
    widget.value = 40.0
    assert "pause_s must be at most 30.0 s, got 40.0 s" in view.error.object
    assert wb.status.startswith("invalid parameters")
    widget.value = None
    assert "must be a number" in view.error.object
    widget.value = 2.5
    assert view.error.object == ""
    assert wb.params.to_params().rhythm.pause.pause_s == 2.5


def test_open_reads_the_boxes_as_they_show(wb, sample, tmp_path):
    """After a result failed to load, the result box was emptied but its typed text
    (value_input, what Open reads) was not: the next Open loaded the bad file again."""
    view = OpenView(wb)
    bad = tmp_path / "notes.json"
    bad.write_text("not json")
    view.path_input.value_input = str(sample.recording)
    view.result_input.value_input = str(bad)  # typed, as in the browser
    view._open()
    assert wb.status.startswith("error") and wb.result_path == ""
    assert view.result_input.value == view.result_input.value_input == ""
    view._open()  # the box is empty now: open the recording alone (its result beside it)
    assert not wb.status.startswith("error"), wb.status
    assert wb.result_path == str(sample.result)


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


@pytest.mark.parametrize("opened", [False, True])
def test_detail_view_passes_bokeh_validation(sample, opened):
    """The detail figure was 'fixed' with a width but no height (the pane's width on a
    frame-sized plot): Bokeh logged W-1005 FIXED_SIZING_MODE for every served session."""
    from bokeh.core.validation import check_integrity

    wb = WorkbenchModel(background=False)
    if opened:
        wb.open(sample.recording)
    root = _render(DetailView(wb))
    assert check_integrity(root.references()).warning == []
    if opened:
        wb.page(1)  # updates in place keep it valid
        assert check_integrity(root.references()).warning == []


def test_clicking_a_beat_in_the_detail_view_selects_it(wb):
    """The SingleTap stream had the detail's DynamicMap (an overlay) as its source, to which
    HoloViews attaches no callback: the figure never asked the browser for clicks, so
    "click a beat to select it" did nothing."""
    from bokeh.models import Plot

    view = DetailView(wb)
    (fig,) = _render(view).select({"type": Plot})
    assert "tap" in fig.subscribed_events
    t = float(wb.samples[3] / wb.fs)
    view.tap.event(x=t + 0.05, y=0.0)  # what the browser sends for a click near beat 3
    assert wb.selected_beat == 3
