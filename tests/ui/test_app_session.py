"""The served dashboard cancels its model's background work when its browser session ends.

A real Panel server on a free loopback port serves the dashboard; a Bokeh client session
opens the page and closes it, as a closed browser tab does; the server then destroys the
session (here after 0.2 s instead of Bokeh's default 15 s) and the model's cancel_all runs.
"""

from __future__ import annotations

import socket
import time

import pytest

pn = pytest.importorskip("panel")

from bokeh.client import pull_session  # noqa: E402
from bokeh.document import Document  # noqa: E402
from panel.io.state import set_curdoc  # noqa: E402

from holterlab.ui.app import Dashboard, stop_jobs_when_session_ends  # noqa: E402
from holterlab.ui.models import WorkbenchModel  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_closing_the_session_cancels_the_models_jobs():
    sessions: list[tuple[WorkbenchModel, list[str]]] = []

    def app():
        wb = WorkbenchModel(background=True)
        calls: list[str] = []
        cancel_all = wb.cancel_all
        wb.cancel_all = lambda: (calls.append("cancel_all"), cancel_all())
        sessions.append((wb, calls))
        return Dashboard(model=wb).__panel__()

    port = _free_port()
    server = pn.serve(
        {"/": app},
        port=port,
        address="127.0.0.1",
        show=False,
        threaded=True,
        start=True,
        websocket_origin=[f"127.0.0.1:{port}"],
        check_unused_sessions_milliseconds=200,
        unused_session_lifetime_milliseconds=200,
    )
    try:
        deadline = time.monotonic() + 60
        client = None
        while client is None:
            try:
                client = pull_session(url=f"http://127.0.0.1:{port}/")
            except OSError:  # the server thread is not listening yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        assert len(sessions) == 1
        wb, calls = sessions[0]
        assert calls == []  # an open session keeps its work
        client.close()
        deadline = time.monotonic() + 60
        while not calls and time.monotonic() < deadline:
            time.sleep(0.1)
        assert calls == ["cancel_all"]
    finally:
        server.stop()


def test_no_hook_outside_a_served_session(monkeypatch):
    wb = WorkbenchModel(background=True)
    assert stop_jobs_when_session_ends(wb) is False
    doc = Document()  # a document with no session (a notebook, a script)
    with set_curdoc(doc):
        assert stop_jobs_when_session_ends(wb) is False
        Dashboard(model=wb)
    assert not doc.session_destroyed_callbacks


def test_serve_destroys_closed_sessions_within_seconds(monkeypatch):
    import holterlab.ui.app as app_mod

    seen: dict = {}

    class _Stop(Exception):
        pass

    def fake_serve(panels, **kw):
        seen.update(kw)
        raise _Stop

    monkeypatch.setattr(app_mod.pn, "serve", fake_serve)
    monkeypatch.setattr(app_mod, "_warm_up", lambda: None)
    with pytest.raises(_Stop):
        app_mod.serve(show=False)
    # a closed tab's jobs are cancelled within about 6 s, not Bokeh's 15-32 s
    total = (
        seen["unused_session_lifetime_milliseconds"] + seen["check_unused_sessions_milliseconds"]
    )
    assert total <= 6000
    assert seen["unused_session_lifetime_milliseconds"] >= 3000  # time for a slow first load
