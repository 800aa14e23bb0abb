"""The API's error envelope and codes.

Every error answer is ``{"status": "error", "error": {"code", "message", "details"}}`` with
the HTTP status of its code. Handlers raise :class:`ApiError`; anything else becomes a 500
``INTERNAL_ERROR`` with a generic message (the traceback goes to the server log only).
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

__all__ = ["ApiError", "ERROR_STATUS", "error_body", "success_body", "public_message"]

_ABS_PATH = re.compile(r"(?<![\w:/])(/[^\s'\"()<>,;]+)")


def public_message(
    text: str, replacements: dict[str, str] | None = None, *, limit: int = 2000
) -> str:
    """A message fit for a client: one line, known paths replaced, other absolute paths
    reduced to their file name (no server layout leaks)."""
    out = " ".join(str(text).split())
    for path, name in sorted((replacements or {}).items(), key=lambda kv: -len(kv[0])):
        out = out.replace(path, name)
    out = _ABS_PATH.sub(lambda m: m.group(1).rstrip("/").rsplit("/", 1)[-1] or "/", out)
    return out[:limit]


#: Error code -> HTTP status (the contract's table).
ERROR_STATUS: dict[str, int] = {
    "INVALID_PARAMETER": 400,
    "UNAUTHORIZED": 401,
    "SIGNATURE_INVALID": 403,
    "TASK_NOT_FOUND": 404,
    "NOT_FOUND": 404,
    "METHOD_NOT_ALLOWED": 405,
    "INVALID_TASK_STATE": 409,
    "UPLOAD_INCOMPLETE": 409,
    "TASK_NOT_COMPLETED": 409,
    "UPLOAD_URL_EXPIRED": 410,
    "FILE_TOO_LARGE": 413,
    "UNSUPPORTED_FORMAT": 415,
    "INVALID_ECG_FILE": 422,
    "CHECKSUM_MISMATCH": 422,
    "SIZE_MISMATCH": 422,
    "RATE_LIMITED": 429,
    "INTERNAL_ERROR": 500,
    "OVERLOADED": 503,
}


class ApiError(Exception):
    """An error answered to the client with the contract's envelope.

    Parameters
    ----------
    code
        One of :data:`ERROR_STATUS`.
    message
        A human sentence saying what is wrong and what to do.
    details
        Extra JSON facts (field names, limits).
    retry_after
        Seconds for the ``Retry-After`` header (429, 503).
    """

    def __init__(
        self,
        code: str,
        message: str,
        *,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.status = ERROR_STATUS[code]
        self.message = message
        self.details = details or {}
        self.headers = dict(headers or {})
        if retry_after is not None:
            self.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> bytes:
    """The JSON bytes of an error envelope."""
    return json.dumps(
        {"status": "error", "error": {"code": code, "message": message, "details": details or {}}}
    ).encode()


def success_body(data: Any) -> bytes:
    """The JSON bytes of a success envelope."""
    return json.dumps({"status": "success", "data": data}, separators=(",", ":")).encode()
