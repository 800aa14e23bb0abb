"""HolterResult: JSON round trip, schema validation, tables; analyze_beats on real annotations."""

import copy
import json

import numpy as np
import pytest

from holterlab.annotations import Annotations, read_annotations
from holterlab.errors import ParameterError
from holterlab.events import EVENT_TYPES
from holterlab.pipeline import analyze_beats
from holterlab.result import HolterResult, ResultError, json_safe, result_schema
from tests.conftest import MITDB, NSRDB


@pytest.fixture(scope="module")
def result_201():
    return analyze_beats(read_annotations(MITDB / "201.atr"), name="201")


def test_top_level_keys_are_stable(result_201):
    d = result_201.to_dict()
    assert list(d)[:3] == ["schema_version", "holterlab_version", "params"]
    for key in [
        "recording",
        "heart_rate",
        "beats",
        "ventricular",
        "supraventricular",
        "af",
        "pauses",
        "hrv",
        "st",
        "qt",
        "hourly",
        "events",
    ]:
        assert key in d
    assert "beat_list" not in d
    assert "beat_list" in result_201.to_dict(include_beats=True)


def test_counts_match_reference_annotations(result_201):
    ann = read_annotations(MITDB / "201.atr").beats()
    aami = ann.aami()
    b = result_201.beats
    assert b["total"] == len(ann)
    for c in "NSVFQ":
        assert b[c] == int(np.count_nonzero(aami == c))
    assert result_201.af["episodes"] >= 1 and result_201.af["burden_pct"] > 10


def test_json_round_trip_and_schema(result_201, tmp_path):
    path = tmp_path / "r.result.json"
    result_201.to_json(path, include_beats=True)
    back = HolterResult.from_json(path)
    assert back.to_dict(include_beats=True) == json.loads(path.read_text())
    np.testing.assert_array_equal(back.beat_samples, result_201.beat_samples)
    back.validate()
    text = path.read_text()
    assert "NaN" not in text and "Infinity" not in text


def test_schema_rejects_broken_result(result_201):
    import jsonschema

    d = result_201.to_dict()
    d["beats"]["V"] = -1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(d, result_schema())
    d = result_201.to_dict()
    del d["hrv"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(d, result_schema())


@pytest.mark.parametrize(
    ("section", "key"),
    [
        ("hrv", "sdann_ms"),
        ("hrv", "sdnn_index_ms"),
        ("hrv", "tinn_ms"),
        ("hrv", "ulf_ms2"),
        ("hrv", "dfa_alpha2"),
        ("hrv", "hrt_ts_ms_per_beat"),
        ("hrv", "night"),
        ("ventricular", "triplets"),
        ("ventricular", "fastest_run"),
        ("supraventricular", "trigeminy_episodes"),
        ("heart_rate", "day"),
        ("af", "afl_burden_pct"),
        ("pauses", "sinus_arrests"),
    ],
)
def test_schema_requires_every_value_issue_4_names(result_201, section, key):
    """The schema is the API's contract: a result without one of the values the Holter
    analysis promises does not validate (``null`` is allowed where a value is not defined)."""
    import jsonschema

    d = result_201.to_dict()
    assert key in d[section]
    jsonschema.validate(d, result_schema())
    del d[section][key]
    with pytest.raises(jsonschema.ValidationError, match=key):
        jsonschema.validate(d, result_schema())


def test_schema_requires_every_event_field(result_201):
    import jsonschema

    d = result_201.to_dict()
    assert d["events"]
    for key in ("rate_bpm", "lead", "n_beats", "detail"):
        e = copy.deepcopy(d)
        del e["events"][0][key]
        with pytest.raises(jsonschema.ValidationError, match=key):
            jsonschema.validate(e, result_schema())


def test_schema_event_types_match_library():
    enum = result_schema()["$defs"]["event"]["properties"]["type"]["enum"]
    assert sorted(enum) == sorted(EVENT_TYPES)


def test_from_dict_errors():
    with pytest.raises(ResultError, match="schema_version"):
        HolterResult.from_dict({"recording": {}})
    with pytest.raises(ResultError, match="not readable"):
        HolterResult.from_dict(
            {"schema_version": "2.0", "recording": {}, "heart_rate": {}, "beats": {}}
        )
    with pytest.raises(ResultError, match="not valid JSON"):
        HolterResult.from_json("{broken")


def test_to_pandas_tables(result_201):
    t = result_201.to_pandas()
    assert len(t["beats"]) == result_201.beats["total"]
    assert set(t["beats"]["label"]) <= set("NSVFQ")
    assert len(t["events"]) == len(result_201.events)
    assert t["summary"]["beats_total"][0] == result_201.beats["total"]
    assert t["hourly"]["n_beats"].sum() == result_201.heart_rate["n_beats"]
    ect = t["ectopy"].set_index("class")
    assert list(ect.index) == ["V", "S"]
    for cls, sec in (("V", result_201.ventricular), ("S", result_201.supraventricular)):
        for key in ("total", "isolated", "couplets", "triplets", "runs", "bigeminy_episodes"):
            assert ect.loc[cls, key] == sec[key]
    assert len(t["hrv_hourly"]) == len(result_201.hrv["hourly"]) > 0
    assert "sdnn_ms" in t["hrv_hourly"] and "rmssd_ms" in t["hrv_hourly"]


def test_json_safe():
    assert json_safe({"a": np.float32(np.nan), "b": np.int64(3), "c": np.array([1.5, np.inf])}) == {
        "a": None,
        "b": 3,
        "c": [1.5, None],
    }


def test_nsrdb_noise_annotations_are_excluded():
    ann = read_annotations(NSRDB / "16272.atr")
    noise = ann.noise_intervals(n_signals=2)
    assert noise.shape[1] == 2 and len(noise) > 10
    r = analyze_beats(ann, name="16272")
    # the unannotated noisy stretches must not be reported as pauses
    assert r.pauses["count"] == 0
    assert 0 < r.recording["noise_pct"] < 20
    assert 40 <= r.headline()["hr_min_bpm"] < r.heart_rate["mean_bpm"] < r.headline()["hr_max_bpm"]
    assert 100 <= r.hrv["sdnn_ms"] <= 200


def test_analyze_beats_needs_beats():
    from holterlab.errors import ParameterError

    with pytest.raises(ParameterError, match="fewer than two beats"):
        analyze_beats(Annotations([10], ["N"], 250.0))


def test_analyze_beats_clock_time_and_unannotated_tail():
    """A start time (ISO string) gives clock hours and day/night values; time after the last
    annotated beat is not analysable (not asystole, no diluted hourly rate)."""
    ann = read_annotations(NSRDB / "16272.atr")
    last_s = float(ann.beats().sample[-1] / ann.fs)
    r = analyze_beats(ann, start_time="2026-01-01T10:45:00", duration_s=last_s + 5400.0)
    assert r.heart_rate["day"]["n_beats"] > 0 and r.heart_rate["night"]["n_beats"] > 0
    assert r.hrv["day"]["n_nn"] > 0 and r.hrv["night"]["n_nn"] > 0
    assert r.recording["analysable_s"] < last_s
    tail = [h for h in r.hourly if h["start_s"] >= last_s]
    assert tail and all(h["analysable_s"] == 0 and h["mean_bpm"] is None for h in tail)
    assert r.pauses["count"] == 0
    with pytest.raises(ParameterError, match="ISO-8601"):
        analyze_beats(ann, start_time="yesterday")
