"""A report template whose cell sleeps (to cancel while it runs) and a kernel-process probe."""

from __future__ import annotations

import time
from pathlib import Path

import nbformat


def write_sleeping_template(path: Path, marker: Path, *, ignore_sigint: bool = False) -> Path:
    """A template (parameters cell, two quick cells, then a cell that touches ``marker`` and
    sleeps 10 minutes; with ``ignore_sigint`` that cell ignores interrupts)."""
    nb = nbformat.v4.new_notebook(
        metadata={
            "kernelspec": {"name": "python3", "language": "python", "display_name": "Python 3"},
            "language_info": {"name": "python"},
        }
    )
    params = nbformat.v4.new_code_cell("recording_path = None\nresult_path = None")
    params.metadata["tags"] = ["parameters"]
    sleeper = ["import pathlib, signal, time"]
    if ignore_sigint:
        sleeper.append("signal.signal(signal.SIGINT, signal.SIG_IGN)")
    sleeper += [f"pathlib.Path({str(marker)!r}).touch()", "time.sleep(600)"]
    nb.cells = [
        params,
        nbformat.v4.new_code_cell("a = 1"),
        nbformat.v4.new_markdown_cell("a note"),
        nbformat.v4.new_code_cell("\n".join(sleeper)),
        nbformat.v4.new_code_cell("b = 2"),
    ]
    nbformat.write(nb, path)
    return path


def wait_for(predicate, timeout_s: float = 120.0, poll=None) -> bool:
    """Call ``poll()`` (if given) until ``predicate()`` is true or ``timeout_s`` passes."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if poll is not None:
            poll()
        if predicate():
            return True
        time.sleep(0.05)
    return False


def kernel_processes() -> list:
    """Running Jupyter kernels started by this process (psutil processes)."""
    import psutil

    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and any(
                "ipykernel" in part for part in child.cmdline()
            ):
                out.append(child)
        except psutil.Error:
            continue
    return out


def browser_processes() -> list:
    """Running chromium processes started by this process (psutil processes)."""
    import psutil

    out = []
    for child in psutil.Process().children(recursive=True):
        try:
            if child.status() != psutil.STATUS_ZOMBIE and "chrom" in child.name().lower():
                out.append(child)
        except psutil.Error:
            continue
    return out
