"""The findings list of a report, written from the result alone.

Each finding is one sentence stating what the analysis measured, with the numbers formatted
by :func:`holterlab.report.formatting.fmt` and the thresholds that were used. The list
describes; it does not diagnose. A physician reviews the report.
"""

from __future__ import annotations

from typing import Any

from holterlab.report.formatting import Clock, fmt, fmt_duration, fmt_unit

__all__ = [
    "findings",
    "REVIEW_NOTE",
    "MIN_NN_COVERAGE_PCT",
    "hrv_reliable",
    "hrv_warning",
    "qtc_formula",
]

#: Closing remark of every findings list.
REVIEW_NOTE = "Automated analysis: to be reviewed and confirmed by a physician."
#: Below this share of beats in NN intervals (AF, frequent ectopy, noise) HRV describes
#: too little sinus rhythm to be interpreted: the report says so instead of quoting it.
MIN_NN_COVERAGE_PCT = 50.0


def hrv_reliable(hrv: dict[str, Any] | None) -> bool:
    """False when too few beats are in NN intervals (:data:`MIN_NN_COVERAGE_PCT`) for HRV."""
    cov = (hrv or {}).get("nn_coverage_pct")
    return cov is None or float(cov) >= MIN_NN_COVERAGE_PCT


def hrv_warning(hrv: dict[str, Any], *, values: str = "the values below") -> str:
    """The sentence saying why HRV is not interpretable (see :func:`hrv_reliable`)."""
    return (
        f"HRV not interpretable: only {fmt(hrv.get('n_nn'))} NN intervals "
        f"({fmt_unit(hrv.get('nn_coverage_pct'), 'pct')} of beats, less than "
        f"{fmt(MIN_NN_COVERAGE_PCT, digits=0)}%), e.g. in atrial fibrillation or frequent "
        f"ectopy; {values} do not describe sinus-rhythm variability."
    )


def qtc_formula(qt: dict[str, Any] | None) -> str:
    """The QTc formula of the QT section as a name: ``"Bazett"``, ``"Fridericia"``, ..."""
    name = str((qt or {}).get("formula") or "bazett")
    return name[:1].upper() + name[1:]


def _param(result: dict[str, Any], *path: str, default: Any = None) -> Any:
    node: Any = result.get("params") or {}
    for key in path:
        if not isinstance(node, dict) or key not in node:
            return default
        node = node[key]
    return node


def _events(result: dict[str, Any], *types: str) -> list[dict[str, Any]]:
    return [e for e in result.get("events") or [] if e.get("type") in types]


def _plural(n: int, word: str, plural: str | None = None) -> str:
    return f"{fmt(n)} {word if n == 1 else (plural or word + 's')}"


def _ectopy(result: dict[str, Any], key: str, clock: Clock) -> str | None:
    sec = result.get(key)
    if sec is None:
        return None
    letter = "V" if key == "ventricular" else "S"
    name = "Ventricular" if key == "ventricular" else "Supraventricular"
    total = int(sec.get("total") or 0)
    if total == 0:
        return f"No {name.lower()} ectopic beats."
    parts = [
        f"{name} ectopy: {_plural(total, 'beat')} ({letter}), burden "
        f"{fmt_unit(sec.get('burden_pct'), 'burden_pct')}"
    ]
    extras = []
    if sec.get("isolated"):
        extras.append(f"{fmt(sec['isolated'])} isolated")
    if sec.get("couplets"):
        extras.append(_plural(int(sec["couplets"]), "couplet"))
    if sec.get("triplets"):
        extras.append(_plural(int(sec["triplets"]), "triplet"))
    run_min = _param(result, "rhythm", "ectopy", "run_min_beats", default=3)
    if sec.get("runs"):
        fast = "VT" if letter == "V" else "SVT"
        rate = _param(
            result, "rhythm", "ectopy", "vt_rate_bpm" if letter == "V" else "svt_rate_bpm"
        )
        runs = f"{_plural(int(sec['runs']), 'run')} of ≥ {run_min} beats"
        if sec.get("fast_runs") is not None:
            runs += f" ({fmt(sec['fast_runs'])} {fast}"
            runs += f" ≥ {fmt(rate, 'rate_bpm')} bpm)" if rate is not None else ")"
        extras.append(runs)
    for field, word in (("bigeminy_episodes", "bigeminy"), ("trigeminy_episodes", "trigeminy")):
        if sec.get(field):
            secs = sec.get(field.replace("_episodes", "_s"))
            extras.append(f"{word} {_plural(int(sec[field]), 'episode')} ({fmt_duration(secs)})")
    text = parts[0]
    if extras:
        text += "; " + ", ".join(extras)
    fastest = sec.get("fastest_run")
    longest = sec.get("longest_run")
    if fastest:
        text += (
            f". Fastest run {fmt(fastest.get('n_beats'))} beats at "
            f"{fmt_unit(fastest.get('rate_bpm'), 'rate_bpm')} ({clock(fastest.get('start_s'))})"
        )
    if longest and longest != fastest:
        text += (
            f"; longest run {fmt(longest.get('n_beats'))} beats at "
            f"{fmt_unit(longest.get('rate_bpm'), 'rate_bpm')} ({clock(longest.get('start_s'))})"
        )
    return text + "."


def findings(result: dict[str, Any]) -> list[str]:
    """Sentences summarising ``result`` (a result JSON dict), most important first.

    Sections that were not analysed are said so; the last item is :data:`REVIEW_NOTE`.
    """
    clock = Clock.from_result(result)
    out: list[str] = []
    rec = result.get("recording") or {}
    hr = result.get("heart_rate") or {}

    duration, analysable = rec.get("duration_s"), rec.get("analysable_s")
    if duration:
        text = f"Recording of {fmt_duration(duration)}, {fmt_duration(analysable)} analysable"
        if rec.get("noise_pct"):
            text += f" ({fmt_unit(rec['noise_pct'], 'noise_pct')} noise or artefact)"
        if rec.get("noisy_pct"):
            text += (
                f"; {fmt_unit(rec['noisy_pct'], 'noise_pct')} was analysed with every usable "
                "lead noisy"
            )
        out.append(text + ".")

    lo, hi = hr.get("min") or {}, hr.get("max") or {}
    if hr.get("mean_bpm") is not None:
        out.append(
            f"Mean heart rate {fmt_unit(hr['mean_bpm'], 'mean_bpm')}; minimum "
            f"{fmt_unit(lo.get('bpm'), 'bpm')} at {clock(lo.get('time_s'))}, maximum "
            f"{fmt_unit(hi.get('bpm'), 'bpm')} at {clock(hi.get('time_s'))}"
            + (f" ({hr['basis']})" if hr.get("basis") else "")
            + "."
        )
        smax = hr.get("sinus_max") or {}
        if (
            smax.get("bpm") is not None
            and hi.get("bpm") is not None
            and hi["bpm"] - smax["bpm"] >= 0.5
        ):
            out.append(
                f"The maximum rate is not sinus (AF, flutter or an ectopic run); the fastest "
                f"sinus rate was {fmt_unit(smax['bpm'], 'bpm')} at {clock(smax.get('time_s'))}."
            )
    for kind, word, key in (
        ("brady", "Bradycardia", "brady_bpm"),
        ("tachy", "Tachycardia", "tachy_bpm"),
    ):
        evs = _events(result, kind)
        thr = _param(result, "rhythm", "rate", key)
        rel = "below" if kind == "brady" else "above"
        if evs:
            longest = max(evs, key=lambda e: e.get("duration_s") or 0.0)
            out.append(
                f"{word} ({rel} {fmt(thr, key)} bpm): {_plural(len(evs), 'episode')}, "
                f"{fmt_duration(sum(e.get('duration_s') or 0.0 for e in evs))} in total; longest "
                f"{fmt_duration(longest.get('duration_s'))} from {clock(longest.get('start_s'))}."
            )

    af = result.get("af")
    if af is None:
        out.append("Atrial fibrillation: not analysed.")
    elif af.get("episodes") or af.get("afl_episodes"):
        parts = []
        if af.get("episodes"):
            parts.append(
                f"atrial fibrillation: {_plural(int(af['episodes']), 'episode')}, "
                f"{fmt_duration(af.get('total_s'))} in total, longest "
                f"{fmt_duration(af.get('longest_s'))}"
            )
        if af.get("afl_episodes"):
            parts.append(
                f"atrial flutter: {_plural(int(af['afl_episodes']), 'episode')}, "
                f"{fmt_duration(af.get('afl_s'))} in total"
            )
        text = "; ".join(parts)
        text = f"{text[0].upper()}{text[1:]}; AF/flutter burden "
        text += fmt_unit(af.get("burden_pct"), "burden_pct")
        if af.get("mean_rate_bpm") is not None:
            text += f", mean ventricular rate {fmt_unit(af['mean_rate_bpm'], 'mean_rate_bpm')}"
        out.append(text + ".")
    else:
        out.append("No atrial fibrillation or flutter detected.")

    for key in ("ventricular", "supraventricular"):
        text = _ectopy(result, key, clock)
        out.append(text if text is not None else f"{key.capitalize()} ectopy: not analysed.")

    pauses = result.get("pauses")
    if pauses is None:
        out.append("Pauses: not analysed.")
    else:
        thr = pauses.get("threshold_s")
        n = int(pauses.get("count") or 0)
        if n:
            text = (
                f"{_plural(n, 'pause')} of ≥ {fmt(thr, 'pause_s')} s; longest "
                f"{fmt(pauses.get('longest_s'), 'pause_s')} s at "
                f"{clock(pauses.get('longest_start_s'))}"
            )
            if pauses.get("sinus_arrests"):
                text += f" ({_plural(int(pauses['sinus_arrests']), 'sinus arrest')})"
            out.append(text + ".")
        else:
            out.append(f"No pauses of ≥ {fmt(thr, 'pause_s')} s.")
    quiet = [
        e for e in _events(result, "noise") if (e.get("detail") or {}).get("possible_asystole")
    ]
    if quiet:
        longest = max(quiet, key=lambda e: (e.get("detail") or {}).get("rr_s") or 0.0)
        out.append(
            f"{_plural(len(quiet), 'stretch', 'stretches')} without ECG between beats (possible "
            f"asystole, excluded from analysis; review the signal): longest RR "
            f"{fmt((longest.get('detail') or {}).get('rr_s'), 'pause_s')} s at "
            f"{clock(longest.get('start_s'))}."
        )

    hrv = result.get("hrv")
    if hrv is None:
        out.append("Heart-rate variability: not analysed.")
    elif not hrv_reliable(hrv):
        out.append(hrv_warning(hrv, values="its values"))
    else:
        text = (
            f"HRV: SDNN {fmt_unit(hrv.get('sdnn_ms'), 'sdnn_ms')}, SDANN "
            f"{fmt_unit(hrv.get('sdann_ms'), 'sdann_ms')}, RMSSD "
            f"{fmt_unit(hrv.get('rmssd_ms'), 'rmssd_ms')}, pNN50 "
            f"{fmt_unit(hrv.get('pnn50_pct'), 'pnn50_pct')}"
        )
        long_enough = float(duration or 0.0) >= 18 * 3600
        if long_enough and hrv.get("sdnn_ms") is not None and hrv["sdnn_ms"] < 50:
            text += " (SDNN below 50 ms over ≥ 18 h: markedly reduced variability)"
        out.append(text + ".")

    st = result.get("st")
    if st is None:
        out.append("ST segment: not analysed.")
    else:
        eps = st.get("episodes") or []
        thr = _param(result, "st_qt", "episode_threshold_mv", default=0.1)
        min_s = _param(result, "st_qt", "episode_min_s", default=60.0)
        if eps:
            dep = [e for e in eps if e.get("type") == "st_depression"]
            ele = [e for e in eps if e.get("type") == "st_elevation"]
            parts = []
            if dep:
                deepest = min(dep, key=lambda e: (e.get("detail") or {}).get("extreme_mv") or 0.0)
                d = deepest.get("detail") or {}
                parts.append(
                    f"{_plural(len(dep), 'ST depression episode')} (deepest "
                    f"{fmt_unit(d.get('extreme_mv'), 'extreme_mv')} in {deepest.get('lead')} at "
                    f"{clock(d.get('extreme_time_s'))})"
                )
            if ele:
                top = max(ele, key=lambda e: (e.get("detail") or {}).get("extreme_mv") or 0.0)
                d = top.get("detail") or {}
                parts.append(
                    f"{_plural(len(ele), 'ST elevation episode')} (highest "
                    f"{fmt_unit(d.get('extreme_mv'), 'extreme_mv')} in {top.get('lead')} at "
                    f"{clock(d.get('extreme_time_s'))})"
                )
            out.append(
                "ST: "
                + "; ".join(parts)
                + f" by the {fmt(thr, 'threshold_mv')} mV / {fmt(min_s, digits=0)} s rule."
            )
        else:
            out.append(
                f"No ST episodes (deviation ≥ {fmt(thr, 'threshold_mv')} mV for ≥ "
                f"{fmt(min_s, digits=0)} s)."
            )

    qt = result.get("qt")
    if qt is None:
        out.append("QT interval: not analysed.")
    elif qt.get("mean_qtc_ms") is not None:
        text = (
            f"QTc ({qtc_formula(qt)}) mean "
            f"{fmt_unit(qt['mean_qtc_ms'], 'mean_qtc_ms')}, "
            f"maximum {fmt_unit(qt.get('max_qtc_ms'), 'max_qtc_ms')} at "
            f"{clock(qt.get('max_qtc_time_s'))}"
        )
        if (qt.get("max_qtc_ms") or 0) >= 500:
            text += " (QTc of 500 ms or more)"
        out.append(text + ".")
    else:
        out.append("QT interval: no window could be measured.")

    out.append(REVIEW_NOTE)
    return out
