"""The contract's exact shapes over real HTTP: field names and types, content types, headers,
timestamps, request typing, authorisation before validation, webhook wire format."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import time

import httpx
import numpy as np
import pytest

from tests.server.conftest import PREFIX, TEST_CONFIG, Api, md5, wait_until
from tests.server.test_errors import error_of

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$")
STATUS_FIELDS = {
    "task_id",
    "status",
    "progress",
    "stage",
    "created_at",
    "uploaded_at",
    "submitted_at",
    "started_at",
    "finished_at",
    "error",
    "result_available",
    "report_available",
}
STAMPS = ("created_at", "uploaded_at", "submitted_at", "started_at", "finished_at")


def parse_iso(text: str) -> float:
    assert ISO_UTC.match(text), text
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def check_status(data: dict) -> None:
    assert set(data) == STATUS_FIELDS
    assert isinstance(data["progress"], int) and 0 <= data["progress"] <= 100
    assert isinstance(data["result_available"], bool)
    assert isinstance(data["report_available"], bool)
    for name in STAMPS:
        assert data[name] is None or ISO_UTC.match(data[name]), (name, data[name])
    assert data["error"] is None or set(data["error"]) == {"code", "message"}


# ------------------------------------------------------------------------------ upload-url
def test_upload_url_answer_has_the_published_shape(api, recordings):
    before = time.time()
    r = api.upload_url(recordings["short"])
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    body = r.json()
    assert set(body) == {"status", "data"} and body["status"] == "success"
    data = body["data"]
    assert set(data) == {
        "task_id",
        "upload_url",
        "upload_method",
        "upload_headers",
        "expires_at",
        "max_file_size",
    }
    assert re.fullmatch(r"holter_task_[0-9a-f]{24}", data["task_id"])
    url = httpx.URL(data["upload_url"])
    assert data["task_id"] in url.path and url.params["signature"]
    assert data["upload_method"] == "PUT"
    assert data["upload_headers"] == {"Content-Type": "application/octet-stream"}
    assert data["max_file_size"] == TEST_CONFIG["max_file_size"]
    expires = parse_iso(data["expires_at"])
    assert before + 3600 - 5 <= expires <= time.time() + 3600 + 5  # the default TTL
    assert int(url.params["expires"]) == round(expires)

    # one PUT of the raw bytes with upload_headers; the answer reports size and MD5
    content = recordings["short"].read_bytes()
    r = httpx.request(
        data["upload_method"],
        data["upload_url"],
        content=content,
        headers=data["upload_headers"],
        timeout=30,
    )
    assert r.status_code == 200, r.text
    assert r.json()["data"] == {
        "task_id": data["task_id"],
        "status": "uploaded",
        "file_size": len(content),
        "checksum": md5(recordings["short"]),
    }


def test_upload_without_checksum_is_accepted(api, recordings):
    r = api.upload_url(recordings["short"], checksum=None)
    assert r.status_code == 200, r.text
    data = r.json()["data"]
    r = api.put(data["upload_url"], recordings["short"].read_bytes())
    assert r.status_code == 200 and r.json()["data"]["checksum"] == md5(recordings["short"])


@pytest.mark.parametrize(
    "fields",
    [
        {"file_size": True},
        {"file_size": "10"},
        {"file_size": 10.5},
        {"file_size": 10, "duration_hours": True},
        {"file_size": 10, "duration_hours": "24"},
        {"file_size": 10, "filename": 123},
        {"file_size": 10, "duration_hours": 0},
        {"file_size": 0},
    ],
)
def test_upload_url_fields_have_their_types(api, fields):
    err = error_of(api.upload_url(**fields), 400, "INVALID_PARAMETER")
    assert any(e["field"] in fields for e in err["details"]["errors"])


def test_upload_url_accepts_whole_hours(api):
    assert api.upload_url(file_size=10, duration_hours=24).status_code == 200


# ------------------------------------------------------------------------------ auth first
def test_a_request_without_a_valid_key_gets_401_even_with_a_broken_body(server, keys):
    broken = {"content": b"{not json", "headers": {"Content-Type": "application/json"}}
    for auth in ({}, {"Authorization": "Bearer hlk_nothing_nothing"}, {"Authorization": "Basic x"}):
        for path in ("/upload-url", "/submit"):
            r = httpx.post(
                server.url + PREFIX + path,
                content=broken["content"],
                headers={**broken["headers"], **auth},
                timeout=30,
            )
            err = error_of(r, 401, "UNAUTHORIZED")
            assert r.headers["WWW-Authenticate"] == "Bearer"
            assert err["details"] == {}  # nothing about the request's body
    # with a valid key the same body is a 400 naming the problem
    r = httpx.post(
        server.url + PREFIX + "/upload-url",
        content=broken["content"],
        headers={**broken["headers"], "Authorization": f"Bearer {keys['alice']['api_key']}"},
        timeout=30,
    )
    assert error_of(r, 400, "INVALID_PARAMETER")["details"]["errors"]
    # the pre-signed upload needs no key: its own validation errors stay 400
    r = httpx.put(server.url + PREFIX + "/upload/holter_task_" + "0" * 24, content=b"x")
    error_of(r, 400, "INVALID_PARAMETER")


# ------------------------------------------------------------------------------ status
def test_status_fields_types_and_timestamps(api, recordings):
    data = api.upload_url(recordings["short"]).json()["data"]
    st = api.status(data["task_id"])
    check_status(st)
    assert st["status"] == "pending_upload" and st["progress"] == 0 and st["error"] is None
    assert st["created_at"] and all(st[s] is None for s in STAMPS[1:])
    assert not st["result_available"] and not st["report_available"]
    api.put(data["upload_url"], recordings["short"].read_bytes())
    st = api.status(data["task_id"])
    check_status(st)
    assert st["status"] == "uploaded" and st["uploaded_at"] and st["submitted_at"] is None
    assert parse_iso(st["created_at"]) <= parse_iso(st["uploaded_at"]) <= time.time() + 1
    r = api.submit(data["task_id"])
    assert r.status_code == 200
    check_status(r.json()["data"])
    assert r.json()["data"]["status"] == "queued"
    final = api.wait(data["task_id"])
    check_status(final)
    assert final["status"] == "completed" and final["progress"] == 100
    stamps = [parse_iso(final[s]) for s in STAMPS]
    assert stamps == sorted(stamps)


def test_failed_status_carries_the_error(api, recordings):
    task_id = api.uploaded(recordings["bad"])
    api.submit(task_id)
    st = api.wait(task_id)
    check_status(st)
    assert st["status"] == "failed" and st["finished_at"]
    assert st["error"]["code"] == "ANALYSIS_FAILED" and "flat" in st["error"]["message"]
    assert not st["result_available"] and not st["report_available"]


# ------------------------------------------------------------------------------ result, report
def test_result_and_report_content(api, recordings):
    task_id = api.uploaded(recordings["short"])
    api.submit(task_id)
    assert api.wait(task_id)["status"] == "completed"
    r = api.http.get(f"/result/{task_id}")
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    plain = r.json()
    assert plain["status"] == "success" and "beat_list" not in plain["data"]
    assert plain["data"]["schema_version"]
    r = api.http.get(f"/result/{task_id}", params={"include": "beats"})
    full = r.json()["data"]
    beats = full.pop("beat_list")
    assert full == plain["data"]  # beats only add the columnar list
    assert isinstance(beats["time_s"], list) and isinstance(beats["label"], list)
    assert len(beats["time_s"]) == len(beats["label"]) == plain["data"]["beats"]["total"]
    assert beats["time_s"] == sorted(beats["time_s"])
    r = api.http.get(f"/report/{task_id}")
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/pdf"
    assert r.content.startswith(b"%PDF")


# ------------------------------------------------------------------------------ cancel
def test_cancel_of_failed_or_expired_task_is_409(server, api, recordings):
    task_id = api.uploaded(recordings["bad"])
    api.submit(task_id)
    assert api.wait(task_id)["status"] == "failed"
    err = error_of(api.http.post(f"/cancel/{task_id}"), 409, "INVALID_TASK_STATE")
    assert err["details"]["status"] == "failed"
    assert api.status(task_id)["status"] == "failed"
    lapsed = api.upload_url(file_size=10).json()["data"]["task_id"]
    server.store().update_task(lapsed, upload_expires=time.time() - 1)
    err = error_of(api.http.post(f"/cancel/{lapsed}"), 409, "INVALID_TASK_STATE")
    assert err["details"]["status"] == "expired"


# ------------------------------------------------------------------------------ recording_info
@pytest.fixture
def csv_task(api, tmp_path):
    fs = 100
    t = np.arange(20 * fs) / fs
    x = np.sin(np.pi * 1.2 * t) ** 64
    path = tmp_path / "two.csv"
    np.savetxt(path, np.stack([x * 200 + 1000, x * 100 + 1000], axis=1), fmt="%.1f", delimiter=",")
    return api.uploaded(path, file_format="csv")


@pytest.mark.parametrize(
    ("info", "field"),
    [
        ({"adc_gain": [200, 100, 50]}, "adc_gain"),
        ({"adc_gain": [200, 100], "adc_zero": [1, 2, 3]}, "adc_zero"),
        ({"adc_gain": 0}, "adc_gain"),
        ({"start_time": "yesterday"}, "start_time"),
    ],
)
def test_bad_recording_info_is_invalid_parameter(api, csv_task, info, field):
    """A request value that does not fit is the request's fault (400), not the file's (422)."""
    r = api.submit(csv_task, recording_info={"sampling_rate": 100, **info})
    err = error_of(r, 400, "INVALID_PARAMETER")
    assert field in err["message"]
    assert api.status(csv_task)["status"] == "uploaded"  # it can be submitted again


def test_valid_recording_info_is_accepted(api, csv_task):
    info = {
        "sampling_rate": 100,
        "adc_gain": [200, 100],
        "adc_zero": 1000,
        "start_time": "2026-01-05T08:30:00Z",
    }
    assert api.submit(csv_task, recording_info=info).status_code == 200
    assert api.wait(csv_task)["status"] == "completed"
    res = api.http.get(f"/result/{csv_task}").json()["data"]
    assert res["recording"]["fs"] == 100 and res["beats"]["total"] == 20


# ------------------------------------------------------------------------------ webhooks
def test_webhook_wire_format(api, keys, recordings, receiver):
    task_id = api.uploaded(recordings["short"])
    api.submit(task_id, callback_url=receiver.url)
    api.wait(task_id)
    events = wait_until(
        lambda: (
            (ev := receiver.events(task_id))
            and ev[-1]["payload"]["event"] == "task.completed"
            and ev
        )
    )
    secret = keys["alice"]["webhook_secret"].encode()
    for e in events:
        headers = {k.lower(): v for k, v in e["headers"].items()}
        assert headers["content-type"] == "application/json"
        stamp = headers["x-holter-timestamp"]
        assert stamp.isdigit() and abs(int(stamp) - time.time()) < 120
        mac = hmac.new(secret, stamp.encode() + b"." + e["body"], hashlib.sha256).hexdigest()
        assert headers["x-holter-signature"] == f"sha256={mac}"
        assert headers["x-holter-delivery"]
        payload = json.loads(e["body"])
        assert headers["x-holter-event"] == payload["event"]
        assert payload["event"] in {"task.queued", "task.progress", "task.completed"}
        assert ISO_UTC.match(payload["timestamp"])
        assert isinstance(payload["progress"], int) and isinstance(payload["data"], dict)
    assert len({e["headers"]["X-Holter-Delivery"] for e in events}) == len(events)


def test_every_endpoint_needs_a_key(server):
    anon = Api(server.url, None)
    tid = "holter_task_" + "0" * 24
    calls = [
        anon.http.post("/upload-url", json={}),
        anon.http.post("/submit", json={"task_id": tid}),
        anon.http.get(f"/status/{tid}"),
        anon.http.get(f"/result/{tid}"),
        anon.http.get(f"/report/{tid}"),
        anon.http.post(f"/cancel/{tid}"),
    ]
    for r in calls:
        error_of(r, 401, "UNAUTHORIZED")
    anon.close()
