"""``holterlab report PATH --out FILE.pdf``: the PDF Holter report of a recording or a result."""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from holterlab.cli._options import analysis_params, json_object, output_file
from holterlab.errors import ParameterError, RecordingNotFoundError


def parse_params(text: str | None) -> dict[str, Any] | None:
    """``--params``: a JSON file or a JSON object given inline, checked as AnalysisParams."""
    params = json_object(text, "--params")
    if params is not None:
        analysis_params(params)  # a bad key fails now, not in the notebook minutes later
    return params


def check_recording(path: str | Path, option: str) -> None:
    """Open the recording's header now, so that a broken file is one line before any work."""
    from holterlab.io import read

    p = Path(path)
    if p.is_dir():
        raise ParameterError(f"{option} {p} is a folder; give a recording file")
    if not (p.exists() or p.with_name(p.name + ".hea").is_file()):
        raise RecordingNotFoundError(f"{p}: no such recording")
    with read(p):
        pass


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
        default=None,
        choices=("detect", "annotations"),
        help="beats from the QRS detector (default: detect) or the recording's reference "
        "annotations",
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
    analysed_here = not is_result_path(source)
    if not analysed_here:
        for given, option in (
            (args.save_result, "--save-result"),
            (args.params, "--params"),
            (args.beats, "--beats"),
        ):
            if given:
                raise ParameterError(
                    f"{option} is for a recording that is analysed here; the report of a result "
                    f"JSON uses the analysis stored in it: drop {option}"
                )
    params = parse_params(args.params)
    patient = _patient(args)
    if analysed_here:
        check_recording(source, "PATH")
    elif recording is not None:
        check_recording(recording, "--recording" if args.recording else "PATH")
    output_file(args.out, "--out")
    for extra, option in (
        (args.save_result, "--save-result"),
        (args.keep_notebook, "--keep-notebook"),
    ):
        if extra:
            output_file(extra, option)
    t0 = time.perf_counter()
    out = render_report(
        source,
        args.out,
        recording_path=recording,
        params=params,
        patient=patient,
        paper=args.paper,
        keep_notebook=args.keep_notebook,
        progress=args.progress,
        beats=args.beats or "detect",
        result_out=args.save_result,
        title=args.title,
    )
    print(f"wrote {out} ({time.perf_counter() - t0:.1f} s)")
    if args.save_result:
        print(f"wrote {args.save_result}")
    if args.keep_notebook:
        print(f"wrote {args.keep_notebook}")
    return 0
