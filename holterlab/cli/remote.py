"""``holterlab remote``: analyse a recording on a Holter analysis service."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from holterlab.cli._options import http_url, json_object, output_folder, positive
from holterlab.errors import ParameterError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("remote", help="analyse recordings on a Holter analysis service")
    rsub = p.add_subparsers(dest="remote_command", metavar="ACTION")
    rsub.required = True

    a = rsub.add_parser(
        "analyze",
        help="upload a recording, analyse it remotely, save the result JSON and PDF",
        description=(
            "Uploads PATH to the service, waits for the analysis and writes "
            "OUT/NAME.remote.result.json and OUT/NAME.remote.report.pdf."
        ),
    )
    a.add_argument("path", help="recording (.aiecg .edf .csv, a WFDB .hea or a .zip of one)")
    _common(a)
    a.add_argument("--out", required=True, help="output folder")
    a.add_argument(
        "--format",
        dest="file_format",
        default=None,
        choices=["aiecg", "edf", "mit", "csv"],
        help="file format (default: guess)",
    )
    a.add_argument("--options", default=None, help="JSON file (or JSON text) of analysis_options")
    a.add_argument("--fs", type=float, default=None, help="sampling rate of a CSV file")
    a.add_argument("--callback-url", default=None, help="webhook URL for the service to call")
    a.add_argument(
        "--poll-interval", type=float, default=2.0, help="seconds between polls (default 2)"
    )
    a.add_argument(
        "--timeout",
        type=float,
        default=24 * 3600.0,
        help="give up after this many seconds (default 86400 = 24 h)",
    )
    a.add_argument("--no-progress", action="store_true", help="no progress bars")
    a.set_defaults(func=run_analyze)

    s = rsub.add_parser("status", help="print a task's status")
    s.add_argument("task_id", help="the task id printed by 'remote analyze'")
    _common(s)
    s.set_defaults(func=run_status)

    c = rsub.add_parser("cancel", help="cancel a task")
    c.add_argument("task_id", help="the task id printed by 'remote analyze'")
    _common(c)
    c.set_defaults(func=run_cancel)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--url", required=True, help="base URL of the service")
    p.add_argument("--api-key", default=None, help="API key (default: $HOLTERLAB_API_KEY)")


def _options(text: str | None) -> dict | None:
    return json_object(text, "--options")


def _check_service(args: argparse.Namespace) -> None:
    """The URL and the API key, checked before any request (and its retries) is made."""
    http_url(args.url, "--url")
    if not (args.api_key or os.environ.get("HOLTERLAB_API_KEY")):
        raise ParameterError("no API key: pass --api-key KEY or set HOLTERLAB_API_KEY")


def run_analyze(args: argparse.Namespace) -> int:
    from holterlab._atomic import atomic_write_text
    from holterlab.client import HolterClient

    _check_service(args)
    path = Path(args.path)
    if path.is_dir():
        raise ParameterError(f"{path} is a folder; give a recording file (or a .zip of one)")
    if not path.is_file():
        raise ParameterError(f"{path}: no such file")
    positive(args.fs, "--fs", " of Hz")
    positive(args.poll_interval, "--poll-interval", " of seconds")
    positive(args.timeout, "--timeout", " of seconds")
    options = _options(args.options)
    name = path.name
    for suffix in (".hea", ".zip", ".csv", ".edf", ".bdf", ".aiecg"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    out = output_folder(args.out)
    recording_info = {"sampling_rate": args.fs} if args.fs else None
    pdf = out / f"{name}.remote.report.pdf"
    with HolterClient(args.url, args.api_key) as client:
        run = client.analyze_file(
            path,
            file_format=args.file_format,
            analysis_options=options,
            recording_info=recording_info,
            callback_url=args.callback_url,
            poll_interval=args.poll_interval,
            timeout=args.timeout,
            progress=not args.no_progress,
            report_path=pdf,
        )
    result_path = out / f"{name}.remote.result.json"
    atomic_write_text(result_path, json.dumps(run.result, indent=1) + "\n")
    print(f"task    {run.task_id}")
    print(f"result  {result_path}")
    if run.report_path is not None:
        print(f"report  {run.report_path}")
    else:
        print("report  (the service produced no PDF report)", file=sys.stderr)
    return 0


def run_status(args: argparse.Namespace) -> int:
    from holterlab.client import HolterClient

    _check_service(args)
    with HolterClient(args.url, args.api_key) as client:
        print(json.dumps(client.status(args.task_id), indent=1))
    return 0


def run_cancel(args: argparse.Namespace) -> int:
    from holterlab.client import HolterClient

    _check_service(args)
    with HolterClient(args.url, args.api_key) as client:
        print(json.dumps(client.cancel(args.task_id), indent=1))
    return 0
