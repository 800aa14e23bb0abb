"""Analysis in worker processes, supervised by a thread of the server.

Each task runs in its own process, forked from a fork server that has the heavy modules
preloaded (``multiprocessing`` "forkserver"), at most ``config.workers`` at a time, so a long
analysis never blocks the API and a crash takes down only its own process.

Parent and worker talk over a duplex pipe:

* the worker sends ``("progress", stage, percent)``, then ``("done", report_available,
  report_error)``, ``("failed", code, message)`` or ``("cancelled",)``;
* the parent sends ``"cancel"``; a watchdog thread in the worker sets the cooperative cancel
  flag the analysis polls. A worker that does not stop within ``cancel_grace_s`` is killed.
  If the server disappears (the pipe closes), the watchdog ends the worker at once, so a
  killed server leaves no orphan computing.

The supervisor thread (:class:`WorkerPool`) starts queued tasks, records progress and
outcomes in the store, sends webhooks, enforces ``task_timeout_s``, expires unused upload
URLs, and on start re-queues tasks a previous server left ``queued`` or ``processing``. A
worker that exits without an outcome, or a task found ``processing`` at start, uses one of the
task's ``max_attempts``; then the task fails with ``WORKER_DIED``. Nothing stays
``processing``: every running task has a live process watched here, or a deadline.

The work of one task (:func:`perform_task`) is the same wherever it runs: a local process
writes its outputs into the data folder (:class:`FileSink`); a Dask task
(:mod:`holterlab.server.dask_pool`) returns them to the server (:class:`MemorySink`).
"""

from __future__ import annotations

import contextlib
import importlib
import inspect
import json
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from holterlab.server.config import FILE_FORMATS, ServerConfig
from holterlab.server.store import Store

__all__ = [
    "WorkerPool",
    "load_callable",
    "build_params",
    "run_task",
    "perform_task",
    "ProgressReporter",
    "FileSink",
    "MemorySink",
]

log = logging.getLogger("holterlab.server")

# progress scale: loading 0-5 %, analysis 5-90 %, report 90-99 %
_LOAD_END, _ANALYSIS_END = 5.0, 90.0


def load_callable(dotted: str) -> Any:
    """Import ``module:function`` (raises ImportError or AttributeError if missing)."""
    module_name, _, attr = dotted.partition(":")
    module = importlib.import_module(module_name)
    obj: Any = module
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def build_params(options: dict[str, Any] | None) -> Any:
    """The analysis parameters from the API's ``analysis_options``.

    ``holterlab.params.AnalysisParams.from_dict`` when the library has it (raises
    ParameterError for invalid options), else the dictionary itself.
    """
    cls = None
    for module_name in ("holterlab.params", "holterlab.params.analysis"):
        try:
            cls = getattr(importlib.import_module(module_name), "AnalysisParams", None)
        except ImportError:
            cls = None
        if cls is not None:
            break
    if cls is None:
        return dict(options) if options else None
    return cls.from_dict(options)


def report_renderer_available(dotted: str) -> bool:
    """True if the report renderer can be imported (checked in the server process)."""
    try:
        load_callable(dotted)
    except (ImportError, AttributeError):
        return False
    return True


# ===================================================================== the worker process
def _watchdog(conn: multiprocessing.connection.Connection, cancel: threading.Event) -> None:
    while True:
        try:
            if conn.poll(0.5):
                if conn.recv() == "cancel":
                    cancel.set()
        except (EOFError, OSError):
            os._exit(75)  # the server is gone: stop computing at once


def _public_message(exc: BaseException, spec: dict[str, Any]) -> str:
    from holterlab.server.errors import public_message

    return public_message(str(exc), spec.get("redact", {}))


def _call_runner(runner: Any, recording: Any, params: Any, progress: Any, cancel: Any) -> Any:
    kwargs: dict[str, Any] = {}
    try:
        sig = inspect.signature(runner)
        names = sig.parameters
        var_kw = any(p.kind is p.VAR_KEYWORD for p in names.values())
    except (TypeError, ValueError):  # builtins: pass everything
        names, var_kw = {}, True
    if var_kw or "progress" in names:
        kwargs["progress"] = progress
    if var_kw or "cancel" in names:
        kwargs["cancel"] = cancel
    return runner(recording, params, **kwargs)


def _result_dict(result: Any) -> dict[str, Any]:
    if isinstance(result, dict):
        return result
    return result.to_dict(include_beats=True)


class FileSink:
    """Where :func:`perform_task` puts its outputs: the server's result and report files.

    Used by the local worker processes, which write into the data folder themselves.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        self.spec = spec

    def scratch_dir(self) -> Path:
        """Folder for the renderer's private work folder (beside the final PDF)."""
        final = Path(self.spec["report_path"])
        final.parent.mkdir(parents=True, exist_ok=True)
        return final.parent

    def store_result(self, result_text: str, beats_text: str) -> None:
        from holterlab._atomic import atomic_write_text

        atomic_write_text(self.spec["beats_path"], beats_text)
        atomic_write_text(self.spec["result_path"], result_text)

    def store_report(self, pdf: Path) -> None:
        os.replace(pdf, self.spec["report_path"])


class MemorySink:
    """Keeps :func:`perform_task`'s outputs in memory (for a remote worker to return them).

    ``result_text``/``beats_text`` are the exact JSON texts :class:`FileSink` would write;
    ``pdf`` the report's bytes (or None).
    """

    def __init__(self) -> None:
        self.result_text: str | None = None
        self.beats_text: str | None = None
        self.pdf: bytes | None = None

    def scratch_dir(self) -> Path | None:
        return None  # the system's temporary folder

    def store_result(self, result_text: str, beats_text: str) -> None:
        self.result_text, self.beats_text = result_text, beats_text

    def store_report(self, pdf: Path) -> None:
        self.pdf = pdf.read_bytes()


def _render(
    render: Any, data: dict[str, Any], beat_list: Any, spec: dict[str, Any], sink: Any
) -> None:
    """Render the PDF with ``render(result_json_path, out_pdf, recording_path=, patient=)``.

    The renderer gets the full result (with beats) as a ``.result.json`` file and writes a
    ``.pdf`` in a private folder; the PDF goes to ``sink`` only when complete.
    """
    import tempfile

    from holterlab._atomic import atomic_write_text

    with tempfile.TemporaryDirectory(prefix=".render-", dir=sink.scratch_dir()) as work:
        source = Path(work) / f"{spec['task_id']}.result.json"
        full = dict(data)
        if beat_list is not None:
            full["beat_list"] = beat_list
        atomic_write_text(source, json.dumps(full))
        out = Path(work) / f"{spec['task_id']}.pdf"
        written = render(
            source,
            out,
            recording_path=spec["analysis_path"],
            patient=spec["patient_info"] or None,
        )
        produced = Path(written) if written is not None else out
        if not produced.is_file() or produced.stat().st_size == 0:
            raise RuntimeError("the report renderer produced no PDF")
        sink.store_report(produced)


class ProgressReporter:
    """Progress of one task on the server's 0-99 % scale, sent through ``send(stage, percent)``.

    Percentages never go back within a task; messages are sent on a stage change, when
    forced, or at most every ``interval_s``.
    """

    def __init__(self, send: Any, interval_s: float = 0.25) -> None:
        self.send = send
        self.interval_s = interval_s
        self.last = 0.0
        self.stage: str | None = None
        self.percent = 0.0

    def __call__(self, stage: str, percent: float, *, force: bool = False) -> None:
        percent = max(self.percent, min(99.0, float(percent)))
        now = time.monotonic()
        if force or stage != self.stage or now - self.last >= self.interval_s:
            self.send(str(stage), percent)
            self.last = now
        self.stage, self.percent = stage, percent

    def analysis(self, stage: str, fraction: float) -> None:
        """The analysis' ``progress(stage, fraction)`` callback."""
        try:
            f = min(1.0, max(0.0, float(fraction)))
        except (TypeError, ValueError):
            f = 0.0
        self(stage, _LOAD_END + (_ANALYSIS_END - _LOAD_END) * f)


def perform_task(
    spec: dict[str, Any], progress: ProgressReporter, cancelled: Any, sink: Any
) -> tuple[Any, ...]:
    """Read, analyse, store the result (and render the PDF) of one task, where it runs.

    The work of a worker, local process or Dask task alike. ``cancelled()`` is the
    cooperative cancel flag the analysis polls; outputs go to ``sink`` (:class:`FileSink` or
    :class:`MemorySink`). Returns the outcome: ``("done", report_available, report_error)``,
    ``("failed", code, message)`` or ``("cancelled",)``. Never raises for a failing analysis.
    """
    from holterlab.errors import CancelledError, HolterlabError

    try:
        progress("loading", 1.0, force=True)
        from holterlab.server.storage import open_recording

        recording = open_recording(
            Path(spec["analysis_path"]),
            spec["file_format"],
            spec["read_options"],
            spec["recording_info"],
        )
        params = build_params(spec["analysis_options"])
        try:
            runner = load_callable(spec["analysis_runner"])
        except (ImportError, AttributeError):
            return (
                "failed",
                "ANALYSIS_UNAVAILABLE",
                f"the analysis pipeline ({spec['analysis_runner']}) is not installed on this "
                "server",
            )
        progress("analysis", _LOAD_END, force=True)
        result = _call_runner(runner, recording, params, progress.analysis, cancelled)
        if cancelled():
            raise CancelledError("cancelled on request")
        data = _result_dict(result)
        beat_list = data.pop("beat_list", None)
        sink.store_result(
            json.dumps(data, separators=(",", ":")),
            json.dumps(beat_list, separators=(",", ":")),
        )

        report_available, report_error = False, None
        try:
            render = load_callable(spec["report_runner"])
        except (ImportError, AttributeError):
            render = None
            report_error = "the report renderer is unavailable on this server"
        if render is not None:
            progress("report", _ANALYSIS_END, force=True)
            try:
                _render(render, data, beat_list, spec, sink)
                report_available = True
            except HolterlabError as exc:
                report_error = f"the report could not be rendered: {_public_message(exc, spec)}"
            except Exception:  # noqa: BLE001 - a renderer bug must not fail the analysis
                traceback.print_exc(file=sys.stderr)
                report_error = "the report could not be rendered (internal error; see server log)"
        return ("done", report_available, report_error)
    except CancelledError:
        return ("cancelled",)
    except HolterlabError as exc:
        return ("failed", "ANALYSIS_FAILED", f"the analysis failed: {_public_message(exc, spec)}")
    except MemoryError:
        return ("failed", "OUT_OF_MEMORY", "the analysis ran out of memory")
    except Exception:  # noqa: BLE001 - never let a traceback reach the client
        print(f"holterlab worker: task {spec['task_id']} failed:", file=sys.stderr)
        traceback.print_exc(file=sys.stderr)
        return (
            "failed",
            "INTERNAL_ERROR",
            "the analysis stopped on an internal error; the server log has the details",
        )
    finally:
        with contextlib.suppress(Exception):
            sys.stderr.flush()


def run_task(conn: multiprocessing.connection.Connection, spec: dict[str, Any]) -> None:
    """Body of a worker process: read, analyse, write the result (and PDF), report back."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    cancel_event = threading.Event()
    threading.Thread(target=_watchdog, args=(conn, cancel_event), daemon=True).start()

    def send(*msg: Any) -> None:
        try:
            conn.send(msg)
        except (OSError, EOFError):
            os._exit(75)

    progress = ProgressReporter(lambda stage, percent: send("progress", stage, percent))
    outcome = perform_task(spec, progress, cancel_event.is_set, FileSink(spec))
    send(*outcome)


# ===================================================================== the supervisor
@dataclass
class _Job:
    task_id: str
    process: Any
    conn: multiprocessing.connection.Connection
    started: float
    outcome: tuple[Any, ...] | None = None
    cancel_sent_at: float | None = None
    last_webhook: float = 0.0
    last_webhook_progress: float = -1.0
    extra: dict[str, Any] = field(default_factory=dict)


class WorkerPool:
    """Runs queued tasks in worker processes and keeps the store's task states true.

    Parameters
    ----------
    config, store
        Server settings and the task store.
    notify
        ``notify(task_row, event, data)`` sends a webhook (``task.progress`` etc.).
    """

    def __init__(self, config: ServerConfig, store: Store, notify: Any) -> None:
        self.config = config
        self.store = store
        self.notify = notify
        self.jobs: dict[str, _Job] = {}
        self._cancel_requests: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        self._thread: threading.Thread | None = None
        self._ctx = multiprocessing.get_context("forkserver")
        preload = list(config.worker_preload)
        preload += ["holterlab.server.workers", "holterlab.server.storage"]
        for dotted in (config.analysis_runner, config.report_runner):
            preload.append(dotted.partition(":")[0])
        self._ctx.set_forkserver_preload(preload)
        self._last_sweep = 0.0

    # ------------------------------------------------------------------ control
    def start(self) -> None:
        self.recover()
        self._thread = threading.Thread(target=self._run, name="holterlab-workers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the supervisor; running tasks are stopped and put back in the queue."""
        self._stop.set()
        self.wake()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for job in list(self.jobs.values()):
            self._kill(job)
            self.store.update_task(
                job.task_id,
                where_status=("processing",),
                status="queued",
                progress=0.0,
                stage="queued",
                attempts=max(0, self._attempts(job.task_id) - 1),
            )
        self.jobs.clear()
        self.store.close()

    def wake(self) -> None:
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def request_cancel(self, task_id: str) -> None:
        """Stop the task's worker (if running); the store already says ``cancelled``."""
        with self._lock:
            self._cancel_requests.add(task_id)
        self.wake()

    def running_pids(self) -> dict[str, int]:
        return {tid: job.process.pid for tid, job in list(self.jobs.items())}

    # ------------------------------------------------------------------ recovery
    def _attempts(self, task_id: str) -> int:
        task = self.store.get_task(task_id)
        return int(task["attempts"]) if task else 0

    def recover(self) -> None:
        """Re-queue tasks a previous server left ``processing`` (or fail them, out of attempts)."""
        for task in self.store.tasks_with_status("processing"):
            if task["attempts"] >= self.config.max_attempts:
                self._fail(
                    task["id"],
                    "WORKER_DIED",
                    f"the server stopped during the analysis {task['attempts']} time(s); the "
                    "task was not retried again",
                )
            else:
                self.store.update_task(
                    task["id"],
                    where_status=("processing",),
                    status="queued",
                    stage="queued",
                    progress=0.0,
                )
                log.info("task %s re-queued after a server restart", task["id"])

    # ------------------------------------------------------------------ the loop
    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._step()
            except Exception:  # noqa: BLE001 - the supervisor must survive anything
                log.exception("worker supervisor error")
                time.sleep(0.5)
        self.store.close()

    def _step(self) -> None:
        waitables: list[Any] = [self._wake_r]
        for job in self.jobs.values():
            waitables.append(job.conn)
            waitables.append(job.process.sentinel)
        ready = multiprocessing.connection.wait(waitables, timeout=0.5)
        if self._wake_r in ready:
            with contextlib.suppress(OSError):
                while self._wake_r.recv(4096):
                    pass
        for job in list(self.jobs.values()):
            self._drain(job)
        for job in list(self.jobs.values()):
            if not job.process.is_alive():
                self._drain(job)
                self._finish(job)
        self._handle_cancels()
        self._check_timeouts()
        if not self._stop.is_set():
            self._start_queued()
        self._sweep()

    def _sweep(self) -> None:
        """Expire unused upload URLs (about once a second)."""
        now = time.time()
        if now - self._last_sweep >= 1.0:
            self._last_sweep = now
            for task_id in self.store.expire_uploads(now):
                from holterlab.server.storage import remove_task_files

                remove_task_files(self.config, task_id)

    def _drain(self, job: _Job) -> None:
        while True:
            try:
                if not job.conn.poll():
                    return
                msg = job.conn.recv()
            except (EOFError, OSError):
                return
            kind = msg[0]
            if kind == "progress":
                self._progress(job, str(msg[1]), float(msg[2]))
            else:
                job.outcome = msg

    def _progress(self, job: _Job, stage: str, percent: float) -> None:
        ok = self.store.update_task(
            job.task_id, where_status=("processing",), stage=stage, progress=percent
        )
        if not ok:
            return
        now = time.monotonic()
        if now - job.last_webhook >= self.config.progress_webhook_interval_s and int(
            percent
        ) != int(job.last_webhook_progress):
            job.last_webhook = now
            job.last_webhook_progress = percent
            task = self.store.get_task(job.task_id)
            if task is not None:
                self.notify(task, "task.progress", {})

    def _finish(self, job: _Job) -> None:
        job.process.join(timeout=1)
        with contextlib.suppress(OSError):
            job.conn.close()
        self.jobs.pop(job.task_id, None)
        if self._record_outcome(job.task_id, job.outcome):
            return
        # no outcome: the process died (or was killed by us on cancel/timeout)
        task = self.store.get_task(job.task_id)
        if task is None or task["status"] != "processing":
            return
        code = job.process.exitcode
        if task["attempts"] < self.config.max_attempts:
            log.warning("task %s: worker exited with code %s; retrying", job.task_id, code)
            self._requeue(job.task_id)
        else:
            self._fail(
                job.task_id,
                "WORKER_DIED",
                f"the analysis worker process exited unexpectedly (exit code {code}) on "
                f"{task['attempts']} attempt(s); the file may be too large for this server's "
                "memory or trigger a bug",
            )

    def _requeue(self, task_id: str) -> None:
        self.store.update_task(
            task_id,
            where_status=("processing",),
            status="queued",
            stage="queued",
            progress=0.0,
        )

    def _record_outcome(self, task_id: str, outcome: tuple[Any, ...] | None) -> bool:
        """Put a worker's outcome in the store (and send its webhook); False if none."""
        now = time.time()
        if outcome is not None and outcome[0] == "done":
            if self.store.update_task(
                task_id,
                where_status=("processing",),
                status="completed",
                progress=100.0,
                stage="done",
                result_available=1,
                report_available=1 if outcome[1] else 0,
                report_error=outcome[2],
                finished_at=now,
            ):
                task = self.store.get_task(task_id)
                self.notify(
                    task,
                    "task.completed",
                    {"result_available": True, "report_available": bool(outcome[1])},
                )
            return True
        if outcome is not None and outcome[0] == "failed":
            self._fail(task_id, str(outcome[1]), str(outcome[2]))
            return True
        if outcome is not None and outcome[0] == "cancelled":
            # the store already says cancelled (set by the API); make sure of it
            self.store.update_task(
                task_id, where_status=("processing",), status="cancelled", finished_at=now
            )
            return True
        return False

    def _fail(self, task_id: str, code: str, message: str) -> None:
        if self.store.update_task(
            task_id,
            where_status=("queued", "processing"),
            status="failed",
            error_code=code,
            error_message=message,
            finished_at=time.time(),
        ):
            task = self.store.get_task(task_id)
            self.notify(task, "task.failed", {"error": {"code": code, "message": message}})

    def _kill(self, job: _Job) -> None:
        with contextlib.suppress(Exception):
            if job.process.is_alive():
                job.process.kill()
            job.process.join(timeout=5)

    def _handle_cancels(self) -> None:
        with self._lock:
            requested, self._cancel_requests = self._cancel_requests, set()
        now = time.monotonic()
        for job in list(self.jobs.values()):
            if job.task_id in requested and job.cancel_sent_at is None:
                job.cancel_sent_at = now
                with contextlib.suppress(OSError):
                    job.conn.send("cancel")
        # catch cancels done while this loop was busy: the store is the truth
        if self.jobs:
            for job in list(self.jobs.values()):
                if job.cancel_sent_at is None:
                    task = self.store.get_task(job.task_id)
                    if task is None or task["status"] != "processing":
                        job.cancel_sent_at = now
                        with contextlib.suppress(OSError):
                            job.conn.send("cancel")
        for job in list(self.jobs.values()):
            if (
                job.cancel_sent_at is not None
                and now - job.cancel_sent_at >= self.config.cancel_grace_s
                and job.process.is_alive()
            ):
                log.info("task %s: worker did not stop on cancel; killing it", job.task_id)
                job.process.kill()

    def _check_timeouts(self) -> None:
        now = time.monotonic()
        for job in list(self.jobs.values()):
            if now - job.started > self.config.task_timeout_s and job.process.is_alive():
                log.warning("task %s: over the time limit; stopping it", job.task_id)
                self._kill(job)
                self._fail(
                    job.task_id,
                    "TIMEOUT",
                    f"the analysis took longer than the server's limit of "
                    f"{self.config.task_timeout_s:g} s and was stopped",
                )

    def _capacity(self) -> int:
        """How many tasks may run at once."""
        return self.config.workers

    def _start_queued(self) -> None:
        free = self._capacity() - len(self.jobs)
        if free <= 0:
            return
        for task in self.store.tasks_with_status("queued", limit=free):
            if task["id"] in self.jobs:
                continue
            if not self.store.update_task(
                task["id"],
                where_status=("queued",),
                status="processing",
                stage="starting",
                progress=0.0,
                attempts=int(task["attempts"]) + 1,
                started_at=time.time(),
            ):
                continue
            try:
                self._launch(task)
            except Exception:  # noqa: BLE001
                log.exception("task %s: cannot start a worker", task["id"])
                self._fail(
                    task["id"], "INTERNAL_ERROR", "the server could not start an analysis worker"
                )

    def task_spec(self, task: dict[str, Any]) -> dict[str, Any]:
        """What a worker needs to run ``task`` (plain JSON-able values)."""
        from holterlab.server.storage import read_options, task_dir

        body = json.loads(task["submit_body"] or "{}")
        recording_info = body.get("recording_info")
        cfg = self.config
        folder = str(task_dir(cfg, task["id"]))
        spec = {
            "task_id": task["id"],
            "analysis_path": task["analysis_path"],
            "file_format": task["file_format"],
            "read_options": read_options(cfg, task["file_format"], recording_info),
            "recording_info": recording_info,
            "analysis_options": body.get("analysis_options"),
            "patient_info": body.get("patient_info"),
            "analysis_runner": cfg.analysis_runner,
            "report_runner": cfg.report_runner,
            "result_path": str(cfg.results_dir / f"{task['id']}.json"),
            "beats_path": str(cfg.results_dir / f"{task['id']}.beats.json"),
            "report_path": str(cfg.reports_dir / f"{task['id']}.pdf"),
            "redact": {folder: task["filename"], str(cfg.data_dir): "<data>"},
        }
        assert task["file_format"] in FILE_FORMATS
        return spec

    def _launch(self, task: dict[str, Any]) -> None:
        spec = self.task_spec(task)
        parent, child = self._ctx.Pipe(duplex=True)
        proc = self._ctx.Process(
            target=run_task, args=(child, spec), name=f"holterlab-{task['id']}", daemon=False
        )
        proc.start()
        child.close()
        self.jobs[task["id"]] = _Job(task["id"], proc, parent, time.monotonic())
        log.info("task %s: started in worker process %s", task["id"], proc.pid)
