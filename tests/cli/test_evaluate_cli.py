"""``holterlab evaluate REF TEST``: files, folders, JSON, options and errors."""

from __future__ import annotations

import json
import shutil
import warnings
from pathlib import Path

import numpy as np
import pytest

from holterlab.annotations import Annotations, read_annotations, write_annotations
from holterlab.cli import main
from tests.conftest import MITDB


def perturb(src: Path, dst: Path, seed: int = 0, drop: int = 0) -> Annotations:
    """Write a jittered copy of ``src`` (beats dropped every ``drop``-th) to ``dst``."""
    a = read_annotations(src)
    rng = np.random.default_rng(seed)
    keep = np.ones(len(a), dtype=bool)
    if drop:
        beats = np.flatnonzero(np.isin(a.symbol.astype(str), ["N", "V", "A"]))
        keep[beats[::drop]] = False
    s = a.sample + rng.integers(-10, 11, len(a))
    b = Annotations(np.clip(s, 0, None)[keep], a.symbol[keep], a.fs, a.aux[keep])
    write_annotations(b, dst)
    return b


@pytest.fixture
def folders(tmp_path, mitdb):
    ref, test = tmp_path / "ref", tmp_path / "test"
    ref.mkdir()
    test.mkdir()
    for record in ("101", "203", "205"):
        shutil.copy(MITDB / f"{record}.atr", ref / f"{record}.atr")
        shutil.copy(MITDB / f"{record}.hea", ref / f"{record}.hea")
    perturb(MITDB / "101.atr", test / "101.hlab", drop=50)
    perturb(MITDB / "203.atr", test / "203.hlab", seed=1)
    perturb(MITDB / "118.atr", test / "118.hlab", seed=2)  # no reference in the folder
    return ref, test


def test_two_files(folders, capsys):
    ref, test = folders
    assert main(["evaluate", str(ref / "101.atr"), str(test / "101.hlab")]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].startswith("Record")
    row = next(line for line in lines if line.startswith("101"))
    fields = row.split()
    beats, tp, fn, fp = map(int, fields[1:5])
    assert fn > 0 and fp == 0 and tp + fn == beats
    assert float(fields[5]) < 100.0  # QRS Se
    assert any(line.startswith("Gross") for line in lines)
    assert "Gross beat matrix" in out
    # the jitter perturb() added (uniform, -10..10 samples at 360 Hz: SD 16.7 ms)
    line = next(line for line in lines if line.startswith("Fiducial offset"))
    words = line.replace(";", "").split()
    median = float(words[words.index("median") + 1])
    sd = float(words[words.index("SD") + 1])
    assert abs(median) <= 2.8 and 15.0 < sd < 18.5


def test_folders_pair_by_record_and_list_missing(folders, capsys):
    ref, test = folders
    assert main(["evaluate", str(ref), str(test)]) == 0
    out = capsys.readouterr().out
    records = [line.split()[0] for line in out.splitlines() if line[:3].isdigit()]
    assert records == ["101", "203"]
    assert "no test annotations (.hlab) for: 205" in out
    assert "no reference annotations (.atr) for: 118" in out


def test_json_output_and_options(folders, capsys):
    ref, test = folders
    args = ["evaluate", str(ref), str(test), "--json", "--learning-s", "0", "--window-ms", "100"]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert set(data["records"]) == {"101", "203"}
    assert data["missing_test"] == ["205"] and data["missing_reference"] == ["118"]
    assert data["settings"]["learning_s"] == 0.0
    assert data["records"]["101"]["window_s"] == pytest.approx(0.1)
    assert data["records"]["101"]["end_s"] == pytest.approx(650000 / 360)  # from 101.hea
    assert data["gross"]["qrs_fn"] > 0
    assert data["records"]["203"]["veb_se"] is not None
    assert data["gross"]["matrix"]["rows"] == ["N", "S", "V", "F", "Q", "O"]
    # learning period 0 scores more beats than the default 300 s
    assert main(["evaluate", str(ref), str(test), "--json"]) == 0
    default = json.loads(capsys.readouterr().out)
    assert default["gross"]["qrs_tp"] < data["gross"]["qrs_tp"]


def test_af_episodes(folders, capsys):
    ref, test = folders
    assert main(["evaluate", str(ref), str(test), "--af", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    af = data["af_episodes"]["records"]["203"]
    assert af["ref_tp"] > 0 and af["episode_se"] == 1.0


def test_extensions_options(folders, capsys, tmp_path):
    ref, test = folders
    for p in test.glob("*.hlab"):
        p.rename(p.with_suffix(".qrs"))
    assert main(["evaluate", str(ref), str(test)]) == 2
    assert "no record has both" in capsys.readouterr().err
    assert main(["evaluate", str(ref), str(test), "--test-ext", "qrs"]) == 0
    assert "101" in capsys.readouterr().out


def test_fs_for_files_without_a_sampling_rate(tmp_path, capsys, mitdb):
    import wfdb

    a = read_annotations(MITDB / "101.atr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        wfdb.wrann("rec", "atr", sample=a.sample, symbol=list(a.symbol), write_dir=str(tmp_path))
        wfdb.wrann("rec", "hlab", sample=a.sample, symbol=list(a.symbol), write_dir=str(tmp_path))
    args = ["evaluate", str(tmp_path / "rec.atr"), str(tmp_path / "rec.hlab")]
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "--fs" in err and len(err.strip().splitlines()) == 1
    assert main(args + ["--fs", "360"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("rec"))
    assert row.split()[5:7] == ["100.00", "100.00"]


def test_broken_file_gives_one_line_error(tmp_path, capsys, mitdb):
    bad = tmp_path / "x.atr"
    bad.write_bytes((MITDB / "101.atr").read_bytes()[:1001])  # cut inside a 2-byte word
    good = tmp_path / "x.hlab"
    shutil.copy(MITDB / "101.atr", good)
    assert main(["evaluate", str(bad), str(good), "--fs", "360"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("holterlab: error:") and len(err.splitlines()) == 1
    empty = tmp_path / "y.atr"
    empty.write_bytes(b"")
    assert main(["evaluate", str(empty), str(good)]) == 2
    assert "empty" in capsys.readouterr().err


def test_missing_file_and_mixed_arguments(folders, capsys):
    ref, test = folders
    assert main(["evaluate", str(ref / "999.atr"), str(test / "101.hlab")]) == 2
    assert "no such annotation file" in capsys.readouterr().err
    assert main(["evaluate", str(ref), str(test / "101.hlab")]) == 2
    assert "two folders" in capsys.readouterr().err
