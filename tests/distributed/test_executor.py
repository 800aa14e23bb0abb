"""map_tasks in this process and in a local process pool (no Dask)."""

from __future__ import annotations

import threading
import time

import pytest

from holterlab.distributed import Task, TaskOutcome, analyze_annotation_path, map_tasks
from holterlab.errors import ParameterError
from tests.conftest import MITDB
from tests.distributed import tasks

RECORDS = [MITDB / f"{r}.atr" for r in (201, 203, 101)]


def _by_index(outcomes):
    out = {o.index: o for o in outcomes}
    assert sorted(out) == list(range(len(out)))
    return out


def test_serial_and_pool_give_identical_result_dicts():
    items = [str(p) for p in RECORDS] + ["/no/such/dir/999.atr"]
    serial = _by_index(map_tasks(analyze_annotation_path, items))
    pooled = _by_index(map_tasks(analyze_annotation_path, items, jobs=2))
    for i in range(3):
        assert serial[i].ok and pooled[i].ok
        assert serial[i].value == pooled[i].value
        assert serial[i].value["recording"]["name"] == RECORDS[i].stem
        assert "beat_list" in serial[i].value
    for out in (serial[3], pooled[3]):
        assert out.status == "failed"
        assert "999.atr" in out.error and "no such annotation file" in out.error
        assert out.error_type == "RecordingNotFoundError"
        assert out.attempts == 1  # a HolterlabError is not retried


def test_task_items_and_progress_callback():
    seen = []
    outs = list(
        map_tasks(
            tasks.slow_square,
            [Task(2, seconds=0.0), Task(3, 0.0)],
            progress=lambda o, done, total: seen.append((o.index, done, total)),
        )
    )
    assert [o.value for o in outs] == [4, 9]
    assert seen == [(0, 1, 2), (1, 2, 2)]
    assert isinstance(outs[0], TaskOutcome) and outs[0].label == "2"


@pytest.mark.parametrize("jobs", [1, 2])
def test_failing_item_reported_others_complete(jobs):
    outs = _by_index(map_tasks(tasks.checked, [1, -2, 3], jobs=jobs))
    assert [outs[i].value for i in (0, 2)] == [1, 9]
    assert outs[1].status == "failed"
    assert outs[1].error == "x must not be negative, got -2"
    assert outs[1].error_type == "ParameterError"


@pytest.mark.parametrize("jobs", [1, 2])
def test_unexpected_errors_are_retried(tmp_path, jobs):
    counter = tmp_path / f"count{jobs}"
    outs = list(map_tasks(tasks.flaky, [str(counter)], jobs=jobs, retries=1))
    assert outs[0].ok and outs[0].attempts == 2
    outs = _by_index(map_tasks(tasks.broken_always, [7, 8], jobs=jobs, retries=0))
    assert outs[0].status == "failed" and outs[0].error == "RuntimeError: bug for 7"
    assert outs[0].attempts == 1


def test_cancel_serial_stops_after_the_running_item():
    stop = threading.Event()
    outs = list(map_tasks(tasks.square, range(5), cancel=stop, progress=lambda o, d, t: stop.set()))
    assert [o.status for o in outs] == ["ok"] + ["cancelled"] * 4
    assert [o.index for o in outs] == list(range(5))


def test_cancel_serial_stops_the_running_item_that_takes_cancel(tmp_path):
    stop = threading.Event()
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    t0 = time.monotonic()
    try:
        items = [Task(str(tmp_path), f"item{i}", 30.0) for i in range(3)]
        outs = list(map_tasks(tasks.wait_for_cancel, items, cancel=stop))
    finally:
        timer.cancel()
    assert time.monotonic() - t0 < 10
    assert [o.status for o in outs] == ["cancelled"] * 3
    assert (tmp_path / "item0.stopped").exists()  # stopped while it ran, within the 30 s
    assert not (tmp_path / "item1.started").exists()


def test_cancel_keyword_of_the_item_wins_and_others_get_none(tmp_path):
    # an item that sets cancel itself keeps it; a function without the keyword is not given it
    never = Task(str(tmp_path), "own", 0.3, cancel=lambda: False)
    outs = list(map_tasks(tasks.wait_for_cancel, [never], cancel=lambda: False))
    assert outs[0].ok and outs[0].value == "own"
    assert list(map_tasks(tasks.square, [3], cancel=lambda: False))[0].value == 9


def test_cancel_pool_cancels_pending_and_running_items():
    stop = threading.Event()
    timer = threading.Timer(0.5, stop.set)
    timer.start()
    try:
        outs = list(
            map_tasks(tasks.slow_square, [Task(i, 20.0) for i in range(4)], jobs=2, cancel=stop)
        )
    finally:
        timer.cancel()
    assert sorted(o.index for o in outs) == [0, 1, 2, 3]
    assert {o.status for o in outs} == {"cancelled"}


def test_crashed_pool_process_fails_only_its_item():
    items = [
        Task(tasks.slow_square, 1, 0.0),
        Task(tasks.crash, 2.0),
        Task(tasks.slow_square, 2, 0.0),
        Task(tasks.slow_square, 3, 0.0),
    ]
    outs = _by_index(map_tasks(tasks.call, items, jobs=2, retries=1))
    assert outs[1].status == "failed"
    assert "worker process died" in outs[1].error and outs[1].attempts == 2
    assert [outs[i].value for i in (0, 2, 3)] == [1, 4, 9]


def test_invalid_arguments():
    with pytest.raises(ParameterError):
        list(map_tasks(tasks.square, [1], jobs=0))
    with pytest.raises(ParameterError):
        list(map_tasks(tasks.square, [1], retries=-1))
    with pytest.raises(ParameterError):
        list(map_tasks(tasks.square, [1], cancel=3))
