"""``holterlab dashboard [PATH]``: the review dashboard in the browser (Panel, loopback only)."""

from __future__ import annotations

import argparse
import os


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "dashboard",
        help="review a recording in the browser: overview, detail, events, families, edits",
        description=(
            "Serve the holterlab workbench on http://127.0.0.1:PORT/ and open it in the "
            "browser. Edits are saved beside the recording as NAME.edit.hlab."
        ),
    )
    p.add_argument("path", nargs="?", help="recording to open (.edf .bdf .hea .csv .aiecg .ecg)")
    p.add_argument("--result", default=None, help="result JSON of the recording (with beats)")
    p.add_argument("--port", type=int, default=5006, help="port on 127.0.0.1 (default 5006)")
    p.add_argument("--no-show", action="store_true", help="do not open a browser")
    p.add_argument(
        "--root",
        default=None,
        help="folder the file picker may browse (default: the recording's folder or .)",
    )
    p.add_argument("--cache-dir", default=None, help="folder of the overview caches")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from holterlab.errors import ParameterError

    if not 0 < args.port < 65536:
        raise ParameterError(f"--port must be between 1 and 65535, got {args.port}")
    if args.path is not None:
        if os.path.isdir(args.path):
            raise ParameterError(f"{args.path} is a folder; give a recording file (or --root)")
        if not (os.path.exists(args.path) or os.path.exists(args.path + ".hea")):
            raise ParameterError(f"{args.path}: no such recording")
        from holterlab.io import read

        with read(args.path):  # a broken file is one line here, not an error in the browser
            pass
    if args.result is not None and not os.path.isfile(args.result):
        raise ParameterError(f"{args.result}: no such result file")
    if args.root is not None and not os.path.isdir(args.root):
        raise ParameterError(f"--root {args.root}: no such folder")
    if args.cache_dir is not None and os.path.exists(args.cache_dir):
        if not os.path.isdir(args.cache_dir):
            raise ParameterError(f"--cache-dir {args.cache_dir}: is a file, not a folder")
    from holterlab.ui.app import serve

    try:
        serve(
            args.path,
            args.result,
            port=args.port,
            show=not args.no_show,
            root=args.root,
            cache_dir=args.cache_dir,
        )
    except KeyboardInterrupt:
        return 0
    return 0
