"""Run many independent tasks locally or on a Dask cluster, with one API.

:func:`map_tasks` calls a picklable top-level function once per item and yields a
:class:`TaskOutcome` per item as each finishes:

* ``scheduler=None, jobs=1``: in this process, one item after the other;
* ``scheduler=None, jobs>1``: a local process pool (``concurrent.futures``, "spawn");
* ``scheduler="tcp://HOST:PORT"`` (or a scheduler JSON file, or a ``distributed.Client``):
  one Dask task per item (``pure=False``), results gathered as they complete.

A failing item never stops the others: it is yielded with ``status="failed"`` and a one-line
reason. Errors are split in two kinds:

* a :class:`~holterlab.errors.HolterlabError` (bad input: unreadable file, invalid
  parameters, ...) is deterministic: the item fails at once, it is not retried;
* any other exception is retried ``retries`` times (Dask ``retries=``; locally the item is
  run again), then the item fails with the exception's type and message.

A worker that dies mid-task (killed, out of memory) is handled by Dask itself: its tasks are
rescheduled on the remaining workers, up to the scheduler's ``allowed-failures`` (default 3
deaths per task, then the item fails with ``KilledWorker``). When the connection to the
scheduler is lost (the scheduler died), every unfinished item fails with
``error_type="SchedulerError"`` ("the connection to the Dask scheduler was lost").
Locally a crashed pool process (``BrokenProcessPool``) restarts the pool and charges every
unfinished item one attempt.

``cancel`` (a :class:`threading.Event` or a callable) is polled about ten times a second: when
it turns true, pending tasks are cancelled (local pool processes are stopped), every
unfinished item is yielded with ``status="cancelled"`` and the iteration ends. Items already
running stop too when ``func`` takes a ``cancel`` keyword (``run_one`` of a batch and
``run_study_task`` of a study do): it is given a check that turns true on the cancel, in this
process or on the Dask worker (a watcher thread there sees the task's future cancelled, or
the batch's ``distributed.Event`` set). Closing the iteration early, as Ctrl-C does, cancels
the same way. A ``func`` without the keyword runs to its end and its result is dropped.

Recordings are read *on the workers*, from paths they can reach: a local or shared-disk path,
or an fsspec URL (``s3://bucket/x.edf``, ``gs://``, ``memory://``, ``file://``...). Remote files
are copied to a worker-local temporary folder first (with the sibling files of a WFDB record),
see :func:`local_path`. :func:`analyze_path` and :func:`analyze_annotation_path` are the
worker functions for whole analyses; they return plain result dictionaries
(``HolterResult.to_dict(include_beats=True)``) so the caller stores them exactly as it stores
local results.

Wiring ``holterlab batch --scheduler ADDRESS`` (``run_one`` is already a pure top-level
function returning a dict; it writes into ``outdir``, so on a real cluster ``outdir`` and the
recordings must be on a disk every worker mounts)::

    from holterlab.distributed import Task, map_tasks
    items = [Task(p, out, params, name=names[p], **kwargs) for p in paths]
    for o in map_tasks(run_one, items, scheduler=args.scheduler, jobs=jobs,
                       progress=progress, desc="batch", unit="recording"):
        p = paths[o.index]
        row = o.value if o.ok else {"recording": str(p), "status": "failed",
                                    "reason": o.error, "seconds": o.seconds, ...}

Wiring ``holterlab serve --dask-scheduler ADDRESS`` (one future per API task, polled by the
supervisor loop instead of a local worker process)::

    from holterlab.distributed import analyze_path, connect, outcome, submit
    client = connect(address)                      # once, at start; SchedulerError if down
    fut = submit(client, analyze_path, analysis_path, analysis_options,
                 format=file_format, read_options=read_options)   # -> distributed.Future
    fut.done()                                     # poll; fut.cancel() on DELETE
    o = outcome(fut)                               # TaskOutcome: o.ok, o.value (result dict
                                                   # with "beat_list"), o.error, o.error_type
    client.close()                                 # at shutdown

``o.error_type == "KilledWorker"`` means the workers running it died too often (map it to
``WORKER_DIED``); a :class:`~holterlab.errors.HolterlabError` on the worker gives
``o.status == "failed"`` with its one-line message (``ANALYSIS_FAILED``). The server's own
Dask pool (:mod:`holterlab.server.dask_pool`) streams per-stage progress back through Dask's
event log and cancels through a ``distributed.Event``; :func:`map_tasks` reports progress per
finished item.

Dask (``distributed``) and fsspec are imported only when used.
"""

from __future__ import annotations

from holterlab.distributed.executor import (
    SchedulerError,
    Task,
    TaskOutcome,
    connect,
    map_tasks,
    outcome,
    run_item,
    submit,
)
from holterlab.distributed.workers import (
    analyze_annotation_path,
    analyze_path,
    is_url,
    local_path,
)

__all__ = [
    "Task",
    "TaskOutcome",
    "SchedulerError",
    "map_tasks",
    "connect",
    "submit",
    "outcome",
    "run_item",
    "local_path",
    "is_url",
    "analyze_path",
    "analyze_annotation_path",
    "ProcessCluster",
]


def __getattr__(name: str):
    if name == "ProcessCluster":
        from holterlab.distributed.cluster import ProcessCluster

        return ProcessCluster
    raise AttributeError(f"module 'holterlab.distributed' has no attribute {name!r}")
