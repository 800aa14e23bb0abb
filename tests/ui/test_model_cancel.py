"""Workbench model: the report job shows progress and can be cancelled; cancel_all stops every
job (what the dashboard calls when its browser session ends). No Panel involved."""

from __future__ import annotations

import pytest

from holterlab.ui.models import WorkbenchModel, detector_available, report_available
from tests.report.cancel_helpers import kernel_processes, wait_for, write_sleeping_template

needs_report = pytest.mark.skipif(not report_available(), reason="holterlab.report missing")


@pytest.fixture
def opened(sample):
    wb = WorkbenchModel(background=True)
    wb.open(sample.recording)  # the result beside it is loaded too
    wb.wait(60)
    assert wb.result is not None and not wb.busy
    return wb


@needs_report
def test_report_job_shows_progress_and_cancel_writes_nothing(opened, tmp_path):
    wb = opened
    marker = tmp_path / "cell-started"
    template = write_sleeping_template(tmp_path / "sleepy.ipynb", marker)
    out = tmp_path / "out" / "report.pdf"
    stages: list[str] = []
    wb.param.watch(lambda e: stages.append(e.new), "report_stage")
    wb.export_report(out, template=template)
    assert wb.report_busy
    assert wait_for(marker.exists, 120, poll=wb.poll), wb.status
    wb.poll()
    assert wb.report_busy and wb.report_stage == "execute"
    assert 0.0 < wb.report_progress < 1.0  # the cells before the sleeping one are done
    wb.cancel_report()
    wb.wait(60)
    assert not wb.report_busy
    assert wb.status == "report cancelled: nothing was written"
    assert not out.exists() and (not out.parent.exists() or not list(out.parent.iterdir()))
    assert wb.report_path == ""
    assert "execute" in stages
    assert wait_for(lambda: not kernel_processes(), 10)


@needs_report
def test_opening_another_recording_does_not_drop_a_running_report(opened, sample, tmp_path):
    """close() cancels the recording's jobs but leaves the report (it has its own copy of the
    result) running and reported; cancel_all() stops it."""
    wb = opened
    marker = tmp_path / "cell-started"
    template = write_sleeping_template(tmp_path / "sleepy.ipynb", marker)
    wb.export_report(tmp_path / "report.pdf", template=template)
    assert wait_for(marker.exists, 120, poll=wb.poll), wb.status
    wb.open(sample.recording)
    wb.poll()
    assert wb.report_busy
    wb.cancel_all()
    wb.wait(60)
    assert not wb.report_busy and "report cancelled" in wb.status
    assert not (tmp_path / "report.pdf").exists()


@pytest.mark.skipif(not detector_available(), reason="holterlab.beats.detect cannot be imported")
def test_cancel_all_stops_a_running_analysis(opened):
    wb = opened
    before = wb.result
    wb.analyse()
    assert wb.busy
    wb.cancel_all()
    wb.wait(120)
    assert not wb.busy
    assert wb.status == "analysis cancelled"
    assert wb.result is before  # the cancelled analysis replaced nothing


def test_cancel_all_without_jobs_does_nothing():
    wb = WorkbenchModel(background=True)
    wb.cancel_all()
    assert wb.poll() is False
