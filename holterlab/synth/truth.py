"""Ground truth of a synthetic recording: annotations and the list of events.

* :class:`~holterlab.annotations.Annotations`: every beat at its R-peak sample with its MIT-BIH
  symbol (N A V F Q), and rhythm changes as ``+`` with aux ``(N``, ``(AFIB``, ``(AFL``,
  ``(VT``, ``(SVTA``, ``(IVR``, ``(B`` (bigeminy), ``(T`` (trigeminy), ``(SBR``.
* Events (a list of dictionaries, written as ``NAME.truth.json``): ``type``, ``start_s``,
  ``end_s`` and attributes. Types: rhythm episodes ``af afl vt svt ivr bigeminy trigeminy
  brady tachy`` (``beats``, ``rate_bpm``, ``aux``); ``pause`` (every RR at or above
  ``pause_threshold_s``; ``duration_s``, ``cause``: sinus_arrest, post_ectopic,
  episode_end, af, sinus); ``couplet``/``triplet`` (2/3 consecutive PVCs outside VT, IVR and
  bigeminy/trigeminy; ``beats``, ``focus``); ``st_depression``
  (``depth_mv``: the ST depression a reader measures at J+60 ms against the PR level in
  the plateau, in the most depressed ``lead``;
  ``depth_by_lead``; ``shift_by_lead``, the shift added to the beats; the span where that lead
  is depressed by at least 0.1 mV, listed only when it lasts at least 60 s — the 1 mm / 1 min
  rule — else the change is an ``st_change``); noise events ``noise`` (``level``: factor
  on muscle noise), ``motion`` (``amplitude_mv``), ``electrode_pop`` (``amplitude_mv``) and
  ``lead_off`` (flat signal), each with ``leads``.

Rhythm episodes cover ``[start_s, end_s)``: from the ``+`` annotation that opens them to the
one that closes them. Event times are seconds from the start of the recording.

Conventions (shared with :mod:`holterlab.rhythm`, what a cardiologist reading the strip would
annotate):

* Ventricular runs: 2 consecutive PVCs are a ``couplet``, 3 a ``triplet`` (never VT), 4 or
  more a run: ``vt`` at or above :data:`VT_BPM` (mean rate of the run), else ``ivr``. The
  planned VT episodes have at least 4 beats.
* Brady- and tachycardia are *sinus* rate episodes (AF, flutter and ectopic runs are reported
  as such, never also as tachycardia). The sinus rate ramps into and out of a planned
  episode, so the event covers only the part where the sinus rate, the mean of the
  :data:`RATE_AVERAGE_BEATS` RR intervals centred on a beat, is below :data:`BRADY_BPM`
  (above :data:`TACHY_BPM`); a planned episode in which that part lasts less than
  :data:`RATE_EPISODE_MIN_S` is not listed (not a reportable episode). ``planned_start_s``
  and ``planned_end_s`` keep the planned span; ``(SBR`` follows the event.
* Bigeminy (trigeminy) is also listed where random isolated PVCs happen to form it: at
  least :data:`GEMINY_MIN_PVCS` isolated PVCs each separated from the next by exactly one
  (two) N beats, outside planned episodes (``planned: false``); the event runs from the N
  beat(s) opening the first cycle to the last PVC.
* Pauses: every RR interval at or above ``pause_threshold_s``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from holterlab._atomic import atomic_write_text
from holterlab.annotations import Annotations
from holterlab.synth import episodes as E
from holterlab.synth.schedule import Schedule
from holterlab.synth.walk import SYM_A, SYM_N, SYM_V, SYMBOLS

__all__ = [
    "Truth",
    "build_truth",
    "TRUTH_FORMAT",
    "VT_BPM",
    "BRADY_BPM",
    "TACHY_BPM",
    "RATE_AVERAGE_BEATS",
    "RATE_EPISODE_MIN_S",
    "GEMINY_MIN_PVCS",
]


def _st_reader_level(sch: Schedule, t_s: float, n: int = 9) -> np.ndarray:
    """ST level per lead (mV) at J+60 ms against the PR level, median of the clean normal
    beats nearest ``t_s``. J is where the S wave ends (its centre + 2.5 sigma, about
    R + 53 ms); the PR level is the mean of R-100..R-80 ms."""
    from holterlab.synth.source import SynthSource

    fs = sch.fs
    normal = np.flatnonzero((sch.sym == SYM_N) & (sch.ep < 0))
    if normal.size == 0:
        return np.zeros(len(sch.leads))
    pick = normal[np.argsort(np.abs(sch.sample[normal] / fs - t_s))[:n]]
    src = SynthSource(sch, noise=False)
    from holterlab.synth.morphology import S

    j_s = float(sch.bank.offset[0, S] + 2.5 * sch.bank.sigma[0, S])
    j60, pr0, pr1 = round((j_s + 0.060) * fs), round(0.100 * fs), round(0.080 * fs)
    levels = []
    for i in pick:
        r = int(sch.sample[i])
        if r - pr0 < 0 or r + j60 + 1 > sch.n_samples:
            continue
        seg = src.render(r - pr0, r + j60 + 1)
        levels.append(seg[:, -1] - seg[:, : pr0 - pr1 + 1].mean(axis=1))
    return np.median(levels, axis=0) if levels else np.zeros(len(sch.leads))


#: The 1 mm / 1 min rule of ST episodes (the truth lists only changes that satisfy it).
ST_EPISODE_MV = 0.1
ST_EPISODE_S = 60.0

#: Ventricular runs (>= 4 beats) at or above this mean rate are VT, slower ones IVR.
VT_BPM = 100.0
#: Sinus bradycardia: sinus rate below this (bpm).
BRADY_BPM = 50.0
#: Sinus tachycardia: sinus rate above this (bpm).
TACHY_BPM = 100.0
#: RR intervals in the centred running sinus rate of brady/tachy events.
RATE_AVERAGE_BEATS = 8
#: Shortest brady/tachycardia event listed (s).
RATE_EPISODE_MIN_S = 60.0
#: Fewest PVCs of a bigeminy/trigeminy formed by random PVCs (outside planned episodes).
GEMINY_MIN_PVCS = 3

TRUTH_FORMAT = "holterlab-synth-truth"
TRUTH_VERSION = 1

_EPISODE_TYPES = {
    E.AF: "af",
    E.AFL: "afl",
    E.VT: "vt",
    E.SVT: "svt",
    E.IVR: "ivr",
    E.BIGEMINY: "bigeminy",
    E.TRIGEMINY: "trigeminy",
    E.BRADY: "brady",
    E.TACHY: "tachy",
}


@dataclass
class Truth:
    """Ground truth: annotations, events and the facts of the recording."""

    annotations: Annotations
    events: list[dict[str, Any]]
    meta: dict[str, Any] = field(default_factory=dict)

    def of_type(self, *types: str) -> list[dict[str, Any]]:
        """The events of the given types."""
        return [e for e in self.events if e["type"] in types]

    def counts(self) -> dict[str, int]:
        """Number of beats per MIT-BIH symbol."""
        sym = self.annotations.beats().symbol.astype(str)
        values, counts = np.unique(sym, return_counts=True)
        return {str(v): int(c) for v, c in zip(values, counts, strict=True)}

    def to_dict(self) -> dict[str, Any]:
        """JSON-able dictionary (what ``NAME.truth.json`` holds)."""
        return {
            "format": TRUTH_FORMAT,
            "version": TRUTH_VERSION,
            **self.meta,
            "counts": self.counts(),
            "events": self.events,
        }

    def write(self, path: str | os.PathLike[str]) -> Path:
        """Write the JSON file atomically; returns the path."""
        text = json.dumps(self.to_dict(), indent=1, allow_nan=False)
        atomic_write_text(path, text + "\n")
        return Path(path)

    @classmethod
    def read(cls, path: str | os.PathLike[str]) -> dict[str, Any]:
        """Load a ``.truth.json`` file as a dictionary."""
        return json.loads(Path(path).read_text(encoding="utf-8"))


def _r(x: float) -> float:
    return round(float(x), 4)


def _boundary(sample: np.ndarray, i: int, fs: float) -> int:
    """Sample of a rhythm change just before beat ``i`` (strictly after beat ``i - 1``)."""
    on = int(sample[i])
    if i == 0:
        return max(0, on - int(round(0.05 * fs)))
    prev = int(sample[i - 1])
    return on - min(int(round(0.05 * fs)), (on - prev) // 2)


def _rate_span(time: np.ndarray, b0: int, b1: int, kind: int) -> tuple[int, int] | None:
    """First and last beat of ``b0..b1`` whose centred running rate is beyond the brady
    (tachy) threshold, or None if that part is shorter than :data:`RATE_EPISODE_MIN_S`."""
    k = RATE_AVERAGE_BEATS
    i = np.arange(b0, b1 + 1)
    a, b = i - k // 2, i - k // 2 + k
    ok = (a >= 0) & (b < time.size)
    rate = np.full(i.size, np.nan)
    rate[ok] = 60.0 * k / (time[b[ok]] - time[a[ok]])
    beyond = rate < BRADY_BPM if kind == E.BRADY else rate > TACHY_BPM
    hit = np.flatnonzero(beyond)
    if hit.size == 0:
        return None
    first, last = b0 + int(hit[0]), b0 + int(hit[-1])
    if time[last] - time[first] < RATE_EPISODE_MIN_S:
        return None
    return first, last


def _geminy_chains(sym: np.ndarray, covered: np.ndarray, spacing: int) -> list[tuple[int, int]]:
    """First and last PVC of every chain of at least :data:`GEMINY_MIN_PVCS` isolated PVCs,
    each separated from the next by exactly ``spacing`` N beats, outside ``covered`` beats."""
    n = sym.size
    is_v = sym == SYM_V
    prev_v = np.concatenate([[False], is_v[:-1]])
    next_v = np.concatenate([is_v[1:], [False]])
    iso = np.flatnonzero(is_v & ~prev_v & ~next_v & ~covered)
    out = []
    k = 0
    while k < iso.size:
        j = k
        while (
            j + 1 < iso.size
            and iso[j + 1] - iso[j] == spacing + 1
            and np.all(sym[iso[j] + 1 : iso[j + 1]] == SYM_N)
            and not covered[iso[j] : iso[j + 1]].any()
        ):
            j += 1
        opener = iso[k] - spacing
        if (
            j - k + 1 >= GEMINY_MIN_PVCS
            and opener >= 0
            and np.all(sym[opener : iso[k]] == SYM_N)
            and not covered[opener : iso[k]].any()
            and iso[j] < n
        ):
            out.append((int(iso[k]), int(iso[j])))
        k = j + 1
    return out


def _leads(mask: int, names: list[str]) -> list[str]:
    return [n for i, n in enumerate(names) if mask >> i & 1]


def build_truth(sch: Schedule) -> Truth:
    """Derive annotations and events from a schedule."""
    fs = sch.fs
    sample = sch.sample
    n = sample.size
    time = sample / fs
    plan = sch.episodes
    events: list[dict[str, Any]] = []

    # ---------------------------------------------------------------- rhythm episodes
    rhythm_s: list[int] = [0]
    rhythm_aux: list[str] = ["(N"]
    for i in range(len(plan)):
        kind = int(plan.kind[i])
        b0, b1 = int(sch.ep_first[i]), int(sch.ep_last[i])
        if b0 < 0 or kind not in _EPISODE_TYPES:
            continue
        planned = None
        if kind in (E.BRADY, E.TACHY):
            span = _rate_span(time, b0, b1, kind)
            if span is None:
                continue
            planned = (_r(plan.start[i]), _r(plan.end[i]))
            b0, b1 = span
        on = _boundary(sample, b0, fs)
        off = _boundary(sample, b1 + 1, fs) if b1 + 1 < n else sch.n_samples
        nb = b1 - b0 + 1
        span = time[b1] - time[b0]
        rate = 60.0 * (nb - 1) / span if nb > 1 and span > 0 else 60.0 / max(sch.rr[b0], 1e-3)
        ev: dict[str, Any] = {
            "type": _EPISODE_TYPES[kind],
            "start_s": _r(on / fs),
            "end_s": _r(off / fs),
            "beats": nb,
            "rate_bpm": round(rate, 1),
        }
        aux = E.RHYTHM_AUX.get(kind)
        if aux:
            ev["aux"] = aux
            if on > rhythm_s[-1]:
                rhythm_s.append(on)
                rhythm_aux.append(aux)
            else:  # pragma: no cover - episodes are separated by sinus rhythm
                rhythm_aux[-1] = aux
            if off < sch.n_samples:
                rhythm_s.append(off)
                rhythm_aux.append("(N")
        if planned is not None:
            ev["planned_start_s"], ev["planned_end_s"] = planned
        if kind in (E.VT, E.IVR, E.BIGEMINY, E.TRIGEMINY):
            ev["focus"] = int(plan.p1[i])
        if kind == E.AFL:
            ev["flutter_rate_bpm"] = round(60.0 / float(plan.p2[i]), 1)
            ratio = float(plan.p1[i])
            ev["conduction"] = f"{ratio:.0f}:1" if ratio > 0 else "variable"
        if kind in (E.BIGEMINY, E.TRIGEMINY):
            ev["pvcs"] = int(np.sum(sch.sym[b0 : b1 + 1] == SYM_V))
        events.append(ev)

    # ---------------------------------------------------------------- pauses (every long RR)
    thr = sch.params.pause_threshold_s * fs - 1e-6  # in samples: RR >= threshold
    long_rr = np.flatnonzero(np.diff(sample) >= thr) + 1 if n > 1 else np.zeros(0, dtype=np.int64)
    for i in long_rr:
        i = int(i)
        cause = "sinus"
        e_now, e_prev = int(sch.ep[i]), int(sch.ep[i - 1])
        if e_now >= 0 and plan.kind[e_now] == E.PAUSE:
            cause = "sinus_arrest"
        elif sch.sym[i - 1] in (SYM_V, SYM_A):
            cause = "post_ectopic"
        elif e_prev >= 0 and e_prev != e_now and plan.kind[e_prev] in E.REPLACING:
            cause = "episode_end"
        elif e_now >= 0 and plan.kind[e_now] == E.AF:
            cause = "af"
        events.append(
            {
                "type": "pause",
                "start_s": _r(time[i - 1]),
                "end_s": _r(time[i]),
                "duration_s": _r(time[i] - time[i - 1]),
                "cause": cause,
            }
        )

    # ---------------------------------------------------------------- couplets, triplets
    in_run_episode = np.zeros(n, dtype=bool)
    for i in range(len(plan)):
        if plan.kind[i] in (E.VT, E.IVR, E.BIGEMINY, E.TRIGEMINY) and sch.ep_first[i] >= 0:
            in_run_episode[sch.ep_first[i] : sch.ep_last[i] + 1] = True
    free_v = (sch.sym == SYM_V) & ~in_run_episode
    if free_v.any():
        edges = np.diff(np.concatenate([[0], free_v.astype(np.int8), [0]]))
        starts = np.flatnonzero(edges == 1)
        stops = np.flatnonzero(edges == -1)
        for a, b in zip(starts, stops, strict=True):
            length = int(b - a)
            if length < 2:
                continue
            ev = {
                "type": {2: "couplet", 3: "triplet"}.get(length, "vt"),
                "start_s": _r(time[a]),
                "end_s": _r(time[b - 1]),
                "beats": length,
                "focus": int(sch.morph[a]),
            }
            if length >= 4:  # a run: VT or IVR by its mean rate
                rate = 60.0 * (length - 1) / (time[b - 1] - time[a])
                ev["type"] = "vt" if rate >= VT_BPM else "ivr"
                ev["rate_bpm"] = round(rate, 1)
            events.append(ev)

    # ------------------------------------------- bigeminy/trigeminy formed by random PVCs
    covered = np.zeros(n, dtype=bool)
    for i in range(len(plan)):
        if plan.kind[i] in E.REPLACING + (E.BIGEMINY, E.TRIGEMINY) and sch.ep_first[i] >= 0:
            covered[sch.ep_first[i] : sch.ep_last[i] + 1] = True
    for name, spacing in (("bigeminy", 1), ("trigeminy", 2)):
        for a, b in _geminy_chains(sch.sym, covered, spacing):
            opener = max(a - spacing, 0)
            events.append(
                {
                    "type": name,
                    "start_s": _r(time[opener]),
                    "end_s": _r(time[b]),
                    "beats": int(b - opener + 1),
                    "pvcs": int((b - a) // (spacing + 1) + 1),
                    "planned": False,
                }
            )

    # ---------------------------------------------------------------- ST episodes
    per_lead = sch.bank.st_per_lead(sch.leads)
    for s, e, depth in zip(
        sch.st_events.start, sch.st_events.end, sch.st_events.value, strict=True
    ):
        by_lead = {
            name: round(float(depth * w), 4) for name, w in zip(sch.leads, per_lead, strict=True)
        }
        # what a reader measures: the level at J+60 ms against the PR level, in the plateau;
        # the beat's own ST level (the T wave may start early) adds to the shift
        level = _st_reader_level(sch, 0.5 * (s + e))
        shift = np.asarray(depth * per_lead, dtype=np.float64)  # depression, positive
        base = level + shift  # the level without the ST shift
        reader = {name: round(float(-v), 4) for name, v in zip(sch.leads, level, strict=True)}
        lead = max(reader, key=lambda k: reader[k])
        k = sch.leads.index(lead)
        ramp = 0.25 * (e - s)
        # the 1 mm / 1 min rule: the stretch where the most depressed lead is at or below
        # -ST_EPISODE_MV (linear ramps: level = base - shift * frac), listed when it lasts at
        # least ST_EPISODE_S; shallower or shorter changes are 'st_change'
        frac = (ST_EPISODE_MV + base[k]) / shift[k] if shift[k] > 0 else np.inf
        if 0 <= frac <= 1:
            a, b = s + ramp * frac, e - ramp * frac
        else:
            a = b = 0.5 * (s + e)
        kind = "st_depression" if b - a >= ST_EPISODE_S else "st_change"
        events.append(
            {
                "type": kind,
                "start_s": _r(a if kind == "st_depression" else s),
                "end_s": _r(b if kind == "st_depression" else e),
                "depth_mv": reader[lead],
                "nominal_depth_mv": _r(depth),
                "lead": lead,
                "depth_by_lead": reader,
                "shift_by_lead": by_lead,
                "ramp_s": _r(ramp),
                "planned_start_s": _r(s),
                "planned_end_s": _r(e),
            }
        )

    # ---------------------------------------------------------------- noise events
    ne = sch.noise_events
    for i in range(len(ne)):
        kind = int(ne.kind[i])
        ev = {
            "type": E.NOISE_NAMES[kind],
            "start_s": _r(ne.start[i]),
            "end_s": _r(ne.end[i]),
            "leads": _leads(int(ne.lead_mask[i]), sch.leads),
        }
        if kind == E.NOISY:
            ev["level"] = round(float(ne.value[i]), 2)
        elif kind in (E.MOTION, E.POP):
            ev["amplitude_mv"] = round(abs(float(ne.value[i])), 3)
        events.append(ev)

    events.sort(key=lambda ev: (ev["start_s"], ev["type"]))

    # ---------------------------------------------------------------- annotations
    r_s = np.asarray(rhythm_s, dtype=np.int64)
    all_s = np.concatenate([r_s, sample])
    all_sym = np.concatenate(
        [np.full(r_s.size, "+", dtype=object), SYMBOLS[sch.sym].astype(object)]
    )
    all_aux = np.concatenate([np.asarray(rhythm_aux, dtype=object), np.full(n, "", dtype=object)])
    # rhythm changes first where they share a sample with a beat
    order = np.lexsort((np.concatenate([np.zeros(r_s.size), np.ones(n)]), all_s))
    ann = Annotations(all_s[order], all_sym[order], fs, all_aux[order])

    meta = {
        "seed": sch.seed,
        "fs": fs,
        "n_samples": sch.n_samples,
        "duration_s": _r(sch.duration),
        "leads": list(sch.leads),
        "start_hour": sch.params.start_hour,
        "params": sch.params.to_dict(),
    }
    return Truth(annotations=ann, events=events, meta=meta)
