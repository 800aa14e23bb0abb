"""``holterlab study STUDY.yaml``: compare parameter sets (and a remote service) on recordings."""

from __future__ import annotations

import argparse
from pathlib import Path

from holterlab.cli._options import output_folder
from holterlab.errors import ParameterError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "study",
        help="run an algorithm comparison study (recordings x parameter variants)",
        description=(
            "Analyse every recording of STUDY.yaml with every parameter variant (a grid of "
            "dotted parameters and/or named variants), score each run against its reference "
            "annotations (EC57 beat statistics, AF and other episode statistics), and write "
            "study.parquet / study.csv (one row per run plus gross and average rows per "
            "variant), trade-off plots and an HTML report into the study's output folder. "
            "Runs locally or on a Dask cluster; a rerun skips finished runs. The YAML format "
            "is described in holterlab.study.spec."
        ),
    )
    p.add_argument("study", help="the study file (YAML)")
    p.add_argument("--out", help="output folder, created if missing (default: the study's out:)")
    p.add_argument(
        "--scheduler",
        help="Dask scheduler address tcp://HOST:PORT or scheduler JSON file (default: the "
        "study's scheduler:, else local)",
    )
    p.add_argument("--jobs", help="local processes when no scheduler (default: the study's jobs:)")
    p.add_argument("--force", action="store_true", help="redo finished runs too")
    p.add_argument("--no-report", action="store_true", help="skip the HTML/PDF report")
    p.add_argument("--pdf", action="store_true", help="also print the report to PDF")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from holterlab.study import load_study, run_study

    jobs = None
    if args.jobs is not None:
        try:
            jobs = int(args.jobs)
        except ValueError:
            raise ParameterError(f"--jobs must be a whole number, got {args.jobs!r}") from None
        if jobs < 1:
            raise ParameterError(f"--jobs must be at least 1, got {jobs}")
    if args.pdf and args.no_report:
        raise ParameterError("--pdf prints the report, --no-report skips it: give one of them")
    if Path(args.study).is_dir():
        raise ParameterError(f"{args.study} is a folder; give the study file (YAML)")
    from holterlab.distributed.workers import is_url

    if args.out is not None and is_url(args.out):
        raise ParameterError(f"--out {args.out}: give a folder path, not a URL")
    spec = load_study(args.study)
    if args.out is not None:
        output_folder(args.out)
    else:
        output_folder(spec.out, f"the study's out: folder ({args.study})")
    result = run_study(
        spec,
        out=args.out,
        scheduler=args.scheduler,
        jobs=jobs,
        force=args.force,
        progress=not args.no_progress,
        report=False if args.no_report else None,
        pdf=True if args.pdf else None,
    )
    c = result.counts
    n = sum(c.values())
    where = args.scheduler or spec.scheduler or "local"
    remote = " + remote" if n > len(spec.recordings) * len(spec.variants) else ""
    print(
        f"study {spec.name!r}: {len(spec.recordings)} recordings x {len(spec.variants)} "
        f"variants{remote} = {n} runs on {where}: {c['ran']} ran, {c['cached']} cached, "
        f"{c['failed']} failed, {c['cancelled']} cancelled ({result.seconds:.1f} s)"
    )
    for _, row in result.failed.iterrows():
        print(f"failed: {row['variant']} / {row['recording']}: {row['reason']}")
    for note in result.notes:
        print(f"note: {note}")
    for key in ("parquet", "csv", "html", "pdf"):
        if key in result.paths:
            print(f"wrote {result.paths[key]}")
    if result.paths.get("plots"):
        print(f"wrote {len(result.paths['plots'])} plots in {result.paths['plots'][0].parent}")
    return 1 if len(result.failed) else 0
