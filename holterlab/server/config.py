"""Configuration of the holterlab analysis server.

Every setting has a default that works on one machine with no other service: SQLite in the
data folder, uploads on disk, analysis in worker processes. ``holterlab serve`` builds a
:class:`ServerConfig` from its options and an optional JSON file (``--config``).
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from holterlab.errors import ParameterError

__all__ = ["ServerConfig", "API_PREFIX", "FILE_FORMATS"]

#: Where the six endpoints of the contract live.
API_PREFIX = "/api/v1/advanced/ecg/holter"

#: API file formats -> (holterlab reader format, stored file extension, accepted name endings).
FILE_FORMATS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "aiecg": ("aiecg", ".aiecg", (".aiecg",)),
    "edf": ("edf", ".edf", (".edf", ".bdf", ".rec")),
    "mit": ("wfdb", ".zip", (".zip",)),
    "csv": ("csv", ".csv", (".csv", ".txt", ".tsv")),
}


@dataclass
class ServerConfig:
    """Settings of one server instance.

    Parameters
    ----------
    data_dir
        Folder holding the task database, uploads, results and reports.
    host, port
        Where ``holterlab serve`` listens.
    workers
        Number of analysis worker processes running at once.
    public_url
        Base URL clients reach the server at (for upload URLs); by default the URL of the
        request that asked for the upload URL.
    max_file_size
        Largest upload accepted, in bytes.
    upload_url_ttl_s
        Lifetime of a signed upload URL.
    max_queue
        Most tasks waiting in ``queued``; one more submit answers 503 ``OVERLOADED``.
    rate_limit_per_s, rate_limit_burst
        Token-bucket limit per API key (requests per second, bucket size); 0 disables it.
        A key may carry its own rate.
    task_timeout_s
        Longest a task may stay ``processing`` (per attempt) before it is stopped and failed.
    max_attempts
        How often a task is started at most (a worker that dies, or a server that stops
        mid-task, uses an attempt).
    cancel_grace_s
        How long a cancelled worker gets to stop cooperatively before it is killed.
    analysis_runner, report_runner
        Dotted paths ``module:function`` of the analysis and of the PDF renderer, loaded in
        the worker processes.
    allow_loopback_callbacks, allow_private_callbacks
        Permit webhooks to loopback (127.0.0.0/8, ::1) or private/link-local addresses.
    callback_hosts
        If not empty, webhook hosts must match one of these names (``*.example.org`` allowed).
    webhook_timeout_s, webhook_max_attempts, webhook_backoff_s, webhook_backoff_max_s
        Delivery timeout; attempts before a delivery is given up; exponential backoff
        (first retry after ``webhook_backoff_s``, doubling, at most ``webhook_backoff_max_s``).
    progress_webhook_interval_s
        Least time between two ``task.progress`` webhooks of one task.
    worker_preload
        Modules imported once in the fork server so that workers start fast.
    dask_scheduler
        Address of a Dask scheduler (``tcp://HOST:PORT``, or a scheduler JSON file): run each
        task's analysis and report on that cluster instead of local worker processes. The
        workers read the uploads from ``data_dir``, so it must be on a disk every Dask worker
        mounts at the same path; results and reports come back to the server, which stores
        them. None (default): local worker processes.
    """

    data_dir: Path = Path("holterlab-data")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    public_url: str | None = None
    max_file_size: int = 500_000_000
    upload_url_ttl_s: float = 3600.0
    max_queue: int = 100
    rate_limit_per_s: float = 50.0
    rate_limit_burst: int = 100
    task_timeout_s: float = 6 * 3600.0
    max_attempts: int = 2
    cancel_grace_s: float = 1.0
    analysis_runner: str = "holterlab.pipeline:analyze"
    report_runner: str = "holterlab.report:render_report"
    allow_loopback_callbacks: bool = False
    allow_private_callbacks: bool = False
    callback_hosts: list[str] = field(default_factory=list)
    webhook_timeout_s: float = 10.0
    webhook_max_attempts: int = 8
    webhook_backoff_s: float = 5.0
    webhook_backoff_max_s: float = 3600.0
    progress_webhook_interval_s: float = 10.0
    worker_preload: list[str] = field(
        default_factory=lambda: ["numpy", "holterlab.io", "holterlab.result"]
    )
    dask_scheduler: str | None = None

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir)
        checks = [
            ("workers", self.workers >= 1),
            ("max_file_size", self.max_file_size >= 1),
            ("upload_url_ttl_s", self.upload_url_ttl_s > 0),
            ("max_queue", self.max_queue >= 1),
            ("rate_limit_per_s", self.rate_limit_per_s >= 0),
            ("rate_limit_burst", self.rate_limit_burst >= 1),
            ("task_timeout_s", self.task_timeout_s > 0),
            ("max_attempts", self.max_attempts >= 1),
            ("webhook_max_attempts", self.webhook_max_attempts >= 1),
            ("webhook_backoff_s", self.webhook_backoff_s > 0),
        ]
        for name, ok in checks:
            if not ok:
                raise ParameterError(
                    f"server setting {name} has an invalid value: {getattr(self, name)!r}"
                )
        if self.dask_scheduler is not None and not str(self.dask_scheduler).strip():
            self.dask_scheduler = None
        for name in ("analysis_runner", "report_runner"):
            if ":" not in getattr(self, name):
                raise ParameterError(f"server setting {name} must be 'module:function'")

    # ------------------------------------------------------------------ paths
    @property
    def db_path(self) -> Path:
        return self.data_dir / "holterlab.db"

    @property
    def uploads_dir(self) -> Path:
        return self.data_dir / "uploads"

    @property
    def results_dir(self) -> Path:
        return self.data_dir / "results"

    @property
    def reports_dir(self) -> Path:
        return self.data_dir / "reports"

    @property
    def cache_dir(self) -> Path:
        return self.data_dir / "cache"

    def ensure_dirs(self) -> None:
        """Create the data folder and its subfolders."""
        for path in (
            self.data_dir,
            self.uploads_dir,
            self.results_dir,
            self.reports_dir,
            self.cache_dir,
        ):
            path.mkdir(parents=True, exist_ok=True)

    # ------------------------------------------------------------------ (de)serialisation
    def to_dict(self) -> dict[str, Any]:
        out = dataclasses.asdict(self)
        out["data_dir"] = str(self.data_dir)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ServerConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ParameterError(
                f"unknown server setting(s): {', '.join(unknown)}; "
                f"known: {', '.join(sorted(names))}"
            )
        return cls(**data)

    @classmethod
    def from_file(cls, path: str | os.PathLike[str], **overrides: Any) -> ServerConfig:
        """Read settings from a JSON file; ``overrides`` (not None) win."""
        p = Path(path)
        try:
            data = json.loads(p.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ParameterError(f"{p}: no such server configuration file") from None
        except json.JSONDecodeError as exc:
            raise ParameterError(f"{p}: not valid JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ParameterError(f"{p}: the configuration must be a JSON object")
        data.update({k: v for k, v in overrides.items() if v is not None})
        return cls.from_dict(data)
