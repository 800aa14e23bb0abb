"""The executor: :func:`map_tasks` over local processes or a Dask cluster (see the package
docstring for the semantics of failures, retries, worker deaths and cancel)."""

from __future__ import annotations

import concurrent.futures
import contextlib
import inspect
import os
import posixpath
import re
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from holterlab.errors import HolterlabError, ParameterError

__all__ = [
    "Task",
    "TaskOutcome",
    "SchedulerError",
    "map_tasks",
    "connect",
    "submit",
    "outcome",
    "run_item",
    "run_item_on_dask",
    "watch_cancel",
    "cancel_watch",
    "POLL_S",
]

#: How often (s) the loops look at ``cancel`` while waiting for results.
POLL_S = 0.1
#: How often (s) a task running on a Dask worker looks whether it was cancelled.
CANCEL_POLL_S = 0.5

CancelArg = threading.Event | Callable[[], bool] | None
ProgressArg = bool | Callable[["TaskOutcome", int, int], None] | None


class SchedulerError(HolterlabError):
    """The Dask scheduler cannot be reached, or Dask is not installed."""


# ===================================================================== items and outcomes
class Task:
    """An item that calls the function with several arguments: ``func(*args, **kwargs)``.

    Plain items are passed as the single argument ``func(item)``; wrap them in a ``Task``
    when the function needs more, e.g. ``Task(path, outdir, params, name="rec1")``.
    """

    __slots__ = ("args", "kwargs")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.args = args
        self.kwargs = kwargs

    def __repr__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"Task({', '.join(parts)})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Task):
            return NotImplemented
        return self.args == other.args and self.kwargs == other.kwargs

    __hash__ = None  # type: ignore[assignment]  # arguments may be unhashable

    def __reduce__(self) -> tuple[Any, ...]:
        return (_make_task, (self.args, self.kwargs))

    @property
    def label(self) -> str:
        """A short name: the first argument's file name (or its repr)."""
        if not self.args:
            return "task"
        return _label(self.args[0])


def _make_task(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Task:
    return Task(*args, **kwargs)


def _label(item: Any) -> str:
    if isinstance(item, Task):
        return item.label
    if isinstance(item, (str, os.PathLike)):
        return posixpath.basename(str(item).rstrip("/")) or str(item)
    if isinstance(item, dict):
        for key in ("name", "label", "path", "recording"):
            if key in item:
                return _label(item[key])
    text = repr(item)
    return text if len(text) <= 40 else text[:37] + "..."


@dataclass
class TaskOutcome:
    """What became of one item.

    Attributes
    ----------
    index
        Position of the item in the input.
    item
        The item itself.
    status
        ``"ok"``, ``"failed"`` or ``"cancelled"``.
    value
        The function's return value (``status == "ok"``).
    error
        One-line reason (``"failed"``/``"cancelled"``), e.g. ``"x.edf: no such file"``.
    error_type
        Name of the exception class (``"RecordingNotFoundError"``, ``"KilledWorker"``...).
    seconds
        Time the function ran on its worker (the last attempt), if known.
    attempts
        How many times the item was started (retries and worker deaths included, when known).
    worker
        ``host:pid`` of the process that ran it (``None`` if unknown).
    """

    index: int
    item: Any
    status: str
    value: Any = None
    error: str | None = None
    error_type: str | None = None
    seconds: float | None = None
    attempts: int = 1
    worker: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def label(self) -> str:
        return _label(self.item)


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, HolterlabError):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def accepts_cancel(func: Callable[..., Any]) -> bool:
    """Whether ``func`` takes a ``cancel`` keyword (then the executors pass their check)."""
    try:
        param = inspect.signature(func).parameters.get("cancel")
    except (TypeError, ValueError):
        return False
    return param is not None and param.kind in (
        inspect.Parameter.KEYWORD_ONLY,
        inspect.Parameter.POSITIONAL_OR_KEYWORD,
    )


def _call(func: Callable[..., Any], item: Any, cancel: Callable[[], bool] | None = None) -> Any:
    args, kwargs = (item.args, dict(item.kwargs)) if isinstance(item, Task) else ((item,), {})
    if cancel is not None and "cancel" not in kwargs and accepts_cancel(func):
        kwargs["cancel"] = cancel
    return func(*args, **kwargs)


def run_item(
    func: Callable[..., Any], item: Any, cancel: Callable[[], bool] | None = None
) -> dict[str, Any]:
    """Run ``func`` on one item where it is (a worker); what every backend ships.

    When ``func`` takes a ``cancel`` keyword (and the item does not set it), ``cancel`` is
    passed on, so a cancelled batch stops the item it is running too.

    Returns ``{"ok": True, "value": ..., "seconds": ..., "worker": ...}``, or for a
    :class:`~holterlab.errors.HolterlabError` ``{"ok": False, "error": ..., "error_type": ...}``.
    Any other exception propagates (so that Dask's ``retries`` applies to it).
    """
    t0 = time.perf_counter()
    worker = f"{socket.gethostname()}:{os.getpid()}"
    try:
        value = _call(func, item, cancel)
    except HolterlabError as exc:
        return {
            "ok": False,
            "error": _one_line(exc),
            "error_type": type(exc).__name__,
            "seconds": round(time.perf_counter() - t0, 3),
            "worker": worker,
        }
    return {
        "ok": True,
        "value": value,
        "seconds": round(time.perf_counter() - t0, 3),
        "worker": worker,
    }


def _key_dropped(worker: Any, key: str) -> bool:
    """True when the worker was told to forget ``key`` (its future was cancelled/released)."""
    try:
        ts = worker.state.tasks.get(key)
    except Exception:  # noqa: BLE001 - internals of distributed; then rely on the event
        return False
    return ts is None or getattr(ts, "state", None) == "cancelled"


def watch_cancel(
    event: Any,
    worker: Any,
    key: str,
    cancel: threading.Event,
    done: threading.Event,
    poll_s: float = CANCEL_POLL_S,
) -> None:
    """Worker-side watcher thread of a running Dask task: sets ``cancel`` when the task's
    future was cancelled (the worker dropped ``key``) or the ``distributed.Event`` ``event``
    (may be None) is set; returns when ``done`` is set."""
    while not done.is_set():
        if _key_dropped(worker, key):
            cancel.set()
            return
        try:
            if event is not None and event.wait(timeout=poll_s):
                cancel.set()
                return
            if event is None:
                done.wait(poll_s)
        except Exception:  # noqa: BLE001 - scheduler away for a moment: keep watching
            done.wait(poll_s)


@contextlib.contextmanager
def cancel_watch(worker: Any, key: str, cancel_name: str) -> Iterator[threading.Event]:
    """On a Dask worker, inside a task: a :class:`threading.Event` that a watcher thread
    (:func:`watch_cancel`) sets when the task's future (key ``key``) is cancelled or the
    ``distributed.Event`` named ``cancel_name`` is set; the watcher stops on exit."""
    from distributed import Event

    event: Any = Event(cancel_name)
    try:
        _ = event.client  # bind the worker's client here, in the task's thread
    except Exception:  # noqa: BLE001 - no scheduler connection: the key check still works
        event = None
    cancel, done = threading.Event(), threading.Event()
    watcher = threading.Thread(
        target=watch_cancel,
        args=(event, worker, key, cancel, done),
        name=f"holterlab-cancel-{key}",
        daemon=True,
    )
    watcher.start()
    try:
        yield cancel
    finally:
        done.set()


def run_item_on_dask(
    func: Callable[..., Any], item: Any, key: str, cancel_name: str
) -> dict[str, Any]:
    """:func:`run_item` as a Dask task that can be stopped while it runs.

    The item's cancel check turns true when the task's future (Dask key ``key``) is
    cancelled or the ``distributed.Event`` named ``cancel_name`` is set (what
    :func:`map_tasks` does when it is cancelled or interrupted); ``func`` sees it if it takes
    a ``cancel`` keyword, and then stops without writing outputs.
    """
    from distributed import get_worker

    with cancel_watch(get_worker(), key, cancel_name) as cancel:
        return run_item(func, item, cancel.is_set)


def _from_payload(index: int, item: Any, payload: dict[str, Any], attempts: int) -> TaskOutcome:
    if payload.get("ok"):
        return TaskOutcome(
            index,
            item,
            "ok",
            value=payload.get("value"),
            seconds=payload.get("seconds"),
            attempts=attempts,
            worker=payload.get("worker"),
        )
    return TaskOutcome(
        index,
        item,
        "failed",
        error=payload.get("error"),
        error_type=payload.get("error_type"),
        seconds=payload.get("seconds"),
        attempts=attempts,
        worker=payload.get("worker"),
    )


def _failed(
    index: int, item: Any, exc: BaseException, attempts: int, prefix: str = ""
) -> TaskOutcome:
    return TaskOutcome(
        index,
        item,
        "failed",
        error=prefix + _one_line(exc),
        error_type=type(exc).__name__,
        attempts=attempts,
    )


def _cancelled(index: int, item: Any, attempts: int = 0) -> TaskOutcome:
    return TaskOutcome(
        index,
        item,
        "cancelled",
        error="cancelled before it finished",
        error_type="CancelledError",
        attempts=attempts,
    )


def _cancel_fn(cancel: CancelArg) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    if callable(cancel):
        return lambda: bool(cancel())
    raise ParameterError("cancel must be a threading.Event or a callable returning bool")


# ===================================================================== the public map
def map_tasks(
    func: Callable[..., Any],
    items: Iterable[Any],
    *,
    scheduler: Any = None,
    jobs: int = 1,
    progress: ProgressArg = False,
    cancel: CancelArg = None,
    retries: int = 1,
    desc: str = "tasks",
    unit: str = "item",
    connect_timeout_s: float = 10.0,
) -> Iterator[TaskOutcome]:
    """Run ``func`` on every item; yield a :class:`TaskOutcome` per item as each completes.

    Parameters
    ----------
    func
        A top-level (picklable, importable on the workers) function. It is called as
        ``func(item)``, or ``func(*item.args, **item.kwargs)`` for a :class:`Task` item.
    items
        The items (made into a list first).
    scheduler
        ``None`` (local), a Dask scheduler address (``"tcp://HOST:PORT"``), the path of a
        scheduler JSON file (``dask scheduler --scheduler-file``), or a connected
        ``distributed.Client`` (which is then left open).
    jobs
        Local only: items run at once (a process pool when above 1). Ignored with Dask.
    progress
        ``True`` for a tqdm bar (stderr), or ``callback(outcome, done, total)``.
    cancel
        :class:`threading.Event` or callable; when true, pending work is cancelled and the
        unfinished items are yielded as ``"cancelled"``.
    retries
        Extra attempts for an item that raised an exception that is not a
        :class:`~holterlab.errors.HolterlabError`.
    desc, unit
        Label and unit of the progress bar.
    connect_timeout_s
        How long to wait for the Dask scheduler.

    Yields
    ------
    TaskOutcome
        In completion order (``outcome.index`` gives the input position).

    Raises
    ------
    SchedulerError
        When the scheduler cannot be reached (before anything runs).
    ParameterError
        For invalid ``jobs``/``retries``/``cancel``.
    """
    items = list(items)
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ParameterError(f"jobs must be a whole number >= 1, got {jobs!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ParameterError(f"retries must be a whole number >= 0, got {retries!r}")
    if not callable(func):
        raise ParameterError(f"func must be callable, got {type(func).__name__}")
    cancelled = _cancel_fn(cancel)
    if scheduler is not None and not (isinstance(scheduler, str) and not scheduler.strip()):
        runner = _dask_outcomes(func, items, scheduler, cancelled, retries, connect_timeout_s)
    elif jobs == 1 or len(items) <= 1:
        runner = _serial_outcomes(func, items, cancelled, retries)
    else:
        runner = _pool_outcomes(func, items, min(jobs, len(items)), cancelled, retries)
    yield from _with_progress(runner, len(items), progress, desc, unit)


def _with_progress(
    outcomes: Iterator[TaskOutcome], total: int, progress: ProgressArg, desc: str, unit: str
) -> Iterator[TaskOutcome]:
    bar = None
    callback = progress if callable(progress) else None
    if progress is True:
        from tqdm.auto import tqdm

        bar = tqdm(total=total, desc=desc, unit=unit)
    done = 0
    try:
        for out in outcomes:
            done += 1
            if bar is not None:
                bar.set_postfix_str(f"{out.label}: {out.status}", refresh=False)
                bar.update(1)
            if callback is not None:
                callback(out, done, total)
            yield out
    finally:
        if bar is not None:
            bar.close()
        close = getattr(outcomes, "close", None)
        if close is not None:
            close()


# --------------------------------------------------------------------- in this process
def _serial_outcomes(
    func: Callable[..., Any], items: list[Any], cancelled: Callable[[], bool], retries: int
) -> Iterator[TaskOutcome]:
    for index, item in enumerate(items):
        if cancelled():
            for j in range(index, len(items)):
                yield _cancelled(j, items[j])
            return
        attempts = 0
        while True:
            attempts += 1
            try:
                payload = run_item(func, item, cancelled)
            except Exception as exc:  # noqa: BLE001 - retried, then reported; never stops others
                if attempts <= retries and not cancelled():
                    continue
                yield _failed(index, item, exc, attempts)
                break
            if not payload.get("ok") and payload.get("error_type") == "CancelledError":
                yield _cancelled(index, item, attempts)  # stopped by our cancel
            else:
                yield _from_payload(index, item, payload, attempts)
            break


# --------------------------------------------------------------------- local process pool
def _stop_pool(pool: concurrent.futures.ProcessPoolExecutor) -> None:
    """Shut the pool down without waiting for running items: its processes are ended."""
    processes = list((getattr(pool, "_processes", None) or {}).values())  # our own children
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.terminate()
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.join(timeout=5)


def _pool_outcomes(
    func: Callable[..., Any],
    items: list[Any],
    jobs: int,
    cancelled: Callable[[], bool],
    retries: int,
) -> Iterator[TaskOutcome]:
    """Items in a local process pool. ``attempts[i]`` counts the times item ``i`` was seen
    started; when a pool process dies, only the items seen running are charged an attempt
    (all unfinished ones if none was seen), and the pool is restarted for the others."""
    import multiprocessing
    from concurrent.futures.process import BrokenProcessPool

    ctx = multiprocessing.get_context("spawn")
    attempts = [0] * len(items)
    todo = list(range(len(items)))
    while todo:
        pool = concurrent.futures.ProcessPoolExecutor(max_workers=jobs, mp_context=ctx)
        broken = stop = False
        futures: dict[concurrent.futures.Future, int] = {}
        started: set[concurrent.futures.Future] = set()
        lost: list[concurrent.futures.Future] = []

        def seen(
            fut: concurrent.futures.Future,
            started: set[concurrent.futures.Future] = started,
            futures: dict[concurrent.futures.Future, int] = futures,
        ) -> None:
            if fut not in started:
                started.add(fut)
                attempts[futures[fut]] += 1

        try:
            for i in todo:
                futures[pool.submit(run_item, func, items[i])] = i
            pending = set(futures)
            todo = []
            while pending:
                if cancelled():
                    stop = True
                    _stop_pool(pool)
                    for fut in sorted(pending, key=lambda f: futures[f]):
                        i = futures[fut]
                        yield _cancelled(i, items[i], attempts[i])
                    return
                for fut in pending:
                    if fut.running():
                        seen(fut)
                done, pending = concurrent.futures.wait(
                    pending, timeout=POLL_S, return_when=concurrent.futures.FIRST_COMPLETED
                )
                for fut in sorted(done, key=lambda f: futures[f]):
                    i = futures[fut]
                    exc = fut.exception()
                    if isinstance(exc, BrokenProcessPool):
                        broken = True
                        lost.append(fut)
                        continue
                    seen(fut)
                    if exc is None:
                        yield _from_payload(i, items[i], fut.result(), attempts[i])
                    elif attempts[i] <= retries and not cancelled():
                        # an unexpected exception: run the item again in the pool
                        try:
                            again = pool.submit(run_item, func, items[i])
                        except BrokenProcessPool:
                            broken = True
                            todo.append(i)
                            continue
                        futures[again] = i
                        pending.add(again)
                    else:
                        yield _failed(i, items[i], exc, attempts[i])
                if broken:
                    lost += list(pending)
                    pending = set()
        finally:
            if broken or stop:
                _stop_pool(pool)
            else:
                pool.shutdown(wait=True, cancel_futures=True)
        if lost:
            # a pool process died: charge the items seen running (all, if none was seen)
            if not any(f in started for f in lost):
                for f in lost:
                    attempts[futures[f]] += 1
            todo += [futures[f] for f in lost]
        again = []
        for i in sorted(set(todo)):
            if attempts[i] <= retries:
                again.append(i)
            else:
                yield TaskOutcome(
                    i,
                    items[i],
                    "failed",
                    error="the worker process died while running this item "
                    f"({attempts[i]} attempts)",
                    error_type="BrokenProcessPool",
                    attempts=attempts[i],
                )
        todo = again


# --------------------------------------------------------------------- Dask
def connect(scheduler: Any, *, timeout_s: float = 10.0) -> Any:
    """A ``distributed.Client`` connected to ``scheduler``.

    Parameters
    ----------
    scheduler
        ``"tcp://HOST:PORT"`` (or ``"HOST:PORT"``, ``tls://``, ``ws://``, ``inproc://``), or the
        path of a scheduler JSON file written by ``dask scheduler --scheduler-file``.
    timeout_s
        How long to wait for the scheduler.

    Raises
    ------
    SchedulerError
        Dask is not installed, or nothing answers at that address in time.
    """
    try:
        from distributed import Client
    except ImportError:
        raise SchedulerError(
            "running on a Dask cluster needs the 'distributed' package: "
            "pip install 'holterlab[dask]'"
        ) from None
    text = str(scheduler).strip()
    kwargs: dict[str, Any] = {"timeout": float(timeout_s), "set_as_default": False}
    if text.lower().endswith(".json") and "://" not in text:
        if not Path(text).is_file():
            raise SchedulerError(
                f"{text}: no such scheduler file (see dask scheduler --scheduler-file)"
            )
        kwargs["scheduler_file"] = text
        where = f"the scheduler of {text}"
    else:
        scheme = text.split("://", 1)[0].lower() if "://" in text else "tcp"
        if not text or re.search(r"\s", text) or scheme in ("http", "https", "file"):
            raise SchedulerError(
                f"{text!r} is not a Dask scheduler address; give tcp://HOST:PORT or the "
                "scheduler JSON file"
            )
        if scheme in ("tcp", "tls"):
            # checked here: distributed raises a ValueError for it only after starting a
            # client whose clean-up then blocks for 20 s
            from distributed.comm.addressing import parse_address, parse_host_port

            try:
                parse_host_port(parse_address(text)[1])
            except ValueError as exc:
                raise SchedulerError(
                    f"{text!r} is not a Dask scheduler address ({exc}); give tcp://HOST:PORT "
                    "or the scheduler JSON file"
                ) from None
        kwargs["address"] = text
        where = text
    try:
        return Client(**kwargs)
    except (OSError, TimeoutError) as exc:
        raise SchedulerError(
            f"cannot reach the Dask scheduler at {where} within {timeout_s:g} s "
            f"({type(exc).__name__}: {' '.join(str(exc).split())[:200]}); start one with "
            "`dask scheduler` and workers with `dask worker ADDRESS`"
        ) from None


def submit(
    client: Any,
    func: Callable[..., Any],
    *args: Any,
    retries: int = 1,
    key: str | None = None,
    **kwargs: Any,
) -> Any:
    """Submit one call ``func(*args, **kwargs)`` to Dask; returns its ``distributed.Future``.

    The call is wrapped by :func:`run_item` (so :func:`outcome` reads its result) and is never
    deduplicated (``pure=False``). Cancel it with ``future.cancel()``.
    """
    item = Task(*args, **kwargs)
    extra = {} if key is None else {"key": key}
    return client.submit(run_item, func, item, pure=False, retries=int(retries), **extra)


def _dask_error(exc: BaseException) -> tuple[str, str]:
    name = type(exc).__name__
    if name == "KilledWorker":
        return (
            "the workers running this item died too often (Dask KilledWorker; see the "
            "scheduler's distributed.scheduler.allowed-failures)",
            name,
        )
    if name in ("CancelledError", "FutureCancelledError"):
        return "the task was cancelled on the cluster", name
    return _one_line(exc), name


def outcome(future: Any, item: Any = None, index: int = 0, attempts: int = 1) -> TaskOutcome:
    """The :class:`TaskOutcome` of a finished future from :func:`submit` (waits if needed)."""
    status = future.status
    if status == "cancelled":
        return _cancelled(index, item, attempts)
    if status == "finished":
        try:
            payload = future.result()
        except Exception as exc:  # noqa: BLE001 - lost data, disconnected client...
            message, name = _dask_error(exc)
            return TaskOutcome(index, item, "failed", error=message, error_type=name)
        return _from_payload(index, item, payload, attempts)
    try:
        exc = future.exception()
    except Exception as err:  # noqa: BLE001 - cancelled meanwhile, or the client closed
        exc = err
    if exc is None:
        return _from_payload(index, item, future.result(), attempts)
    message, name = _dask_error(exc)
    return TaskOutcome(index, item, "failed", error=message, error_type=name, attempts=attempts)


def _lost(index: int, item: Any, client: Any) -> TaskOutcome:
    """A task the cluster dropped without being asked to: the scheduler went away (or the
    task was cancelled on the cluster by someone else)."""
    if getattr(client, "status", "running") == "running":
        error = "the task was cancelled on the Dask cluster (not by this run)"
    else:
        error = "the connection to the Dask scheduler was lost"
    return TaskOutcome(index, item, "failed", error=error, error_type="SchedulerError")


class _DropCancelledTracebacks:
    """Logging filter: drop the ``asyncio.CancelledError`` tracebacks ``distributed.client``
    logs when a client whose scheduler went away is closed (its reconnection attempt is
    cancelled). The loss itself is reported once per item as a clean outcome."""

    def filter(self, record: Any) -> bool:
        import asyncio

        exc = record.exc_info[0] if record.exc_info else None
        return not (isinstance(exc, type) and issubclass(exc, asyncio.CancelledError))


_DROP_CANCELLED = _DropCancelledTracebacks()


def _quiet_client_log() -> None:
    """Install :class:`_DropCancelledTracebacks` on ``distributed.client`` (once)."""
    import logging

    log = logging.getLogger("distributed.client")
    if _DROP_CANCELLED not in log.filters and not os.environ.get("HOLTERLAB_DEBUG"):
        log.addFilter(_DROP_CANCELLED)


def _stop_running(client: Any, cancel_name: str) -> None:
    """Set the batch's cancel event: its tasks running on workers stop (best effort)."""
    with contextlib.suppress(Exception):
        from distributed import Event

        Event(cancel_name, client=client).set()


def _dask_outcomes(
    func: Callable[..., Any],
    items: list[Any],
    scheduler: Any,
    cancelled: Callable[[], bool],
    retries: int,
    timeout_s: float,
) -> Iterator[TaskOutcome]:
    _quiet_client_log()
    own = isinstance(scheduler, (str, os.PathLike))
    client = connect(scheduler, timeout_s=timeout_s) if own else scheduler
    if not hasattr(client, "submit"):
        raise ParameterError(
            "scheduler must be an address, a scheduler file or a distributed.Client"
        )
    from distributed import as_completed

    # futures not yet reported, by input index; a reported future is released at once so the
    # cluster does not hold every result until the end of a long batch
    waiting: dict[int, Any] = {}
    # running tasks watch their future and this event (run_item_on_dask): a cancel, or the
    # generator closed by Ctrl-C, stops them on the workers too
    batch = uuid.uuid4().hex[:12]
    cancel_name = f"holterlab-cancel-{batch}"
    try:
        for i, item in enumerate(items):
            key = f"holterlab-{re.sub(r'[^A-Za-z0-9._-]', '_', _label(item))[:40]}-{batch}-{i}"
            waiting[i] = client.submit(
                run_item_on_dask, func, item, key, cancel_name, key=key, pure=False,
                retries=retries,
            )  # fmt: skip
        index = {fut.key: i for i, fut in waiting.items()}
        ac = as_completed(list(waiting.values()), loop=client.loop)
        while waiting:
            if cancelled():
                _stop_running(client, cancel_name)
                client.cancel(list(waiting.values()))
                for i in sorted(waiting):
                    yield _cancelled(i, items[i])
                waiting.clear()
                return
            if getattr(client, "status", "running") in ("closed", "closing"):
                for i in sorted(waiting):
                    yield _lost(i, items[i], client)
                waiting.clear()
                return
            batch = ac.next_batch(block=False) if ac.has_ready() else []
            if not batch:
                time.sleep(POLL_S)
                continue
            for fut in batch:
                i = index.get(fut.key)
                if i is None or i not in waiting:
                    continue
                out = outcome(fut, items[i], i)
                if out.status == "cancelled":
                    # not by us (that returns above): the scheduler dropped the task, which
                    # is what Dask reports for every pending task when the connection is lost
                    out = _lost(i, items[i], client)
                del waiting[i]
                with contextlib.suppress(Exception):
                    fut.release()
                yield out
    finally:
        if waiting:
            _stop_running(client, cancel_name)
            with contextlib.suppress(Exception):
                client.cancel(list(waiting.values()))
        waiting.clear()
        if own:
            with contextlib.suppress(Exception):
                client.close(timeout=5)
