"""Benchmark of holterlab.hrv: all domains on 24 h and 7 days of beats; prints figures only.

Inputs: the NSRDB 24 h beat annotations (shared/data/nsrdb, 128 Hz) and a 7-day series made
by chaining the RR intervals of 17453 seven times, with 1 % of the beats relabelled V. For
context, NeuroKit2's ``hrv`` (time + frequency + nonlinear; its nonlinear part is
quadratic in beats) on a 1-hour slice; it is not run on 24 h.

Run: ``.venv/bin/python benchmarks/hrv.py`` (add ``--nk-hour`` to time NeuroKit2's full ``hrv`` on
the 1-hour slice: about 7 minutes).
"""

from __future__ import annotations

import datetime as dt
import os
import resource
import sys
import time
import tracemalloc
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("HOLTERLAB_SHARED", REPO.parent / "shared")).resolve()
NSRDB = SHARED / "data" / "nsrdb"


def load(record: str):
    from holterlab.annotations import aami_class, read_annotations

    ann = read_annotations(NSRDB / f"{record}.atr")
    sym = ann.symbol.astype(str)
    keep = (aami_class(sym) != "") | (sym == "|")
    labels = np.where(sym[keep] == "|", "|", aami_class(sym[keep]))
    return ann.sample[keep], labels, ann.fs


def seven_days(beats, labels, seed=0):
    rr = np.diff(beats)
    all_rr = np.tile(rr, 8)
    out = np.concatenate([[beats[0]], beats[0] + np.cumsum(all_rr)])
    lab = np.tile(labels[1:], 8)
    lab = np.concatenate([[labels[0]], lab])
    week = out[out - out[0] <= 7 * 86400 * 128]
    lab = lab[: week.size].copy()
    rng = np.random.default_rng(seed)
    lab[rng.choice(week.size, week.size // 100, replace=False)] = "V"
    return week, lab


def timed(fn, *args, repeat=3, **kwargs):
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn(*args, **kwargs)
        best = min(best, time.perf_counter() - t)
    return out, best


def peak_mib(fn, *args, **kwargs) -> float:
    tracemalloc.start()
    fn(*args, **kwargs)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main() -> None:
    t0 = time.perf_counter()
    from holterlab.hrv import compute_hrv

    t_import = time.perf_counter() - t0
    print(f"import holterlab.hrv: {t_import:.2f} s")
    start = dt.datetime(2000, 1, 1, 9, 20)
    beats, labels, fs = load("17453")
    t = time.perf_counter()
    compute_hrv(beats, labels, fs, start_time=start)
    print(f"first call (loads scipy parts): {time.perf_counter() - t:.2f} s")
    print()
    print(f"{'input':<34}{'beats':>9}{'NN':>9}{'time s':>9}{'peak MiB':>10}")
    cases = [("NSRDB 16272 (24 h)", *load("16272")), ("NSRDB 17453 (21 h)", beats, labels, fs)]
    wb, wl = seven_days(beats, labels)
    cases.append(("7 days (17453 x 8, 1 % V)", wb, wl, fs))
    for name, b, lab, rate in cases:
        res, sec = timed(compute_hrv, b, lab, rate, start_time=start)
        mem = peak_mib(compute_hrv, b, lab, rate, start_time=start)
        print(f"{name:<34}{b.size:>9}{res.n_nn:>9}{sec:>9.3f}{mem:>10.1f}")
    week_filter = compute_hrv.__globals__["HRVParams"](change_filter=True)
    _, sec = timed(compute_hrv, wb, wl, fs, params=week_filter, start_time=start)
    print(f"{'7 days, change filter on':<34}{wb.size:>9}{'':>9}{sec:>9.3f}")
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"max RSS of this process: {rss:.0f} MiB")

    print()
    hour = beats < beats[0] + 3600 * fs
    hb, hl = beats[hour], labels[hour]
    _, ours = timed(compute_hrv, hb, hl, fs, start_time=start)
    print(f"1-hour slice ({hb.size} beats): holterlab compute_hrv {ours:.3f} s")
    try:
        import neurokit2 as nk
    except ImportError:  # pragma: no cover
        print("neurokit2 not installed: no comparison")
        return
    peaks = hb[hl == "N"]  # NeuroKit2 takes R-peak indices without labels
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        _, nk_time = timed(nk.hrv_time, peaks, sampling_rate=int(fs), repeat=1)
        _, nk_freq = timed(nk.hrv_frequency, peaks, sampling_rate=int(fs), repeat=1)
        print(f"1-hour slice: NeuroKit2 hrv_time {nk_time:.2f} s, hrv_frequency {nk_freq:.2f} s")
        if "--nk-hour" in sys.argv:
            _, nk_all = timed(nk.hrv, peaks, sampling_rate=int(fs), repeat=1)
            print(f"1-hour slice: NeuroKit2 hrv (all domains) {nk_all:.1f} s")
        else:
            short = peaks[peaks < peaks[0] + 600 * fs]
            _, nk_all = timed(nk.hrv, short, sampling_rate=int(fs), repeat=1)
            print(
                f"10-minute slice ({short.size} beats): NeuroKit2 hrv (all domains) "
                f"{nk_all:.1f} s (its nonlinear part is quadratic: the 1-hour slice took "
                "446 s here; run with --nk-hour to measure it)"
            )


if __name__ == "__main__":
    main()
