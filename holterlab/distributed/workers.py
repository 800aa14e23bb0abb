"""Worker-side functions: open local paths or fsspec URLs, run an analysis, return dicts.

These run *on the workers* (Dask or local processes): the recording is read where the task
runs, from a path that machine can reach, and the result comes back as a plain dictionary
(``HolterResult.to_dict(include_beats=True)``).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from holterlab._urls import url_filesystem
from holterlab.distributed.executor import CancelArg
from holterlab.errors import RecordingNotFoundError

__all__ = ["local_path", "is_url", "analyze_path", "analyze_annotation_path", "header_info"]

_URL = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*)://")


def is_url(path: Any) -> bool:
    """True when ``path`` is a URL with a protocol (``s3://``, ``memory://``, ``file://``...)."""
    return isinstance(path, str) and _URL.match(path) is not None


def _split_stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else name


@contextlib.contextmanager
def local_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A local path for ``path``, copying a remote file (fsspec URL) to a temporary folder.

    Local paths and ``file://`` URLs are used in place. For any other protocol the file is
    copied with fsspec, together with its siblings of the same stem (``201.hea`` brings
    ``201.dat`` and ``201.atr``; ``201.atr`` brings ``201.hea``), so WFDB records and
    annotation files with their header work; a WFDB record may be named without extension.
    The temporary copy is removed when the ``with`` block ends.

    Raises
    ------
    RecordingNotFoundError
        When nothing exists at that URL.
    """
    text = os.fspath(path)
    match = _URL.match(text) if isinstance(text, str) else None
    if match is None:
        yield Path(text)
        return
    protocol = match.group(1).lower()
    if protocol in ("file", "local"):
        from urllib.parse import unquote, urlparse

        parsed = urlparse(text)
        yield Path(unquote(parsed.netloc + parsed.path) if parsed.netloc else unquote(parsed.path))
        return
    fs, fspath = url_filesystem(text)
    fspath = fspath.rstrip("/")
    parent, name = posixpath.split(fspath)
    stem = _split_stem(name)
    try:
        exists = fs.isfile(fspath)
        siblings = [
            p for p in fs.glob(posixpath.join(parent, _glob_escape(stem) + ".*")) if fs.isfile(p)
        ]
        if not exists and not siblings:
            siblings = [p for p in fs.glob(posixpath.join(parent, _glob_escape(name) + ".*"))]
    except FileNotFoundError:
        exists, siblings = False, []
    except OSError as exc:
        raise RecordingNotFoundError(f"{text}: cannot list the remote folder ({exc})") from None
    if not exists and not siblings:
        raise RecordingNotFoundError(f"{text}: no such file or WFDB record")
    files = sorted({fspath, *siblings} if exists else set(siblings))
    with tempfile.TemporaryDirectory(prefix="holterlab-fetch-") as tmp:
        for remote in files:
            base = posixpath.basename(remote)
            try:
                fs.get_file(remote, os.path.join(tmp, base))
            except OSError as exc:
                raise RecordingNotFoundError(
                    f"{protocol}://{remote}: cannot copy ({exc})"
                ) from None
        yield Path(tmp) / name


def _glob_escape(text: str) -> str:
    return re.sub(r"([*?\[\]])", r"[\1]", text)


def analyze_path(
    path: str | os.PathLike[str],
    params: dict[str, Any] | None = None,
    *,
    format: str | None = None,
    read_options: dict[str, Any] | None = None,
    include_beats: bool = True,
    progress: Any = None,
    cancel: CancelArg = None,
) -> dict[str, Any]:
    """Worker function: read a recording (local path or URL) and analyse it.

    Returns ``HolterResult.to_dict(include_beats=include_beats)``, with ``recording.path``
    set to ``path`` as given (not the worker's temporary copy).
    """
    from holterlab.io import read
    from holterlab.pipeline import analyze

    with local_path(path) as local:
        recording = read(local, format=format, **(read_options or {}))
        result = analyze(recording, params, progress=progress, cancel=cancel)
        if is_url(str(path)):
            result.recording["path"] = str(path)
        return result.to_dict(include_beats=include_beats)


def header_info(ann_path: Path) -> dict[str, Any]:
    """Record length, signal count and start time from the ``.hea`` beside an annotation file."""
    record = _split_stem(ann_path.name)
    header = ann_path.parent / f"{record}.hea"
    info: dict[str, Any] = {}
    if not header.is_file():
        return info
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import wfdb

        try:
            h = wfdb.rdheader(str(ann_path.parent / record))
        except Exception:  # noqa: BLE001 - an unreadable header: fall back to defaults
            return info
    if h.sig_len and h.fs and h.fs > 0:
        info["duration_s"] = float(h.sig_len) / float(h.fs)
    if h.n_sig:
        info["n_signals"] = int(h.n_sig)
    if getattr(h, "base_datetime", None) is not None:
        info["start_time"] = h.base_datetime
    return info


def analyze_annotation_path(
    path: str | os.PathLike[str],
    params: dict[str, Any] | None = None,
    *,
    fs: float | None = None,
    include_beats: bool = True,
) -> dict[str, Any]:
    """Worker function: rhythm and HRV analysis of a beat annotation file (local or URL).

    Runs :func:`holterlab.pipeline.analyze_beats`; the record length, signal count and start
    time come from the ``.hea`` header beside the file when there is one.
    """
    from holterlab.annotations import read_annotations
    from holterlab.pipeline import analyze_beats

    with local_path(path) as local:
        annotations = read_annotations(local, fs=fs)
        info = header_info(local)
        result = analyze_beats(
            annotations,
            params,
            duration_s=info.get("duration_s"),
            start_time=info.get("start_time"),
            name=_split_stem(local.name),
            n_signals=info.get("n_signals", 2),
        )
        result.recording["path"] = str(path)
        return result.to_dict(include_beats=include_beats)
