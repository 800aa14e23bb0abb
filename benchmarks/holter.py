"""Holter benchmark: the whole analysis of 24 h and 7 days, against the synthetic ground truth.

Generates (once, cached in ``benchmarks/.cache``) a 24-hour 2-lead and a 7-day 3-lead 250 Hz
synthetic recording with its truth, runs ``holterlab.analyze`` on each in a fresh process, and
prints wall time and peak memory, the EC57 beat statistics against the truth and, per event
type, the episode sensitivity and positive predictivity (any-overlap matching, as epicmp).
With ``--neurokit`` it also runs NeuroKit2's ``ecg_process`` on the same 24 hours in 1-hour
chunks (it cannot do 24 h at once in 24 GB) for context. Prints; asserts nothing.

Targets (issue 4): 24 h in at most 10 s and 1.5 GB; 7 days in at most 90 s and 2 GB.

Usage: ``python benchmarks/holter.py [--skip-7d] [--neurokit] [--noise medium]``
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

CHILD = r"""
import json, resource, sys, time, warnings
warnings.filterwarnings("ignore")
import holterlab
t0 = time.perf_counter()
rec = holterlab.read(sys.argv[1])
result = holterlab.analyze(rec)
dt = time.perf_counter() - t0
result.to_json(sys.argv[2], include_beats=True)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"time": dt, "peak_mb": peak}))
"""

#: truth event type -> holterlab event types that count as finding it
EVENT_MAP = {
    "af": ("af",),
    "afl": ("afl",),
    "vt": ("vt",),
    "ivr": ("ivr",),
    "svt": ("svt",),
    "bigeminy": ("v_bigeminy",),
    "trigeminy": ("v_trigeminy",),
    "couplet": ("v_couplet",),
    "triplet": ("v_triplet",),
    "pause": ("pause",),
    "brady": ("brady",),
    "tachy": ("tachy",),
    "st_depression": ("st_depression",),
}


def make(path: Path, hours: float, leads: int, noise: str) -> None:
    from holterlab.params.synth import NOISE_LEVELS, SynthParams
    from holterlab.synth import generate

    params = SynthParams.preset("normal", noise_level=NOISE_LEVELS[noise])
    t0 = time.perf_counter()
    generate(path, hours=hours, leads=leads, fs=250.0, seed=2026, params=params, progress=True)
    print(f"  generated {path.name} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)


def evaluate(rec_path: Path, result_path: Path) -> None:
    from holterlab.annotations import Annotations, read_annotations
    from holterlab.evaluate import compare_beats, compare_episodes
    from holterlab.result import HolterResult

    truth_ann = read_annotations(rec_path.with_suffix(".atr"))
    truth = json.loads(rec_path.with_suffix(".truth.json").read_text())
    result = HolterResult.from_json(result_path)
    test = Annotations(result.beat_samples, list(result.beat_labels), result.fs)
    c = compare_beats(truth_ann, test, learning_s=0)

    def pct(v):
        return "   -  " if v is None else f"{100 * v:6.2f}"

    print(
        f"  beats: QRS Se {pct(c.qrs_se)} +P {pct(c.qrs_pp)} | VEB Se {pct(c.veb_se)} "
        f"+P {pct(c.veb_pp)} | SVEB Se {pct(c.sveb_se)} +P {pct(c.sveb_pp)}"
    )
    print(f"  {'event':14} {'truth':>6} {'found':>6} {'Se %':>7} {'+P %':>7}")
    for ttype, mine in EVENT_MAP.items():
        ref = np.array(
            [[e["start_s"], e["end_s"]] for e in truth["events"] if e["type"] == ttype]
        ).reshape(-1, 2)
        got = np.array(
            [[e.start_s, max(e.end_s, e.start_s + 0.01)] for e in result.events if e.type in mine]
        ).reshape(-1, 2)
        if len(ref) == 0 and len(got) == 0:
            continue
        ep = compare_episodes(ref, got, learning_s=0)
        print(
            f"  {ttype:14} {len(ref):6d} {len(got):6d} {pct(ep.episode_se):>7} "
            f"{pct(ep.episode_pp):>7}"
        )


def neurokit_day(path: Path) -> None:
    import resource

    import neurokit2 as nk

    import holterlab

    rec = holterlab.read(path)
    t0 = time.perf_counter()
    n = 0
    for _, block in rec.iter_chunks(3600.0, leads=0):
        signals, info = nk.ecg_process(block[0], sampling_rate=int(rec.fs))
        n += len(info["ECG_R_Peaks"])
    dt = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  NeuroKit2 ecg_process, 24 x 1 h chunks, lead 1: {dt:.1f} s, peak {peak:.0f} MB, "
        f"{n} beats, no rhythm analysis"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-7d", action="store_true")
    ap.add_argument("--neurokit", action="store_true", help="also run NeuroKit2 (about 6 min)")
    ap.add_argument(
        "--noise", default="medium", help="synthetic noise level: none low medium high extreme"
    )
    args = ap.parse_args()
    cache = HERE / ".cache"
    cache.mkdir(exist_ok=True)
    cases = [("day", 24, 2)] + ([] if args.skip_7d else [("week", 168, 3)])
    for label, hours, leads in cases:
        path = cache / f"holter-{label}-{args.noise}.aiecg"
        if not path.exists():
            make(path, hours, leads, args.noise)
        out = cache / f"holter-{label}-{args.noise}.result.json"
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, str(path), str(out)], capture_output=True, text=True
        )
        if proc.returncode != 0:
            print(f"{label}: analysis failed: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        m = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"{hours} h, {leads} leads, 250 Hz ({args.noise} noise): "
            f"analysed in {m['time']:.1f} s, peak memory {m['peak_mb']:.0f} MB"
        )
        evaluate(path, out)
        if args.neurokit and label == "day":
            neurokit_day(path)


if __name__ == "__main__":
    main()
