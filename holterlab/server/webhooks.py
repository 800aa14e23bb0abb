"""Webhook deliveries: signed, persisted, retried with exponential backoff, surviving restarts.

A delivery is a row of the store (``deliveries``) written in the same moment the event
happens; a sender thread POSTs due rows and records the outcome, so a restart resumes exactly
the pending ones. Each POST carries ``X-Holter-Event``, ``X-Holter-Delivery`` (the row's id,
the same on every retry: receivers deduplicate with it), ``X-Holter-Timestamp`` (UNIX seconds
of this attempt) and ``X-Holter-Signature: sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">``
keyed with the task's API key's webhook secret. A non-2xx answer or a timeout is retried after
``webhook_backoff_s * 2**(attempt-1)`` seconds (with a little jitter), up to
``webhook_max_attempts`` attempts. A task's deliveries are sent one at a time, in the order
of its events (a delivery waiting for a retry can be overtaken by later ones: receivers should
order by the payload's ``timestamp``).

Callback URLs are checked when a task is submitted and again before every attempt (a host
that resolves to a loopback or private address is refused unless the configuration allows it;
with ``callback_hosts`` set, only those hosts are allowed).
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import fnmatch
import hashlib
import hmac
import ipaddress
import json
import logging
import math
import random
import secrets
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import urlsplit

from holterlab.server.config import ServerConfig
from holterlab.server.store import Store

__all__ = [
    "WebhookSender",
    "check_callback_url",
    "sign_payload",
    "iso_time",
    "progress_percent",
    "CallbackError",
]

log = logging.getLogger("holterlab.server")

EVENTS = ("task.queued", "task.progress", "task.completed", "task.failed", "task.cancelled")


class CallbackError(ValueError):
    """A callback URL that the server will not call (the message says why)."""


def iso_time(t: float | None) -> str | None:
    """UNIX seconds as ISO-8601 UTC with milliseconds and a ``Z``."""
    if t is None:
        return None
    dt = _dt.datetime.fromtimestamp(float(t), _dt.timezone.utc)
    return dt.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def progress_percent(value: float | None) -> int:
    """A task's progress as the API shows it: whole percent, 0 to 100, never rounded up
    (status answers and webhooks say the same number)."""
    return int(min(100, max(0, math.floor(value or 0))))


def sign_payload(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex HMAC-SHA256 of "{timestamp}.{body}">``."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def check_callback_url(url: str, config: ServerConfig, *, resolve: bool = True) -> None:
    """Raise :class:`CallbackError` unless the server may POST to ``url``."""
    if not isinstance(url, str) or len(url) > 2048:
        raise CallbackError("callback_url must be an http(s) URL of at most 2048 characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise CallbackError(f"callback_url is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise CallbackError("callback_url must be an absolute http:// or https:// URL")
    host = parts.hostname.lower().rstrip(".")
    if config.callback_hosts and not any(
        fnmatch.fnmatchcase(host, pattern.lower()) for pattern in config.callback_hosts
    ):
        raise CallbackError(f"callback host {host} is not in this server's allow-list")
    try:
        addresses = [ipaddress.ip_address(host)]
    except ValueError:
        if not resolve:
            return
        try:
            infos = socket.getaddrinfo(
                host, port or (443 if parts.scheme == "https" else 80), type=socket.SOCK_STREAM
            )
        except (OSError, UnicodeError):
            raise CallbackError(f"callback host {host} does not resolve") from None
        addresses = [ipaddress.ip_address(info[4][0].split("%")[0]) for info in infos]
    for ip in addresses:
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if ip.is_loopback:
            if not config.allow_loopback_callbacks:
                raise CallbackError(
                    f"callback host {host} is a loopback address; this server refuses those "
                    "(start it with --allow-loopback-callbacks to permit them)"
                )
        elif ip.is_multicast or ip.is_unspecified:
            raise CallbackError(f"callback host {host} is not a unicast address")
        elif ip.is_private or ip.is_link_local or ip.is_reserved:
            if not config.allow_private_callbacks:
                raise CallbackError(
                    f"callback host {host} is a private address; this server refuses those"
                )


def build_payload(task: dict[str, Any], event: str, data: dict[str, Any] | None) -> dict[str, Any]:
    return {
        "event": event,
        "task_id": task["id"],
        "status": task["status"],
        "progress": progress_percent(task["progress"]),
        "stage": task["stage"],
        "timestamp": iso_time(time.time()),
        "data": data or {},
    }


class WebhookSender:
    """Persists deliveries and sends them from a background thread (a small thread pool)."""

    def __init__(self, config: ServerConfig, store: Store, *, concurrency: int = 4) -> None:
        self.config = config
        self.store = store
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="webhook")
        self._inflight: set[str] = set()
        self._lock = threading.Lock()
        self._client: Any = None

    # ------------------------------------------------------------------ enqueue
    def notify(self, task: dict[str, Any] | None, event: str, data: dict[str, Any] | None) -> None:
        """Record a delivery of ``event`` for ``task`` if it has a callback URL."""
        if task is None or not task.get("callback_url"):
            return
        body = json.dumps(build_payload(task, event, data), separators=(",", ":"))
        now = time.time()
        self.store.add_delivery(
            id=f"dlv_{secrets.token_hex(12)}",
            task_id=task["id"],
            key_id=task["key_id"],
            event=event,
            url=task["callback_url"],
            body=body,
            next_attempt_at=now,
            created_at=now,
        )
        self._wake.set()

    # ------------------------------------------------------------------ thread
    def start(self) -> None:
        import httpx

        self._client = httpx.Client(
            timeout=self.config.webhook_timeout_s, follow_redirects=False, trust_env=False
        )
        self._thread = threading.Thread(target=self._run, name="holterlab-webhooks", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._pool.shutdown(wait=True, cancel_futures=True)
        if self._client is not None:
            self._client.close()
        self.store.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                now = time.time()
                for row in self.store.due_deliveries(now, limit=50):
                    with self._lock:
                        # one delivery per task at a time: a task's events arrive in order
                        # (a retried one can be overtaken while it waits for its backoff)
                        if row["task_id"] in self._inflight:
                            continue
                        self._inflight.add(row["task_id"])
                    self._pool.submit(self._deliver, row)
                nxt = self.store.next_delivery_time()
                wait = 1.0 if nxt is None else min(1.0, max(0.02, nxt - time.time()))
            except Exception:  # noqa: BLE001 - keep sending whatever happens
                log.exception("webhook sender error")
                wait = 1.0
            self._wake.wait(wait)
            self._wake.clear()
        self.store.close()

    def _deliver(self, row: dict[str, Any]) -> None:
        try:
            # the row was read before an earlier attempt of it may have finished: only the
            # loop that claims it sends it
            lease = 2.0 * self.config.webhook_timeout_s + 5.0
            if self.store.claim_delivery(row["id"], int(row["attempts"]), time.time(), lease):
                self._attempt(row)
        except Exception:  # noqa: BLE001
            log.exception("webhook delivery %s failed unexpectedly", row["id"])
        finally:
            with self._lock:
                self._inflight.discard(row["task_id"])
            self._wake.set()

    def _attempt(self, row: dict[str, Any]) -> None:
        attempts = int(row["attempts"]) + 1
        key = self.store.key_by_id(row["key_id"])
        if key is None:
            self.store.update_delivery(
                row["id"],
                state="failed",
                attempts=attempts,
                last_error="the API key no longer exists",
            )
            return
        try:
            check_callback_url(row["url"], self.config)
        except CallbackError as exc:
            self.store.update_delivery(
                row["id"], state="failed", attempts=attempts, last_error=str(exc)
            )
            return
        body = row["body"].encode()
        timestamp = str(int(time.time()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": "holterlab-webhooks",
            "X-Holter-Event": row["event"],
            "X-Holter-Delivery": row["id"],
            "X-Holter-Timestamp": timestamp,
            "X-Holter-Signature": sign_payload(key["webhook_secret"], timestamp, body),
        }
        status: int | None = None
        error: str | None = None
        try:
            response = self._client.post(row["url"], content=body, headers=headers)
            status = response.status_code
            if 200 <= status < 300:
                self.store.update_delivery(
                    row["id"],
                    state="delivered",
                    attempts=attempts,
                    last_status=status,
                    delivered_at=time.time(),
                )
                return
            error = f"HTTP {status}"
        except Exception as exc:  # noqa: BLE001 - timeouts, refused connections, ...
            error = f"{type(exc).__name__}: {exc}"[:500]
        with contextlib.suppress(Exception):
            log.info(
                "webhook %s to %s: attempt %d failed (%s)", row["id"], row["url"], attempts, error
            )
        if attempts >= self.config.webhook_max_attempts:
            self.store.update_delivery(
                row["id"], state="failed", attempts=attempts, last_status=status, last_error=error
            )
            return
        delay = min(
            self.config.webhook_backoff_max_s, self.config.webhook_backoff_s * 2 ** (attempts - 1)
        )
        delay *= 1.0 + 0.1 * random.random()
        self.store.update_delivery(
            row["id"],
            attempts=attempts,
            last_status=status,
            last_error=error,
            next_attempt_at=time.time() + delay,
        )
