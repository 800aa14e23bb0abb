"""``holterlab synth``."""

from __future__ import annotations

import json

import pytest

import holterlab
from holterlab.cli import main


def test_synth_writes_files_and_prints(tmp_path, capsys):
    out = tmp_path / "rec.aiecg"
    code = main(
        [
            "synth",
            str(out),
            "--hours",
            "0.05",
            "--leads",
            "3",
            "--fs",
            "200",
            "--seed",
            "5",
            "--noise",
            "low",
            "--events",
            "dense",
            "--no-progress",
        ]
    )
    assert code == 0
    text = capsys.readouterr().out
    assert f"wrote {out}" in text and "rec.atr" in text and "rec.truth.json" in text
    assert "leads (II, V5, V1)" in text and "events:" in text
    rec = holterlab.read(out)
    assert rec.n_leads == 3 and rec.fs == 200 and rec.n_samples == 36000
    truth = json.loads((tmp_path / "rec.truth.json").read_text())
    assert truth["params"]["noise_level"] == 0.5 and truth["params"]["guarantee_each"]
    assert len(holterlab.read_annotations(tmp_path / "rec.atr").beats()) > 150


@pytest.mark.parametrize(
    "args, message",
    [
        (["--hours", "0"], "hours"),
        (["--hours", "abc"], "--hours"),
        (["--leads", "20"], "leads"),
        (["--fs", "5"], "fs"),
        (["--seed", "-3"], "seed"),
        (["--noise", "loud"], "--noise"),
        (["--events", "many"], "--events"),
    ],
)
def test_bad_arguments_give_one_line_errors(tmp_path, capsys, args, message):
    code = main(["synth", str(tmp_path / "r.aiecg"), "--no-progress", *args])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("holterlab: error:") and message in err and "\n" not in err
    assert not list(tmp_path.iterdir())
