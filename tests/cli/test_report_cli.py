"""``holterlab report``."""

from __future__ import annotations

import json

import nbformat
import pytest

from holterlab.cli import main
from holterlab.result import HolterResult
from tests.report.helpers import make_recording, pdf_pages, pdf_text


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return make_recording(tmp_path_factory.mktemp("report-cli"), "cli", minutes=3, seed=21, leads=2)


def test_report_from_a_recording_with_reference_beats(recording, tmp_path, capsys):
    out, result, nb = tmp_path / "r.pdf", tmp_path / "r.result.json", tmp_path / "r.ipynb"
    code = main(
        [
            "report",
            str(recording),
            "--out",
            str(out),
            "--beats",
            "annotations",
            "--save-result",
            str(result),
            "--keep-notebook",
            str(nb),
            "--paper",
            "letter",
            "--patient-id",
            "P-77",
            "--patient-age",
            "58",
            "--patient",
            "indication=palpitations",
        ]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert f"wrote {out}" in printed and f"wrote {result}" in printed and f"wrote {nb}" in printed
    text = pdf_text(out)
    assert "P-77" in text and "palpitations" in text and "reference annotations" in text
    assert pdf_pages(out)[1] == pytest.approx((612, 792), abs=1)
    r = HolterResult.from_json(result)
    assert r.beat_samples is not None and f"Total beats {r.beats['total']:,}" in text
    executed = nbformat.read(nb, as_version=4)
    injected = next(
        c for c in executed.cells if "injected-parameters" in c.metadata.get("tags", [])
    )
    assert '"annotations"' in injected.source or "'annotations'" in injected.source


@pytest.mark.parametrize(
    "args, message",
    [
        (["--paper", "A3"], "A4 or Letter"),
        (["--params", "{not json"], "--params"),
        (["--params", "[1, 2]"], "JSON object"),
        (["--patient", "novalue"], "FIELD=VALUE"),
        (["--result", "x.json", "--recording", "y.hea"], "--result"),
        (["--out-of-place"], None),
    ],
)
def test_bad_arguments_are_one_line_errors(recording, tmp_path, capsys, args, message):
    if message is None:
        with pytest.raises(SystemExit):
            main(["report", str(recording), "--out", str(tmp_path / "x.pdf"), *args])
        return
    code = main(["report", str(recording), "--out", str(tmp_path / "x.pdf"), *args])
    err = capsys.readouterr().err.strip()
    assert code == 2 and err.startswith("holterlab: error:") and message in err
    assert "\n" not in err and not (tmp_path / "x.pdf").exists()


def test_missing_inputs(tmp_path, capsys):
    assert main(["report", str(tmp_path / "nope.edf"), "--out", str(tmp_path / "a.pdf")]) == 2
    assert "no such recording" in capsys.readouterr().err
    assert main(["report", str(tmp_path / "nope.json"), "--out", str(tmp_path / "a.pdf")]) == 2
    assert "no such result file" in capsys.readouterr().err
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"hello": 1}))
    assert main(["report", str(bad), "--out", str(tmp_path / "a.txt")]) == 2
    assert ".pdf" in capsys.readouterr().err
