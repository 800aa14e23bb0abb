"""The task store: one SQLite database (WAL mode) in the data folder.

Three tables: ``keys`` (API keys, hashed, each with its webhook secret), ``tasks`` (one row
per analysis task, its state and timestamps) and ``deliveries`` (webhook deliveries waiting,
done or given up). Each thread gets its own connection; WAL lets the API read while the
worker supervisor and the webhook sender write, and the key tool may add keys while the
server runs. Times are UNIX seconds (float).
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

__all__ = ["Store", "TERMINAL", "ACTIVE"]

#: States a task never leaves.
TERMINAL = frozenset({"completed", "failed", "cancelled", "expired"})
#: States a task can be cancelled from.
ACTIVE = frozenset({"pending_upload", "uploaded", "queued", "processing"})

_SCHEMA = """
CREATE TABLE IF NOT EXISTS keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    webhook_secret TEXT NOT NULL,
    rate_limit REAL,
    created_at REAL NOT NULL,
    revoked_at REAL
);
CREATE TABLE IF NOT EXISTS tasks (
    id TEXT PRIMARY KEY,
    key_id TEXT NOT NULL,
    status TEXT NOT NULL,
    progress REAL NOT NULL DEFAULT 0,
    stage TEXT,
    filename TEXT NOT NULL,
    file_format TEXT NOT NULL,
    file_size INTEGER NOT NULL,
    checksum TEXT,
    duration_hours REAL,
    upload_expires REAL NOT NULL,
    upload_md5 TEXT,
    analysis_path TEXT,
    submit_hash TEXT,
    submit_body TEXT,
    callback_url TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    error_code TEXT,
    error_message TEXT,
    report_available INTEGER NOT NULL DEFAULT 0,
    report_error TEXT,
    result_available INTEGER NOT NULL DEFAULT 0,
    created_at REAL NOT NULL,
    uploaded_at REAL,
    submitted_at REAL,
    started_at REAL,
    finished_at REAL,
    updated_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS tasks_status ON tasks(status, submitted_at);
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    task_id TEXT NOT NULL,
    key_id TEXT NOT NULL,
    event TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_at REAL NOT NULL,
    delivered_at REAL
);
CREATE INDEX IF NOT EXISTS deliveries_due ON deliveries(state, next_attempt_at);
"""


class Store:
    """Access to the SQLite database at ``path`` (created with its tables if needed)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._local = threading.local()
        conn = self.conn
        conn.executescript(_SCHEMA)
        with contextlib.suppress(OSError):  # it holds the keys' webhook secrets
            os.chmod(self.path, 0o600)

    # ------------------------------------------------------------------ connections
    @property
    def conn(self) -> sqlite3.Connection:
        """This thread's connection (opened on first use)."""
        conn = getattr(self._local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            conn.row_factory = sqlite3.Row
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute("PRAGMA busy_timeout=30000")
            self._local.conn = conn
        return conn

    def close(self) -> None:
        """Close this thread's connection."""
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            conn.close()
            self._local.conn = None

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """An immediate (write-locking) transaction."""
        conn = self.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield conn
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def journal_mode(self) -> str:
        return str(self.conn.execute("PRAGMA journal_mode").fetchone()[0])

    # ------------------------------------------------------------------ keys
    def add_key(
        self,
        key_id: str,
        name: str,
        key_hash: str,
        webhook_secret: str,
        rate_limit: float | None = None,
    ) -> None:
        self.conn.execute(
            "INSERT INTO keys (id, name, key_hash, webhook_secret, rate_limit, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (key_id, name, key_hash, webhook_secret, rate_limit, time.time()),
        )

    def key_by_hash(self, key_hash: str) -> dict[str, Any] | None:
        row = self.conn.execute(
            "SELECT * FROM keys WHERE key_hash = ? AND revoked_at IS NULL", (key_hash,)
        ).fetchone()
        return dict(row) if row else None

    def key_by_id(self, key_id: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT * FROM keys WHERE id = ?", (key_id,)).fetchone()
        return dict(row) if row else None

    def list_keys(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT id, name, rate_limit, created_at, revoked_at FROM keys ORDER BY created_at"
        ).fetchall()
        return [dict(r) for r in rows]

    def revoke_key(self, key_id: str) -> bool:
        cur = self.conn.execute(
            "UPDATE keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
            (time.time(), key_id),
        )
        return cur.rowcount == 1

    # ------------------------------------------------------------------ tasks
    def create_task(self, **fields: Any) -> None:
        now = time.time()
        fields.setdefault("created_at", now)
        fields["updated_at"] = now
        names = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        self.conn.execute(f"INSERT INTO tasks ({names}) VALUES ({marks})", tuple(fields.values()))

    def get_task(self, task_id: str, key_id: str | None = None) -> dict[str, Any] | None:
        if key_id is None:
            row = self.conn.execute("SELECT * FROM tasks WHERE id = ?", (task_id,)).fetchone()
        else:
            row = self.conn.execute(
                "SELECT * FROM tasks WHERE id = ? AND key_id = ?", (task_id, key_id)
            ).fetchone()
        return dict(row) if row else None

    def update_task(
        self,
        task_id: str,
        *,
        where_status: Sequence[str] | None = None,
        **fields: Any,
    ) -> bool:
        """Set ``fields`` on a task (only if its status is in ``where_status``); True if set."""
        fields["updated_at"] = time.time()
        sets = ", ".join(f"{k} = ?" for k in fields)
        sql = f"UPDATE tasks SET {sets} WHERE id = ?"
        args: list[Any] = [*fields.values(), task_id]
        if where_status is not None:
            sql += f" AND status IN ({', '.join('?' for _ in where_status)})"
            args.extend(where_status)
        cur = self.conn.execute(sql, args)
        return cur.rowcount == 1

    def tasks_with_status(self, *statuses: str, limit: int | None = None) -> list[dict[str, Any]]:
        sql = (
            f"SELECT * FROM tasks WHERE status IN ({', '.join('?' for _ in statuses)}) "
            "ORDER BY submitted_at, created_at"
        )
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return [dict(r) for r in self.conn.execute(sql, statuses).fetchall()]

    def count_status(self, status: str) -> int:
        return int(
            self.conn.execute("SELECT COUNT(*) FROM tasks WHERE status = ?", (status,)).fetchone()[
                0
            ]
        )

    def expire_uploads(self, now: float) -> list[str]:
        """Mark tasks whose upload URL lapsed unused as ``expired``; return their ids."""
        with self.transaction() as conn:
            rows = conn.execute(
                "SELECT id FROM tasks WHERE status = 'pending_upload' AND upload_expires < ?",
                (now,),
            ).fetchall()
            ids = [r[0] for r in rows]
            for task_id in ids:
                conn.execute(
                    "UPDATE tasks SET status = 'expired', finished_at = ?, updated_at = ? "
                    "WHERE id = ? AND status = 'pending_upload'",
                    (now, now, task_id),
                )
        return ids

    # ------------------------------------------------------------------ deliveries
    def add_delivery(self, **fields: Any) -> None:
        names = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        self.conn.execute(
            f"INSERT INTO deliveries ({names}) VALUES ({marks})", tuple(fields.values())
        )

    def due_deliveries(self, now: float, limit: int = 20) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT * FROM deliveries WHERE state = 'pending' AND next_attempt_at <= ? "
            "ORDER BY next_attempt_at, created_at LIMIT ?",
            (now, limit),
        ).fetchall()
        return [dict(r) for r in rows]

    def claim_delivery(self, delivery_id: str, attempts: int, now: float, lease_s: float) -> bool:
        """Take a due delivery for one attempt; False when it is no longer due.

        The conditional update is atomic, so a delivery read as due by two loops (or two
        server processes) is sent once. Its next attempt moves ``lease_s`` ahead, so a
        process that dies while sending leaves it to be retried after the lease.
        """
        cur = self.conn.execute(
            "UPDATE deliveries SET next_attempt_at = ? WHERE id = ? AND state = 'pending' "
            "AND attempts = ? AND next_attempt_at <= ?",
            (now + lease_s, delivery_id, attempts, now),
        )
        return cur.rowcount == 1

    def next_delivery_time(self) -> float | None:
        row = self.conn.execute(
            "SELECT MIN(next_attempt_at) FROM deliveries WHERE state = 'pending'"
        ).fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def update_delivery(self, delivery_id: str, **fields: Any) -> None:
        sets = ", ".join(f"{k} = ?" for k in fields)
        self.conn.execute(
            f"UPDATE deliveries SET {sets} WHERE id = ?", (*fields.values(), delivery_id)
        )

    def deliveries(self, task_id: str | None = None) -> list[dict[str, Any]]:
        if task_id is None:
            rows = self.conn.execute("SELECT * FROM deliveries ORDER BY created_at").fetchall()
        else:
            rows = self.conn.execute(
                "SELECT * FROM deliveries WHERE task_id = ? ORDER BY created_at", (task_id,)
            ).fetchall()
        return [dict(r) for r in rows]
