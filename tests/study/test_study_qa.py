"""Study defects found in QA: bad values in the study file, variants that share parameters,
stale plots and reports, the cache key in signal mode, the remote algorithm's parameters."""

from __future__ import annotations

import json

import pytest

from holterlab.cli import main
from holterlab.distributed import SchedulerError
from holterlab.errors import ParameterError, RecordingNotFoundError
from holterlab.study import run_study, run_study_task, study_from_dict
from holterlab.study.runner import _plan, _remote_variant
from holterlab.study.spec import run_key
from tests.conftest import MITDB

REC = str(MITDB / "101.atr")


def _study(tmp_path, **extra):
    data = {"mode": "beats", "recordings": [REC], "report": False, **extra}
    return study_from_dict(data, base_dir=tmp_path)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"evaluation": {"event_types": 5}}, "event_types must be a list"),
        ({"evaluation": {"event_types": [["af"]]}}, "event_types must be a list"),
        ({"report": {"htm": True}}, "unknown report key"),
        ({"report": {"html": "no"}}, "report.html must be true or false"),
        ({"format": "nope"}, "format: unknown format 'nope'"),
        ({"name": ["a"]}, "name must be a text"),
        ({"out": "s3://bucket/study"}, "is a URL"),
    ],
)
def test_invalid_study_values_are_clear_errors(tmp_path, extra, message):
    with pytest.raises(ParameterError, match=message):
        _study(tmp_path, **extra)


def test_variants_with_equal_parameters_each_get_their_rows(tmp_path):
    spec = _study(tmp_path, variants=[{"name": "a"}, {"name": "b", "params": {}}])
    result = run_study(spec, progress=False)
    runs = result.runs
    assert sorted(zip(runs["variant"], runs["recording"], strict=True)) == [
        ("a", "101"),
        ("b", "101"),
    ]
    gross = result.gross.set_index("variant")
    assert list(gross["n_runs"]) == [1.0, 1.0] and list(gross["status"]) == ["ok", "ok"]
    assert gross.loc["a", "qrs_tp"] == gross.loc["b", "qrs_tp"] == runs["qrs_tp"].iloc[0]
    # the shared computation ran once and is cached once
    assert len([p for p in (spec.out / "runs").glob("*.json") if ".result." not in p.name]) == 1
    again = run_study(spec, progress=False)
    assert again.counts["cached"] == 2 and list(again.runs["variant"]) == ["a", "b"]


def test_a_rerun_leaves_no_plots_or_report_of_the_earlier_study(tmp_path):
    out = tmp_path / "out"
    first = _study(tmp_path, grid={"rhythm.pause.pause_s": [2.0, 3.0]})
    run_study(first, out=out, progress=False)
    assert (out / "plots" / "param_rhythm.pause.pause_s.png").is_file()
    report = out / "report"
    report.mkdir()
    for name in ("study_report.html", "study_report.ipynb", "study_report.pdf"):
        (report / name).write_text("the report of the first study")
    second = _study(tmp_path, grid={"rhythm.af.threshold": [0.1, 0.2]})
    result = run_study(second, out=out, progress=False)
    assert sorted(p.name for p in (out / "plots").glob("*.png")) == sorted(
        p.name for p in result.paths["plots"]
    )
    assert not (out / "plots" / "param_rhythm.pause.pause_s.png").exists()
    assert not list(report.iterdir())  # not re-rendered (report: false), so not kept either


def test_study_json_is_only_replaced_with_the_table(tmp_path):
    out = tmp_path / "out"
    run_study(_study(tmp_path, name="first"), out=out, progress=False)
    with pytest.raises(SchedulerError):
        run_study(
            _study(tmp_path, name="second", grid={"rhythm.pause.pause_s": [2.5, 3.5]}),
            out=out,
            progress=False,
            scheduler="tcp://127.0.0.1",  # no port: refused before anything runs
        )
    assert json.loads((out / "study.json").read_text())["name"] == "first"


def test_missing_reference_fails_before_the_analysis(monkeypatch):
    import holterlab.distributed.workers as workers

    def analysis(*args, **kwargs):
        raise AssertionError("the recording was analysed although its reference is missing")

    monkeypatch.setattr(workers, "analyze_path", analysis)
    task = {
        "mode": "signal",
        "path": str(MITDB / "101.hea"),
        "reference": str(MITDB / "no-such-101.atr"),
        "params": None,
        "evaluation": {},
    }
    with pytest.raises(RecordingNotFoundError, match="no such reference annotation file"):
        run_study_task(task)


def test_read_options_and_format_are_part_of_the_run_key(tmp_path):
    def spec(**extra):
        data = {"mode": "signal", "recordings": [str(MITDB / "101.hea")], **extra}
        return study_from_dict(data, base_dir=tmp_path)

    plain, other_lead, other_format = (
        spec(),
        spec(read_options={"channels": [1]}),
        spec(format="wfdb"),
    )
    keys = [_plan(s, list(s.variants))[0].key for s in (plain, other_lead, other_format)]
    assert len(set(keys)) == 3
    # studies without them keep their keys (and their caches)
    run = _plan(plain, list(plain.variants))[0]
    assert run.key == run_key(
        run.recording, run.variant, mode="signal", evaluation=plain.evaluation
    )


def test_remote_algorithm_gets_the_base_parameters(tmp_path):
    spec = study_from_dict(
        {
            "mode": "signal",
            "recordings": [str(MITDB / "101.hea")],
            "base": {"rhythm": {"pause": {"pause_s": 2.5}}},
            "grid": {"rhythm.af.threshold": [0.2, 0.3]},
            "remote": {"url": "http://127.0.0.1:9"},
        },
        base_dir=tmp_path,
    )
    remote = _remote_variant(spec, [])
    assert remote is not None and remote.algorithm == "remote"
    assert remote.params == spec.base_params
    assert remote.params["rhythm"]["pause"]["pause_s"] == 2.5
    assert remote.params["rhythm"]["af"]["threshold"] not in (0.2, 0.3)


def test_cli_refuses_a_url_as_output_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    study = tmp_path / "s.yaml"
    study.write_text(f"mode: beats\nrecordings: [{REC}]\nreport: false\n")
    assert main(["study", str(study), "--out", "s3://bucket/out", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("holterlab: error: --out s3://bucket/out") and "Traceback" not in err
    assert not (tmp_path / "s3:").exists()


def test_url_globs_give_urls_that_can_be_read(tmp_path):
    from holterlab.distributed import local_path

    spec = study_from_dict(
        {"mode": "beats", "recordings": [f"file://{MITDB}/20[13].atr"]}, base_dir=tmp_path
    )
    assert [r.name for r in spec.recordings] == ["201", "203"]
    for rec in spec.recordings:
        assert rec.path == f"file://{MITDB}/{rec.name}.atr"
        with local_path(rec.path) as local:
            assert local == MITDB / f"{rec.name}.atr" and local.is_file()


def test_cli_summary_counts_the_remote_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("HOLTERLAB_API_KEY", raising=False)
    study = tmp_path / "s.yaml"
    study.write_text(
        f"recordings: [{MITDB / '101.hea'}]\nreport: false\n"
        "remote: {url: 'http://127.0.0.1:9', api_key_env: NO_SUCH_KEY_VAR}\n"
    )
    code = main(["study", str(study), "--no-progress", "--out", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert code == 1  # the remote runs fail (no API key), the local one does not
    assert "1 recordings x 1 variants + remote = 2 runs on local: 1 ran" in out
    assert "failed: remote / 101: " in out
