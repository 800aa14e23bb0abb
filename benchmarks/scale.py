"""Scaling benchmark of the Dask executor: throughput with 1 and 2 workers.

Starts its own local cluster (:class:`holterlab.distributed.cluster.ProcessCluster`: a
scheduler and single-threaded workers as separate processes on 127.0.0.1), runs the same
workload through :func:`holterlab.distributed.map_tasks` with 1 and then 2 workers, prints
recordings per minute and the scaling ratio, and stops the cluster. Asserts nothing.

Workload (``--mode``):

* ``beats`` (default): :func:`holterlab.distributed.analyze_annotation_path` (rhythm and HRV
  from beat annotations) on the two 24-hour NSRDB annotation files and the MIT-BIH DS1 ``.atr``
  files, each ``--repeat`` times;
* ``signal``: :func:`holterlab.distributed.analyze_path` (the whole analysis) on MIT-BIH DS1
  records (needs the QRS detector and classifier).

Each worker first runs a warm-up item (imports, numba compilation) that is not timed. On a
2-core machine shared with other work, expect a ratio below 2.

Run: ``.venv/bin/python benchmarks/scale.py [--mode beats|signal] [--repeat N] [--limit N]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from holterlab.distributed import analyze_annotation_path, analyze_path, map_tasks
from holterlab.distributed.cluster import ProcessCluster

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("HOLTERLAB_SHARED", REPO.parent / "shared")) / "data"
DS1 = [101, 106, 108, 109, 112, 114, 115, 116, 118, 119, 122, 124, 201, 203, 205, 207, 208,
       209, 215, 220, 223, 230]  # fmt: skip


def workload(mode: str, repeat: int, limit: int | None) -> tuple[object, list[str]]:
    if mode == "beats":
        items = [str(DATA / "nsrdb" / f"{r}.atr") for r in (16272, 17453)]
        items += [str(DATA / "mitdb" / f"{r}.atr") for r in DS1]
        func = analyze_annotation_path
    else:
        items = [str(DATA / "mitdb" / f"{r}.hea") for r in DS1]
        func = analyze_path
    items = items[:limit] if limit else items
    return func, items * repeat


def run(func, items: list[str], n_workers: int) -> tuple[float, int, int]:
    """Seconds for ``items`` on ``n_workers`` workers; ok and failed counts."""
    with ProcessCluster(n_workers, nthreads=1) as cluster:
        # warm every worker up (imports, numba JIT) with one untimed item each
        warm = list(map_tasks(func, items[:n_workers], scheduler=cluster.address))
        if not all(o.ok for o in warm):
            print(f"   warm-up failed: {[o.error for o in warm if not o.ok]}")
        t0 = time.perf_counter()
        outs = list(map_tasks(func, items, scheduler=cluster.address, progress=False))
        seconds = time.perf_counter() - t0
    ok = sum(o.ok for o in outs)
    return seconds, ok, len(outs) - ok


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("beats", "signal"), default="beats")
    parser.add_argument("--repeat", type=int, default=2, help="run the item list N times")
    parser.add_argument("--limit", type=int, default=None, help="use only the first N items")
    args = parser.parse_args(argv)
    func, items = workload(args.mode, args.repeat, args.limit)
    missing = [p for p in items if not Path(p).is_file()]
    if missing:
        print(f"reference data missing ({missing[0]} ...); set HOLTERLAB_SHARED")
        return 1
    print(
        f"== Dask scaling: {func.__name__} on {len(items)} recordings "
        f"({os.cpu_count()} CPUs on this machine)"
    )
    results = {}
    for n in (1, 2):
        seconds, ok, failed = run(func, items, n)
        rate = 60.0 * len(items) / seconds
        results[n] = rate
        print(
            f"   {n} worker{'s' if n > 1 else ' '}: {seconds:6.1f} s  "
            f"{rate:7.1f} recordings/min  ({ok} ok, {failed} failed)"
        )
    print(f"   scaling 1 -> 2 workers: x{results[2] / results[1]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
