"""Unit tests of the server's pieces: signing, keys, rate limits, callback checks, store."""

from __future__ import annotations

import asyncio
import hashlib
import time

import pytest

from holterlab.errors import ParameterError
from holterlab.server.config import ServerConfig
from holterlab.server.errors import ApiError
from holterlab.server.keys import authenticate, create_key, hash_key, revoke_key
from holterlab.server.ratelimit import RateLimiter
from holterlab.server.signing import load_or_create_secret, sign_upload, verify_upload_signature
from holterlab.server.storage import receive_upload
from holterlab.server.store import Store
from holterlab.server.webhooks import CallbackError, check_callback_url, sign_payload


def test_upload_signature(tmp_path):
    secret = load_or_create_secret(tmp_path)
    assert load_or_create_secret(tmp_path) == secret  # kept across restarts
    assert (tmp_path / "server.secret").stat().st_mode & 0o777 == 0o600
    sig = sign_upload(secret, "holter_task_1", 1000)
    assert verify_upload_signature(secret, "holter_task_1", "1000", sig)
    assert not verify_upload_signature(secret, "holter_task_2", "1000", sig)
    assert not verify_upload_signature(secret, "holter_task_1", "1001", sig)
    assert not verify_upload_signature(secret, "holter_task_1", "x", sig)
    assert not verify_upload_signature(b"other" * 8, "holter_task_1", "1000", sig)
    assert not verify_upload_signature(secret, "holter_task_1", "1000", "é" + sig[1:])


def test_keys_are_hashed_and_revocable(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    key = create_key(store, "lab", rate_limit=5)
    assert key["api_key"].startswith("hlk_") and key["webhook_secret"].startswith("whsec_")
    row = authenticate(store, key["api_key"])
    assert row["id"] == key["key_id"] and row["rate_limit"] == 5
    assert row["key_hash"] == hashlib.sha256(key["api_key"].encode()).hexdigest()
    assert hash_key(key["api_key"]) != key["api_key"]
    assert authenticate(store, key["api_key"] + "x") is None
    assert authenticate(store, "") is None
    other = create_key(store, "other")
    assert other["webhook_secret"] != key["webhook_secret"]
    assert revoke_key(store, key["key_id"]) and not revoke_key(store, key["key_id"])
    assert authenticate(store, key["api_key"]) is None
    with pytest.raises(ParameterError):
        create_key(store, "  ")
    assert store.journal_mode() == "wal"


def test_rate_limiter():
    limiter = RateLimiter(rate=10, burst=3)
    assert [limiter.check("k") for _ in range(3)] == [None, None, None]
    wait = limiter.check("k")
    assert wait is not None and 0 < wait <= 0.1
    assert limiter.check("other") is None  # buckets are per key
    time.sleep(0.12)
    assert limiter.check("k") is None
    assert RateLimiter(0, 1).check("k") is None  # disabled
    per_key = RateLimiter(1000, 1000)
    assert per_key.check("slow", rate=1.0) is None
    assert per_key.check("slow", rate=1.0) is None
    assert per_key.check("slow", rate=1.0) is not None


@pytest.mark.parametrize(
    ("url", "loopback", "ok"),
    [
        ("https://93.184.216.34/hook", False, True),
        ("http://127.0.0.1:9/x", False, False),
        ("http://127.0.0.1:9/x", True, True),
        ("http://[::1]/x", False, False),
        ("http://[::ffff:127.0.0.1]/x", False, False),
        ("http://10.0.0.1/x", True, False),
        ("http://192.168.1.5/x", False, False),
        ("http://169.254.169.254/latest/meta-data", True, False),
        ("http://0.0.0.0/x", True, False),
        ("http://localhost/x", False, False),
        ("ftp://93.184.216.34/x", True, False),
        ("/relative", True, False),
        ("http://93.184.216.34:99999/x", True, False),
    ],
)
def test_callback_url_checks(url, loopback, ok):
    cfg = ServerConfig(allow_loopback_callbacks=loopback)
    if ok:
        check_callback_url(url, cfg)
    else:
        with pytest.raises(CallbackError):
            check_callback_url(url, cfg)


def test_callback_allow_list():
    cfg = ServerConfig(callback_hosts=["*.example.org"], allow_private_callbacks=True)
    check_callback_url("https://hooks.example.org/x", cfg, resolve=False)
    with pytest.raises(CallbackError, match="allow-list"):
        check_callback_url("https://evil.example.com/x", cfg, resolve=False)
    check_callback_url("http://10.0.0.1/x", cfg.__class__(allow_private_callbacks=True))


def test_webhook_signature_matches_the_client_check():
    from holterlab.client.webhooks import sign_webhook

    body = b'{"event":"task.completed"}'
    assert sign_payload("whsec_x", "1700000000", body) == sign_webhook(body, 1700000000, "whsec_x")


def test_config_validation(tmp_path):
    with pytest.raises(ParameterError):
        ServerConfig(workers=0)
    with pytest.raises(ParameterError):
        ServerConfig(analysis_runner="no_colon")
    with pytest.raises(ParameterError, match="unknown server setting"):
        ServerConfig.from_dict({"wokers": 2})
    p = tmp_path / "c.json"
    p.write_text('{"workers": 3, "max_queue": 7}')
    cfg = ServerConfig.from_file(p, data_dir=str(tmp_path), workers=None)
    assert cfg.workers == 3 and cfg.max_queue == 7 and cfg.data_dir == tmp_path


def _chunks(blocks):
    async def gen():
        for b in blocks:
            yield b

    return gen()


def test_receive_upload_checks_and_cleans_up(tmp_path):
    data = b"x" * 3_000_000
    md5 = hashlib.md5(data).hexdigest()
    dest = tmp_path / "t" / "recording.aiecg"
    blocks = [data[i : i + 65536] for i in range(0, len(data), 65536)]
    size, digest = asyncio.run(
        receive_upload(_chunks(blocks), dest, declared_size=len(data), max_size=10**7, checksum=md5)
    )
    assert size == len(data) and digest == md5 and dest.read_bytes() == data
    for declared, max_size, checksum, code in [
        (len(data) - 1, 10**7, None, "FILE_TOO_LARGE"),
        (len(data), 1_000_000, None, "FILE_TOO_LARGE"),
        (len(data) + 1, 10**7, None, "SIZE_MISMATCH"),
        (len(data), 10**7, "0" * 32, "CHECKSUM_MISMATCH"),
    ]:
        out = tmp_path / "u" / "recording.aiecg"
        with pytest.raises(ApiError) as exc:
            asyncio.run(
                receive_upload(
                    _chunks(blocks),
                    out,
                    declared_size=declared,
                    max_size=max_size,
                    checksum=checksum,
                )
            )
        assert exc.value.code == code
        assert list((tmp_path / "u").iterdir()) == []  # the partial file is gone


def test_store_conditional_updates(tmp_path):
    store = Store(tmp_path / "db.sqlite")
    store.create_task(
        id="holter_task_" + "0" * 24,
        key_id="k",
        status="queued",
        filename="a",
        file_format="aiecg",
        file_size=1,
        upload_expires=0.0,
    )
    tid = "holter_task_" + "0" * 24
    assert store.update_task(tid, where_status=("queued",), status="processing")
    assert not store.update_task(tid, where_status=("queued",), status="processing")
    assert store.get_task(tid, "other") is None
    assert store.tasks_with_status("processing")[0]["id"] == tid


# ------------------------------------------------------------------------------ webhook sender
class _FakeHttp:
    """Stands in for the sender's httpx client: answers from a script, records the posts."""

    def __init__(self, script):
        self.script = list(script)
        self.posts = []

    def post(self, url, *, content, headers):
        import httpx

        self.posts.append({"url": url, "content": content, "headers": headers})
        action = self.script.pop(0)
        if isinstance(action, Exception):
            raise action
        return httpx.Response(action, request=httpx.Request("POST", url))


def _sender(tmp_path, script, **settings):
    from holterlab.server.webhooks import WebhookSender

    cfg = ServerConfig(
        data_dir=tmp_path,
        allow_loopback_callbacks=True,
        webhook_backoff_s=2.0,
        webhook_backoff_max_s=10.0,
        **settings,
    )
    store = Store(tmp_path / "db.sqlite")
    key = create_key(store, "hooks")
    sender = WebhookSender(cfg, store)
    sender._client = _FakeHttp(script)
    task = {
        "id": "holter_task_" + "1" * 24,
        "key_id": key["key_id"],
        "callback_url": "http://127.0.0.1:9/hook",
        "status": "completed",
        "progress": 100.0,
        "stage": "done",
    }
    sender.notify(task, "task.completed", {"result_available": True})
    return sender, store, key


def test_webhook_retried_with_exponential_backoff_on_timeout_and_non_2xx(tmp_path):
    import httpx

    script = [httpx.ReadTimeout("slow receiver"), 500, httpx.ConnectError("refused"), 503, 302]
    sender, store, key = _sender(tmp_path, script, webhook_max_attempts=10)
    try:
        delays = []
        for attempt in range(1, 6):
            (row,) = store.deliveries()
            before = time.time()
            sender._attempt(row)
            (row,) = store.deliveries()
            assert row["state"] == "pending" and row["attempts"] == attempt
            delays.append(row["next_attempt_at"] - before)
        assert row["last_status"] == 302  # a redirect is not a delivery
        # 2, 4, 8, then capped at 10 s; each with at most 10 % jitter added
        for delay, expected in zip(delays, [2, 4, 8, 10, 10], strict=True):
            assert expected <= delay <= expected * 1.1 + 0.5, delays
        posts = sender._client.posts
        assert len({p["headers"]["X-Holter-Delivery"] for p in posts}) == 1  # same id
        assert len({p["content"] for p in posts}) == 1  # same body
        for p in posts:  # every attempt signed over its own timestamp
            h = p["headers"]
            assert h["X-Holter-Signature"] == sign_payload(
                key["webhook_secret"], h["X-Holter-Timestamp"], p["content"]
            )
            assert h["X-Holter-Event"] == "task.completed"
            assert h["Content-Type"] == "application/json"
    finally:
        sender._pool.shutdown()


def test_webhook_delivered_on_2xx_and_given_up_after_max_attempts(tmp_path):
    import httpx

    sender, store, _ = _sender(tmp_path, [500, 204], webhook_max_attempts=5)
    try:
        for _ in range(2):
            sender._attempt(store.deliveries()[0])
        (row,) = store.deliveries()
        assert row["state"] == "delivered" and row["attempts"] == 2 and row["last_status"] == 204
    finally:
        sender._pool.shutdown()
    sender, store, _ = _sender(
        tmp_path / "b", [httpx.ReadTimeout("t"), 500, 500], webhook_max_attempts=3
    )
    try:
        for _ in range(3):
            sender._attempt(store.deliveries()[0])
        (row,) = store.deliveries()
        assert row["state"] == "failed" and row["attempts"] == 3 and row["last_status"] == 500
        assert store.due_deliveries(time.time() + 10**6) == []  # never sent again
    finally:
        sender._pool.shutdown()


def test_webhook_delivery_read_before_its_attempt_finished_is_not_sent_again(tmp_path):
    # the sender loop reads due rows, then an earlier attempt of one of them finishes before
    # the loop reaches it: the stale row must not be sent a second time
    sender, store, _ = _sender(tmp_path, [200, 200, 500, 200], webhook_max_attempts=5)
    try:
        (stale,) = store.due_deliveries(time.time())
        sender._deliver(stale)
        sender._deliver(stale)
        assert len(sender._client.posts) == 1
        (row,) = store.deliveries()
        assert row["state"] == "delivered" and row["attempts"] == 1
        # a claim is atomic: of two loops holding the same due row only one gets it
        sender.notify(
            {
                "id": "holter_task_" + "2" * 24,
                "key_id": row["key_id"],
                "callback_url": "http://127.0.0.1:9/hook",
                "status": "completed",
                "progress": 100.0,
                "stage": "done",
            },
            "task.completed",
            {},
        )
        (due,) = store.due_deliveries(time.time())
        now = time.time()
        claims = [store.claim_delivery(due["id"], due["attempts"], now, 30.0) for _ in range(2)]
        assert claims == [True, False]
        assert store.due_deliveries(now + 29.0) == []  # leased while it is being sent
        assert [r["id"] for r in store.due_deliveries(now + 31.0)] == [due["id"]]
    finally:
        sender._pool.shutdown()


def test_webhook_payload_shows_the_status_progress(tmp_path):
    from holterlab.server.routes import status_data
    from holterlab.server.webhooks import build_payload

    store = Store(tmp_path / "db.sqlite")
    tid = "holter_task_" + "2" * 24
    store.create_task(
        id=tid,
        key_id="k",
        status="processing",
        stage="rhythm",
        filename="a.aiecg",
        file_format="aiecg",
        file_size=1,
        upload_expires=0.0,
        progress=98.7,
    )
    task = store.get_task(tid)
    payload = build_payload(task, "task.progress", None)
    assert set(payload) == {"event", "task_id", "status", "progress", "stage", "timestamp", "data"}
    assert payload["progress"] == status_data(task)["progress"] == 98  # never rounded up
    assert payload["status"] == "processing" and payload["stage"] == "rhythm"
    assert payload["data"] == {} and payload["timestamp"].endswith("Z")


def test_submit_locks_are_serialised_and_dropped_after_the_last_submit():
    """Concurrent submits of one task run one at a time; no lock is kept afterwards,
    whether a submit succeeded or failed (an error left locks behind before)."""
    import asyncio

    from holterlab.server.routes import task_lock

    locks: dict = {}
    inside: list[int] = []
    peak: list[int] = []

    async def submit(fail: bool) -> None:
        async with task_lock(locks, "t1"):
            inside.append(1)
            peak.append(len(inside))
            await asyncio.sleep(0.01)
            inside.pop()
            if fail:
                raise ValueError("refused")

    async def main() -> list:
        return await asyncio.gather(*(submit(i % 2 == 0) for i in range(6)), return_exceptions=True)

    results = asyncio.run(main())
    assert sum(isinstance(r, ValueError) for r in results) == 3
    assert max(peak) == 1 and locks == {}
