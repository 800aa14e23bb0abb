"""Typed errors of the Holter API client, each carrying the service's code and message."""

from __future__ import annotations

from typing import Any

from holterlab.errors import HolterlabError

__all__ = [
    "ApiError",
    "InvalidParameterError",
    "UnauthorizedError",
    "SignatureInvalidError",
    "TaskNotFoundError",
    "InvalidTaskStateError",
    "UploadIncompleteError",
    "TaskNotCompletedError",
    "UploadUrlExpiredError",
    "FileTooLargeError",
    "UnsupportedFormatError",
    "InvalidEcgFileError",
    "ChecksumMismatchError",
    "SizeMismatchError",
    "RateLimitedError",
    "InternalServerError",
    "OverloadedError",
    "ProtocolError",
    "TaskFailedError",
    "TaskCancelledError",
    "AnalysisTimeoutError",
    "ServiceConnectionError",
    "WebhookVerificationError",
    "error_for",
]


class ApiError(HolterlabError):
    """The service answered with an error.

    Attributes
    ----------
    code
        The service's error code (``TASK_NOT_FOUND``, or a vendor's numeric code as text).
    message
        The service's human message.
    http_status
        The HTTP status of the answer (None when not from an HTTP answer).
    details
        Extra facts the service sent.
    retry_after
        Seconds the service asked to wait (429, 503), or None.
    task_id
        The task concerned, when known.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str = "ERROR",
        http_status: int | None = None,
        details: dict[str, Any] | None = None,
        retry_after: float | None = None,
        task_id: str | None = None,
    ) -> None:
        self.code = str(code)
        self.message = str(message)
        self.http_status = http_status
        self.details = dict(details or {})
        self.retry_after = retry_after
        self.task_id = task_id
        where = f"HTTP {http_status} " if http_status else ""
        super().__init__(f"{where}{self.code}: {self.message}")


class InvalidParameterError(ApiError):
    """400 ``INVALID_PARAMETER``: a request field is missing or invalid."""


class UnauthorizedError(ApiError):
    """401 ``UNAUTHORIZED``: missing, invalid or revoked API key."""


class SignatureInvalidError(ApiError):
    """403 ``SIGNATURE_INVALID``: the upload URL's signature does not match."""


class TaskNotFoundError(ApiError):
    """404 ``TASK_NOT_FOUND``: no such task for this API key."""


class InvalidTaskStateError(ApiError):
    """409 ``INVALID_TASK_STATE``: the task is in a state that does not allow this."""


class UploadIncompleteError(InvalidTaskStateError):
    """409 ``UPLOAD_INCOMPLETE``: submitted before the file was uploaded."""


class TaskNotCompletedError(InvalidTaskStateError):
    """409 ``TASK_NOT_COMPLETED``: the result or report does not exist (yet)."""


class UploadUrlExpiredError(ApiError):
    """410 ``UPLOAD_URL_EXPIRED``: request a new upload URL."""


class FileTooLargeError(ApiError):
    """413 ``FILE_TOO_LARGE``: the file exceeds the declared size or the service's limit."""


class UnsupportedFormatError(ApiError):
    """415 ``UNSUPPORTED_FORMAT``: the file format is not accepted."""


class InvalidEcgFileError(ApiError):
    """422 ``INVALID_ECG_FILE``: the service cannot read the file."""


class ChecksumMismatchError(ApiError):
    """422 ``CHECKSUM_MISMATCH``: the uploaded bytes' MD5 differs from the declared one."""


class SizeMismatchError(ApiError):
    """422 ``SIZE_MISMATCH``: the uploaded size differs from the declared one."""


class RateLimitedError(ApiError):
    """429 ``RATE_LIMITED``: too many requests (``retry_after`` says how long to wait)."""


class InternalServerError(ApiError):
    """500 ``INTERNAL_ERROR``: the service failed."""


class OverloadedError(ApiError):
    """503 ``OVERLOADED``: the service's queue is full (``retry_after`` says how long)."""


class ProtocolError(ApiError):
    """The answer is not what the contract describes (not JSON, no envelope, ...)."""


class TaskFailedError(ApiError):
    """The task ended ``failed``; ``code`` and ``message`` are the task's error."""


class TaskCancelledError(ApiError):
    """The task ended ``cancelled`` (or ``expired``) before a result existed."""


class AnalysisTimeoutError(HolterlabError, TimeoutError):
    """The task did not finish within the client's timeout (it may still be running)."""

    def __init__(self, message: str, *, task_id: str | None = None) -> None:
        super().__init__(message)
        self.task_id = task_id


class ServiceConnectionError(HolterlabError, ConnectionError):
    """The service could not be reached (after the client's retries)."""


class WebhookVerificationError(HolterlabError):
    """A webhook's signature, timestamp or body is not valid."""


_BY_CODE: dict[str, type[ApiError]] = {
    "INVALID_PARAMETER": InvalidParameterError,
    "UNAUTHORIZED": UnauthorizedError,
    "SIGNATURE_INVALID": SignatureInvalidError,
    "TASK_NOT_FOUND": TaskNotFoundError,
    "INVALID_TASK_STATE": InvalidTaskStateError,
    "UPLOAD_INCOMPLETE": UploadIncompleteError,
    "TASK_NOT_COMPLETED": TaskNotCompletedError,
    "UPLOAD_URL_EXPIRED": UploadUrlExpiredError,
    "FILE_TOO_LARGE": FileTooLargeError,
    "UNSUPPORTED_FORMAT": UnsupportedFormatError,
    "INVALID_ECG_FILE": InvalidEcgFileError,
    "CHECKSUM_MISMATCH": ChecksumMismatchError,
    "SIZE_MISMATCH": SizeMismatchError,
    "RATE_LIMITED": RateLimitedError,
    "INTERNAL_ERROR": InternalServerError,
    "OVERLOADED": OverloadedError,
}

_BY_STATUS: dict[int, type[ApiError]] = {
    400: InvalidParameterError,
    401: UnauthorizedError,
    403: SignatureInvalidError,
    404: TaskNotFoundError,
    409: InvalidTaskStateError,
    410: UploadUrlExpiredError,
    413: FileTooLargeError,
    415: UnsupportedFormatError,
    429: RateLimitedError,
    500: InternalServerError,
    503: OverloadedError,
}


def error_for(
    code: Any,
    message: str,
    http_status: int | None,
    *,
    details: dict[str, Any] | None = None,
    retry_after: float | None = None,
) -> ApiError:
    """The typed error for a service ``code`` (falling back to the HTTP status)."""
    code_text = str(code) if code is not None else "ERROR"
    cls = _BY_CODE.get(code_text.upper())
    if cls is None:
        status = http_status
        if code_text.isdigit() and 400 <= int(code_text) < 600:
            status = int(code_text)  # vendors that put an HTTP-like status in "code"
        cls = _BY_STATUS.get(status or 0, ApiError)
    return cls(
        message, code=code_text, http_status=http_status, details=details, retry_after=retry_after
    )
