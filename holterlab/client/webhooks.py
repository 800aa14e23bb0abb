"""Checking the webhooks a Holter analysis service sends (signature, age, body)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

from holterlab.client.errors import WebhookVerificationError

__all__ = ["verify_webhook", "sign_webhook"]


def sign_webhook(body: bytes, timestamp: str | int, secret: str) -> str:
    """``sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">`` keyed with ``secret``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_webhook(
    body: bytes | str,
    headers: Mapping[str, str],
    secret: str,
    *,
    max_age_s: float = 300,
    now: float | None = None,
) -> dict[str, Any]:
    """Check a webhook and return its JSON payload.

    Parameters
    ----------
    body
        The raw request body, exactly as received (verify before parsing).
    headers
        The request headers (any case): ``X-Holter-Timestamp`` and ``X-Holter-Signature``.
    secret
        The API key's webhook secret.
    max_age_s
        Largest accepted difference between the timestamp and now, in seconds (replay
        protection); the delivery id (``X-Holter-Delivery``) lets receivers drop duplicates.

    Raises
    ------
    WebhookVerificationError
        Missing headers, a timestamp too old (or in the future), a wrong signature, or a body
        that is not a JSON object.
    """
    raw = body.encode() if isinstance(body, str) else bytes(body)
    lower = {str(k).lower(): str(v) for k, v in headers.items()}
    stamp = lower.get("x-holter-timestamp")
    signature = lower.get("x-holter-signature")
    if not stamp or not signature:
        raise WebhookVerificationError("the webhook lacks X-Holter-Timestamp or X-Holter-Signature")
    try:
        ts = int(stamp)
    except ValueError:
        raise WebhookVerificationError(f"X-Holter-Timestamp {stamp!r} is not a number") from None
    current = time.time() if now is None else now
    if abs(current - ts) > max_age_s:
        raise WebhookVerificationError(
            f"the webhook's timestamp is {abs(current - ts):.0f} s away from now (more than "
            f"{max_age_s:g} s): a replay or a wrong clock"
        )
    expected = sign_webhook(raw, stamp, secret)
    if not hmac.compare_digest(expected.encode(), signature.strip().encode("utf-8", "replace")):
        raise WebhookVerificationError("the webhook's signature does not match (wrong secret?)")
    try:
        payload = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise WebhookVerificationError("the webhook's body is not JSON") from None
    if not isinstance(payload, dict):
        raise WebhookVerificationError("the webhook's body is not a JSON object")
    return payload
