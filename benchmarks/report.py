"""Benchmark of holterlab.report: time to render the PDF report of a 24 h recording.

Input: a synthetic 24 h, 3-lead, 250 Hz recording (``holterlab.synth``, normal event rates,
seed 7) written as WFDB to a cache folder (``$HOLTERLAB_BENCH_CACHE`` or
``~/.cache/holterlab/bench``; about 5 minutes the first time). Its result is computed from
the reference beats (rhythm, HRV, ST/QT), then the report is rendered from the result JSON
and the recording (strips included). Prints the times of each step, the notebook execution
and the PDF printing separately, and the PDF's size; no asserts.

Run: ``.venv/bin/python benchmarks/report.py [--hours 24] [--detect]`` (``--detect`` also times
the report made straight from the recording, which runs the whole analysis in the notebook).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))


def cache_dir() -> Path:
    env = os.environ.get("HOLTERLAB_BENCH_CACHE")
    path = Path(env) if env else Path.home() / ".cache" / "holterlab" / "bench"
    path.mkdir(parents=True, exist_ok=True)
    return path


def recording(hours: float) -> Path:
    from holterlab.synth import SynthParams, generate

    path = cache_dir() / f"report_bench_{hours:g}h.hea"
    if path.is_file() and path.with_suffix(".atr").is_file():
        return path
    t = time.perf_counter()
    generate(path, hours=hours, leads=3, fs=250, seed=7, params=SynthParams(), progress=True)
    print(f"synthesised {hours:g} h recording in {time.perf_counter() - t:.1f} s -> {path}")
    return path


def pages(pdf: Path) -> str:
    try:
        info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
        return next((ln.split()[1] for ln in info.splitlines() if ln.startswith("Pages:")), "?")
    except OSError:
        return "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--hours", type=float, default=24.0)
    ap.add_argument("--detect", action="store_true", help="also render from the recording alone")
    args = ap.parse_args()

    import holterlab
    from holterlab.report.context import analyse
    from holterlab.report.render import execute_report, export_pdf, render_report

    rec_path = recording(args.hours)
    with tempfile.TemporaryDirectory(prefix="holterlab-bench-") as tmp:
        work = Path(tmp)
        t = time.perf_counter()
        result = analyse(holterlab.read(rec_path), beats="annotations")
        result_json = work / "bench.result.json"
        result.to_json(result_json, include_beats=True)
        print(
            f"analysis from reference beats: {time.perf_counter() - t:.1f} s "
            f"({result.beats['total']:,} beats, result JSON "
            f"{result_json.stat().st_size / 1e6:.1f} MB)"
        )

        t = time.perf_counter()
        pdf = render_report(result_json, work / "bench.pdf", recording_path=rec_path)
        total = time.perf_counter() - t
        print(
            f"render_report, {args.hours:g} h result + recording: {total:.1f} s "
            f"({pages(pdf)} pages, {pdf.stat().st_size / 1e6:.2f} MB)"
        )

        t = time.perf_counter()
        nb, _ = execute_report(
            {"result_path": str(result_json), "recording_path": str(rec_path)}, workdir=work
        )
        t_exec = time.perf_counter() - t
        cells = {
            (c.metadata.get("tags") or ["?"])[0]: c.metadata.get("papermill", {}).get("duration")
            for c in nb.cells
            if c.cell_type == "code"
        }
        t = time.perf_counter()
        export_pdf(nb)
        t_pdf = time.perf_counter() - t
        print(f"  notebook execution {t_exec:.1f} s, PDF printing {t_pdf:.1f} s")
        print("  cells: " + ", ".join(f"{k} {v:.1f} s" for k, v in cells.items() if v))

        if args.detect:
            t = time.perf_counter()
            render_report(rec_path, work / "detect.pdf")
            print(
                f"render_report from the recording (full analysis): {time.perf_counter() - t:.1f} s"
            )


if __name__ == "__main__":
    main()
