"""Ventricular and supraventricular ectopy from the AAMI beat labels.

Definitions (:class:`holterlab.params.rhythm.EctopyParams`)
-----------------------------------------------------------
* Consecutive beats of one class (V or S) within an analysable segment (excluded time
  breaks them) are counted by length: 1 = isolated ectopic beat, 2 = couplet, 3 = triplet,
  ``run_min_beats`` (default 4) or more = a run. One convention is used here and in the
  holterlab.synth truth: a triplet is a triplet (``v_triplet`` / ``s_triplet`` event), never
  also VT; runs of >= 4 beats are VT/IVR (SVT/s_run). ``run_min_beats=3`` gives the MIT-BIH /
  EC57 convention (every run of >= 3 is a run; triplets are still counted in ``triplets``).
* Fusion beats (F) inside a sequence of V and F beats holding at least two V beats count as
  beats of that ventricular run (``fusion_in_runs``, default on): idioventricular rhythm
  often starts, ends or alternates with fusion beats. Runs of one V beat and F beats are
  not runs (the V beat is isolated).
* Runs are classified by their rate, ``60 * (n - 1) / (t_last - t_first)`` (the mean of the
  RR intervals inside the run): V runs at or above ``vt_rate_bpm`` are ``vt``, slower V runs
  ``ivr``; S runs at or above ``svt_rate_bpm`` are ``svt``, slower S runs ``s_run``.
* Bigeminy: at least ``bigeminy_min_cycles`` isolated ectopic beats, each separated from the
  next by exactly one N beat (N V N V N V); trigeminy: by exactly two N beats
  (N N V N N V N N V). An episode runs from the N beat(s) opening the first cycle to the last
  ectopic beat. Its ectopic beats are also counted as isolated.
* Burden: ectopic beats as a percentage of all analysed beats.
* AF precedence: S beats inside AF/flutter episodes are treated as conducted AF beats (N):
  they are not counted as S ectopy, S runs or S bigeminy, and they may separate V beats in
  V bigeminy/trigeminy. V beats inside AF stay ventricular ectopy.
"""

from __future__ import annotations

import numpy as np

from holterlab.events import Event
from holterlab.params.rhythm import EctopyParams
from holterlab.rhythm._input import CODE, BeatSeries
from holterlab.rhythm.result import EctopySummary, RunSummary
from holterlab.rhythm.runs import geminy_chains, runs_of

__all__ = ["af_precedence", "analyze_ectopy", "effective_codes"]


def effective_codes(
    series: BeatSeries,
    af_spans: list[tuple[float, float]] | None = None,
    onset_s: float = 0.0,
) -> np.ndarray:
    """Label codes with S beats inside AF/flutter spans, or less than ``onset_s`` before one
    starts, or in an unbroken run of S beats ending it, turned into N (AF precedence)."""
    code = series.code.copy()
    if af_spans:
        is_s = code == CODE["S"]
        code[_af_s_beats(series.t, is_s, af_spans, onset_s)] = CODE["N"]
    return code


def _af_s_beats(
    t: np.ndarray, is_s: np.ndarray, spans: list[tuple[float, float]], onset_s: float
) -> np.ndarray:
    """S beats that belong to AF/flutter spans (see :func:`af_precedence`)."""
    out = np.zeros(t.size, dtype=bool)
    for a, b in spans:
        i0 = np.searchsorted(t, a - onset_s, side="left")
        i1 = np.searchsorted(t, b, side="right")
        # S beats right after the detected end, up to onset_s, are its ending (the atrial
        # windows place the end to within a few seconds)
        stop = np.searchsorted(t, b + onset_s, side="right")
        while i1 < stop and is_s[i1]:
            i1 += 1
        out[i0:i1] = is_s[i0:i1]
    return out


def af_precedence(
    t: np.ndarray, labels: np.ndarray, events: list[Event], onset_s: float = 0.0
) -> np.ndarray:
    """S beats that AF precedence makes N (bool per beat), for labels outside a BeatSeries.

    The same rule as :func:`effective_codes`: an S beat inside an ``af`` or ``afl`` episode of
    ``events``, less than ``onset_s`` before one starts, or in an unbroken run of S beats
    continuing it for up to ``onset_s`` after its detected end, is a conducted beat of that
    rhythm (AAMI counts beats in atrial fibrillation and flutter as N; a regular 2:1 flutter
    looks like a supraventricular run beat by beat).

    Parameters
    ----------
    t
        Beat times (s), increasing.
    labels
        One AAMI label per beat.
    events
        Episodes; only ``af`` and ``afl`` are used.
    onset_s
        S beats this long before an episode starts belong to its onset.
    """
    t = np.asarray(t, dtype=np.float64)
    is_s = np.asarray(labels).astype(str) == "S"
    spans = [(e.start_s, e.end_s) for e in events if e.type in ("af", "afl")]
    return _af_s_beats(t, is_s, spans, onset_s)


def _class_ectopy(
    series: BeatSeries, code: np.ndarray, label: str, p: EctopyParams
) -> tuple[EctopySummary, list[Event]]:
    t, seg = series.t, series.seg
    target = CODE[label]
    low = label.lower()
    fast_rate = p.vt_rate_bpm if label == "V" else p.svt_rate_bpm
    fast_type, slow_type = ("vt", "ivr") if label == "V" else ("svt", "s_run")
    first, last = runs_of(code == target, seg)
    if label == "V" and p.fusion_in_runs:
        # fusion beats are partly ventricular: inside a run of V and F beats holding at least
        # two V beats they belong to the run (AIVR often starts and ends with fusion beats)
        is_v = code == target
        ff, fl = runs_of(is_v | (code == CODE["F"]), seg)
        cv = np.concatenate([[0], np.cumsum(is_v)])
        multi_v = (cv[fl + 1] - cv[ff]) >= 2
        # V beats outside such runs keep their own (V-only) runs
        inside = np.zeros(code.size + 1, dtype=np.int64)
        np.add.at(inside, ff[multi_v], 1)
        np.add.at(inside, fl[multi_v] + 1, -1)
        covered = np.cumsum(inside)[:-1] > 0
        keep = ~covered[first]
        first = np.sort(np.concatenate([first[keep], ff[multi_v]]))
        last = np.sort(np.concatenate([last[keep], fl[multi_v]]))
    length = last - first + 1
    events: list[Event] = []
    span = t[last] - t[first]
    with np.errstate(divide="ignore", invalid="ignore"):
        rate = np.where(length > 1, 60.0 * (length - 1) / np.where(span > 0, span, np.nan), np.nan)
    is_run = length >= p.run_min_beats
    fast = is_run & (rate >= fast_rate)
    multi = length >= 2
    for a, b, n, r, run, f in zip(
        first[multi].tolist(),
        last[multi].tolist(),
        length[multi].tolist(),
        rate[multi].tolist(),
        is_run[multi].tolist(),
        fast[multi].tolist(),
        strict=True,
    ):
        if run:
            kind = fast_type if f else slow_type
        elif n == 2:
            kind = f"{low}_couplet"
        else:
            kind = f"{low}_triplet"
        events.append(
            Event(
                kind,
                float(t[a]),
                float(t[b]),
                rate_bpm=None if np.isnan(r) else float(r),
                n_beats=int(n),
            )
        )
    geminy = {}
    for name, spacing, min_cycles in (
        ("bigeminy", 1, p.bigeminy_min_cycles),
        ("trigeminy", 2, p.trigeminy_min_cycles),
    ):
        cf, cl = geminy_chains(code, seg, target, spacing, normal=CODE["N"])
        cycles = (cl - cf) // (spacing + 1) + 1
        keep = cycles >= min_cycles
        total = 0.0
        count = 0
        for a, b, c in zip(
            cf[keep].tolist(), cl[keep].tolist(), cycles[keep].tolist(), strict=True
        ):
            opener = a - spacing
            if opener < 0 or seg[opener] != seg[a] or code[opener] != CODE["N"]:
                opener = a
            start, end = float(t[opener]), float(t[b])
            n_beats = b - opener + 1
            events.append(
                Event(
                    f"{low}_{name}",
                    start,
                    end,
                    rate_bpm=60.0 * (n_beats - 1) / (end - start) if end > start else None,
                    n_beats=int(n_beats),
                    detail={"cycles": int(c)},
                )
            )
            total += end - start
            count += 1
        geminy[name] = (count, total)
    runs_idx = np.flatnonzero(is_run)

    def _summary(k: int | None) -> RunSummary | None:
        if k is None:
            return None
        return RunSummary(
            n_beats=int(length[k]),
            rate_bpm=None if np.isnan(rate[k]) else float(rate[k]),
            start_s=float(t[first[k]]),
            end_s=float(t[last[k]]),
        )

    longest = fastest = None
    if runs_idx.size:
        # longest: most beats, then the faster; fastest: highest rate, then the longer
        longest = int(runs_idx[np.lexsort((-np.nan_to_num(rate[runs_idx]), -length[runs_idx]))[0]])
        fastest = int(runs_idx[np.lexsort((-length[runs_idx], -np.nan_to_num(rate[runs_idx])))[0]])
    total = int(np.count_nonzero(code == target))
    summary = EctopySummary(
        kind="ventricular" if label == "V" else "supraventricular",
        total=total,
        isolated=int(np.count_nonzero(length == 1)),
        couplets=int(np.count_nonzero(length == 2)),
        triplets=int(np.count_nonzero(length == 3)),
        runs=int(runs_idx.size),
        fast_runs=int(np.count_nonzero(fast)),
        slow_runs=int(runs_idx.size - np.count_nonzero(fast)),
        bigeminy_episodes=geminy["bigeminy"][0],
        bigeminy_s=geminy["bigeminy"][1],
        trigeminy_episodes=geminy["trigeminy"][0],
        trigeminy_s=geminy["trigeminy"][1],
        burden_pct=100.0 * total / series.n if series.n else None,
        longest_run=_summary(longest),
        fastest_run=_summary(fastest),
    )
    return summary, events


def analyze_ectopy(
    series: BeatSeries,
    params: EctopyParams | None = None,
    af_spans: list[tuple[float, float]] | None = None,
) -> tuple[EctopySummary, EctopySummary, list[Event]]:
    """Ventricular and supraventricular summaries and their events (see module docstring)."""
    p = params or EctopyParams()
    code = effective_codes(series, af_spans, p.af_onset_s)
    v, v_events = _class_ectopy(series, code, "V", p)
    s, s_events = _class_ectopy(series, code, "S", p)
    events = sorted(v_events + s_events, key=lambda e: e.start_s)
    return v, s, events
