"""``holterlab batch FOLDER --out OUTDIR``: analysis and report of every recording in a folder."""

from __future__ import annotations

import argparse
from pathlib import Path

from holterlab.cli._options import output_folder
from holterlab.cli.report import add_common, parse_params
from holterlab.errors import ParameterError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "batch",
        help="analyse and report every recording in a folder",
        description=(
            "Analyse every recording of FOLDER and render its PDF report (through papermill) "
            "into OUTDIR as NAME.result.json and NAME.pdf, then write summary.csv and "
            "summary.parquet (one row per recording with its headline numbers). A recording "
            "that fails is listed with its reason and does not stop the others; a rerun skips "
            "recordings whose result and PDF exist."
        ),
    )
    p.add_argument(
        "folder",
        help="folder of recordings (.edf .bdf .hea .zip .csv .aiecg .ecg), or an fsspec URL "
        "such as s3://bucket/holter/",
    )
    p.add_argument("--out", required=True, help="output folder (created if missing)")
    p.add_argument("--jobs", default="1", help="recordings processed at once (default 1)")
    p.add_argument(
        "--scheduler",
        default=None,
        metavar="tcp://HOST:PORT",
        help="run on a Dask cluster (workers must reach the recordings and --out)",
    )
    p.add_argument("--recursive", action="store_true", help="also look in subfolders")
    p.add_argument("--force", action="store_true", help="redo finished recordings too")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_common(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from holterlab.batch import run_batch

    try:
        jobs = int(args.jobs)
    except ValueError:
        raise ParameterError(f"--jobs must be a whole number, got {args.jobs!r}") from None
    if jobs < 1:
        raise ParameterError(f"--jobs must be at least 1, got {jobs}")
    params = parse_params(args.params)
    from holterlab.distributed.workers import is_url

    if not is_url(args.folder) and not Path(args.folder).is_dir():
        raise ParameterError(f"{args.folder} is not a folder; give the folder of recordings")
    if is_url(args.out):
        raise ParameterError(
            f"--out {args.out}: give a folder path (on a Dask cluster, a disk every worker "
            "mounts), not a URL"
        )
    output_folder(args.out)
    summary = run_batch(
        args.folder,
        args.out,
        jobs=jobs,
        params=params,
        beats=args.beats or "detect",
        paper=args.paper,
        recursive=args.recursive,
        force=args.force,
        progress=not args.no_progress,
        scheduler=args.scheduler,
    )
    c = summary.counts
    print(
        f"{len(summary.rows)} recordings: {c.get('ok', 0)} done, {c.get('skipped', 0)} already "
        f"finished, {c.get('failed', 0)} failed ({summary.seconds:.1f} s)"
    )
    for row in summary.failed:
        print(f"failed: {row['recording']}: {row['reason']}")
    print(f"wrote {summary.csv_path}")
    print(f"wrote {summary.parquet_path}")
    return 1 if summary.failed else 0
