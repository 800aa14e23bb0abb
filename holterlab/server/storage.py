"""Uploads on disk: streaming reception with size and MD5 checks, ZIP extraction, validation.

Files live in ``DATA_DIR/uploads/<task_id>/`` under fixed names (``recording.<ext>``; a
``mit`` ZIP is extracted into ``record/``): the client's file name is kept as metadata only and
never used as a path. An upload is written to a uniquely named temporary file while its size
and MD5 are computed, and moved into place only once complete and verified; anything that
fails is removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import numpy as np

from holterlab.errors import ParameterError
from holterlab.server.config import FILE_FORMATS, ServerConfig
from holterlab.server.errors import ApiError

__all__ = [
    "TASK_ID_RE",
    "task_dir",
    "upload_path",
    "receive_upload",
    "prepare_recording",
    "read_options",
    "open_recording",
    "validate_recording",
    "remove_task_files",
    "RecordingInfoError",
]

TASK_ID_RE = re.compile(r"holter_task_[0-9a-f]{24}")
_BLOCK = 1 << 20


def task_dir(config: ServerConfig, task_id: str) -> Path:
    """The folder of a task's upload (``task_id`` must be a valid id)."""
    if not TASK_ID_RE.fullmatch(task_id):  # never build a path from anything else
        raise ValueError("invalid task id")
    return config.uploads_dir / task_id


def upload_path(config: ServerConfig, task_id: str, file_format: str) -> Path:
    """Where the uploaded file of a task is kept."""
    return task_dir(config, task_id) / f"recording{FILE_FORMATS[file_format][1]}"


def _write_block(fh: Any, md5: Any, block: bytes) -> None:
    fh.write(block)
    md5.update(block)


async def receive_upload(
    chunks: AsyncIterator[bytes],
    dest: Path,
    *,
    declared_size: int,
    max_size: int,
    checksum: str | None,
) -> tuple[int, str]:
    """Stream ``chunks`` into ``dest``, checking size and MD5 as they arrive.

    Returns ``(size, md5_hex)``. Raises :class:`ApiError` ``FILE_TOO_LARGE`` as soon as more
    bytes than declared (or than ``max_size``) arrive, ``SIZE_MISMATCH`` or
    ``CHECKSUM_MISMATCH`` at the end; the partial file is removed in every failure (also when
    the client disconnects).
    """
    import anyio

    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".upload.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    md5 = hashlib.md5(usedforsecurity=False)
    size = 0
    limit = min(declared_size, max_size)
    buf = bytearray()
    try:
        with os.fdopen(fd, "wb") as fh:
            async for chunk in chunks:
                if not chunk:
                    continue
                size += len(chunk)
                if size > limit:
                    if size > max_size:
                        raise ApiError(
                            "FILE_TOO_LARGE",
                            f"the upload exceeds the largest accepted file of {max_size:,} bytes",
                            details={"max_file_size": max_size},
                        )
                    raise ApiError(
                        "FILE_TOO_LARGE",
                        f"more bytes arrived than the declared file_size of {declared_size:,}; "
                        "request a new upload URL with the right size",
                        details={"declared_size": declared_size},
                    )
                buf += chunk
                if len(buf) >= _BLOCK:
                    block, buf = bytes(buf), bytearray()
                    await anyio.to_thread.run_sync(_write_block, fh, md5, block)
            if buf:
                await anyio.to_thread.run_sync(_write_block, fh, md5, bytes(buf))
        if size != declared_size:
            raise ApiError(
                "SIZE_MISMATCH",
                f"received {size:,} bytes but file_size declared {declared_size:,}; upload the "
                "whole file again",
                details={"declared_size": declared_size, "received_size": size},
            )
        digest = md5.hexdigest()
        if checksum and digest != checksum.lower():
            raise ApiError(
                "CHECKSUM_MISMATCH",
                "the MD5 of the received bytes differs from the declared checksum; the file was "
                "damaged in transit or the checksum is wrong: upload it again",
                details={"declared_checksum": checksum.lower(), "received_checksum": digest},
            )
        os.replace(tmp, dest)
        return size, digest
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


# --------------------------------------------------------------------------------- reading
def read_options(
    config: ServerConfig, file_format: str, recording_info: dict[str, Any] | None
) -> dict[str, Any]:
    """Reader options for ``holterlab.read`` from the submit's ``recording_info``."""
    info = recording_info or {}
    options: dict[str, Any] = {}
    if file_format == "csv":
        options["cache"] = str(config.cache_dir)
        if info.get("sampling_rate") is not None:
            options["fs"] = float(info["sampling_rate"])
        if info.get("lead_names"):
            options["leads"] = list(info["lead_names"])
        if info.get("start_time"):
            options["start_time"] = str(info["start_time"])
        if info.get("units"):
            options["units"] = str(info["units"])
    return options


def prepare_recording(config: ServerConfig, task: dict[str, Any]) -> Path:
    """The path to read for a task: the upload, or the ``.hea`` of an extracted ``mit`` ZIP."""
    path = upload_path(config, task["id"], task["file_format"])
    if task["file_format"] != "mit":
        return path
    dest = task_dir(config, task["id"]) / "record"
    if dest.exists():
        shutil.rmtree(dest)
    try:
        from holterlab.io.archive import extract_record_zip
    except ImportError:  # pragma: no cover - the archive module is part of holterlab
        return path  # holterlab.read reads a .zip WFDB record directly
    return Path(extract_record_zip(path, dest))


class _AdcSource:
    """Signal source applying ``mV = (raw - zero) / gain`` to another source's values."""

    def __init__(self, source: Any, gain: np.ndarray, zero: np.ndarray) -> None:
        self._source = source
        self._gain = gain
        self._zero = zero
        self.n_samples = source.n_samples

    def read(self, start: int, stop: int, leads: Any) -> np.ndarray:
        idx = list(leads)
        raw = np.asarray(self._source.read(start, stop, idx), dtype=np.float64)
        return ((raw - self._zero[idx, None]) / self._gain[idx, None]).astype(np.float32)

    def close(self) -> None:
        self._source.close()


class RecordingInfoError(ParameterError):
    """A ``recording_info`` value that does not fit the recording (400, not a bad file)."""


def _per_lead(value: Any, n: int, what: str) -> np.ndarray:
    arr = np.atleast_1d(np.asarray(value, dtype=np.float64))
    if arr.size == 1:
        arr = np.repeat(arr, n)
    if arr.size != n:
        raise RecordingInfoError(
            f"recording_info.{what} needs one value or one per lead ({n} leads), got {arr.size}"
        )
    return arr


def open_recording(
    path: Path,
    file_format: str,
    options: dict[str, Any],
    recording_info: dict[str, Any] | None,
) -> Any:
    """``holterlab.read`` the file; for CSV apply ``recording_info``'s ADC gain and zero."""
    import holterlab

    rec = holterlab.read(path, format=FILE_FORMATS[file_format][0], **options)
    info = recording_info or {}
    if file_format == "csv" and info.get("adc_gain") is not None:
        gain = _per_lead(info["adc_gain"], rec.n_leads, "adc_gain")
        zero_value = info.get("adc_zero")
        zero = _per_lead(0.0 if zero_value is None else zero_value, rec.n_leads, "adc_zero")
        if np.any(gain == 0) or not np.all(np.isfinite(gain)) or not np.all(np.isfinite(zero)):
            raise RecordingInfoError(
                "recording_info.adc_gain must be non-zero finite numbers and adc_zero finite"
            )
        rec.source = _AdcSource(rec.source, gain, zero)
    return rec


def validate_recording(
    config: ServerConfig,
    task: dict[str, Any],
    recording_info: dict[str, Any] | None,
) -> tuple[Path, dict[str, Any]]:
    """Check at submit time that the upload is a readable recording with samples.

    Returns the path the worker will read and a few header facts. Raises :class:`ApiError`
    ``INVALID_ECG_FILE`` with the reader's message (server paths replaced by the file's name).
    """
    from holterlab.errors import HolterlabError

    display = task["filename"]
    folder = str(task_dir(config, task["id"]))
    try:
        path = prepare_recording(config, task)
        opts = read_options(config, task["file_format"], recording_info)
        rec = open_recording(path, task["file_format"], opts, recording_info)
        try:
            if rec.n_samples <= 0:
                raise ApiError("INVALID_ECG_FILE", f"{display}: the recording holds no samples")
            rec.get_samples(None, 0, min(rec.n_samples, 16))  # the first samples are readable
            facts = {
                "fs": rec.fs,
                "leads": list(rec.leads),
                "n_samples": rec.n_samples,
                "duration_s": rec.duration,
            }
        finally:
            with contextlib.suppress(Exception):
                rec.close()
    except ApiError:
        raise
    except RecordingInfoError as exc:
        raise ApiError("INVALID_PARAMETER", str(exc)) from None
    except (HolterlabError, OSError, ValueError) as exc:
        from holterlab.server.errors import public_message

        upload = str(upload_path(config, task["id"], task["file_format"]))
        message = public_message(
            str(exc),
            {
                upload: display,
                folder + os.sep + "record" + os.sep: "",
                folder + os.sep: "",
                folder: display,
            },
        )
        raise ApiError(
            "INVALID_ECG_FILE",
            f"the uploaded file is not a readable {task['file_format']} recording: {message}",
        ) from None
    return path, facts


def remove_task_files(config: ServerConfig, task_id: str) -> None:
    """Delete a task's upload folder (results and reports are kept)."""
    with contextlib.suppress(OSError, ValueError):
        shutil.rmtree(task_dir(config, task_id))
