"""``holterlab report PATH --out FILE.pdf``: the PDF Holter report of a recording or a result."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from holterlab.cli._options import json_object
from holterlab.errors import ParameterError


def parse_params(text: str | None) -> dict[str, Any] | None:
    """``--params``: a JSON file or a JSON object given inline."""
    return json_object(text, "--params")


def _patient(args: argparse.Namespace) -> dict[str, Any]:
    patient: dict[str, Any] = {}
    for key in ("id", "name", "age", "sex"):
        value = getattr(args, f"patient_{key}")
        if value not in (None, ""):
            patient[key] = value
    for item in args.patient or []:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ParameterError(f"--patient takes FIELD=VALUE, got {item!r}")
        patient[key.strip()] = value.strip()
    return patient


def add_common(p: argparse.ArgumentParser) -> None:
    """Options shared by ``report`` and ``batch``."""
    p.add_argument("--paper", default="A4", help="paper size: A4 (default) or Letter")
    p.add_argument("--params", help="analysis parameters: a JSON file or an inline JSON object")
    p.add_argument(
        "--beats",
        default="detect",
        choices=("detect", "annotations"),
        help="beats from the QRS detector (default) or the recording's reference annotations",
    )


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="render the PDF report of a recording or of a result JSON",
        description=(
            "Render the Holter report (summary and findings, heart-rate trend, ectopy, AF, "
            "pauses, HRV, ST/QT, ECG strips of the key events) to PDF. PATH is a recording "
            "(analysed first) or a result JSON (NAME.result.json); give the recording too "
            "(--recording, or PATH a recording with --result) for ECG strips."
        ),
    )
    p.add_argument("path", help="a recording, or a result JSON")
    p.add_argument("--out", required=True, help="the PDF to write")
    p.add_argument("--result", help="with PATH a recording: its result JSON (no new analysis)")
    p.add_argument("--recording", help="with PATH a result JSON: its recording (for strips)")
    p.add_argument("--save-result", help="when PATH is analysed: also write its result JSON")
    p.add_argument("--keep-notebook", help="also save the executed notebook (.ipynb)")
    p.add_argument("--title", help="report title (default 'Holter ECG report')")
    p.add_argument("--patient-id", help="patient ID")
    p.add_argument("--patient-name", help="patient name")
    p.add_argument("--patient-age", help="patient age")
    p.add_argument("--patient-sex", help="patient sex")
    p.add_argument(
        "--patient",
        action="append",
        metavar="FIELD=VALUE",
        help="any other patient field (repeatable)",
    )
    add_common(p)
    p.add_argument("--progress", action="store_true", help="show the cell progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from holterlab.report import render_report
    from holterlab.report.render import is_result_path

    path = Path(args.path)
    if args.result and args.recording:
        raise ParameterError("give --result (PATH a recording) or --recording (PATH a result)")
    if is_result_path(path):
        if args.result:
            raise ParameterError("PATH is already a result JSON; drop --result")
        source, recording = path, args.recording
    elif args.result:
        source, recording = Path(args.result), path
    else:
        if args.recording:
            raise ParameterError("--recording goes with a result JSON as PATH")
        source, recording = path, None
    if args.save_result and is_result_path(source):
        raise ParameterError("--save-result is for a recording that is analysed here")
    t0 = time.perf_counter()
    out = render_report(
        source,
        args.out,
        recording_path=recording,
        params=parse_params(args.params),
        patient=_patient(args),
        paper=args.paper,
        keep_notebook=args.keep_notebook,
        progress=args.progress,
        beats=args.beats,
        result_out=args.save_result,
        title=args.title,
    )
    print(f"wrote {out} ({time.perf_counter() - t0:.1f} s)")
    if args.save_result:
        print(f"wrote {args.save_result}")
    if args.keep_notebook:
        print(f"wrote {args.keep_notebook}")
    return 0
