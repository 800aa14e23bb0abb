"""``holterlab batch`` / run_batch: a folder through papermill, failures isolated, reruns skip."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from holterlab.batch import find_recordings, output_paths, run_batch, run_one
from holterlab.cli import main
from holterlab.errors import ParameterError
from holterlab.result import HolterResult
from tests.report.helpers import make_recording, pdf_text


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    root = tmp_path_factory.mktemp("batch-in")
    make_recording(root, "alpha", minutes=3, seed=11, leads=2)
    make_recording(root, "beta", minutes=3, seed=12, leads=2)
    (root / "broken.edf").write_bytes(b"this is not an EDF file" * 20)
    (root / "notes.txt").write_text("not a recording")
    return root


@pytest.fixture(scope="module")
def first_run(folder, tmp_path_factory):
    out = tmp_path_factory.mktemp("batch-out")
    summary = run_batch(folder, out, beats="annotations", progress=False)
    return out, summary


def test_finds_recordings_by_extension(folder):
    names = [p.name for p in find_recordings(folder)]
    assert names == ["alpha.hea", "beta.hea", "broken.edf"]
    with pytest.raises(ParameterError, match="not a folder"):
        find_recordings(folder / "alpha.hea")


def test_broken_file_is_isolated_and_listed(first_run):
    out, summary = first_run
    status = {r["recording"].rsplit("/", 1)[-1]: r for r in summary.rows}
    assert status["alpha.hea"]["status"] == "ok" and status["beta.hea"]["status"] == "ok"
    broken = status["broken.edf"]
    assert broken["status"] == "failed" and "broken.edf" in broken["reason"]
    assert summary.counts == {"ok": 2, "failed": 1}
    for name in ("alpha", "beta"):
        result_json, pdf = output_paths(f"{name}.hea", out)
        assert result_json.is_file() and pdf.read_bytes().startswith(b"%PDF")
        assert "Holter ECG report" in pdf_text(pdf)
    assert not output_paths("broken.edf", out)[1].exists()
    assert not list(out.glob("*.part"))


def test_summary_tables_have_one_row_per_recording(first_run):
    out, summary = first_run
    csv = pd.read_csv(out / "summary.csv")
    parquet = pd.read_parquet(out / "summary.parquet")
    assert list(csv["status"]) == ["ok", "ok", "failed"] == list(parquet["status"])
    for frame in (csv, parquet):
        for _, row in frame.iloc[:2].iterrows():
            head = HolterResult.from_json(row["result_json"]).headline()
            for key in ("beats_total", "hr_mean_bpm", "v_total", "s_total", "sdnn_ms", "pauses"):
                assert row[key] == pytest.approx(head[key]), key
        assert frame["reason"].isna().sum() == 2
        assert "broken.edf" in str(frame["reason"].iloc[2])


@pytest.mark.slow
def test_rerun_skips_finished_and_resumes_a_missing_pdf(folder, first_run, capsys):
    out, _summary = first_run
    alpha_json, alpha_pdf = output_paths("alpha.hea", out)
    beta_json, beta_pdf = output_paths("beta.hea", out)
    alpha_mtime = alpha_pdf.stat().st_mtime_ns
    beta_json_mtime = beta_json.stat().st_mtime_ns
    beta_pdf.unlink()  # as if the PDF step had been interrupted
    code = main(
        [
            "batch",
            str(folder),
            "--out",
            str(out),
            "--beats",
            "annotations",
            "--jobs",
            "2",
            "--no-progress",
        ]
    )
    text = capsys.readouterr().out
    assert code == 1  # the broken file still fails
    assert "3 recordings: 1 done, 1 already finished, 1 failed" in text
    assert "failed: " in text and "broken.edf" in text
    assert alpha_pdf.stat().st_mtime_ns == alpha_mtime  # skipped
    assert beta_pdf.is_file() and beta_json.stat().st_mtime_ns == beta_json_mtime  # PDF only
    csv = pd.read_csv(out / "summary.csv")
    assert list(csv["status"]) == ["skipped", "ok", "failed"]
    assert csv["beats_total"].iloc[0] == json.loads(alpha_json.read_text())["beats"]["total"]


def test_run_one_is_a_plain_function_of_plain_arguments(folder, first_run):
    out, _ = first_run
    row = run_one(str(folder / "alpha.hea"), str(out), None, beats="annotations")
    assert row["status"] == "skipped" and isinstance(row["beats_total"], int)
    json.dumps(row)  # plain types only: shippable to other executors


def test_cancelled_run_one_writes_nothing_and_says_so(folder, tmp_path):
    row = run_one(str(folder / "alpha.hea"), str(tmp_path), None, beats="annotations",
                  cancel=lambda: True)  # fmt: skip
    assert row["status"] == "cancelled" and "cancelled" in row["reason"]
    assert not list(tmp_path.iterdir())


def test_cancelled_batch_lists_the_unfinished_recordings(folder, tmp_path):
    summary = run_batch(folder, tmp_path, beats="annotations", progress=False,
                        cancel=lambda: True)  # fmt: skip
    assert {r["status"] for r in summary.rows} == {"cancelled"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.csv", "summary.parquet"]


def test_bad_arguments(folder, tmp_path):
    with pytest.raises(ParameterError, match="jobs"):
        run_batch(folder, tmp_path, jobs=0)
    with pytest.raises(ParameterError, match="no recordings"):
        run_batch(tmp_path, tmp_path / "out")
    assert main(["batch", str(folder), "--out", str(tmp_path), "--jobs", "two"]) == 2
