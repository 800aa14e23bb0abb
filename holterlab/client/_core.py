"""What the sync and async clients share: answers, retries, upload preparation, results."""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import json
import os
import random
import tempfile
import time
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from holterlab._version import __version__
from holterlab.client.envelopes import unwrap
from holterlab.client.errors import ProtocolError, error_for
from holterlab.errors import ParameterError, RecordingNotFoundError

DEFAULT_BASE_URL = "https://api.heartvoice.com.cn"
API_PREFIX = "/api/v1/advanced/ecg/holter"
USER_AGENT = f"holterlab/{__version__}"
#: HTTP statuses worth retrying (after Retry-After when given).
RETRY_STATUSES = frozenset({429, 502, 503, 504})
TERMINAL = frozenset({"completed", "failed", "cancelled", "expired"})
CHUNK = 1 << 20

_EXT_FORMAT = {
    ".aiecg": "aiecg",
    ".edf": "edf",
    ".bdf": "edf",
    ".rec": "edf",
    ".zip": "mit",
    ".hea": "mit",
    ".csv": "csv",
    ".txt": "csv",
    ".tsv": "csv",
}
_READ_FORMAT = {"aiecg": "aiecg", "edf": "edf", "mit": "wfdb", "csv": "csv"}


def api_key_from(api_key: str | None) -> str:
    key = api_key or os.environ.get("HOLTERLAB_API_KEY")
    if not key:
        raise ParameterError("no API key: pass api_key= or set HOLTERLAB_API_KEY")
    return key


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (seconds or an HTTP date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    with contextlib.suppress(TypeError, ValueError):
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    return None


def backoff_delay(attempt: int, base: float, cap: float, retry_after: float | None) -> float:
    """Wait before retry ``attempt`` (0-based): Retry-After if given, else jittered doubling."""
    if retry_after is not None:
        return min(cap, retry_after)
    return min(cap, base * 2**attempt) * (0.75 + 0.5 * random.random())


def parse_answer(status: int, headers: Any, content: bytes, *, allow_empty: bool = False) -> Any:
    """The data of an answer, or the typed error it carries."""
    retry_after = parse_retry_after(headers.get("retry-after"))
    if not content.strip():
        if 200 <= status < 300 and allow_empty:
            return {}
        if 200 <= status < 300:
            raise ProtocolError(
                "the service sent an empty answer", code="PROTOCOL", http_status=status
            )
        raise error_for(
            None,
            f"the service answered HTTP {status} with no body",
            status,
            retry_after=retry_after,
        )
    try:
        payload = json.loads(content)
    except (ValueError, UnicodeDecodeError):
        if 200 <= status < 300 and allow_empty:
            return {}
        snippet = content[:200].decode("utf-8", "replace").strip()
        if 200 <= status < 300:
            raise ProtocolError(
                f"the service's answer is not JSON: {snippet!r}",
                code="PROTOCOL",
                http_status=status,
            ) from None
        raise error_for(
            None, f"the service answered HTTP {status}: {snippet}", status, retry_after=retry_after
        ) from None
    return unwrap(payload, status, retry_after=retry_after)


def is_json(headers: Any) -> bool:
    """True if an answer's ``Content-Type`` says JSON (an envelope, not a file)."""
    kind = str(headers.get("content-type") or "").split(";")[0].strip().lower()
    return kind == "application/json" or kind.endswith("+json")


def not_a_pdf() -> Exception:
    """The error of a report answer that carried a JSON success envelope instead of a PDF."""
    return ProtocolError(
        "the report answer is JSON, not a PDF; the service has no report to download",
        code="PROTOCOL",
    )


def md5_file(path: Path) -> str:
    """MD5 hex of a file, read in 1 MiB blocks."""
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as fh:
        while block := fh.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def guess_format(path: Path) -> str:
    """The API format of a file from its extension (or its content)."""
    fmt = _EXT_FORMAT.get(path.suffix.lower())
    if fmt is not None:
        return fmt
    from holterlab.io import detect_format

    detected = detect_format(path)
    mapping = {"wfdb": "mit", "aiecg": "aiecg", "edf": "edf", "csv": "csv"}
    if detected not in mapping:
        raise ParameterError(
            f"{path}: the service accepts aiecg, edf, mit (WFDB) and csv files, not {detected}; "
            "convert it with 'holterlab convert'"
        )
    return mapping[detected]


def _zip_wfdb(hea: Path, zip_path: Path) -> Path:
    try:
        from holterlab.io.archive import zip_record
    except ImportError:  # pragma: no cover - fallback if the archive helper is missing
        zip_record = None
    if zip_record is not None:
        return Path(zip_record(hea, zip_path))
    name = hea.stem  # pragma: no cover
    with zipfile.ZipFile(zip_path, "w", compression=zipfile.ZIP_DEFLATED) as zf:  # pragma: no cover
        for f in sorted(hea.parent.iterdir()):
            if f.is_file() and f.stem == name:
                zf.write(f, arcname=f.name)
    return zip_path  # pragma: no cover


@dataclass
class PreparedUpload:
    """The file to upload and the facts ``upload-url`` needs."""

    path: Path
    filename: str
    file_format: str
    file_size: int
    duration_hours: float
    checksum: str


@contextlib.contextmanager
def prepared_upload(
    path: str | os.PathLike[str],
    file_format: str | None = None,
    recording_info: dict[str, Any] | None = None,
) -> Iterator[PreparedUpload]:
    """Zip a WFDB record (``.hea``) if needed and compute size, duration and MD5."""
    src = Path(path)
    if not src.exists() and src.with_name(src.name + ".hea").is_file():
        src = src.with_name(src.name + ".hea")
    if not src.is_file():
        raise RecordingNotFoundError(f"{src}: no such file")
    fmt = (file_format or guess_format(src)).lower()
    if fmt == "wfdb":
        fmt = "mit"
    with tempfile.TemporaryDirectory(prefix="holterlab-upload-") as tmp:
        upload = src
        if fmt == "mit" and src.suffix.lower() == ".hea":
            upload = _zip_wfdb(src, Path(tmp) / f"{src.stem}.zip")
        import holterlab

        options: dict[str, Any] = {}
        if fmt == "csv" and recording_info and recording_info.get("sampling_rate"):
            options["fs"] = float(recording_info["sampling_rate"])
        with holterlab.read(upload, format=_READ_FORMAT.get(fmt), **options) as rec:
            hours = rec.duration / 3600.0
        yield PreparedUpload(
            path=upload,
            filename=upload.name,
            file_format=fmt,
            file_size=upload.stat().st_size,
            duration_hours=max(round(hours, 6), 1e-6),
            checksum=md5_file(upload),
        )


@dataclass
class RemoteAnalysis:
    """What :meth:`HolterClient.analyze_file` returns.

    Attributes
    ----------
    task_id
        The service's task id.
    status
        The final status data.
    result
        The structured result (with the beat list when the service sends it).
    report_path
        Where the PDF was written, or None (not asked for, or not available).
    """

    task_id: str
    status: dict[str, Any]
    result: dict[str, Any]
    report_path: Path | None = None

    def holter_result(self) -> Any:
        """The result as a :class:`holterlab.result.HolterResult` (holterlab servers)."""
        from holterlab.result import HolterResult

        return HolterResult.from_dict(self.result)


def final_error(task_id: str, status: dict[str, Any]) -> Exception | None:
    """The error a terminal status means (failed / cancelled / expired), or None."""
    from holterlab.client.errors import TaskCancelledError, TaskFailedError

    state = status.get("status")
    if state == "failed":
        err = status.get("error") or {}
        return TaskFailedError(
            str(err.get("message") or "the analysis failed"),
            code=str(err.get("code") or "FAILED"),
            task_id=task_id,
        )
    if state in ("cancelled", "expired"):
        return TaskCancelledError(
            f"task {task_id} was {state}", code=state.upper(), task_id=task_id
        )
    return None


class PollSchedule:
    """Poll intervals: ``base`` while progress moves, growing by 1.5x up to ``cap`` when not."""

    def __init__(self, base: float, cap: float | None = None) -> None:
        self.base = max(0.01, float(base))
        self.cap = max(self.base, cap if cap is not None else max(self.base, 15.0))
        self.interval = self.base
        self.last: Any = None

    def next(self, status: dict[str, Any]) -> float:
        marker = (status.get("status"), status.get("progress"), status.get("stage"))
        if marker != self.last:
            self.interval = self.base
        else:
            self.interval = min(self.cap, self.interval * 1.5)
        self.last = marker
        return self.interval


def upload_request(info: dict[str, Any], size: int) -> tuple[str, str, dict[str, str]]:
    """Method, URL and headers of the upload from the ``upload-url`` data."""
    url = info.get("upload_url")
    if not url:
        raise ProtocolError("the upload-url answer has no upload_url", code="PROTOCOL")
    max_size = info.get("max_file_size")
    if isinstance(max_size, int) and size > max_size:
        from holterlab.client.errors import FileTooLargeError

        raise FileTooLargeError(
            f"the file has {size:,} bytes; the service accepts at most {max_size:,}",
            code="FILE_TOO_LARGE",
        )
    method = str(info.get("upload_method") or "PUT").upper()
    headers = {str(k): str(v) for k, v in (info.get("upload_headers") or {}).items()}
    headers.setdefault("Content-Type", "application/octet-stream")
    headers["Content-Length"] = str(size)
    return method, url, headers
