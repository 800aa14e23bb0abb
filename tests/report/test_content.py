"""Report content without rendering: findings, tables, key strips, figures."""

from __future__ import annotations

import copy
import re

import numpy as np
import pytest

import holterlab
from holterlab.errors import ParameterError
from holterlab.report import figures, findings, strips, tables
from holterlab.report.context import ReportContext, paper_name, prepare
from holterlab.report.formatting import Clock, fmt, fmt_unit


@pytest.fixture(scope="module")
def ctx(synth_rec, synth_result):
    return prepare(
        result_path=synth_result[0], recording_path=synth_rec, patient={"id": "P-9", "age": 63}
    )


def test_prepare_loads_result_and_recording(ctx, synth_result):
    r = synth_result[1]
    assert ctx.recording is not None and ctx.has_beats
    assert ctx.result["beats"]["total"] == r["beats"]["total"]
    samples, labels = ctx.beats()
    assert samples.size == r["beats"]["total"] and set(labels) <= set("NSVFQ")
    assert ctx.patient == {"id": "P-9", "age": 63}
    assert ctx.result["recording"]["leads"] == ["II", "V5", "V1"]


def test_prepare_rejects_a_recording_of_another_result(synth_rec, synth_result, tmp_path):
    other = copy.deepcopy(synth_result[1])
    other["recording"]["fs"] = 360.0
    path = tmp_path / "other.result.json"
    path.write_text(__import__("json").dumps(other))
    c = prepare(result_path=path, recording_path=synth_rec)
    assert c.recording is None and "does not match" in c.notes[0]


def test_prepare_needs_an_input_and_a_known_paper():
    with pytest.raises(ParameterError, match="recording path or a result"):
        prepare()
    with pytest.raises(ParameterError, match="A4 or Letter"):
        paper_name("A3")
    assert paper_name("letter") == "Letter"


def test_findings_state_the_result_numbers(synth_result):
    r = synth_result[1]
    items = findings.findings(r)
    text = " ".join(items)
    clock = Clock.from_result(r)
    hr = r["heart_rate"]
    assert f"minimum {fmt_unit(hr['min']['bpm'], 'bpm')} at {clock(hr['min']['time_s'])}" in text
    assert f"{fmt(r['ventricular']['total'])} beats (V)" in text
    assert f"SDNN {fmt_unit(r['hrv']['sdnn_ms'], 'sdnn_ms')}" in text
    assert items[-1] == findings.REVIEW_NOTE


def test_findings_name_a_possible_asystole(synth_result):
    r = copy.deepcopy(synth_result[1])
    assert "possible asystole" not in " ".join(findings.findings(r))
    detail = {"segments": {"no_ecg": 11}, "possible_asystole": True, "rr_s": 24.6}
    quiet = {"type": "noise", "start_s": 600.0, "end_s": 622.0, "duration_s": 22.0}
    quiet["detail"] = detail
    r["events"] = list(r["events"]) + [quiet]
    text = " ".join(findings.findings(r))
    assert "1 stretch without ECG between beats (possible asystole" in text
    assert "longest RR 24.60 s" in text


@pytest.mark.parametrize(
    ("af", "expected", "absent"),
    [
        (
            {"episodes": 0, "afl_episodes": 2, "afl_s": 420.0, "burden_pct": 4.9},
            "Atrial flutter: 2 episodes",
            "No atrial fibrillation or flutter",
        ),
        (
            {
                "episodes": 1,
                "total_s": 3600.0,
                "longest_s": 3600.0,
                "afl_episodes": 0,
                "afl_s": 0.0,
                "burden_pct": 4.2,
            },
            "Atrial fibrillation: 1 episode",
            "flutter:",
        ),
        (
            {"episodes": 0, "total_s": 0.0, "afl_episodes": 0, "afl_s": 0.0, "burden_pct": 0.0},
            "No atrial fibrillation or flutter detected.",
            "burden",
        ),
    ],
)
def test_findings_report_flutter_even_without_fibrillation(synth_result, af, expected, absent):
    """A recording with flutter only must not read "no atrial fibrillation or flutter"."""
    r = copy.deepcopy(synth_result[1])
    r["af"] = {**r["af"], "mean_rate_bpm": None, **af}
    line = next(x for x in findings.findings(r) if "trial" in x)
    assert expected in line and absent not in line
    if af["episodes"] or af["afl_episodes"]:
        assert f"AF/flutter burden {fmt_unit(af['burden_pct'], 'burden_pct')}" in line


def test_missing_sections_say_not_analysed(ctx):
    r = copy.deepcopy(ctx.result)
    for key in ("hrv", "st", "qt", "af", "pauses", "ventricular", "supraventricular"):
        r[key] = None
    c = ReportContext(result=r)
    text = " ".join(findings.findings(r))
    assert text.count("not analysed") >= 6
    for block in (
        tables.hrv_tables(c),
        tables.st_tables(c),
        tables.qt_table(c),
        tables.af_table(c),
        tables.pauses_table(c),
        tables.ectopy_table(c),
    ):
        assert "not analysed" in block
    page = tables.summary_page(c)
    assert "not analysed" in page
    # figures still draw (with a note) when their section is missing
    assert figures.st_trend(r).get_figwidth() > 0
    assert "<svg" in figures.to_html(figures.qt_trend(r))


def test_tables_print_json_values(ctx):
    r = ctx.result
    html = tables.summary_page(ctx)
    assert fmt(r["beats"]["total"]) in html
    v = r["ventricular"]
    assert f"{fmt(v['total'])} ({fmt_unit(v['burden_pct'], 'burden_pct')})" in html
    assert "P-9" in html and "Patient ID" in html
    hourly = tables.hourly_table(ctx)
    assert fmt(r["hourly"][0]["n_beats"]) in hourly
    assert fmt(r["qt"]["mean_qtc_bazett_ms"], "mean_qtc_bazett_ms") in tables.qt_table(ctx)
    assert "&lt;script&gt;" in tables.table(["a"], [["<script>"]])


def test_long_episode_lists_are_cut_with_a_note(ctx):
    r = copy.deepcopy(ctx.result)
    pause = next(e for e in r["events"] if e["type"] == "pause")
    r["events"] = [
        dict(pause, start_s=float(i), end_s=i + 2.0 + i / 100, duration_s=2.0 + i / 100)
        for i in range(40)
    ]
    html = tables.pauses_table(ReportContext(result=r))
    assert html.split("<tbody>")[1].count("<tr>") == tables.MAX_ROWS
    assert "Showing 25 of 40" in html


def test_key_strips_cover_the_key_events(synth_result):
    r = synth_result[1]
    specs = strips.key_strips(r)
    keys = {k for s in specs for k in s.keys}
    assert {"hr_max", "hr_min", "pause", "v_longest_run", "v_fastest_run"} <= keys
    if any(e["type"] == "svt" for e in r["events"]):
        assert "svt" in keys
    if any(e["type"] in ("af", "afl") for e in r["events"]):
        assert "af_onset" in keys
    total = r["recording"]["duration_s"]
    for s in specs:
        assert 0 <= s.start_s <= total - s.duration_s
        for a, _b in s.marks:  # every marked event starts inside its strip
            assert s.start_s <= a <= s.start_s + s.duration_s
    pause = next(s for s in specs if "pause" in s.keys)
    assert fmt(r["pauses"]["longest_s"], "pause_s") in pause.detail


def test_strip_signal_removes_the_baseline(synth_rec, ctx):
    rec = holterlab.read(synth_rec)
    samples, _ = ctx.beats()
    x = strips.strip_signal(rec, 100.0, 7.0, beat_samples=samples)
    assert x.shape == (3, 7 * 250) and x.dtype == np.float32
    # the PR level (isoelectric line) sits at 0 mV after baseline removal
    b = samples[(samples > 100.5 * 250) & (samples < 106.5 * 250)] - 100 * 250
    pr = [np.median(x[0, s - 25 : s - 15]) for s in b]
    assert np.max(np.abs(pr)) < 0.1


def test_ecg_strip_has_standard_paper_size():
    fs = 250.0
    sig = np.zeros((2, int(7 * fs)), dtype=np.float32)
    fig = figures.ecg_strip(
        sig,
        fs,
        10.0,
        ["II", "V5"],
        clock=Clock(None),
        beat_times_s=np.array([10.5, 11.5]),
        beat_labels=np.array(["N", "V"]),
    )
    width_mm, height_mm = fig.get_figwidth() * 25.4, fig.get_figheight() * 25.4
    assert width_mm == pytest.approx(7 * 25.0)  # 25 mm/s
    assert height_mm == pytest.approx(6 + 2 * 30 + 5)  # two 3 mV bands at 10 mm/mV
    ax = fig.axes[0]
    band_mm = ax.get_position().height * height_mm
    assert band_mm / (ax.get_ylim()[1] - ax.get_ylim()[0]) == pytest.approx(10.0)
    svg = figures.to_html(fig, text_as_text=True)
    m = re.search(r'<svg[^>]*width="([\d.]+)pt"', svg)
    assert float(m.group(1)) == pytest.approx(175 / 25.4 * 72, rel=1e-3)
    for text in ("II", "V5", "+00:00:11", ">V<"):
        assert text in svg


def test_hr_series_and_trend_without_beats(synth_result):
    r = synth_result[1]
    t = np.asarray(r["beat_list"]["time_s"])
    s = figures.hr_series(t, bin_s=60.0)
    ok = np.isfinite(s["mean"])
    assert ok.sum() >= 8 and np.all((s["mean"][ok] > 30) & (s["mean"][ok] < 250))
    assert np.all(s["min"][ok] <= s["max"][ok])
    no_beats = {k: v for k, v in r.items() if k != "beat_list"}
    assert figures.hr_trend(no_beats).axes  # falls back to the hourly table
    assert "<svg" in figures.to_html(figures.tachogram(no_beats))
