"""``HolterClient``: the synchronous client of the Holter analysis API (httpx)."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Iterator
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
    ApiError,
    ProtocolError,
    ServiceConnectionError,
    TaskNotCompletedError,
)

__all__ = ["HolterClient"]


class HolterClient:
    """Synchronous client of a Holter analysis service.

    Parameters
    ----------
    base_url
        The service (default: the vendor's ``https://api.heartvoice.com.cn``).
    api_key
        API key; default: the ``HOLTERLAB_API_KEY`` environment variable.
    timeout
        Per-request timeout in seconds (uploads and downloads: per read/write).
    max_retries
        Retries of a request on 429/502/503/504 answers and dropped connections.
    backoff, max_backoff
        First retry wait (doubling, jittered) and the longest wait, in seconds; a
        ``Retry-After`` header wins (up to ``max_backoff``).
    api_prefix
        Path of the endpoints on the service.
    transport, verify
        Passed to ``httpx.Client`` (tests, custom TLS).
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
        transport: httpx.BaseTransport | None = None,
        verify: bool | str = True,
    ) -> None:
        key = api_key_from(api_key)
        self.base_url = base_url.rstrip("/")
        self.prefix = "/" + api_prefix.strip("/")
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        common = {"timeout": timeout, "verify": verify, "trust_env": False}
        if transport is not None:
            common["transport"] = transport
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {key}", "User-Agent": USER_AGENT},
            **common,
        )
        # pre-signed uploads may go to another host: never send the API key there
        self._upload_http = httpx.Client(headers={"User-Agent": USER_AGENT}, **common)

    # ------------------------------------------------------------------ plumbing
    def close(self) -> None:
        self._http.close()
        self._upload_http.close()

    def __enter__(self) -> HolterClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def _send(self, send: Any, *, allow_empty: bool = False) -> Any:
        """Call ``send()`` (returns a response) with retries; return the unwrapped data."""
        attempt = 0
        while True:
            try:
                response = send()
            except httpx.TransportError as exc:
                if attempt >= self.max_retries:
                    raise ServiceConnectionError(
                        f"cannot reach the service at {self.base_url} ({type(exc).__name__}: "
                        f"{exc}); gave up after {attempt + 1} attempt(s)"
                    ) from None
                self._sleep(backoff_delay(attempt, self.backoff, self.max_backoff, None))
                attempt += 1
                continue
            if response.status_code in RETRY_STATUSES and attempt < self.max_retries:
                wait = parse_retry_after(response.headers.get("retry-after"))
                self._sleep(backoff_delay(attempt, self.backoff, self.max_backoff, wait))
                attempt += 1
                continue
            return parse_answer(
                response.status_code, response.headers, response.content, allow_empty=allow_empty
            )

    def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        url = f"{self.prefix}{path}"
        return self._send(lambda: self._http.request(method, url, **kwargs))

    # ------------------------------------------------------------------ the six endpoints
    def upload_url(
        self,
        filename: str,
        file_size: int,
        file_format: str,
        duration_hours: float,
        checksum: str | None = None,
    ) -> dict[str, Any]:
        """``POST /upload-url``: create a task; return ``task_id``, ``upload_url`` etc."""
        body: dict[str, Any] = {
            "filename": filename,
            "file_size": int(file_size),
            "file_format": file_format,
            "duration_hours": float(duration_hours),
        }
        if checksum:
            body["checksum"] = checksum
        data = self._call("POST", "/upload-url", json=body)
        return check_protocol(data, "task_id", "upload_url", what="upload-url")

    def upload(
        self, path: str | os.PathLike[str], upload_info: dict[str, Any], *, progress: bool = True
    ) -> dict[str, Any]:
        """Stream the file to the upload URL (one PUT, 1 MiB blocks, a tqdm bar)."""
        from tqdm.auto import tqdm

        p = Path(path)
        size = p.stat().st_size
        method, url, headers = upload_request(upload_info, size)

        def send() -> httpx.Response:
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

                def blocks() -> Iterator[bytes]:
                    while block := fh.read(CHUNK):
                        bar.update(len(block))
                        yield block

                return self._upload_http.request(method, url, content=blocks(), headers=headers)

        data = self._send(send, allow_empty=True)
        return data if isinstance(data, dict) else {}

    def submit(
        self,
        task_id: str,
        *,
        callback_url: str | None = None,
        analysis_options: dict[str, Any] | None = None,
        recording_info: dict[str, Any] | None = None,
        patient_info: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """``POST /submit``: start the analysis of the uploaded file (idempotent)."""
        body: dict[str, Any] = {"task_id": task_id}
        for name, value in (
            ("callback_url", callback_url),
            ("analysis_options", analysis_options),
            ("recording_info", recording_info),
            ("patient_info", patient_info),
        ):
            if value is not None:
                body[name] = value
        return self._call("POST", "/submit", json=body) or {}

    def status(self, task_id: str) -> dict[str, Any]:
        """``GET /status/{task_id}``."""
        data = self._call("GET", f"/status/{task_id}")
        return check_protocol(data, "status", what="status")

    def result(self, task_id: str, *, include_beats: bool = False) -> dict[str, Any]:
        """``GET /result/{task_id}`` (``include_beats`` adds the columnar beat list)."""
        params = {"include": "beats"} if include_beats else None
        return self._call("GET", f"/result/{task_id}", params=params)

    def report(self, task_id: str, path: str | os.PathLike[str]) -> Path:
        """``GET /report/{task_id}``: stream the PDF to ``path`` (atomically)."""
        from holterlab._atomic import atomic_path

        out = Path(path)
        url = f"{self.prefix}/report/{task_id}"

        written = False

        def send() -> httpx.Response:
            nonlocal written
            with self._http.stream("GET", url) as response:
                # an error, or a JSON envelope (some services answer errors with HTTP 200)
                if response.status_code != 200 or is_json(response.headers):
                    response.read()
                    return response
                with atomic_path(out) as tmp, open(tmp, "wb") as fh:
                    for block in response.iter_bytes(CHUNK):
                        fh.write(block)
                written = True
                return httpx.Response(200, json={"status": "success", "data": {}})

        self._send(send)
        if not written:
            raise not_a_pdf()
        return out

    def cancel(self, task_id: str) -> dict[str, Any]:
        """``POST /cancel/{task_id}``: cancel the task (stops its computation)."""
        return self._call("POST", f"/cancel/{task_id}") or {}

    # ------------------------------------------------------------------ the whole flow
    def wait(
        self,
        task_id: str,
        *,
        poll_interval: float = 2.0,
        timeout: float | None = None,
        progress: bool = False,
    ) -> dict[str, Any]:
        """Poll the status until the task ends; return the final status data.

        Polls every ``poll_interval`` s while progress moves, backing off to 15 s when it
        does not; 429/503 answers are waited out as their ``Retry-After`` says.

        Raises
        ------
        AnalysisTimeoutError
            If the task has not ended after ``timeout`` seconds (it keeps running).
        """
        from tqdm.auto import tqdm

        deadline = None if timeout is None else time.monotonic() + timeout
        schedule = PollSchedule(poll_interval)
        with tqdm(total=100, disable=not progress, desc="analysis", unit="%", leave=False) as bar:
            while True:
                st = self.status(task_id)
                pct = st.get("progress")
                if isinstance(pct, (int, float)) and pct > bar.n:
                    bar.update(int(pct) - bar.n)
                if st.get("stage"):
                    bar.set_postfix_str(str(st["stage"]), refresh=False)
                if st.get("status") in TERMINAL:
                    return st
                wait = schedule.next(st)
                if deadline is not None and time.monotonic() + wait > deadline:
                    raise AnalysisTimeoutError(
                        f"task {task_id} has not finished after {timeout:g} s (it is "
                        f"{st.get('status')}); poll it later or cancel it",
                        task_id=task_id,
                    )
                self._sleep(wait)

    def analyze_file(
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
        """Upload a recording, analyse it on the service, fetch the result (and the PDF).

        A WFDB record (``.hea``) is zipped for upload. Raises the typed error of any step:
        :class:`~holterlab.client.errors.TaskFailedError` carries the task's error code and
        message; :class:`~holterlab.client.errors.AnalysisTimeoutError` if ``timeout`` passes.
        """
        with prepared_upload(path, file_format, recording_info) as up:
            info = self.upload_url(
                up.filename, up.file_size, up.file_format, up.duration_hours, up.checksum
            )
            task_id = str(info["task_id"])
            self.upload(up.path, info, progress=progress)
        self.submit(
            task_id,
            callback_url=callback_url,
            analysis_options=analysis_options,
            recording_info=recording_info,
            patient_info=patient_info,
        )
        final = self.wait(task_id, poll_interval=poll_interval, timeout=timeout, progress=progress)
        err = final_error(task_id, final)
        if err is not None:
            raise err
        result = self.result(task_id, include_beats=True)
        written: Path | None = None
        if report_path is not None:
            if final.get("report_available") is False:
                warnings.warn(f"task {task_id}: the service has no PDF report for it", stacklevel=2)
            else:
                try:
                    written = self.report(task_id, report_path)
                except (TaskNotCompletedError, ProtocolError) as exc:
                    warnings.warn(f"task {task_id}: no PDF report ({exc.message})", stacklevel=2)
        return RemoteAnalysis(task_id=task_id, status=final, result=result, report_path=written)


__all__ += ["ApiError"]
