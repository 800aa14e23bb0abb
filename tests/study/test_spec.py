"""The study file: grid expansion, variants, recordings, validation, cache keys."""

from __future__ import annotations

import pytest

from holterlab.errors import ParameterError
from holterlab.study import expand_grid, load_study, run_key, study_from_dict
from tests.conftest import MITDB


def _study(**extra):
    data = {"mode": "beats", "recordings": [str(MITDB / "201.atr")], **extra}
    return study_from_dict(data, base_dir=MITDB)


def test_grid_is_the_cartesian_product_named_by_values():
    grid = expand_grid(
        {"rhythm": {"af": {"exit_threshold": 0.05}}},
        {"rhythm.af.threshold": [0.06, 0.1], "rhythm.pause.pause_s": [2.0, 3]},
    )
    assert [name for name, _ in grid] == [
        "threshold=0.06 pause_s=2",
        "threshold=0.06 pause_s=3",
        "threshold=0.1 pause_s=2",
        "threshold=0.1 pause_s=3",
    ]
    over = grid[3][1]
    assert over["rhythm"]["af"] == {"exit_threshold": 0.05, "threshold": 0.1}
    assert over["rhythm"]["pause"] == {"pause_s": 3}


def test_study_variants_carry_full_params_and_varied_values():
    spec = _study(
        base={"rhythm": {"af": {"exit_threshold": 0.05}}},
        grid={"rhythm.af.threshold": [0.06, 0.12]},
        variants=[{"name": "long pauses", "params": {"rhythm": {"pause": {"pause_s": 3.0}}}}],
    )
    assert [v.name for v in spec.variants] == ["threshold=0.06", "threshold=0.12", "long pauses"]
    assert spec.varied == ("rhythm.af.threshold", "rhythm.pause.pause_s")
    values = spec.variant_values(spec.variants[2])
    assert values == {"rhythm.af.threshold": 0.08, "rhythm.pause.pause_s": 3.0}
    assert spec.variants[2].params["rhythm"]["af"]["exit_threshold"] == 0.05
    assert spec.variants[0].params["chunk_s"] == 1800.0  # full AnalysisParams dict


def test_without_grid_there_is_one_base_variant():
    spec = _study()
    assert [v.name for v in spec.variants] == ["base"] and spec.varied == ()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"grid": {"rhythm.af.treshold": [0.1]}}, "unknown parameter 'rhythm.af.treshold'"),
        ({"grid": {"rhythm.af.threshold": [0.06]}}, "exit_threshold must not exceed"),
        ({"grid": {"rhythm.af.threshold": []}}, "has no values"),
        ({"variants": [{"params": {}}]}, "needs a name"),
        ({"variants": [{"name": "a"}, {"name": "a"}]}, "unique: a"),
        ({"mode": "fast"}, "signal or beats"),
        ({"evaluation": {"event_types": ["afib"]}}, "unknown event type 'afib'"),
        ({"colour": "red"}, "unknown study key"),
        ({"jobs": 0}, "jobs must be"),
    ],
)
def test_invalid_studies_are_clear_errors(extra, message):
    with pytest.raises(ParameterError, match=message):
        _study(**extra)


def test_recordings_globs_references_and_names(tmp_path):
    spec = study_from_dict(
        {
            "mode": "signal",
            "recordings": [
                {"glob": str(MITDB / "20[13].hea")},
                {"path": "101.hea", "reference": "101.atr", "name": "r101"},
            ],
        },
        base_dir=MITDB,
    )
    assert [(r.name, r.path, r.reference) for r in spec.recordings] == [
        ("201", str(MITDB / "201.hea"), str(MITDB / "201.atr")),
        ("203", str(MITDB / "203.hea"), str(MITDB / "203.atr")),
        ("r101", str(MITDB / "101.hea"), str(MITDB / "101.atr")),
    ]
    beats = study_from_dict({"mode": "beats", "recordings": [str(MITDB / "201.hea")]})
    assert beats.recordings[0].path == beats.recordings[0].reference == str(MITDB / "201.atr")
    with pytest.raises(ParameterError, match="no files match"):
        study_from_dict({"recordings": [str(tmp_path / "*.edf")]})
    with pytest.raises(ParameterError, match="no recordings"):
        study_from_dict({"recordings": []})


def test_load_study_yaml_resolves_relative_paths(tmp_path):
    (tmp_path / "s.yaml").write_text(
        f"name: demo\nmode: beats\nrecordings: [{MITDB / '203.atr'}]\nout: results\n"
        "grid:\n  rhythm.pause.pause_s: [2.5, 3.5]\n"
    )
    spec = load_study(tmp_path / "s.yaml")
    assert spec.name == "demo" and spec.out == tmp_path / "results"
    assert len(spec.variants) == 2
    (tmp_path / "bad.yaml").write_text("recordings: [a\n")
    with pytest.raises(ParameterError, match="not valid YAML"):
        load_study(tmp_path / "bad.yaml")


def test_run_key_depends_on_recording_params_and_evaluation():
    spec = _study(grid={"rhythm.pause.pause_s": [2.0, 3.0]})
    rec = spec.recordings[0]
    a, b = spec.variants
    key = run_key(rec, a, mode="beats", evaluation=spec.evaluation)
    assert key == run_key(rec, a, mode="beats", evaluation=spec.evaluation)
    assert len(key) == 16
    assert key != run_key(rec, b, mode="beats", evaluation=spec.evaluation)
    assert key != run_key(rec, a, mode="signal", evaluation=spec.evaluation)
    other = _study(evaluation={"learning_s": 0}).evaluation
    assert key != run_key(rec, a, mode="beats", evaluation=other)
