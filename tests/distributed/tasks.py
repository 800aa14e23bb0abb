"""Top-level task functions for the executor tests (importable by Dask workers and pool
processes: the test cluster's workers get the repository on PYTHONPATH)."""

from __future__ import annotations

import os
import time
from pathlib import Path

from holterlab.errors import ParameterError


def call(func, *args):
    """Run ``func(*args)`` (items that each name their own function)."""
    return func(*args)


def square(x: int) -> int:
    return x * x


def slow_square(x: int, seconds: float = 1.0) -> int:
    time.sleep(seconds)
    return x * x


def checked(x: int) -> int:
    """Fails (a HolterlabError, with its reason) for negative numbers."""
    if x < 0:
        raise ParameterError(f"x must not be negative, got {x}")
    return x * x


def flaky(counter: str) -> str:
    """Raises a RuntimeError the first time it runs for ``counter`` (a file), then succeeds."""
    path = Path(counter)
    n = int(path.read_text()) if path.exists() else 0
    path.write_text(str(n + 1))
    if n == 0:
        raise RuntimeError("transient failure")
    return "ok"


def broken_always(x: int) -> int:
    raise RuntimeError(f"bug for {x}")


def crash(seconds: float = 2.0) -> None:
    """Kills its own process (a local pool worker) after ``seconds``."""
    time.sleep(seconds)
    os._exit(3)


def put_memory_files(files: dict[str, bytes]) -> int:
    """Write files into this process's fsspec memory filesystem (run on each Dask worker)."""
    import fsspec

    fs = fsspec.filesystem("memory")
    for path, data in files.items():
        with fs.open(path, "wb") as fh:
            fh.write(data)
    return len(files)


def wait_for_cancel(folder: str, name: str, seconds: float = 60.0, cancel=None) -> str:
    """Writes ``NAME.started``, then waits up to ``seconds`` for ``cancel()``: on a cancel it
    writes ``NAME.stopped`` and raises CancelledError, else it writes ``NAME.finished``."""
    from holterlab.errors import CancelledError

    base = Path(folder)
    (base / f"{name}.started").write_text("")
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if cancel is not None and cancel():
            (base / f"{name}.stopped").write_text("")
            raise CancelledError(f"{name} cancelled")
        time.sleep(0.05)
    (base / f"{name}.finished").write_text("")
    return name
