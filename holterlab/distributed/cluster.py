"""A throw-away Dask cluster of separate processes on this machine (tests, benchmarks, demos).

:class:`ProcessCluster` starts ``dask scheduler`` on 127.0.0.1 (random port, no dashboard,
address in a scheduler JSON file) and ``n_workers`` single-process workers (``--no-nanny``,
``--nthreads`` threads each), exactly as one would start them by hand on real machines. It
always cleans up: :meth:`close` (also called on ``with`` exit and at interpreter exit) ends
every process it started. The scheduler quits by itself after ``idle_timeout_s`` without
work and the workers after ``death_timeout_s`` without a scheduler, so even a crashed parent
leaves nothing running for long.

>>> with ProcessCluster(2) as cluster:                              # doctest: +SKIP
...     outs = list(map_tasks(f, items, scheduler=cluster.address))
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any

from holterlab.distributed.executor import SchedulerError

__all__ = ["ProcessCluster"]

_LIVE: weakref.WeakSet[ProcessCluster] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:  # pragma: no cover - interpreter exit
    for cluster in list(_LIVE):
        cluster.close()


class ProcessCluster:
    """Scheduler and workers as child processes on 127.0.0.1.

    Parameters
    ----------
    n_workers
        Workers to start (each one process, ``nthreads`` threads).
    nthreads
        Threads per worker.
    directory
        Folder for the scheduler file, worker scratch space and logs (default: a temporary
        folder removed on close).
    env
        Extra environment variables for the scheduler and workers (e.g. ``PYTHONPATH``).
    startup_timeout_s
        How long to wait for the scheduler and the workers to come up.
    idle_timeout_s, death_timeout_s
        Safety nets: the scheduler stops after this long without clients/tasks; a worker
        stops after this long without a scheduler.
    """

    def __init__(
        self,
        n_workers: int = 2,
        *,
        nthreads: int = 1,
        directory: str | os.PathLike[str] | None = None,
        env: dict[str, str] | None = None,
        startup_timeout_s: float = 60.0,
        idle_timeout_s: float = 600.0,
        death_timeout_s: float = 30.0,
    ) -> None:
        self.n_workers = int(n_workers)
        self.nthreads = int(nthreads)
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="holterlab-dask-"))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.env = {**os.environ, **(env or {})}
        self.env.setdefault("PYTHONUNBUFFERED", "1")
        self.startup_timeout_s = float(startup_timeout_s)
        self.idle_timeout_s = float(idle_timeout_s)
        self.death_timeout_s = float(death_timeout_s)
        self.scheduler: subprocess.Popen | None = None
        self.workers: list[subprocess.Popen] = []
        self.address: str | None = None
        self._logs: list[Any] = []
        self._count = 0
        self._closed = False

    # ------------------------------------------------------------------ lifecycle
    @property
    def scheduler_file(self) -> Path:
        return self.directory / "scheduler.json"

    def _spawn(self, args: list[str], log_name: str) -> subprocess.Popen:
        log = open(self.directory / log_name, "ab")  # noqa: SIM115 - closed in close()
        self._logs.append(log)
        return subprocess.Popen(
            [sys.executable, "-m", *args],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=self.env,
            cwd=str(self.directory),
            start_new_session=True,
        )

    def start(self) -> ProcessCluster:
        """Start the scheduler and the workers; return when all workers are connected."""
        _LIVE.add(self)
        try:
            self.scheduler_file.unlink(missing_ok=True)
            self.scheduler = self._spawn(
                [
                    "distributed.cli.dask_scheduler",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    "0",
                    "--no-dashboard",
                    "--scheduler-file",
                    str(self.scheduler_file),
                    "--idle-timeout",
                    f"{self.idle_timeout_s:g}s",
                ],
                "scheduler.log",
            )
            deadline = time.monotonic() + self.startup_timeout_s
            while not self._read_address():
                if self.scheduler.poll() is not None:
                    raise SchedulerError(
                        f"the Dask scheduler exited at start (see {self.directory}/scheduler.log)"
                    )
                if time.monotonic() > deadline:
                    raise SchedulerError("the Dask scheduler did not start in time")
                time.sleep(0.1)
            for _ in range(self.n_workers):
                self.add_worker(wait=False)
            self.wait_for_workers(self.n_workers)
        except BaseException:
            self.close()
            raise
        return self

    def _read_address(self) -> bool:
        try:
            data = json.loads(self.scheduler_file.read_text())
        except (OSError, ValueError):
            return False
        self.address = str(data.get("address") or "") or None
        return self.address is not None

    def add_worker(self, *, wait: bool = True) -> subprocess.Popen:
        """Start one more worker (e.g. to replace a killed one)."""
        if self.address is None:
            raise SchedulerError("the cluster is not started")
        name = f"holterlab-worker-{self._count}"
        self._count += 1
        proc = self._spawn(
            [
                "distributed.cli.dask_worker",
                self.address,
                "--name",
                name,
                "--nthreads",
                str(self.nthreads),
                "--nworkers",
                "1",
                "--no-nanny",
                "--no-dashboard",
                "--death-timeout",
                f"{self.death_timeout_s:g}",
                "--local-directory",
                str(self.directory / "workers"),
            ],
            f"{name}.log",
        )
        self.workers.append(proc)
        if wait:
            self.wait_for_workers(len(self.alive_workers()))
        return proc

    def alive_workers(self) -> list[subprocess.Popen]:
        return [p for p in self.workers if p.poll() is None]

    def wait_for_workers(self, n: int, timeout_s: float | None = None) -> None:
        """Wait until the scheduler sees at least ``n`` workers."""
        from distributed import Client

        timeout = self.startup_timeout_s if timeout_s is None else float(timeout_s)
        with Client(self.address, timeout=timeout, set_as_default=False) as client:
            try:
                client.wait_for_workers(n, timeout=timeout)
            except TimeoutError:
                raise SchedulerError(
                    f"only {len(client.scheduler_info()['workers'])} of {n} Dask workers "
                    f"started within {timeout:g} s (logs in {self.directory})"
                ) from None

    def settle(self, timeout_s: float | None = None) -> None:
        """Wait until the scheduler knows exactly the workers whose processes are alive."""
        from distributed import Client

        timeout = self.startup_timeout_s if timeout_s is None else float(timeout_s)
        deadline = time.monotonic() + timeout
        with Client(self.address, timeout=timeout, set_as_default=False) as client:
            while True:
                alive = len(self.alive_workers())
                known = len(client.scheduler_info(n_workers=-1)["workers"])
                if known == alive:
                    return
                if time.monotonic() > deadline:
                    raise SchedulerError(
                        f"the scheduler knows {known} workers but {alive} are running "
                        f"(logs in {self.directory})"
                    )
                time.sleep(0.1)

    def kill_worker(self, index: int = 0, sig: int = signal.SIGKILL) -> int:
        """Send ``sig`` (default SIGKILL) to worker ``index`` of the live ones; return its pid."""
        proc = self.alive_workers()[index]
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)
        return proc.pid

    def close(self) -> None:
        """End every process this cluster started (workers first), then remove its folder."""
        if self._closed:
            return
        self._closed = True
        # workers first (while the scheduler is still there to say goodbye to), then it
        self._stop(self.workers)
        if self.scheduler is not None:
            self._stop([self.scheduler])
        for log in self._logs:
            with contextlib.suppress(OSError):
                log.close()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)
        _LIVE.discard(self)

    @staticmethod
    def _stop(procs: list[subprocess.Popen], grace_s: float = 5.0) -> None:
        """SIGTERM, then SIGKILL whatever is still running after ``grace_s``."""
        for proc in procs:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.terminate()
        deadline = time.monotonic() + grace_s
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait(timeout=10)

    def __enter__(self) -> ProcessCluster:
        return self.start() if self.address is None else self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"<ProcessCluster {self.address} workers={len(self.alive_workers())}/"
            f"{len(self.workers)}>"
        )
