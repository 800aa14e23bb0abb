"""Reading and writing recordings: one module per format behind :func:`read` and :func:`write`.

Every format module (``edf``, ``wfdb``, ``csv``, ``aiecg``, ``ishne``) follows one contract:

``FORMAT``
    The format's name.
``EXTENSIONS``
    File name endings it claims (lower case, with the dot).
``sniff(head: bytes) -> bool``
    True if the first bytes of a file look like this format.
``read(path: Path, **options) -> Recording``
    Parse the header once and return a :class:`~holterlab.recording.Recording` whose source
    reads any window on demand. Broken input raises a :class:`~holterlab.errors.HolterlabError`
    subclass that says what is wrong.
``write(recording, path: Path, **options) -> None``
    Write the recording (chunk by chunk, atomically: no half-written file that looks complete).
    Read-only formats do not define it.
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from types import ModuleType
from typing import Any

from holterlab.errors import (
    EmptyFileError,
    FormatError,
    HolterlabError,
    RecordingNotFoundError,
    UnknownFormatError,
)
from holterlab.recording import Recording

__all__ = ["read", "write", "detect_format", "FORMATS", "format_module"]

#: Format name -> module name, in the order content sniffing tries them.
FORMATS: dict[str, str] = {
    "aiecg": "holterlab.io.aiecg",
    "ishne": "holterlab.io.ishne",
    "edf": "holterlab.io.edf",
    "wfdb": "holterlab.io.wfdb",
    "csv": "holterlab.io.csv",
}

#: Aliases accepted for ``format=`` (the API calls WFDB records ``mit``).
ALIASES = {"mit": "wfdb", "bdf": "edf", "edf+": "edf", "zip": "wfdb", "ecg": "ishne"}


def format_module(name: str) -> ModuleType:
    """Return the module implementing format ``name`` (or an alias such as ``mit``)."""
    key = ALIASES.get(name.lower(), name.lower())
    if key not in FORMATS:
        raise UnknownFormatError(
            f"unknown format {name!r}; holterlab knows {', '.join(sorted(FORMATS))}"
        )
    return importlib.import_module(FORMATS[key])


def _resolve_path(path: str | os.PathLike[str]) -> Path:
    p = Path(path)
    if p.is_dir():
        raise FormatError(f"{p} is a folder; give a recording file (or a WFDB record's .hea)")
    if p.exists():
        return p
    # a WFDB record name without extension
    header = p.with_name(p.name + ".hea")
    if header.is_file():
        return header
    raise RecordingNotFoundError(f"{p}: no such file or WFDB record")


def detect_format(path: str | os.PathLike[str]) -> str:
    """Name the format of a file from its content, then its extension.

    Raises
    ------
    UnknownFormatError
        If neither the content nor the extension is recognised.
    EmptyFileError
        If the file is empty.
    """
    p = _resolve_path(path)
    try:
        with open(p, "rb") as fh:
            head = fh.read(1024)
    except OSError as exc:
        raise RecordingNotFoundError(f"{p}: cannot open ({exc.strerror})") from None
    if not head:
        raise EmptyFileError(f"{p}: the file is empty")
    suffix = p.suffix.lower()
    # content first for the self-describing binary formats
    for name in ("aiecg", "ishne", "edf"):
        if format_module(name).sniff(head):
            return name
    if head[:4] == b"PK\x03\x04":
        return "wfdb"
    for name in FORMATS:
        if suffix in format_module(name).EXTENSIONS:
            return name
    for name in ("wfdb", "csv"):
        if format_module(name).sniff(head):
            return name
    raise UnknownFormatError(
        f"{p}: unrecognised file type {suffix or '(no extension)'}; holterlab reads EDF/EDF+/BDF "
        "(.edf, .bdf), WFDB (.hea or a .zip of one record), CSV (.csv), aiecg (.aiecg) and "
        "ISHNE (.ecg) files; if the extension is misleading, give the format (format=..., on "
        "the command line --format)"
    )


def read(path: str | os.PathLike[str], format: str | None = None, **options: Any) -> Recording:
    """Open a recording lazily; the format is detected from content and extension.

    Parameters
    ----------
    path
        A file (``.edf``, ``.bdf``, ``.hea``, ``.zip``, ``.csv``, ``.aiecg``, ``.ecg``) or a
        WFDB record name without extension.
    format
        Force a format (``edf``, ``wfdb``/``mit``, ``csv``, ``aiecg``, ``ishne``).
    **options
        Format options, e.g. ``fs=`` and ``leads=`` for CSV files without a time column.

    Returns
    -------
    Recording
        Header parsed, samples read on demand with :meth:`Recording.get`.
    """
    p = _resolve_path(path)
    name = detect_format(p) if format is None else format
    module = format_module(name)
    if p.stat().st_size == 0:
        raise EmptyFileError(f"{p}: the file is empty")
    try:
        return module.read(p, **options)
    except HolterlabError:
        raise
    except MemoryError:
        raise
    except Exception as exc:  # a reader bug or an unexpected corruption: say so clearly
        from holterlab.errors import CorruptFileError

        raise CorruptFileError(
            f"{p}: cannot read as {module.FORMAT} ({type(exc).__name__}: {exc})"
        ) from exc


def write(
    recording: Recording,
    path: str | os.PathLike[str],
    format: str | None = None,
    **options: Any,
) -> Path:
    """Write a recording; the format comes from ``format`` or the path's extension.

    Returns the main path written (for WFDB, the ``.hea``).
    """
    p = Path(path)
    if format is None:
        suffix = p.suffix.lower()
        for name in FORMATS:
            if suffix in format_module(name).EXTENSIONS:
                format = name
                break
        else:
            raise UnknownFormatError(
                f"{p}: cannot tell the output format from {suffix or 'no extension'}; use .edf, "
                ".bdf, .hea (WFDB), .csv or .aiecg"
            )
    module = format_module(format)
    writer = getattr(module, "write", None)
    if writer is None:
        raise FormatError(f"holterlab reads {module.FORMAT} files but does not write them")
    result = writer(recording, p, **options)
    return Path(result) if result is not None else p
