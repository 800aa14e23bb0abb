import json

from holterlab.annotations import read_annotations
from holterlab.cli import main
from tests.conftest import MITDB


def test_analyze_beats_writes_json_and_hlab(tmp_path, capsys):
    assert main(["analyze-beats", str(MITDB / "203.atr"), "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "203.result.json" in out and "beats" in out
    d = json.loads((tmp_path / "203.result.json").read_text())
    ref = read_annotations(MITDB / "203.atr")
    assert d["beats"]["total"] == len(ref.beats())
    hlab = read_annotations(tmp_path / "203.hlab")
    # beats keep the input symbols, rhythms are '+' annotations with MIT aux notes
    beats = hlab.beats()
    assert list(beats.symbol) == list(ref.beats().symbol)
    aux = set(hlab.rhythms().aux)
    assert "(AFIB" in aux and "(N" in aux or "(VT" in aux
    assert not list(tmp_path.glob("*.part"))


def test_analyze_beats_params_and_errors(tmp_path, capsys):
    args = [
        "analyze-beats",
        str(MITDB / "201.atr"),
        "--out",
        str(tmp_path),
        "--set",
        "rhythm.pause.pause_s=1.5",
    ]
    assert main(args) == 0
    d = json.loads((tmp_path / "201.result.json").read_text())
    assert d["pauses"]["threshold_s"] == 1.5
    assert d["params"]["rhythm"]["pause"]["pause_s"] == 1.5
    capsys.readouterr()
    bad = [
        "analyze-beats",
        str(MITDB / "201.atr"),
        "--out",
        str(tmp_path),
        "--set",
        "rhythm.pause.pause_s=-3",
    ]
    assert main(bad) == 2
    err = capsys.readouterr().err
    assert err.startswith("holterlab: error:") and "pause_s" in err
    assert main(["analyze-beats", str(tmp_path / "nope.atr"), "--out", str(tmp_path)]) == 2


def test_inline_params_json_and_bad_json(tmp_path, capsys):
    args = [
        "analyze-beats",
        str(MITDB / "201.atr"),
        "--out",
        str(tmp_path),
        "--params",
        '{"rhythm": {"pause": {"pause_s": 2.5}}}',
    ]
    assert main(args) == 0
    d = json.loads((tmp_path / "201.result.json").read_text())
    assert d["pauses"]["threshold_s"] == 2.5
    capsys.readouterr()
    assert main(args[:-1] + ["{not json"]) == 2
    assert "--params is not valid JSON" in capsys.readouterr().err
