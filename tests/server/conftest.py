"""Fixtures of the server tests: a real server (uvicorn in a subprocess on a free loopback
port), API keys, tiny recordings and a webhook receiver."""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

REPO = Path(__file__).resolve().parents[2]
PREFIX = "/api/v1/advanced/ecg/holter"

#: Settings of the shared test server (a stand-in runner and renderer from tests/server).
TEST_CONFIG: dict[str, Any] = {
    "workers": 2,
    "analysis_runner": "tests.server.runner:analyze",
    "report_runner": "tests.server.runner:render_report",
    "allow_loopback_callbacks": True,
    "max_file_size": 2_000_000,
    "max_queue": 3,
    "cancel_grace_s": 0.5,
    "task_timeout_s": 60.0,
    "webhook_backoff_s": 0.2,
    "webhook_max_attempts": 5,
    "webhook_timeout_s": 3.0,
    "progress_webhook_interval_s": 0.1,
    "rate_limit_per_s": 1000.0,
    "rate_limit_burst": 1000,
    "worker_preload": ["numpy", "holterlab.io", "holterlab.result", "tests.server.runner"],
}


def wait_until(predicate: Any, timeout: float = 15.0, interval: float = 0.05) -> Any:
    """Poll ``predicate`` (bounded); return its first truthy value or fail."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"condition not met within {timeout} s")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def create_key(data_dir: Path, name: str, rate_limit: float | None = None) -> dict[str, str]:
    """``holterlab keys create NAME --data-dir DIR --json`` in-process."""
    from holterlab.cli import main

    argv = ["keys", "create", name, "--data-dir", str(data_dir), "--json"]
    if rate_limit is not None:
        argv += ["--rate-limit", str(rate_limit)]
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        assert main(argv) == 0
    return json.loads(buf.getvalue())


class ServerProcess:
    """``holterlab serve`` in a subprocess on a free loopback port."""

    def __init__(
        self,
        data_dir: Path,
        config: dict[str, Any],
        piddir: Path,
        seconds_per_signal_s: float = 0.002,
    ) -> None:
        self.data_dir = data_dir
        self.config = config
        self.piddir = piddir
        self.speed = seconds_per_signal_s
        self.proc: subprocess.Popen | None = None
        self.port = 0
        self.log = data_dir.parent / f"{data_dir.name}.server.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerProcess:
        self.port = free_port()
        cfg = self.data_dir.parent / f"{self.data_dir.name}.config.json"
        cfg.write_text(json.dumps(self.config))
        env = dict(os.environ)
        env.update(
            {
                "PYTHONPATH": str(REPO),
                "HOLTERLAB_TEST_PIDDIR": str(self.piddir),
                "HOLTERLAB_TEST_SECONDS_PER_SIGNAL_S": str(self.speed),
                "HOLTERLAB_CACHE_DIR": str(self.data_dir.parent / "cache"),
            }
        )
        self.piddir.mkdir(parents=True, exist_ok=True)
        log = open(self.log, "ab")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "holterlab",
                "serve",
                "--data-dir",
                str(self.data_dir),
                "--port",
                str(self.port),
                "--config",
                str(cfg),
                "--log-level",
                "info",
            ],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

        def up() -> bool:
            if self.proc.poll() is not None:
                raise AssertionError(f"server exited: {self.log.read_text()[-3000:]}")
            try:
                return httpx.get(f"{self.url}/health", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(up, timeout=30)
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=10)

    def store(self) -> Any:
        from holterlab.server.store import Store

        return Store(self.data_dir / "holterlab.db")


def write_aiecg(
    path: Path,
    *,
    seconds: float = 20.0,
    fs: float = 250.0,
    leads: tuple[str, ...] = ("I", "II"),
    seed: int = 0,
) -> Path:
    """A tiny aiecg recording: spiky 72 bpm 'beats' plus a little noise."""
    import holterlab
    from holterlab.recording import Recording

    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fs)) / fs
    beat = np.sin(np.pi * 1.2 * t) ** 64
    x = np.stack(
        [beat * (1.0 - 0.3 * i) + 0.01 * rng.standard_normal(t.size) for i in range(len(leads))]
    ).astype(np.float32)
    holterlab.write(Recording.from_array(x, fs, list(leads)), path)
    return path


def md5(path: Path) -> str:
    return hashlib.md5(path.read_bytes()).hexdigest()


class Api:
    """Raw httpx calls with a key (for the error tests)."""

    def __init__(self, url: str, api_key: str | None) -> None:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.http = httpx.Client(base_url=url + PREFIX, headers=headers, timeout=30)

    def upload_url(self, path: Path | None = None, **fields: Any) -> httpx.Response:
        body: dict[str, Any] = {
            "filename": "rec.aiecg",
            "file_format": "aiecg",
            "duration_hours": 0.01,
        }
        if path is not None:
            body.update(filename=path.name, file_size=path.stat().st_size, checksum=md5(path))
        body.update(fields)
        body = {k: v for k, v in body.items() if v is not None}
        return self.http.post("/upload-url", json=body)

    def put(self, upload_url: str, content: bytes) -> httpx.Response:
        return httpx.put(
            upload_url,
            content=content,
            headers={"Content-Type": "application/octet-stream"},
            timeout=30,
        )

    def uploaded(self, path: Path, **fields: Any) -> str:
        """Create a task and upload ``path``; return the task id."""
        r = self.upload_url(path, **fields)
        assert r.status_code == 200, r.text
        data = r.json()["data"]
        r = self.put(data["upload_url"], path.read_bytes())
        assert r.status_code == 200, r.text
        return data["task_id"]

    def submit(self, task_id: str, **fields: Any) -> httpx.Response:
        return self.http.post("/submit", json={"task_id": task_id, **fields})

    def status(self, task_id: str) -> dict[str, Any]:
        r = self.http.get(f"/status/{task_id}")
        assert r.status_code == 200, r.text
        return r.json()["data"]

    def wait(
        self,
        task_id: str,
        states: tuple[str, ...] = ("completed", "failed", "cancelled"),
        timeout: float = 30.0,
    ) -> dict[str, Any]:
        return wait_until(
            lambda: (s := self.status(task_id))["status"] in states and s, timeout=timeout
        )

    def close(self) -> None:
        self.http.close()


class Receiver:
    """A webhook receiver on loopback recording every request.

    ``fail_first`` answers 500 to the first N attempts of each delivery id; ``fail_all``
    answers 500 to everything while set.
    """

    def __init__(self, fail_first: int = 0) -> None:
        self.requests: list[dict[str, Any]] = []
        self.fail_first = fail_first
        self.fail_all = False
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                dlv = self.headers.get("X-Holter-Delivery", "")
                with receiver._lock:
                    n = receiver._seen.get(dlv, 0) + 1
                    receiver._seen[dlv] = n
                    fail = receiver.fail_all or n <= receiver.fail_first
                    receiver.requests.append(
                        {
                            "headers": dict(self.headers),
                            "body": body,
                            "status": 500 if fail else 200,
                            "attempt": n,
                        }
                    )
                self.send_response(500 if fail else 200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def events(self, task_id: str, ok_only: bool = True) -> list[dict[str, Any]]:
        with self._lock:
            reqs = list(self.requests)
        out = []
        for r in reqs:
            payload = json.loads(r["body"])
            if payload.get("task_id") == task_id and (r["status"] == 200 or not ok_only):
                out.append({**r, "payload": payload})
        return out

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


# ------------------------------------------------------------------------------ fixtures
@pytest.fixture(scope="session")
def server_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The shared server, with keys ``alice``, ``bob`` and ``slow`` (1 request/s)."""
    root = tmp_path_factory.mktemp("server")
    data = root / "data"
    keys = {
        "alice": create_key(data, "alice"),
        "bob": create_key(data, "bob"),
        "slow": create_key(data, "slow", rate_limit=1.0),
    }
    srv = ServerProcess(data, TEST_CONFIG, root / "pids").start()
    try:
        yield {"server": srv, "keys": keys, "root": root}
    finally:
        srv.stop()


@pytest.fixture(scope="session")
def server(server_env: dict[str, Any]) -> ServerProcess:
    return server_env["server"]


@pytest.fixture(scope="session")
def keys(server_env: dict[str, Any]) -> dict[str, dict[str, str]]:
    return server_env["keys"]


@pytest.fixture
def api(server: ServerProcess, keys: dict[str, dict[str, str]]) -> Iterator[Api]:
    a = Api(server.url, keys["alice"]["api_key"])
    yield a
    a.close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(scope="session")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Tiny recordings: ``short`` (20 s), ``long`` (5 h at 25 Hz: ~36 s of runner work),
    ``medium`` (50 min at 25 Hz),
    and misbehaving ones named by their lead."""
    d = tmp_path_factory.mktemp("recordings")
    return {
        "short": write_aiecg(d / "short.aiecg"),
        "long": write_aiecg(d / "long.aiecg", seconds=18000, fs=25, leads=("I",)),
        "medium": write_aiecg(d / "medium.aiecg", seconds=3000, fs=25, leads=("I",)),
        "stubborn": write_aiecg(d / "stubborn.aiecg", seconds=18000, fs=25, leads=("STUBBORN",)),
        "crash": write_aiecg(d / "crash.aiecg", seconds=10, leads=("CRASH",)),
        "boom": write_aiecg(d / "boom.aiecg", seconds=10, leads=("BOOM",)),
        "bad": write_aiecg(d / "bad.aiecg", seconds=10, leads=("BAD",)),
    }
