"""The FastAPI application: :func:`create_app` builds it from a :class:`ServerConfig`.

Start-up opens the task store, loads (or creates) the upload-signing secret, re-queues tasks
a previous run left unfinished, and starts the worker supervisor (local processes, or a Dask
cluster with ``dask_scheduler``) and the webhook sender; shut-down stops them (running tasks
go back to the queue).
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from holterlab._version import __version__
from holterlab.server.config import ServerConfig
from holterlab.server.errors import ApiError, error_body, success_body
from holterlab.server.ratelimit import RateLimiter
from holterlab.server.signing import load_or_create_secret
from holterlab.server.store import Store
from holterlab.server.webhooks import WebhookSender
from holterlab.server.workers import WorkerPool

__all__ = ["create_app", "ServerState", "HolterAPI"]

log = logging.getLogger("holterlab.server")

DESCRIPTION = """\
holterlab's implementation of the long-term (Holter) ECG analysis API: get an upload URL,
PUT the file, submit, poll the status (or receive webhooks), then fetch the structured
result and the PDF report. All endpoints but the pre-signed upload need
`Authorization: Bearer <API key>`. Errors are
`{"status": "error", "error": {"code", "message", "details"}}`.
"""


class ServerState:
    """Everything the endpoints share: settings, store, secret, workers, webhooks, limits."""

    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        config.ensure_dirs()
        self.store = Store(config.db_path)
        self.secret = load_or_create_secret(config.data_dir)
        self.limiter = RateLimiter(config.rate_limit_per_s, config.rate_limit_burst)
        self.sender = WebhookSender(config, self.store)
        if config.dask_scheduler:
            from holterlab.server.dask_pool import DaskPool

            self.pool: WorkerPool = DaskPool(config, self.store, self.sender.notify)
        else:
            self.pool = WorkerPool(config, self.store, self.sender.notify)
        self.submit_locks: dict[str, Any] = {}

    def start(self) -> None:
        self.sender.start()
        self.pool.start()

    def stop(self) -> None:
        self.pool.stop()
        self.sender.stop()
        self.store.close()

    def retry_after_overloaded(self) -> float:
        return 10.0


def _error(
    status: int, code: str, message: str, details: Any = None, headers: dict[str, str] | None = None
) -> Response:
    return Response(
        error_body(code, message, details),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def _validation_details(exc: RequestValidationError) -> dict[str, Any]:
    errors = []
    for err in exc.errors()[:20]:
        loc = [str(x) for x in err.get("loc", ()) if x != "body"]
        errors.append({"field": ".".join(loc), "message": str(err.get("msg", ""))})
    return {"errors": errors}


class HolterAPI(FastAPI):
    """FastAPI answering plain ``GET /status/{task_id}`` requests before its middleware stack.

    Status is what clients poll; the fast path (:func:`~holterlab.server.routes.fast_status`)
    skips routing and dependency resolution. Anything else, and any error, takes the regular
    route, which produces the same answer (or the error envelope).
    """

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["method"] == "GET":
            from holterlab.server.routes import STATUS_PATH, fast_status

            path = scope["path"]
            state = getattr(self.state, "holter", None)
            if path.startswith(STATUS_PATH) and state is not None:
                try:
                    body = fast_status(state, path[len(STATUS_PATH) :], scope["headers"])
                except Exception:  # noqa: BLE001 - the regular route reports it properly
                    body = None
                if body is not None:
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 200,
                            "headers": [
                                (b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode()),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": body})
                    return
        await super().__call__(scope, receive, send)


def create_app(config: ServerConfig) -> FastAPI:
    """Build the application for ``config`` (workers start with the app's lifespan)."""

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state = ServerState(config)
        app.state.holter = state
        state.start()
        log.info("holterlab server ready; data in %s", config.data_dir)
        try:
            yield
        finally:
            state.stop()

    app = HolterAPI(
        title="holterlab Holter analysis API",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
    )

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> Response:
        return _error(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        from holterlab.server.routes import unauthorized

        denied = unauthorized(request)  # no key, no detail about the request
        if denied is not None:
            return _error(denied.status, denied.code, denied.message, headers=denied.headers)
        details = _validation_details(exc)
        first = details["errors"][0] if details["errors"] else {"field": "", "message": ""}
        where = f"{first['field']}: " if first["field"] else ""
        return _error(
            400, "INVALID_PARAMETER", f"invalid request: {where}{first['message']}", details
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _error(404, "NOT_FOUND", "no such endpoint")
        if exc.status_code == 405:
            return _error(
                405,
                "METHOD_NOT_ALLOWED",
                "this endpoint does not accept that method",
                headers=dict(exc.headers or {}),
            )
        if exc.status_code == 401:
            return _error(
                401,
                "UNAUTHORIZED",
                "missing or invalid API key",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return _error(400, "INVALID_PARAMETER", "invalid request")

    @app.exception_handler(Exception)
    async def _internal(request: Request, exc: Exception) -> Response:
        incident = secrets.token_hex(6)
        log.error(
            "internal error %s on %s %s", incident, request.method, request.url.path, exc_info=exc
        )
        return _error(
            500,
            "INTERNAL_ERROR",
            f"internal server error (incident {incident}); the server log has the details",
            {"incident": incident},
        )

    @app.get("/health", tags=["service"], summary="Liveness check (no API key needed)")
    async def health() -> Response:
        return Response(
            success_body({"status": "ok", "version": __version__}), media_type="application/json"
        )

    from holterlab.server.routes import router

    app.include_router(router)

    def openapi() -> dict[str, Any]:
        if app.openapi_schema:
            return app.openapi_schema
        schema = get_openapi(
            title=app.title, version=app.version, description=app.description, routes=app.routes
        )
        # requests that fail validation answer 400 INVALID_PARAMETER, not FastAPI's 422 model
        for path_item in schema.get("paths", {}).values():
            for op in path_item.values():
                responses = op.get("responses", {})
                resp = responses.get("422", {})
                ref = str(resp.get("content", {}).get("application/json", {}).get("schema", {}))
                if "HTTPValidationError" in ref:
                    del responses["422"]
        comps = schema.get("components", {}).get("schemas", {})
        comps.pop("HTTPValidationError", None)
        comps.pop("ValidationError", None)
        app.openapi_schema = schema
        return schema

    app.openapi = openapi  # type: ignore[method-assign]
    return app
