from __future__ import annotations

import pytest

from tests.ui._data import make_sample


@pytest.fixture(scope="session")
def sample_dir(tmp_path_factory):
    """A folder with a 15-minute synthetic recording and its result (shared, read-only use)."""
    folder = tmp_path_factory.mktemp("workbench")
    return make_sample(folder)


@pytest.fixture
def sample(sample_dir, tmp_path, monkeypatch):
    """A private copy of the sample (edits are written beside it) and a private cache."""
    import shutil

    from tests.ui._data import Sample

    for f in (sample_dir.recording, sample_dir.result):
        shutil.copy(f, tmp_path / f.name)
    monkeypatch.setenv("HOLTERLAB_CACHE_DIR", str(tmp_path / "cache"))
    return Sample(
        tmp_path / sample_dir.recording.name,
        tmp_path / sample_dir.result.name,
        sample_dir.truth,
        sample_dir.duration_s,
    )
