"""A lost Dask scheduler: every unfinished item fails with a clear reason (not "cancelled"),
and the client's reconnection tracebacks are not printed.

Dask reports the tasks of a client whose scheduler went away as cancelled futures; these
tests replay that with a stand-in client (killing the shared test cluster's scheduler would
break the other tests of this package).
"""

from __future__ import annotations

import asyncio
import logging
import sys

import pytest

from holterlab.distributed import map_tasks
from tests.distributed import tasks

distributed = pytest.importorskip("distributed")


class _LostFuture:
    status = "cancelled"

    def __init__(self, key: str) -> None:
        self.key = key

    def release(self) -> None:
        pass


class _LostClient:
    """A client whose scheduler went away: its futures come back cancelled."""

    loop = None

    def __init__(self, status: str) -> None:
        self.status = status
        self.cancelled: list[_LostFuture] = []
        self._n = 0

    def submit(self, *args, **kwargs) -> _LostFuture:
        self._n += 1
        return _LostFuture(f"task-{self._n}")

    def cancel(self, futures) -> None:
        self.cancelled += list(futures)


class _AllDone:
    def __init__(self, futures, loop=None) -> None:
        self._futures = list(futures)

    def has_ready(self) -> bool:
        return bool(self._futures)

    def next_batch(self, block: bool = False):
        out, self._futures = self._futures, []
        return out


@pytest.mark.parametrize(
    ("status", "reason"),
    [
        ("connecting", "the connection to the Dask scheduler was lost"),
        ("running", "the task was cancelled on the Dask cluster (not by this run)"),
    ],
)
def test_tasks_dropped_by_the_cluster_fail_with_their_reason(monkeypatch, status, reason):
    monkeypatch.setattr(distributed, "as_completed", _AllDone)
    client = _LostClient(status)
    outs = list(map_tasks(tasks.square, [1, 2, 3], scheduler=client))
    assert sorted(o.index for o in outs) == [0, 1, 2]
    for o in outs:
        assert o.status == "failed" and o.error == reason
        assert o.error_type == "SchedulerError"


def test_reconnection_tracebacks_are_not_printed(monkeypatch):
    monkeypatch.delenv("HOLTERLAB_DEBUG", raising=False)
    monkeypatch.setattr(distributed, "as_completed", _AllDone)
    list(map_tasks(tasks.square, [1], scheduler=_LostClient("connecting")))
    log = logging.getLogger("distributed.client")
    try:
        raise asyncio.CancelledError
    except asyncio.CancelledError:
        info = sys.exc_info()
        cancelled = log.makeRecord("distributed.client", logging.ERROR, "", 0, "", (), info)
    other = log.makeRecord("distributed.client", logging.ERROR, "", 0, "real trouble", (), None)
    assert not all(f.filter(cancelled) for f in log.filters)
    assert all(f.filter(other) for f in log.filters)
