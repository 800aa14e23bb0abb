"""The whole flow against a real server: client (sync, async), webhooks, formats, isolation."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import numpy as np
import pytest

from holterlab.client import AsyncHolterClient, HolterClient, verify_webhook
from holterlab.client.errors import TaskNotFoundError
from holterlab.result import SCHEMA_VERSION
from tests.server.conftest import Api, wait_until


def test_analyze_file_with_webhooks(server, keys, recordings, receiver, tmp_path):
    key = keys["alice"]
    pdf = tmp_path / "short.pdf"
    with HolterClient(server.url, key["api_key"], backoff=0.05) as client:
        run = client.analyze_file(
            recordings["short"],
            patient_info={"id": "P-17", "age": 61, "sex": "F"},
            callback_url=receiver.url,
            poll_interval=0.05,
            timeout=30,
            progress=False,
            report_path=pdf,
        )
    assert run.status["status"] == "completed"
    assert run.status["progress"] == 100 and run.status["result_available"]
    for stamp in ("created_at", "uploaded_at", "submitted_at", "started_at", "finished_at"):
        assert run.status[stamp].endswith("Z")
    assert run.result["schema_version"] == SCHEMA_VERSION
    assert run.result["beats"]["total"] == 20
    beats = run.result["beat_list"]
    assert len(beats["sample"]) == len(beats["label"]) == len(beats["time_s"]) == 20
    assert run.holter_result().beats["total"] == 20
    assert pdf.read_bytes().startswith(b"%PDF") and b"patient=P-17" in pdf.read_bytes()

    # webhooks: queued, (progress), completed; every one signed; delivery ids unique
    events = wait_until(
        lambda: (
            (ev := receiver.events(run.task_id))
            and ev[-1]["payload"]["event"] == "task.completed"
            and ev
        )
    )
    names = [e["payload"]["event"] for e in events]
    assert names[0] == "task.queued" and names[-1] == "task.completed"
    ids = [e["headers"]["X-Holter-Delivery"] for e in events]
    assert len(set(ids)) == len(ids)
    for e in events:
        payload = verify_webhook(e["body"], e["headers"], key["webhook_secret"])
        assert payload["task_id"] == run.task_id
        assert set(payload) == {
            "event",
            "task_id",
            "status",
            "progress",
            "stage",
            "timestamp",
            "data",
        }
        assert e["headers"]["X-Holter-Event"] == payload["event"]
    assert events[-1]["payload"]["data"] == {"result_available": True, "report_available": True}
    # another key's secret does not verify
    from holterlab.client.errors import WebhookVerificationError

    with pytest.raises(WebhookVerificationError):
        verify_webhook(events[0]["body"], events[0]["headers"], keys["bob"]["webhook_secret"])


def test_progress_is_reported_by_stage(server, api, recordings, receiver):
    # 1000 s of signal -> about 2 s of runner work, progress in two stages
    path = recordings["short"].parent / "medium.aiecg"
    if not path.exists():
        from tests.server.conftest import write_aiecg

        write_aiecg(path, seconds=1000, fs=50, leads=("I",))
    task_id = api.uploaded(path)
    assert api.submit(task_id, callback_url=receiver.url).status_code == 200
    seen = []

    def done() -> bool:
        s = api.status(task_id)
        seen.append((s["status"], s["stage"], s["progress"]))
        return s["status"] == "completed"

    wait_until(done, timeout=30, interval=0.05)
    stages = {stage for status, stage, _ in seen if status == "processing"}
    assert stages & {"beats", "rhythm"}, seen
    progress = [p for status, _, p in seen if status == "processing"]
    assert any(0 < p < 100 for p in progress)
    assert progress == sorted(progress)  # never goes backwards
    events = wait_until(
        lambda: (
            (ev := receiver.events(task_id))
            and ev[-1]["payload"]["event"] == "task.completed"
            and ev
        )
    )
    hooks = [e["payload"] for e in events if e["payload"]["event"] == "task.progress"]
    assert hooks and all(h["status"] == "processing" and h["stage"] for h in hooks)
    assert [h["progress"] for h in hooks] == sorted(h["progress"] for h in hooks)


def test_async_client(server, keys, recordings):
    async def go():
        async with AsyncHolterClient(server.url, keys["alice"]["api_key"]) as client:
            run = await client.analyze_file(
                recordings["short"], poll_interval=0.05, timeout=30, progress=False
            )
            status = await client.status(run.task_id)
            return run, status

    run, status = asyncio.run(go())
    assert status["status"] == "completed"
    assert run.result["beats"]["total"] == 20 and "beat_list" in run.result


def test_api_key_from_environment(server, keys, recordings, monkeypatch):
    monkeypatch.setenv("HOLTERLAB_API_KEY", keys["alice"]["api_key"])
    with HolterClient(server.url) as client:
        info = client.upload_url("x.aiecg", 10, "aiecg", 1.0)
        assert client.status(info["task_id"])["status"] == "pending_upload"


def test_idempotent_submit(server, api, recordings):
    task_id = api.uploaded(recordings["short"])
    try:
        from holterlab.params import AnalysisParams

        options = AnalysisParams().to_dict()  # the library's parameter object, as JSON
    except (ImportError, AttributeError):  # pragma: no cover - before the params land
        options = None
    body = {"analysis_options": options, "patient_info": {"id": "A", "age": 50}}
    r1 = api.submit(task_id, **body)
    r2 = api.submit(
        task_id, **{"patient_info": {"age": 50, "id": "A"}, "analysis_options": options}
    )
    assert r1.status_code == r2.status_code == 200
    assert r1.json()["data"]["task_id"] == r2.json()["data"]["task_id"] == task_id
    api.wait(task_id)
    assert api.submit(task_id, **body).status_code == 200  # still idempotent when done
    store = api.status(task_id)
    assert store["status"] == "completed"


def test_a_key_sees_only_its_tasks(server, keys, recordings):
    alice = Api(server.url, keys["alice"]["api_key"])
    task_id = alice.uploaded(recordings["short"])
    with HolterClient(server.url, keys["bob"]["api_key"]) as bob:
        for call in (bob.status, bob.cancel, bob.result):
            with pytest.raises(TaskNotFoundError) as exc:
                call(task_id)
            assert exc.value.code == "TASK_NOT_FOUND" and exc.value.http_status == 404
    assert alice.status(task_id)["status"] == "uploaded"
    alice.close()


def test_csv_upload_needs_recording_info(server, api, tmp_path):
    fs = 100
    t = np.arange(20 * fs) / fs
    x = np.sin(np.pi * 1.2 * t) ** 64
    path = tmp_path / "raw.csv"
    np.savetxt(path, np.stack([x * 200 + 1000, x * 100 + 1000], axis=1), fmt="%.1f", delimiter=",")
    task_id = api.uploaded(path, file_format="csv")
    r = api.submit(task_id)
    assert r.status_code == 422 and r.json()["error"]["code"] == "INVALID_ECG_FILE"
    assert "sampling_rate" in r.json()["error"]["message"]
    info = {"sampling_rate": fs, "lead_names": ["A", "B"], "adc_gain": [200, 100], "adc_zero": 1000}
    r = api.submit(task_id, recording_info=info)
    assert r.status_code == 200, r.text
    api.wait(task_id)
    res = api.http.get(f"/result/{task_id}").json()["data"]
    assert res["recording"]["leads"] == ["A", "B"] and res["recording"]["fs"] == fs
    assert res["beats"]["total"] == 20
    assert "beat_list" not in res


def test_wfdb_record_is_zipped_and_extracted(server, keys, tmp_path):
    import holterlab
    from holterlab.recording import Recording

    fs = 250
    t = np.arange(20 * fs) / fs
    x = (np.sin(np.pi * 1.2 * t) ** 64).astype(np.float32)
    folder = tmp_path / "rec"
    folder.mkdir()
    hea = holterlab.write(
        Recording.from_array(np.stack([x, x]), fs, ["MLII", "V5"]), folder / "r100.hea"
    )
    with HolterClient(server.url, keys["alice"]["api_key"]) as client:
        run = client.analyze_file(hea, poll_interval=0.05, timeout=30, progress=False)
    assert run.result["recording"]["leads"] == ["MLII", "V5"]
    assert run.result["beats"]["total"] == 20
    task_dir = server.data_dir / "uploads" / run.task_id
    assert (task_dir / "recording.zip").is_file()
    assert (task_dir / "record" / "r100.hea").is_file()


def test_remote_cli_writes_result_and_pdf(server, keys, recordings, tmp_path, capsys):
    from holterlab.cli import main

    rc = main(
        [
            "remote",
            "analyze",
            str(recordings["short"]),
            "--url",
            server.url,
            "--api-key",
            keys["alice"]["api_key"],
            "--out",
            str(tmp_path / "out"),
            "--poll-interval",
            "0.05",
            "--timeout",
            "30",
            "--no-progress",
        ]
    )
    assert rc == 0
    result = json.loads((tmp_path / "out" / "short.remote.result.json").read_text())
    assert result["beats"]["total"] == 20 and "beat_list" in result
    assert (tmp_path / "out" / "short.remote.report.pdf").read_bytes().startswith(b"%PDF")
    out = capsys.readouterr().out
    assert "holter_task_" in out


def test_remote_cli_reports_service_errors(server, keys, tmp_path, capsys):
    from holterlab.cli import main

    rc = main(
        [
            "remote",
            "status",
            "holter_task_" + "0" * 24,
            "--url",
            server.url,
            "--api-key",
            keys["alice"]["api_key"],
        ]
    )
    assert rc == 2
    assert "TASK_NOT_FOUND" in capsys.readouterr().err


def test_keys_cli_list_and_revoke(server, tmp_path, capsys):
    from holterlab.cli import main
    from tests.server.conftest import create_key

    key = create_key(server.data_dir, "temp")
    a = Api(server.url, key["api_key"])
    assert a.upload_url(file_size=10).status_code == 200
    assert main(["keys", "list", "--data-dir", str(server.data_dir), "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert key["key_id"] in {k["id"] for k in listed}
    assert all("hash" not in json.dumps(k) and "whsec" not in json.dumps(k) for k in listed)
    assert main(["keys", "revoke", key["key_id"], "--data-dir", str(server.data_dir)]) == 0
    r = a.upload_url(file_size=10)
    assert r.status_code == 401 and r.json()["error"]["code"] == "UNAUTHORIZED"
    a.close()
    # the database stores only hashes
    db = (server.data_dir / "holterlab.db").read_bytes()
    assert key["api_key"].encode() not in db


def test_openapi_describes_the_contract(server):
    import httpx

    spec = httpx.get(server.url + "/openapi.json").json()
    paths = spec["paths"]
    prefix = "/api/v1/advanced/ecg/holter"
    for path, method in [
        ("/upload-url", "post"),
        ("/submit", "post"),
        ("/status/{task_id}", "get"),
        ("/result/{task_id}", "get"),
        ("/report/{task_id}", "get"),
        ("/cancel/{task_id}", "post"),
        ("/upload/{task_id}", "put"),
    ]:
        assert method in paths[prefix + path], path
    assert "HTTPBearer" in json.dumps(spec["components"]["securitySchemes"])
    assert "422" in paths[prefix + "/submit"]["post"]["responses"]
    assert "503" in paths[prefix + "/submit"]["post"]["responses"]


def test_data_dir_layout(server):
    assert (server.data_dir / "holterlab.db").is_file()
    store = server.store()
    assert store.journal_mode() == "wal"
    assert (server.data_dir / "server.secret").stat().st_mode & 0o077 == 0
    assert (server.data_dir / "holterlab.db").stat().st_mode & 0o077 == 0
    assert Path(server.data_dir / "results").is_dir()
