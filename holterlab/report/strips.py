"""Which ECG strips a report shows, and the signal drawn in them.

:func:`key_strips` picks the key events of a result (fastest and slowest heart rate, longest
pause, longest and fastest ventricular run, fastest SVT, AF onset, deepest ST) and places a
strip of ``strip_s`` seconds around each; strips that would show the same stretch are merged.
:func:`strip_signal` reads a strip from the recording and removes the baseline with a line
through the PR level of each beat (the ST level is kept, unlike with a high-pass filter).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from holterlab.report.formatting import fmt, fmt_duration, fmt_unit

__all__ = ["StripSpec", "key_strips", "strip_signal", "strips_html", "STRIP_S"]

#: Default strip length: 7 s at 25 mm/s is 175 mm (183 mm with the calibration pulse),
#: which fits A4 and Letter.
STRIP_S = 7.0
#: An AF/flutter episode starting this close to the recording start was already there: its
#: strip is not called an onset.
AT_START_S = 5.0


@dataclass(frozen=True)
class StripSpec:
    """One strip: what it shows and where.

    ``start_s`` is the strip start (seconds from the recording start); ``marks`` are the
    spans (start, end) of the event(s) shown, highlighted on the strip; ``lead`` names the
    lead of a lead-specific event (ST), drawn first.
    """

    key: str
    title: str
    detail: str
    start_s: float
    duration_s: float = STRIP_S
    marks: tuple[tuple[float, float], ...] = ()
    lead: str | None = None
    keys: tuple[str, ...] = field(default=())


def _place(start: float, end: float, duration: float, total: float, *, lead_in: float) -> float:
    """Strip start showing [start, end]: centred if it fits, else from ``lead_in`` before it."""
    span = end - start
    t0 = start - (duration - span) / 2.0 if span <= duration - 2 * lead_in else start - lead_in
    return float(min(max(t0, 0.0), max(total - duration, 0.0)))


def _events(result: dict[str, Any], *types: str) -> list[dict[str, Any]]:
    return [e for e in result.get("events") or [] if e.get("type") in types]


def key_strips(result: dict[str, Any], *, strip_s: float = STRIP_S) -> list[StripSpec]:
    """The strips of the key events of ``result`` (a result JSON dict), in the order above."""
    rec = result.get("recording") or {}
    total = float(rec.get("duration_s") or 0.0)
    out: list[StripSpec] = []

    def add(key, title, detail, start, end, *, lead_in=1.0, lead=None):
        if start is None:
            return
        end = start if end is None else end
        t0 = _place(float(start), float(end), strip_s, total, lead_in=lead_in)
        out.append(
            StripSpec(key, title, detail, t0, strip_s, ((float(start), float(end)),), lead, (key,))
        )

    hr = result.get("heart_rate") or {}
    basis = hr.get("basis") or ""
    for key, title in (("max", "Fastest heart rate"), ("min", "Slowest heart rate")):
        point = hr.get(key) or {}
        if point.get("time_s") is not None:
            detail = fmt_unit(point.get("bpm"), "bpm") + (f" ({basis})" if basis else "")
            add(f"hr_{key}", title, detail, point["time_s"], point["time_s"], lead_in=3.0)

    pauses = result.get("pauses") or {}
    if pauses.get("longest_start_s") is not None and pauses.get("longest_s"):
        start = float(pauses["longest_start_s"])
        add(
            "pause",
            "Longest pause",
            f"{fmt(pauses['longest_s'], 'pause_s')} s",
            start,
            start + float(pauses["longest_s"]),
        )

    v = result.get("ventricular") or {}
    for key, title in (
        ("longest_run", "Longest ventricular run"),
        ("fastest_run", "Fastest ventricular run"),
    ):
        run = v.get(key)
        if run:
            detail = f"{fmt(run.get('n_beats'))} beats at {fmt_unit(run.get('rate_bpm'), 'bpm')}"
            add(f"v_{key}", title, detail, run.get("start_s"), run.get("end_s"))

    svt = sorted(_events(result, "svt"), key=lambda e: -(e.get("rate_bpm") or 0.0))
    if svt:
        e = svt[0]
        detail = f"{fmt(e.get('n_beats'))} beats at {fmt_unit(e.get('rate_bpm'), 'bpm')}"
        add("svt", "Fastest SVT", detail, e["start_s"], e["end_s"])

    af = _events(result, "af", "afl")
    if af:
        e = af[0]
        name = "AF" if e["type"] == "af" else "Atrial flutter"
        detail = f"episode of {fmt_duration(e.get('duration_s'))}"
        if float(e["start_s"]) <= AT_START_S:  # already there when the recording began
            title = f"{name} from the start of the recording"
        else:
            title = f"{name} onset"
        add("af_onset", title, detail, e["start_s"], e["start_s"], lead_in=3.5)

    st = result.get("st") or {}
    deep = [
        e
        for e in _events(result, "st_depression")
        if (e.get("detail") or {}).get("extreme_time_s") is not None
    ]
    window = float(st.get("window_s") or 30.0)
    if deep:
        e = min(deep, key=lambda e: e["detail"].get("extreme_mv") or 0.0)
        t = float(e["detail"]["extreme_time_s"]) + window / 2.0
        detail = f"{fmt_unit(e['detail'].get('extreme_mv'), 'mv')} in {e.get('lead')}"
        add("st", "Deepest ST depression", detail, t, t, lead_in=3.0, lead=e.get("lead"))
    elif st.get("leads"):
        leads = [(lead, d) for lead, d in st["leads"].items() if d.get("min_mv") is not None]
        if leads:
            lead, d = min(leads, key=lambda x: x[1]["min_mv"])
            if d["min_mv"] < 0 and d.get("min_time_s") is not None:
                t = float(d["min_time_s"]) + window / 2.0
                detail = f"{fmt_unit(d['min_mv'], 'mv')} in {lead} (no ST episode)"
                add("st", "Lowest ST level", detail, t, t, lead_in=3.0, lead=lead)
    return _merge(out)


def _merge(specs: list[StripSpec]) -> list[StripSpec]:
    """Merge strips that show nearly the same stretch (start within a quarter strip)."""
    merged: list[StripSpec] = []
    for s in specs:
        for i, m in enumerate(merged):
            if abs(m.start_s - s.start_s) <= m.duration_s / 4.0:
                if s.detail == m.detail or s.title in m.title:
                    title, detail = f"{m.title}; {s.title.lower()}", m.detail
                else:
                    title, detail = f"{m.title}; {s.title.lower()}", f"{m.detail}; {s.detail}"
                merged[i] = StripSpec(
                    m.key,
                    title,
                    detail,
                    m.start_s,
                    m.duration_s,
                    m.marks + s.marks,
                    m.lead or s.lead,
                    m.keys + s.keys,
                )
                break
        else:
            merged.append(s)
    return merged


def _pr_baseline(x: np.ndarray, fs: float, beats: np.ndarray) -> np.ndarray:
    """Baseline of ``x`` (leads, n): linear through the median level 60-100 ms before each beat."""
    n = x.shape[1]
    a, b = int(round(0.10 * fs)), int(round(0.06 * fs))
    knots = [int(s) - (a + b) // 2 for s in beats if s - a >= 0 and s - b < n]
    if len(knots) < 2:
        return np.median(x, axis=1, keepdims=True) * np.ones((1, n), dtype=x.dtype)
    out = np.empty_like(x)
    idx = np.arange(n)
    for lead in range(x.shape[0]):
        levels = [float(np.median(x[lead, k - (a - b) // 2 : k + (a - b) // 2 + 1])) for k in knots]
        out[lead] = np.interp(idx, knots, levels)
    return out


def strip_signal(
    recording: Any,
    start_s: float,
    duration_s: float,
    *,
    beat_samples: np.ndarray | None = None,
    leads: list[int] | None = None,
    lowpass_hz: float = 40.0,
) -> np.ndarray:
    """The strip's signal (mV, shape (leads, n)), baseline removed and low-passed.

    The baseline is a line through the PR level before each beat (with beats known) or the
    median of each lead; ``lowpass_hz`` removes muscle noise without touching the ST level.
    """
    from scipy.signal import butter, sosfiltfilt

    fs = recording.fs
    pad = int(round(1.5 * fs))
    i0 = int(round(start_s * fs))
    i1 = min(recording.n_samples, i0 + int(round(duration_s * fs)))
    a0, a1 = max(0, i0 - pad), min(recording.n_samples, i1 + pad)
    x = recording.get_samples(leads, a0, a1).astype(np.float64)
    x = np.nan_to_num(x)
    if lowpass_hz and lowpass_hz < fs / 2 * 0.9 and x.shape[1] > 30:
        sos = butter(2, lowpass_hz, btype="low", fs=fs, output="sos")
        x = sosfiltfilt(sos, x, axis=1)
    if beat_samples is not None and len(beat_samples):
        bs = np.asarray(beat_samples, dtype=np.int64)
        local = bs[(bs >= a0) & (bs < a1)] - a0
        x = x - _pr_baseline(x, fs, local)
    else:
        x = x - np.median(x, axis=1, keepdims=True)
    return x[:, i0 - a0 : i1 - a0].astype(np.float32)


def strips_html(ctx: Any, *, strip_s: float = STRIP_S, max_leads: int = 3) -> str:
    """The ECG strips of the key events as HTML (caption and figure each), or a note saying
    why there are none."""
    from holterlab.report import figures
    from holterlab.report.tables import esc, note

    result = ctx.result
    if ctx.recording is None:
        why = (
            "No ECG strips: this report was made from a result file without its recording. "
            "Give the recording too (recording_path, or --recording on the command line) to "
            "show strips of the key events."
        )
        return f'<div class="hl">{note(why)}</div>'
    specs = key_strips(result, strip_s=strip_s)
    if not specs:
        return f'<div class="hl">{note("No key events to show.")}</div>'
    rec = ctx.recording
    clock = ctx.clock
    samples, labels = ctx.beats()
    fs = rec.fs
    beat_t = samples / fs if samples.size else None
    parts = []
    if not ctx.has_beats:
        parts.append(note("The result holds no beat list: strips are shown without beat labels."))
    for spec in specs:
        lead_idx = list(range(rec.n_leads))
        if spec.lead in rec.leads:
            i = rec.leads.index(spec.lead)
            lead_idx = [i] + [k for k in lead_idx if k != i]
        lead_idx = lead_idx[:max_leads]
        x = strip_signal(rec, spec.start_s, spec.duration_s, beat_samples=samples, leads=lead_idx)
        in_strip = None
        if beat_t is not None:
            m = (beat_t >= spec.start_s) & (beat_t <= spec.start_s + spec.duration_s)
            in_strip = (beat_t[m], labels[m])
        fig = figures.ecg_strip(
            x,
            fs,
            spec.start_s,
            [rec.leads[k] for k in lead_idx],
            clock=clock,
            beat_times_s=None if in_strip is None else in_strip[0],
            beat_labels=None if in_strip is None else in_strip[1],
            marks=spec.marks,
        )
        caption = (
            f'<p class="hl-cap"><b>{esc(spec.title)}</b> — {esc(spec.detail)} · strip '
            f"{esc(clock.precise(spec.start_s))}–"
            f"{esc(clock.precise(spec.start_s + spec.duration_s))}"
            " · 25 mm/s, "
            "10 mm/mV</p>"
        )
        parts.append(
            f'<div class="hl-strip">{caption}{figures.to_html(fig, text_as_text=True)}</div>'
        )
    return '<div class="hl">' + "".join(parts) + "</div>"
