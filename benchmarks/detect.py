"""Benchmark of holterlab's QRS detection; prints figures only (no asserts).

* Accuracy, EC57 rules (:func:`holterlab.evaluate.compare_beats`: 150 ms window, one-to-one
  matching, first 300 s not scored, ventricular flutter episodes of 207 excluded), per record
  and gross, on the DS1 training split of MIT-BIH, the paced records 102 104 107 217 and the
  NSTDB records 118e24 and 118e12.
* Speed and memory on a synthetic 24 h, 2-lead, 250 Hz recording (:mod:`holterlab.synth`),
  with its ground truth: quality + detection of the signal held in memory, and chunked
  detection of a recording (``detect_beats_recording``).

Published figures of peers on similar data (whole MIT-BIH, Se/+P %): wfdb XQRS 99.68/99.88,
NeuroKit2 default 99.64/97.01, Pan-Tompkins 99.85/99.84. ``--peers`` also runs sleepecg's
detector (first lead) on DS1 here.

Run: ``.venv/bin/python benchmarks/detect.py`` (``--no-24h`` skips the 24 h part).
"""

from __future__ import annotations

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
MITDB = SHARED / "data" / "mitdb"
NSTDB = SHARED / "data" / "nstdb"

DS1 = [101, 106, 108, 109, 112, 114, 115, 116, 118, 119, 122, 124, 201, 203, 205, 207, 208,
       209, 215, 220, 223, 230]  # fmt: skip
PACED = [102, 104, 107, 217]
NOISE = ["118e24", "118e12"]


def _compare(ref, beats: np.ndarray, fs: float, duration_s: float):
    from holterlab.annotations import Annotations
    from holterlab.evaluate import compare_beats

    test = Annotations(np.asarray(beats, np.int64), ["N"] * len(beats), fs)
    c = compare_beats(ref, test, end_s=duration_s)
    tp, fn, fp = c.pairs.shape[0], c.unmatched_ref.size, c.unmatched_test.size
    return tp, fn, fp, (c.offsets_s * 1000.0 if tp else None)


def _table(title: str, folder: Path, names, detector) -> None:
    import holterlab
    from holterlab.annotations import read_annotations

    print(f"\n{title}")
    print(f"{'record':>8} {'beats':>6} {'TP':>6} {'FN':>4} {'FP':>4} {'Se %':>7} {'+P %':>7} "
          f"{'dt ms':>11} {'time s':>7}")  # fmt: skip
    total = np.zeros(3, np.int64)
    elapsed = 0.0
    all_dt = []
    for name in names:
        rec = holterlab.read(folder / f"{name}.hea")
        x = rec.get()
        t0 = time.perf_counter()
        beats = detector(x, rec.fs)
        dt = time.perf_counter() - t0
        elapsed += dt
        ref = read_annotations(folder / f"{name}.atr")
        tp, fn, fp, off = _compare(ref, beats, rec.fs, rec.duration)
        total += (tp, fn, fp)
        se = 100.0 * tp / max(tp + fn, 1)
        pp = 100.0 * tp / max(tp + fp, 1)
        offs = "" if off is None else f"{np.median(off):+5.1f}±{np.std(off):4.1f}"
        if off is not None:
            all_dt.append(off)
        print(f"{name!s:>8} {tp + fn:6d} {tp:6d} {fn:4d} {fp:4d} {se:7.2f} {pp:7.2f} "
              f"{offs:>11} {dt:7.2f}")  # fmt: skip
    tp, fn, fp = total
    dts = np.concatenate(all_dt) if all_dt else np.zeros(1)
    print(f"{'gross':>8} {tp + fn:6d} {tp:6d} {fn:4d} {fp:4d} {100 * tp / (tp + fn):7.3f} "
          f"{100 * tp / (tp + fp):7.3f} {np.median(dts):+5.1f}±{np.std(dts):4.1f} "
          f"{elapsed:7.2f}")  # fmt: skip
    from holterlab.evaluate import fiducial_timing

    t = fiducial_timing(dts / 1000.0)
    print(f"  fiducial offset (detected - reference): median {t['median_ms']:+.1f} ms, "
          f"SD {t['sd_ms']:.1f} ms, 95 % within {t['p95_dev_ms']:.1f} ms of the median, "
          f"95 % within {t['p95_abs_ms']:.1f} ms of the reference")  # fmt: skip


def _holterlab(x: np.ndarray, fs: float) -> np.ndarray:
    from holterlab.beats import detect_beats

    return detect_beats(x, fs)


def _sleepecg(x: np.ndarray, fs: float) -> np.ndarray:
    import sleepecg

    return np.asarray(sleepecg.detect_heartbeats(x[0].astype(np.float64), fs), np.int64)


def _bench_24h() -> None:
    from holterlab.beats import detect_beats, detect_beats_recording
    from holterlab.quality import signal_quality
    from holterlab.recording import Recording

    print("\nsynthetic 24 h, 2 leads, 250 Hz")
    try:
        from holterlab.synth import synthesize

        rec, truth = synthesize(hours=24, leads=2, fs=250.0, seed=7)
        t0 = time.perf_counter()
        x = rec.get()
        print(f"  rendered with holterlab.synth in {time.perf_counter() - t0:.1f} s")
        ref = truth.annotations
    except ImportError:  # pragma: no cover - synth missing: a plain numpy stand-in
        rng = np.random.default_rng(7)
        n = 250 * 86400
        beats = np.cumsum(rng.uniform(150, 250, n // 150)).astype(np.int64)
        beats = beats[beats < n - 50]
        x = np.zeros((2, n), np.float32)
        kernel = np.exp(-0.5 * (np.arange(-12, 13) / 3.0) ** 2).astype(np.float32)
        for lead, amp in enumerate((1.0, -0.6)):
            x[lead, beats] = amp
            x[lead] = np.convolve(x[lead], kernel, mode="same")
        x += 0.02 * rng.standard_normal(x.shape).astype(np.float32)
        from holterlab.annotations import Annotations

        ref = Annotations(beats, ["N"] * len(beats), 250.0)
    fs = 250.0
    # warm the numba caches on a short piece first (compilation is not detection time)
    warm = np.ascontiguousarray(x[:, : 250 * 600])
    detect_beats(warm, fs)
    cpu0, t0 = time.process_time(), time.perf_counter()
    q = signal_quality(x, fs)
    tq, cq = time.perf_counter() - t0, time.process_time() - cpu0
    tracemalloc.start()
    cpu0, t0 = time.process_time(), time.perf_counter()
    beats = detect_beats(x, fs, quality=q)
    td, cd = time.perf_counter() - t0, time.process_time() - cpu0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    load = os.getloadavg()[0]
    print(f"  quality: {tq:.2f} s wall ({cq:.2f} s CPU)")
    print(f"  detection (signal in memory, quality given): {td:.2f} s wall ({cd:.2f} s CPU), "
          f"{beats.size} beats, peak extra memory {peak / 2**20:.0f} MiB "
          f"(the signal itself: {x.nbytes / 2**20:.0f} MiB); load average {load:.1f} "
          f"on {os.cpu_count()} cores")  # fmt: skip
    tp, fn, fp, off = _compare(ref, beats, fs, x.shape[1] / fs)
    print(f"  vs synthetic truth (EC57 rules): Se {100 * tp / (tp + fn):.3f} %  "
          f"+P {100 * tp / (tp + fp):.3f} %  (FN {fn}, FP {fp})")  # fmt: skip
    rec_mem = Recording.from_array(x, fs)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    tracemalloc.start()
    cpu0, t0 = time.process_time(), time.perf_counter()
    beats2 = detect_beats_recording(rec_mem, quality=q, chunk_s=1800.0)
    tr, cr = time.perf_counter() - t0, time.process_time() - cpu0
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    same = np.array_equal(beats, beats2)
    print(f"  detect_beats_recording, 30 min chunks: {tr:.2f} s wall ({cr:.2f} s CPU), peak "
          f"extra memory {peak / 2**20:.0f} MiB, max RSS grew {(rss1 - rss0) / 1024:.0f} MiB, "
          f"identical to the in-memory result: {same}")  # fmt: skip


def main(argv: list[str]) -> None:
    warnings.filterwarnings("ignore")
    print(__doc__.split("\n\n")[0])
    from holterlab.beats import detect_beats

    # compile (or load) the numba kernels before timing anything
    detect_beats(np.zeros((2, 5000), np.float32), 250.0)
    _table("MIT-BIH DS1 (EC57, 150 ms, from 300 s)", MITDB, DS1, _holterlab)
    _table("MIT-BIH paced records", MITDB, PACED, _holterlab)
    _table("NSTDB (118 with electrode-motion noise)", NSTDB, NOISE, _holterlab)
    if "--peers" in argv:
        _table("sleepecg.detect_heartbeats, lead 0, DS1 (for comparison)", MITDB, DS1, _sleepecg)
    if "--no-24h" not in argv:
        _bench_24h()


if __name__ == "__main__":
    main(sys.argv[1:])
