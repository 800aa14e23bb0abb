"""Every error code of the contract's table, over real HTTP with raw httpx."""

from __future__ import annotations

import math
import time
from pathlib import Path

import httpx
import pytest

from holterlab.server.signing import sign_upload
from tests.server.conftest import PREFIX, Api, wait_until


def error_of(r: httpx.Response, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    body = r.json()
    assert body["status"] == "error"
    assert body["error"]["code"] == code
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    assert isinstance(body["error"]["details"], dict)
    return body["error"]


def secret_of(server) -> bytes:
    return bytes.fromhex((server.data_dir / "server.secret").read_text().strip())


# ------------------------------------------------------------------------------ 400
def test_400_invalid_parameter(api):
    error_of(api.upload_url(file_size=-1), 400, "INVALID_PARAMETER")
    error_of(api.upload_url(file_size=10, duration_hours=None), 400, "INVALID_PARAMETER")
    error_of(api.upload_url(file_size=10, checksum="xyz"), 400, "INVALID_PARAMETER")
    error_of(api.upload_url(file_size=10, filename="noextension"), 400, "INVALID_PARAMETER")
    r = api.http.post(
        "/upload-url", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    err = error_of(r, 400, "INVALID_PARAMETER")
    assert err["details"]["errors"]
    error_of(api.http.post("/submit", json={}), 400, "INVALID_PARAMETER")


def test_400_invalid_options_and_callback(api, recordings):
    task_id = api.uploaded(recordings["short"])
    error_of(api.submit(task_id, analysis_options=[1, 2]), 400, "INVALID_PARAMETER")
    try:
        from holterlab.params import AnalysisParams
    except (ImportError, AttributeError):  # pragma: no cover - before the params land
        AnalysisParams = None
    if AnalysisParams is not None:  # validated by the library's own parameter object
        err = error_of(
            api.submit(task_id, analysis_options={"no_such_option": 1}), 400, "INVALID_PARAMETER"
        )
        assert "no_such_option" in err["message"]
    err = error_of(
        api.submit(task_id, callback_url="ftp://example.org/x"), 400, "INVALID_PARAMETER"
    )
    assert "http" in err["message"]
    r = api.submit(task_id, callback_url="http://10.1.2.3/hook")
    assert "private" in error_of(r, 400, "INVALID_PARAMETER")["message"]
    error_of(
        api.http.get(f"/result/{task_id}", params={"include": "everything"}),
        400,
        "INVALID_PARAMETER",
    )
    assert api.status(task_id)["status"] == "uploaded"  # nothing was submitted


# ------------------------------------------------------------------------------ 401
def test_401_unauthorized(server):
    anon = Api(server.url, None)
    r = anon.upload_url(file_size=10)
    error_of(r, 401, "UNAUTHORIZED")
    assert r.headers["WWW-Authenticate"] == "Bearer"
    bad = Api(server.url, "hlk_nothing_nothing")
    error_of(bad.http.get("/status/holter_task_" + "0" * 24), 401, "UNAUTHORIZED")
    r = httpx.get(server.url + PREFIX + "/status/x", headers={"Authorization": "Basic abc"})
    error_of(r, 401, "UNAUTHORIZED")
    anon.close()
    bad.close()


# ------------------------------------------------------------------------------ 403 / 410
def test_403_tampered_upload_url_and_410_expired(server, api, recordings):
    r = api.upload_url(recordings["short"])
    data = r.json()["data"]
    url = httpx.URL(data["upload_url"])
    content = recordings["short"].read_bytes()
    sig = url.params["signature"]
    tampered = url.copy_set_param("signature", ("0" if sig[0] != "0" else "1") + sig[1:])
    error_of(api.put(str(tampered), content), 403, "SIGNATURE_INVALID")
    later = url.copy_set_param("expires", str(int(url.params["expires"]) + 3600))
    error_of(api.put(str(later), content), 403, "SIGNATURE_INVALID")
    other = str(url).replace(data["task_id"], "holter_task_" + "a" * 24)
    error_of(api.put(other, content), 403, "SIGNATURE_INVALID")
    # a correctly signed URL whose time has passed
    expired_at = math.floor(time.time()) - 5
    expired = url.copy_set_param("expires", str(expired_at)).copy_set_param(
        "signature", sign_upload(secret_of(server), data["task_id"], expired_at)
    )
    error_of(api.put(str(expired), content), 410, "UPLOAD_URL_EXPIRED")
    assert api.status(data["task_id"])["status"] == "expired"
    assert api.put(data["upload_url"], content).status_code == 410


def test_lapsed_upload_url_marks_the_task_expired(server, api):
    data = api.upload_url(file_size=10).json()["data"]
    store = server.store()
    store.update_task(data["task_id"], upload_expires=time.time() - 1)
    wait_until(lambda: store.get_task(data["task_id"])["status"] == "expired", timeout=5)
    st = api.status(data["task_id"])
    assert st["status"] == "expired" and st["finished_at"]
    error_of(api.submit(data["task_id"]), 409, "UPLOAD_INCOMPLETE")


# ------------------------------------------------------------------------------ 404
def test_404_task_not_found(server, api, keys, recordings):
    for path in (
        "/status/holter_task_" + "f" * 24,
        "/result/nope",
        "/report/holter_task_x",
        "/status/holter_task_%2e%2e",
    ):
        error_of(api.http.get(path), 404, "TASK_NOT_FOUND")
    assert api.http.get("/report/..%2F..%2Fetc%2Fpasswd").status_code == 404
    error_of(api.http.post("/cancel/holter_task_" + "f" * 24), 404, "TASK_NOT_FOUND")
    error_of(api.submit("holter_task_" + "f" * 24), 404, "TASK_NOT_FOUND")
    # another key's task: the same answer as a task that does not exist
    task_id = api.uploaded(recordings["short"])
    bob = Api(server.url, keys["bob"]["api_key"])
    mine = error_of(bob.http.get(f"/status/{task_id}"), 404, "TASK_NOT_FOUND")
    none = error_of(bob.http.get("/status/holter_task_" + "f" * 24), 404, "TASK_NOT_FOUND")
    assert mine == none
    for r in (
        bob.submit(task_id),
        bob.http.post(f"/cancel/{task_id}"),
        bob.http.get(f"/result/{task_id}"),
        bob.http.get(f"/report/{task_id}"),
    ):
        error_of(r, 404, "TASK_NOT_FOUND")
    bob.close()
    assert api.status(task_id)["status"] == "uploaded"


# ------------------------------------------------------------------------------ 409
def test_409_upload_incomplete(api):
    data = api.upload_url(file_size=100).json()["data"]
    error_of(api.submit(data["task_id"]), 409, "UPLOAD_INCOMPLETE")


def test_409_task_not_completed(api, recordings):
    task_id = api.uploaded(recordings["short"])
    err = error_of(api.http.get(f"/result/{task_id}"), 409, "TASK_NOT_COMPLETED")
    assert err["details"]["status"] == "uploaded"
    error_of(api.http.get(f"/report/{task_id}"), 409, "TASK_NOT_COMPLETED")


def test_409_invalid_task_state(api, recordings):
    task_id = api.uploaded(recordings["short"])
    assert api.submit(task_id, patient_info={"id": "A"}).status_code == 200
    err = error_of(api.submit(task_id, patient_info={"id": "B"}), 409, "INVALID_TASK_STATE")
    assert "different" in err["message"]
    assert api.wait(task_id)["status"] == "completed"
    error_of(api.http.post(f"/cancel/{task_id}"), 409, "INVALID_TASK_STATE")
    # a cancelled task can be neither submitted nor uploaded to
    data = api.upload_url(recordings["short"]).json()["data"]
    assert api.http.post(f"/cancel/{data['task_id']}").status_code == 200
    error_of(api.submit(data["task_id"]), 409, "INVALID_TASK_STATE")
    error_of(
        api.put(data["upload_url"], recordings["short"].read_bytes()), 409, "INVALID_TASK_STATE"
    )
    error_of(api.http.post(f"/cancel/{data['task_id']}"), 409, "INVALID_TASK_STATE")


# ------------------------------------------------------------------------------ 413
def test_413_file_too_large(server, api):
    err = error_of(api.upload_url(file_size=10_000_000), 413, "FILE_TOO_LARGE")
    assert err["details"]["max_file_size"] == 2_000_000
    # more bytes than declared, streamed without Content-Length: the partial file is removed
    data = api.upload_url(file_size=100_000).json()["data"]

    def body():
        for _ in range(4):
            yield b"\0" * 65536

    r = httpx.put(data["upload_url"], content=body(), timeout=30)
    error_of(r, 413, "FILE_TOO_LARGE")
    folder = server.data_dir / "uploads" / data["task_id"]
    assert not folder.exists() or not any(folder.iterdir())
    # declared by Content-Length
    r = api.put(data["upload_url"], b"\0" * 100_001)
    error_of(r, 413, "FILE_TOO_LARGE")
    assert api.status(data["task_id"])["status"] == "pending_upload"


# ------------------------------------------------------------------------------ 415
def test_415_unsupported_format(api):
    error_of(api.upload_url(file_size=10, file_format="dicom"), 415, "UNSUPPORTED_FORMAT")
    error_of(
        api.upload_url(file_size=10, file_format="mit", filename="r100.hea"),
        415,
        "UNSUPPORTED_FORMAT",
    )
    error_of(
        api.upload_url(file_size=10, file_format="edf", filename="x.exe"), 415, "UNSUPPORTED_FORMAT"
    )


# ------------------------------------------------------------------------------ 422
def test_422_size_and_checksum_mismatch(server, api, recordings):
    content = recordings["short"].read_bytes()
    data = api.upload_url(recordings["short"]).json()["data"]
    err = error_of(api.put(data["upload_url"], content[:-10]), 422, "SIZE_MISMATCH")
    assert err["details"]["received_size"] == len(content) - 10
    damaged = bytearray(content)
    damaged[100] ^= 0xFF
    err = error_of(api.put(data["upload_url"], bytes(damaged)), 422, "CHECKSUM_MISMATCH")
    assert err["details"]["declared_checksum"] != err["details"]["received_checksum"]
    folder = server.data_dir / "uploads" / data["task_id"]
    assert not folder.exists() or not any(folder.iterdir())
    assert api.status(data["task_id"])["status"] == "pending_upload"
    assert api.put(data["upload_url"], content).status_code == 200  # the retry succeeds
    assert api.status(data["task_id"])["status"] == "uploaded"


def test_422_invalid_ecg_file(server, api, tmp_path):
    junk = tmp_path / "junk.aiecg"
    junk.write_bytes(b"this is not an ECG recording at all" * 10)
    task_id = api.uploaded(junk)
    err = error_of(api.submit(task_id), 422, "INVALID_ECG_FILE")
    assert "junk.aiecg" in err["message"]
    assert str(server.data_dir) not in err["message"]  # no server paths
    assert api.status(task_id)["status"] == "uploaded"  # not a task that fails later
    # an unsafe ZIP for mit
    import zipfile

    z = tmp_path / "evil.zip"
    with zipfile.ZipFile(z, "w") as zf:
        zf.writestr("../../evil.hea", "evil 1 250 10\n")
    task_id = api.uploaded(z, file_format="mit")
    error_of(api.submit(task_id), 422, "INVALID_ECG_FILE")
    assert not (server.data_dir / "evil.hea").exists()
    assert not (server.data_dir / "uploads" / "evil.hea").exists()
    # an empty-signal recording
    import holterlab
    from holterlab.recording import Recording

    np = pytest.importorskip("numpy")
    empty = tmp_path / "empty.aiecg"
    try:
        holterlab.write(Recording.from_array(np.zeros((1, 0), np.float32), 250, ["I"]), empty)
    except holterlab.HolterlabError:
        return
    task_id = api.uploaded(empty)
    error_of(api.submit(task_id), 422, "INVALID_ECG_FILE")


# ------------------------------------------------------------------------------ 429
def test_429_rate_limited(server, keys):
    slow = Api(server.url, keys["slow"]["api_key"])
    codes = []
    for _ in range(10):  # 1 request/s, bursts of 2
        r = slow.http.get("/status/holter_task_" + "0" * 24)
        codes.append(r.status_code)
        if r.status_code == 429:
            err = error_of(r, 429, "RATE_LIMITED")
            assert int(r.headers["Retry-After"]) >= 1
            assert "retry" in err["message"]
            break
    assert 429 in codes and codes[0] == 404
    slow.close()


def test_client_honours_retry_after(server, keys):
    from holterlab.client import HolterClient
    from holterlab.client.errors import TaskNotFoundError

    waits = []
    with HolterClient(server.url, keys["slow"]["api_key"], max_retries=3) as client:
        client._sleep = lambda s: (waits.append(s), time.sleep(s))[1]
        for _ in range(3):  # the bucket holds 2 requests: the third waits
            with pytest.raises(TaskNotFoundError):
                client.status("holter_task_" + "0" * 24)
    assert waits and all(w >= 1 for w in waits)  # the server's Retry-After, not the backoff


# ------------------------------------------------------------------------------ 500
def test_500_internal_error_without_stack_trace(server, api, recordings):
    task_id = api.uploaded(recordings["short"])
    api.submit(task_id)
    api.wait(task_id)
    result = server.data_dir / "results" / f"{task_id}.json"
    result.unlink()
    result.mkdir()  # reading it now fails inside the server
    try:
        r = api.http.get(f"/result/{task_id}")
        err = error_of(r, 500, "INTERNAL_ERROR")
        text = r.text
        assert "Traceback" not in text and "Error" not in err["message"].split()[0]
        assert str(server.data_dir) not in text and "IsADirectory" not in text
        assert err["details"]["incident"] in server.log.read_text()  # logged for the operator
    finally:
        result.rmdir()


# ------------------------------------------------------------------------------ 503
def test_503_overloaded(server, api, recordings):
    started = []
    try:
        r = None
        for _ in range(2 + 3 + 2):  # workers + max_queue + margin
            task_id = api.uploaded(recordings["long"])
            r = api.submit(task_id)
            if r.status_code == 503:
                break
            assert r.status_code == 200, r.text
            started.append(task_id)
        err = error_of(r, 503, "OVERLOADED")
        assert int(r.headers["Retry-After"]) >= 1 and "queue" in err["message"]
        assert len(started) >= 3
        assert api.status(task_id)["status"] == "uploaded"  # can be submitted again later
    finally:
        for t in started:
            api.http.post(f"/cancel/{t}")
    for t in started:
        assert api.wait(t, ("cancelled",))["status"] == "cancelled"


def test_unknown_route_and_method_use_the_envelope(server, api):
    r = api.http.get("/nothing-here")
    assert r.status_code == 404 and r.json()["status"] == "error"
    r = api.http.delete("/upload-url")
    assert r.status_code == 405 and r.json()["error"]["code"] == "METHOD_NOT_ALLOWED"


def test_file_names_are_never_paths(server, api, recordings):
    task_id = api.uploaded(recordings["short"], filename="../../../escape.aiecg")
    folder = server.data_dir / "uploads" / task_id
    assert [p.name for p in folder.iterdir()] == ["recording.aiecg"]
    assert not (server.data_dir.parent / "escape.aiecg").exists()
    assert not Path("/escape.aiecg").exists()
