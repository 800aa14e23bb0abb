"""Rhythm stage benchmark: AF detection (EC57 episode and duration measures) and speed.

Prints figures, asserts nothing:

1. AF on MIT-BIH DS1 from the reference beats (AAMI labels), scored against the ``(AFIB``
   rhythm annotations with ``(AFL`` excluded from +P (as epicmp does), for the AF events and
   for the rhythm annotations written by ``rhythm_annotations`` (VT interrupts AF there), with
   and without the 5-minute EC57 learning period;
2. AF and the other event types on holterlab.synth recordings (truth beats), scored against
   the synthesiser's truth;
3. the time of ``analyze_rhythm`` on 7 days (~700,000 beats).

Run: ``.venv/bin/python benchmarks/rhythm.py``
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

from holterlab.annotations import read_annotations
from holterlab.evaluate.episodes import episodes_from_rhythm, evaluate_episodes
from holterlab.params.rhythm import RhythmParams
from holterlab.rhythm import analyze_rhythm, rhythm_annotations

REPO = Path(__file__).resolve().parents[1]
MITDB = REPO.parent / "shared" / "data" / "mitdb"
DS1 = [101, 106, 108, 109, 112, 114, 115, 116, 118, 119, 122, 124, 201, 203, 205, 207, 208,
       209, 215, 220, 223, 230]  # fmt: skip


def _fmt(g: dict) -> str:
    def pct(x):
        return "  -  " if x is None else f"{100 * x:5.1f}"

    return (
        f"episodes Se {pct(g['episode_se'])} +P {pct(g['episode_pp'])}  "
        f"duration Se {pct(g['duration_se'])} +P {pct(g['duration_pp'])}  "
        f"(ref {g['ref_tp'] + g['fn']}, test {g['test_tp'] + g['fp']})"
    )


def mitbih_af() -> None:
    print("== AF on MIT-BIH DS1 (reference beats, AAMI labels; ref (AFIB, (AFL excluded)")
    if not MITDB.is_dir():
        print(f"   {MITDB} not found; skipped")
        return
    ev_pairs, ann_pairs, excl, ends = {}, {}, {}, {}
    for rec in DS1:
        ann = read_annotations(MITDB / f"{rec}.atr")
        beats = ann.beats()
        end = float(ann.sample[-1] / ann.fs)
        r = analyze_rhythm(beats.sample, beats.aami(), ann.fs, duration_s=end + 0.5)
        ref = episodes_from_rhythm(ann, "(AFIB", end)
        name = str(rec)
        excl[name] = episodes_from_rhythm(ann, "(AFL", end)
        ends[name] = end
        ev_pairs[name] = (ref, [(e.start_s, e.end_s) for e in r.events_of("af", "afl")])
        hlab = rhythm_annotations(r, ann.fs)
        ann_pairs[name] = (ref, episodes_from_rhythm(hlab, "(AFIB", end))
    for learning in (0.0, 300.0):
        for label, pairs in (("events     ", ev_pairs), ("annotations", ann_pairs)):
            rep = evaluate_episodes(pairs, learning_s=learning, exclude=excl, end_s=ends)
            g = rep.gross
            rep30 = evaluate_episodes(
                pairs, learning_s=learning, exclude=excl, end_s=ends, min_duration_s=30.0
            )
            g30 = rep30.gross
            print(
                f"   learning {learning:3.0f} s  {label}: {_fmt(g)}\n"
                f"{'':35s}episodes >= 30 s: Se {100 * g30['episode_se']:5.1f} "
                f"+P {100 * g30['episode_pp']:5.1f} (ref {g30['ref_tp'] + g30['fn']}, "
                f"test {g30['test_tp'] + g30['fp']})"
            )
    rep = evaluate_episodes(ev_pairs, learning_s=0.0, exclude=excl, end_s=ends)
    for name, c in rep.records.items():
        if c.ref_tp + c.fn or c.test_tp + c.fp:
            print(f"   record {name}: {_fmt(c.to_dict())}")


def synth_truth(hours: float = 12.0, seeds=(1, 2)) -> None:
    from holterlab.synth import SynthParams, build_schedule, build_truth

    print(f"== holterlab.synth showcase, {hours:g} h x {len(seeds)} seeds, truth beats")
    print("   (default params: one event convention on both sides; AFL excluded from AF +P)")
    params = RhythmParams()
    kinds = {
        "af": ["af"],
        "vt": ["vt"],
        "ivr": ["ivr"],
        "svt": ["svt"],
        "bigeminy": ["v_bigeminy"],
        "trigeminy": ["v_trigeminy"],
        "couplet": ["v_couplet"],
        "triplet": ["v_triplet"],
        "pause": ["pause"],
        "brady": ["brady"],
        "tachy": ["tachy"],
    }
    pairs: dict[str, dict] = {k: {} for k in [*kinds, "af+afl"]}
    excl = {}
    for seed in seeds:
        sch = build_schedule(hours=hours, seed=seed, params=SynthParams.showcase())
        truth = build_truth(sch)
        b = truth.annotations.beats()
        r = analyze_rhythm(b.sample, b.aami(), b.fs, duration_s=sch.n_samples / b.fs, params=params)
        excl[str(seed)] = [(e["start_s"], e["end_s"]) for e in truth.of_type("afl")]
        for kind, ours in kinds.items():
            ref = [(e["start_s"], e["end_s"]) for e in truth.of_type(kind)]
            pairs[kind][str(seed)] = (ref, [(e.start_s, e.end_s) for e in r.events_of(*ours)])
        # flutter with variable conduction is irregular: RR-based AF reports it as AF
        ref = [(e["start_s"], e["end_s"]) for e in truth.of_type("af", "afl")]
        pairs["af+afl"][str(seed)] = (ref, pairs["af"][str(seed)][1])
    for kind in [*kinds, "af+afl"]:
        rep = evaluate_episodes(pairs[kind], learning_s=0.0, exclude=excl if kind == "af" else None)
        print(f"   {kind:10s} {_fmt(rep.gross)}")
    print("   (af+afl: AF events against truth AF and flutter together, for +P)")
    print("   (no atrial activity here: flutter with variable conduction reads as AF, 2:1")
    print("    flutter as tachycardia; tests/rhythm/test_synth_truth.py gives the hook a perfect")
    print("    AtrialActivity and checks every type >= 95/95)")


def seven_days_speed() -> None:
    print("== speed: analyze_rhythm on 7 days")
    rng = np.random.default_rng(0)
    n = 700_000
    # sinus RR with slow drift and respiratory modulation, AF blocks, 3 % PVCs, 1 % PACs
    k = np.arange(n)
    rr = 0.85 + 0.08 * np.sin(2 * np.pi * k / 80_000) + 0.03 * np.sin(2 * np.pi * k / 4.5)
    rr = rr * (1 + 0.01 * rng.standard_normal(n))
    for start in rng.integers(0, n - 5000, 40):
        length = int(rng.integers(100, 5000))
        rr[start : start + length] = rng.gamma(25, 0.7 / 25, length)
    labels = np.full(n, "N")
    labels[rng.random(n) < 0.03] = "V"
    labels[rng.random(n) < 0.01] = "S"
    t = np.cumsum(rr)
    beats = np.round(t * 250).astype(np.int64)
    excluded = [(h * 3600.0 + 100, h * 3600.0 + 160) for h in range(0, 168, 2)]
    import datetime as dt

    start = dt.datetime(2024, 1, 1, 9, 30)
    analyze_rhythm(beats[:5000], labels[:5000], 250.0)  # numba compile/cache load
    times = []
    for _ in range(3):
        t0, c0 = time.perf_counter(), time.process_time()
        r = analyze_rhythm(beats, labels, 250.0, excluded=excluded, start_time=start)
        t1, c1 = time.perf_counter(), time.process_time()
        r.to_dict()
        times.append((t1 - t0, c1 - c0, time.perf_counter() - t1))
    wall, cpu, to_dict = min(times)
    print(
        f"   {n} beats, {t[-1] / 86400:.1f} days: analyze_rhythm {wall:.2f} s wall, "
        f"{cpu:.2f} s CPU; to_dict {to_dict:.2f} s (best of 3; {len(r.events)} events, "
        f"AF burden {r.af.burden_pct:.1f} %)"
    )
    print(f"   machine load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    mitbih_af()
    synth_truth()
    seven_days_speed()
    sys.exit(0)
