"""Analysis on a Dask cluster: the worker pool of ``holterlab serve --dask-scheduler ADDRESS``.

:class:`DaskPool` is a :class:`~holterlab.server.workers.WorkerPool` whose jobs are Dask
futures instead of local processes; the API, the store and the webhooks do not see the
difference. Each task runs :func:`run_on_dask` on a Dask worker, which does exactly what a
local worker process does (:func:`~holterlab.server.workers.perform_task`: read the upload,
analyse with progress and cancel, render the PDF) but returns the result JSON texts and the
PDF bytes instead of writing them; the server stores them itself, so results look exactly
as in the local path.

* **Files.** Workers read the upload from its path in the server's data folder, so that
  folder must be on a disk every Dask worker mounts at the same path (one machine: any
  local folder). A worker that cannot see the file fails the task with
  ``ANALYSIS_UNAVAILABLE`` and says so. Outputs travel back through Dask.
* **Progress.** The task sends ``(stage, percent)`` with the worker's event log
  (``Worker.log_event``) under a topic private to this server; the pool subscribes to it
  (``Client.subscribe_topic``) and records progress and sends ``task.progress`` webhooks as
  for local workers.
* **Cancel.** ``POST /cancel`` sets a ``distributed.Event`` named for the task's Dask key and
  cancels its future. On the worker, a watcher thread waits on that event (and notices when
  the worker is told to drop the key, e.g. because the server went away) and sets the flag
  the analysis polls, which stops within a chunk and raises ``CancelledError``; the Dask
  thread is then free again. (A Dask thread cannot be killed: an analysis that ignores
  cancel keeps its thread until it ends; its result is dropped.)
* **Failures.** A worker that dies mid-task is handled by Dask: the task is rescheduled on
  another worker, up to the scheduler's ``distributed.scheduler.allowed-failures``; then the
  task fails with ``WORKER_DIED``. If the connection to the scheduler is lost, running tasks
  go back to the queue (each loss uses one of ``max_attempts``; then ``WORKER_DIED``) and
  the pool reconnects every few seconds; while it has no scheduler, tasks wait ``queued``.
  On server stop, running tasks are cancelled on the cluster and re-queued; after a server
  crash, a restart re-queues them (as locally).
* **Concurrency.** At most as many tasks are ``processing`` as the cluster has worker
  threads (checked every few seconds), so a task does not wait in Dask's queue while the
  API says it is processing; ``task_timeout_s`` counts from its start on the cluster.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import select
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from holterlab.distributed.executor import cancel_watch
from holterlab.server.config import ServerConfig
from holterlab.server.store import Store
from holterlab.server.workers import (
    FileSink,
    MemorySink,
    ProgressReporter,
    WorkerPool,
    perform_task,
)

__all__ = ["DaskPool", "run_on_dask", "check_scheduler"]

log = logging.getLogger("holterlab.server")

#: How long to wait for the scheduler when connecting.
CONNECT_TIMEOUT_S = 10.0
#: Pause between two attempts to reconnect to a lost scheduler.
RECONNECT_EVERY_S = 3.0
#: How often the pool asks the scheduler how many worker threads there are.
CAPACITY_EVERY_S = 2.0
#: How long a cancel event stays set on the scheduler (for the worker to see it).
CANCEL_EVENT_KEEP_S = 60.0


def check_scheduler(address: str, *, timeout_s: float = CONNECT_TIMEOUT_S) -> int:
    """Connect to the scheduler at ``address`` once; return how many workers it has.

    Raises
    ------
    holterlab.distributed.SchedulerError
        When Dask is not installed or nothing answers at ``address`` in time.
    """
    from holterlab.distributed import connect

    client = connect(address, timeout_s=timeout_s)
    try:
        return len(client.scheduler_info(n_workers=-1)["workers"])
    finally:
        with contextlib.suppress(Exception):
            client.close(timeout=5)


# ===================================================================== on the Dask worker
def run_on_dask(spec: dict[str, Any], topic: str, cancel_name: str) -> dict[str, Any]:
    """The Dask task of one API task: :func:`perform_task` with its outputs returned.

    Parameters
    ----------
    spec
        :meth:`WorkerPool.task_spec` of the task, plus ``dask_key`` (this task's key).
    topic
        Event-log topic the progress goes to.
    cancel_name
        Name of the ``distributed.Event`` that cancels the task.

    Returns
    -------
    dict
        ``{"outcome": [...], "worker": address}``; for ``"done"`` also ``"result"`` and
        ``"beats"`` (the JSON texts of the result file and the beat list) and ``"pdf"``
        (bytes or None).
    """
    from distributed import get_worker

    worker = get_worker()
    where = str(worker.address)
    if not Path(spec["analysis_path"]).exists():
        return {
            "outcome": [
                "failed",
                "ANALYSIS_UNAVAILABLE",
                "the analysis worker cannot read the uploaded file: the server's data folder "
                "must be on a disk every Dask worker mounts at the same path",
            ],
            "worker": where,
        }
    key = str(spec.get("dask_key", ""))

    def send(stage: str, percent: float) -> None:
        msg = {
            "task_id": spec["task_id"],
            "key": key,
            "stage": stage,
            "percent": percent,
            "worker": where,
        }
        with contextlib.suppress(Exception):
            worker.log_event(topic, msg)

    sink = MemorySink()
    with cancel_watch(worker, key, cancel_name) as cancel:
        outcome = perform_task(spec, ProgressReporter(send), cancel.is_set, sink)
    payload: dict[str, Any] = {"outcome": list(outcome), "worker": where, "pid": os.getpid()}
    if outcome[0] == "done":
        payload.update(result=sink.result_text, beats=sink.beats_text, pdf=sink.pdf)
    return payload


# ===================================================================== in the server
@dataclass
class _DaskJob:
    task_id: str
    key: str
    future: Any
    cancel_name: str
    spec: dict[str, Any]
    started: float
    cancel_sent_at: float | None = None
    last_webhook: float = 0.0
    last_webhook_progress: float = -1.0
    worker: str | None = None


class DaskPool(WorkerPool):
    """Runs queued tasks on the Dask cluster at ``config.dask_scheduler``.

    Same interface and store semantics as :class:`~holterlab.server.workers.WorkerPool`
    (``start``, ``stop``, ``wake``, ``request_cancel``, ``recover``); see the module
    docstring for how progress, cancel and failures travel.
    """

    def __init__(self, config: ServerConfig, store: Store, notify: Any) -> None:
        if not config.dask_scheduler:
            raise ValueError("DaskPool needs config.dask_scheduler")
        super().__init__(config, store, notify)
        self.address = str(config.dask_scheduler)
        self.client: Any = None
        self.topic = f"holterlab-progress-{uuid.uuid4().hex[:16]}"
        self._messages: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._threads = 0
        self._threads_at = -1e9
        self._next_connect = 0.0
        self._warned = False
        self._to_clear: list[tuple[float, str]] = []
        self._orphans: list[Any] = []

    # ------------------------------------------------------------------ control
    def stop(self) -> None:
        """Stop the supervisor; running tasks are cancelled on the cluster and re-queued."""
        self._stop.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout=30)
        for job in list(self.jobs.values()):  # only if the supervisor did not end in time
            self._requeue_stopped(job.task_id)
        self.jobs.clear()
        self.store.close()

    def running_pids(self) -> dict[str, int]:
        """No local processes run tasks here (see :meth:`running_workers`)."""
        return {}

    def running_workers(self) -> dict[str, str | None]:
        """Task id -> address of the Dask worker running it (None until it reports)."""
        return {tid: job.worker for tid, job in list(self.jobs.items())}

    # ------------------------------------------------------------------ the loop
    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self._step()
                except Exception:  # noqa: BLE001 - the supervisor must survive anything
                    log.exception("dask supervisor error")
                    time.sleep(0.5)
        finally:
            try:
                self._shutdown()
            finally:
                self.store.close()

    def _wait(self, timeout: float) -> None:
        with contextlib.suppress(OSError, ValueError):
            ready, _, _ = select.select([self._wake_r], [], [], timeout)
            if ready:
                while self._wake_r.recv(4096):
                    pass

    def _step(self) -> None:
        self._wait(0.5)
        self._ensure_client()
        self._drain_messages()
        for job in list(self.jobs.values()):
            if job.future.done():
                self._drain_messages()
                self._finish(job)
        self._handle_cancels()
        self._check_timeouts()
        if not self._stop.is_set():
            self._start_queued()
        self._sweep()
        self._clear_events()

    # ------------------------------------------------------------------ the connection
    def _ensure_client(self) -> None:
        if self._orphans:
            self._reap_orphans()
        client = self.client
        if client is not None:
            if getattr(client, "status", "running") == "running":
                return
            self._drop_client("the connection to the Dask scheduler was lost")
        now = time.monotonic()
        if now < self._next_connect or self._stop.is_set():
            return
        self._next_connect = now + RECONNECT_EVERY_S
        from holterlab.distributed import SchedulerError, connect

        try:
            client = connect(self.address, timeout_s=CONNECT_TIMEOUT_S)
        except SchedulerError as exc:
            if not self._warned:
                log.warning("%s; tasks wait in the queue until it answers", exc)
                self._warned = True
            return
        try:
            client.subscribe_topic(self.topic, self._on_message)
        except Exception:  # noqa: BLE001
            log.exception("cannot subscribe to the progress of Dask tasks")
            with contextlib.suppress(Exception):
                client.close(timeout=5)
            return
        self.client = client
        self._threads_at = -1e9
        self._warned = False
        log.info("connected to the Dask scheduler at %s", self.address)

    def _drop_client(self, reason: str) -> None:
        """Forget a client that lost its scheduler: its tasks are re-queued (or failed)."""
        log.warning("%s (%s)", reason, self.address)
        for job in list(self.jobs.values()):
            self.jobs.pop(job.task_id, None)
            self._lost(job, reason)
        client, self.client = self.client, None
        self._threads = 0
        self._to_clear.clear()
        if client is not None:
            # a client still trying to reconnect is left to end that by itself (interrupting
            # it only fills the log); it is closed once it has given up or reconnected
            self._orphans.append(client)
            self._reap_orphans()

    def _reap_orphans(self) -> None:
        for client in list(self._orphans):
            if getattr(client, "status", "closed") != "connecting":
                self._orphans.remove(client)
                with contextlib.suppress(Exception):
                    client.close(timeout=2)

    def _on_message(self, event: Any) -> None:
        """Event-log handler (runs in the client's thread): queue it for the supervisor."""
        try:
            _, msg = event
        except (TypeError, ValueError):
            return
        if isinstance(msg, dict):
            self._messages.put(msg)
            self.wake()

    def _capacity(self) -> int:
        if self.client is None:
            return 0
        now = time.monotonic()
        if now - self._threads_at >= CAPACITY_EVERY_S:
            self._threads_at = now
            try:
                self._threads = int(sum(self.client.nthreads().values()))
            except Exception:  # noqa: BLE001 - the connection is checked next step
                self._threads = 0
        return self._threads

    # ------------------------------------------------------------------ progress
    def _drain_messages(self) -> None:
        latest: dict[str, dict[str, Any]] = {}
        while True:
            try:
                msg = self._messages.get_nowait()
            except queue.Empty:
                break
            latest[str(msg.get("key"))] = msg
        for key, msg in latest.items():
            job = self.jobs.get(str(msg.get("task_id")))
            if job is None or job.key != key:
                continue  # an earlier attempt, or a task that has ended
            job.worker = msg.get("worker") or job.worker
            try:
                percent = float(msg.get("percent", 0.0))
            except (TypeError, ValueError):
                continue
            self._progress(job, str(msg.get("stage", "")), percent)  # type: ignore[arg-type]

    # ------------------------------------------------------------------ outcomes
    def _finish(self, job: _DaskJob) -> None:  # type: ignore[override]
        self.jobs.pop(job.task_id, None)
        fut = job.future
        status = fut.status
        if status == "finished":
            try:
                payload = fut.result(timeout=60)
            except Exception as exc:  # noqa: BLE001 - lost on the way, client closed...
                self._error(job, exc)
                return
            finally:
                with contextlib.suppress(Exception):
                    fut.release()
            self._complete(job, payload)
            return
        if status == "cancelled":
            if job.cancel_sent_at is not None:
                self.store.update_task(
                    job.task_id,
                    where_status=("processing",),
                    status="cancelled",
                    finished_at=time.time(),
                )
                return
            client = self.client
            if client is None or getattr(client, "status", "running") != "running":
                self._lost(job, "the connection to the Dask scheduler was lost")
                return
            # the client reconnected by itself (its futures were cancelled meanwhile), maybe
            # to a new scheduler: subscribe to the progress again
            self._lost(job, "the task was cancelled on the Dask cluster")
            with contextlib.suppress(Exception):
                client.subscribe_topic(self.topic, self._on_message)
            return
        try:
            exc = fut.exception(timeout=10)
        except Exception as err:  # noqa: BLE001
            exc = err
        self._error(job, exc)

    def _complete(self, job: _DaskJob, payload: Any) -> None:
        outcome = tuple(payload.get("outcome") or ()) if isinstance(payload, dict) else ()
        if not outcome:
            log.error("task %s: the Dask task returned no outcome: %r", job.task_id, payload)
            self._fail(
                job.task_id,
                "INTERNAL_ERROR",
                "the analysis stopped on an internal error; the server log has the details",
            )
            return
        if outcome[0] == "done":
            task = self.store.get_task(job.task_id)
            if task is None or task["status"] != "processing":
                return  # cancelled (or timed out) meanwhile: keep nothing
            try:
                FileSink(job.spec).store_result(str(payload["result"]), str(payload["beats"]))
                if outcome[1] and payload.get("pdf"):
                    from holterlab._atomic import atomic_write_bytes

                    atomic_write_bytes(job.spec["report_path"], bytes(payload["pdf"]))
                elif outcome[1]:
                    outcome = ("done", False, "the report could not be rendered (no PDF came back)")
            except (OSError, KeyError, TypeError) as exc:
                log.error("task %s: cannot store the result: %s", job.task_id, exc)
                self._fail(
                    job.task_id,
                    "INTERNAL_ERROR",
                    "the server could not store the result; the server log has the details",
                )
                return
        log.info("task %s: %s on Dask worker %s", job.task_id, outcome[0], payload.get("worker"))
        if not self._record_outcome(job.task_id, outcome):
            self._fail(job.task_id, "INTERNAL_ERROR", "the analysis ended without an outcome")

    def _error(self, job: _DaskJob, exc: BaseException | None) -> None:
        name = type(exc).__name__ if exc is not None else "unknown"
        if name == "KilledWorker":
            log.warning("task %s: %s", job.task_id, exc)
            self._fail(
                job.task_id,
                "WORKER_DIED",
                "the Dask workers running the analysis died too often (Dask KilledWorker, "
                "after the scheduler's distributed.scheduler.allowed-failures); the file may be "
                "too large for the workers' memory or trigger a bug",
            )
            return
        if name in ("CancelledError", "FutureCancelledError"):
            self._lost(job, "the task was cancelled on the Dask cluster")
            return
        log.error("task %s: the Dask task failed: %s: %s", job.task_id, name, exc)
        self._fail(
            job.task_id,
            "INTERNAL_ERROR",
            "the analysis stopped on an internal error; the server log has the details",
        )

    def _lost(self, job: _DaskJob, reason: str) -> None:
        """The task stopped on the cluster without an outcome: re-queue it or give up."""
        task = self.store.get_task(job.task_id)
        if task is None or task["status"] != "processing":
            return
        if task["attempts"] < self.config.max_attempts:
            log.warning("task %s: %s; re-queued", job.task_id, reason)
            self._requeue(job.task_id)
        else:
            self._fail(
                job.task_id,
                "WORKER_DIED",
                f"the analysis did not finish on the Dask cluster: {reason} "
                f"({task['attempts']} attempt(s))",
            )

    def _requeue_stopped(self, task_id: str) -> None:
        """Back to the queue on server stop (a stop does not use an attempt)."""
        self.store.update_task(
            task_id,
            where_status=("processing",),
            status="queued",
            progress=0.0,
            stage="queued",
            attempts=max(0, self._attempts(task_id) - 1),
        )

    # ------------------------------------------------------------------ cancel, timeout
    def _cancel_job(self, job: _DaskJob) -> None:
        """Tell the task to stop (its event) and cancel its future."""
        job.cancel_sent_at = time.monotonic()
        client = self.client
        if client is None:
            return
        from distributed import Event

        try:
            Event(job.cancel_name, client=client).set()
            self._to_clear.append((time.monotonic() + CANCEL_EVENT_KEEP_S, job.cancel_name))
        except Exception:  # noqa: BLE001 - the worker also sees the released key
            log.warning("task %s: cannot set the cancel event", job.task_id)
        with contextlib.suppress(Exception):
            client.cancel([job.future])

    def _clear_events(self) -> None:
        if not self._to_clear or self.client is None:
            return
        now = time.monotonic()
        due = [name for t, name in self._to_clear if t <= now]
        if not due:
            return
        self._to_clear = [(t, name) for t, name in self._to_clear if t > now]
        from distributed import Event

        for name in due:
            with contextlib.suppress(Exception):
                Event(name, client=self.client).clear()

    def _handle_cancels(self) -> None:
        with self._lock:
            requested, self._cancel_requests = self._cancel_requests, set()
        for job in list(self.jobs.values()):
            if job.task_id in requested and job.cancel_sent_at is None:
                self._cancel_job(job)
        # catch cancels done while this loop was busy: the store is the truth
        for job in list(self.jobs.values()):
            if job.cancel_sent_at is None:
                task = self.store.get_task(job.task_id)
                if task is None or task["status"] != "processing":
                    self._cancel_job(job)

    def _check_timeouts(self) -> None:
        now = time.monotonic()
        for job in list(self.jobs.values()):
            if now - job.started > self.config.task_timeout_s:
                log.warning("task %s: over the time limit; stopping it", job.task_id)
                self._cancel_job(job)
                self.jobs.pop(job.task_id, None)
                self._fail(
                    job.task_id,
                    "TIMEOUT",
                    f"the analysis took longer than the server's limit of "
                    f"{self.config.task_timeout_s:g} s and was stopped",
                )

    # ------------------------------------------------------------------ start, stop
    def _launch(self, task: dict[str, Any]) -> None:
        client = self.client
        if client is None:
            raise RuntimeError("no connection to the Dask scheduler")
        spec = self.task_spec(task)
        key = f"holterlab-{task['id']}-{uuid.uuid4().hex[:8]}"
        spec["dask_key"] = key
        cancel_name = f"holterlab-cancel-{key}"
        fut = client.submit(
            run_on_dask, spec, self.topic, cancel_name, key=key, pure=False, retries=0
        )
        self.jobs[task["id"]] = _DaskJob(  # type: ignore[assignment]
            task["id"], key, fut, cancel_name, spec, time.monotonic()
        )
        fut.add_done_callback(lambda _f: self.wake())
        log.info("task %s: submitted to the Dask cluster as %s", task["id"], key)

    def _shutdown(self) -> None:
        """On stop: cancel running tasks on the cluster, re-queue them, disconnect."""
        for job in list(self.jobs.values()):
            with contextlib.suppress(Exception):
                self._cancel_job(job)
            self._requeue_stopped(job.task_id)
        self.jobs.clear()
        client, self.client = self.client, None
        if client is not None:
            with contextlib.suppress(Exception):
                client.unsubscribe_topic(self.topic)
            with contextlib.suppress(Exception):
                client.close(timeout=5)
