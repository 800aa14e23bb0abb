"""API keys: created by ``holterlab keys create``, stored as SHA-256 hashes.

A key is ``hlk_<id>_<secret>``: 256 random bits, so a plain SHA-256 is the right hash (slow
password hashes protect guessable secrets; these are not). Only the hash is stored; the key is
shown once. Each key has its own webhook secret (``whsec_...``), kept by the server because it
signs deliveries with it, and optionally its own rate limit.
"""

from __future__ import annotations

import hashlib
import secrets
from typing import Any

from holterlab.errors import ParameterError
from holterlab.server.store import Store

__all__ = ["hash_key", "create_key", "authenticate", "list_keys", "revoke_key"]


def hash_key(api_key: str) -> str:
    """The stored form of an API key (hex SHA-256)."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


def create_key(store: Store, name: str, *, rate_limit: float | None = None) -> dict[str, Any]:
    """Create a key named ``name``; return ``{key_id, name, api_key, webhook_secret}``.

    ``rate_limit`` (requests per second) overrides the server's default for this key.
    """
    name = str(name).strip()
    if not name or len(name) > 200:
        raise ParameterError("a key needs a name of 1 to 200 characters")
    if rate_limit is not None and not rate_limit > 0:
        raise ParameterError(
            f"rate limit must be a positive number of requests/s, got {rate_limit}"
        )
    key_id = secrets.token_hex(6)
    api_key = f"hlk_{key_id}_{secrets.token_urlsafe(32)}"
    webhook_secret = f"whsec_{secrets.token_urlsafe(32)}"
    store.add_key(key_id, name, hash_key(api_key), webhook_secret, rate_limit)
    return {"key_id": key_id, "name": name, "api_key": api_key, "webhook_secret": webhook_secret}


def authenticate(store: Store, api_key: str) -> dict[str, Any] | None:
    """The key's row if ``api_key`` is a valid, unrevoked key, else None."""
    if not api_key or len(api_key) > 512:
        return None
    return store.key_by_hash(hash_key(api_key))


def list_keys(store: Store) -> list[dict[str, Any]]:
    """All keys (id, name, rate limit, created, revoked); never the secrets."""
    return store.list_keys()


def revoke_key(store: Store, key_id: str) -> bool:
    """Revoke a key; True if it existed and was active."""
    return store.revoke_key(key_id)
