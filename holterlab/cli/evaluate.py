"""``holterlab evaluate REF TEST``: beat-by-beat (and AF episode) comparison as EC57 / bxb.

REF and TEST are two WFDB annotation files (``100.atr 100.hlab``) or two folders, whose
files are paired by record name (``REF/*.atr`` with ``TEST/*.hlab`` by default). When a
``.hea`` header lies beside a reference file, the record length is the end of the
comparison (as bxb); otherwise it ends at the last reference beat.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import warnings
from pathlib import Path
from typing import Any

from holterlab.cli._options import at_least, positive
from holterlab.errors import ParameterError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="compare test beat annotations with reference ones (ANSI/AAMI EC57, like bxb)",
        description=(
            "Beat-by-beat comparison of WFDB annotation files as PhysioNet's bxb does it: "
            "150 ms match window, 5-minute learning period, AAMI classes N S V F Q; prints "
            "QRS, VEB and SVEB sensitivity, positive predictivity and false positive rate per "
            "record, gross and averaged, and the gross confusion matrix."
        ),
    )
    p.add_argument("reference", help="reference annotation file (e.g. 100.atr) or folder")
    p.add_argument("test", help="test annotation file (e.g. 100.hlab) or folder")
    p.add_argument(
        "--window-ms", type=float, default=150.0, help="match window in ms (default 150)"
    )
    p.add_argument(
        "--learning-s",
        type=float,
        default=300.0,
        help="unscored learning period at the start, seconds (default 300; 0 scores all)",
    )
    p.add_argument(
        "--end-s",
        type=float,
        default=None,
        help="end of the comparison in seconds (default: record length from the .hea beside "
        "the reference, else the last reference beat)",
    )
    p.add_argument("--ref-ext", default="atr", help="reference extension in folders (atr)")
    p.add_argument("--test-ext", default="hlab", help="test extension in folders (hlab)")
    p.add_argument(
        "--fs", type=float, default=None, help="sampling rate for files that do not store one"
    )
    p.add_argument(
        "--bxb-classes",
        action="store_true",
        help="map beat symbols as bxb does (escape beats e j n count as S)",
    )
    p.add_argument(
        "--af", action="store_true", help="also compare AF episodes ((AFIB rhythm), as epicmp"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=run)


def _natural_key(name: str) -> tuple:
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name))


def _clean_ext(ext: str) -> str:
    ext = ext.lstrip(".")
    if not ext or "/" in ext:
        raise ParameterError(f"invalid annotation extension {ext!r}")
    return ext


def _record_length_s(directory: Path, record: str) -> float | None:
    """The record length from ``record.hea`` in ``directory``, if there is one."""
    header = directory / f"{record}.hea"
    if not header.is_file():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import wfdb

        try:
            h = wfdb.rdheader(str(directory / record))
        except Exception:  # an unreadable header: fall back to the last reference beat
            return None
    if not h.sig_len or not h.fs or h.fs <= 0:
        return None
    return float(h.sig_len) / float(h.fs)


def _pairs(args: argparse.Namespace) -> tuple[dict[str, tuple[Path, Path]], list[str], list[str]]:
    ref, test = Path(args.reference), Path(args.test)
    ref_ext, test_ext = _clean_ext(args.ref_ext), _clean_ext(args.test_ext)
    if ref.is_dir() != test.is_dir() and ref.exists() and test.exists():
        kinds = ["folder" if p.is_dir() else "file" for p in (ref, test)]
        raise ParameterError(
            f"give two annotation files or two folders, not a {kinds[0]} ({ref}) "
            f"and a {kinds[1]} ({test})"
        )
    if not ref.is_dir():
        record = ref.name[: -len(ref.suffix)] if ref.suffix else ref.name
        return {record: (ref, test)}, [], []
    refs = {p.name[: -len(ref_ext) - 1]: p for p in ref.glob(f"*.{ref_ext}") if p.is_file()}
    tests = {p.name[: -len(test_ext) - 1]: p for p in test.glob(f"*.{test_ext}") if p.is_file()}
    common = sorted(set(refs) & set(tests), key=_natural_key)
    missing_test = sorted(set(refs) - set(tests), key=_natural_key)
    missing_ref = sorted(set(tests) - set(refs), key=_natural_key)
    if not common:
        raise ParameterError(
            f"no record has both {ref}/*.{ref_ext} and {test}/*.{test_ext}; check the folders "
            "or pass --ref-ext/--test-ext"
        )
    return {name: (refs[name], tests[name]) for name in common}, missing_test, missing_ref


def run(args: argparse.Namespace) -> int:
    from holterlab.annotations import read_annotations
    from holterlab.evaluate import (
        BXB_CLASS_MAP,
        episodes_from_rhythm,
        evaluate_episodes,
        evaluate_records,
    )

    positive(args.fs, "--fs", " of Hz")
    positive(args.window_ms, "--window-ms", " of ms")
    at_least(args.learning_s, 0, "--learning-s")
    if args.end_s is not None and not args.end_s > args.learning_s:  # also NaN
        raise ParameterError(
            f"--end-s ({args.end_s:g} s) must come after the learning period "
            f"(--learning-s {args.learning_s:g} s); give a later end or a shorter --learning-s"
        )
    pairs, missing_test, missing_ref = _pairs(args)
    loaded = {}
    ends: dict[str, float | None] = {}
    for name, (ref_path, test_path) in pairs.items():
        reference = read_annotations(ref_path, fs=args.fs)
        test = read_annotations(test_path, fs=args.fs)
        loaded[name] = (reference, test)
        ends[name] = (
            args.end_s
            if args.end_s is not None
            else _record_length_s(ref_path.parent, ref_path.name[: -len(ref_path.suffix)])
        )
        if ends[name] is not None and ends[name] < args.learning_s:
            ends[name] = None  # a record shorter than the learning period: score nothing extra
    report = evaluate_records(
        loaded,
        window_ms=args.window_ms,
        learning_s=args.learning_s,
        end_s=ends,
        class_map=BXB_CLASS_MAP if args.bxb_classes else None,
    )
    episodes = None
    if args.af:
        episodes = evaluate_episodes(
            {
                k: (
                    episodes_from_rhythm(r, "(AFIB", end_s=ends[k]),
                    episodes_from_rhythm(t, "(AFIB", end_s=ends[k]),
                )
                for k, (r, t) in loaded.items()
            },
            learning_s=args.learning_s,
            end_s=ends,
            exclude={
                k: episodes_from_rhythm(r, "(AFL", end_s=ends[k]) for k, (r, _) in loaded.items()
            },
        )
    if args.json:
        out: dict[str, Any] = {
            "settings": {
                "window_ms": args.window_ms,
                "learning_s": args.learning_s,
                "end_s": ends,
                "class_map": "bxb" if args.bxb_classes else "aami",
            },
            **report.to_dict(),
            "missing_test": missing_test,
            "missing_reference": missing_ref,
        }
        if episodes is not None:
            out["af_episodes"] = episodes.to_dict()
        json.dump(out, sys.stdout, indent=2)
        print()
        return 0
    print(report.format())
    if episodes is not None:
        print()
        print(episodes.format(title="AF episodes ((AFIB), epicmp rules; Se/+P in percent"))
    if missing_test:
        print(f"\nno test annotations (.{args.test_ext}) for: {', '.join(missing_test)}")
    if missing_ref:
        print(f"no reference annotations (.{args.ref_ext}) for: {', '.join(missing_ref)}")
    return 0
