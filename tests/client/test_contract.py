"""The client against the contract: every endpoint reachable, every documented error typed,
reports that are not PDFs never written as one."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from holterlab.client import AsyncHolterClient, HolterClient
from holterlab.client._core import final_error
from holterlab.client.envelopes import unwrap
from holterlab.client.errors import (
    ApiError,
    ChecksumMismatchError,
    FileTooLargeError,
    InternalServerError,
    InvalidEcgFileError,
    InvalidParameterError,
    InvalidTaskStateError,
    OverloadedError,
    ProtocolError,
    RateLimitedError,
    SignatureInvalidError,
    SizeMismatchError,
    TaskCancelledError,
    TaskFailedError,
    TaskNotCompletedError,
    TaskNotFoundError,
    UnauthorizedError,
    UnsupportedFormatError,
    UploadIncompleteError,
    UploadUrlExpiredError,
    error_for,
)

PREFIX = "/api/v1/advanced/ecg/holter"
TID = "holter_task_" + "0" * 24

#: The contract's error table: HTTP status, code, the client's exception.
ERROR_TABLE = [
    (400, "INVALID_PARAMETER", InvalidParameterError),
    (401, "UNAUTHORIZED", UnauthorizedError),
    (403, "SIGNATURE_INVALID", SignatureInvalidError),
    (404, "TASK_NOT_FOUND", TaskNotFoundError),
    (409, "INVALID_TASK_STATE", InvalidTaskStateError),
    (409, "UPLOAD_INCOMPLETE", UploadIncompleteError),
    (409, "TASK_NOT_COMPLETED", TaskNotCompletedError),
    (410, "UPLOAD_URL_EXPIRED", UploadUrlExpiredError),
    (413, "FILE_TOO_LARGE", FileTooLargeError),
    (415, "UNSUPPORTED_FORMAT", UnsupportedFormatError),
    (422, "INVALID_ECG_FILE", InvalidEcgFileError),
    (422, "CHECKSUM_MISMATCH", ChecksumMismatchError),
    (422, "SIZE_MISMATCH", SizeMismatchError),
    (429, "RATE_LIMITED", RateLimitedError),
    (500, "INTERNAL_ERROR", InternalServerError),
    (503, "OVERLOADED", OverloadedError),
]


@pytest.mark.parametrize(("status", "code", "cls"), ERROR_TABLE)
def test_every_documented_error_has_its_exception(status, code, cls):
    body = {"status": "error", "error": {"code": code, "message": "m", "details": {"k": 1}}}
    with pytest.raises(cls) as exc:
        unwrap(body, status, retry_after=3.0 if status in (429, 503) else None)
    err = exc.value
    assert type(err) is cls and err.code == code and err.http_status == status
    assert err.message == "m" and err.details == {"k": 1}
    assert code in str(err) and str(status) in str(err)
    if status in (429, 503):
        assert err.retry_after == 3.0


@pytest.mark.parametrize(
    ("status", "cls"),
    [(s, c) for s, _, c in ERROR_TABLE if [t[0] for t in ERROR_TABLE].count(s) == 1],
)
def test_status_without_envelope_maps_to_its_only_code(status, cls):
    """A bare HTTP status (a proxy, object storage) is typed when the table has one code for it."""
    err = error_for(None, "no envelope", status)
    assert type(err) is cls


def test_statuses_with_several_codes_fall_back_to_the_family():
    assert isinstance(error_for(None, "x", 409), InvalidTaskStateError)
    assert type(error_for(None, "x", 422)) is ApiError


# ------------------------------------------------------------------------------ endpoints
class Recorder:
    """A service answering every endpoint; records (method, path, query, json body)."""

    def __init__(self, report: Any = None) -> None:
        self.seen: list[tuple[str, str, dict, object]] = []
        self.report = report

    def __call__(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content) if request.content else None
        path = request.url.path
        self.seen.append((request.method, path, dict(request.url.params), body))
        if path.endswith("/upload-url"):
            return httpx.Response(
                200,
                json={
                    "status": "success",
                    "data": {"task_id": TID, "upload_url": "http://storage.test/u"},
                },
            )
        if "/report/" in path:
            if self.report is not None:
                return self.report()
            return httpx.Response(
                200, content=b"%PDF-1.4 x", headers={"Content-Type": "application/pdf"}
            )
        if path.startswith(PREFIX + "/upload/") or request.url.host == "storage.test":
            return httpx.Response(200)
        return httpx.Response(200, json={"status": "success", "data": {"status": "queued"}})


EXPECTED = [
    ("POST", PREFIX + "/upload-url", {}),
    ("POST", PREFIX + "/submit", {}),
    ("GET", PREFIX + f"/status/{TID}", {}),
    ("GET", PREFIX + f"/result/{TID}", {}),
    ("GET", PREFIX + f"/result/{TID}", {"include": "beats"}),
    ("GET", PREFIX + f"/report/{TID}", {}),
    ("POST", PREFIX + f"/cancel/{TID}", {}),
]


def check_calls(seen: list) -> None:
    assert [(m, p, q) for m, p, q, _ in seen] == EXPECTED
    assert seen[0][3] == {
        "filename": "r.aiecg",
        "file_size": 10,
        "file_format": "aiecg",
        "duration_hours": 1.0,
        "checksum": "0" * 32,
    }
    assert seen[1][3] == {
        "task_id": TID,
        "callback_url": "https://hooks.example.org/h",
        "analysis_options": {"a": 1},
        "recording_info": {"sampling_rate": 250},
        "patient_info": {"id": "P"},
    }


SUBMIT = {
    "callback_url": "https://hooks.example.org/h",
    "analysis_options": {"a": 1},
    "recording_info": {"sampling_rate": 250},
    "patient_info": {"id": "P"},
}


def test_sync_client_calls_every_endpoint(tmp_path):
    service = Recorder()
    with HolterClient("http://svc.test", "k", transport=httpx.MockTransport(service)) as c:
        c.upload_url("r.aiecg", 10, "aiecg", 1.0, "0" * 32)
        c.submit(TID, **SUBMIT)
        c.status(TID)
        c.result(TID)
        c.result(TID, include_beats=True)
        assert c.report(TID, tmp_path / "r.pdf").read_bytes() == b"%PDF-1.4 x"
        c.cancel(TID)
    check_calls(service.seen)


def test_async_client_calls_every_endpoint(tmp_path):
    service = Recorder()

    async def go() -> None:
        async with AsyncHolterClient(
            "http://svc.test", "k", transport=httpx.MockTransport(service)
        ) as c:
            await c.upload_url("r.aiecg", 10, "aiecg", 1.0, "0" * 32)
            await c.submit(TID, **SUBMIT)
            await c.status(TID)
            await c.result(TID)
            await c.result(TID, include_beats=True)
            await c.report(TID, tmp_path / "r.pdf")
            await c.cancel(TID)

    asyncio.run(go())
    check_calls(service.seen)
    assert (tmp_path / "r.pdf").read_bytes() == b"%PDF-1.4 x"


# ------------------------------------------------------------------------------ report
def NOT_READY() -> httpx.Response:  # noqa: N802 - a vendor's error answered with HTTP 200
    return httpx.Response(200, json={"code": 409, "message": "report not ready", "data": None})


def JSON_OK() -> httpx.Response:  # noqa: N802 - a success envelope where a PDF belongs
    return httpx.Response(200, json={"status": "success", "data": {"url": "x"}})


@pytest.mark.parametrize(
    ("answer", "cls"), [(NOT_READY, InvalidTaskStateError), (JSON_OK, ProtocolError)]
)
def test_report_answered_with_json_is_never_written_as_pdf(tmp_path, answer, cls):
    out = tmp_path / "r.pdf"
    service = Recorder(report=answer)
    with HolterClient("http://svc.test", "k", transport=httpx.MockTransport(service)) as c:
        with pytest.raises(cls):
            c.report(TID, out)
    assert not out.exists()

    async def go() -> None:
        async with AsyncHolterClient(
            "http://svc.test", "k", transport=httpx.MockTransport(service)
        ) as c:
            await c.report(TID, out)

    with pytest.raises(cls):
        asyncio.run(go())
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_storage_refusing_the_upload_without_envelope_is_typed(tmp_path):
    """Object storage answers a bad pre-signed URL with 403 and XML, not the API's envelope."""
    path = tmp_path / "r.aiecg"
    path.write_bytes(b"x" * 10)

    def storage(request: httpx.Request) -> httpx.Response:
        return httpx.Response(403, text="<Error><Code>SignatureDoesNotMatch</Code></Error>")

    with HolterClient("http://svc.test", "k") as c:
        c._upload_http = httpx.Client(transport=httpx.MockTransport(storage))
        with pytest.raises(SignatureInvalidError, match="SignatureDoesNotMatch"):
            c.upload(path, {"upload_url": "http://storage.test/u"}, progress=False)


# ------------------------------------------------------------------------------ terminal states
def test_terminal_statuses_map_to_errors():
    assert final_error(TID, {"status": "completed"}) is None
    err = final_error(
        TID, {"status": "failed", "error": {"code": "TIMEOUT", "message": "took too long"}}
    )
    assert isinstance(err, TaskFailedError) and err.code == "TIMEOUT" and err.task_id == TID
    assert err.message == "took too long"
    for state in ("cancelled", "expired"):
        err = final_error(TID, {"status": state})
        assert isinstance(err, TaskCancelledError) and err.code == state.upper()
