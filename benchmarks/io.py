"""I/O benchmark: open + full read of multi-day recordings in every writable format.

For each format it writes (once, cached in ``benchmarks/.cache`` or ``--dir``) a 24-hour 2-lead
250 Hz recording and a 7-day 3-lead 250 Hz recording, then, each in a fresh subprocess,
measures:

- ``open``: time to open the file (header parse),
- ``window``: median time to serve a random 10-s window of all leads (50 windows),
- ``full``: time to read the whole recording lead by lead,
- ``peak``: the subprocess's peak resident memory (MB) over all of it.

Target (issue 2): at most 2 s to open and fully read 24 hours in the binary formats, peak
memory near one lead's size. Prints a table; asserts nothing.

Usage: ``python benchmarks/io.py [--formats aiecg,hea,edf,csv] [--skip-7d] [--dir DIR]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
FS = 250.0


class SineSource:
    """A lazy, deterministic ECG-like test signal (never materialised whole)."""

    def __init__(self, n_samples: int, n_leads: int) -> None:
        self.n_samples = n_samples
        self.n_leads = n_leads

    def read(self, start: int, stop: int, leads) -> np.ndarray:
        t = np.arange(start, stop, dtype=np.float64) / FS
        beat = np.exp(-0.5 * (((t % 0.8) - 0.4) / 0.012) ** 2)  # 75 bpm spikes
        wander = 0.2 * np.sin(2 * np.pi * 0.2 * t)
        out = np.empty((len(leads), stop - start), dtype=np.float32)
        for i, lead in enumerate(leads):
            out[i] = (1.0 + 0.3 * lead) * beat + wander + 0.01 * np.sin(0.7 * t * (lead + 1))
        return out

    def close(self) -> None:
        pass


def make(path: Path, hours: float, n_leads: int) -> None:
    from holterlab.io import write
    from holterlab.recording import Recording

    n = int(hours * 3600 * FS)
    rec = Recording(SineSource(n, n_leads), FS, [f"ECG{i + 1}" for i in range(n_leads)])
    t0 = time.perf_counter()
    write(rec, path, progress=True)
    print(f"  wrote {path.name} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


MEASURE = r"""
import json, resource, sys, time
import numpy as np
import holterlab
path = sys.argv[1]
t0 = time.perf_counter()
rec = holterlab.read(path)
t_open = time.perf_counter() - t0
rng = np.random.default_rng(0)
times = []
for _ in range(50):
    s = float(rng.uniform(0, rec.duration - 10))
    t = time.perf_counter(); rec.get(start=s, stop=s + 10); times.append(time.perf_counter() - t)
t0 = time.perf_counter()
total = 0.0
for lead in range(rec.n_leads):
    x = rec.get(leads=lead)
    total += float(x[0, ::1000].sum())
    del x
t_full = time.perf_counter() - t0
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"open": t_open, "window": float(np.median(times)), "full": t_full,
                  "peak": peak, "lead_mb": rec.n_samples * 4 / 1e6}))
"""


def measure(path: Path) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--formats", default="aiecg,hea,edf,csv")
    ap.add_argument("--skip-7d", action="store_true", help="only the 24-hour recordings")
    ap.add_argument("--dir", type=Path, default=HERE / ".cache")
    args = ap.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    sizes = [("24h-2lead", 24, 2)] + ([] if args.skip_7d else [("7d-3lead", 168, 3)])
    rows = []
    for ext in args.formats.split(","):
        for label, hours, leads in sizes:
            if ext == "csv" and hours > 24:
                continue  # a 7-day CSV is 150 M text rows: not a Holter exchange format
            path = args.dir / f"{label}.{ext}"
            if not path.exists():
                make(path, hours, leads)
            m = measure(path)
            size = sum(f.stat().st_size for f in path.parent.glob(f"{path.stem}.*"))
            rows.append((ext, label, size / 1e6, m))
    print(f"holterlab I/O benchmark ({FS:g} Hz), each row in a fresh process")
    print(
        f"{'format':7} {'recording':10} {'file MB':>8} {'open ms':>8} {'10s win ms':>10} "
        f"{'full read s':>11} {'peak MB':>8} {'1 lead MB':>9}"
    )
    for ext, label, mb, m in rows:
        print(
            f"{ext:7} {label:10} {mb:8.0f} {m['open'] * 1e3:8.1f} {m['window'] * 1e3:10.2f} "
            f"{m['full']:11.2f} {m['peak']:8.0f} {m['lead_mb']:9.0f}"
        )


if __name__ == "__main__":
    main()
