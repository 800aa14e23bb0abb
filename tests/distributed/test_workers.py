"""Worker-side reading: local paths, file:// and memory:// URLs (fsspec)."""

from __future__ import annotations

import uuid

import numpy as np
import pytest

from holterlab.distributed import analyze_annotation_path, is_url, local_path, map_tasks
from holterlab.errors import RecordingNotFoundError
from tests.conftest import MITDB

fsspec = pytest.importorskip("fsspec")


def _memory_copy(record: str, exts=("hea", "dat", "atr")) -> str:
    """Copy a MIT-BIH record's files into fsspec's memory filesystem; return its folder URL."""
    folder = f"/holterlab-test-{uuid.uuid4().hex[:8]}"
    fs = fsspec.filesystem("memory")
    for ext in exts:
        with fs.open(f"{folder}/{record}.{ext}", "wb") as fh:
            fh.write((MITDB / f"{record}.{ext}").read_bytes())
    return f"memory://{folder}"


def test_is_url():
    assert is_url("s3://bucket/x.edf") and is_url("memory://a/b") and is_url("file:///x")
    assert not is_url("/data/x.edf") and not is_url("x.edf") and not is_url(None)


def test_local_and_file_urls_are_used_in_place():
    path = MITDB / "201.atr"
    with local_path(path) as p:
        assert p == path
    with local_path(f"file://{path}") as p:
        assert p == path


def test_memory_url_copies_the_record_with_its_siblings():
    import holterlab

    folder = _memory_copy("203")
    with local_path(f"{folder}/203.hea") as p:
        assert sorted(f.name for f in p.parent.iterdir()) == ["203.atr", "203.dat", "203.hea"]
        rec = holterlab.read(p)
        local = holterlab.read(MITDB / "203.hea")
        assert rec.fs == local.fs and rec.n_samples == local.n_samples
        np.testing.assert_array_equal(rec.get(0, 3600), local.get(0, 3600))
        tmp = p.parent
    assert not tmp.exists()  # the temporary copy is removed
    with local_path(f"{folder}/203") as p:  # a WFDB record named without extension
        assert (p.parent / "203.dat").is_file()


def test_annotation_url_gives_the_local_result():
    folder = _memory_copy("201", exts=("hea", "atr"))
    url = f"{folder}/201.atr"
    remote = next(iter(map_tasks(analyze_annotation_path, [url])))
    assert remote.ok, remote.error
    local = analyze_annotation_path(str(MITDB / "201.atr"))
    assert remote.value["recording"]["path"] == url
    remote.value["recording"]["path"] = local["recording"]["path"]
    assert remote.value == local
    via_file = analyze_annotation_path(f"file://{MITDB / '201.atr'}")
    assert via_file["recording"]["path"] == f"file://{MITDB / '201.atr'}"
    via_file["recording"]["path"] = local["recording"]["path"]
    assert via_file == local


def test_missing_url_is_a_clear_error():
    with pytest.raises(RecordingNotFoundError, match="no such file"):
        with local_path("memory://nowhere-at-all/x.edf"):
            pass
    out = next(iter(map_tasks(analyze_annotation_path, ["memory://nowhere/999.atr"])))
    assert out.status == "failed" and "memory://nowhere/999.atr" in out.error
