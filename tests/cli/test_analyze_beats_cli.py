import json

from holterlab.annotations import read_annotations
from holterlab.cli import main
from tests.conftest import MITDB, NSRDB


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
    assert "(AFIB" in aux and ("(N" in aux or "(VT" in aux)
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


def test_analyze_beats_takes_the_clock_and_length_from_the_header(tmp_path, capsys):
    """NSRDB 16272.hea: 10:45:00 (no date), 11,520,000 samples at 128 Hz = 25 h. The result
    has clock hours and day/night values, lasts 25 h, and the unannotated end is not
    analysable time."""
    assert main(["analyze-beats", str(NSRDB / "16272.atr"), "--out", str(tmp_path)]) == 0
    assert "without a date" in capsys.readouterr().err
    d = json.loads((tmp_path / "16272.result.json").read_text())
    assert d["recording"]["start_time"].endswith("T10:45:00")
    assert d["recording"]["duration_s"] == 90000.0
    assert d["heart_rate"]["day"] is not None and d["hrv"]["night"]["n_nn"] > 0
    assert d["hourly"][1]["clock"].endswith("T11:00:00")  # clock hours after the start
    last = read_annotations(NSRDB / "16272.atr").beats().sample[-1] / 128.0
    assert d["recording"]["analysable_s"] < last


def test_analyze_beats_start_time_and_duration_options(tmp_path, capsys):
    args = ["analyze-beats", str(MITDB / "201.atr"), "--out", str(tmp_path)]
    assert main([*args, "--start-time", "2026-03-01T23:50:00", "--duration", "2000"]) == 0
    d = json.loads((tmp_path / "201.result.json").read_text())
    assert d["recording"]["start_time"] == "2026-03-01T23:50:00"
    assert d["recording"]["duration_s"] == 2000.0
    capsys.readouterr()
    assert main([*args, "--start-time", "yesterday"]) == 2
    assert "--start-time" in capsys.readouterr().err
    assert main([*args, "--duration", "100"]) == 2  # shorter than its annotations
    assert "--duration" in capsys.readouterr().err
