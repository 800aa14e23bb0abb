"""The composed Holter review dashboard (``holterlab dashboard``).

:class:`Dashboard` lays out the views of :mod:`holterlab.ui.views` over one
:class:`~holterlab.ui.models.WorkbenchModel`; :func:`serve` runs it with Panel's server on
the loopback interface (one model per browser session).

In a notebook::

    import panel as pn
    pn.extension("tabulator")
    from holterlab.ui.app import Dashboard
    Dashboard(path="rec.aiecg", result_path="rec.result.json")
"""

from __future__ import annotations

import os
import threading
from typing import Any

import panel as pn

from holterlab.ui.models import WorkbenchModel
from holterlab.ui.views import (
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

__all__ = ["Dashboard", "serve", "stop_jobs_when_session_ends", "EXTENSIONS"]

#: Panel extensions the dashboard needs.
EXTENSIONS = ("tabulator",)
POLL_MS = 250
#: A closed tab's session is destroyed (and its jobs cancelled) this long after its last
#: connection ends, checked this often (Bokeh's defaults, 15 s and 17 s, let an analysis run
#: on for half a minute); the lifetime leaves a slow first page load time to connect.
UNUSED_SESSION_LIFETIME_MS = 5000
CHECK_UNUSED_SESSIONS_MS = 1000
CSS = """
.hl-title { font-size: 20px; font-weight: 600; }
"""


def stop_jobs_when_session_ends(model: WorkbenchModel) -> bool:
    """Cancel ``model``'s background jobs when the served browser session ends.

    Registers a callback with :meth:`panel.io.state.State.on_session_destroyed` for the
    current session (:func:`serve` has Bokeh destroy a session 5-6 s after its tab was
    closed; ``panel serve`` takes ``--unused-session-lifetime`` for the same); the
    callback calls :meth:`WorkbenchModel.cancel_all`, so a running analysis or report
    render (and its kernel) stops instead of running on for nobody. Outside a served session
    (a notebook, a script) nothing is registered and False is returned.
    """
    doc = pn.state.curdoc
    if doc is None or doc.session_context is None:
        return False

    def cancel_jobs(session_context: Any) -> None:
        model.cancel_all()

    pn.state.on_session_destroyed(cancel_jobs)
    return True


class Dashboard(pn.viewable.Viewer):
    """The whole workbench for one session.

    Parameters
    ----------
    path, result_path
        Recording (and result JSON) to open at once, or None.
    root
        Folder the file picker is restricted to (default: the recording's folder or the
        working directory).
    model
        An existing model (default: a new one running work in the background).
    """

    def __init__(
        self,
        path: str | None = None,
        result_path: str | None = None,
        *,
        root: str | None = None,
        model: WorkbenchModel | None = None,
        **params: Any,
    ) -> None:
        super().__init__(**params)
        self.model = model or WorkbenchModel(background=True)
        m = self.model
        if root is None and path:
            root = os.path.dirname(os.path.abspath(path))
        self.open_view = OpenView(m, root=root)
        self.summary_view = SummaryView(m)
        self.overview_view = OverviewView(m)
        self.detail_view = DetailView(m)
        self.events_view = EventsView(m)
        self.families_view = FamiliesView(m)
        self.params_view = ParamsView(m)
        self.comparison_view = ComparisonView(m)
        self.export_view = ExportView(m)
        self.status = pn.pane.Str(m.status, css_classes=["hl-status"], sizing_mode="stretch_width")
        m.param.watch(lambda e: setattr(self.status, "object", e.new), "status")
        self._callback = None
        stop_jobs_when_session_ends(m)
        if path:
            try:
                m.open(path, result_path)
            except Exception as exc:  # shown in the page, not raised into the server
                m.status = f"error: {exc}"
            self.open_view.path_input.value = m.path

    def _start_polling(self) -> None:
        if self._callback is None:
            self._callback = pn.state.add_periodic_callback(self.model.poll, period=POLL_MS)

    def __panel__(self) -> Any:
        self._start_polling()
        tabs = pn.Tabs(
            ("Events", self.events_view),
            ("Families", self.families_view),
            ("Parameters", self.params_view),
            ("Comparison", self.comparison_view),
            ("Files", self.open_view.browser()),
            dynamic=False,
            sizing_mode="stretch_width",
        )
        sidebar = pn.Column(
            pn.pane.HTML('<div class="hl-title">holterlab workbench</div>'),
            pn.Card(self.open_view, title="Recording", sizing_mode="stretch_width"),
            pn.Card(self.summary_view, title="Summary", sizing_mode="stretch_width"),
            pn.Card(self.export_view, title="Report", collapsed=True, sizing_mode="stretch_width"),
            width=360,
        )
        main = pn.Column(
            self.status,
            self.overview_view,
            self.detail_view,
            tabs,
            sizing_mode="stretch_width",
        )
        return pn.Row(sidebar, main, sizing_mode="stretch_width", stylesheets=[CSS])


def _warm_up() -> None:
    """Pay the one-off costs (imports, JIT compiles) before the first recording is opened."""
    import numpy as np

    from holterlab.viz import ensure_bokeh
    from holterlab.viz.overview import warm_up
    from holterlab.viz.pyramid import minmax_blocks

    try:
        ensure_bokeh()
        warm_up()
        minmax_blocks(np.zeros((1, 64), dtype=np.float32), 32)
        WorkbenchModel(background=False)  # imports the detector when it is there
    except Exception:  # warming up is an optimisation only
        pass


def serve(
    path: str | None = None,
    result_path: str | None = None,
    *,
    port: int = 5006,
    show: bool = True,
    root: str | None = None,
    cache_dir: str | None = None,
    ready: threading.Event | None = None,
) -> None:
    """Serve the dashboard on ``127.0.0.1:port`` until interrupted (one model per session)."""
    pn.extension(*EXTENSIONS)
    threading.Thread(target=_warm_up, daemon=True).start()

    def app() -> Any:
        model = WorkbenchModel(background=True, cache_dir=cache_dir)
        return Dashboard(path, result_path, root=root, model=model).__panel__()

    server = pn.serve(
        {"/": app},
        port=port,
        address="127.0.0.1",
        show=show,
        title="holterlab workbench",
        websocket_origin=[f"127.0.0.1:{port}", f"localhost:{port}"],
        threaded=False,
        start=False,
        unused_session_lifetime_milliseconds=UNUSED_SESSION_LIFETIME_MS,
        check_unused_sessions_milliseconds=CHECK_UNUSED_SESSIONS_MS,
    )
    print(f"holterlab dashboard at http://127.0.0.1:{server.port}/", flush=True)
    if ready is not None:
        ready.set()
    server.start()
    if show:
        server.io_loop.add_callback(server.show, "/")
    server.io_loop.start()
