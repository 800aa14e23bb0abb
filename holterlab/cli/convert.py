"""``holterlab convert IN OUT``: convert a recording between formats."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("convert", help="convert a recording (format of OUT from its extension)")
    p.add_argument("input", help="recording to read")
    p.add_argument("output", help="file to write: .edf .bdf .hea .csv .aiecg")
    p.add_argument("--fs", type=float, default=None, help="sampling rate for CSV without one")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from holterlab.io import read, write

    options = {} if args.fs is None else {"fs": args.fs}
    with read(args.input, **options) as rec:
        out = write(rec, args.output, progress=not args.no_progress)
    print(f"wrote {out}")
    return 0
