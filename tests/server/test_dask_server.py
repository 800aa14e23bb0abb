"""``holterlab serve --dask-scheduler``: the analyses run on a real Dask cluster.

A scheduler and two single-threaded workers run as processes on 127.0.0.1
(:class:`~holterlab.distributed.cluster.ProcessCluster`, always torn down); servers run in
subprocesses on free loopback ports. The cluster allows one worker death per task
(``allowed-failures=1``) so that both the rescheduling and the give-up path are reachable.
The stand-in runner of ``tests/server/runner.py`` (work proportional to the recording length,
a pid file and a tick per step in ``HOLTERLAB_TEST_PIDDIR``) makes progress, cancel and worker
deaths observable; one test runs the real pipeline and compares with a local server.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
import types
from pathlib import Path
from typing import Any

import pytest

from tests.server.conftest import (
    REPO,
    TEST_CONFIG,
    Api,
    Receiver,
    ServerProcess,
    create_key,
    free_port,
    wait_until,
    write_aiecg,
)

pytest.importorskip("distributed")

#: The stand-in runner's speed on the Dask workers (s of work per s of signal).
SPEED = 0.002


# ------------------------------------------------------------------------------ fixtures
def _cluster(directory: Path, piddir: Path, n_workers: int = 2) -> Any:
    from holterlab.distributed.cluster import ProcessCluster

    return ProcessCluster(
        n_workers,
        nthreads=1,
        directory=directory,
        env={
            "PYTHONPATH": str(REPO),
            "HOLTERLAB_TEST_PIDDIR": str(piddir),
            "HOLTERLAB_TEST_SECONDS_PER_SIGNAL_S": str(SPEED),
            "DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": "1",
        },
        idle_timeout_s=300,
        death_timeout_s=20,
    )


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("dask-server")


@pytest.fixture(scope="module")
def piddir(root: Path) -> Path:
    d = root / "pids"
    d.mkdir()
    return d


@pytest.fixture(scope="module")
def cluster(root: Path, piddir: Path, request: pytest.FixtureRequest) -> Any:
    c = _cluster(root / "cluster", piddir)
    request.addfinalizer(c.close)
    return c.start()


@pytest.fixture
def two_workers(cluster: Any) -> Any:
    """The cluster with two live workers (replacing any a previous test killed)."""
    while len(cluster.alive_workers()) < 2:
        cluster.add_worker(wait=False)
    cluster.settle()
    return cluster


def _server(root: Path, name: str, config: dict[str, Any], piddir: Path) -> ServerProcess:
    data = root / name
    data.mkdir(parents=True, exist_ok=True)
    return ServerProcess(data, config, piddir, seconds_per_signal_s=SPEED)


@pytest.fixture(scope="module")
def stub(root: Path, piddir: Path, cluster: Any) -> Any:
    """A Dask server with the stand-in runner and renderer; yields (server, api key)."""
    srv = _server(root, "stub", {**TEST_CONFIG, "dask_scheduler": cluster.address}, piddir)
    key = create_key(srv.data_dir, "alice")["api_key"]
    srv.start()
    try:
        yield srv, key
    finally:
        srv.stop()


@pytest.fixture
def api(stub: Any, two_workers: Any) -> Any:
    srv, key = stub
    a = Api(srv.url, key)
    yield a
    a.close()


@pytest.fixture(scope="module")
def recordings(root: Path) -> dict[str, Path]:
    d = root / "recordings"
    d.mkdir()
    return {
        "short": write_aiecg(d / "short.aiecg"),  # 20 s of signal: ~0.04 s of work
        "medium": write_aiecg(d / "medium.aiecg", seconds=3000, fs=25, leads=("I",)),  # ~6 s
        "long": write_aiecg(d / "long.aiecg", seconds=18000, fs=25, leads=("I",)),  # ~36 s
    }


def ticks(piddir: Path, task_id: str) -> int:
    path = piddir / f"{task_id}.ticks"
    return len(path.read_text().splitlines()) if path.exists() else 0


def worker_pid(piddir: Path, task_id: str, other_than: int | None = None) -> int:
    """The pid of the Dask worker process running the task (written by the runner)."""
    pidfile = piddir / f"{task_id}.pid"

    def pid() -> int | None:
        text = pidfile.read_text().strip() if pidfile.exists() else ""
        return int(text) if text and int(text) != other_than else None

    return wait_until(pid, timeout=30)


def kill_worker_running(cluster: Any, pid: int) -> None:
    index = [p.pid for p in cluster.alive_workers()].index(pid)
    cluster.kill_worker(index)


def ticks_stopped(piddir: Path, task_id: str) -> int:
    """Wait until the tick count stays still for 1.5 s; return it."""
    last = [-1]

    def still() -> int | None:
        n = ticks(piddir, task_id)
        if n == last[0]:
            return n if n > 0 else None
        last[0] = n
        return None

    return wait_until(still, timeout=20, interval=1.5)


# ------------------------------------------------------------------------------ tests
def test_progress_streams_back_and_cancel_stops_the_dask_task(api, stub, recordings, piddir):
    srv, _key = stub
    receiver = Receiver()
    try:
        task_id = api.uploaded(recordings["long"])
        assert api.submit(task_id, callback_url=receiver.url).status_code == 200
        # real progress from the Dask worker, by stage, while processing
        seen: list[tuple[float, str]] = []

        def moving() -> bool:
            st = api.status(task_id)
            if st["status"] == "processing" and 5 < st["progress"] < 90:
                seen.append((st["progress"], st["stage"]))
            return len({p for p, _ in seen}) >= 3

        wait_until(moving, timeout=30, interval=0.1)
        assert all(stage in ("beats", "rhythm") for _, stage in seen)
        assert [p for p, _ in seen] == sorted(p for p, _ in seen)
        assert ticks(piddir, task_id) >= 2
        # cancel: the computation on the worker really stops, the task ends cancelled
        r = api.http.post(f"/cancel/{task_id}")
        assert r.status_code == 200 and r.json()["data"]["status"] == "cancelled"
        n = ticks_stopped(piddir, task_id)
        assert n < 360  # far from the ~720 steps of the whole analysis
        st = api.status(task_id)
        assert st["status"] == "cancelled" and not st["result_available"]
        assert not (srv.data_dir / "results" / f"{task_id}.json").exists()
        progress = [
            e["payload"]
            for e in receiver.events(task_id)
            if e["payload"]["event"] == "task.progress"
        ]
        assert progress and all(0 < p["progress"] < 100 for p in progress)
    finally:
        receiver.close()
    # both workers are free again: two short tasks complete at once
    ids = [api.uploaded(recordings["short"]) for _ in range(2)]
    for tid in ids:
        assert api.submit(tid).status_code == 200
    for tid in ids:
        st = api.wait(tid, timeout=30)
        assert st["status"] == "completed", st
        assert st["report_available"] is True


def test_a_killed_worker_is_replaced_and_the_task_completes(api, stub, cluster, recordings, piddir):
    srv, _key = stub
    task_id = api.uploaded(recordings["medium"])
    assert api.submit(task_id).status_code == 200
    pid = worker_pid(piddir, task_id)
    wait_until(lambda: ticks(piddir, task_id) >= 2, timeout=30)
    kill_worker_running(cluster, pid)
    st = api.wait(task_id, timeout=60)
    assert st["status"] == "completed", st
    assert worker_pid(piddir, task_id) != pid  # it ran again on the other worker
    result = json.loads((srv.data_dir / "results" / f"{task_id}.json").read_text())
    assert result["beats"]["total"] == 3000  # one beat per second of the 50 minutes
    assert (srv.data_dir / "reports" / f"{task_id}.pdf").read_bytes()[:4] == b"%PDF"


def test_a_task_whose_workers_keep_dying_fails_worker_died(api, cluster, recordings, piddir):
    task_id = api.uploaded(recordings["long"])
    assert api.submit(task_id).status_code == 200
    first = worker_pid(piddir, task_id)
    wait_until(lambda: ticks(piddir, task_id) >= 2, timeout=30)
    kill_worker_running(cluster, first)
    second = worker_pid(piddir, task_id, other_than=first)
    kill_worker_running(cluster, second)  # a second death: over allowed-failures=1
    st = api.wait(task_id, timeout=30)
    assert st["status"] == "failed", st
    assert st["error"]["code"] == "WORKER_DIED" and "died" in st["error"]["message"]


def test_server_killed_mid_task_requeues_it_and_the_orphan_stops(
    root, piddir, cluster, two_workers, recordings
):
    srv = _server(root, "restart", {**TEST_CONFIG, "dask_scheduler": cluster.address}, piddir)
    key = create_key(srv.data_dir, "alice")["api_key"]
    srv.start()
    try:
        api = Api(srv.url, key)
        task_id = api.uploaded(recordings["medium"])
        assert api.submit(task_id).status_code == 200
        wait_until(lambda: ticks(piddir, task_id) >= 2, timeout=30)
        srv.kill()  # no goodbye: the scheduler drops its futures, the worker stops the task
        n = ticks_stopped(piddir, task_id)
        assert n < 100  # of 120 steps
        task = srv.store().get_task(task_id)
        assert task["status"] == "processing" and task["attempts"] == 1
        (piddir / f"{task_id}.ticks").unlink()
        srv.start()  # the restart re-queues it, and it runs again to the end
        api.close()
        api = Api(srv.url, key)
        st = api.wait(task_id, timeout=90)
        assert st["status"] == "completed", st
        assert srv.store().get_task(task_id)["attempts"] == 2
        assert ticks(piddir, task_id) >= 120  # the whole analysis ran again
        api.close()
    finally:
        srv.stop()


def test_lost_scheduler_fails_running_tasks_clearly(root, recordings, tmp_path):
    piddir = tmp_path / "pids"
    piddir.mkdir()
    lone = _cluster(tmp_path / "cluster", piddir, n_workers=1).start()
    srv = _server(
        tmp_path,
        "lost",
        {**TEST_CONFIG, "dask_scheduler": lone.address, "max_attempts": 1},
        piddir,
    )
    key = create_key(srv.data_dir, "alice")["api_key"]
    try:
        srv.start()
        api = Api(srv.url, key)
        task_id = api.uploaded(recordings["long"])
        assert api.submit(task_id).status_code == 200
        wait_until(lambda: ticks(piddir, task_id) >= 2, timeout=30)
        lone._stop([lone.scheduler])  # the scheduler goes away mid-task
        st = api.wait(task_id, timeout=30)
        assert st["status"] == "failed", st
        assert st["error"]["code"] == "WORKER_DIED"
        assert "connection to the Dask scheduler was lost" in st["error"]["message"]
        # the server still answers, and new work waits in the queue (never "processing")
        other = api.uploaded(recordings["short"])
        assert api.submit(other).status_code == 200
        time.sleep(1.0)
        assert api.status(other)["status"] == "queued"
        api.close()
    finally:
        srv.stop()
        lone.close()


def test_unreachable_scheduler_is_a_one_line_error(tmp_path):
    dead = f"tcp://127.0.0.1:{free_port()}"
    argv = [sys.executable, "-m", "holterlab", "serve", "--data-dir", str(tmp_path / "d")]
    argv += ["--port", str(free_port()), "--dask-scheduler", dead]
    proc = subprocess.run(
        argv,
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("holterlab: error:") and dead in lines[0]
    assert "Traceback" not in proc.stderr


# ------------------------------------------------------------------------------ the real pipeline
def _normalised(result: dict[str, Any]) -> dict[str, Any]:
    """The result without what names the server's copy of the file."""
    out = json.loads(json.dumps(result))
    out["recording"].pop("path", None)
    return out


@pytest.mark.slow
def test_real_pipeline_on_dask_equals_local(root, piddir, cluster, two_workers):
    pytest.importorskip("holterlab.pipeline")
    from holterlab.client import HolterClient
    from holterlab.params.synth import SynthParams
    from holterlab.synth import generate

    made = generate(
        root / "synth" / "dense.aiecg", hours=2.5 / 60, seed=5, params=SynthParams.preset("dense")
    )
    common = {"workers": 1, "allow_loopback_callbacks": True, "progress_webhook_interval_s": 0.1}
    on_dask = _server(root, "real-dask", {**common, "dask_scheduler": cluster.address}, piddir)
    local = _server(
        root, "real-local", {**common, "report_runner": "tests.server.runner:render_report"}, piddir
    )
    keys = [create_key(s.data_dir, "real")["api_key"] for s in (on_dask, local)]
    receiver = Receiver()
    runs: dict[str, Any] = {}
    try:
        for name, srv, key in (("dask", on_dask, keys[0]), ("local", local, keys[1])):
            srv.start()
            with HolterClient(srv.url, key) as client:
                runs[name] = client.analyze_file(
                    made.path,
                    poll_interval=0.2,
                    timeout=400,
                    progress=False,
                    callback_url=receiver.url if name == "dask" else None,
                    report_path=root / f"{name}.pdf",
                    patient_info={"id": "SYN-5"},
                )
            srv.stop()
    finally:
        receiver.close()
        on_dask.stop()
        local.stop()
    dask_run, local_run = runs["dask"], runs["local"]
    assert dask_run.result["beats"]["total"] > 100
    assert _normalised(dask_run.result) == _normalised(local_run.result)
    assert dask_run.status["report_available"] is True
    assert (root / "dask.pdf").read_bytes()[:4] == b"%PDF"
    assert (root / "dask.pdf").stat().st_size > 10_000  # the real report, not the stand-in
    # the stored files are those of the local path (same names, same JSON layout)
    task_id = dask_run.task_id
    stored = on_dask.data_dir / "results"
    assert sorted(p.name for p in stored.iterdir()) == [f"{task_id}.beats.json", f"{task_id}.json"]
    # progress came back from the Dask worker by stage
    progress = [
        e["payload"] for e in receiver.events(task_id) if e["payload"]["event"] == "task.progress"
    ]
    from holterlab.pipeline import STAGES

    assert any(0 < p["progress"] < 100 for p in progress)
    stages = {p["stage"] for p in progress}
    assert stages & set(STAGES)  # the pipeline's own stage names
    assert stages <= set(STAGES) | {"loading", "analysis", "report"}


def test_a_task_over_the_time_limit_is_stopped_on_the_worker(root, piddir, cluster, recordings):
    config = {**TEST_CONFIG, "dask_scheduler": cluster.address, "task_timeout_s": 1.5}
    srv = _server(root, "timeout", config, piddir)
    key = create_key(srv.data_dir, "alice")["api_key"]
    srv.start()
    try:
        api = Api(srv.url, key)
        task_id = api.uploaded(recordings["long"])
        assert api.submit(task_id).status_code == 200
        st = api.wait(task_id, timeout=30)
        assert st["status"] == "failed" and st["error"]["code"] == "TIMEOUT", st
        assert ticks_stopped(piddir, task_id) < 360
        api.close()
    finally:
        srv.stop()


# ------------------------------------------------------------------------------ units
class _FakeEvent:
    def __init__(self, fail: bool = False) -> None:
        self.flag = threading.Event()
        self.fail = fail

    def wait(self, timeout: float) -> bool:
        if self.fail:
            raise OSError("the scheduler is away")
        return self.flag.wait(timeout)


class _FakeWorker:
    def __init__(self, key: str) -> None:
        self.state = types.SimpleNamespace(tasks={key: types.SimpleNamespace(state="executing")})


def _watch(event: Any, worker: Any) -> tuple[threading.Event, threading.Event, threading.Thread]:
    from holterlab.distributed.executor import watch_cancel

    cancel, done = threading.Event(), threading.Event()
    t = threading.Thread(target=watch_cancel, args=(event, worker, "k", cancel, done))
    t.start()
    return cancel, done, t


@pytest.mark.parametrize("how", ["event", "dropped", "released", "event_broken"])
def test_the_worker_side_watcher_sets_the_cancel_flag(how):
    event = _FakeEvent(fail=how == "event_broken")
    worker = _FakeWorker("k")
    cancel, done, t = _watch(event, worker)
    assert not cancel.wait(0.3)  # nothing asked: the analysis goes on
    if how == "event":
        event.flag.set()
    elif how == "released":
        del worker.state.tasks["k"]
    else:  # the worker was told to drop the key (future cancelled, or the server went away)
        worker.state.tasks["k"].state = "cancelled"
    assert cancel.wait(5)
    t.join(5)
    assert not t.is_alive()


def test_the_worker_side_watcher_ends_with_the_task():
    cancel, done, t = _watch(_FakeEvent(), _FakeWorker("k"))
    done.set()
    t.join(5)
    assert not t.is_alive() and not cancel.is_set()
