"""Every tutorial notebook is executed on small inputs, so none can rot."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import MITDB, REPO

NOTEBOOKS = REPO / "notebooks"

CASES = {
    "01_quickstart.ipynb": {"hours": 0.1, "render_pdf": True},
    "02_tuning.ipynb": {
        "mitdb_dir": str(MITDB),
        "records": ["101", "208"],
        "thresholds": [0.2, 0.3],
    },
    "03_comparison.ipynb": {"minutes": 2.0},
    "04_batch_study.ipynb": {"n_recordings": 2, "minutes": 2.0},
}


def test_every_notebook_is_covered():
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(CASES)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_notebook_runs(name, tmp_path):
    import papermill as pm

    from holterlab.report.render import ensure_kernel

    ensure_kernel()
    params = dict(CASES[name])
    for key in ("out_dir", "work_dir"):
        params.setdefault(key, str(tmp_path / "out"))
    out = tmp_path / name
    pm.execute_notebook(
        str(NOTEBOOKS / name),
        str(out),
        parameters=params,
        kernel_name="python3",
        cwd=str(tmp_path),
        progress_bar=False,
    )
    import nbformat

    nb = nbformat.read(out, as_version=4)
    errors = [
        o
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    assert Path(out).stat().st_size > 0
