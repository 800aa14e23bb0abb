"""Benchmark of holterlab.beats.paced: paced-beat recognition on MIT-BIH; prints figures only.

Accuracy
    For the paced records 102 104 107 217 (outside DS1: *measured only, never tuned on*), the
    beat-level sensitivity (Se) and positive predictivity (+P) of "paced" against the
    reference paced beats (``/`` and fusion ``f``), at the reference beat positions, for
    :func:`paced_beats` (each beat alone) and for :func:`paced_labels` with the reference
    symbols as morphology families (an upper bound on what family clustering can add).
    For every DS1 record (none paced) the number of beats called paced (false positives) and
    the number of symbol families called paced.

Speed
    Time of :func:`pacing_spike_score` per 100,000 beats (2 leads, 360 Hz, after warm-up).

Run: ``.venv/bin/python benchmarks/paced.py``.
"""

from __future__ import annotations

import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
SHARED = Path(os.environ.get("HOLTERLAB_SHARED", REPO.parent / "shared")).resolve()
MITDB = SHARED / "data" / "mitdb"

DS1 = [101, 106, 108, 109, 112, 114, 115, 116, 118, 119, 122, 124]
DS1 += [201, 203, 205, 207, 208, 209, 215, 220, 223, 230]
PACED = [102, 104, 107, 217]

warnings.filterwarnings("ignore")


def load(record: int):
    """(signal float32 (2, n) mV, fs, beat samples, beat symbols) of a MIT-BIH record."""
    import holterlab
    from holterlab.annotations import read_annotations

    rec = holterlab.read(MITDB / f"{record}.hea")
    ann = read_annotations(MITDB / f"{record}.atr").beats()
    return rec.get(), float(rec.fs), np.asarray(ann.sample), np.asarray(ann.symbol)


def symbol_families(symbols: np.ndarray) -> tuple[np.ndarray, int]:
    """Family index per beat from the reference symbol (a stand-in for morphology families)."""
    uniq, fam = np.unique(symbols, return_inverse=True)
    return fam.astype(np.int64), len(uniq)


def se_pp(pred: np.ndarray, ref: np.ndarray) -> tuple[float, float, int, int, int]:
    tp = int(np.sum(pred & ref))
    fn = int(np.sum(~pred & ref))
    fp = int(np.sum(pred & ~ref))
    se = tp / (tp + fn) if tp + fn else float("nan")
    pp = tp / (tp + fp) if tp + fp else float("nan")
    return se, pp, tp, fn, fp


def main() -> None:
    from holterlab.beats.paced import (
        paced_beats,
        paced_families,
        paced_labels,
        pacing_spike_score,
    )

    print("Paced records (measured only; reference paced = '/' and 'f')")
    print(
        f"{'rec':>4} {'n':>5} {'paced':>5} | beat: {'Se':>6} {'+P':>6} {'FP':>4}"
        f" | family+beat: {'Se':>6} {'+P':>6} {'FP':>4} | Se('/') Se('f')"
    )
    tot = np.zeros(6, dtype=np.int64)
    for r in PACED:
        x, fs, b, sym = load(r)
        ref = np.isin(sym, ["/", "f"])
        score = pacing_spike_score(x, fs, b)
        beat = paced_beats(x, fs, b)
        fam, nf = symbol_families(sym)
        lab = paced_labels(score, fam, nf)
        s1 = se_pp(beat, ref)
        s2 = se_pp(lab, ref)
        tot += np.array([s1[2], s1[3], s1[4], s2[2], s2[3], s2[4]])
        se_slash = beat[sym == "/"].mean() if np.any(sym == "/") else float("nan")
        se_f = beat[sym == "f"].mean() if np.any(sym == "f") else float("nan")
        print(
            f"{r:>4} {b.size:>5} {int(ref.sum()):>5} | beat: {s1[0]:6.3f} {s1[1]:6.3f}"
            f" {s1[4]:>4} | family+beat: {s2[0]:6.3f} {s2[1]:6.3f} {s2[4]:>4} |"
            f" {se_slash:6.3f}  {se_f:6.3f}"
        )
    tp, fn, fp = tot[:3]
    tp2, fn2, fp2 = tot[3:]
    print(
        f"gross beat: Se {tp / (tp + fn):.3f} +P {tp / (tp + fp):.3f};"
        f" family+beat: Se {tp2 / (tp2 + fn2):.3f} +P {tp2 / (tp2 + fp2):.3f}"
    )

    print("\nDS1 records (none paced): beats called paced, symbol families called paced")
    total_fp = total_fam = total_n = 0
    for r in DS1:
        x, fs, b, sym = load(r)
        score = pacing_spike_score(x, fs, b)
        fam, nf = symbol_families(sym)
        n_fp = int(np.sum(score >= 10.0))
        pf = paced_families(score, fam, nf)
        lab = paced_labels(score, fam, nf)
        total_fp += int(lab.sum())
        total_fam += int(pf.sum())
        total_n += b.size
        print(
            f"{r:>4} beats {b.size:>5}  paced beats {n_fp:>3}  paced families {int(pf.sum())}"
            f"  max score {score.max():5.1f}"
        )
    print(f"DS1 total: {total_fp} of {total_n} beats paced, {total_fam} families paced")

    x, fs, b, _ = load(208)
    reps = int(np.ceil(100_000 / b.size))
    bb = np.tile(b, reps)[:100_000]
    pacing_spike_score(x, fs, bb[:10])
    t0 = time.perf_counter()
    pacing_spike_score(x, fs, bb)
    dt = time.perf_counter() - t0
    print(f"\nspeed: {dt:.3f} s per 100,000 beats (2 leads, 360 Hz)")


if __name__ == "__main__":
    main()
