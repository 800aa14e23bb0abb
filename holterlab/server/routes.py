"""The six endpoints of the contract (plus the signed upload PUT), under ``API_PREFIX``."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import math
import secrets
import time
from collections.abc import AsyncIterator
from pathlib import PurePosixPath
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import FileResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import ClientDisconnect

from holterlab.server.config import API_PREFIX, FILE_FORMATS
from holterlab.server.errors import ApiError, success_body
from holterlab.server.keys import authenticate
from holterlab.server.models import (
    ErrorEnvelope,
    ResultEnvelope,
    StatusEnvelope,
    SubmitRequest,
    UploadEnvelope,
    UploadUrlEnvelope,
    UploadUrlRequest,
)
from holterlab.server.signing import sign_upload, verify_upload_signature
from holterlab.server.storage import (
    TASK_ID_RE,
    receive_upload,
    remove_task_files,
    upload_path,
    validate_recording,
)
from holterlab.server.store import ACTIVE, TERMINAL
from holterlab.server.webhooks import (
    CallbackError,
    check_callback_url,
    iso_time,
    progress_percent,
)

__all__ = ["router", "status_data", "unauthorized"]

router = APIRouter(prefix=API_PREFIX, tags=["holter"])
STATUS_PATH = f"{API_PREFIX}/status/"
UPLOAD_PATH = f"{API_PREFIX}/upload/"
bearer = HTTPBearer(auto_error=False, description="API key: `Authorization: Bearer <key>`")

_ERRORS = {
    400: "INVALID_PARAMETER",
    401: "UNAUTHORIZED",
    403: "SIGNATURE_INVALID",
    404: "TASK_NOT_FOUND",
    409: "INVALID_TASK_STATE, UPLOAD_INCOMPLETE or TASK_NOT_COMPLETED",
    410: "UPLOAD_URL_EXPIRED",
    413: "FILE_TOO_LARGE",
    415: "UNSUPPORTED_FORMAT",
    422: "INVALID_ECG_FILE, CHECKSUM_MISMATCH or SIZE_MISMATCH",
    429: "RATE_LIMITED (see Retry-After)",
    500: "INTERNAL_ERROR",
    503: "OVERLOADED (see Retry-After)",
}


def _responses(ok_model: Any, *codes: int) -> dict[int | str, dict[str, Any]]:
    out: dict[int | str, dict[str, Any]] = {200: {"model": ok_model}}
    for code in sorted({*codes, 400, 500}):
        out[code] = {"model": ErrorEnvelope, "description": _ERRORS[code]}
    return out


def _ok(data: Any) -> Response:
    return Response(success_body(data), media_type="application/json")


def _state(request: Request) -> Any:
    return request.app.state.holter


def _not_found() -> ApiError:
    return ApiError("TASK_NOT_FOUND", "no task with this id exists for this API key")


def _key_of(st: Any, credentials: str | None) -> dict[str, Any]:
    """The key row for a bearer token; :class:`ApiError` 401 without a valid one."""
    if not credentials:
        raise ApiError(
            "UNAUTHORIZED",
            "missing API key: send 'Authorization: Bearer <API key>'",
            headers={"WWW-Authenticate": "Bearer"},
        )
    key = authenticate(st.store, credentials)
    if key is None:
        raise ApiError(
            "UNAUTHORIZED",
            "invalid or revoked API key",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return key


def unauthorized(request: Request) -> ApiError | None:
    """The 401 error of a request to a keyed endpoint without a valid key, else None.

    For answers given before the endpoint's own key check runs (a body that is not JSON is
    rejected while it is read): a request without a valid key learns nothing but 401.
    The pre-signed upload and the paths outside the API need no key.
    """
    path = request.url.path
    if not path.startswith(API_PREFIX + "/") or path.startswith(UPLOAD_PATH):
        return None
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    try:
        _key_of(_state(request), token.strip() if scheme.lower() == "bearer" else None)
    except ApiError as exc:
        return exc
    return None


async def api_key(
    request: Request, creds: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> dict[str, Any]:
    """The caller's key (401 without a valid one; 429 over its rate limit)."""
    st = _state(request)
    key = _key_of(st, creds.credentials if creds is not None else None)
    wait = st.limiter.check(key["id"], key["rate_limit"])
    if wait is not None:
        raise ApiError(
            "RATE_LIMITED",
            f"too many requests for this API key; retry in {math.ceil(wait)} s",
            retry_after=wait,
        )
    return key


ApiKey = Annotated[dict, Depends(api_key)]


def status_data(task: dict[str, Any]) -> dict[str, Any]:
    """The ``status`` endpoint's data for a task row."""
    error = None
    if task["error_code"]:
        error = {"code": task["error_code"], "message": task["error_message"] or ""}
    return {
        "task_id": task["id"],
        "status": task["status"],
        "progress": progress_percent(task["progress"]),
        "stage": task["stage"],
        "created_at": iso_time(task["created_at"]),
        "uploaded_at": iso_time(task["uploaded_at"]),
        "submitted_at": iso_time(task["submitted_at"]),
        "started_at": iso_time(task["started_at"]),
        "finished_at": iso_time(task["finished_at"]),
        "error": error,
        "result_available": bool(task["result_available"]),
        "report_available": bool(task["report_available"]),
    }


def _own_task(st: Any, task_id: str, key: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(task_id, str) or not TASK_ID_RE.fullmatch(task_id):
        raise _not_found()
    task = st.store.get_task(task_id, key["id"])
    if task is None:
        raise _not_found()
    if task["status"] == "pending_upload" and time.time() > task["upload_expires"]:
        st.store.update_task(
            task_id, where_status=("pending_upload",), status="expired", finished_at=time.time()
        )
        task = st.store.get_task(task_id, key["id"])
    return task


# ----------------------------------------------------------------------------- upload-url
@router.post(
    "/upload-url",
    summary="Get a pre-signed upload URL (creates the task)",
    responses=_responses(UploadUrlEnvelope, 401, 413, 415, 429),
)
async def upload_url(body: UploadUrlRequest, request: Request, key: ApiKey) -> Response:
    st = _state(request)
    cfg = st.config
    fmt = body.file_format.strip().lower()
    if fmt not in FILE_FORMATS:
        raise ApiError(
            "UNSUPPORTED_FORMAT",
            f"file_format {body.file_format!r} is not supported; use one of "
            f"{', '.join(FILE_FORMATS)}",
            details={"supported": list(FILE_FORMATS)},
        )
    name = "".join(ch for ch in body.filename if ch.isprintable()).strip()
    suffix = PurePosixPath(name.replace("\\", "/")).suffix.lower()
    if not suffix:
        raise ApiError("INVALID_PARAMETER", "filename must have an extension (e.g. .aiecg)")
    if suffix not in FILE_FORMATS[fmt][2]:
        raise ApiError(
            "UNSUPPORTED_FORMAT",
            f"a {fmt} upload must be a {' or '.join(FILE_FORMATS[fmt][2])} file; got {suffix}"
            + (" (zip a WFDB record's files into one .zip)" if fmt == "mit" else ""),
        )
    if body.file_size > cfg.max_file_size:
        raise ApiError(
            "FILE_TOO_LARGE",
            f"file_size {body.file_size:,} exceeds the largest accepted file of "
            f"{cfg.max_file_size:,} bytes",
            details={"max_file_size": cfg.max_file_size},
        )
    task_id = f"holter_task_{secrets.token_hex(12)}"
    expires = math.ceil(time.time() + cfg.upload_url_ttl_s)
    signature = sign_upload(st.secret, task_id, expires)
    base = (cfg.public_url or str(request.base_url)).rstrip("/")
    url = f"{base}{API_PREFIX}/upload/{task_id}?expires={expires}&signature={signature}"
    st.store.create_task(
        id=task_id,
        key_id=key["id"],
        status="pending_upload",
        stage="upload",
        filename=name,
        file_format=fmt,
        file_size=body.file_size,
        checksum=body.checksum.lower() if body.checksum else None,
        duration_hours=body.duration_hours,
        upload_expires=float(expires),
    )
    return _ok(
        {
            "task_id": task_id,
            "upload_url": url,
            "upload_method": "PUT",
            "upload_headers": {"Content-Type": "application/octet-stream"},
            "expires_at": iso_time(expires),
            "max_file_size": cfg.max_file_size,
        }
    )


# ----------------------------------------------------------------------------- upload PUT
@router.put(
    "/upload/{task_id}",
    summary="Upload the file's raw bytes (the pre-signed URL; no API key needed)",
    responses=_responses(UploadEnvelope, 403, 404, 409, 410, 413, 422),
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
            },
        }
    },
)
async def upload(
    task_id: str,
    request: Request,
    expires: Annotated[str, Query(max_length=20, description="expiry (UNIX seconds)")],
    signature: Annotated[str, Query(max_length=128, description="HMAC-SHA256 signature")],
) -> Response:
    st = _state(request)
    cfg = st.config
    if not TASK_ID_RE.fullmatch(task_id) or not verify_upload_signature(
        st.secret, task_id, expires, signature
    ):
        raise ApiError("SIGNATURE_INVALID", "the upload URL's signature is not valid")
    now = time.time()
    if now > int(expires):
        st.store.update_task(
            task_id, where_status=("pending_upload",), status="expired", finished_at=now
        )
        raise ApiError("UPLOAD_URL_EXPIRED", "the upload URL has expired; request a new one")
    task = st.store.get_task(task_id)
    if task is None:
        raise _not_found()
    if task["status"] == "expired":
        raise ApiError("UPLOAD_URL_EXPIRED", "the upload URL has expired; request a new one")
    if task["status"] not in ("pending_upload", "uploaded"):
        raise ApiError(
            "INVALID_TASK_STATE",
            f"the task is {task['status']}; its file can no longer be uploaded",
        )
    limit = min(task["file_size"], cfg.max_file_size)
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit:
        raise ApiError(
            "FILE_TOO_LARGE",
            f"Content-Length {int(length):,} exceeds the declared file_size of "
            f"{task['file_size']:,} bytes",
            details={"declared_size": task["file_size"], "max_file_size": cfg.max_file_size},
        )
    dest = upload_path(cfg, task_id, task["file_format"])
    try:
        size, md5 = await receive_upload(
            request.stream(),
            dest,
            declared_size=task["file_size"],
            max_size=cfg.max_file_size,
            checksum=task["checksum"],
        )
    except ClientDisconnect:
        return Response(status_code=400)
    if not st.store.update_task(
        task_id,
        where_status=("pending_upload", "uploaded"),
        status="uploaded",
        stage="uploaded",
        uploaded_at=time.time(),
        upload_md5=md5,
    ):
        remove_task_files(cfg, task_id)
        raise ApiError("INVALID_TASK_STATE", "the task was cancelled during the upload")
    return _ok({"task_id": task_id, "status": "uploaded", "file_size": size, "checksum": md5})


# ----------------------------------------------------------------------------- submit
def _submit_hash(body: SubmitRequest) -> tuple[str, str]:
    canonical = json.dumps(
        body.model_dump(mode="json", exclude_none=True), sort_keys=True, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode()).hexdigest(), canonical


def _check_options(options: dict[str, Any] | None) -> None:
    from holterlab.errors import HolterlabError
    from holterlab.server.workers import build_params

    try:
        build_params(options)
    except (HolterlabError, TypeError, ValueError) as exc:
        raise ApiError(
            "INVALID_PARAMETER", f"analysis_options: {' '.join(str(exc).split())}"
        ) from None


@contextlib.asynccontextmanager
async def task_lock(locks: dict[str, Any], task_id: str) -> AsyncIterator[None]:
    """Serialise the submits of one task; its lock lives while submits of it are in flight
    (counted, so it is dropped after the last one however each ends: no lock per task is
    kept for ever)."""
    entry = locks.setdefault(task_id, [asyncio.Lock(), 0])
    entry[1] += 1
    try:
        async with entry[0]:
            yield
    finally:
        entry[1] -= 1
        if entry[1] == 0:
            locks.pop(task_id, None)


@router.post(
    "/submit",
    summary="Submit the analysis of the uploaded file",
    responses=_responses(StatusEnvelope, 401, 404, 409, 422, 429, 503),
)
async def submit(body: SubmitRequest, request: Request, key: ApiKey) -> Response:
    st = _state(request)
    cfg = st.config
    task = _own_task(st, body.task_id, key)
    digest, canonical = _submit_hash(body)
    async with task_lock(st.submit_locks, task["id"]):
        task = _own_task(st, body.task_id, key)
        if task["submit_hash"]:
            if task["submit_hash"] == digest:
                return _ok(status_data(task))
            raise ApiError(
                "INVALID_TASK_STATE",
                "the task was already submitted with a different body; create a new task to "
                "change its options",
            )
        if task["status"] in ("pending_upload", "expired"):
            raise ApiError(
                "UPLOAD_INCOMPLETE",
                "the file has not been uploaded yet; PUT it to the upload URL first"
                if task["status"] == "pending_upload"
                else "the upload URL expired before the file was uploaded; request a new one",
            )
        if task["status"] != "uploaded":
            raise ApiError(
                "INVALID_TASK_STATE", f"the task is {task['status']}; it cannot be submitted"
            )
        await anyio.to_thread.run_sync(_check_options, body.analysis_options)
        if body.callback_url is not None:
            try:
                await anyio.to_thread.run_sync(check_callback_url, body.callback_url, cfg)
            except CallbackError as exc:
                raise ApiError("INVALID_PARAMETER", str(exc)) from None
        if st.store.count_status("queued") >= cfg.max_queue:
            raise ApiError(
                "OVERLOADED",
                "the analysis queue is full; submit again later",
                retry_after=st.retry_after_overloaded(),
            )
        info = body.recording_info.model_dump(mode="json") if body.recording_info else None
        try:
            path, _facts = await anyio.to_thread.run_sync(validate_recording, cfg, task, info)
        except ApiError as exc:
            if task["file_format"] == "csv" and "fs=" in exc.message:
                exc.message += " (give recording_info.sampling_rate)"
            raise
        if not st.store.update_task(
            task["id"],
            where_status=("uploaded",),
            status="queued",
            stage="queued",
            progress=0.0,
            submit_hash=digest,
            submit_body=canonical,
            callback_url=body.callback_url,
            submitted_at=time.time(),
            analysis_path=str(path),
        ):
            raise ApiError("INVALID_TASK_STATE", "the task changed state during the submit")
        task = st.store.get_task(task["id"])
    st.sender.notify(task, "task.queued", {})
    st.pool.wake()
    return _ok(status_data(task))


# ----------------------------------------------------------------------------- status
@router.get(
    "/status/{task_id}",
    summary="Task status and progress",
    responses=_responses(StatusEnvelope, 401, 404, 429),
)
async def status(task_id: str, request: Request, key: ApiKey) -> Response:
    return _ok(status_data(_own_task(_state(request), task_id, key)))


# ----------------------------------------------------------------------------- result
def _not_completed(task: dict[str, Any], what: str) -> ApiError:
    if task["status"] == "failed":
        msg = f"the task failed ({task['error_code']}: {task['error_message']}); it has no {what}"
    elif task["status"] in ("cancelled", "expired"):
        msg = f"the task is {task['status']}; it has no {what}"
    else:
        msg = f"the task is {task['status']}; the {what} exists once it has completed"
    return ApiError("TASK_NOT_COMPLETED", msg, details={"status": task["status"]})


def _result_bytes(result_path: Any, beats_path: Any, with_beats: bool) -> bytes:
    data = result_path.read_bytes().rstrip()
    if with_beats:
        beats = beats_path.read_bytes().strip() if beats_path.exists() else b"null"
        if beats != b"null" and data.endswith(b"}"):
            data = data[:-1] + (b',"beat_list":' if data != b"{}" else b'"beat_list":') + beats
            data += b"}"
    return b'{"status":"success","data":' + data + b"}"


@router.get(
    "/result/{task_id}",
    summary="Structured analysis result (holterlab's result schema)",
    responses=_responses(ResultEnvelope, 401, 404, 409, 429),
)
async def result(
    task_id: str,
    request: Request,
    key: ApiKey,
    include: Annotated[
        str | None, Query(max_length=100, description="`beats` adds the columnar beat list")
    ] = None,
) -> Response:
    st = _state(request)
    task = _own_task(st, task_id, key)
    parts = {p.strip().lower() for p in (include or "").split(",") if p.strip()}
    unknown = parts - {"beats"}
    if unknown:
        raise ApiError(
            "INVALID_PARAMETER", f"include accepts only 'beats', got {', '.join(sorted(unknown))}"
        )
    if task["status"] != "completed" or not task["result_available"]:
        raise _not_completed(task, "result")
    cfg = st.config
    body = await anyio.to_thread.run_sync(
        _result_bytes,
        cfg.results_dir / f"{task['id']}.json",
        cfg.results_dir / f"{task['id']}.beats.json",
        "beats" in parts,
    )
    return Response(body, media_type="application/json")


# ----------------------------------------------------------------------------- report
@router.get(
    "/report/{task_id}",
    summary="PDF report",
    responses={
        **_responses(ResultEnvelope, 401, 404, 409, 429),
        200: {
            "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}},
            "description": "the PDF report",
        },
    },
    response_class=Response,
)
async def report(task_id: str, request: Request, key: ApiKey) -> Response:
    st = _state(request)
    task = _own_task(st, task_id, key)
    if task["status"] != "completed":
        raise _not_completed(task, "report")
    path = st.config.reports_dir / f"{task['id']}.pdf"
    if not task["report_available"] or not path.is_file():
        reason = task["report_error"] or "the report renderer is unavailable on this server"
        raise ApiError(
            "TASK_NOT_COMPLETED",
            f"no report for this task: {reason}",
            details={"status": task["status"]},
        )
    return FileResponse(path, media_type="application/pdf", filename=f"{task['id']}.pdf")


# ----------------------------------------------------------------------------- cancel
@router.post(
    "/cancel/{task_id}",
    summary="Cancel the task (stops its computation)",
    responses=_responses(StatusEnvelope, 401, 404, 409, 429),
)
async def cancel(task_id: str, request: Request, key: ApiKey) -> Response:
    st = _state(request)
    task = _own_task(st, task_id, key)
    if task["status"] in TERMINAL or not st.store.update_task(
        task["id"], where_status=tuple(ACTIVE), status="cancelled", finished_at=time.time()
    ):
        task = st.store.get_task(task["id"])
        raise ApiError(
            "INVALID_TASK_STATE",
            f"the task is already {task['status']}; only unfinished tasks can be cancelled",
            details={"status": task["status"]},
        )
    st.pool.request_cancel(task["id"])
    task = st.store.get_task(task["id"])
    st.sender.notify(task, "task.cancelled", {})
    remove_task_files(st.config, task["id"])
    return _ok(status_data(task))


# ----------------------------------------------------------------------------- fast path


def fast_status(st: Any, task_id: str, headers: list[tuple[bytes, bytes]]) -> bytes | None:
    """The status answer for the plain success case, or None to take the regular route.

    Status is the endpoint clients poll; answering it without the framework's routing and
    dependency machinery halves its cost. Anything unusual (no or bad key, over the rate
    limit, unknown task, a lapsed upload) returns None so that the regular endpoint answers
    with its error.
    """
    if not TASK_ID_RE.fullmatch(task_id):
        return None
    auth = None
    for name, value in headers:
        if name == b"authorization":
            auth = value.decode("latin-1")
            break
    if auth is None or auth[:7].lower() != "bearer ":
        return None
    key = authenticate(st.store, auth[7:].strip())
    if key is None:
        return None
    task = st.store.get_task(task_id, key["id"])
    if task is None or (
        task["status"] == "pending_upload" and time.time() > task["upload_expires"]
    ):
        return None
    # the rate limit is charged last, so that a request handed to the regular route is
    # charged there only once
    if st.limiter.check(key["id"], key["rate_limit"]) is not None:
        return None
    return success_body(status_data(task))
