"""Output paths that cannot be written: one line naming the option, before any long work."""

from __future__ import annotations

import numpy as np
import pytest

import holterlab
from holterlab.cli import main
from holterlab.recording import Recording
from tests.conftest import MITDB


@pytest.fixture
def setup(tmp_path):
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(1, 2500)) * 0.3).astype(np.float32)
    rec = tmp_path / "rec.aiecg"
    holterlab.write(Recording.from_array(x, 250, ["II"]), rec)
    blocker = tmp_path / "blocker"
    blocker.write_text("a file where a folder should be\n")
    return rec, blocker


def _argv(command: str, rec, blocker, mitdb_atr) -> list[str]:
    return {
        "analyze": ["analyze", str(rec), "--out", str(blocker), "--no-progress"],
        "analyze-beats": ["analyze-beats", str(mitdb_atr), "--out", str(blocker)],
        "batch": ["batch", str(rec.parent), "--out", str(blocker), "--no-progress"],
        "keys": ["keys", "create", "alice", "--data-dir", str(blocker)],
        "remote": [
            "remote",
            "analyze",
            str(rec),
            "--url",
            "http://127.0.0.1:9",
            "--api-key",
            "k",
            "--out",
            str(blocker),
        ],
        "convert": ["convert", str(rec), str(blocker / "x.edf"), "--no-progress"],
        "synth": ["synth", str(blocker / "x.aiecg"), "--hours", "0.01", "--no-progress"],
        "report": ["report", str(rec), "--out", str(blocker / "x.pdf")],
    }[command]


@pytest.mark.parametrize(
    "command, option",
    [
        ("analyze", "--out"),
        ("analyze-beats", "--out"),
        ("batch", "--out"),
        ("keys", "--data-dir"),
        ("remote", "--out"),
        ("convert", "OUT"),
        ("synth", "OUT"),
        ("report", "--out"),
    ],
)
def test_a_file_in_place_of_the_output_folder(mitdb, setup, capsys, command, option):
    # was: "holterlab: error: FileExistsError: [Errno 17] File exists: '...'" (after the
    # analysis for analyze/analyze-beats, after the upload for remote)
    rec, blocker = setup
    assert main(_argv(command, rec, blocker, MITDB / "208.atr")) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"holterlab: error: {option} ") and "\n" not in err, err
    assert "Errno" not in err and "give" in err
    assert blocker.read_text() == "a file where a folder should be\n"


def test_summary_names_a_sinus_maximum_below_the_maximum():
    from holterlab.cli.analyze import _sinus_max

    assert _sinus_max({"hr_max_bpm": 161.0, "hr_max_sinus_bpm": 118.2}) == " (sinus max 118.2)"
    assert _sinus_max({"hr_max_bpm": 118.4, "hr_max_sinus_bpm": 118.2}) == ""
    assert _sinus_max({"hr_max_bpm": None, "hr_max_sinus_bpm": None}) == ""
