"""Signed upload URLs: an HMAC-SHA256 over the task id and the expiry, checked in constant time.

The server's signing secret is 32 random bytes kept in ``DATA_DIR/server.secret`` (mode 0600,
created on first start), so upload URLs stay valid across restarts.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
from pathlib import Path

__all__ = ["load_or_create_secret", "sign_upload", "verify_upload_signature"]


def load_or_create_secret(data_dir: Path) -> bytes:
    """The server's signing secret, created (atomically, 0600) if missing."""
    path = Path(data_dir) / "server.secret"
    with contextlib.suppress(FileExistsError):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, secrets.token_hex(32).encode())
            os.fsync(fd)
        finally:
            os.close(fd)
    text = path.read_text().strip()
    if len(text) < 32:
        raise RuntimeError(f"{path} holds no usable secret; delete it to make a new one")
    return bytes.fromhex(text)


def sign_upload(secret: bytes, task_id: str, expires: int) -> str:
    """Hex HMAC-SHA256 of ``"upload:{task_id}:{expires}"``."""
    msg = f"upload:{task_id}:{int(expires)}".encode()
    return hmac.new(secret, msg, hashlib.sha256).hexdigest()


def verify_upload_signature(secret: bytes, task_id: str, expires: str, signature: str) -> bool:
    """True if ``signature`` signs ``task_id`` and ``expires`` (constant-time comparison)."""
    try:
        exp = int(expires)
    except (TypeError, ValueError):
        return False
    expected = sign_upload(secret, task_id, exp)
    return hmac.compare_digest(expected.encode(), str(signature).encode("utf-8", "replace"))
