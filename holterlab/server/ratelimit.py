"""Per-key token buckets: ``rate`` requests per second with bursts up to ``burst``."""

from __future__ import annotations

import time

__all__ = ["RateLimiter"]


class RateLimiter:
    """In-memory token buckets keyed by API key id (one server process, event-loop thread)."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = float(rate)
        self.burst = int(burst)
        self._buckets: dict[str, tuple[float, float]] = {}

    def check(self, key: str, rate: float | None = None) -> float | None:
        """Take a token for ``key``; None if allowed, else seconds until one is available."""
        r = self.rate if rate is None else float(rate)
        if r <= 0:
            return None
        burst = self.burst if rate is None else max(1.0, 2.0 * r)
        now = time.monotonic()
        tokens, last = self._buckets.get(key, (burst, now))
        tokens = min(burst, tokens + (now - last) * r)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return None
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / r
