"""Benchmark of holterlab.beats.classify: speed on 24 h and accuracy figures; prints figures only.

Speed
    A 24-hour, 2-lead, 250 Hz recording is built by chaining MIT-BIH record 208 (one patient
    with frequent V and F beats, resampled from 360 to 250 Hz) until 24 h are filled, with its
    reference beat positions (about 140,000 beats); ``--mixed`` chains all 22 DS1 records
    instead (22 patients in one recording: many more families, a worst case).
    :func:`classify_beats` (in memory) and :func:`classify_beats_recording` (chunked over a
    :class:`~holterlab.recording.Recording`) are timed after a warm-up (numba compilation
    excluded), with a breakdown by stage.

Accuracy
    The shipped model labels the DS1 records (reference positions moved by +-20 ms, and the
    beats of :func:`holterlab.beats.detect_beats`) and the paced records 102 104 107 217. The
    model was *trained on DS1*, so these DS1 figures are resubstitution figures, not an
    estimate of generalisation: the honest estimate is the leave-one-record-out figure that
    ``scripts/train_classifier.py`` prints.

Synthetic day
    Speed and VEB/SVEB Se/+P of :func:`classify_beats_recording` on the cached synthetic 24-h
    Holter recording ``benchmarks/.cache/holter-day-medium.aiecg`` and its truth beats
    (skipped when the file is missing).

Run: ``.venv/bin/python benchmarks/classify.py`` (``--no-accuracy`` for timing only).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))
SHARED = Path(os.environ.get("HOLTERLAB_SHARED", REPO.parent / "shared")).resolve()
MITDB = SHARED / "data" / "mitdb"

warnings.filterwarnings("ignore")


def day_recording(hours: float = 24.0, fs_out: int = 250, records=None):
    """(signal float32 (2, n), beats int64) of ``hours`` of chained MIT-BIH records at 250 Hz.

    ``records`` (default: record 208 alone, one patient with frequent V and F beats, as a real
    24 h recording has one patient) are resampled to 250 Hz and chained until ``hours`` are
    filled, with their reference beat positions.
    """
    import train_classifier as T
    from scipy.signal import resample_poly

    records = records or [208]
    cache = {}
    parts, beats, offset = [], [], 0
    target = int(hours * 3600 * fs_out)
    while offset < target:
        for r in records:
            if r not in cache:
                sig, fs, ref = T.load_record(MITDB, r)
                y = resample_poly(sig, fs_out, int(fs), axis=1).astype(np.float32)
                b = np.round(ref.beats().sample * fs_out / fs).astype(np.int64)
                cache[r] = (y, b[(b > 0) & (b < y.shape[1])])
                del ref
            y, b = cache[r]
            parts.append(y)
            beats.append(b + offset)
            offset += y.shape[1]
            if offset >= target:
                break
    signal = np.concatenate(parts, axis=1)[:, :target]
    b = np.concatenate(beats)
    b = b[b < target]
    keep = np.concatenate([[True], np.diff(b) > 0])
    return signal, b[keep]


def timing(hours: float, records=None) -> None:
    from holterlab.beats import _classify_kernels as K
    from holterlab.beats.classify import (
        _analyse,
        classify_beats,
        classify_beats_recording,
        load_model,
        predict_proba,
    )
    from holterlab.beats.features import extract_beat_windows, window_geometry
    from holterlab.params.classification import ClassificationParams
    from holterlab.recording import Recording

    signal, beats = day_recording(hours, records=records)
    fs = 250.0
    print(
        f"recording: {signal.shape[1] / fs / 3600:.1f} h, {signal.shape[0]} leads, {fs:g} Hz, "
        f"{beats.size} beats"
    )
    classify_beats(signal[:, : 600 * 250], fs, beats[beats < 600 * 250 - 100])  # warm-up
    p = ClassificationParams()
    g = window_geometry(fs, p)
    t0 = time.perf_counter()
    w = extract_beat_windows(signal, beats, g)
    t1 = time.perf_counter()
    an = _analyse(w, p)
    t2 = time.perf_counter()
    predict_proba(load_model(), an.X)
    t3 = time.perf_counter()
    print(
        f"  windows+scalars {t1 - t0:.3f} s | families+features {t2 - t1:.3f} s | "
        f"model {t3 - t2:.3f} s | families {an.clusters.n_families}"
    )
    del K
    best = []
    for _ in range(3):
        t0 = time.perf_counter()
        res = classify_beats(signal, fs, beats)
        best.append(time.perf_counter() - t0)
    print(
        f"classify_beats (in memory): {min(best):.3f} s best of 3 "
        f"({beats.size / min(best):,.0f} beats/s); labels {res.counts()}"
    )
    rec = Recording.from_array(signal, fs, ["MLII", "V1"])
    t0 = time.perf_counter()
    res2 = classify_beats_recording(rec, beats)
    t_rec = time.perf_counter() - t0
    same = np.array_equal(res.labels, res2.labels) and np.array_equal(res.family, res2.family)
    print(f"classify_beats_recording (30-min chunks): {t_rec:.3f} s; equal to in-memory: {same}")
    per_beat = sum(a.nbytes for a in (w.win, w.fid, w.scal)) / beats.size
    print(
        f"kept per beat while classifying: {per_beat:.0f} bytes "
        f"({per_beat * beats.size / 2**20:.0f} MiB for this recording)"
    )


def accuracy() -> None:
    import train_classifier as T

    from holterlab.annotations import Annotations, read_annotations
    from holterlab.beats.classify import classify_beats
    from holterlab.beats.detect import detect_beats
    from holterlab.evaluate.ec57 import BeatStatistics, compare_beats

    def pct(v):
        return "   -  " if v is None else f"{100 * v:6.1f}"

    for key in ("reference", "detected"):
        mats = []
        for r in T.DS1:
            sig, fs, full = T.load_record(MITDB, r)
            if key == "reference":
                beats = T.jittered(full.beats().sample, fs, sig.shape[1], T.SEED + r)
            else:
                beats = detect_beats(sig, fs)
            res = classify_beats(sig, fs, beats)
            mats.append(compare_beats(full, Annotations(beats, res.labels, fs)).matrix)
        s = BeatStatistics.from_matrix(sum(mats))
        print(
            f"DS1 {key} beats, shipped model (resubstitution): QRS Se {pct(s.qrs_se)} "
            f"+P {pct(s.qrs_pp)} | VEB Se {pct(s.veb_se)} +P {pct(s.veb_pp)} | "
            f"SVEB Se {pct(s.sveb_se)} +P {pct(s.sveb_pp)}"
        )
    print("paced records (reference positions +-20 ms): paced beats labelled")
    for r in (102, 104, 107, 217):
        sig, fs, _ = T.load_record(MITDB, r)
        ref = read_annotations(MITDB / f"{r}.atr").beats()
        beats = T.jittered(ref.sample, fs, sig.shape[1], T.SEED + r)
        res = classify_beats(sig, fs, beats)
        paced = ref.symbol.astype(str) == "/"
        lab, cnt = np.unique(res.labels[paced], return_counts=True)
        print(
            f"  {r}: {paced.sum()} paced beats -> "
            + ", ".join(f"{a} {b}" for a, b in zip(lab, cnt, strict=True))
        )


def synthetic_day(path: Path = REPO / "benchmarks" / ".cache" / "holter-day-medium.aiecg") -> None:
    """Speed and accuracy on a synthetic 24-h Holter recording with its truth beats.

    ``path`` is a :func:`holterlab.synth.generate` output (``NAME.aiecg`` with ``NAME.atr``,
    whose labels are the truth classes; it includes sinus tachycardia, atrial fibrillation
    and flutter). The truth beat positions are classified.
    """
    import holterlab
    from holterlab.annotations import Annotations, read_annotations
    from holterlab.beats.classify import classify_beats_recording
    from holterlab.evaluate.ec57 import compare_beats

    atr = path.with_suffix(".atr")
    if not path.is_file() or not atr.is_file():
        print(f"synthetic day: {path} not found (make it with holterlab.synth.generate)")
        return
    rec = holterlab.read(path)
    ref = read_annotations(atr)
    beats = ref.beats().sample
    classify_beats_recording(rec, beats[:2000])  # warm-up
    best = []
    for _ in range(3):
        t0 = time.perf_counter()
        res = classify_beats_recording(rec, beats)
        best.append(time.perf_counter() - t0)
    s = compare_beats(ref, Annotations(beats, res.labels, rec.fs)).statistics

    def pct(v):
        return "   -  " if v is None else f"{100 * v:6.1f}"

    print(
        f"synthetic day {path.name}: {rec.n_samples / rec.fs / 3600:.1f} h, {beats.size} beats; "
        f"classify_beats_recording {min(best):.3f} s best of 3 | VEB Se {pct(s.veb_se)} "
        f"+P {pct(s.veb_pp)} | SVEB Se {pct(s.sveb_se)} +P {pct(s.sveb_pp)}"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--no-accuracy", dest="accuracy", action="store_false")
    ap.add_argument(
        "--mixed", action="store_true", help="chain all 22 DS1 records (22 patients) instead"
    )
    args = ap.parse_args()
    import train_classifier as T

    synthetic_day()
    timing(args.hours, T.DS1 if args.mixed else None)
    if args.accuracy:
        accuracy()


if __name__ == "__main__":
    main()
