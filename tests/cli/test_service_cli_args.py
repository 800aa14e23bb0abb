"""Argument checks of ``keys``, ``remote``, ``serve`` and ``dashboard`` (nothing is started)."""

from __future__ import annotations

import pytest

import holterlab.ui.app
from holterlab.cli import main


def _error(capsys) -> str:
    err = capsys.readouterr().err.strip()
    assert err.startswith("holterlab: error: ") and "\n" not in err, err
    return err


# ---------------------------------------------------------------- keys
def test_keys_list_does_not_create_a_store_for_a_mistyped_folder(tmp_path, capsys):
    # was: created the folder and an empty database, printed nothing, exit 0
    missing = tmp_path / "typo"
    assert main(["keys", "list", "--data-dir", str(missing)]) == 2
    assert "no server database" in _error(capsys)
    assert not missing.exists()
    assert main(["keys", "revoke", "abc", "--data-dir", str(missing)]) == 2
    assert not missing.exists()


def test_keys_with_a_corrupt_database(tmp_path, capsys):
    # was: sqlite3.DatabaseError traceback, exit 1
    assert main(["keys", "create", "alice", "--data-dir", str(tmp_path)]) == 0
    capsys.readouterr()
    (tmp_path / "holterlab.db").write_bytes(b"not a database, just some text" * 10)
    for wal in tmp_path.glob("holterlab.db-*"):
        wal.unlink()
    assert main(["keys", "list", "--data-dir", str(tmp_path)]) == 2
    assert "not a usable server database" in _error(capsys)


def test_keys_list_says_when_there_are_none(tmp_path, capsys):
    # was: printed nothing at all
    from holterlab.server.store import Store

    Store(tmp_path / "holterlab.db").close()
    assert main(["keys", "list", "--data-dir", str(tmp_path)]) == 0
    assert "no API keys" in capsys.readouterr().out


# ---------------------------------------------------------------- remote
@pytest.mark.parametrize(
    "extra, message",
    [
        (["--url", "notaurl", "--api-key", "k"], "--url must be an http"),  # was: 15 s of retries
        (["--url", "http://127.0.0.1:9", "--api-key", ""], "--api-key"),  # was: "api_key="
    ],
)
def test_remote_status_checks_url_and_key_first(capsys, monkeypatch, extra, message):
    monkeypatch.delenv("HOLTERLAB_API_KEY", raising=False)
    assert main(["remote", "status", "task1", *extra]) == 2
    assert message in _error(capsys)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--poll-interval", "-1"], "--poll-interval"),
        (["--timeout", "nan"], "--timeout"),
        (["--fs", "0"], "--fs"),
    ],
)
def test_remote_analyze_option_values(tmp_path, capsys, extra, message):
    # was: not checked; the upload was tried (and retried) first
    rec = tmp_path / "r.edf"
    rec.write_bytes(b"0       " + b" " * 248)
    service = ["--url", "http://127.0.0.1:9", "--api-key", "k", "--out", str(tmp_path / "out")]
    assert main(["remote", "analyze", str(rec), *service, *extra]) == 2
    assert message in _error(capsys)


def test_remote_analyze_of_a_folder(tmp_path, capsys):
    # was: "<folder>: no such file"
    service = ["--url", "http://127.0.0.1:9", "--api-key", "k", "--out", str(tmp_path / "out")]
    assert main(["remote", "analyze", str(tmp_path), *service]) == 2
    assert "is a folder" in _error(capsys)


# ---------------------------------------------------------------- serve
@pytest.mark.parametrize(
    "extra, message",
    [
        (["--port", "99999"], "--port"),
        (["--port", "-1"], "--port"),
        (["--host", "bad host"], "--host"),
        (["--public-url", "notaurl"], "--public-url"),
    ],
)
def test_serve_refuses_impossible_options(tmp_path, capsys, extra, message):
    # was: accepted by the configuration (and handed to uvicorn); a file as --data-dir makes
    # the unfixed command fail before it could serve anything
    blocker = tmp_path / "data"
    blocker.write_text("x")
    assert main(["serve", "--data-dir", str(blocker), *extra]) == 2
    assert message in _error(capsys)


def test_serve_bad_scheduler_address(tmp_path, capsys):
    # was: a ValueError traceback after 20 s
    assert main(["serve", "--data-dir", str(tmp_path), "--dask-scheduler", "foo"]) == 2
    assert "not a Dask scheduler address" in _error(capsys)


# ---------------------------------------------------------------- dashboard
@pytest.fixture
def no_server(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the dashboard server was started")

    monkeypatch.setattr(holterlab.ui.app, "serve", refuse)


def test_dashboard_checks_its_arguments_before_serving(no_server, tmp_path, capsys):
    # was: each of these started the server
    empty = tmp_path / "empty.aiecg"
    empty.write_bytes(b"")
    assert main(["dashboard", str(tmp_path), "--no-show"]) == 2
    assert "is a folder" in _error(capsys)
    assert main(["dashboard", str(empty), "--no-show"]) == 2
    assert "empty" in _error(capsys)
    assert main(["dashboard", "--root", str(tmp_path / "nope"), "--no-show"]) == 2
    assert "--root" in _error(capsys)
    assert main(["dashboard", "--cache-dir", str(empty), "--no-show"]) == 2
    assert "--cache-dir" in _error(capsys)
