"""``holterlab serve``: run the Holter analysis API server (needs the ``server`` extra)."""

from __future__ import annotations

import argparse


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "serve",
        help="run the Holter analysis API server",
        description=(
            "Serve the Holter analysis API under /api/v1/advanced/ecg/holter with an embedded "
            "task store (SQLite), uploads in the data folder and analysis in worker "
            "processes. Create API keys with 'holterlab keys create'. The OpenAPI description "
            "is at /openapi.json, interactive docs at /docs."
        ),
    )
    p.add_argument("--host", default=None, help="address to listen on (default 127.0.0.1)")
    p.add_argument("--port", type=int, default=None, help="port (default 8000)")
    p.add_argument(
        "--data-dir",
        required=True,
        help="folder for the database, uploads, results (created if missing)",
    )
    p.add_argument(
        "--workers", type=int, default=None, help="analysis worker processes (default 2)"
    )
    p.add_argument(
        "--allow-loopback-callbacks",
        action="store_true",
        default=None,
        help="permit webhooks to loopback addresses (refused by default)",
    )
    p.add_argument(
        "--dask-scheduler",
        default=None,
        metavar="ADDRESS",
        help=(
            "run the analyses on this Dask cluster (tcp://HOST:PORT or a scheduler JSON "
            "file) instead of local worker processes; the data folder must be on a disk "
            "every Dask worker mounts at the same path"
        ),
    )
    p.add_argument("--public-url", default=None, help="base URL clients reach the server at")
    p.add_argument("--config", default=None, help="JSON file with further server settings")
    p.add_argument("--access-log", action="store_true", help="log every request")
    p.add_argument(
        "--log-level",
        default="info",
        choices=["debug", "info", "warning", "error"],
        help="server log level (default info)",
    )
    p.set_defaults(func=run)


def build_config(args: argparse.Namespace):  # noqa: ANN201 - ServerConfig (lazy import)
    from holterlab.server.config import ServerConfig

    overrides = {
        "data_dir": args.data_dir,
        "host": args.host,
        "port": args.port,
        "workers": args.workers,
        "allow_loopback_callbacks": args.allow_loopback_callbacks,
        "public_url": args.public_url,
        "dask_scheduler": args.dask_scheduler,
    }
    if args.config:
        return ServerConfig.from_file(args.config, **overrides)
    return ServerConfig.from_dict({k: v for k, v in overrides.items() if v is not None})


def check_args(args: argparse.Namespace) -> None:
    """Refuse impossible options before anything starts (or binds, or connects)."""
    from holterlab.cli._options import http_url, output_folder
    from holterlab.errors import ParameterError

    if args.port is not None and not 1 <= args.port <= 65535:
        raise ParameterError(f"--port must be between 1 and 65535, got {args.port}")
    if args.workers is not None and args.workers < 1:
        raise ParameterError(f"--workers must be at least 1, got {args.workers}")
    if args.host is not None and (not args.host.strip() or any(c.isspace() for c in args.host)):
        raise ParameterError(f"--host must be an address such as 127.0.0.1, got {args.host!r}")
    if args.public_url is not None:
        http_url(args.public_url, "--public-url")
    output_folder(args.data_dir, "--data-dir")


def run(args: argparse.Namespace) -> int:
    from holterlab.errors import HolterlabError

    check_args(args)

    try:
        import uvicorn
    except ImportError:
        raise HolterlabError(
            "the server needs FastAPI and uvicorn: pip install 'holterlab[server]'"
        ) from None
    from holterlab.server.app import create_app

    config = build_config(args)
    if config.dask_scheduler:
        import logging

        from holterlab.server.dask_pool import check_scheduler

        n = check_scheduler(config.dask_scheduler)  # SchedulerError (one line) if unreachable
        logging.getLogger("holterlab.server").info(
            "analyses run on the Dask cluster at %s (%d worker(s) now)", config.dask_scheduler, n
        )
    config.ensure_dirs()
    app = create_app(config)
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_level=args.log_level,
        access_log=args.access_log,
        timeout_graceful_shutdown=10,
    )
    return 0
