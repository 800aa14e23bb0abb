"""Client of the Holter analysis API (the vendor's service or a ``holterlab serve``).

>>> from holterlab.client import HolterClient
>>> with HolterClient("http://127.0.0.1:8000", api_key="hlk_...") as client:
...     run = client.analyze_file("day1.aiecg", report_path="day1.pdf")
>>> run.result["heart_rate"]["mean_bpm"]
"""

from __future__ import annotations

from holterlab.client._core import DEFAULT_BASE_URL, RemoteAnalysis
from holterlab.client.async_ import AsyncHolterClient
from holterlab.client.errors import (
    AnalysisTimeoutError,
    ApiError,
    ServiceConnectionError,
    TaskCancelledError,
    TaskFailedError,
    WebhookVerificationError,
)
from holterlab.client.sync import HolterClient
from holterlab.client.webhooks import verify_webhook

__all__ = [
    "HolterClient",
    "AsyncHolterClient",
    "RemoteAnalysis",
    "DEFAULT_BASE_URL",
    "ApiError",
    "TaskFailedError",
    "TaskCancelledError",
    "AnalysisTimeoutError",
    "ServiceConnectionError",
    "WebhookVerificationError",
    "verify_webhook",
]
