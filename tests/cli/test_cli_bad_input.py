"""The command-line contract for bad input: one line on stderr that says what to do, exit 2.

Found in a QA sweep of every subcommand; each test failed before its fix.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

import holterlab
from holterlab.cli import main
from holterlab.recording import Recording
from tests.conftest import CSV_DIR, MITDB


def one_line_error(capsys, *needles: str) -> str:
    """The stderr of the last call: one ``holterlab: error:`` line holding every needle."""
    err = capsys.readouterr().err.strip()
    assert err.startswith("holterlab: error: "), err
    assert "\n" not in err and "Traceback" not in err, err
    for needle in needles:
        assert needle in err, (needle, err)
    return err


@pytest.fixture
def tiny(tmp_path):
    """A 20-second, 2-lead .aiecg recording."""
    rng = np.random.default_rng(0)
    x = (rng.normal(size=(2, 5000)) * 0.3).astype(np.float32)
    path = tmp_path / "tiny.aiecg"
    holterlab.write(Recording.from_array(x, 250, ["I", "II"]), path)
    return path


# ---------------------------------------------------------------- --fs on recordings
def test_fs_on_a_recording_that_stores_its_rate_is_refused(mitdb, capsys):
    # was: "unknown WFDB read option(s): fs" (no hint what to do)
    assert main(["info", str(MITDB / "208.hea"), "--fs", "100"]) == 2
    one_line_error(capsys, "--fs is only for CSV", "drop --fs")


@pytest.mark.parametrize("value", ["nan", "-250", "0", "inf"])
def test_impossible_fs_is_refused_for_every_format(tiny, capsys, value):
    # was: silently ignored for .aiecg (exit 0 with --fs nan)
    assert main(["info", str(tiny), f"--fs={value}"]) == 2
    one_line_error(capsys, "--fs must be a positive number")


def test_fs_still_reads_a_csv(capsys):
    assert main(["info", str(CSV_DIR / "e0103.csv"), "--fs", "250"]) == 0
    assert "250 Hz" in capsys.readouterr().out


# ---------------------------------------------------------------- annotation files
def test_a_header_is_not_read_as_annotations(mitdb, tmp_path, capsys):
    # was: the text of 208.hea decoded as 82 "beats", exit 0
    assert main(["analyze-beats", str(MITDB / "208.hea"), "--out", str(tmp_path)]) == 2
    one_line_error(capsys, "text file", "not a WFDB annotation file")
    assert not list(tmp_path.iterdir())
    assert main(["evaluate", str(MITDB / "208.atr"), str(MITDB / "208.hea")]) == 2
    one_line_error(capsys, "208.hea")
    assert main(["compare", str(MITDB / "208.atr"), str(CSV_DIR / "118e24_ann.csv")]) == 2
    one_line_error(capsys, "text file")


def test_a_truncated_annotation_file_is_refused(mitdb, tmp_path, capsys):
    # was: the first 1,011 beats of 208 analysed as if they were the whole record, exit 0
    cut = tmp_path / "208.atr"
    cut.write_bytes((MITDB / "208.atr").read_bytes()[:3000])
    assert main(["analyze-beats", str(cut), "--out", str(tmp_path / "out"), "--fs", "360"]) == 2
    one_line_error(capsys, "truncated")
    assert not (tmp_path / "out").exists()


def test_analyze_beats_checks_fs_even_when_the_file_has_one(mitdb, tmp_path, capsys):
    # was: --fs nan / -1 silently ignored
    assert main(["analyze-beats", str(MITDB / "208.atr"), "--out", str(tmp_path), "--fs=-1"]) == 2
    one_line_error(capsys, "--fs must be a positive number")


def test_analyze_beats_prints_minutes_for_short_records(mitdb, tmp_path, capsys):
    # was: "208: 0.5 h recorded" (and "0.0 h" for a 2-minute recording)
    assert main(["analyze-beats", str(MITDB / "208.atr"), "--out", str(tmp_path)]) == 0
    assert "30.1 min recorded" in capsys.readouterr().out


# ---------------------------------------------------------------- --params
def test_params_file_that_is_not_text(tiny, tmp_path, capsys):
    # was: UnicodeDecodeError traceback, exit 1
    bad = tmp_path / "params.json"
    bad.write_bytes(b"\xff\xfe{")
    assert main(["analyze", str(tiny), "--out", str(tmp_path), "--params", str(bad)]) == 2
    one_line_error(capsys, "--params", "UTF-8")


# ---------------------------------------------------------------- evaluate / compare
@pytest.mark.parametrize(
    "args, message",
    [
        (["--end-s", "10"], "--end-s"),  # was: ignored (scored the whole record), exit 0
        (["--end-s", "nan"], "--end-s"),
        (["--fs", "-1"], "--fs"),  # was: ignored, exit 0
        (["--fs", "nan"], "--fs"),
        (["--learning-s", "-1"], "--learning-s"),
    ],
)
def test_evaluate_option_values(mitdb, capsys, args, message):
    assert main(["evaluate", str(MITDB / "101.atr"), str(MITDB / "101.atr"), *args]) == 2
    one_line_error(capsys, message)


def test_compare_negative_rows(mitdb, capsys):
    # was: --rows -1 printed no disagreement and exited 0
    assert main(["compare", str(MITDB / "101.atr"), str(MITDB / "101.atr"), "--rows", "-1"]) == 2
    one_line_error(capsys, "--rows")


# ---------------------------------------------------------------- synth / convert
def test_synth_refuses_a_format_it_cannot_write_before_generating(tmp_path, capsys):
    # was: generated the signal, then "holterlab reads ishne files but does not write them"
    assert main(["synth", str(tmp_path / "r.ecg"), "--hours", "0.01", "--no-progress"]) == 2
    one_line_error(capsys, ".ecg", ".edf", ".aiecg")
    assert not list(tmp_path.iterdir())


def test_synth_noise_errors_name_the_option(tmp_path, capsys):
    # was: "synth.noise_level must be at least 0.0"
    assert main(["synth", str(tmp_path / "r.edf"), "--noise", "-1", "--no-progress"]) == 2
    one_line_error(capsys, "--noise")


def test_synth_help_shows_defaults(capsys):
    with pytest.raises(SystemExit):
        main(["synth", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for default in ("(default 1)", "(default 2)", "(default 0)", "(default medium)"):
        assert default in text, default
    assert "(default normal)" in text


def test_convert_onto_a_folder(tiny, tmp_path, capsys):
    (tmp_path / "out.edf").mkdir()
    assert main(["convert", str(tiny), str(tmp_path / "out.edf"), "--no-progress"]) == 2
    one_line_error(capsys, "is a folder")


# ---------------------------------------------------------------- report / batch / study
@pytest.fixture
def result_json(mitdb, tmp_path, capsys):
    out = tmp_path / "res"
    assert main(["analyze-beats", str(MITDB / "101.atr"), "--out", str(out)]) == 0
    capsys.readouterr()
    return out / "101.result.json"


@pytest.mark.parametrize(
    "args", [["--params", '{"hrv_enabled": false}'], ["--beats", "annotations"]]
)
def test_report_of_a_result_refuses_analysis_options(result_json, tmp_path, capsys, args):
    # was: the options were ignored without a word
    code = main(["report", str(result_json), "--out", str(tmp_path / "r.pdf"), *args])
    assert code == 2
    one_line_error(capsys, args[0], "drop")
    assert not (tmp_path / "r.pdf").exists()


def test_report_checks_params_and_recording_before_rendering(tiny, tmp_path, capsys):
    # was: both failed inside the notebook ("report template cell 'setup' failed: ...")
    out = str(tmp_path / "r.pdf")
    assert main(["report", str(tiny), "--out", out, "--params", '{"bogus": 1}']) == 2
    one_line_error(capsys, "unknown analysis parameter")
    empty = tmp_path / "empty.aiecg"
    empty.write_bytes(b"")
    assert main(["report", str(empty), "--out", out]) == 2
    err = one_line_error(capsys, "empty")
    assert "template" not in err
    assert main(["report", str(tmp_path), "--out", out]) == 2
    one_line_error(capsys, "is a folder")


def test_batch_checks_params_before_any_recording(tiny, tmp_path, capsys):
    # was: every recording analysed and failed in its notebook, exit 1
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(tiny, folder)
    args = ["batch", str(folder), "--out", str(tmp_path / "out"), "--no-progress"]
    assert main([*args, "--params", '{"bogus": 1}']) == 2
    one_line_error(capsys, "unknown analysis parameter")
    assert not (tmp_path / "out").exists()


def test_batch_bad_scheduler_address(tiny, tmp_path, capsys):
    # was: a traceback (ValueError from distributed), then 20 s blocked in Client.__del__
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(tiny, folder)
    args = ["batch", str(folder), "--out", str(tmp_path / "out"), "--scheduler", "foo"]
    assert main([*args, "--no-progress"]) == 2
    one_line_error(capsys, "not a Dask scheduler address", "tcp://HOST:PORT")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--jobs", "0"], "--jobs"),  # was: accepted
        (["--pdf", "--no-report"], "--no-report"),  # was: --pdf won silently
    ],
)
def test_study_option_values(tmp_path, capsys, args, message):
    assert main(["study", str(tmp_path / "study.yaml"), *args]) == 2
    one_line_error(capsys, message)


# ---------------------------------------------------------------- pipes and OS errors
def test_closed_pipe_is_quiet(mitdb):
    # was: "holterlab: error: BrokenPipeError: [Errno 32] Broken pipe", exit 2
    proc = subprocess.Popen(
        [sys.executable, "-m", "holterlab", "info", str(MITDB / "208.hea"), "--json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()  # the reader goes away before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert err == "", err


def test_os_errors_read_as_one_sentence():
    from holterlab.cli import _os_error_message

    text = _os_error_message(FileExistsError(17, "File exists", "out"))
    assert text.startswith("out: file exists; ") and "Errno" not in text
    text = _os_error_message(PermissionError(13, "Permission denied", "/data/x.pdf"))
    assert text.startswith("/data/x.pdf: permission denied; choose a path")


def test_json_of_info_is_still_valid(mitdb, capsys):
    assert main(["info", str(MITDB / "101.hea"), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["fs"] == 360
