"""Peers benchmark: holterlab's QRS detector next to open-source detectors, same scoring.

On the same MIT-BIH records and with the same EC57 evaluation (``holterlab.evaluate``, 150 ms
window, 5-minute learning period) it runs:

- holterlab ``detect_beats`` (all leads fused),
- NeuroKit2 ``ecg_peaks`` (its default method, and ``pantompkins1985``) on the first lead,
- wfdb-python's XQRS (``wfdb.processing.xqrs_detect``) on the first lead,
- sleepecg's ``detect_heartbeats`` on the first lead,

then each of them, in a fresh process, on one 24-hour 250 Hz synthetic signal, for time and
peak memory. Peer packages come with the ``bench`` extra (``pip install -e '.[bench]'``).
Prints tables; asserts nothing.

Usage: ``python benchmarks/peers.py [--records 101,108] [--skip-24h] [--timeout 900]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np

warnings.filterwarnings("ignore")
HERE = Path(__file__).resolve().parent
MITDB = HERE.parents[1] / "shared/data/mitdb"
DS1 = "101 106 108 109 112 114 115 116 118 119 122 124 201 203 205 207 208 209 215 220 223 230"


def run_detector(name: str, signal: np.ndarray, fs: float) -> np.ndarray:
    """Beat sample indices from detector ``name`` (signal: leads x samples, mV)."""
    lead0 = np.asarray(signal[0], dtype=np.float64)
    if name == "holterlab":
        from holterlab.beats import detect_beats

        return detect_beats(signal, fs)
    if name.startswith("neurokit2"):
        import neurokit2 as nk

        method = "neurokit" if name == "neurokit2" else "pantompkins1985"
        cleaned = nk.ecg_clean(lead0, sampling_rate=int(fs), method=method)
        _, info = nk.ecg_peaks(cleaned, sampling_rate=int(fs), method=method)
        return np.asarray(info["ECG_R_Peaks"], dtype=np.int64)
    if name == "xqrs":
        from wfdb import processing

        return np.asarray(processing.xqrs_detect(lead0, fs, verbose=False), dtype=np.int64)
    if name == "sleepecg":
        import sleepecg

        return np.asarray(sleepecg.detect_heartbeats(lead0, fs), dtype=np.int64)
    raise ValueError(name)


DETECTORS = ["holterlab", "neurokit2", "neurokit2-pantompkins", "xqrs", "sleepecg"]

CHILD = r"""
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
import numpy as np
sys.path.insert(0, sys.argv[3])
from peers import run_detector
x = np.load(sys.argv[2], mmap_mode="r")
t0 = time.perf_counter()
beats = run_detector(sys.argv[1], np.asarray(x), 250.0)
dt = time.perf_counter() - t0
print(json.dumps({"time": dt, "beats": int(len(beats)),
                  "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def accuracy(records: list[str]) -> None:
    import holterlab
    from holterlab.annotations import Annotations
    from holterlab.evaluate import evaluate_records

    pairs: dict[str, dict] = {d: {} for d in DETECTORS}
    times = dict.fromkeys(DETECTORS, 0.0)
    for name in records:
        rec = holterlab.read(MITDB / f"{name}.hea")
        x = rec.get()
        for det in DETECTORS:
            t0 = time.perf_counter()
            try:
                beats = run_detector(det, x, rec.fs)
            except Exception as exc:  # a peer failing on a record is reported, not fatal
                print(f"  {det} failed on {name}: {exc}", file=sys.stderr)
                beats = np.zeros(0, dtype=np.int64)
            times[det] += time.perf_counter() - t0
            pairs[det][name] = (rec.annotations, Annotations(beats, ["N"] * len(beats), rec.fs))
        print(f"  {name} done", file=sys.stderr, flush=True)
    print(f"\nQRS detection on {len(records)} MIT-BIH records (EC57 gross, 150 ms, 300 s learning)")
    print(f"{'detector':24} {'Se %':>8} {'+P %':>8} {'FN':>6} {'FP':>6} {'time s':>8}")
    for det in DETECTORS:
        g = evaluate_records(pairs[det]).gross
        print(
            f"{det:24} {100 * g.qrs_se:8.3f} {100 * g.qrs_pp:8.3f} {g.qrs_fn:6d} {g.qrs_fp:6d} "
            f"{times[det]:8.1f}"
        )


def day_signal(path: Path) -> None:
    from holterlab.synth import synthesize

    rec, _ = synthesize(hours=24, leads=2, fs=250.0, seed=11)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(2, rec.n_samples))
    for i0, block in rec.iter_chunks(3600.0):
        out[:, i0 : i0 + block.shape[1]] = block
    out.flush()


def speed(timeout: float) -> None:
    cache = HERE / ".cache"
    cache.mkdir(exist_ok=True)
    path = cache / "day-2lead-250hz.npy"
    if not path.exists():
        day_signal(path)
    print("\n24-hour 2-lead 250 Hz synthetic signal (holterlab: both leads; peers: lead 1)")
    print(f"{'detector':24} {'beats':>8} {'time s':>8} {'peak MB':>8}")
    for det in DETECTORS:
        try:
            out = subprocess.run(
                [sys.executable, "-c", CHILD, det, str(path), str(HERE)],
                capture_output=True,
                text=True,
                timeout=timeout,
            )
            m = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{det:24} {m['beats']:8d} {m['time']:8.1f} {m['peak_mb']:8.0f}")
        except subprocess.TimeoutExpired:
            print(f"{det:24} {'-':>8} {'>' + str(int(timeout)):>8} {'-':>8}")
        except (IndexError, json.JSONDecodeError):
            print(f"{det:24} failed: {out.stderr.strip().splitlines()[-1:]}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", default=",".join(DS1.split()))
    ap.add_argument("--skip-24h", action="store_true")
    ap.add_argument("--skip-records", action="store_true")
    ap.add_argument("--timeout", type=float, default=900.0, help="per peer on the 24 h signal")
    args = ap.parse_args()
    if not args.skip_records:
        accuracy(args.records.split(","))
    if not args.skip_24h:
        speed(args.timeout)


if __name__ == "__main__":
    main()
