"""A study over MIT-BIH records in beats mode: table rows and metrics, cache, plots, report."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pandas as pd
import pytest

from holterlab.annotations import read_annotations
from holterlab.cli import main
from holterlab.distributed import analyze_annotation_path
from holterlab.study import load_study, run_study, score_result, study_from_dict
from tests.conftest import MITDB

RECORDS = ("201", "203", "101", "205")
GRID = {"rhythm.af.threshold": [0.08, 0.16], "rhythm.pause.pause_s": [2.0, 3.0]}


def _yaml(tmp_path, **extra) -> str:
    lines = [
        "name: AF and pause thresholds",
        "mode: beats",
        "out: out",
        "recordings:",
        *[f"  - {MITDB / r}.atr" for r in RECORDS],
        "base:",
        "  rhythm: {af: {exit_threshold: 0.06}}",
        "grid:",
        *[f"  {k}: {v}" for k, v in GRID.items()],
        "evaluation: {event_types: [af, pause]}",
    ]
    lines += [f"{k}: {v}" for k, v in extra.items()]
    path = tmp_path / "study.yaml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("study")
    spec = load_study(_yaml(tmp))
    return spec, run_study(spec, progress=False)


def test_table_has_one_row_per_run_and_gross_rows_per_variant(study):
    spec, result = study
    df = result.table
    assert result.counts == {"ran": 16, "cached": 0, "failed": 0, "cancelled": 0}
    assert (df["row_type"] == "run").sum() == 16
    assert (df["row_type"] == "gross").sum() == 4 and (df["row_type"] == "average").sum() == 4
    runs = result.runs
    assert set(runs["recording"]) == set(RECORDS)
    combos = set(zip(runs["rhythm.af.threshold"], runs["rhythm.pause.pause_s"], strict=True))
    assert combos == {
        (a, p) for a in GRID["rhythm.af.threshold"] for p in GRID["rhythm.pause.pause_s"]
    }
    for col in (
        "qrs_se_pct",
        "qrs_pp_pct",
        "veb_se_pct",
        "veb_pp_pct",
        "sveb_se_pct",
        "sveb_pp_pct",
        "af_episode_se_pct",
        "af_episode_pp_pct",
        "af_duration_se_pct",
        "af_duration_pp_pct",
        "runtime_s",
        "variant",
        "recording",
    ):
        assert col in df.columns
    # beats mode analyses the reference beats themselves: beat statistics are perfect
    assert (runs["qrs_se_pct"] == 100).all() and (runs["qrs_pp_pct"] == 100).all()
    assert (runs["runtime_s"] > 0).all()
    ratios = runs[["af_episode_se_pct", "af_episode_pp_pct", "af_duration_pp_pct"]]
    ratios = ratios.to_numpy().ravel()
    ratios = ratios[~np.isnan(ratios)]
    assert ratios.size == 3 * 8  # AF on 201 and 203 in every variant; none on 101, 205
    assert ((ratios >= 0) & (ratios <= 100)).all()
    # Parquet and CSV hold the same table
    back = pd.read_parquet(result.paths["parquet"])
    pd.testing.assert_frame_equal(back, df)
    assert len(pd.read_csv(result.paths["csv"])) == len(df)


def test_run_metrics_equal_a_direct_evaluation(study):
    spec, result = study
    variant = spec.variants[3]  # threshold=0.16 pause_s=3
    assert variant.name == "threshold=0.16 pause_s=3"
    path = str(MITDB / "201.atr")
    metrics, _ = score_result(
        analyze_annotation_path(path, variant.params), path, event_types=("af", "pause")
    )
    row = result.runs.set_index(["variant", "recording"]).loc[(variant.name, "201")]
    for key in (
        "af_ref_tp",
        "af_fn",
        "af_test_tp",
        "af_fp",
        "af_episode_se_pct",
        "af_duration_pp_pct",
        "pause_test_tp",
        "af_burden_pct",
        "sdnn_ms",
    ):
        assert row[key] == pytest.approx(metrics[key]), key


def test_gross_rows_pool_the_counts(study):
    spec, result = study
    runs, gross = result.runs, result.gross.set_index("variant")
    for variant in spec.variants:
        mine = runs[runs["variant"] == variant.name]
        g = gross.loc[variant.name]
        assert g["n_runs"] == 4
        assert g["af_test_tp"] == mine["af_test_tp"].sum()
        tp, fp = mine["af_test_tp"].sum(), mine["af_fp"].sum()
        assert g["af_episode_pp_pct"] == pytest.approx(100 * tp / (tp + fp), abs=1e-3)
        assert g["rhythm.af.threshold"] == variant.params["rhythm"]["af"]["threshold"]
    # a higher AF threshold finds less AF (duration +P up, duration Se down or equal)
    low, high = gross.loc["threshold=0.08 pause_s=2"], gross.loc["threshold=0.16 pause_s=2"]
    assert high["af_test_duration_s"] < low["af_test_duration_s"]
    assert high["af_duration_se_pct"] <= low["af_duration_se_pct"]


def test_plots_report_and_cache(study, tmp_path):
    spec, result = study
    names = sorted(p.name for p in result.paths["plots"])
    assert "tradeoff.png" in names and "param_rhythm.af.threshold.png" in names
    for p in result.paths["plots"]:
        assert p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    html = result.paths["html"].read_text()
    assert "AF and pause thresholds" in html and "data:image/png;base64" in html
    assert result.paths["notebook"].is_file()
    cached = sorted((spec.out / "runs").glob("*.json"))
    assert len([p for p in cached if not p.name.endswith(".result.json")]) == 16
    result_json = json.loads(next(p for p in cached if p.name.endswith(".result.json")).read_text())
    assert "beat_list" in result_json
    # the rerun skips every finished run and gives the same table
    again = run_study(spec, progress=False, report=False)
    assert again.counts == {"ran": 0, "cached": 16, "failed": 0, "cancelled": 0}
    cols = [c for c in result.table.columns if c not in ("cached",)]
    pd.testing.assert_frame_equal(again.table[cols], result.table[cols])
    assert again.runs["cached"].all()


def test_failed_run_is_listed_and_not_cached(tmp_path):
    spec = study_from_dict(
        {
            "mode": "beats",
            "recordings": [str(MITDB / "101.atr"), {"path": str(tmp_path / "999.atr")}],
            "report": False,
        },
        base_dir=tmp_path,
    )
    result = run_study(spec, progress=False)
    assert result.counts == {"ran": 1, "cached": 0, "failed": 1, "cancelled": 0}
    failed = result.failed.iloc[0]
    assert failed["recording"] == "999" and "no such annotation file" in failed["reason"]
    assert result.gross.iloc[0]["status"] == "1 of 2 ok"
    again = run_study(spec, progress=False)
    assert again.counts["cached"] == 1 and again.counts["failed"] == 1


def test_cli_study(tmp_path, capsys):
    path = tmp_path / "small.yaml"
    path.write_text(
        f"mode: beats\nrecordings: [{MITDB / '201.atr'}, {MITDB / '203.atr'}]\n"
        "grid: {rhythm.pause.pause_s: [2.0, 3.0]}\nreport: false\n"
    )
    code = main(["study", str(path), "--no-progress", "--out", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "2 recordings x 2 variants = 4 runs on local: 4 ran, 0 cached" in out
    assert f"wrote {tmp_path / 'o' / 'study.parquet'}" in out
    code = main(["study", str(path), "--no-progress", "--out", str(tmp_path / "o")])
    assert code == 0 and "0 ran, 4 cached" in capsys.readouterr().out
    assert main(["study", str(tmp_path / "nope.yaml")]) == 2
    assert "no such study file" in capsys.readouterr().err


def test_remote_algorithm_is_skipped_in_beats_mode(tmp_path):
    spec = study_from_dict(
        {
            "mode": "beats",
            "recordings": [str(MITDB / "101.atr")],
            "remote": {"url": "http://127.0.0.1:9", "api_key_env": "NO_SUCH_KEY"},
            "report": False,
        },
        base_dir=tmp_path,
    )
    result = run_study(spec, progress=False)
    assert any("remote algorithm 'remote' skipped" in n for n in result.notes)
    assert set(result.table["algorithm"]) == {"holterlab"}


@pytest.mark.skipif(
    importlib.util.find_spec("holterlab.beats.detect") is None,
    reason="the QRS detector (holterlab.beats.detect) is not available yet",
)
def test_signal_mode_study_scores_the_detector(tmp_path):
    spec = study_from_dict(
        {
            "mode": "signal",
            "recordings": [str(MITDB / "101.hea")],
            "grid": {"rhythm.pause.pause_s": [2.0, 3.0]},
            "report": False,
        },
        base_dir=tmp_path,
    )
    result = run_study(spec, progress=False)
    runs = result.runs
    assert list(runs["status"]) == ["ok", "ok"], list(runs["reason"])
    assert (runs["qrs_se_pct"] > 95).all() and (runs["qrs_pp_pct"] > 95).all()
    ref = read_annotations(MITDB / "101.atr")
    assert runs["qrs_tp"].iloc[0] + runs["qrs_fn"].iloc[0] == pytest.approx(
        np.count_nonzero(ref.beats().time >= 300), abs=2
    )


def test_remote_runs_are_scored_like_local_ones(monkeypatch, tmp_path):
    """The remote algorithm through a stand-in client (no network): its result is scored."""
    import holterlab.client as client_module
    from holterlab.client import RemoteAnalysis
    from holterlab.study.runs import run_remote_task

    calls = []

    class FakeClient:
        def __init__(self, url, api_key=None, **kw):
            calls.append((url, api_key))

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return None

        def analyze_file(self, path, *, analysis_options=None, **kw):
            calls.append((str(path), analysis_options))
            result = analyze_annotation_path(str(MITDB / "201.atr"), analysis_options)
            return RemoteAnalysis("t1", {"status": "done"}, result)

    monkeypatch.setattr(client_module, "HolterClient", FakeClient)
    task = {
        "path": str(MITDB / "201.hea"),
        "reference": str(MITDB / "201.atr"),
        "params": {"rhythm": {"af": {"threshold": 0.1}}},
        "evaluation": {"event_types": ["af"]},
        "url": "http://service.invalid",
    }
    out = run_remote_task(task, "hlk_test")
    assert calls[0] == ("http://service.invalid", "hlk_test")
    assert calls[1] == (str(MITDB / "201.hea"), task["params"])
    assert out["metrics"]["qrs_se_pct"] == 100.0
    assert out["metrics"]["af_ref_tp"] >= 1
