"""map_tasks on a real Dask cluster: scheduler and two workers as separate processes.

The cluster (tests/distributed/conftest.py) is started once for this package and always torn
down; a test that kills a worker leaves the replacement to the ``two_workers`` fixture.
"""

from __future__ import annotations

import threading
import time

import pytest

from holterlab.distributed import (
    Task,
    analyze_annotation_path,
    connect,
    map_tasks,
    outcome,
    submit,
)
from holterlab.distributed.executor import SchedulerError
from tests.conftest import MITDB, NSRDB
from tests.distributed import tasks

pytest.importorskip("distributed")

MIT = [str(MITDB / f"{r}.atr") for r in (201, 203, 101, 205)]


def _by_index(outcomes):
    return {o.index: o for o in outcomes}


@pytest.fixture(scope="module")
def local_results():
    return {p: analyze_annotation_path(p) for p in MIT}


def test_distributed_results_equal_local_results(two_workers, local_results):
    outs = _by_index(map_tasks(analyze_annotation_path, MIT, scheduler=two_workers.address))
    assert sorted(outs) == list(range(len(MIT)))
    for i, path in enumerate(MIT):
        assert outs[i].ok, outs[i].error
        assert outs[i].value == local_results[path]
    # both workers took part, and the scheduler file works as an address too
    assert len({o.worker for o in outs.values()}) == 2
    again = _by_index(
        map_tasks(analyze_annotation_path, MIT[:2], scheduler=str(two_workers.scheduler_file))
    )
    assert again[0].value == local_results[MIT[0]]


def test_failing_item_is_reported_and_the_others_complete(two_workers):
    items = [Task(3), Task(-1), Task(4)]
    outs = _by_index(map_tasks(_call_checked, items, scheduler=two_workers.address))
    assert outs[0].value == 9 and outs[2].value == 16
    assert outs[1].status == "failed"
    assert outs[1].error == "x must not be negative, got -1"
    assert outs[1].error_type == "ParameterError"
    missing = list(
        map_tasks(analyze_annotation_path, ["/nowhere/1.atr"], scheduler=two_workers.address)
    )
    assert missing[0].status == "failed" and "no such annotation file" in missing[0].error
    # an unexpected exception is retried on the cluster, then reported with its type
    bug = list(map_tasks(tasks.broken_always, [5], scheduler=two_workers.address, retries=1))
    assert bug[0].status == "failed" and bug[0].error == "RuntimeError: bug for 5"


def _call_checked(x):
    return tasks.checked(x)


def test_killed_worker_task_is_rescheduled_and_the_batch_completes(two_workers):
    from distributed import Client

    items = [str(NSRDB / "16272.atr"), str(NSRDB / "17453.atr"), *MIT[:2]]
    results: dict[int, object] = {}
    errors: list[BaseException] = []

    def consume():
        try:
            for o in map_tasks(analyze_annotation_path, items, scheduler=two_workers.address):
                results[o.index] = o
        except BaseException as exc:  # noqa: BLE001 - re-raised in the test thread
            errors.append(exc)

    runner = threading.Thread(target=consume)
    runner.start()
    killed = None
    with Client(two_workers.address, set_as_default=False) as client:
        deadline = time.monotonic() + 60
        while killed is None and time.monotonic() < deadline:
            busy = [w for w, keys in client.processing().items() if keys]
            if len(busy) == 2 and len(results) == 0:
                pids = client.run(lambda: __import__("os").getpid(), workers=[busy[0]])
                pid = pids[busy[0]]
                index = next(i for i, p in enumerate(two_workers.alive_workers()) if p.pid == pid)
                killed = two_workers.kill_worker(index)
            time.sleep(0.05)
    runner.join(timeout=120)
    assert not runner.is_alive()
    assert not errors, errors
    assert killed is not None, "the batch finished before a worker could be killed"
    assert sorted(results) == [0, 1, 2, 3]
    assert all(o.ok for o in results.values()), [o.error for o in results.values()]
    expected = analyze_annotation_path(items[0])
    assert results[0].value == expected


def test_cancel_stops_pending_work(two_workers):
    stop = threading.Event()
    items = [Task(i, 1.5) for i in range(8)]
    outs = list(
        map_tasks(
            tasks.slow_square,
            items,
            scheduler=two_workers.address,
            cancel=stop,
            progress=lambda o, done, total: stop.set(),
        )
    )
    assert sorted(o.index for o in outs) == list(range(8))
    statuses = [o.status for o in outs]
    assert statuses[0] == "ok"
    assert statuses.count("cancelled") >= 5
    assert set(statuses) <= {"ok", "cancelled"}


def _wait_for(paths, timeout_s=60.0):
    deadline = time.monotonic() + timeout_s
    while not all(p.exists() for p in paths):
        assert time.monotonic() < deadline, f"not there: {[p for p in paths if not p.exists()]}"
        time.sleep(0.05)


@pytest.mark.parametrize("how", ["cancel", "interrupt"])
def test_cancel_stops_tasks_running_on_the_workers(two_workers, tmp_path, how):
    """A cancel (or Ctrl-C, which closes the iteration) stops the running items on the
    workers through their ``cancel`` keyword, not only the pending ones."""
    stop = threading.Event()
    items = [Task(str(tmp_path), f"item{i}", 60.0) for i in range(3)]
    outs = map_tasks(
        tasks.wait_for_cancel, items, scheduler=two_workers.address, cancel=stop, retries=0
    )
    got: list = []
    runner = threading.Thread(target=lambda: got.extend(outs))
    if how == "cancel":
        runner.start()
    else:
        interrupted: list = []

        def consume() -> None:
            try:
                next(outs, None)
            except KeyboardInterrupt:
                interrupted.append(True)

        next_out = threading.Thread(target=consume)
        next_out.start()
    # two single-threaded workers: two items run, the third waits
    deadline = time.monotonic() + 60
    while len(list(tmp_path.glob("*.started"))) < 2:
        assert time.monotonic() < deadline, "the items did not start"
        time.sleep(0.05)
    started = sorted(p.with_suffix(".stopped") for p in tmp_path.glob("*.started"))
    t0 = time.monotonic()
    if how == "cancel":
        stop.set()
        runner.join(30)
        assert sorted(o.status for o in got) == ["cancelled"] * 3
    else:
        # Ctrl-C lands in the consumer; the iteration is closed on the way out
        import ctypes

        ctypes.pythonapi.PyThreadState_SetAsyncExc(
            ctypes.c_ulong(next_out.ident), ctypes.py_object(KeyboardInterrupt)
        )
        next_out.join(30)
        assert interrupted == [True]
    _wait_for(started, timeout_s=20)
    assert time.monotonic() - t0 < 10  # not the 60 s the items would run
    time.sleep(1.0)  # an item that started after the cancel stops at once too
    for p in tmp_path.glob("*.started"):
        assert p.with_suffix(".stopped").exists()
    assert not list(tmp_path.glob("*.finished"))


def test_urls_are_read_on_the_workers(two_workers, local_results):
    from distributed import Client

    path = MIT[0]
    outs = list(
        map_tasks(analyze_annotation_path, [f"file://{path}"], scheduler=two_workers.address)
    )
    assert outs[0].ok
    value = dict(outs[0].value, recording=dict(outs[0].value["recording"], path=path))
    assert value == local_results[path]
    # memory:// exists only inside each worker process: put the files there first
    files = {f"/hl-dask/201.{e}": (MITDB / f"201.{e}").read_bytes() for e in ("atr", "hea")}
    with Client(two_workers.address, set_as_default=False) as client:
        assert set(client.run(tasks.put_memory_files, files).values()) == {2}
    outs = list(
        map_tasks(
            analyze_annotation_path, ["memory://hl-dask/201.atr"] * 2, scheduler=two_workers.address
        )
    )
    for o in outs:
        assert o.ok, o.error
        value = dict(o.value, recording=dict(o.value["recording"], path=path))
        assert value == local_results[path]


def test_submit_and_outcome_for_servers(two_workers, local_results):
    client = connect(two_workers.address)
    try:
        good = submit(client, analyze_annotation_path, MIT[1])
        bad = submit(client, analyze_annotation_path, "/nowhere/2.atr")
        good.result(timeout=60)
        bad.result(timeout=60)
        out = outcome(good)
        assert out.ok and out.value == local_results[MIT[1]]
        assert outcome(bad).status == "failed"
        slow = submit(client, tasks.slow_square, 3, 2.0)
        slow.cancel()
        assert outcome(slow).status == "cancelled"
    finally:
        client.close()


def test_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(SchedulerError, match="cannot reach the Dask scheduler"):
        list(map_tasks(tasks.square, [1], scheduler="tcp://127.0.0.1:9", connect_timeout_s=1))
    with pytest.raises(SchedulerError, match="not a Dask scheduler address"):
        list(map_tasks(tasks.square, [1], scheduler="http://x y"))


def test_study_on_dask_equals_the_local_study(two_workers, tmp_path):
    from holterlab.study import run_study, study_from_dict

    data = {
        "mode": "beats",
        "recordings": [MIT[0], MIT[1]],
        "grid": {"rhythm.pause.pause_s": [2.0, 3.0]},
        "report": False,
    }
    local = run_study(study_from_dict(data, base_dir=tmp_path / "local"), progress=False)
    remote = run_study(
        study_from_dict({**data, "scheduler": two_workers.address}, base_dir=tmp_path / "dask"),
        progress=False,
    )
    assert remote.counts == {"ran": 4, "cached": 0, "failed": 0, "cancelled": 0}
    cols = [c for c in local.table.columns if c not in ("runtime_s", "result_json")]
    import pandas as pd

    pd.testing.assert_frame_equal(local.table[cols], remote.table[cols])


def test_batch_on_dask_equals_the_local_batch(two_workers, tmp_path):
    """``holterlab batch --scheduler``: same rows and same result JSONs as the local batch."""
    import json

    from holterlab.batch import run_batch
    from tests.report.helpers import make_recording

    folder = tmp_path / "in"
    folder.mkdir()
    make_recording(folder, "one", minutes=2, seed=21, leads=2)
    make_recording(folder, "two", minutes=2, seed=22, leads=2)
    (folder / "bad.edf").write_bytes(b"not an edf" * 30)
    local = run_batch(folder, tmp_path / "local", beats="annotations", progress=False)
    dist = run_batch(
        folder,
        tmp_path / "dask",
        beats="annotations",
        progress=False,
        scheduler=two_workers.address,
    )
    assert [r["status"] for r in dist.rows] == [r["status"] for r in local.rows]
    assert dist.counts == {"ok": 2, "failed": 1}
    for name in ("one", "two"):
        a = json.loads((tmp_path / "local" / f"{name}.result.json").read_text())
        b = json.loads((tmp_path / "dask" / f"{name}.result.json").read_text())
        a["recording"].pop("path", None), b["recording"].pop("path", None)
        assert a == b
        assert (tmp_path / "dask" / f"{name}.pdf").read_bytes().startswith(b"%PDF")
