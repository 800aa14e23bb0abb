"""Atrial-activity benchmark: flutter and AF episodes on the cached 24-h synthetic Holter.

Runs :func:`holterlab.atrial.atrial_activity_recording` on the cached 24-hour 2-lead 250 Hz
recording of ``benchmarks/holter.py`` (``benchmarks/.cache/holter-day-medium.aiecg``; made by
that script when missing) with the *truth* beats, then :func:`holterlab.rhythm.analyze_rhythm`
without and with the atrial activity, and prints the AF and AFL episode sensitivity and
positive predictivity (any-overlap, as ``benchmarks/holter.py`` scores them), the time taken
(wall and CPU, reading included and excluded) and, per truth rhythm, the fraction of windows
that look like flutter. Prints; asserts nothing.

Usage: ``python benchmarks/atrial.py [--noise medium] [--chunk 1800]``
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent


def _pct(v: float | None) -> str:
    return "   -  " if v is None else f"{100 * v:6.1f}"


def score(result, truth: dict) -> None:
    """Print AF/AFL episode Se and +P of ``result`` against the truth events."""
    from holterlab.evaluate import compare_episodes

    for ttype, mine in (("af", ("af",)), ("afl", ("afl",)), ("afl", ("afl", "af"))):
        ref = np.array(
            [[e["start_s"], e["end_s"]] for e in truth["events"] if e["type"] == ttype]
        ).reshape(-1, 2)
        got = np.array([[e.start_s, e.end_s] for e in result.events if e.type in mine]).reshape(
            -1, 2
        )
        ep = compare_episodes(ref, got, learning_s=0)
        print(
            f"    truth {ttype:4} vs found {'+'.join(mine):7}: {len(ref):3d} / {len(got):3d}"
            f"  Se {_pct(ep.episode_se)}  +P {_pct(ep.episode_pp)}"
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--noise", default="medium")
    ap.add_argument("--chunk", type=float, default=1800.0, help="chunk length in seconds")
    args = ap.parse_args()

    import holterlab
    from holterlab.annotations import read_annotations
    from holterlab.atrial import atrial_activity_recording, measure_atrial_activity
    from holterlab.params.atrial import AtrialParams
    from holterlab.rhythm import analyze_rhythm

    base = HERE / ".cache" / f"holter-day-{args.noise}"
    rec_path = base.with_suffix(".aiecg")
    if not rec_path.exists():
        sys.path.insert(0, str(HERE))
        from holter import make  # type: ignore[import-not-found]

        make(rec_path, 24, 2, args.noise)
    rec = holterlab.read(rec_path)
    ann = read_annotations(base.with_suffix(".atr")).beats()
    truth = json.loads(base.with_suffix(".truth.json").read_text())
    beats, labels = ann.sample, ann.aami()
    params = AtrialParams()

    measure_atrial_activity(rec.get_samples(None, 0, 5000), rec.fs, beats, labels)  # compile
    t0, c0 = time.perf_counter(), time.process_time()
    act = atrial_activity_recording(rec, beats, labels, params=params, chunk_s=args.chunk)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    blocks = list(rec.iter_chunks(args.chunk, overlap=params.window_s))
    t0, c0 = time.perf_counter(), time.process_time()
    for i0, x in blocks:
        measure_atrial_activity(x, rec.fs, beats, labels, params=params, offset=i0)
    wall2, cpu2 = time.perf_counter() - t0, time.process_time() - c0
    del blocks
    print(
        f"{rec.duration / 3600:.0f} h, {rec.n_leads} leads, {rec.fs:g} Hz: {act.time_s.size} "
        f"windows; with reading {wall:.2f} s wall / {cpu:.2f} s CPU; on blocks in memory "
        f"{wall2:.2f} s wall / {cpu2:.2f} s CPU"
    )
    kw = dict(duration_s=rec.duration)
    print("  rhythm from RR only:")
    score(analyze_rhythm(beats, labels, rec.fs, **kw), truth)
    print("  rhythm with atrial activity:")
    score(analyze_rhythm(beats, labels, rec.fs, atrial_activity=act, **kw), truth)

    kinds = ("af", "afl", "svt", "tachy")
    spans = [(e["type"], e["start_s"], e["end_s"]) for e in truth["events"] if e["type"] in kinds]
    name = np.full(act.time_s.size, "sinus", dtype=object)
    for kind, a, b in spans:
        name[(act.time_s >= a) & (act.time_s <= b)] = kind
    from holterlab.params.rhythm import AFParams

    afp = AFParams()
    flutter = (
        (act.organisation >= 0.5)
        & (act.atrial_rate_bpm >= afp.afl_min_atrial_bpm)
        & (act.atrial_rate_bpm <= afp.afl_max_atrial_bpm)
    )
    print(
        f"  {'truth rhythm':12} {'windows':>7} {'rate found':>10} {'flutter-like':>12} "
        f"{'P waves':>8}"
    )
    for kind in ("sinus", *kinds):
        m = name == kind
        if not m.any():
            continue
        pw = act.p_wave_fraction[m]
        pw_med = np.nanmedian(pw) if np.isfinite(pw).any() else np.nan
        print(
            f"  {kind:12} {m.sum():7d} {np.isfinite(act.atrial_rate_bpm[m]).mean():10.2f} "
            f"{flutter[m].mean():12.3f} {pw_med:8.2f}"
        )


if __name__ == "__main__":
    main()
