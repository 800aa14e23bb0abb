"""The client without a server: envelopes, typed errors, retries, streaming, webhooks."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
import zipfile
from pathlib import Path

import httpx
import numpy as np
import pytest

from holterlab.client import AsyncHolterClient, HolterClient, verify_webhook
from holterlab.client._core import PollSchedule, parse_retry_after, prepared_upload
from holterlab.client.envelopes import unwrap
from holterlab.client.errors import (
    ApiError,
    ChecksumMismatchError,
    InvalidEcgFileError,
    OverloadedError,
    ProtocolError,
    RateLimitedError,
    ServiceConnectionError,
    TaskNotFoundError,
    UnauthorizedError,
    WebhookVerificationError,
)
from holterlab.client.webhooks import sign_webhook
from holterlab.errors import HolterlabError, ParameterError

PREFIX = "/api/v1/advanced/ecg/holter"


# ------------------------------------------------------------------------------ envelopes
def test_published_envelope():
    assert unwrap({"status": "success", "data": {"a": 1}}) == {"a": 1}
    with pytest.raises(TaskNotFoundError) as exc:
        unwrap({"status": "error", "error": {"code": "TASK_NOT_FOUND", "message": "nope"}}, 404)
    assert exc.value.code == "TASK_NOT_FOUND" and exc.value.message == "nope"
    assert exc.value.http_status == 404 and isinstance(exc.value, HolterlabError)


def test_vendor_envelopes():
    assert unwrap({"errorCode": "0", "msg": "ok", "data": {"x": 2}}) == {"x": 2}
    assert unwrap({"errorCode": 0, "msg": "ok", "data": [1]}) == [1]
    assert unwrap({"code": 200, "message": "success", "data": {"y": 3}}) == {"y": 3}
    with pytest.raises(ApiError) as exc:
        unwrap({"errorCode": "40012", "msg": "签名错误", "data": None})
    assert exc.value.code == "40012" and exc.value.message == "签名错误"
    with pytest.raises(UnauthorizedError) as exc:
        unwrap({"code": 401, "message": "token expired", "data": None})
    assert exc.value.message == "token expired"
    with pytest.raises(RateLimitedError):
        unwrap({"code": 500123, "message": "busy"}, 429)
    # a 2xx body with an error code in it is still an error
    with pytest.raises(ApiError):
        unwrap({"code": 500, "message": "internal", "data": None}, 200)


def test_unknown_shapes():
    assert unwrap({"task_id": "t"}, 200) == {"task_id": "t"}
    with pytest.raises(OverloadedError):
        unwrap({"detail": "x"}, 503)


def test_retry_after_parsing():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("garbage") is None
    later = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 30))
    assert 25 <= parse_retry_after(later) <= 31


def test_poll_schedule_backs_off_and_resets():
    s = PollSchedule(1.0, cap=4.0)
    st = {"status": "processing", "progress": 10, "stage": "a"}
    assert s.next(st) == 1.0
    assert s.next(st) == 1.5 and s.next(st) == 2.25
    for _ in range(5):
        s.next(st)
    assert s.interval == 4.0
    assert s.next({**st, "progress": 11}) == 1.0


# ------------------------------------------------------------------------------ webhooks
def test_verify_webhook():
    body = json.dumps({"event": "task.completed", "task_id": "t"}).encode()
    ts = str(int(time.time()))
    headers = {"x-holter-timestamp": ts, "X-Holter-Signature": sign_webhook(body, ts, "s3cret")}
    assert verify_webhook(body, headers, "s3cret")["event"] == "task.completed"
    assert verify_webhook(body.decode(), headers, "s3cret")["task_id"] == "t"
    with pytest.raises(WebhookVerificationError, match="signature"):
        verify_webhook(body, headers, "other")
    with pytest.raises(WebhookVerificationError, match="signature"):
        verify_webhook(body + b" ", headers, "s3cret")
    with pytest.raises(WebhookVerificationError, match="away from now"):
        verify_webhook(body, headers, "s3cret", now=time.time() + 301)
    with pytest.raises(WebhookVerificationError, match="lacks"):
        verify_webhook(body, {}, "s3cret")
    old = str(int(time.time()) - 1000)
    stale = {"X-Holter-Timestamp": old, "X-Holter-Signature": sign_webhook(body, old, "s3cret")}
    with pytest.raises(WebhookVerificationError):
        verify_webhook(body, stale, "s3cret")
    assert verify_webhook(body, stale, "s3cret", max_age_s=2000)["task_id"] == "t"


# ------------------------------------------------------------------------------ a fake service
class StreamingTransport(httpx.BaseTransport):
    """Like httpx.MockTransport, without reading the request body first."""

    def __init__(self, handler) -> None:
        self.handler = handler

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.handler(request)


class AsyncStreamingTransport(httpx.AsyncBaseTransport):
    def __init__(self, handler) -> None:
        self.handler = handler

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "storage.test":
            blocks = [b async for b in request.stream]
            request._content = b"".join(blocks)
            request.stream = httpx.ByteStream(request._content)
            self.handler.async_blocks = len(blocks)
        return self.handler(request)


class FakeService:
    """An httpx MockTransport speaking the contract, with scripted failures."""

    def __init__(self, *, fail: list | None = None, envelope: str = "status") -> None:
        self.fail = list(fail or [])
        self.envelope = envelope
        self.calls: list[httpx.Request] = []
        self.uploaded = b""
        self.polls = 0
        self.upload_streamed = False

    def wrap(self, data, status=200):
        if self.envelope == "errorCode":
            return httpx.Response(status, json={"errorCode": "0", "msg": "ok", "data": data})
        if self.envelope == "code":
            return httpx.Response(status, json={"code": 200, "message": "ok", "data": data})
        return httpx.Response(status, json={"status": "success", "data": data})

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.calls.append(request)
        if self.fail:
            action = self.fail.pop(0)
            if action == "drop":
                raise httpx.ReadError("connection reset", request=request)
            if isinstance(action, httpx.Response):
                return action
        path = request.url.path
        if path.endswith("/upload-url"):
            body = json.loads(request.content)
            assert set(body) >= {"filename", "file_size", "file_format", "duration_hours"}
            self.declared = body
            return self.wrap(
                {
                    "task_id": "holter_task_1",
                    "upload_method": "PUT",
                    "upload_url": "http://storage.test/put?signature=abc",
                    "upload_headers": {"Content-Type": "application/octet-stream"},
                    "expires_at": "2030-01-01T00:00:00Z",
                    "max_file_size": 10**9,
                }
            )
        if request.url.host == "storage.test":
            assert "authorization" not in request.headers  # the key never leaves for storage
            assert int(request.headers["content-length"]) == self.declared["file_size"]
            if isinstance(request.stream, httpx.ByteStream):
                self.upload_streamed = getattr(self, "async_blocks", 0) > 0
                self.uploaded = request.read()
            else:
                blocks = list(request.stream)
                self.upload_streamed = True
                self.uploaded = b"".join(blocks)
            return httpx.Response(200)  # storage answers with an empty body
        if path.endswith("/submit"):
            return self.wrap({"task_id": "holter_task_1", "status": "queued"})
        if "/status/" in path:
            self.polls += 1
            done = self.polls >= 3
            return self.wrap(
                {
                    "task_id": "holter_task_1",
                    "status": "completed" if done else "processing",
                    "progress": 100 if done else 30 * self.polls,
                    "stage": "x",
                    "report_available": True,
                }
            )
        if "/result/" in path:
            assert request.url.params.get("include") == "beats"
            return self.wrap({"schema_version": "1.0", "beats": {"total": 3}})
        if "/report/" in path:
            return httpx.Response(
                200, content=b"%PDF-1.4 fake", headers={"Content-Type": "application/pdf"}
            )
        return httpx.Response(
            404, json={"status": "error", "error": {"code": "NOT_FOUND", "message": "no"}}
        )


@pytest.fixture
def recording(tmp_path) -> Path:
    import holterlab
    from holterlab.recording import Recording

    x = np.zeros((1, 2500), np.float32)
    return holterlab.write(Recording.from_array(x, 250, ["I"]), tmp_path / "r.aiecg")


def client_for(service: FakeService, **kw) -> HolterClient:
    c = HolterClient(
        "http://svc.test", "key", transport=httpx.MockTransport(service), backoff=0.001, **kw
    )
    c._upload_http = httpx.Client(transport=StreamingTransport(service))
    return c


@pytest.mark.parametrize("envelope", ["status", "errorCode", "code"])
def test_analyze_file_flow_with_any_envelope(recording, tmp_path, envelope):
    service = FakeService(envelope=envelope)
    with client_for(service) as client:
        run = client.analyze_file(
            recording, poll_interval=0.001, progress=False, report_path=tmp_path / "r.pdf"
        )
    assert run.task_id == "holter_task_1" and run.result["beats"]["total"] == 3
    assert service.uploaded == recording.read_bytes() and service.upload_streamed
    assert service.declared["checksum"] == hashlib.md5(recording.read_bytes()).hexdigest()
    assert service.declared["file_format"] == "aiecg"
    assert abs(service.declared["duration_hours"] - 10 / 3600) < 1e-6
    assert (tmp_path / "r.pdf").read_bytes() == b"%PDF-1.4 fake"
    assert all(
        c.headers.get("authorization") == "Bearer key"
        for c in service.calls
        if c.url.host == "svc.test"
    )


def test_retries_on_429_503_and_dropped_connections(recording):
    busy = httpx.Response(
        429,
        headers={"Retry-After": "0"},
        json={"status": "error", "error": {"code": "RATE_LIMITED", "message": "slow down"}},
    )
    full = httpx.Response(
        503,
        headers={"Retry-After": "0"},
        json={"status": "error", "error": {"code": "OVERLOADED", "message": "full"}},
    )
    service = FakeService(fail=[busy, "drop", full])
    waits = []
    with client_for(service) as client:
        client._sleep = waits.append
        info = client.upload_url("r.aiecg", 10, "aiecg", 1.0)
    assert info["task_id"] == "holter_task_1"
    assert len(service.calls) == 4 and waits[0] == 0.0 and waits[2] == 0.0


def test_gives_up_with_typed_errors(recording):
    busy = httpx.Response(
        503,
        json={"status": "error", "error": {"code": "OVERLOADED", "message": "queue full"}},
        headers={"Retry-After": "0"},
    )
    with client_for(FakeService(fail=[busy] * 3), max_retries=2) as client:
        with pytest.raises(OverloadedError) as exc:
            client.status("holter_task_1")
    assert exc.value.message == "queue full" and exc.value.retry_after == 0.0
    with client_for(FakeService(fail=["drop"] * 3), max_retries=2) as client:
        with pytest.raises(ServiceConnectionError):
            client.status("holter_task_1")
    bad = httpx.Response(
        422,
        json={
            "status": "error",
            "error": {"code": "CHECKSUM_MISMATCH", "message": "md5 differs", "details": {"a": 1}},
        },
    )
    with client_for(FakeService(fail=[bad])) as client:
        with pytest.raises(ChecksumMismatchError) as exc:
            client.status("holter_task_1")
    assert exc.value.details == {"a": 1} and exc.value.http_status == 422
    html = httpx.Response(502, text="<html>bad gateway</html>")
    with client_for(FakeService(fail=[html]), max_retries=0) as client:
        with pytest.raises(ApiError, match="bad gateway"):
            client.status("holter_task_1")
    weird = httpx.Response(200, text="not json")
    with client_for(FakeService(fail=[weird])) as client:
        with pytest.raises(ProtocolError):
            client.status("holter_task_1")


def test_async_client_flow_and_errors(recording, tmp_path):
    service = FakeService(envelope="code")

    async def go():
        client = AsyncHolterClient(
            "http://svc.test", "key", backoff=0.001, transport=httpx.MockTransport(service)
        )
        client._upload_http = httpx.AsyncClient(transport=AsyncStreamingTransport(service))
        async with client:
            run = await client.analyze_file(
                recording, poll_interval=0.001, progress=False, report_path=tmp_path / "a.pdf"
            )
            service.fail = [
                httpx.Response(
                    422,
                    json={
                        "status": "error",
                        "error": {"code": "INVALID_ECG_FILE", "message": "bad header"},
                    },
                )
            ]
            with pytest.raises(InvalidEcgFileError, match="bad header"):
                await client.submit("holter_task_1")
            return run

    run = asyncio.run(go())
    assert run.result["beats"]["total"] == 3
    assert service.uploaded == recording.read_bytes() and service.upload_streamed
    assert (tmp_path / "a.pdf").read_bytes().startswith(b"%PDF")


def test_api_key_required(monkeypatch):
    monkeypatch.delenv("HOLTERLAB_API_KEY", raising=False)
    with pytest.raises(ParameterError, match="HOLTERLAB_API_KEY"):
        HolterClient("http://svc.test")
    monkeypatch.setenv("HOLTERLAB_API_KEY", "k2")
    with HolterClient("http://svc.test") as c:
        assert c._http.headers["authorization"] == "Bearer k2"


def test_wfdb_record_is_zipped(tmp_path):
    import holterlab
    from holterlab.recording import Recording

    x = np.zeros((2, 5000), np.float32)
    hea = holterlab.write(Recording.from_array(x, 250, ["A", "B"]), tmp_path / "rec.hea")
    with prepared_upload(hea) as up:
        assert up.file_format == "mit" and up.filename == "rec.zip"
        with zipfile.ZipFile(up.path) as zf:
            names = zf.namelist()
        assert "rec.hea" in names and any(n.endswith(".dat") for n in names)
        assert abs(up.duration_hours - 20 / 3600) < 1e-6
        zipped = up.path
    assert not zipped.exists()  # the temporary archive is removed


def test_upload_generator_never_holds_the_file(tmp_path, monkeypatch):
    """The PUT body is read in 1 MiB blocks while sending."""
    big = tmp_path / "big.aiecg"
    with open(big, "wb") as fh:
        fh.truncate(5 * 2**20 + 7)
    sizes = []

    def handler(request: httpx.Request) -> httpx.Response:
        for chunk in request.stream:
            sizes.append(len(chunk))
        return httpx.Response(200)

    with HolterClient("http://svc.test", "k") as client:
        client._upload_http = httpx.Client(transport=StreamingTransport(handler))
        client.upload(
            big, {"upload_url": "http://storage.test/x", "max_file_size": 10**9}, progress=False
        )
    assert sum(sizes) == big.stat().st_size and max(sizes) <= 2**20 and len(sizes) == 6


def test_analyze_file_keeps_the_result_when_the_report_is_not_a_pdf(recording, tmp_path):
    class JsonReport(FakeService):
        def __call__(self, request: httpx.Request) -> httpx.Response:
            if "/report/" in request.url.path:
                self.calls.append(request)
                return httpx.Response(200, json={"status": "success", "data": {}})
            return super().__call__(request)

    out = tmp_path / "r.pdf"
    with client_for(JsonReport()) as client, pytest.warns(UserWarning, match="not a PDF"):
        run = client.analyze_file(recording, poll_interval=0.001, progress=False, report_path=out)
    assert run.result["beats"]["total"] == 3
    assert run.report_path is None and not out.exists()
