"""HTML blocks of a Holter report: the summary page, the tables of every section, notes.

Every function takes the :class:`~holterlab.report.context.ReportContext` (or the result
JSON dict) and returns an HTML string; every number goes through
:func:`~holterlab.report.formatting.fmt`. Sections that were not analysed (``None`` in the
result) print "not analysed" instead of a table. Long episode lists are cut to the most
relevant rows, saying how many were left out (the result JSON holds them all).
"""

from __future__ import annotations

import datetime as _dt
import html
from collections.abc import Iterable, Sequence
from typing import Any

from holterlab.report.findings import findings, hrv_reliable, hrv_warning, qtc_formula
from holterlab.report.formatting import DASH, Clock, fmt, fmt_duration, fmt_unit

__all__ = [
    "REPORT_CSS",
    "esc",
    "table",
    "kv_table",
    "heading",
    "not_analysed",
    "note",
    "summary_page",
    "heart_rate_table",
    "hourly_table",
    "ectopy_table",
    "runs_table",
    "af_table",
    "pauses_table",
    "rate_episodes_table",
    "hrv_tables",
    "st_tables",
    "qt_table",
    "params_table",
    "flatten",
    "pause_kind",
    "MAX_ROWS",
    "PAUSE_KINDS",
]

#: Longest episode list printed (the rest is counted, and is in the result JSON).
MAX_ROWS = 25


#: Why day and night values are left out of a recording without a start time.
NO_START_NOTE = "Day and night values are not shown: the recording's start time is not known."

#: Style of the report's HTML (printed and shown in Jupyter alike).
REPORT_CSS = """
<style>
.hl { font-family: "DejaVu Sans", "Liberation Sans", sans-serif; font-size: 9pt; color: #111; }
.hl h1 { font-size: 16pt; margin: 0 0 1mm 0; color: #1f3a5f; }
.hl h2 { font-size: 12.5pt; margin: 0 0 2mm 0; padding: 1mm 0; color: #1f3a5f;
  border-bottom: 0.5mm solid #1f3a5f; }
.hl h2.hl-page { break-before: page; page-break-before: always; }
.hl h3 { font-size: 10pt; margin: 3mm 0 1mm 0; color: #1f3a5f; break-after: avoid;
  page-break-after: avoid; }
.hl p { margin: 1mm 0; }
/* JupyterLab's CSS lays tables out "fixed" (columns sized by the first row), which lets long
   cells run into their neighbours: lay tables out by their content instead */
.hl table.hl-t { border-collapse: collapse; margin: 1mm 0 2mm 0; width: 100%;
  font-size: 8pt; break-inside: auto; table-layout: auto; }
.hl table.hl-t th, .hl table.hl-t td { padding: 0.5mm 1.5mm; border-bottom: 0.2mm solid #d5d8dc;
  text-align: left; vertical-align: top; }
.hl table.hl-t th { background: #eaf0f6; font-weight: bold; }
.hl table.hl-t td.n { text-align: right; white-space: nowrap; }
.hl table.hl-t th.n { text-align: right; }
.hl table.hl-t:not(.hl-kv) td:first-child { white-space: nowrap; }
.hl table.hl-t.hl-params td:first-child { white-space: normal; overflow-wrap: break-word; }
.hl table.hl-t tr { break-inside: avoid; }
.hl table.hl-t thead { display: table-header-group; }
.hl table.hl-kv { table-layout: fixed; }
.hl table.hl-kv td.k { color: #444; width: 24%; }
.hl table.hl-kv td.v { font-weight: bold; }
.hl .hl-head { display: flex; justify-content: space-between; align-items: flex-end;
  border-bottom: 0.8mm solid #1f3a5f; margin-bottom: 2mm; padding-bottom: 1mm; }
.hl .hl-meta { font-size: 7.5pt; color: #444; text-align: right; }
.hl .hl-cols { display: flex; gap: 4mm; }
.hl .hl-cols > div { flex: 1 1 0; min-width: 0; }
.hl ul.hl-findings { margin: 1mm 0 0 0; padding-left: 5mm; }
.hl ul.hl-findings li { margin: 0.6mm 0; }
.hl .hl-na { color: #666; font-style: italic; }
.hl .hl-note { color: #444; font-size: 8pt; margin: 1mm 0; }
.hl .hl-box { break-inside: avoid; page-break-inside: avoid; }
.hl .hl-fig { margin: 1mm 0 2mm 0; break-inside: avoid; page-break-inside: avoid; }
.hl .hl-fig svg { display: block; max-width: none !important; height: auto; }
.hl .hl-strip { break-inside: avoid; page-break-inside: avoid; margin: 0 0 4mm 0; }
.hl .hl-strip .hl-cap { font-size: 8.5pt; margin: 0 0 0.8mm 0; }
.hl .hl-strip .hl-cap b { color: #1f3a5f; }
</style>
"""


def esc(value: Any) -> str:
    """HTML-escaped text."""
    return html.escape(str(value), quote=True)


def _is_num(text: str) -> bool:
    t = text.replace(",", "").replace("%", "").replace("−", "-").strip()
    for unit in (" bpm", " ms", " s", " mV", " ms²", " n.u.", " min", " h"):
        t = t.removesuffix(unit)
    try:
        float(t)
        return True
    except ValueError:
        return text == DASH


def table(
    header: Sequence[str] | None,
    rows: Iterable[Sequence[Any]],
    *,
    numeric: Sequence[bool] | None = None,
    css_class: str = "",
    raw: bool = False,
) -> str:
    """An HTML table; cells are strings (escaped unless ``raw``). Numeric columns (by
    ``numeric`` or, when None, guessed from the first row) are right-aligned."""
    rows = [list(r) for r in rows]
    if numeric is None:
        ref = rows[0] if rows else []
        numeric = [i > 0 and _is_num(str(c)) for i, c in enumerate(ref)]

    def cell(tag: str, i: int, value: Any) -> str:
        cls = ' class="n"' if numeric and i < len(numeric) and numeric[i] else ""
        text = str(value) if raw else esc(value)
        return f"<{tag}{cls}>{text}</{tag}>"

    out = [f'<table class="hl-t {css_class}">']
    if header:
        out.append("<thead><tr>" + "".join(cell("th", i, h) for i, h in enumerate(header)))
        out.append("</tr></thead>")
    out.append("<tbody>")
    for r in rows:
        out.append("<tr>" + "".join(cell("td", i, c) for i, c in enumerate(r)) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def kv_table(pairs: Sequence[tuple[str, str]], *, columns: int = 2) -> str:
    """Label/value pairs, ``columns`` pairs per row."""
    out = ['<table class="hl-t hl-kv">']
    for i in range(0, len(pairs), columns):
        out.append("<tr>")
        for k, v in list(pairs[i : i + columns]) + [("", "")] * (
            columns - len(pairs[i : i + columns])
        ):
            out.append(f'<td class="k">{esc(k)}</td><td class="v">{esc(v)}</td>')
        out.append("</tr>")
    out.append("</table>")
    return "".join(out)


def heading(title: str, *, level: int = 2, page_break: bool = False) -> str:
    cls = ' class="hl-page"' if page_break and level == 2 else ""
    return f"<h{level}{cls}>{esc(title)}</h{level}>"


def not_analysed(what: str, why: str = "") -> str:
    return f'<p class="hl-na">{esc(what)}: not analysed{esc(". " + why if why else ".")}</p>'


def note(text: str) -> str:
    return f'<p class="hl-note">{esc(text)}</p>'


def _wrap(*parts: str) -> str:
    return '<div class="hl">' + "".join(parts) + "</div>"


def _events(result: dict[str, Any], *types: str) -> list[dict[str, Any]]:
    return [e for e in result.get("events") or [] if e.get("type") in types]


def _cut(rows: list[Any], *, key, what: str, reverse: bool = True) -> tuple[list[Any], str]:
    """At most :data:`MAX_ROWS` rows (the most relevant by ``key``), in time order."""
    if len(rows) <= MAX_ROWS:
        return rows, ""
    kept = sorted(rows, key=key, reverse=reverse)[:MAX_ROWS]
    kept.sort(key=lambda e: e.get("start_s", 0.0))
    return kept, note(
        f"Showing {MAX_ROWS} of {fmt(len(rows))} {what}; all are listed in the result JSON."
    )


# ---------------------------------------------------------------------- summary page
_PATIENT_LABELS = {
    "id": "Patient ID",
    "name": "Name",
    "age": "Age",
    "sex": "Sex",
    "birth_date": "Date of birth",
    "dob": "Date of birth",
    "height_cm": "Height (cm)",
    "weight_kg": "Weight (kg)",
    "indication": "Indication",
    "medication": "Medication",
    "referrer": "Referring physician",
    "physician": "Physician",
    "institution": "Institution",
    "comment": "Comment",
}


def _patient_pairs(patient: dict[str, Any]) -> list[tuple[str, str]]:
    pairs = []
    keys = [k for k in _PATIENT_LABELS if k in patient] + [
        k for k in patient if k not in _PATIENT_LABELS
    ]
    for k in keys:
        label = _PATIENT_LABELS.get(k, k.replace("_", " ").capitalize())
        pairs.append((label, fmt(patient[k])))
    return pairs or [("Patient", "not given")]


def _recording_pairs(ctx: Any) -> list[tuple[str, str]]:
    r = ctx.result
    rec = r.get("recording") or {}
    clock = Clock.from_result(r)
    start = clock.start.strftime("%Y-%m-%d %H:%M:%S") if clock.start else "unknown"
    leads = rec.get("leads") or list(getattr(ctx.recording, "leads", None) or [])
    leads = ", ".join(leads) or DASH
    return [
        ("Recording", fmt(rec.get("name"))),
        ("Start", start),
        ("Duration", fmt_duration(rec.get("duration_s"))),
        ("Analysable", fmt_duration(rec.get("analysable_s"))),
        ("Noise / artefact (excluded)", fmt_unit(rec.get("noise_pct"), "noise_pct")),
        ("Noisy but analysed", fmt_unit(rec.get("noisy_pct"), "noise_pct")),
        ("Leads", leads),
        ("Sampling rate", f"{fmt(rec.get('fs'), digits=0)} Hz" if rec.get("fs") else DASH),
        ("Format", fmt(rec.get("format"))),
    ]


def _at(clock: Clock, point: dict[str, Any] | None) -> str:
    point = point or {}
    if point.get("bpm") is None:
        return DASH
    return f"{fmt_unit(point['bpm'], 'bpm')} at {clock(point.get('time_s'))}"


def _differs(a: dict[str, Any] | None, b: dict[str, Any] | None) -> bool:
    """Two rate points with different rates (a missing one never differs)."""
    a, b = a or {}, b or {}
    if a.get("bpm") is None or b.get("bpm") is None:
        return False
    return abs(float(a["bpm"]) - float(b["bpm"])) >= 0.5


def _key_numbers(result: dict[str, Any]) -> list[tuple[str, str]]:
    clock = Clock.from_result(result)
    hr = result.get("heart_rate") or {}
    beats = result.get("beats") or {}
    v, s = result.get("ventricular"), result.get("supraventricular")
    af, pauses, hrv, qt, st = (result.get(k) for k in ("af", "pauses", "hrv", "qt", "st"))
    na = "not analysed"
    pairs = [
        ("Heart rate min", _at(clock, hr.get("min"))),
        ("Heart rate mean", fmt_unit(hr.get("mean_bpm"), "mean_bpm")),
        ("Heart rate max", _at(clock, hr.get("max"))),
    ]
    if _differs(hr.get("sinus_max"), hr.get("max")):
        pairs.append(("Heart rate max, sinus", _at(clock, hr.get("sinus_max"))))
    pairs.append(("Total beats", fmt(beats.get("total"))))
    for name, sec, letter in (("Ventricular", v, "V"), ("Supraventricular", s, "S")):
        if sec is None:
            pairs += [(f"{name} beats", na), (f"{letter} couplets, triplets, runs", na)]
            continue
        pairs.append(
            (
                f"{name} beats ({letter})",
                f"{fmt(sec.get('total'))} ({fmt_unit(sec.get('burden_pct'), 'burden_pct')})",
            )
        )
        pairs.append(
            (
                f"{letter} couplets, triplets, runs",
                f"{fmt(sec.get('couplets'))}, {fmt(sec.get('triplets'))}, {fmt(sec.get('runs'))}",
            )
        )
    if pauses is None:
        pairs.append(("Pauses", na))
    else:
        longest = pauses.get("longest_s")
        pairs.append(
            (
                f"Pauses ≥ {fmt(pauses.get('threshold_s'), 'pause_s')} s",
                fmt(pauses.get("count"))
                + (f" (longest {fmt(longest, 'pause_s')} s)" if longest else ""),
            )
        )
    if af is None:
        pairs.append(("AF/flutter burden", na))
    else:
        pairs.append(
            (
                "AF/flutter burden",
                f"{fmt_unit(af.get('burden_pct'), 'burden_pct')} "
                f"({fmt(af.get('episodes'))} AF, {fmt(af.get('afl_episodes') or 0)} flutter "
                "episodes)",
            )
        )
    if hrv is None:
        pairs += [("SDNN", na), ("RMSSD", na)]
    elif not hrv_reliable(hrv):
        cov = fmt_unit(hrv.get("nn_coverage_pct"), "pct")
        pairs += [("HRV", f"not interpretable ({cov} NN)"), ("", "")]
    else:
        pairs += [
            ("SDNN", fmt_unit(hrv.get("sdnn_ms"), "sdnn_ms")),
            ("SDANN", fmt_unit(hrv.get("sdann_ms"), "sdann_ms")),
            ("RMSSD", fmt_unit(hrv.get("rmssd_ms"), "rmssd_ms")),
            ("pNN50", fmt_unit(hrv.get("pnn50_pct"), "pnn50_pct")),
        ]
    pairs.append(("ST episodes", na if st is None else fmt(len(st.get("episodes") or []))))
    pairs.append(
        (
            "QTc mean / max",
            na
            if qt is None
            else f"{fmt_unit(qt.get('mean_qtc_ms'), 'mean_qtc_ms')} / "
            f"{fmt_unit(qt.get('max_qtc_ms'), 'max_qtc_ms')}",
        )
    )
    return pairs


def summary_page(ctx: Any, *, generated: _dt.datetime | None = None) -> str:
    """The first page: title, patient and recording facts, key numbers and the findings."""
    r = ctx.result
    generated = generated or _dt.datetime.now()
    meta = (
        f"holterlab {esc(r.get('holterlab_version') or '')} · result schema "
        f"{esc(r.get('schema_version') or '')}<br>report made {generated:%Y-%m-%d %H:%M}"
    )
    head = (
        f'<div class="hl-head"><div><h1>{esc(ctx.title)}</h1>'
        f"<div>{esc((r.get('recording') or {}).get('name') or '')}"
        f"{' · ' + esc(Clock.from_result(r).date()) if Clock.from_result(r).wall else ''}"
        f'</div></div><div class="hl-meta">{meta}</div></div>'
    )
    cols = (
        '<div class="hl-cols"><div>'
        + heading("Patient", level=3)
        + kv_table(_patient_pairs(ctx.patient), columns=1)
        + "</div><div>"
        + heading("Recording", level=3)
        + kv_table(_recording_pairs(ctx), columns=1)
        + "</div></div>"
    )
    numbers = heading("Summary", level=3) + kv_table(_key_numbers(r), columns=2)
    items = "".join(f"<li>{esc(f)}</li>" for f in findings(r))
    found = heading("Findings", level=3) + f'<ul class="hl-findings">{items}</ul>'
    notes = "".join(note(n) for n in ctx.notes)
    return _wrap(head, cols, numbers, found, notes)


# ---------------------------------------------------------------------- heart rate
def heart_rate_table(ctx: Any) -> str:
    """Minimum, mean and maximum heart rate over the whole recording, by day and by night."""
    r = ctx.result
    clock = Clock.from_result(r)
    hr = r.get("heart_rate")
    if hr is None:
        return _wrap(not_analysed("Heart rate"))
    rows, absent = [], []
    periods = [("Whole recording", hr), ("Day", hr.get("day")), ("Night", hr.get("night"))]
    no_clock = not clock.wall and any(sec for _label, sec in periods[1:])
    if no_clock:  # clock hours mean nothing without the start time
        periods = periods[:1]
    for label, sec in periods:
        if not sec:
            continue
        name = label
        if label != "Whole recording" and sec.get("start_h") is not None:
            name = f"{label} ({_hour(sec['start_h'])}–{_hour(sec['end_h'])})"
        if label != "Whole recording" and not sec.get("analysable_s"):
            absent.append(name)
            continue
        lo, hi = sec.get("min") or {}, sec.get("max") or {}
        rows.append(
            [
                name,
                fmt_duration(sec.get("analysable_s")),
                fmt(sec.get("n_beats")),
                fmt(lo.get("bpm"), "bpm"),
                clock(lo.get("time_s")) if lo.get("bpm") is not None else DASH,
                fmt(sec.get("mean_bpm"), "mean_bpm"),
                fmt(hi.get("bpm"), "bpm"),
                clock(hi.get("time_s")) if hi.get("bpm") is not None else DASH,
            ]
        )
    basis = hr.get("basis")
    return _wrap(
        table(
            ["Period", "Analysable", "Beats", "Min (bpm)", "at", "Mean (bpm)", "Max (bpm)", "at"],
            rows,
            numeric=[False, True, True, True, False, True, True, False],
        ),
        note(f"Minimum and maximum of the {basis} average; mean = beats per analysable minute.")
        if basis
        else "",
        note(f"{' and '.join(absent)}: not covered by the recording.") if absent else "",
        note(NO_START_NOTE) if no_clock else "",
    )


def _hour(h: Any) -> str:
    """A clock hour of the day/night parameters: ``7.0`` -> ``"07:00"``, ``22.5`` -> ``"22:30"``."""
    minutes = int(round(float(h) * 60.0)) % (24 * 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def hourly_table(ctx: Any) -> str:
    """One row per (clock) hour: analysable time, beats, heart rate, ectopy, pauses, AF."""
    r = ctx.result
    rows_in = r.get("hourly") or []
    if not rows_in:
        return _wrap(not_analysed("Hourly table"))
    clock = Clock.from_result(r)
    rows = []
    for h in rows_in:
        rows.append(
            [
                clock(h.get("start_s"), seconds=False) + "–" + clock(h.get("end_s"), seconds=False),
                fmt(h.get("analysable_s", 0) / 60.0, digits=0)
                if h.get("analysable_s") is not None
                else DASH,
                fmt(h.get("n_beats")),
                fmt(h.get("min_bpm"), "min_bpm"),
                fmt(h.get("mean_bpm"), "mean_bpm"),
                fmt(h.get("max_bpm"), "max_bpm"),
                fmt(h.get("v_beats")),
                fmt(h.get("s_beats")),
                fmt(h.get("pauses")),
                fmt(h.get("af_s"), "af_s"),
            ]
        )
    header = [
        "Hour",
        "Analysable (min)",
        "Beats",
        "Min HR (bpm)",
        "Mean HR (bpm)",
        "Max HR (bpm)",
        "V beats",
        "S beats",
        "Pauses",
        "AF/flutter (s)",
    ]
    return _wrap(table(header, rows, numeric=[False] + [True] * 9))


# ---------------------------------------------------------------------- arrhythmia
def ectopy_table(ctx: Any) -> str:
    """Ventricular and supraventricular ectopy side by side."""
    r = ctx.result
    v, s = r.get("ventricular"), r.get("supraventricular")
    if v is None and s is None:
        return _wrap(not_analysed("Ectopy"))
    clock = Clock.from_result(r)
    run_min = ((r.get("params") or {}).get("rhythm") or {}).get("ectopy", {}).get("run_min_beats")

    def run(sec, key):
        x = (sec or {}).get(key)
        if not x:
            return DASH
        return (
            f"{fmt(x.get('n_beats'))} beats, {fmt_unit(x.get('rate_bpm'), 'rate_bpm')}, "
            f"{clock(x.get('start_s'))}"
        )

    def val(sec, key, kind=None):
        if sec is None:
            return "not analysed"
        if kind == "pct":
            return fmt_unit(sec.get(key), key)
        if kind == "episodes":
            return f"{fmt(sec.get(key))} ({fmt_duration(sec.get(key.replace('_episodes', '_s')))})"
        return fmt(sec.get(key))

    runs_label = f"Runs (≥ {run_min} beats)" if run_min else "Runs"
    rows = [
        ["Total beats", val(v, "total"), val(s, "total")],
        ["Burden (% of beats)", val(v, "burden_pct", "pct"), val(s, "burden_pct", "pct")],
        ["Isolated", val(v, "isolated"), val(s, "isolated")],
        ["Couplets", val(v, "couplets"), val(s, "couplets")],
        ["Triplets", val(v, "triplets"), val(s, "triplets")],
        [runs_label, val(v, "runs"), val(s, "runs")],
        ["– of which fast (VT / SVT)", val(v, "fast_runs"), val(s, "fast_runs")],
        ["– of which slow (IVR / slow S runs)", val(v, "slow_runs"), val(s, "slow_runs")],
        [
            "Bigeminy episodes",
            val(v, "bigeminy_episodes", "episodes"),
            val(s, "bigeminy_episodes", "episodes"),
        ],
        [
            "Trigeminy episodes",
            val(v, "trigeminy_episodes", "episodes"),
            val(s, "trigeminy_episodes", "episodes"),
        ],
        ["Longest run", run(v, "longest_run"), run(s, "longest_run")],
        ["Fastest run", run(v, "fastest_run"), run(s, "fastest_run")],
    ]
    return _wrap(
        table(["", "Ventricular (V)", "Supraventricular (S)"], rows, numeric=[False, True, True])
    )


_TYPE_NAMES = {
    "vt": "VT",
    "ivr": "IVR",
    "svt": "SVT",
    "s_run": "S run",
    "af": "AF",
    "afl": "Flutter",
    "brady": "Bradycardia",
    "tachy": "Tachycardia",
    "pause": "Pause",
    "st_depression": "ST depression",
    "st_elevation": "ST elevation",
}


def runs_table(ctx: Any) -> str:
    """Runs of ectopic beats (VT, IVR, SVT, S runs), fastest first when cut."""
    r = ctx.result
    evs = _events(r, "vt", "ivr", "svt", "s_run")
    if r.get("ventricular") is None and r.get("supraventricular") is None:
        return _wrap(not_analysed("Runs"))
    if not evs:
        return _wrap(note("No runs of ectopic beats."))
    clock = Clock.from_result(r)
    evs, cut = _cut(evs, key=lambda e: e.get("rate_bpm") or 0.0, what="runs (fastest kept)")
    rows = [
        [
            _TYPE_NAMES.get(e["type"], e["type"]),
            clock(e["start_s"]),
            fmt(e.get("duration_s"), "duration_s"),
            fmt(e.get("n_beats")),
            fmt(e.get("rate_bpm"), "rate_bpm"),
        ]
        for e in evs
    ]
    return _wrap(
        table(
            ["Run", "Start", "Duration (s)", "Beats", "Rate (bpm)"],
            rows,
            numeric=[False, False, True, True, True],
        ),
        cut,
    )


def af_table(ctx: Any) -> str:
    """AF/flutter summary and its episodes (longest first when cut)."""
    r = ctx.result
    af = r.get("af")
    if af is None:
        return _wrap(not_analysed("Atrial fibrillation"))
    clock = Clock.from_result(r)
    summary = kv_table(
        [
            ("AF episodes", fmt(af.get("episodes"))),
            ("AF total time", fmt_duration(af.get("total_s"))),
            (
                "AF/flutter burden (% of analysable time)",
                fmt_unit(af.get("burden_pct"), "burden_pct"),
            ),
            ("Mean ventricular rate", fmt_unit(af.get("mean_rate_bpm"), "mean_rate_bpm")),
            ("Longest AF episode", fmt_duration(af.get("longest_s"))),
            (
                "Flutter episodes",
                f"{fmt(af.get('afl_episodes'))} ({fmt_duration(af.get('afl_s'))})",
            ),
        ],
        columns=2,
    )
    evs = _events(r, "af", "afl")
    method = note(f"Method: {af['method']}.") if af.get("method") else ""
    if not evs:
        return _wrap(summary, note("No AF or flutter episodes."), method)
    evs, cut = _cut(evs, key=lambda e: e.get("duration_s") or 0.0, what="episodes (longest kept)")
    rows = [
        [
            _TYPE_NAMES.get(e["type"], e["type"]),
            clock(e["start_s"]),
            clock(e["end_s"]),
            fmt_duration(e.get("duration_s")),
            fmt(e.get("n_beats")),
            fmt(e.get("rate_bpm"), "rate_bpm"),
        ]
        for e in evs
    ]
    return _wrap(
        summary,
        table(
            ["Episode", "Start", "End", "Duration", "Beats", "Rate (bpm)"],
            rows,
            numeric=[False, False, False, True, True, True],
        ),
        cut,
        method,
    )


#: How the pause kinds of the result are written.
PAUSE_KINDS = {
    "sinus_arrest": "sinus arrest",
    "sa_block": "SA block",
    "post_ectopic": "post-ectopic",
    "af": "during AF/flutter",
    "other": "other",
}


def pause_kind(kind: Any) -> str:
    """``"sa_block"`` -> ``"SA block"`` (unknown kinds with spaces for underscores)."""
    if not kind:
        return DASH
    return PAUSE_KINDS.get(str(kind), str(kind).replace("_", " "))


def pauses_table(ctx: Any) -> str:
    """Pause summary and the pauses (longest first when cut)."""
    r = ctx.result
    p = r.get("pauses")
    if p is None:
        return _wrap(not_analysed("Pauses"))
    clock = Clock.from_result(r)
    kinds = ", ".join(f"{pause_kind(k)} {fmt(v)}" for k, v in (p.get("by_kind") or {}).items())
    summary = kv_table(
        [
            ("Threshold", f"{fmt(p.get('threshold_s'), 'pause_s')} s"),
            ("Pauses", fmt(p.get("count"))),
            ("Sinus arrests", fmt(p.get("sinus_arrests"))),
            (
                "Longest",
                f"{fmt(p.get('longest_s'), 'pause_s')} s at {clock(p.get('longest_start_s'))}"
                if p.get("longest_s")
                else DASH,
            ),
            ("By kind", kinds or DASH),
        ],
        columns=2,
    )
    evs = _events(r, "pause")
    if not evs:
        return _wrap(summary)
    evs, cut = _cut(evs, key=lambda e: e.get("duration_s") or 0.0, what="pauses (longest kept)")
    rows = [
        [
            clock(e["start_s"]),
            fmt((e.get("detail") or {}).get("rr_s", e.get("duration_s")), "pause_s"),
            pause_kind((e.get("detail") or {}).get("kind")),
        ]
        for e in evs
    ]
    return _wrap(
        summary, table(["Start", "RR (s)", "Kind"], rows, numeric=[False, True, False]), cut
    )


def rate_episodes_table(ctx: Any) -> str:
    """Bradycardia and tachycardia episodes (longest first when cut)."""
    r = ctx.result
    if r.get("heart_rate") is None:
        return _wrap(not_analysed("Brady- and tachycardia"))
    rate = ((r.get("params") or {}).get("rhythm") or {}).get("rate") or {}
    evs = _events(r, "brady", "tachy")
    thr = (
        (
            f"Bradycardia: heart rate below {fmt(rate.get('brady_bpm'), 'bpm')} bpm for at least "
            f"{fmt(rate.get('brady_min_duration_s'), digits=0)} s; tachycardia: above "
            f"{fmt(rate.get('tachy_bpm'), 'bpm')} bpm for at least "
            f"{fmt(rate.get('tachy_min_duration_s'), digits=0)} s."
        )
        if rate
        else ""
    )
    if not evs:
        return _wrap(note("No bradycardia or tachycardia episodes. " + thr))
    clock = Clock.from_result(r)
    evs, cut = _cut(evs, key=lambda e: e.get("duration_s") or 0.0, what="episodes (longest kept)")
    rows = []
    for e in evs:
        d = e.get("detail") or {}
        extreme = d.get("min_rate_bpm") if e["type"] == "brady" else d.get("max_rate_bpm")
        rows.append(
            [
                _TYPE_NAMES[e["type"]],
                clock(e["start_s"]),
                clock(e["end_s"]),
                fmt_duration(e.get("duration_s")),
                fmt(e.get("rate_bpm"), "rate_bpm"),
                fmt(extreme, "rate_bpm"),
            ]
        )
    return _wrap(
        table(
            ["Episode", "Start", "End", "Duration", "Mean rate (bpm)", "Extreme rate (bpm)"],
            rows,
            numeric=[False, False, False, True, True, True],
        ),
        cut,
        note(thr),
    )


# ---------------------------------------------------------------------- HRV
def hrv_tables(ctx: Any) -> str:
    """Time-domain, frequency-domain, nonlinear and turbulence values; day/night and hourly."""
    r = ctx.result
    h = r.get("hrv")
    if h is None:
        return _wrap(not_analysed("Heart-rate variability"))

    def u(key, unit_key=None):
        return fmt_unit(h.get(key), unit_key or key)

    warn = "" if hrv_reliable(h) else note(hrv_warning(h))
    time_rows = [
        (
            "NN intervals",
            f"{fmt(h.get('n_nn'))} ({fmt_unit(h.get('nn_coverage_pct'), 'pct')} of beats)",
        ),
        ("Mean NN", u("mean_nn_ms")),
        ("Mean heart rate of NN", u("mean_hr_bpm")),
        ("SDNN", u("sdnn_ms")),
        ("SDANN", u("sdann_ms")),
        ("SDNN index", u("sdnn_index_ms")),
        ("RMSSD", u("rmssd_ms")),
        ("SDSD", u("sdsd_ms")),
        ("NN50", fmt(h.get("nn50"))),
        ("pNN50", u("pnn50_pct")),
        ("HRV triangular index", fmt(h.get("triangular_index"), "triangular_index")),
        ("TINN", u("tinn_ms")),
    ]
    st = h.get("short_term") or {}
    freq_rows = [
        ["ULF", u("ulf_ms2"), DASH],
        # Task Force 1996: VLF from 5-minute spectra is dubious and should be avoided
        ["VLF", u("vlf_ms2"), DASH],
        ["LF", u("lf_ms2"), fmt_unit(st.get("lf_ms2"), "lf_ms2")],
        ["HF", u("hf_ms2"), fmt_unit(st.get("hf_ms2"), "hf_ms2")],
        [
            "Total power",
            u("total_power_ms2"),
            fmt_unit(st.get("total_power_ms2"), "total_power_ms2"),
        ],
        ["LF/HF", fmt(h.get("lf_hf"), "lf_hf"), fmt(st.get("lf_hf"), "lf_hf")],
        ["LF (n.u.)", fmt(h.get("lf_nu"), "lf_nu"), fmt(st.get("lf_nu"), "lf_nu")],
        ["HF (n.u.)", fmt(h.get("hf_nu"), "hf_nu"), fmt(st.get("hf_nu"), "hf_nu")],
    ]
    seg = st.get("segment_s")
    seg_head = (
        f"{fmt(seg / 60.0, digits=0)}-min mean (n = {fmt(st.get('n_segments'))})"
        if seg
        else "Short-term mean"
    )
    nonlin = [
        ("SD1", u("sd1_ms")),
        ("SD2", u("sd2_ms")),
        ("SD1/SD2", fmt(h.get("sd1_sd2"), "sd1_sd2")),
        ("DFA α1", fmt(h.get("dfa_alpha1"), "dfa_alpha1")),
        ("DFA α2", fmt(h.get("dfa_alpha2"), "dfa_alpha2")),
        ("Turbulence onset", u("hrt_to_pct")),
        ("Turbulence slope", u("hrt_ts_ms_per_beat")),
        ("VPBs used for HRT", fmt(h.get("hrt_n_vpb"))),
    ]
    left = heading("Time domain", level=3) + kv_table(time_rows, columns=1)
    right = (
        heading("Frequency domain", level=3)
        + table(["", "Whole recording", seg_head], freq_rows, numeric=[False, True, True])
        + heading("Nonlinear and turbulence", level=3)
        + kv_table(nonlin, columns=2)
    )
    parts = [warn, f'<div class="hl-cols"><div>{left}</div><div>{right}</div></div>']
    periods, absent = [], []
    clock = Clock.from_result(r)
    day_night = [p for p in (h.get("day"), h.get("night")) if p]
    no_clock = bool(day_night) and not clock.wall
    if no_clock:  # clock hours mean nothing without the start time
        day_night = []
    for p in day_night:
        if p.get("n_nn"):
            periods.append(p)
        else:
            absent.append(
                f"{str(p.get('label', '')).capitalize()} ({p.get('start')}–{p.get('end')})"
            )
    period_rows = []
    for p in periods + list(h.get("hourly") or []):
        if p.get("label") == "hour":
            offset = p.get("offset_s")
            label = clock(offset, seconds=False) if offset is not None else DASH
        else:
            label = f"{str(p.get('label', '')).capitalize()} ({p.get('start')}–{p.get('end')})"
        period_rows.append(
            [
                label,
                fmt(p.get("n_nn")),
                fmt(p.get("mean_nn_ms"), "mean_nn_ms"),
                fmt(p.get("sdnn_ms"), "sdnn_ms"),
                fmt(p.get("rmssd_ms"), "rmssd_ms"),
                fmt(p.get("pnn50_pct"), "pnn50_pct"),
                fmt(p.get("lf_ms2"), "lf_ms2"),
                fmt(p.get("hf_ms2"), "hf_ms2"),
                fmt(p.get("lf_hf"), "lf_hf"),
            ]
        )
    if period_rows:
        parts.append(heading("Day, night and hourly", level=3))
        parts.append(
            table(
                [
                    "Period",
                    "NN",
                    "Mean NN (ms)",
                    "SDNN (ms)",
                    "RMSSD (ms)",
                    "pNN50 (%)",
                    "LF (ms²)",
                    "HF (ms²)",
                    "LF/HF",
                ],
                period_rows,
                numeric=[False] + [True] * 8,
            )
        )
    if absent:
        parts.append(
            note(f"{' and '.join(absent)}: not covered by the recording (no NN intervals).")
        )
    if no_clock:
        parts.append(note(NO_START_NOTE))
    rows_all = periods + list(h.get("hourly") or [])
    segment_gaps = h.get("n_nn") and (
        any(h.get(k) is None for k in ("sdann_ms", "sdnn_index_ms"))
        or st.get("lf_ms2") is None
        or any(p.get("n_nn") and p.get("lf_ms2") is None for p in rows_all)
    )
    if segment_gaps:
        hp = (r.get("params") or {}).get("hrv") or {}
        seg_s, min_cov = seg or hp.get("segment_s") or 300.0, hp.get("segment_min_coverage_pct")
        parts.append(
            note(
                f"Values from {fmt(seg_s / 60.0, digits=0)}-min segments (SDANN, SDNN index, the "
                f"segment mean and hourly LF, HF and LF/HF) are given as {DASH} where no segment "
                + (
                    f"had at least {fmt(min_cov, digits=0)}% "
                    if min_cov is not None
                    else "had enough "
                )
                + "of its time in NN intervals (ectopy, AF, noise) or the recording is too short."
            )
        )
    return _wrap(*parts)


# ---------------------------------------------------------------------- ST and QT
def st_tables(ctx: Any) -> str:
    """ST level per lead (mean, minimum and maximum with times) and the ST episodes."""
    r = ctx.result
    st = r.get("st")
    if st is None:
        return _wrap(not_analysed("ST segment"))
    clock = Clock.from_result(r)
    rows = []
    for lead, d in (st.get("leads") or {}).items():
        rows.append(
            [
                lead,
                fmt(d.get("mean_mv"), "mean_mv"),
                f"{fmt(d.get('min_mv'), 'min_mv')} at {clock(d.get('min_time_s'))}"
                if d.get("min_mv") is not None
                else DASH,
                f"{fmt(d.get('max_mv'), 'max_mv')} at {clock(d.get('max_time_s'))}"
                if d.get("max_mv") is not None
                else DASH,
            ]
        )
    parts = [
        note(
            f"ST level at J + {fmt(st.get('offset_ms'), digits=0)} ms against the PR level "
            f"of {fmt(st.get('window_s'), digits=0)} s median beats "
            f"({fmt(st.get('n_windows'))} windows)."
        ),
        table(
            ["Lead", "Mean (mV)", "Minimum (mV)", "Maximum (mV)"],
            rows,
            numeric=[False, True, True, True],
        ),
    ]
    eps = [e for e in st.get("episodes") or []]
    if eps:
        eps, cut = _cut(
            eps,
            key=lambda e: abs((e.get("detail") or {}).get("extreme_mv") or 0.0),
            what="episodes (largest kept)",
        )
        erows = [
            [
                _TYPE_NAMES.get(e["type"], e["type"]),
                e.get("lead") or DASH,
                clock(e["start_s"]),
                fmt_duration(e.get("duration_s")),
                fmt((e.get("detail") or {}).get("extreme_mv"), "extreme_mv"),
                clock((e.get("detail") or {}).get("extreme_time_s")),
            ]
            for e in eps
        ]
        parts += [
            heading("ST episodes", level=3),
            table(
                ["Episode", "Lead", "Start", "Duration", "Extreme (mV)", "At"],
                erows,
                numeric=[False, False, False, True, True, False],
            ),
            cut,
        ]
    else:
        parts.append(note("No ST episodes."))
    return _wrap(*parts)


def qt_table(ctx: Any) -> str:
    """QT, QTc (Bazett and Fridericia) and QRS duration."""
    r = ctx.result
    qt = r.get("qt")
    if qt is None:
        return _wrap(not_analysed("QT interval"))
    clock = Clock.from_result(r)
    pairs = [
        ("Mean QT", fmt_unit(qt.get("mean_qt_ms"), "mean_qt_ms")),
        ("Mean QRS", fmt_unit(qt.get("mean_qrs_ms"), "mean_qrs_ms")),
        ("Mean QTc Bazett", fmt_unit(qt.get("mean_qtc_bazett_ms"), "mean_qtc_bazett_ms")),
        ("Max QTc Bazett", fmt_unit(qt.get("max_qtc_bazett_ms"), "max_qtc_bazett_ms")),
        ("Mean QTc Fridericia", fmt_unit(qt.get("mean_qtc_fridericia_ms"), "mean_qtc_ms")),
        ("Max QTc Fridericia", fmt_unit(qt.get("max_qtc_fridericia_ms"), "max_qtc_ms")),
        (f"Max QTc ({qtc_formula(qt)}) at", clock(qt.get("max_qtc_time_s"))),
        ("Measured windows", fmt(qt.get("measured_windows"))),
    ]
    return _wrap(kv_table(pairs, columns=2))


# ---------------------------------------------------------------------- parameters
def flatten(d: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``{"a": {"b": 1}}`` -> ``[("a.b", 1)]``."""
    if not isinstance(d, dict):
        return [(prefix, d)]
    out: list[tuple[str, Any]] = []
    for k, v in d.items():
        key = f"{prefix}.{k}" if prefix else str(k)
        if isinstance(v, dict) and v:
            out += flatten(v, key)
        else:
            out.append((key, v))
    return out


def _param_value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, dict | list):
        return str(v) if v else DASH
    return fmt(v)


def _breakable(name: str) -> str:
    """A dotted parameter name (escaped) that may wrap after its dots and underscores."""
    return esc(name).replace(".", ".<wbr>").replace("_", "_<wbr>")


def params_table(ctx: Any) -> str:
    """The holterlab version, the inputs and every analysis parameter used."""
    r = ctx.result
    facts = [
        ("holterlab version", fmt(r.get("holterlab_version"))),
        ("Result schema", fmt(r.get("schema_version"))),
        ("Recording file", ctx.recording_path or (r.get("recording") or {}).get("path") or DASH),
        ("Result file", ctx.result_path or DASH),
    ]
    if ctx.beats_source:
        facts.append(
            (
                "Beats from",
                "QRS detector" if ctx.beats_source == "detect" else "reference annotations",
            )
        )
    items = flatten(r.get("params") or {})
    if not items:
        return _wrap(kv_table(facts, columns=1), not_analysed("Parameters", "none recorded"))
    third = -(-len(items) // 3)
    cols = []
    for i in range(3):
        chunk = items[i * third : (i + 1) * third]
        cols.append(
            "<div>"
            + table(
                None,
                [[_breakable(k), esc(_param_value(v))] for k, v in chunk],
                numeric=[False, True],
                css_class="hl-params",
                raw=True,
            )
            + "</div>"
        )
    return _wrap(
        kv_table(facts, columns=1),
        heading("Analysis parameters", level=3),
        '<div class="hl-cols" style="font-size:7pt">' + "".join(cols) + "</div>",
    )
