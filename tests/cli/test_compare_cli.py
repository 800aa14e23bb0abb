"""``holterlab compare A B``: text table, JSON, annotation files and errors."""

from __future__ import annotations

import json

import numpy as np
import pytest

from holterlab.cli import main
from tests.compare.helpers import base_beats, result_from_beats
from tests.conftest import MITDB


@pytest.fixture(scope="module")
def result_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("compare_cli")
    samples, labels = base_beats()
    a = result_from_beats(samples, labels)
    labels = labels.copy()
    labels[100] = "V"
    b = result_from_beats(np.delete(samples, 5), np.delete(labels, 5))
    pa, pb = folder / "local.json", folder / "remote.json"
    a.to_json(pa, include_beats=True)
    b.to_json(pb, include_beats=True)
    return pa, pb


def test_text_report(result_files, capsys):
    pa, pb = result_files
    assert main(["compare", str(pa), str(pb)]) == 0
    out = capsys.readouterr().out
    assert "A (reference): local.json (result)" in out
    qrs = next(line for line in out.splitlines() if line.strip().startswith("QRS"))
    assert qrs.split()[1:] == [f"{100 * 199 / 200:.2f}", "100.00"]
    assert "Headline numbers" in out and "beats_total" in out
    assert "missed beat 1" in out and "label mismatch 1" in out


def test_json_output_parses(result_files, capsys):
    pa, pb = result_files
    assert main(["compare", str(pa), str(pb), "--json", "--window-ms", "100"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["settings"]["window_ms"] == 100.0
    assert data["beats"]["qrs_fn"] == 1 and data["beats"]["qrs_fp"] == 0
    assert data["disagreements"]["by_kind"]["missed_beat"] == 1
    assert data["disagreements"]["by_kind"]["label_mismatch"] == 1
    rows = {r["key"]: r for r in data["headline"]}
    assert rows["beats_total"]["difference"] == -1
    assert data["identical"] is False


def test_same_file_twice_is_identical(result_files, capsys):
    pa, _ = result_files
    assert main(["compare", str(pa), str(pa), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["identical"] is True and data["disagreements"]["total"] == 0


def test_annotation_file_against_itself(mitdb, capsys):
    path = str(MITDB / "201.atr")
    assert main(["compare", path, path, "--events", "af,pause"]) == 0
    out = capsys.readouterr().out
    assert "Disagreements: none" in out
    af = next(line for line in out.splitlines() if line.strip().startswith("af "))
    assert af.split()[1:7] == ["3", "3", "100.0", "100.0", "100.0", "100.0"]


@pytest.mark.parametrize(
    "content", ["{broken", '{"schema_version": "1.0"}', '{"schema_version": "9.0", "x": 1}']
)
def test_broken_json_gives_one_line_error(tmp_path, result_files, capsys, content):
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    assert main(["compare", str(result_files[0]), str(bad)]) == 2
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert err.startswith("holterlab: error:")
    assert "bad.json" in err
    assert len(err.splitlines()) == 1
    assert captured.out == ""


def test_bad_options_give_one_line_error(result_files, capsys, tmp_path):
    pa, pb = result_files
    for argv in (
        ["compare", str(pa), str(pb), "--events", "nonsense"],
        ["compare", str(pa), str(pb), "--window-ms", "-5"],
        ["compare", str(pa), str(tmp_path / "missing.atr")],
    ):
        assert main(argv) == 2
        err = capsys.readouterr().err.strip()
        assert err.startswith("holterlab: error:") and len(err.splitlines()) == 1
