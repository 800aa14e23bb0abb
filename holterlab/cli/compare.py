"""``holterlab compare A B``: compare two analysis results, or a result with reference annotations.

A and B are result JSON files (``holterlab analyze --include-beats``,
``HolterResult.to_json``) or WFDB annotation files (``100.atr``, ``100.hlab``). A is the
reference. Prints the EC57 beat statistics and confusion matrix, the episode agreement per
event type, the headline numbers side by side (two results) and the first disagreements;
``--json`` prints everything as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys

from holterlab.errors import ParameterError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "compare",
        help="compare two analysis results (or a result with reference annotations)",
        description=(
            "Compare two Holter analyses: local vs remote result, two parameter sets, or a "
            "result vs reference annotations. A is the reference. Beats are matched as "
            "ANSI/AAMI EC57 / bxb (QRS, VEB, SVEB Se/+P/FPR and the confusion matrix), the "
            "episodes of each event type as epicmp (episode and duration Se/+P); two results "
            "also get their headline numbers side by side."
        ),
    )
    p.add_argument("a", metavar="A", help="reference: result JSON or annotation file (.atr)")
    p.add_argument("b", metavar="B", help="result JSON or annotation file (.hlab, .atr)")
    p.add_argument(
        "--window-ms", type=float, default=150.0, help="beat match window in ms (default 150)"
    )
    p.add_argument(
        "--learning-s",
        type=float,
        default=0.0,
        help="unscored period at the start, seconds (default 0; EC57 uses 300)",
    )
    p.add_argument(
        "--events",
        default=None,
        metavar="TYPES",
        help="comma-separated event types to compare (default: all comparable ones)",
    )
    p.add_argument(
        "--fs", type=float, default=None, help="sampling rate for files that do not store one"
    )
    p.add_argument(
        "--max-disagreements",
        type=int,
        default=1000,
        help="cap on the disagreements listed in --json output (default 1000)",
    )
    p.add_argument(
        "--rows",
        type=int,
        default=20,
        help="disagreements printed in the text report (default 20; 0 prints none)",
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from holterlab.compare import compare

    if args.rows < 0:
        raise ParameterError(f"--rows must be 0 or more, got {args.rows}")
    if args.max_disagreements < 0:
        raise ParameterError(f"--max-disagreements must be 0 or more, got {args.max_disagreements}")
    event_types = None
    if args.events is not None:
        event_types = [t.strip() for t in args.events.split(",") if t.strip()]
        if not event_types:
            raise ParameterError("--events needs at least one event type, e.g. --events af,pause")
    comparison = compare(
        args.a,
        args.b,
        window_ms=args.window_ms,
        learning_s=args.learning_s,
        event_types=event_types,
        fs=args.fs,
        max_disagreements=args.max_disagreements,
    )
    if args.json:
        json.dump(comparison.to_dict(), sys.stdout, indent=1, allow_nan=False)
        print()
    else:
        print(comparison.format(max_rows=args.rows))
    return 0
