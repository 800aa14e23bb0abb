"""Signal-quality benchmark: speed on 24 h and exclusion of noise-only vs ECG records.

Times :func:`holterlab.quality.signal_quality` on a 24-hour, 2-lead, 250 Hz signal (MIT-BIH
record 118 resampled and tiled), then prints, for the NSTDB noise records ``bw``/``ma``, the
NSTDB ``118e24``/``118e12`` and the DS1 records, the excluded percentage and the per-lead
usable and no-ECG percentages.

Usage: ``python benchmarks/quality.py [--records 101,bw] [--no-timing]``
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np

import holterlab
from holterlab.quality import NO_ECG, quality_recording, signal_quality

warnings.filterwarnings("ignore")
DATA = Path(__file__).resolve().parents[2] / "shared/data"
DS1 = "101 106 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 215 220 223 230"


def timing() -> None:
    from scipy.signal import resample_poly

    rec = holterlab.read(DATA / "mitdb/118.hea")
    x = resample_poly(rec.get(), 25, 36, axis=1).astype(np.float32)
    reps = int(np.ceil(24 * 3600 * 250 / x.shape[1]))
    day = np.tile(x, (1, reps))[:, : 24 * 3600 * 250]
    signal_quality(day[:, :25000], 250.0)  # compile / load the kernels
    t0 = time.perf_counter()
    q = signal_quality(day, 250.0)
    print(f"24 h x 2 leads at 250 Hz: {time.perf_counter() - t0:.2f} s, {q!r}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", default=None, help="comma-separated record names")
    ap.add_argument("--no-timing", action="store_true")
    args = ap.parse_args()
    if not args.no_timing:
        timing()
    names = args.records.split(",") if args.records else ["bw", "ma", "118e24", "118e12"]
    if not args.records:
        names += DS1.split()
    print(f"{'record':8s} {'excluded %':>10s}  per lead: usable % / no-ECG %")
    for name in names:
        folder = "mitdb" if name.isdigit() else "nstdb"
        rec = holterlab.read(DATA / folder / f"{name}.hea")
        q = quality_recording(rec)
        no_ecg = 100 * ((q.flags & NO_ECG) > 0).mean(axis=1)
        usable = 100 * q.usable.mean(axis=1)
        leads = "  ".join(
            f"{lead}: {usable[i]:5.1f} / {no_ecg[i]:5.1f}" for i, lead in enumerate(q.leads)
        )
        print(f"{name:8s} {q.noise_pct:10.2f}  {leads}", flush=True)


if __name__ == "__main__":
    main()
