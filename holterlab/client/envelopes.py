"""Unwrapping the service's answers: the published envelope and the vendor's other shapes.

* holterlab / published: ``{"status": "success", "data": ...}`` and
  ``{"status": "error", "error": {"code", "message", "details"}}``;
* vendor: ``{"errorCode": "0", "msg": ..., "data": ...}`` (``errorCode`` ``"0"`` = success);
* vendor: ``{"code": 200, "message": ..., "data": ...}`` (``code`` 200 or 0 = success).
"""

from __future__ import annotations

from typing import Any

from holterlab.client.errors import ApiError, ProtocolError, error_for

__all__ = ["unwrap", "envelope_kind"]


def envelope_kind(payload: Any) -> str | None:
    """``"status"``, ``"errorCode"``, ``"code"`` or None (not an envelope)."""
    if not isinstance(payload, dict):
        return None
    if payload.get("status") in ("success", "error") and ("data" in payload or "error" in payload):
        return "status"
    if "errorCode" in payload:
        return "errorCode"
    if "code" in payload and ("message" in payload or "data" in payload or "msg" in payload):
        return "code"
    return None


def unwrap(
    payload: Any,
    http_status: int = 200,
    *,
    retry_after: float | None = None,
) -> Any:
    """The ``data`` of a success envelope; raise the typed :class:`ApiError` of an error one.

    A 2xx answer that is no known envelope is returned whole; a non-2xx one raises by its
    HTTP status.
    """
    ok_http = 200 <= http_status < 300
    kind = envelope_kind(payload)
    if kind == "status":
        if payload["status"] == "success" and ok_http:
            return payload.get("data")
        err = payload.get("error") or {}
        if not isinstance(err, dict):
            err = {"message": str(err)}
        raise error_for(
            err.get("code", "ERROR"),
            str(err.get("message") or "the service reported an error"),
            http_status,
            details=err.get("details") if isinstance(err.get("details"), dict) else None,
            retry_after=retry_after,
        )
    if kind == "errorCode":
        code = payload.get("errorCode")
        if str(code) == "0" and ok_http:
            return payload.get("data")
        raise error_for(
            code,
            str(payload.get("msg") or payload.get("message") or "error"),
            http_status,
            retry_after=retry_after,
        )
    if kind == "code":
        code = payload.get("code")
        if str(code) in ("200", "0") and ok_http:
            return payload.get("data")
        raise error_for(
            code,
            str(payload.get("message") or payload.get("msg") or "error"),
            http_status,
            retry_after=retry_after,
        )
    if ok_http:
        return payload
    raise error_for(
        None,
        f"the service answered HTTP {http_status} without an error envelope",
        http_status,
        retry_after=retry_after,
    )


def check_protocol(data: Any, *fields: str, what: str) -> dict[str, Any]:
    """``data`` as a dict holding ``fields``, else :class:`ProtocolError`."""
    if not isinstance(data, dict) or any(f not in data for f in fields):
        raise ProtocolError(f"the {what} answer lacks {', '.join(fields)}", code="PROTOCOL")
    return data


__all__ += ["check_protocol", "ApiError"]
