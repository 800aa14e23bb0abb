"""``holterlab batch`` QA: recordings from fsspec URLs, URL output folders, an unreachable
scheduler before any progress bar."""

from __future__ import annotations

import json
import uuid

import pytest

from holterlab.batch import find_recordings, run_batch
from holterlab.cli import main
from holterlab.distributed import SchedulerError
from holterlab.errors import ParameterError
from tests.report.helpers import make_recording

fsspec = pytest.importorskip("fsspec")


def _memory_folder(files: dict[str, bytes]) -> str:
    """Put ``files`` (relative name -> bytes) in fsspec's memory filesystem; its folder URL."""
    folder = f"/holterlab-batch-{uuid.uuid4().hex[:8]}"
    fs = fsspec.filesystem("memory")
    for name, data in files.items():
        fs.pipe(f"{folder}/{name}", data)
    return f"memory://{folder}"


def test_find_recordings_in_a_folder_url():
    url = _memory_folder(
        {
            "a.edf": b"x",
            "b.hea": b"x",
            "b.dat": b"x",
            "notes.txt": b"x",
            ".hidden.edf": b"x",
            "sub/c.edf": b"x",
        }
    )
    found = find_recordings(url)
    assert [f.rsplit("/", 1)[-1] for f in found] == ["a.edf", "b.hea"]
    assert all(f.startswith("memory://") for f in found)
    deep = find_recordings(url, recursive=True)
    assert [f.rsplit("/", 1)[-1] for f in deep] == ["a.edf", "b.hea", "c.edf"]
    with pytest.raises(ParameterError, match="not a folder"):
        find_recordings(url + "/nothing-here")


def test_batch_reads_recordings_from_a_url(tmp_path):
    local = make_recording(tmp_path / "in", "one", minutes=1, seed=31, leads=2)
    files = {f"one.{e}": (local.parent / f"one.{e}").read_bytes() for e in ("hea", "dat", "atr")}
    url = _memory_folder(files)
    summary = run_batch(url, tmp_path / "out", beats="annotations", progress=False)
    row = summary.rows[0]
    assert summary.counts == {"ok": 1}, row["reason"]
    assert row["recording"] == f"{url}/one.hea"
    result = json.loads((tmp_path / "out" / "one.result.json").read_text())
    assert result["recording"]["path"] == row["recording"]  # the URL, not a temporary copy
    assert result["beats"]["total"] > 0
    assert (tmp_path / "out" / "one.pdf").read_bytes().startswith(b"%PDF")


def test_url_output_folder_is_refused(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.edf").write_bytes(b"not an edf")
    with pytest.raises(ParameterError, match="not a URL"):
        run_batch(tmp_path / "in", "s3://bucket/out", progress=False)
    assert main(["batch", str(tmp_path / "in"), "--out", "s3://bucket/out"]) == 2
    assert "--out s3://bucket/out" in capsys.readouterr().err
    assert not (tmp_path / "s3:").exists()


def test_unreachable_scheduler_fails_before_the_progress_bar(tmp_path, capsys):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "x.edf").write_bytes(b"not an edf")
    with pytest.raises(SchedulerError, match="not a Dask scheduler address"):
        run_batch(tmp_path / "in", tmp_path / "out", progress=True, scheduler="tcp://127.0.0.1")
    assert "batch" not in capsys.readouterr().err  # no half-drawn bar before the error
