"""Progress callback and cancel of render_report (the dashboard's report export path)."""

from __future__ import annotations

import os
import threading

import pytest

from holterlab.errors import CancelledError, ParameterError
from holterlab.report import render_report
from holterlab.report.render import RENDER_STAGES
from tests.report.cancel_helpers import (
    browser_processes,
    kernel_processes,
    wait_for,
    write_sleeping_template,
)

psutil = pytest.importorskip("psutil")


def test_progress_callback_gets_stages_and_increasing_fractions(synth_result, tmp_path):
    calls: list[tuple[str, float]] = []
    cwds: set[str] = set()
    out = tmp_path / "report.pdf"

    def progress(stage: str, fraction: float) -> None:
        calls.append((stage, fraction))
        cwds.add(os.getcwd())

    pdf = render_report(
        synth_result[0],
        out,
        progress=progress,
        cancel=threading.Event(),  # never set: the cancellable engine runs the whole notebook
    )
    assert pdf == out and out.read_bytes()[:4] == b"%PDF"
    stages = [s for s, _ in calls]
    fractions = [f for _, f in calls]
    assert stages[0] == "execute" and stages[-1] == "pdf"
    assert stages.index("pdf") > max(i for i, s in enumerate(stages) if s == "execute")
    assert fractions == sorted(fractions)
    assert fractions[0] == 0.0 and fractions[-1] == pytest.approx(1.0)
    execute = sorted({f for s, f in calls if s == "execute"})
    assert len(execute) >= 8  # one report per notebook cell (the template has 10, plus params)
    share = RENDER_STAGES["execute"] / sum(RENDER_STAGES.values())
    assert execute[-1] == pytest.approx(share)  # all cells done before the PDF is printed
    assert list(tmp_path.iterdir()) == [out]
    # the notebook's kernel runs in its own folder; this process (all threads of a dashboard)
    # keeps its working directory while the notebook runs
    assert cwds == {os.getcwd()}


def _render_in_thread(template, out, cancel, source):
    box: dict = {}

    def run():
        try:
            box["value"] = render_report(source, out, template=template, cancel=cancel)
        except BaseException as exc:  # noqa: BLE001 - inspected by the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return thread, box


@pytest.mark.parametrize("ignore_sigint", [False, True], ids=["interrupt", "kill"])
def test_cancel_while_a_cell_runs_stops_the_kernel_and_writes_nothing(
    synth_result, tmp_path, ignore_sigint
):
    """A cell sleeping 10 minutes is interrupted (or, when it ignores SIGINT, its kernel is
    shut down): CancelledError, no PDF, no kernel left running."""
    marker = tmp_path / "cell-started"
    template = write_sleeping_template(
        tmp_path / "sleepy.ipynb", marker, ignore_sigint=ignore_sigint
    )
    outdir = tmp_path / "out"
    outdir.mkdir()
    out = outdir / "report.pdf"
    cancel = threading.Event()
    thread, box = _render_in_thread(template, out, cancel, synth_result[0])
    assert wait_for(marker.exists, 120), "the sleeping cell never started"
    assert kernel_processes(), "no kernel is running while the cell sleeps"
    cancel.set()
    thread.join(60)  # the cell would sleep 600 s: ending at all means it was stopped
    assert not thread.is_alive(), "render_report did not stop after cancel"
    assert isinstance(box.get("error"), CancelledError), box
    assert "nothing" in str(box["error"]) or "no PDF" in str(box["error"])
    assert not out.exists()
    assert list(outdir.iterdir()) == []  # no temporary part file either
    assert wait_for(lambda: not kernel_processes(), 10), kernel_processes()


def test_cancel_while_printing_closes_the_browser_at_once():
    """Printing that would take a minute (the page is given 60 s to render) stops within
    seconds of the cancel: CancelledError, and no browser left running."""
    import time

    import nbformat

    from holterlab.report.render import export_pdf

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("# a report")])
    cancel = threading.Event()
    box: dict = {}

    def run():
        try:
            box["value"] = export_pdf(nb, cancel=cancel.is_set, page_render_timeout=60_000)
        except BaseException as exc:  # noqa: BLE001 - inspected by the test
            box["error"] = exc

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert wait_for(lambda: bool(browser_processes()), 60), "the browser never started"
    time.sleep(1.0)  # the page is loaded and waits for its render time
    t0 = time.monotonic()
    cancel.set()
    thread.join(30)
    assert not thread.is_alive()
    assert time.monotonic() - t0 < 5.0
    assert isinstance(box.get("error"), CancelledError), box
    assert "no PDF" in str(box["error"])
    assert wait_for(lambda: not browser_processes(), 10), browser_processes()


def test_cancel_before_start_raises_at_once(synth_result, tmp_path):
    out = tmp_path / "report.pdf"
    with pytest.raises(CancelledError):
        render_report(synth_result[0], out, cancel=lambda: True)
    assert not out.exists()


def test_bad_progress_or_cancel_is_a_parameter_error(synth_result, tmp_path):
    with pytest.raises(ParameterError, match="progress"):
        render_report(synth_result[0], tmp_path / "r.pdf", progress="yes")
    with pytest.raises(ParameterError, match="cancel"):
        render_report(synth_result[0], tmp_path / "r.pdf", cancel=42)
