"""``holterlab convert IN OUT``: convert a recording between formats."""

from __future__ import annotations

import argparse

from holterlab.cli._options import (
    add_read_options,
    output_file,
    output_format,
    recording_options,
)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="convert a recording (format of OUT from its extension)")
    p.add_argument("input", help="recording to read")
    p.add_argument("output", help="file to write: .edf .bdf .hea .csv .aiecg")
    p.add_argument(
        "--fs", type=float, default=None, help="sampling rate in Hz of a CSV input without one"
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_read_options(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from holterlab.io import read, write

    output_format(args.output, "OUT")
    with read(
        args.input, **recording_options(args.input, args.fs, format=args.format, repair=args.repair)
    ) as rec:
        output_file(args.output, "OUT")
        out = write(rec, args.output, progress=not args.no_progress)
    print(f"wrote {out}")
    return 0
