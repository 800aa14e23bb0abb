"""Thin Panel views over :class:`~holterlab.ui.models.WorkbenchModel`.

Each view is a ``pn.viewable.Viewer``: ``pn.panel(view)`` renders it in a JupyterLab notebook
(after ``pn.extension()``), and :mod:`holterlab.ui.app` composes them into the dashboard.
Views hold no state of their own beyond their widgets: they read the model's parameters
(``from_param``, ``pn.Param``, ``param.watch``) and call its methods.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

import numpy as np
import panel as pn
import param
from panel.custom import JSComponent

from holterlab.errors import HolterlabError
from holterlab.ui.edits import ARTEFACT, EDIT_LABELS
from holterlab.ui.models import WorkbenchModel

__all__ = [
    "KeyCatcher",
    "OpenView",
    "SummaryView",
    "OverviewView",
    "DetailView",
    "EventsView",
    "FamiliesView",
    "ParamsView",
    "ComparisonView",
    "ExportView",
]

LABEL_NAMES = {
    "N": "N",
    "S": "S",
    "V": "V",
    "F": "F",
    "Q": "Q",
    ARTEFACT: "artefact",
}
DETAIL_WIDTH = 1100


def _guard(model: WorkbenchModel, fn, *args: Any) -> Any:
    """Run a model call from a widget callback; show errors in the status line."""
    try:
        return fn(*args)
    except HolterlabError as exc:
        model.status = f"error: {' '.join(str(exc).split())}"
    return None


# ============================================================================ keyboard
class KeyCatcher(JSComponent):
    """Sends the page's key presses (outside text fields) to Python as ``"n|key"``."""

    event = param.String(default="", doc="'<counter>|<key>' of the last key press")

    _esm = """
    export function render({ model, el }) {
      let n = 0;
      const handler = (e) => {
        const t = e.composedPath ? e.composedPath()[0] : e.target;
        const tag = ((t && t.tagName) || '').toLowerCase();
        if (tag === 'input' || tag === 'textarea' || tag === 'select') return;
        if (t && t.isContentEditable) return;
        if (e.ctrlKey || e.metaKey || e.altKey) return;
        if (e.key.length > 1 && !e.key.startsWith('Arrow') && !e.key.startsWith('Page')) return;
        n += 1;
        model.event = n + '|' + e.key;
        if (e.key.startsWith('Arrow') || e.key.startsWith('Page')) e.preventDefault();
      };
      document.addEventListener('keydown', handler);
      model.on('remove', () => document.removeEventListener('keydown', handler));
      el.style.display = 'none';
    }
    """


# ============================================================================ open
class OpenView(pn.viewable.Viewer):
    """Open a recording (file picker under a root folder, or a typed path) and its result;
    analyse it in the background with a progress bar and a cancel button."""

    def __init__(self, model: WorkbenchModel, *, root: str | None = None, **params: Any) -> None:
        super().__init__(**params)
        self.model = model
        root = str(Path(root or Path.cwd()).resolve())
        self.picker = pn.widgets.FileSelector(
            root, root_directory=root, only_files=True, height=320, width=900
        )
        self.path_input = pn.widgets.TextInput(
            label="Recording", placeholder="path of .edf .hea .csv .aiecg .ecg", value=model.path
        )
        self.result_input = pn.widgets.TextInput(
            label="Result JSON (optional)", placeholder="rec.result.json", value=model.result_path
        )
        self.open_button = pn.widgets.Button(label="Open", color="primary", width=90)
        self.analyse_button = pn.widgets.Button(label="Analyse", color="success", width=90)
        self.reference_button = pn.widgets.Button(label="Use reference beats", width=150)
        self.cancel_button = pn.widgets.Button(label="Cancel", color="danger", width=90)
        self.progress = pn.indicators.Progress(
            value=0, max=1000, sizing_mode="stretch_width", height=14, bar_color="info"
        )
        self.stage = pn.pane.Str("", styles={"font-size": "11px"})
        self.open_button.on_click(self._open)
        self.analyse_button.on_click(lambda e: _guard(model, model.analyse))
        self.reference_button.on_click(lambda e: _guard(model, model.result_from_annotations))
        self.cancel_button.on_click(lambda e: model.cancel())
        self.picker.param.watch(self._picked, "value")
        model.param.watch(self._progress, ["progress", "stage", "busy"])
        model.param.watch(self._paths, ["path", "result_path"])
        self.analyse_button.disabled = not model.analysis_enabled
        self._progress()

    def _picked(self, event: Any) -> None:
        if not event.new:
            return
        chosen = event.new[0]
        if chosen.lower().endswith(".json"):
            self.result_input.value = chosen
        else:
            self.path_input.value = chosen

    def _open(self, event: Any = None) -> None:
        # value_input: what is typed now, even if the box has not been left yet
        path = (self.path_input.value_input or self.path_input.value or "").strip()
        result = (self.result_input.value_input or "").strip()
        if not path:
            self.model.status = "choose a recording first"
            return
        _guard(self.model, self.model.open, path, result or None)

    def _paths(self, *events: Any) -> None:
        # value_input too: it is what Open reads, and a value set here does not change it
        m = self.model
        self.path_input.param.update(value=m.path, value_input=m.path)
        self.result_input.param.update(value=m.result_path, value_input=m.result_path)

    def _progress(self, *events: Any) -> None:
        m = self.model
        self.progress.value = int(round(1000 * m.progress)) if m.busy else 0
        self.progress.active = bool(m.busy and m.progress <= 0.0)
        self.stage.object = f"{m.job_name}: {m.stage} {100 * m.progress:.0f} %" if m.busy else ""
        self.cancel_button.disabled = not m.busy

    def __panel__(self) -> Any:
        return pn.Column(
            self.path_input,
            self.result_input,
            pn.Row(self.open_button, self.analyse_button, self.cancel_button),
            self.reference_button,
            self.progress,
            self.stage,
            sizing_mode="stretch_width",
        )

    def browser(self) -> Any:
        """The file picker (restricted to the root folder), to place where there is room."""
        return pn.Column(
            pn.pane.Str("Select a recording (or a result .json), then press Open."),
            self.picker,
            sizing_mode="stretch_width",
        )


# ============================================================================ summary
class SummaryView(pn.viewable.Viewer):
    """Beat counts and headline numbers of the current (edited) result."""

    def __init__(self, model: WorkbenchModel, **params: Any) -> None:
        super().__init__(**params)
        self.model = model
        self.pane = pn.pane.HTML("", sizing_mode="stretch_width", css_classes=["hl-summary"])
        model.param.watch(self._update, ["counts", "summary", "summary_stale", "n_edits"])
        self._update()

    def _update(self, *events: Any) -> None:
        m = self.model
        if not m.counts:
            self.pane.object = "<i>no result loaded</i>"
            return
        cells = "".join(
            f'<td class="hl-count" data-label="{html.escape(k)}" '
            f'id="hl-count-{LABEL_NAMES[k]}"><b>{LABEL_NAMES[k]}</b><br>'
            f'<span class="hl-count-value">{v:,}</span></td>'
            for k, v in m.counts.items()
        )
        s = m.summary or {}

        def fmt(key: str, unit: str = "", digits: int = 0) -> str:
            v = s.get(key)
            if v is None:
                return "-"
            return f"{v:,.{digits}f}{unit}"

        rows = [
            ("Beats", fmt("beats_total")),
            (
                "HR min / mean / max",
                f"{fmt('hr_min_bpm')} / {fmt('hr_mean_bpm')} / {fmt('hr_max_bpm')} bpm",
            ),
            ("HR max, sinus", f"{fmt('hr_max_sinus_bpm')} bpm"),
            (
                "V beats (burden)",
                f'<span id="hl-v-total">{fmt("v_total")}</span> ({fmt("v_burden_pct", " %", 2)})',
            ),
            ("S beats (burden)", f"{fmt('s_total')} ({fmt('s_burden_pct', ' %', 2)})"),
            ("AF burden", fmt("af_burden_pct", " %", 2)),
            ("Pauses (longest)", f"{fmt('pauses')} ({fmt('longest_pause_s', ' s', 1)})"),
            ("SDNN / RMSSD", f"{fmt('sdnn_ms')} / {fmt('rmssd_ms')} ms"),
            ("Events", f'<span id="hl-n-events">{len(m.events)}</span>'),
            ("Edited beats", f'<span id="hl-n-edits">{m.n_edits}</span>'),
        ]
        table = "".join(f"<tr><td>{a}</td><td>{b}</td></tr>" for a, b in rows)
        stale = ' <i style="color:#e8590c">(updating...)</i>' if m.summary_stale else ""
        self.pane.object = (
            '<table class="hl-counts" style="width:100%;text-align:center"><tr>'
            f"{cells}</tr></table>"
            f'<table style="width:100%;font-size:12px">{table}</table>{stale}'
        )

    def __panel__(self) -> Any:
        return self.pane


# ============================================================================ overview
class OverviewView(pn.viewable.Viewer):
    """The whole recording (Datashader), heart-rate trend and event track, x axes linked;
    the detail window is shaded and a click moves it.

    The trend and the event track follow edits and re-summaries in place (the zoom is kept);
    the layout is rebuilt only for a new recording or result, or when a new kind of event
    appears.
    """

    def __init__(self, model: WorkbenchModel, *, height: int = 220, **params: Any) -> None:
        super().__init__(**params)
        from holterlab.viz import ensure_bokeh

        ensure_bokeh()
        self.model = model
        self.height = height
        self.pane = pn.pane.HoloViews(
            None,
            sizing_mode="stretch_width",
            min_height=height,
            linked_axes=True,
            css_classes=["hl-overview"],
        )
        self.placeholder = pn.pane.Markdown("*Open a recording to see its overview.*")
        self.layout = pn.Column(self.placeholder, self.pane, sizing_mode="stretch_width")
        self._rows: list[str] = []
        self._range: Any = None
        self._pyramid: Any = None
        model.param.watch(self._rebuild, ["overview_version", "result_version"])
        model.param.watch(self._events_changed, ["summary_version"])
        self._rebuild()

    def _events_changed(self, *events: Any) -> None:
        from holterlab.viz.trend import event_rows

        if not set(event_rows(self.model.events)) <= set(self._rows):
            self._rebuild()

    def _rebuild(self, *events: Any) -> None:
        import holoviews as hv

        from holterlab.viz.overview import overview_plot
        from holterlab.viz.trend import (
            event_rows,
            event_track_plot,
            hr_trend_data,
            hr_trend_plot,
        )

        m = self.model
        if m.pyramid is None or m.recording is None:
            self.pane.object = None
            self.pane.visible = False
            self.placeholder.visible = True
            self._pyramid = None
            return
        x_range = None
        if self._range is not None and self._pyramid is m.pyramid:
            x_range = self._range.x_range  # keep the zoom when only the result changed
        start = m.recording.start_time
        over = overview_plot(m.pyramid, start_time=start, height=self.height, x_range=x_range)
        self._range = next(s for s in over.streams if isinstance(s, hv.streams.RangeX))
        self._pyramid = m.pyramid
        span = hv.DynamicMap(
            lambda detail_start, detail_seconds: hv.VSpan(
                detail_start, detail_start + float(detail_seconds)
            ).opts(color="#f59f00", alpha=0.35),
            streams=[hv.streams.Params(m, ["detail_start", "detail_seconds"])],
        )
        tap = hv.streams.SingleTap(source=over)
        tap.add_subscriber(lambda x=None, y=None: x is not None and m.jump_to(x))
        parts = [over * span]
        self._rows = event_rows(m.events)
        if m.result is not None and m.samples.size:
            duration = m.duration_s

            def trend(labels_version):
                keep = m.labels != ARTEFACT
                data = hr_trend_data(m.samples[keep], m.fs, duration_s=duration)
                return hr_trend_plot(data, start_time=start)

            parts.append(hv.DynamicMap(trend, streams=[hv.streams.Params(m, ["labels_version"])]))
            if self._rows:
                rows = list(self._rows)
                parts.append(
                    hv.DynamicMap(
                        lambda summary_version: event_track_plot(
                            m.events, duration_s=duration, start_time=start, rows=rows
                        ),
                        streams=[hv.streams.Params(m, ["summary_version"])],
                    )
                )
        layout = hv.Layout(parts).cols(1).opts(shared_axes=True)
        self.pane.object = layout
        self.pane.visible = True
        self.placeholder.visible = False

    def __panel__(self) -> Any:
        return self.layout


# ============================================================================ detail
class DetailView(pn.viewable.Viewer):
    """Seconds of signal on ECG paper with beat markers; buttons and keys to navigate and to
    relabel the selected beat (click a beat to select it)."""

    def __init__(self, model: WorkbenchModel, *, width: int = DETAIL_WIDTH, **params: Any):
        super().__init__(**params)

        from holterlab.viz import ensure_bokeh

        ensure_bokeh()
        self.model = model
        self.width = width
        m = model
        # no pane width: the plot sizes itself (frame size on paper scale); a width alone
        # made a fixed-size figure without a height (a Bokeh W-1005 warning every session)
        self.pane = pn.pane.HoloViews(None, css_classes=["hl-detail"], linked_axes=False)
        self._build()
        m.param.watch(self._build, ["recording_version", "detail_seconds"])
        self.keys = KeyCatcher()
        self.keys.param.watch(self._key, "event")

        def button(name: str, fn, width: int = 60, **kw: Any) -> pn.widgets.Button:
            b = pn.widgets.Button(label=name, width=width, **kw)
            b.on_click(lambda e: _guard(m, fn))
            return b

        self.nav = pn.Row(
            button("◀ page", lambda: m.page(-1), 80),
            button("page ▶", lambda: m.page(1), 80),
            pn.widgets.Select.from_param(m.param.nav_class, label="", width=60),
            button("◀ beat", lambda: m.next_beat(-1), 80),
            button("beat ▶", lambda: m.next_beat(1), 80),
            button("◀ event", lambda: m.next_event(-1), 80),
            button("event ▶", lambda: m.next_event(1), 80),
            pn.widgets.Select.from_param(m.param.detail_seconds, label="", width=70),
            self.keys,
        )
        self.relabel = pn.Row(
            pn.pane.Str("Selected beat → ", styles={"margin-top": "8px"}),
            *[
                button(
                    LABEL_NAMES[lab],
                    (lambda lab=lab: m.relabel_beat(lab)),
                    70 if lab != ARTEFACT else 90,
                    css_classes=[f"hl-relabel-{LABEL_NAMES[lab]}"],
                )
                for lab in EDIT_LABELS
            ],
        )
        self.info = pn.pane.HTML("", css_classes=["hl-beat-info"])
        self.position = pn.pane.HTML("", css_classes=["hl-position"])
        m.param.watch(self._info, ["selected_beat", "labels_version", "detail_start"])
        self._info()

    def _data(self, start: float, selected: int) -> Any:
        from holterlab.viz.detail import detail_data

        m = self.model
        return detail_data(
            m.recording,
            start,
            float(m.detail_seconds),
            width=self.width,
            beat_samples=m.samples,
            beat_labels=m.labels,
            selected=selected,
        )

    def _build(self, *events: Any) -> None:
        """A new plot (options fixed for the recording and window length); navigation and
        edits then update it in place."""
        import holoviews as hv

        from holterlab.viz.detail import detail_elements, detail_options

        m = self.model
        if m.recording is None:
            self.pane.object = hv.Curve([]).opts(width=self.width, height=120, toolbar=None)
            return
        first = self._data(m.detail_start, m.selected_beat)

        def render(detail_start, selected_beat, labels_version):
            return detail_elements(self._data(detail_start, selected_beat))

        stream = hv.streams.Params(m, ["detail_start", "selected_beat", "labels_version"])
        content = hv.DynamicMap(render, streams=[stream])
        # HoloViews attaches a tap stream to the plot of an element, never to that of a
        # DynamicMap returning an overlay (the click on a beat went nowhere): an empty
        # layer of its own is the click target
        target = hv.DynamicMap(lambda: hv.VLines([], kdims=["time"]))
        self.dmap = (content * target).opts(*detail_options(first))
        self.tap = hv.streams.SingleTap(source=target)
        self.tap.add_subscriber(lambda x=None, y=None: x is not None and m.select_beat_at(x))
        self.pane.object = self.dmap

    def _key(self, event: Any) -> None:
        _, _, key = event.new.partition("|")
        _guard(self.model, self.model.key, key)

    def _info(self, *events: Any) -> None:
        from holterlab.viz.axes import format_clock

        m = self.model
        start = m.recording.start_time if m.recording is not None else None
        self.position.object = (
            f'<span id="hl-detail-start" data-start="{m.detail_start:.3f}">'
            f"{format_clock(m.detail_start, start, decimals=2)}</span>"
        )
        info = m.selected_info()
        if info is None:
            self.info.object = "<i>click a beat to select it</i>"
            return
        rr = "-" if info["rr_ms"] is None else f"{info['rr_ms']:.0f} ms"
        label = LABEL_NAMES.get(info["label"], info["label"])  # "artefact", not "|"
        analysis = LABEL_NAMES.get(info["analysis_label"], info["analysis_label"])
        self.info.object = (
            f"beat {info['index']} at {format_clock(info['time_s'], start, decimals=2)}: "
            f'<b id="hl-selected-label">{label}</b> (analysis {analysis}), RR {rr}'
        )

    def __panel__(self) -> Any:
        help_text = (
            "keys: ←/→ page · j/k next/previous beat of the class · e/E next/previous event · "
            "+/- zoom · N S V F Q X relabel the selected beat"
        )
        return pn.Column(
            self.nav,
            pn.Row(self.position, self.info),
            self.pane,
            self.relabel,
            pn.pane.Str(help_text, styles={"font-size": "11px", "color": "#666"}),
        )


# ============================================================================ events
class EventsView(pn.viewable.Viewer):
    """Event table: clicking a row moves the detail window to the event."""

    def __init__(self, model: WorkbenchModel, **params: Any) -> None:
        super().__init__(**params)
        import pandas as pd
        from bokeh.models import NumberFormatter

        self.model = model
        # fixed number formats: chosen from the first (empty) table they were text, so an
        # event without a rate showed "NaN" and beat counts of a loaded result "82.0"
        number = {"nan_format": "-", "null_format": "-", "text_align": "right"}
        self.table = pn.widgets.Tabulator(
            pd.DataFrame(columns=["type", "start", "duration_s", "rate_bpm", "beats", "lead"]),
            selectable=1,
            disabled=True,
            show_index=False,
            height=320,
            sizing_mode="stretch_width",
            hidden_columns=["start_s"],
            pagination=None,
            css_classes=["hl-events"],
            formatters={
                "duration_s": NumberFormatter(format="0.0", **number),
                "rate_bpm": NumberFormatter(format="0", **number),
                "beats": NumberFormatter(format="0", **number),
            },
        )
        self.note = pn.pane.Markdown("", css_classes=["hl-events-note"])
        self.table.param.watch(self._selected, "selection")
        self.table.on_click(self._clicked)
        model.param.watch(self._update, ["result_version", "summary_version"])
        self._update()

    def _update(self, *events: Any) -> None:
        import pandas as pd

        m = self.model
        rows = m.event_rows()
        columns = ["type", "start", "duration_s", "rate_bpm", "beats", "lead", "start_s"]
        frame = pd.DataFrame(rows, columns=columns)
        for col in ("duration_s", "rate_bpm", "beats", "start_s"):
            frame[col] = pd.to_numeric(frame[col]).astype("float64")
        self.table.value = frame
        if m.recording is None:
            note = "*No events: open a recording first.*"
        elif m.result is None:
            note = "*No events: no result loaded. Analyse the recording or load its result JSON.*"
        elif not rows:
            note = "*The result has no events.*"
        else:
            note = ""
        self.note.object = note
        self.note.visible = bool(note)

    def _selected(self, event: Any) -> None:
        if event.new:
            _guard(self.model, self.model.jump_to_event, int(event.new[0]))

    def _clicked(self, event: Any) -> None:
        if event.row is not None:
            _guard(self.model, self.model.jump_to_event, int(event.row))

    def __panel__(self) -> Any:
        return pn.Column(self.note, self.table, sizing_mode="stretch_width")


# ============================================================================ families
class FamiliesView(pn.viewable.Viewer):
    """Gallery of morphology families: median template, count, label; relabel a family with
    its selector."""

    def __init__(self, model: WorkbenchModel, **params: Any) -> None:
        super().__init__(**params)
        self.model = model
        self.grid = pn.FlexBox(sizing_mode="stretch_width")
        self.header = pn.pane.Markdown("")
        self._cards: list[tuple[pn.pane.HTML, pn.widgets.Select]] = []
        self._updating = False
        model.param.watch(self._rebuild, ["result_version"])
        model.param.watch(self._refresh, ["labels_version"])
        self._rebuild()

    def _rebuild(self, *events: Any) -> None:
        m = self.model
        self._cards = []
        fams = m.families
        if fams is None or fams.n_families == 0:
            self.grid.objects = []
            self.header.object = "*No families: load or analyse a result.*"
            return
        source = (
            "classifier families"
            if fams.source == "classifier"
            else ("one family per beat label (median templates from the beat list)")
        )
        self.header.object = f"**{fams.n_families} families** - {source}"
        cards = []
        for f in range(fams.n_families):
            html_pane = pn.pane.HTML("", width=170, css_classes=["hl-family"])
            select = pn.widgets.Select(
                options={LABEL_NAMES[k]: k for k in EDIT_LABELS}, width=100, label=""
            )
            select.param.watch(lambda e, f=f: self._relabel(f, e.new), "value")
            self._cards.append((html_pane, select))
            cards.append(
                pn.Column(
                    html_pane,
                    select,
                    styles={"border": "1px solid #dee2e6", "margin": "3px", "padding": "3px"},
                )
            )
        self.grid.objects = cards
        self._refresh()

    def _refresh(self, *events: Any) -> None:
        from holterlab.viz.detail import CLASS_COLORS
        from holterlab.viz.gallery import template_svg

        m = self.model
        fams = m.families
        if fams is None or len(self._cards) != fams.n_families:
            return
        counts = fams.counts(m.labels)
        labels = fams.family_labels(m.labels)
        finite = fams.templates[np.isfinite(fams.templates)]
        span = float(np.ptp(finite)) if finite.size else 1.0
        self._updating = True
        try:
            for f, (pane, select) in enumerate(self._cards):
                label = labels[f]
                svg = template_svg(
                    fams.templates[f],
                    color=CLASS_COLORS.get(label, "#444"),
                    width=160,
                    height=100,
                    mv_range=max(1.0, span),
                    title=f"family {f}",
                )
                pane.object = (
                    f'<div data-family="{f}">{svg}<div style="font-size:12px">family {f}: '
                    f'<b class="hl-family-label">{label}</b> · '
                    f'<span class="hl-family-count">{int(counts[f]):,}</span> beats</div></div>'
                )
                if label in EDIT_LABELS and select.value != label:
                    select.value = label
        finally:
            self._updating = False

    def _relabel(self, family: int, label: str) -> None:
        if self._updating or self.model.families is None:
            return
        current = self.model.families.family_labels(self.model.labels)[family]
        if current == label:
            return
        _guard(self.model, self.model.relabel_family, family, label)

    def __panel__(self) -> Any:
        return pn.Column(self.header, self.grid, sizing_mode="stretch_width")


# ============================================================================ parameters
class ParamsView(pn.viewable.Viewer):
    """Every analysis parameter, one stage at a time (widgets generated from
    ``Params.describe()`` through the model's param objects); re-run buttons."""

    def __init__(self, model: WorkbenchModel, **params: Any) -> None:
        super().__init__(**params)
        self.model = model
        pm = model.params
        self.stage_select = pn.widgets.Select.from_param(pm.param.stage, label="Stage")
        self.editors: dict[str, pn.Param] = {}
        self.holder = pn.Column(self.editor(pm.stage), sizing_mode="stretch_width")
        pm.param.watch(lambda e: setattr(self.holder, "objects", [self.editor(e.new)]), "stage")
        self.window_button = pn.widgets.Button(label="Re-run visible window", width=170)
        self.whole_button = pn.widgets.Button(label="Re-run whole recording", width=170)
        self.window_button.on_click(lambda e: _guard(model, model.rerun_window))
        self.whole_button.on_click(lambda e: _guard(model, model.analyse))
        self.window_button.disabled = not model.analysis_enabled
        self.whole_button.disabled = not model.analysis_enabled
        self.error = pn.pane.Str("", styles={"color": "#c92a2a"})
        pm.param.watch(lambda e: setattr(self.error, "object", e.new), "error")

    def editor(self, stage: str) -> pn.Param:
        """The widgets of one stage (built on first use)."""
        if stage not in self.editors:
            self.editors[stage] = self._editor(self.model.params.stages[stage])
        return self.editors[stage]

    @staticmethod
    def _editor(obj: param.Parameterized) -> pn.Param:
        # Number boxes without start/end: the browser silently drops a typed value out of
        # range (the box shows it, the analysis does not use it); sent through, it is
        # reported by the parameters model. The range is in the tooltip instead.
        widgets: dict[str, Any] = {}
        for name, p in obj.param.objects("existing").items():
            if name == "name" or not isinstance(p, param.Number):
                continue
            kind = pn.widgets.IntInput if isinstance(p, param.Integer) else pn.widgets.FloatInput
            lo, hi = p.softbounds or (None, None)
            span = {
                (False, False): f"from {lo} to {hi}",
                (False, True): f"at least {lo}",
                (True, False): f"at most {hi}",
                (True, True): "",
            }[(lo is None, hi is None)]
            doc = (p.doc or "").strip()
            if span:
                doc = f"{doc} (valid: {span})" if doc else f"valid: {span}"
            widgets[name] = {"type": kind, "start": None, "end": None, "description": doc}
        return pn.Param(obj, widgets=widgets, show_name=False, sizing_mode="stretch_width")

    def __panel__(self) -> Any:
        return pn.Column(
            pn.Row(self.stage_select, self.window_button, self.whole_button),
            self.error,
            pn.pane.Str(
                "rhythm and HRV changes re-summarise the beats at once; detection, quality and "
                "classification changes need a re-run",
                styles={"font-size": "11px", "color": "#666"},
            ),
            self.holder,
            sizing_mode="stretch_width",
        )


# ============================================================================ comparison
class ComparisonView(pn.viewable.Viewer):
    """Compare with reference annotations (or a remote result): EC57 table, confusion matrix
    and a navigable list of disagreements."""

    HINT = (
        "No comparison yet: with a result loaded or analysed, press Compare "
        "(an empty reference compares with the recording's own annotations)."
    )

    def __init__(self, model: WorkbenchModel, **params: Any) -> None:
        super().__init__(**params)
        import pandas as pd

        self.model = model
        cm = model.comparison
        self.ref_input = pn.widgets.TextInput.from_param(
            cm.param.reference_path,
            label="Reference (.atr file, result JSON or URL; empty: the recording's own)",
            sizing_mode="stretch_width",
        )
        self.learning = pn.widgets.FloatInput.from_param(cm.param.learning_s, width=150)
        self.button = pn.widgets.Button(label="Compare", color="primary", width=100)
        self.button.on_click(lambda e: _guard(model, model.compare))
        self.status = pn.pane.Str(self.HINT)
        # statistics without beats to score (no S beats in the reference) are None: "-"
        self.stats = pn.pane.DataFrame(None, index=False, width=220, na_rep="-")
        self.matrix = pn.pane.DataFrame(None, width=320, na_rep="-")
        self.episodes = pn.pane.DataFrame(
            None, index=False, sizing_mode="stretch_width", na_rep="-"
        )
        self.table = pn.widgets.Tabulator(
            pd.DataFrame(columns=["time", "kind", "reference", "test", "event"]),
            disabled=True,
            selectable=1,
            show_index=False,
            height=260,
            hidden_columns=["time_s"],
            sizing_mode="stretch_width",
        )
        self.table.on_click(
            lambda e: e.row is not None and _guard(model, model.jump_to_disagreement, e.row)
        )
        cm.param.watch(self._update, ["version", "status"])

    def _update(self, *events: Any) -> None:
        cm = self.model.comparison
        self.status.object = cm.status or self.HINT
        self.stats.object = cm.ec57_table()
        self.matrix.object = cm.matrix()
        episodes = cm.episode_table()
        self.episodes.object = None if episodes is None else episodes.round(3)
        if cm.disagreements is not None:
            self.table.value = cm.disagreements
        else:
            self.table.value = self.table.value.iloc[:0]

    def __panel__(self) -> Any:
        return pn.Column(
            pn.Row(self.ref_input, self.learning, self.button, sizing_mode="stretch_width"),
            self.status,
            pn.Row(self.stats, self.matrix),
            self.episodes,
            self.table,
            sizing_mode="stretch_width",
        )


# ============================================================================ export
class ExportView(pn.viewable.Viewer):
    """Export the PDF report of the current (edited) result, with its progress and a cancel
    button."""

    def __init__(self, model: WorkbenchModel, **params: Any) -> None:
        super().__init__(**params)
        self.model = model
        self.out = pn.widgets.TextInput(label="PDF file", placeholder="default: NAME.report.pdf")
        self.button = pn.widgets.Button(label="Export PDF report", color="primary")
        self.button.disabled = not model.report_enabled
        self.button.on_click(
            lambda e: _guard(model, model.export_report, self.out.value.strip() or None)
        )
        self.cancel_button = pn.widgets.Button(label="Cancel", color="danger", width=90)
        self.cancel_button.on_click(lambda e: model.cancel_report())
        self.progress = pn.indicators.Progress(
            value=0, max=1000, sizing_mode="stretch_width", height=14, bar_color="info"
        )
        self.stage = pn.pane.Str("", styles={"font-size": "11px"})
        self.link = pn.pane.Str("")
        model.param.watch(lambda e: setattr(self.link, "object", e.new), "report_path")
        model.param.watch(self._progress, ["report_busy", "report_progress", "report_stage"])
        self._progress()

    def _progress(self, *events: Any) -> None:
        m = self.model
        busy, fraction = m.report_busy, m.report_progress
        self.progress.value = int(round(1000 * fraction)) if busy else 0
        self.progress.active = bool(busy and fraction <= 0.0)
        self.stage.object = f"report: {m.report_stage} {100 * fraction:.0f} %" if busy else ""
        self.cancel_button.disabled = not busy

    def __panel__(self) -> Any:
        note = "" if self.model.report_enabled else "(holterlab.report is not installed)"
        return pn.Column(
            self.out,
            pn.Row(self.button, self.cancel_button),
            self.progress,
            self.stage,
            self.link,
            pn.pane.Str(note),
        )
