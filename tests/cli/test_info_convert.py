"""`holterlab info` and `holterlab convert`, including one-line errors for broken input."""

import subprocess
import sys

import numpy as np
import pytest

import holterlab
from holterlab.cli import main
from holterlab.recording import Recording
from tests.conftest import MITDB


def test_info_mitdb(mitdb, capsys):
    assert main(["info", str(MITDB / "208.hea")]) == 0
    out = capsys.readouterr().out
    assert "wfdb" in out and "MLII, V1" in out and "360 Hz" in out
    assert "00:30:0" in out  # 30 min record
    assert "beats" in out


def test_info_json(mitdb, capsys):
    import json

    assert main(["info", str(MITDB / "101"), "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["fs"] == 360 and info["n_samples"] == 650000 and info["beats"] > 1800


@pytest.mark.parametrize("ext", [".aiecg", ".edf", ".hea", ".csv"])
def test_convert_round_trip(tmp_path, capsys, ext):
    rng = np.random.default_rng(1)
    x = (rng.normal(size=(2, 2500)) * 0.5).astype(np.float32)
    src = tmp_path / "src.aiecg"
    holterlab.write(Recording.from_array(x, 250, ["I", "II"]), src)
    out = tmp_path / f"out{ext}"
    assert main(["convert", str(src), str(out), "--no-progress"]) == 0
    assert "wrote" in capsys.readouterr().out
    a, b = holterlab.read(src), holterlab.read(out)
    assert b.fs == 250 and b.leads == ["I", "II"] and b.n_samples == a.n_samples
    np.testing.assert_allclose(b.get(), a.get(), atol=1.0 / a.adc_gain.min())


@pytest.mark.parametrize(
    "content, name, message",
    [
        (b"", "empty.edf", "empty"),
        (b"hello world, not a recording\n", "file.xyz", "unrecognised"),
        (b"0       garbage header", "short.edf", ""),
        (b"AIECG\x00\x01\x00\x00\x00\x00", "bad.aiecg", ""),
    ],
)
def test_broken_files_give_one_line_error(tmp_path, capsys, content, name, message):
    path = tmp_path / name
    path.write_bytes(content)
    assert main(["info", str(path)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("holterlab: error: ")
    assert "\n" not in err and "Traceback" not in err
    assert message in err


def test_missing_file(capsys, tmp_path):
    assert main(["info", str(tmp_path / "nothing.edf")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_console_script_prints_no_traceback(tmp_path):
    path = tmp_path / "trunc.hea"
    path.write_text(
        "trunc 2 360 100000\ntrunc.dat 16 200 16 0 0 0 0 I\ntrunc.dat 16 200 16 0 0 0 0 II\n"
    )
    (tmp_path / "trunc.dat").write_bytes(b"\x00" * 100)
    proc = subprocess.run(
        [sys.executable, "-m", "holterlab", "info", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "holterlab: error:" in proc.stderr


def test_format_and_repair_options(tmp_path, capsys):
    """--format reads a file whose extension misleads; --repair reads the complete records
    of an EDF file cut short (the library's messages name both options)."""
    rec = Recording.from_array(np.random.default_rng(0).normal(size=(2, 2500)), 250.0)
    edf = tmp_path / "r.edf"
    holterlab.write(rec, edf)
    odd = tmp_path / "r.dat1"
    odd.write_bytes(edf.read_bytes())
    assert main(["info", str(odd), "--format", "edf"]) == 0
    assert "250" in capsys.readouterr().out
    cut = tmp_path / "cut.edf"
    cut.write_bytes(edf.read_bytes()[:-300])
    assert main(["info", str(cut)]) == 2
    assert "--repair" in capsys.readouterr().err
    assert main(["info", str(cut), "--repair"]) == 0
    capsys.readouterr()
    assert main(["info", str(MITDB / "101.hea"), "--repair"]) == 2
    assert "only for EDF" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["info", str(odd), "--format", "nope"])
