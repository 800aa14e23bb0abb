"""``AsyncHolterClient``: the asyncio client of the Holter analysis API (httpx)."""

from __future__ import annotations

import asyncio
import os
import time
import warnings
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx

from holterlab.client._core import (
    API_PREFIX,
    CHUNK,
    DEFAULT_BASE_URL,
    RETRY_STATUSES,
    TERMINAL,
    USER_AGENT,
    PollSchedule,
    RemoteAnalysis,
    api_key_from,
    backoff_delay,
    final_error,
    is_json,
    not_a_pdf,
    parse_answer,
    parse_retry_after,
    prepared_upload,
    upload_request,
)
from holterlab.client.envelopes import check_protocol
from holterlab.client.errors import (
    AnalysisTimeoutError,
    ProtocolError,
    ServiceConnectionError,
    TaskNotCompletedError,
)

__all__ = ["AsyncHolterClient"]


class AsyncHolterClient:
    """Asynchronous client of a Holter analysis service; same methods as
    :class:`~holterlab.client.sync.HolterClient`, as coroutines.
    """

    def __init__(
        self,
        base_url: str = DEFAULT_BASE_URL,
        api_key: str | None = None,
        *,
        timeout: float = 60.0,
        max_retries: int = 5,
        backoff: float = 0.5,
        max_backoff: float = 60.0,
        api_prefix: str = API_PREFIX,
        transport: httpx.AsyncBaseTransport | None = None,
        verify: bool | str = True,
    ) -> None:
        key = api_key_from(api_key)
        self.base_url = base_url.rstrip("/")
        self.prefix = "/" + api_prefix.strip("/")
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        common: dict[str, Any] = {"timeout": timeout, "verify": verify, "trust_env": False}
        if transport is not None:
            common["transport"] = transport
        self._http = httpx.AsyncClient(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {key}", "User-Agent": USER_AGENT},
            **common,
        )
        self._upload_http = httpx.AsyncClient(headers={"User-Agent": USER_AGENT}, **common)

    # ------------------------------------------------------------------ plumbing
    async def aclose(self) -> None:
        await self._http.aclose()
        await self._upload_http.aclose()

    async def __aenter__(self) -> AsyncHolterClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _send(self, send: Any, *, allow_empty: bool = False) -> Any:
        attempt = 0
        while True:
            try:
                response = await send()
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    raise ServiceConnectionError(
                        f"cannot reach the service at {self.base_url} ({type(exc).__name__}: "
                        f"{exc}); gave up after {attempt + 1} attempt(s)"
                    ) from None
                await asyncio.sleep(backoff_delay(attempt, self.backoff, self.max_backoff, None))
                attempt += 1
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.max_retries:
                wait = parse_retry_after(response.headers.get("retry-after"))
                await asyncio.sleep(backoff_delay(attempt, self.backoff, self.max_backoff, wait))
                attempt += 1
                continue
            return parse_answer(
                response.status_code, response.headers, response.content, allow_empty=allow_empty
            )

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.prefix}{path}"

        async def send() -> httpx.Response:
            return await self._http.request(method, url, **kwargs)

        return await self._send(send)

    # ------------------------------------------------------------------ the endpoints
    async def upload_url(
        self,
        filename: str,
        file_size: int,
        file_format: str,
        duration_hours: float,
        checksum: str | None = None,
    ) -> dict[str, Any]:
        """``POST /upload-url``."""
        body: dict[str, Any] = {
            "filename": filename,
            "file_size": int(file_size),
            "file_format": file_format,
            "duration_hours": float(duration_hours),
        }
        if checksum:
            body["checksum"] = checksum
        data = await self._call("POST", "/upload-url", json=body)
        return check_protocol(data, "task_id", "upload_url", what="upload-url")

    async def upload(
        self, path: str | os.PathLike[str], upload_info: dict[str, Any], *, progress: bool = True
    ) -> dict[str, Any]:
        """Stream the file to the upload URL (one PUT, 1 MiB blocks, a tqdm bar)."""
        from tqdm.auto import tqdm

        p = Path(path)
        size = p.stat().st_size
        method, url, headers = upload_request(upload_info, size)

        async def send() -> httpx.Response:
            with (
                open(p, "rb") as fh,
                tqdm(
                    total=size,
                    unit="B",
                    unit_scale=True,
                    unit_divisor=1024,
                    disable=not progress,
                    desc=f"upload {p.name}",
                    leave=False,
                ) as bar,
            ):

                async def blocks() -> AsyncIterator[bytes]:
                    while block := await asyncio.to_thread(fh.read, CHUNK):
                        bar.update(len(block))
                        yield block

                return await self._upload_http.request(
                    method, url, content=blocks(), headers=headers
                )

        data = await self._send(send, allow_empty=True)
        return data if isinstance(data, dict) else {}

    async def submit(
        self,
        task_id: str,
        *,
        callback_url: str | None = None,
        analysis_options: dict[str, Any] | None = None,
        recording_info: dict[str, Any] | None = None,
        patient_info: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``POST /submit`` (idempotent)."""
        body: dict[str, Any] = {"task_id": task_id}
        for name, value in (
            ("callback_url", callback_url),
            ("analysis_options", analysis_options),
            ("recording_info", recording_info),
            ("patient_info", patient_info),
        ):
            if value is not None:
                body[name] = value
        return await self._call("POST", "/submit", json=body) or {}

    async def status(self, task_id: str) -> dict[str, Any]:
        """``GET /status/{task_id}``."""
        data = await self._call("GET", f"/status/{task_id}")
        return check_protocol(data, "status", what="status")

    async def result(self, task_id: str, *, include_beats: bool = False) -> dict[str, Any]:
        """``GET /result/{task_id}``."""
        params = {"include": "beats"} if include_beats else None
        return await self._call("GET", f"/result/{task_id}", params=params)

    async def report(self, task_id: str, path: str | os.PathLike[str]) -> Path:
        """``GET /report/{task_id}``: stream the PDF to ``path`` (atomically)."""
        from holterlab._atomic import atomic_path

        out = Path(path)
        url = f"{self.prefix}/report/{task_id}"

        written = False

        async def send() -> httpx.Response:
            nonlocal written
            async with self._http.stream("GET", url) as response:
                # an error, or a JSON envelope (some services answer errors with HTTP 200)
                if response.status_code != 200 or is_json(response.headers):
                    await response.aread()
                    return response
                with atomic_path(out) as tmp, open(tmp, "wb") as fh:
                    async for block in response.aiter_bytes(CHUNK):
                        fh.write(block)
                written = True
                return httpx.Response(200, json={"status": "success", "data": {}})

        await self._send(send)
        if not written:
            raise not_a_pdf()
        return out

    async def cancel(self, task_id: str) -> dict[str, Any]:
        """``POST /cancel/{task_id}``."""
        return await self._call("POST", f"/cancel/{task_id}") or {}

    # ------------------------------------------------------------------ the whole flow
    async def wait(
        self,
        task_id: str,
        *,
        poll_interval: float = 2.0,
        timeout: float | None = None,
        progress: bool = False,
    ) -> dict[str, Any]:
        """Poll until the task ends (see :meth:`HolterClient.wait`)."""
        from tqdm.auto import tqdm

        deadline = None if timeout is None else time.monotonic() + timeout
        schedule = PollSchedule(poll_interval)
        with tqdm(total=100, disable=not progress, desc="analysis", unit="%", leave=False) as bar:
            while True:
                st = await self.status(task_id)
                pct = st.get("progress")
                if isinstance(pct, (int, float)) and pct > bar.n:
                    bar.update(int(pct) - bar.n)
                if st.get("status") in TERMINAL:
                    return st
                wait = schedule.next(st)
                if deadline is not None and time.monotonic() + wait > deadline:
                    raise AnalysisTimeoutError(
                        f"task {task_id} has not finished after {timeout:g} s (it is "
                        f"{st.get('status')}); poll it later or cancel it",
                        task_id=task_id,
                    )
                await asyncio.sleep(wait)

    async def analyze_file(
        self,
        path: str | os.PathLike[str],
        *,
        file_format: str | None = None,
        analysis_options: dict[str, Any] | None = None,
        recording_info: dict[str, Any] | None = None,
        patient_info: dict[str, Any] | None = None,
        callback_url: str | None = None,
        poll_interval: float = 2.0,
        timeout: float | None = 24 * 3600.0,
        progress: bool = True,
        report_path: str | os.PathLike[str] | None = None,
    ) -> RemoteAnalysis:
        """Upload, analyse, fetch the result and the PDF (see :meth:`HolterClient.analyze_file`)."""
        with prepared_upload(path, file_format, recording_info) as up:
            info = await self.upload_url(
                up.filename, up.file_size, up.file_format, up.duration_hours, up.checksum
            )
            task_id = str(info["task_id"])
            await self.upload(up.path, info, progress=progress)
        await self.submit(
            task_id,
            callback_url=callback_url,
            analysis_options=analysis_options,
            recording_info=recording_info,
            patient_info=patient_info,
        )
        final = await self.wait(
            task_id, poll_interval=poll_interval, timeout=timeout, progress=progress
        )
        err = final_error(task_id, final)
        if err is not None:
            raise err
        result = await self.result(task_id, include_beats=True)
        written: Path | None = None
        if report_path is not None:
            if final.get("report_available") is False:
                warnings.warn(f"task {task_id}: the service has no PDF report for it", stacklevel=2)
            else:
                try:
                    written = await self.report(task_id, report_path)
                except (TaskNotCompletedError, ProtocolError) as exc:
                    warnings.warn(f"task {task_id}: no PDF report ({exc.message})", stacklevel=2)
        return RemoteAnalysis(task_id=task_id, status=final, result=result, report_path=written)
