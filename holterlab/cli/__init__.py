"""The ``holterlab`` command.

Each subcommand lives in its own module of this package and exposes ``register(subparsers)``,
which adds its parser and sets ``func`` to a callable taking the parsed arguments and
returning an exit code. Errors a user can cause are :class:`~holterlab.errors.HolterlabError`
and are printed on one line (``holterlab: error: ...``) with exit status 2; nothing prints a
traceback unless ``HOLTERLAB_DEBUG=1``. Options are checked (and output folders probed) before
any long work. A closed output pipe (``holterlab ... | head``) ends quietly with status 141.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from holterlab._version import __version__
from holterlab.errors import CancelledError, HolterlabError

#: Subcommand modules, in the order ``holterlab --help`` lists them.
SUBCOMMANDS = [
    "info",
    "convert",
    "synth",
    "analyze",
    "report",
    "batch",
    "evaluate",
    "serve",
    "keys",
    "remote",
    "compare",
    "study",
    "dashboard",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="holterlab",
        description="holterlab: long-term (Holter) ECG analysis workbench",
    )
    parser.add_argument("--version", action="version", version=f"holterlab {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"holterlab.cli.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"holterlab.cli.{name}":
                continue  # subcommand not built yet
            raise
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``holterlab`` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except BrokenPipeError:
        # the reader of our output went away (``holterlab ... | head``): stop quietly
        try:  # so that the flush at exit does not complain again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError, AttributeError):
            pass
        return 141
    except KeyboardInterrupt:
        print("holterlab: interrupted; no partial output was kept", file=sys.stderr)
        return 130
    except CancelledError as exc:
        print(f"holterlab: cancelled: {exc}", file=sys.stderr)
        return 130
    except HolterlabError as exc:
        if os.environ.get("HOLTERLAB_DEBUG"):
            raise
        message = " ".join(str(exc).split())
        print(f"holterlab: error: {message}", file=sys.stderr)
        return 2
    except (OSError, MemoryError) as exc:
        if os.environ.get("HOLTERLAB_DEBUG"):
            raise
        print(f"holterlab: error: {_os_error_message(exc)}", file=sys.stderr)
        return 2


def _os_error_message(exc: BaseException) -> str:
    """One line for an operating-system error: the path, what went wrong, what to do."""
    if not isinstance(exc, OSError) or not exc.strerror:
        return " ".join(f"{type(exc).__name__}: {exc}".split())
    where = exc.filename if exc.filename is not None else ""
    if exc.filename2 is not None:
        where = f"{where} -> {exc.filename2}"
    hint = {
        FileExistsError: "a file is in the way; remove it or choose another path",
        FileNotFoundError: "check the path",
        NotADirectoryError: "part of the path is a file, not a folder; choose another path",
        IsADirectoryError: "give a file, not a folder",
        PermissionError: "choose a path you may read or write",
    }.get(type(exc), "check the path, the free disk space and the permissions")
    text = f"{where}: {exc.strerror.lower()}; {hint}" if where else f"{exc.strerror}; {hint}"
    return " ".join(text.split())


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
