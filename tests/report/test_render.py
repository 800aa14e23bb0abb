"""End to end: the template rendered to PDF with papermill and chromium, checked with poppler."""

from __future__ import annotations

import importlib.util
import json

import nbformat
import pytest

from holterlab.errors import ReportError
from holterlab.report import render_report
from holterlab.report.formatting import Clock, fmt, fmt_unit
from holterlab.report.render import default_template
from holterlab.report.strips import key_strips
from tests.report.helpers import layout_problems, pdf_pages, pdf_text, pdf_words

PATIENT = {"id": "P-0042", "name": "Test Patient", "age": 61, "sex": "F"}


@pytest.fixture(scope="module")
def a4(synth_rec, synth_result, tmp_path_factory):
    """(a) result JSON + recording, A4 (one render shared by the tests below)."""
    out = tmp_path_factory.mktemp("render-a4")
    pdf = render_report(
        synth_result[0],
        out / "report.pdf",
        recording_path=synth_rec,
        patient=PATIENT,
        keep_notebook=out / "report.ipynb",
    )
    return pdf, pdf_text(pdf), synth_result[1]


@pytest.fixture(scope="module")
def letter_result_only(synth_result, tmp_path_factory):
    """(b) a result JSON alone, with HRV/ST/QT not analysed and no start time, on Letter."""
    out = tmp_path_factory.mktemp("render-letter")
    r = dict(synth_result[1], hrv=None, st=None, qt=None)
    r["recording"] = dict(r["recording"], start_time=None)
    r["events"] = [e for e in r["events"] if not e["type"].startswith("st_")]
    path = out / "partial.result.json"
    path.write_text(json.dumps(r))
    pdf = render_report(path, out / "partial.pdf", paper="Letter")
    return pdf, pdf_text(pdf)


def test_sections_are_present(a4):
    _pdf, text, _r = a4
    for heading in (
        "Holter ECG report",
        "Patient",
        "Recording",
        "Summary",
        "Findings",
        "Heart rate",
        "Hourly table",
        "Arrhythmias",
        "Ectopy",
        "Runs",
        "Atrial fibrillation and flutter",
        "Pauses",
        "Bradycardia and tachycardia",
        "Heart-rate variability",
        "Time domain",
        "Frequency domain",
        "RR tachogram",
        "ST segment and QT interval",
        "ST trend",
        "QT interval",
        "ECG strips of key events",
        "Parameters and version",
        "P-0042",
        "Test Patient",
    ):
        assert heading in text, heading


def test_printed_numbers_equal_the_result(a4):
    _pdf, text, r = a4
    clock = Clock.from_result(r)
    hr, v, s = r["heart_rate"], r["ventricular"], r["supraventricular"]
    p, hrv, af, qt = r["pauses"], r["hrv"], r["af"], r["qt"]
    expected = [
        f"Heart rate min {fmt_unit(hr['min']['bpm'], 'bpm')} at {clock(hr['min']['time_s'])}",
        f"Heart rate mean {fmt_unit(hr['mean_bpm'], 'mean_bpm')}",
        f"Heart rate max {fmt_unit(hr['max']['bpm'], 'bpm')} at {clock(hr['max']['time_s'])}",
        f"Total beats {fmt(r['beats']['total'])}",
        f"Ventricular beats (V) {fmt(v['total'])} ({fmt_unit(v['burden_pct'], 'burden_pct')})",
        f"Supraventricular beats (S) {fmt(s['total'])} ({fmt_unit(s['burden_pct'], 'burden_pct')})",
        f"V couplets, triplets, runs {fmt(v['couplets'])}, {fmt(v['triplets'])}, {fmt(v['runs'])}",
        f"{fmt(p['count'])} (longest {fmt(p['longest_s'], 'pause_s')} s)",
        f"AF/flutter burden {fmt_unit(af['burden_pct'], 'burden_pct')} "
        f"({fmt(af['episodes'])} AF, {fmt(af['afl_episodes'])} flutter episodes)",
        f"SDNN {fmt_unit(hrv['sdnn_ms'], 'sdnn_ms')}",
        f"RMSSD {fmt_unit(hrv['rmssd_ms'], 'rmssd_ms')}",
        f"pNN50 {fmt_unit(hrv['pnn50_pct'], 'pnn50_pct')}",
        f"{fmt_unit(qt['mean_qtc_ms'], 'mean_qtc_ms')} / "
        f"{fmt_unit(qt['max_qtc_ms'], 'max_qtc_ms')}",
        f"Mean QT {fmt_unit(qt['mean_qt_ms'], 'mean_qt_ms')}",
        f"holterlab version {r['holterlab_version']}",
    ]
    missing = [e for e in expected if e not in text]
    assert not missing


def test_no_code_prompts_or_labels(a4):
    _pdf, text, _r = a4
    for absent in (
        "In [",
        "Out[",
        "import ",
        "show(",
        "tables.",
        "prepare(",
        "Traceback",
        "papermill",
    ):
        assert absent not in text, absent


def test_strips_have_leads_time_stamps_and_labels(a4):
    _pdf, text, r = a4
    specs = key_strips(r)
    assert len(specs) >= 5
    clock = Clock.from_result(r)
    for spec in specs:
        assert spec.title in text
        assert clock.precise(spec.start_s) in text  # caption time stamp
        first_second = int(spec.start_s) + 1
        assert clock(first_second) in text  # a time stamp under the strip
    assert text.count("25 mm/s, 10 mm/mV") == len(specs)
    strip_text = text[text.index("ECG strips of key events") : text.index("Parameters and version")]
    for lead in ("II", "V5", "V1"):
        assert f" {lead} " in strip_text
    assert " V " in strip_text and " N " in strip_text  # beat labels


def test_a4_and_kept_notebook(a4):
    pdf, _text, _r = a4
    pages, size = pdf_pages(pdf)
    assert pages >= 6 and size == pytest.approx((595.3, 841.9), abs=1.5)
    nb = nbformat.read(pdf.with_suffix(".ipynb"), as_version=4)
    tags = [t for c in nb.cells for t in c.metadata.get("tags", [])]
    assert "injected-parameters" in tags and "strips" in tags
    assert not any(o.get("output_type") == "error" for c in nb.cells for o in c.get("outputs", []))


def test_result_alone_on_letter_has_no_strips_and_not_analysed(letter_result_only):
    pdf, text = letter_result_only
    _pages, size = pdf_pages(pdf)
    assert size == pytest.approx((612, 792), abs=1)
    assert "No ECG strips" in text
    assert "Heart-rate variability: not analysed" in text
    assert "ST segment: not analysed" in text and "QT interval: not analysed" in text


def test_recording_without_start_time_has_elapsed_times_and_no_day_night(
    letter_result_only, synth_result
):
    _pdf, text = letter_result_only
    r = synth_result[1]
    clock = Clock(None)
    hr_max = r["heart_rate"]["max"]
    assert "Start unknown" in text
    assert f"Heart rate max {fmt_unit(hr_max['bpm'], 'bpm')} at {clock(hr_max['time_s'])}" in text
    assert "Day (" not in text and "Night (" not in text
    assert "start time is not known" in text


def test_no_text_overlaps_or_runs_into_the_margins(a4, letter_result_only):
    """Long cells (parameter names, day/night labels, elapsed times) stay in their columns:
    JupyterLab's fixed table layout let them run into their neighbours."""
    for pdf in (a4[0], letter_result_only[0]):
        assert layout_problems(pdf) == []
    # and tables span the page: the last header of the ST table ends at the right margin
    width, _h, words = next(p for p in pdf_words(a4[0]) if any(w[4] == "(mV)" for w in p[2]))
    right = max(w[2] for w in words if w[4] == "(mV)")
    assert right > width - 12 / 25.4 * 72 - 12


def test_failing_cell_gives_report_error_and_no_pdf(synth_result, tmp_path):
    nb = nbformat.read(default_template(), as_version=4)
    boom = nbformat.v4.new_code_cell('raise ValueError("deliberate failure")')
    boom.metadata["tags"] = ["boom"]
    i = next(k for k, c in enumerate(nb.cells) if "setup" in c.metadata.get("tags", []))
    nb.cells.insert(i + 1, boom)
    template = tmp_path / "broken.ipynb"
    nbformat.write(nb, template)
    out = tmp_path / "out" / "report.pdf"
    with pytest.raises(ReportError, match=r"cell 'boom' failed: ValueError: deliberate failure"):
        render_report(
            synth_result[0], out, template=template, keep_notebook=tmp_path / "failed.ipynb"
        )
    assert not out.exists()
    assert not list(out.parent.glob("*")) if out.parent.exists() else True
    assert (tmp_path / "failed.ipynb").is_file()  # kept for debugging


@pytest.mark.slow
@pytest.mark.skipif(
    importlib.util.find_spec("holterlab.beats.detect") is None,
    reason="the QRS detector (holterlab.beats.detect) is not there yet",
)
def test_recording_alone_is_analysed(synth_rec, tmp_path):
    from holterlab.result import HolterResult

    result_json = tmp_path / "analysed.result.json"
    pdf = render_report(synth_rec, tmp_path / "analysed.pdf", result_out=result_json)
    result = HolterResult.from_json(result_json)
    text = pdf_text(pdf)
    assert f"Total beats {fmt(result.beats['total'])}" in text
    assert "ECG strips of key events" in text and "No ECG strips" not in text


def test_kernel_is_this_python():
    import sys
    from pathlib import Path

    from holterlab.report.render import _runs_this_python, ensure_kernel

    assert _runs_this_python(["python", "-m", "ipykernel_launcher"])
    assert _runs_this_python([sys.executable, "-m", "ipykernel_launcher"])
    assert not _runs_this_python(["/opt/other/bin/python3", "-m", "ipykernel_launcher"])
    assert not _runs_this_python([])
    spec_dir = ensure_kernel()
    assert (Path(spec_dir) / "kernel.json").is_file()
