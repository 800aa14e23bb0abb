"""Option parsing and checks shared by the subcommands.

The checks run before any long work, so that a bad option or an output folder that cannot be
written fails in a second with one line instead of after minutes of analysis.
"""

from __future__ import annotations

import json
import math
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from holterlab.errors import ParameterError

__all__ = [
    "json_object",
    "positive",
    "at_least",
    "recording_options",
    "output_folder",
    "output_file",
    "output_format",
    "http_url",
    "analysis_params",
]


def json_object(text: str | None, option: str) -> dict[str, Any] | None:
    """A JSON object given inline (``'{"a": 1}'``) or as a file path; None when not given."""
    if not text:
        return None
    source = text
    if not text.lstrip().startswith("{"):
        path = Path(text)
        if not path.is_file():
            raise ParameterError(f"{option}: {text} is neither a JSON object nor a JSON file")
        try:
            source = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ParameterError(
                f"{option}: {text} is not a UTF-8 text file; give a JSON file or inline JSON"
            ) from None
        except OSError as exc:
            raise ParameterError(f"{option}: cannot read {text} ({exc.strerror})") from None
    try:
        value = json.loads(source)
    except json.JSONDecodeError as exc:
        raise ParameterError(f"{option} is not valid JSON ({exc})") from None
    if not isinstance(value, dict):
        raise ParameterError(f"{option} must be a JSON object")
    return value


def positive(value: float | None, option: str, unit: str = "") -> float | None:
    """``value`` unless it is not a finite number above 0 (None passes through)."""
    if value is None:
        return None
    if not math.isfinite(value) or value <= 0:
        raise ParameterError(f"{option} must be a positive number{unit}, got {value:g}")
    return value


def at_least(value: float | None, minimum: float, option: str) -> float | None:
    """``value`` unless it is not a finite number >= ``minimum`` (None passes through)."""
    if value is None:
        return None
    if not math.isfinite(value) or value < minimum:
        raise ParameterError(f"{option} must be at least {minimum:g}, got {value:g}")
    return value


def add_read_options(p: Any) -> None:
    """``--format`` and ``--repair`` of the commands that read a recording."""
    from holterlab.io import FORMATS

    p.add_argument(
        "--format",
        choices=sorted(FORMATS),
        default=None,
        help="file format, when the extension is misleading (default: detected)",
    )
    p.add_argument(
        "--repair",
        action="store_true",
        help="read the complete records of an EDF/BDF file that was cut short",
    )


def recording_options(
    path: str, fs: float | None, *, format: str | None = None, repair: bool = False
) -> dict[str, Any]:
    """Options for :func:`holterlab.io.read` from ``--fs``, ``--format`` and ``--repair``,
    checked against the file's format.

    ``--fs`` is only for CSV files; every other format stores its sampling rate, so giving one
    there is a mistake the user should hear about (instead of it being ignored or refused with
    a message about a Python keyword). ``--repair`` is only for EDF/BDF files.
    """
    out: dict[str, Any] = {}
    if format is not None:
        out["format"] = format
    if fs is None and not repair:
        return out
    from holterlab.io import detect_format

    # the reader's own errors for a missing, empty or odd file
    name = format or detect_format(path)
    if fs is not None:
        positive(fs, "--fs", " of Hz")
        if name != "csv":
            raise ParameterError(
                f"--fs is only for CSV files without a sampling rate; {path} is a {name} file, "
                "which stores its own: drop --fs"
            )
        out["fs"] = fs
    if repair:
        if name != "edf":
            raise ParameterError(
                f"--repair is only for EDF/BDF files cut short; {path} is a {name} file: "
                "drop --repair"
            )
        out["repair"] = True
    return out


def _probe(folder: Path, option: str, shown: str) -> None:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except FileExistsError:
        raise ParameterError(
            f"{option} {shown}: a file is in the way of the folder; give another folder"
        ) from None
    except NotADirectoryError:
        raise ParameterError(
            f"{option} {shown}: part of the path is a file, not a folder; give another folder"
        ) from None
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise ParameterError(
            f"{option} {shown}: cannot write there ({reason}); give a folder you can write to"
        ) from None


def output_folder(path: str | os.PathLike[str], option: str = "--out") -> Path:
    """Create the output folder ``path`` if needed and check that a file can be written in it."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise ParameterError(
            f"{option} {p}: is a file, not a folder; give a folder (it is created if missing)"
        )
    _probe(p, option, str(p))
    return p


def output_file(path: str | os.PathLike[str], option: str) -> Path:
    """Check that the file ``path`` can be written (its folder is created if needed)."""
    p = Path(path)
    if p.is_dir():
        raise ParameterError(f"{option} {p}: is a folder; give a file name")
    _probe(p.parent, option, str(p))
    return p


def output_format(path: str | os.PathLike[str], option: str) -> str:
    """The format holterlab writes for ``path``'s extension; a clear error if it writes none."""
    from holterlab.io import FORMATS, format_module

    suffix = Path(path).suffix.lower()
    for name in FORMATS:
        module = format_module(name)
        if suffix in module.EXTENSIONS and getattr(module, "write", None) is not None:
            return name
    what = f"the extension {suffix}" if suffix else "a path without extension"
    raise ParameterError(
        f"{option} {path}: holterlab cannot write {what}; end the file name in .edf, .bdf, "
        ".hea (WFDB), .csv or .aiecg"
    )


def http_url(text: str, option: str) -> str:
    """``text`` if it is an ``http://`` or ``https://`` URL with a host."""
    if not re.match(r"^https?://[^\s/?#]+", text.strip(), flags=re.IGNORECASE):
        raise ParameterError(
            f"{option} must be an http:// or https:// URL, e.g. https://holter.example.com; "
            f"got {text!r}"
        )
    return text.strip()


def analysis_params(data: dict[str, Any] | None) -> Any:
    """Validate an AnalysisParams dict now (not minutes later, inside the analysis)."""
    from holterlab.params.analysis import AnalysisParams

    return AnalysisParams.from_dict(data or {})
