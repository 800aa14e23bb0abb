"""Dashboard benchmark: first paint, pan/zoom re-render and memory of 24-hour and 7-day files.

Writes (once, cached in ``benchmarks/.cache/dashboard`` or ``--dir``) synthetic 2-lead 250 Hz
aiecg recordings of 24 hours and 7 days with their result JSON (rhythm analysis of the
synthetic truth beats), then measures, each in a fresh subprocess:

- ``first paint``: from :meth:`WorkbenchModel.open` (recording + result) to the overview
  image rendered and the Bokeh models of the overview, trend and event track built - cold
  (the min/max pyramid is built, streaming the file) and warm (pyramid from the disk cache).
  What ``holterlab dashboard`` does once at start-up, before any recording is opened
  (imports, Datashader's JIT compile), is done first and reported separately;
- ``pan/zoom``: a new x range on the live overview plot (HoloViews' Bokeh plot, as the server
  updates it): pyramid read + Datashader + image update, median and worst of 30 windows
  from 7 days down to 10 seconds; and a detail-view page turn;
- ``memory``: the subprocess's peak resident memory (MB) while opening, and the file size.

Targets (issue): first paint <= 3 s for 24 h, pan/zoom <= 0.5 s, a 7-day recording opens
without loading it whole. Prints a table; asserts nothing.

Usage: ``python benchmarks/dashboard.py [--skip-7d] [--dir DIR]``
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def make(folder: Path, name: str, hours: float) -> tuple[Path, Path]:
    """Write NAME.aiecg and NAME.result.json (cached)."""
    rec_path = folder / f"{name}.aiecg"
    res_path = folder / f"{name}.result.json"
    if rec_path.is_file() and res_path.is_file():
        return rec_path, res_path
    from holterlab.io import write
    from holterlab.pipeline import analyze_beats
    from holterlab.synth import synthesize

    folder.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    rec, truth = synthesize(hours=hours, leads=2, fs=250, seed=11)
    write(rec, rec_path)
    result = analyze_beats(
        truth.annotations, duration_s=rec.duration, start_time=rec.start_time, name=name
    )
    result.to_json(res_path, include_beats=True)
    print(f"  wrote {rec_path.name} ({hours:g} h) in {time.perf_counter() - t0:.0f} s", flush=True)
    return rec_path, res_path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _rss_mb() -> dict[str, float]:
    """Current resident memory split into anonymous (heap) and file-backed (mapped files)."""
    out = {}
    with open("/proc/self/status") as fh:
        for line in fh:
            key, _, value = line.partition(":")
            if key in ("RssAnon", "RssFile"):
                out[key] = int(value.split()[0]) / 1024.0
    return out


def child_open(rec_path: str, res_path: str, cache: str) -> dict:
    """First paint of a recording in this (fresh) process."""
    import os

    os.environ["HOLTERLAB_CACHE_DIR"] = cache
    t0 = time.perf_counter()
    import panel as pn

    from holterlab.ui.models import WorkbenchModel
    from holterlab.ui.views import OverviewView
    from holterlab.viz import ensure_bokeh
    from holterlab.viz.overview import warm_up

    # what `holterlab dashboard` does at start-up, before a recording is opened
    WorkbenchModel(background=False)
    ensure_bokeh()
    imports_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    warm_up()
    jit_s = time.perf_counter() - t0
    base_mb = _peak_mb()
    base_anon = _rss_mb().get("RssAnon", 0.0)

    t0 = time.perf_counter()
    model = WorkbenchModel(background=False)
    model.open(rec_path, res_path)
    opened_s = time.perf_counter() - t0
    view = OverviewView(model)
    root = pn.panel(view).get_root()  # builds the figures; runs the overview callback
    paint_s = time.perf_counter() - t0
    assert root is not None and model.pyramid is not None
    rss = _rss_mb()
    return {
        "anon_mb": rss.get("RssAnon", 0.0) - base_anon,
        "file_mb": rss.get("RssFile", 0.0),
        "imports_s": imports_s,
        "jit_s": jit_s,
        "open_s": opened_s,
        "first_paint_s": paint_s,
        "pyramid_s": model.last_timings.get("pyramid_s"),
        "families_s": model.last_timings.get("families_s"),
        "peak_mb": _peak_mb(),
        "base_mb": base_mb,
        "pyramid_mb": model.pyramid.nbytes_on_disk() / 1e6,
        "beats": int(model.samples.size),
    }


def child_interact(rec_path: str, res_path: str, cache: str) -> dict:
    """Pan/zoom re-render times on the live overview plot, and detail page turns."""
    import os

    import numpy as np

    os.environ["HOLTERLAB_CACHE_DIR"] = cache
    import holoviews as hv

    from holterlab.ui.models import WorkbenchModel
    from holterlab.viz import ensure_bokeh
    from holterlab.viz.detail import detail_data, detail_elements, detail_options
    from holterlab.viz.overview import overview_plot, warm_up

    ensure_bokeh()
    warm_up()
    model = WorkbenchModel(background=False)
    model.open(rec_path, res_path)
    dmap = overview_plot(model.pyramid, start_time=model.recording.start_time)
    plot = hv.renderer("bokeh").get_plot(dmap)
    plot.state.width = 1400
    range_stream = next(s for s in dmap.streams if isinstance(s, hv.streams.RangeX))
    size_stream = next(s for s in dmap.streams if isinstance(s, hv.streams.PlotSize))
    size_stream.event(width=1400, height=240)
    rng = np.random.default_rng(0)
    duration = model.duration_s
    spans = np.geomspace(10.0, duration, 30)
    times = []
    for span in rng.permutation(spans):
        start = float(rng.uniform(0, duration - span))
        t0 = time.perf_counter()
        range_stream.event(x_range=(start, start + span))
        times.append(time.perf_counter() - t0)
    image = plot.handles["source"].data
    assert image, "the overview plot holds no image"

    # detail view: one page turn (read, grid, markers, Bokeh update)
    page = []

    def data(start):
        return detail_data(
            model.recording,
            start,
            10.0,
            width=1100,
            beat_samples=model.samples,
            beat_labels=model.labels,
        )

    # as the dashboard's DetailView: options once, elements updated in place
    detail = hv.DynamicMap(
        lambda start: detail_elements(data(start)),
        streams=[hv.streams.Stream.define("Start", start=0.0)()],
    ).opts(*detail_options(data(0.0)))
    dplot = hv.renderer("bokeh").get_plot(detail)
    for _ in range(10):
        t0 = time.perf_counter()
        detail.event(start=float(rng.uniform(0, duration - 10)))
        page.append(time.perf_counter() - t0)
    assert dplot.state is not None

    # re-analysis of the visible 10-s window (needs the QRS detector)
    rerun = []
    if model.analysis_enabled:
        for _ in range(4):
            model.jump_to(float(rng.uniform(0, duration - 10)))
            try:
                rerun.append(model.rerun_window())
            except Exception:  # the detector or classifier is not ready
                break
    return {
        "rerun_first_s": rerun[0] if rerun else float("nan"),
        "rerun_median_s": float(np.median(rerun[1:])) if len(rerun) > 1 else float("nan"),
        "zoom_median_s": float(np.median(times)),
        "zoom_max_s": float(np.max(times)),
        "page_median_s": float(np.median(page)),
        "page_max_s": float(np.max(page)),
        "peak_mb": _peak_mb(),
    }


def run_child(kind: str, rec: Path, res: Path, cache: Path) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(rec), str(res), str(cache)],
        capture_output=True,
        text=True,
    )
    if out.returncode != 0:
        raise RuntimeError(f"{kind} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=HERE / ".cache" / "dashboard")
    parser.add_argument("--skip-7d", action="store_true")
    parser.add_argument("--child", nargs=4, metavar=("KIND", "REC", "RESULT", "CACHE"))
    args = parser.parse_args()
    if args.child:
        kind, rec, res, cache = args.child
        fn = child_open if kind == "open" else child_interact
        print(json.dumps(fn(rec, res, cache)))
        return

    cases = [("24h", 24.0)] + ([] if args.skip_7d else [("7d", 168.0)])
    print("preparing recordings (cached)...", flush=True)
    files = {name: make(args.dir, f"bench_{name}", hours) for name, hours in cases}
    rows = []
    for name, _ in cases:
        rec, res = files[name]
        cache = args.dir / f"pyramids_{name}"
        shutil.rmtree(cache, ignore_errors=True)
        cold = run_child("open", rec, res, cache)
        warm = run_child("open", rec, res, cache)
        inter = run_child("interact", rec, res, cache)
        rows.append((name, rec.stat().st_size / 1e6, cold, warm, inter))

    print()
    print("first paint = open recording + result + overview image + Bokeh figures (s);")
    print("peak MB = whole process (Panel/HoloViews/scipy imports ~550 MB, mapped file pages);")
    print("+heap MB = anonymous memory added by opening (warm), i.e. what the recording costs")
    print(
        f"{'rec':>4} {'file MB':>8} {'JIT s':>6} {'cold s':>7} {'(pyramid)':>9} {'warm s':>7} "
        f"{'peak MB cold':>12} {'peak MB warm':>12} {'+heap MB':>8} {'pyr MB':>7} {'beats':>8}"
    )
    for name, size, cold, warm, _ in rows:
        print(
            f"{name:>4} {size:8.0f} {cold['jit_s']:6.2f} {cold['first_paint_s']:7.2f} "
            f"{cold['pyramid_s']:9.2f} {warm['first_paint_s']:7.2f} {cold['peak_mb']:12.0f} "
            f"{warm['peak_mb']:12.0f} {warm['anon_mb']:8.0f} {cold['pyramid_mb']:7.1f} "
            f"{cold['beats']:8d}"
        )
    print()
    print("pan/zoom re-render of the overview (30 windows, 10 s .. whole) and detail page turn")
    print(
        f"{'rec':>4} {'zoom median s':>13} {'zoom max s':>10} {'page median s':>13} "
        f"{'page max s':>10} {'window re-run s (1st / median)':>31}"
    )
    for name, _, _, _, inter in rows:
        print(
            f"{name:>4} {inter['zoom_median_s']:13.3f} {inter['zoom_max_s']:10.3f} "
            f"{inter['page_median_s']:13.3f} {inter['page_max_s']:10.3f} "
            f"{inter['rerun_first_s']:15.3f} / {inter['rerun_median_s']:.3f}"
        )
    print()
    print("targets: first paint <= 3 s (24 h), pan/zoom <= 0.5 s, 7 days without loading whole")


if __name__ == "__main__":
    main()
