"""Cancel, crashes, timeouts, restarts and webhook retries: nothing lost, nothing hangs."""

from __future__ import annotations

import json

import psutil
import pytest

from holterlab.client import verify_webhook
from tests.server.conftest import (
    TEST_CONFIG,
    Api,
    Receiver,
    ServerProcess,
    create_key,
    wait_until,
)


def pid_gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def worker_pid(server: ServerProcess, task_id: str) -> int:
    pidfile = server.piddir / f"{task_id}.pid"
    wait_until(lambda: pidfile.exists() and pidfile.read_text().strip(), timeout=20)
    return int(pidfile.read_text())


def ticks(server: ServerProcess, task_id: str) -> int:
    path = server.piddir / f"{task_id}.ticks"
    return len(path.read_text().splitlines()) if path.exists() else 0


@pytest.mark.parametrize("which", ["long", "stubborn"])
def test_cancel_stops_the_worker_process(server, api, recordings, receiver, which):
    """Cooperative cancel (the runner polls cancel) and a runner that ignores it (killed)."""
    task_id = api.uploaded(recordings[which])
    assert api.submit(task_id, callback_url=receiver.url).status_code == 200
    pid = worker_pid(server, task_id)
    wait_until(lambda: ticks(server, task_id) >= 2)
    assert psutil.pid_exists(pid) and not pid_gone(pid)
    r = api.http.post(f"/cancel/{task_id}")
    assert r.status_code == 200 and r.json()["data"]["status"] == "cancelled"
    wait_until(lambda: pid_gone(pid), timeout=10)  # the computation really stopped
    n = ticks(server, task_id)
    assert n < 200  # far from the ~720 steps of the whole analysis
    st = api.status(task_id)
    assert st["status"] == "cancelled" and not st["result_available"]
    events = wait_until(
        lambda: [e for e in receiver.events(task_id) if e["payload"]["event"] == "task.cancelled"]
    )
    assert events[0]["payload"]["status"] == "cancelled"
    assert not (server.data_dir / "results" / f"{task_id}.json").exists()


def test_cancel_before_submit_never_runs_it(server, api, recordings):
    task_id = api.uploaded(recordings["short"])
    assert api.http.post(f"/cancel/{task_id}").status_code == 200
    assert api.status(task_id)["status"] == "cancelled"
    assert not (server.piddir / f"{task_id}.pid").exists()


def test_worker_crash_is_retried_once_then_fails(server, api, recordings, receiver):
    task_id = api.uploaded(recordings["crash"])
    api.submit(task_id, callback_url=receiver.url)
    st = api.wait(task_id)
    assert st["status"] == "failed"
    assert st["error"]["code"] == "WORKER_DIED"
    assert "exit code 3" in st["error"]["message"] and "2 attempt" in st["error"]["message"]
    failed = wait_until(
        lambda: [e for e in receiver.events(task_id) if e["payload"]["event"] == "task.failed"]
    )
    assert failed[0]["payload"]["data"]["error"]["code"] == "WORKER_DIED"


def test_analysis_bug_fails_cleanly_without_trace(server, api, recordings):
    task_id = api.uploaded(recordings["boom"])
    api.submit(task_id)
    st = api.wait(task_id)
    assert st["status"] == "failed" and st["error"]["code"] == "INTERNAL_ERROR"
    text = json.dumps(st)
    assert "Traceback" not in text and "/secret/path" not in text and "token=abc" not in text
    assert "RuntimeError" in server.log.read_text()  # the operator sees it in the log


def test_analysis_error_message_reaches_the_client(server, keys, recordings):
    from holterlab.client import HolterClient
    from holterlab.client.errors import TaskFailedError

    with HolterClient(server.url, keys["alice"]["api_key"]) as client:
        with pytest.raises(TaskFailedError) as exc:
            client.analyze_file(recordings["bad"], poll_interval=0.05, timeout=30, progress=False)
    assert exc.value.code == "ANALYSIS_FAILED"
    assert "flat" in exc.value.message and exc.value.task_id


def test_webhook_retried_after_receiver_error(server, api, recordings, keys):
    receiver = Receiver(fail_first=2)
    try:
        task_id = api.uploaded(recordings["short"])
        api.submit(task_id, callback_url=receiver.url)
        api.wait(task_id)
        done = wait_until(
            lambda: [
                e for e in receiver.events(task_id) if e["payload"]["event"] == "task.completed"
            ],
            timeout=20,
        )
        dlv = done[0]["headers"]["X-Holter-Delivery"]
        attempts = [
            e
            for e in receiver.events(task_id, ok_only=False)
            if e["headers"]["X-Holter-Delivery"] == dlv
        ]
        assert [a["status"] for a in attempts] == [500, 500, 200]
        # the same body each time, each attempt signed with its own timestamp
        assert len({a["body"] for a in attempts}) == 1
        for a in attempts:
            verify_webhook(a["body"], a["headers"], keys["alice"]["webhook_secret"])
        rows = {r["id"]: r for r in server.store().deliveries(task_id)}
        assert rows[dlv]["state"] == "delivered" and rows[dlv]["attempts"] == 3
    finally:
        receiver.close()


# --------------------------------------------------------------------- own servers
@pytest.fixture
def own_server(tmp_path):
    servers = []

    def make(**overrides):
        data = tmp_path / f"data{len(servers)}"
        key = create_key(data, "k")
        srv = ServerProcess(
            data, {**TEST_CONFIG, **overrides}, tmp_path / "pids", seconds_per_signal_s=0.001
        )
        servers.append(srv)
        return srv.start(), key

    yield make
    for srv in servers:
        srv.stop()


def test_server_killed_mid_task_resumes_and_keeps_webhooks(own_server, recordings):
    """SIGKILL the server while a task runs and deliveries are pending; restart it."""
    receiver = Receiver()
    receiver.fail_all = True
    srv, key = own_server(
        webhook_backoff_s=0.3, webhook_backoff_max_s=1.0, webhook_max_attempts=100
    )
    api = Api(srv.url, key["api_key"])
    try:
        task_id = api.uploaded(recordings["medium"])  # ~3 s of work at this server's speed
        api.submit(task_id, callback_url=receiver.url)
        pid = worker_pid(srv, task_id)
        wait_until(lambda: api.status(task_id)["progress"] > 5, timeout=20, interval=0.02)
        queued = wait_until(lambda: receiver.events(task_id, ok_only=False))
        queued_id = queued[0]["headers"]["X-Holter-Delivery"]
        srv.kill()  # SIGKILL: no shutdown code runs
        wait_until(lambda: pid_gone(pid), timeout=10)  # the orphaned worker stops by itself
        store = srv.store()
        assert store.get_task(task_id)["status"] == "processing"
        pending = [d for d in store.deliveries(task_id) if d["state"] == "pending"]
        assert any(d["id"] == queued_id for d in pending)

        receiver.fail_all = False
        srv.start()  # same data folder, a new port
        api.close()
        api = Api(srv.url, key["api_key"])
        st = api.wait(task_id, timeout=60)
        assert st["status"] == "completed", st
        delivered = wait_until(
            lambda: (
                (ev := receiver.events(task_id))
                and any(e["payload"]["event"] == "task.completed" for e in ev)
                and ev
            ),
            timeout=20,
        )
        ids = [e["headers"]["X-Holter-Delivery"] for e in delivered]
        assert queued_id in ids  # the delivery pending at the kill arrived after the restart
        assert store.get_task(task_id)["attempts"] == 2
        r = api.http.get(f"/result/{task_id}")
        assert r.status_code == 200 and r.json()["data"]["beats"]["total"] > 0
    finally:
        api.close()
        receiver.close()


def test_timeout_and_missing_report_renderer(own_server, recordings):
    srv, key = own_server(task_timeout_s=1.5, report_runner="tests.server.runner:no_such")
    api = Api(srv.url, key["api_key"])
    try:
        slow = api.uploaded(recordings["long"])
        quick = api.uploaded(recordings["short"])
        api.submit(slow)
        api.submit(quick)
        st = api.wait(slow, timeout=30)
        assert st["status"] == "failed" and st["error"]["code"] == "TIMEOUT"
        pid = int((srv.piddir / f"{slow}.pid").read_text())
        wait_until(lambda: pid_gone(pid), timeout=10)
        st = api.wait(quick, timeout=30)
        assert st["status"] == "completed" and st["report_available"] is False
        r = api.http.get(f"/report/{quick}")
        assert r.status_code == 409 and r.json()["error"]["code"] == "TASK_NOT_COMPLETED"
        assert "renderer is unavailable" in r.json()["error"]["message"]
        assert api.http.get(f"/result/{quick}").status_code == 200
    finally:
        api.close()


def test_graceful_restart_requeues_running_tasks(own_server, recordings):
    srv, key = own_server()
    api = Api(srv.url, key["api_key"])
    try:
        task_id = api.uploaded(recordings["medium"])
        api.submit(task_id)
        worker_pid(srv, task_id)
        srv.stop()  # SIGTERM: the running task goes back to the queue
        row = srv.store().get_task(task_id)
        assert row["status"] == "queued" and row["attempts"] == 0
        srv.start()
        api.close()
        api = Api(srv.url, key["api_key"])
        assert api.wait(task_id, timeout=60)["status"] == "completed"
    finally:
        api.close()
