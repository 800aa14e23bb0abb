"""MIT-BIH benchmark: holterlab's analysis against the reference annotations (ANSI/AAMI EC57).

Runs ``holterlab.analyze`` (detection + classification; the later stages are switched off
here) on every record of a folder, compares the beats with the reference ``.atr`` with
``holterlab.evaluate`` (150 ms window, 5-minute learning period, AAMI classes) and prints the
per-record, gross and record-averaged table, plus the gross confusion matrix.

Usage: ``python benchmarks/mitdb.py [FOLDER] [--records 101,106] [--learning-s 300]``
(default folder ``../shared/data/mitdb``: the DS1 records, then the paced records apart).
Never tune on records outside DS1: they measure generalisation.
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import holterlab
from holterlab.annotations import Annotations
from holterlab.evaluate import evaluate_records

warnings.filterwarnings("ignore")
HERE = Path(__file__).resolve().parent
DS1 = "101 106 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 215 220 223 230"
PACED = {"102", "104", "107", "217"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("folder", nargs="?", default=str(HERE.parents[1] / "shared/data/mitdb"))
    ap.add_argument("--records", default=None, help="comma-separated record names")
    ap.add_argument("--learning-s", type=float, default=300.0)
    ap.add_argument("--window-ms", type=float, default=150.0)
    args = ap.parse_args()
    folder = Path(args.folder)
    if args.records:
        names = args.records.split(",")
    else:
        names = sorted(p.stem for p in folder.glob("*.hea"))
    params = holterlab.AnalysisParams().replace(hrv_enabled=False)
    params = params.replace(st_qt=params.st_qt.replace(enabled=False))
    groups: dict[str, dict] = {"DS1 and others": {}, "paced": {}}
    t_total = 0.0
    for name in names:
        rec = holterlab.read(folder / f"{name}.hea")
        t0 = time.perf_counter()
        result = holterlab.analyze(rec, params)
        t_total += time.perf_counter() - t0
        test = Annotations(result.beat_samples, list(result.beat_labels), rec.fs)
        group = "paced" if name in PACED else "DS1 and others"
        groups[group][name] = (rec.annotations, test)
        print(f"  {name}: {len(test)} beats in {time.perf_counter() - t0:.1f} s", flush=True)
    for group, pairs in groups.items():
        if not pairs:
            continue
        report = evaluate_records(pairs, window_ms=args.window_ms, learning_s=args.learning_s)
        print(
            f"\n== {group}: {len(pairs)} records (EC57, {args.window_ms:g} ms window, "
            f"{args.learning_s:g} s learning period)"
        )
        print(report.format())
    print(f"\nanalysis time: {t_total:.1f} s for {len(names)} records")


if __name__ == "__main__":
    main()
