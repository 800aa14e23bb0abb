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
from holterlab.report.formatting import Clock, fmt, fmt_duration, fmt_unit


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
    assert width_mm == pytest.approx(figures.CAL_MM + 7 * 25.0)  # calibration + 7 s
    assert height_mm == pytest.approx(6 + 2 * 30 + 5)  # two 3 mV bands at 10 mm/mV
    ax = fig.axes[0]
    band_mm = ax.get_position().height * height_mm
    assert band_mm / (ax.get_ylim()[1] - ax.get_ylim()[0]) == pytest.approx(10.0)
    signal_mm = ax.get_position().width * width_mm
    assert signal_mm == pytest.approx(7 * 25.0)
    assert signal_mm / (ax.get_xlim()[1] - ax.get_xlim()[0]) == pytest.approx(25.0)  # mm/s
    svg = figures.to_html(fig, text_as_text=True)
    m = re.search(r'<svg[^>]*width="([\d.]+)pt"', svg)
    assert float(m.group(1)) == pytest.approx((figures.CAL_MM + 175) / 25.4 * 72, rel=1e-3)
    for text in ("II", "V5", "+00:00:11", ">V<"):
        assert text in svg


def test_ecg_strip_leads_start_with_a_1_mv_calibration_pulse():
    """Every lead shows the standard 1 mV x 0.2 s pulse (10 mm x 5 mm) on its own paper."""
    fs = 250.0
    t = np.arange(int(7 * fs)) / fs
    sig = np.stack([0.5 * np.sin(2 * np.pi * t), 1.2 * np.sin(2 * np.pi * t) - 1.0])
    fig = figures.ecg_strip(sig, fs, 0.0, ["II", "V5"], clock=Clock(None))
    width_mm, height_mm = fig.get_figwidth() * 25.4, fig.get_figheight() * 25.4
    pulses = [
        (ax, line)
        for ax in fig.axes
        for line in ax.get_lines()
        if line.get_label() == "calibration"
    ]
    assert len(pulses) == 2
    for ax, line in pulses:
        pos = ax.get_position()
        assert pos.x1 * width_mm == pytest.approx(figures.CAL_MM)  # left of the signal
        mm_per_mv = pos.height * height_mm / (ax.get_ylim()[1] - ax.get_ylim()[0])
        mm_per_s = pos.width * width_mm / (ax.get_xlim()[1] - ax.get_xlim()[0])
        x, y = np.asarray(line.get_xdata()), np.asarray(line.get_ydata())
        assert (y.max() - y.min()) * mm_per_mv == pytest.approx(10.0)
        top = x[y == y.max()]
        assert (top.max() - top.min()) * mm_per_s == pytest.approx(5.0)
        lo, hi = ax.get_ylim()
        assert lo <= y.min() and y.max() <= hi  # the pulse fits its band


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


# ---------------------------------------------------------------------- clinical review fixes
def _ctx(result, **kw):
    return ReportContext(result=result, **kw)


def test_st_episode_without_extreme_value_does_not_break_the_report(synth_result):
    """An ST episode whose extreme is None (seen in 24 h results) must not crash findings."""
    r = copy.deepcopy(synth_result[1])
    base = {"lead": "II", "rate_bpm": None, "n_beats": None}
    deep = {"type": "st_depression", "start_s": 100.0, "end_s": 170.0, "duration_s": 70.0}
    deep["detail"] = {"extreme_mv": -0.25, "extreme_time_s": 120.0}
    blank = {"type": "st_depression", "start_s": 300.0, "end_s": 370.0, "duration_s": 70.0}
    blank["detail"] = {"extreme_mv": None, "extreme_time_s": 330.0}
    up = {"type": "st_elevation", "start_s": 400.0, "end_s": 470.0, "duration_s": 70.0}
    up["detail"] = {"extreme_mv": None, "extreme_time_s": 430.0}
    eps = [{**base, **e} for e in (deep, blank, up)]
    r["st"] = {**r["st"], "episodes": eps}
    r["events"] = [e for e in r["events"] if not e["type"].startswith("st_")] + eps
    text = " ".join(findings.findings(r))
    assert "2 ST depression episodes (deepest -0.25 mV in II" in text
    assert "1 ST elevation episode" in text
    st = [s for s in strips.key_strips(r) if "st" in s.keys]
    assert st and "-0.25 mV" in st[0].detail
    assert "ST depression" in tables.st_tables(_ctx(r))


def test_summary_and_findings_count_triplets(synth_result):
    """With runs of >= 4 beats, triplets are neither couplets nor runs: they must be named."""
    r = synth_result[1]
    v = r["ventricular"]
    assert v["triplets"] > 0
    html = tables.summary_page(_ctx(r))
    assert "V couplets, triplets, runs" in html
    assert f"{fmt(v['couplets'])}, {fmt(v['triplets'])}, {fmt(v['runs'])}" in html
    line = next(x for x in findings.findings(r) if x.startswith("Ventricular ectopy"))
    assert f"{fmt(v['triplets'])} triplet" in line


def test_heart_rate_table_has_time_columns_and_names_absent_periods(synth_result):
    """A 10-min daytime recording: the night row (0 s) is not printed as an empty row."""
    r = synth_result[1]
    assert r["heart_rate"]["night"]["analysable_s"] == 0.0
    html = tables.heart_rate_table(_ctx(r))
    clock = Clock.from_result(r)
    hr = r["heart_rate"]
    assert "<th>at</th>" in html and "Min (bpm)" in html and "Max (bpm)" in html
    assert f"<td>{clock(hr['max']['time_s'])}</td>" in html
    assert "Day (07:00–23:00)" in html
    assert html.count("Night (23:00–07:00)") == 1  # only in the note
    assert "Night (23:00–07:00): not covered by the recording." in html


def test_day_and_night_need_a_start_time(synth_result):
    r = copy.deepcopy(synth_result[1])
    r["recording"]["start_time"] = None
    hr_html = tables.heart_rate_table(_ctx(r))
    hrv_html = tables.hrv_tables(_ctx(r))
    for html in (hr_html, hrv_html):
        assert "Day (" not in html and "start time is not known" in html
    assert "+00:0" in hr_html


def test_hrv_absent_periods_and_segment_values_are_explained(synth_result):
    r = synth_result[1]
    h = r["hrv"]
    assert h["night"]["n_nn"] == 0 and h["sdann_ms"] is None
    html = tables.hrv_tables(_ctx(r))
    assert "Day (08:00–20:00)" in html
    assert "Night (00:00–06:00): not covered by the recording" in html
    assert "<td>Night (00:00–06:00)</td>" not in html
    assert "are given as – where no segment had at least 80%" in html


def test_hrv_of_too_few_nn_intervals_is_not_quoted(synth_result):
    """In AF almost no interval is NN: SDNN/RMSSD of a handful of intervals must not read as
    a patient's heart-rate variability."""
    r = copy.deepcopy(synth_result[1])
    r["hrv"] = {**r["hrv"], "n_nn": 5, "nn_coverage_pct": 0.2, "sdnn_ms": 184.7}
    text = " ".join(findings.findings(r))
    assert "HRV not interpretable: only 5 NN intervals (0.2% of beats" in text
    assert "SDNN 184.7" not in text
    summary = tables.summary_page(_ctx(r))
    assert "not interpretable (0.2% NN)" in summary and "184.7" not in summary
    assert "HRV not interpretable" in tables.hrv_tables(_ctx(r))
    ok = synth_result[1]  # 57% NN: quoted as usual
    assert findings.hrv_reliable(ok["hrv"])
    assert f"SDNN {fmt_unit(ok['hrv']['sdnn_ms'], 'sdnn_ms')}" in " ".join(findings.findings(ok))


def test_labels_say_what_is_counted(synth_result):
    r = copy.deepcopy(synth_result[1])
    c = _ctx(r)
    hourly = tables.hourly_table(c)
    for head in ("Min HR (bpm)", "Mean HR (bpm)", "Max HR (bpm)", "AF/flutter (s)"):
        assert head in hourly
    af = tables.af_table(c)
    assert "AF episodes" in af and "AF total time" in af
    rate = tables.rate_episodes_table(c)
    p = r["params"]["rhythm"]["rate"]
    assert (
        f"below {fmt(p['brady_bpm'], 'bpm')} bpm for at least "
        f"{fmt(p['brady_min_duration_s'], digits=0)} s; tachycardia: above "
        f"{fmt(p['tachy_bpm'], 'bpm')} bpm for at least "
        f"{fmt(p['tachy_min_duration_s'], digits=0)} s"
    ) in rate
    assert "J + 60 ms" in tables.st_tables(c)


def test_pause_kinds_and_qtc_formula_in_medical_english(synth_result):
    r = copy.deepcopy(synth_result[1])
    pause = next(e for e in r["events"] if e["type"] == "pause")
    kinds = ("sa_block", "post_ectopic", "af", "sinus_arrest")
    r["events"] = [
        dict(pause, start_s=10.0 * i, detail={**pause["detail"], "kind": k})
        for i, k in enumerate(kinds)
    ]
    r["pauses"] = {**r["pauses"], "by_kind": dict.fromkeys(kinds, 1)}
    html = tables.pauses_table(_ctx(r))
    for word in ("SA block", "post-ectopic", "during AF/flutter", "sinus arrest"):
        assert html.count(word) == 2, word  # in the summary and in the table
    assert "sa block" not in html and "post ectopic" not in html
    assert "QTc (Bazett)" in " ".join(findings.findings(r))
    assert "Max QTc (Bazett) at" in tables.qt_table(_ctx(r))
    assert "(bazett)" not in tables.qt_table(_ctx(r))


def test_af_present_at_the_start_is_not_called_an_onset(synth_result):
    r = synth_result[1]
    first = next(e for e in r["events"] if e["type"] in ("af", "afl"))
    assert first["start_s"] < strips.AT_START_S
    spec = next(s for s in strips.key_strips(r) if "af_onset" in s.keys)
    assert spec.title == "AF from the start of the recording"
    assert spec.detail == f"episode of {fmt_duration(first['duration_s'])}"
    later = copy.deepcopy(r)
    for e in later["events"]:
        if e["type"] in ("af", "afl"):
            e["start_s"] += 30.0
    spec = next(s for s in strips.key_strips(later) if "af_onset" in s.keys)
    assert spec.title == "AF onset"


def test_leads_come_from_the_recording_when_the_result_has_none(ctx):
    r = copy.deepcopy(ctx.result)
    r["recording"]["leads"] = []
    html = tables.summary_page(ReportContext(result=r, recording=ctx.recording))
    assert "II, V5, V1" in html


def test_poincare_leaves_out_af_like_the_hrv(synth_result):
    r = synth_result[1]

    def points(result):
        return sum(len(c.get_offsets()) for c in figures.poincare(result).axes[0].collections)

    no_af = copy.deepcopy(r)
    no_af["events"] = [e for e in r["events"] if e["type"] not in ("af", "afl")]
    assert points(r) < points(no_af)


def test_hr_trend_legend_sits_above_the_plot(synth_result):
    fig = figures.hr_trend(synth_result[1])
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 >= ax.get_window_extent().y1 - 1.0


def test_hrv_table_leaves_out_short_term_vlf_and_short_record_ulf(synth_result):
    """Task Force 1996: VLF of 5-minute spectra should be avoided and ULF is a 24-hour
    measure: the short-term VLF cell is a dash, and a record too short for ULF shows none."""
    r = copy.deepcopy(synth_result[1])
    r["hrv"]["short_term"] = {**(r["hrv"]["short_term"] or {}), "vlf_ms2": 4321.0}
    r["hrv"]["ulf_ms2"] = None
    html = tables.hrv_tables(_ctx(r))
    assert "4321" not in html and "4,321" not in html
    row = html[html.index("<td>VLF</td>") : html.index("</tr>", html.index("<td>VLF</td>"))]
    assert row.count("–") >= 1
    ulf = html[html.index("<td>ULF</td>") : html.index("</tr>", html.index("<td>ULF</td>"))]
    assert "ms²" not in ulf


def test_sinus_maximum_and_noisy_time_are_reported_when_they_matter(synth_result):
    r = copy.deepcopy(synth_result[1])
    clock = Clock.from_result(r)
    hr = r["heart_rate"]
    hr["max"] = {"bpm": 162.0, "time_s": 4000.0}
    hr["sinus_max"] = {"bpm": 118.0, "time_s": 900.0}
    r["recording"]["noisy_pct"] = 3.5
    pairs = dict(tables._key_numbers(r))
    assert pairs["Heart rate max, sinus"] == f"118 bpm at {clock(900.0)}"
    text = " ".join(findings.findings(r))
    assert f"the fastest sinus rate was 118 bpm at {clock(900.0)}" in text
    assert "3.5% was analysed with every usable lead noisy" in text
    # a sinus maximum equal to the maximum adds nothing
    hr["sinus_max"] = dict(hr["max"])
    r["recording"]["noisy_pct"] = 0.0
    assert "Heart rate max, sinus" not in dict(tables._key_numbers(r))
    text = " ".join(findings.findings(r))
    assert "fastest sinus rate" not in text and "every usable lead noisy" not in text
