"""``holterlab.compare.compare``: beats, events, headline numbers and disagreements."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from holterlab.annotations import read_annotations
from holterlab.compare import Comparison, compare
from holterlab.errors import ParameterError
from holterlab.events import Event
from holterlab.pipeline import analyze_beats
from tests.compare.helpers import FS, RR, bare_result, base_beats, result_from_beats
from tests.conftest import MITDB


@pytest.fixture(scope="module")
def base():
    return result_from_beats(*base_beats())


@pytest.fixture(scope="module")
def altered():
    """The base beats with 3 removed, 2 added and 4 relabelled (see expected_matrix)."""
    samples, labels = base_beats()
    labels = labels.copy()
    labels[[100, 110]] = "V"  # N -> V
    labels[30] = "N"  # V -> N
    labels[70] = "N"  # S -> N
    keep = np.ones(samples.size, dtype=bool)
    keep[[5, 20, 60]] = False  # an N, a V and an S beat missing
    extra_s = np.array([samples[150] + RR // 2, samples[160] + RR // 2])  # 0.4 s from beats
    extra_l = np.array(["N", "V"])
    return result_from_beats(
        np.concatenate([samples[keep], extra_s]), np.concatenate([labels[keep], extra_l])
    )


def expected_matrix() -> np.ndarray:
    m = np.zeros((6, 6), dtype=np.int64)  # rows N S V F Q O, columns n s v f q o
    m[0, 0], m[0, 2], m[0, 5] = 189, 2, 1  # 192 N: 2 called V, 1 missing
    m[1, 0], m[1, 1], m[1, 5] = 1, 1, 1  # 3 S: one each called N, S, missing
    m[2, 0], m[2, 2], m[2, 5] = 1, 3, 1  # 5 V: 1 called N, 3 V, 1 missing
    m[5, 0], m[5, 2] = 1, 1  # extra N and extra V
    return m


# --------------------------------------------------------------------------- beats
def test_same_beats_agree_everywhere(base):
    c = compare(base, result_from_beats(*base_beats()))
    assert isinstance(c, Comparison)
    assert c.beats is not None
    for name, value in c.beats.statistics.ratios().items():
        expected = 0.0 if name.endswith("fpr") else 1.0
        assert value == expected, name
    m = c.beats.matrix
    assert np.array_equal(m, np.diag(np.diag(m)))
    assert m[0, 0] == 192 and m[1, 1] == 3 and m[2, 2] == 5
    assert c.n_disagreements == 0 and c.disagreements == []
    assert all(row["difference"] in (0, 0.0, None) for row in c.headline)
    assert any(row["difference"] == 0 for row in c.headline)
    assert c.identical


def test_result_and_its_json_are_identical(base, tmp_path):
    path = tmp_path / "r.json"
    base.to_json(path, include_beats=True)
    for other in (path, base.to_dict(include_beats=True), str(path)):
        c = compare(base, other)
        assert c.identical
        assert c.beats.qrs_se == 1.0
        for comp in c.events.values():
            assert comp.fn == comp.fp == 0
            assert comp.duration_se in (1.0, None) and comp.duration_pp in (1.0, None)


def test_removed_added_relabelled_beats_give_exact_statistics(base, altered):
    c = compare(base, altered)
    assert np.array_equal(c.beats.matrix, expected_matrix())
    assert c.beats.qrs_se == pytest.approx(197 / 200)
    assert c.beats.qrs_pp == pytest.approx(197 / 199)
    assert c.beats.veb_se == pytest.approx(3 / 5)
    assert c.beats.veb_pp == pytest.approx(3 / 6)
    assert c.beats.veb_fpr == pytest.approx(3 / (192 + 3))
    assert c.beats.sveb_se == pytest.approx(1 / 3)
    assert c.beats.sveb_pp == 1.0
    counts = c.disagreement_counts
    assert (counts["missed_beat"], counts["extra_beat"], counts["label_mismatch"]) == (3, 2, 4)
    assert not c.identical


def test_beat_disagreements_are_located_and_labelled(base, altered):
    c = compare(base, altered, event_types=[])
    samples, _ = base_beats()
    t = samples / FS
    beats = [d for d in c.disagreements if d["event_type"] is None]
    assert [d["time_s"] for d in beats] == sorted(d["time_s"] for d in beats)
    got = {(round(d["time_s"], 3), d["kind"], d["label_a"], d["label_b"]) for d in beats}
    expected = {
        (round(t[5], 3), "missed_beat", "N", ""),
        (round(t[20], 3), "missed_beat", "V", ""),
        (round(t[60], 3), "missed_beat", "S", ""),
        (round(t[150] + RR / 2 / FS, 3), "extra_beat", "", "N"),
        (round(t[160] + RR / 2 / FS, 3), "extra_beat", "", "V"),
        (round(t[30], 3), "label_mismatch", "V", "N"),
        (round(t[70], 3), "label_mismatch", "S", "N"),
        (round(t[100], 3), "label_mismatch", "N", "V"),
        (round(t[110], 3), "label_mismatch", "N", "V"),
    }
    assert got == expected


def test_disagreements_are_capped_but_counted(base, altered):
    c = compare(base, altered, event_types=[], max_disagreements=4)
    assert len(c.disagreements) == 4
    d = c.to_dict()["disagreements"]
    assert d["total"] == 9 and d["shown"] == 4 and d["truncated"] is True
    assert sum(d["by_kind"].values()) == 9
    assert compare(base, altered, event_types=[], max_disagreements=0).disagreements == []


def test_b_as_reference_swaps_missed_and_extra(base, altered):
    c = compare(altered, base, event_types=[])
    counts = c.disagreement_counts
    assert (counts["missed_beat"], counts["extra_beat"]) == (2, 3)
    assert c.beats.qrs_se == pytest.approx(197 / 199)


def test_window_is_passed_to_the_matcher(base):
    samples, labels = base_beats()
    shifted = result_from_beats(samples + int(0.1 * FS), labels)  # all beats 100 ms late
    assert compare(base, shifted, event_types=[]).beats.qrs_se == 1.0
    narrow = compare(base, shifted, window_ms=50, event_types=[])
    assert narrow.beats.qrs_se == 0.0
    assert narrow.disagreement_counts["missed_beat"] == 200


def test_learning_period_is_not_scored(base, altered):
    c = compare(base, altered, learning_s=100.0, event_types=[])
    # beats after 100 s: index >= 124; only the extras (150, 160) and relabels remain
    assert c.beats.cell("N", "o") == 0 and c.beats.cell("V", "o") == 0
    assert c.beats.cell("O", "n") == 1 and c.beats.cell("O", "v") == 1
    assert c.disagreement_counts["label_mismatch"] == 0


def test_missing_beat_list_skips_beats_with_a_note(base):
    c = compare(base, bare_result([], duration=200.0))
    assert c.beats is None
    assert any("beat-by-beat comparison skipped" in n for n in c.notes)
    assert c.to_dict()["beats"] is None
    assert "not compared" in c.format()


# --------------------------------------------------------------------------- events
def test_partly_overlapping_af_episode_durations():
    a = bare_result([Event("af", 100.0, 400.0), Event("pause", 1000.0, 1003.0)])
    b = bare_result([Event("af", 300.0, 500.0), Event("vt", 2000.0, 2005.0)])
    c = compare(a, b)
    assert list(c.events) == ["af", "pause", "vt"]
    af = c.events["af"]
    assert (af.ref_tp, af.fn, af.test_tp, af.fp) == (1, 0, 1, 0)
    assert af.episode_se == af.episode_pp == 1.0
    assert af.overlap_s == pytest.approx(100.0)
    assert af.duration_se == pytest.approx(100 / 300)
    assert af.duration_pp == pytest.approx(100 / 200)
    assert c.events["pause"].episode_se == 0.0 and c.events["pause"].episode_pp is None
    assert c.events["vt"].episode_se is None and c.events["vt"].episode_pp == 0.0
    items = [(d["time_s"], d["end_s"], d["kind"], d["event_type"]) for d in c.disagreements]
    assert items == [
        (1000.0, 1003.0, "episode_only_in_a", "pause"),
        (2000.0, 2005.0, "episode_only_in_b", "vt"),
    ]


def test_learning_period_clips_episodes():
    a = bare_result([Event("af", 100.0, 400.0)])
    b = bare_result([Event("af", 300.0, 500.0)])
    af = compare(a, b, learning_s=350.0).events["af"]
    assert af.ref_duration_s == pytest.approx(50.0)
    assert af.duration_se == pytest.approx(1.0)
    assert af.duration_pp == pytest.approx(50 / 150)


def test_event_types_select_and_validate():
    a = bare_result([Event("af", 100.0, 400.0), Event("pause", 1000.0, 1003.0)])
    b = bare_result([Event("af", 100.0, 400.0)])
    assert list(compare(a, b, event_types=["af"]).events) == ["af"]
    assert list(compare(a, b, event_types="pause").events) == ["pause"]
    assert list(compare(a, b, event_types=["svt"]).events["svt"].reference_episodes) == []
    with pytest.raises(ParameterError, match="unknown event type"):
        compare(a, b, event_types=["afib"])


def test_headline_table_of_two_results():
    a = bare_result([], ventricular={"total": 100}, af={"burden_pct": 0.0})
    b = bare_result([], ventricular={"total": 110}, af={"burden_pct": 2.5})
    rows = {r["key"]: r for r in compare(a, b).headline}
    assert rows["v_total"] == {
        "key": "v_total",
        "a": 100,
        "b": 110,
        "difference": 10,
        "relative_pct": pytest.approx(10.0),
    }
    assert rows["af_burden_pct"]["difference"] == 2.5
    assert rows["af_burden_pct"]["relative_pct"] is None  # relative to 0
    assert rows["sdnn_ms"]["difference"] is None
    assert "name" not in rows


# --------------------------------------------------------------------------- outputs
def test_outputs_are_json_pandas_and_text(base, altered):
    c = compare(base, altered)
    d = c.to_dict()
    text = json.dumps(d, allow_nan=False)
    assert json.loads(text)["beats"]["matrix"]["counts"] == expected_matrix().tolist()
    assert d["a"]["kind"] == "result" and d["settings"]["window_ms"] == 150.0
    tables = c.to_pandas()
    assert set(tables) == {"beats", "beat_statistics", "events", "headline", "disagreements"}
    assert tables["beats"].loc["N", "v"] == 2 and tables["beats"].loc["O", "n"] == 1
    assert len(tables["disagreements"]) == c.n_disagreements
    assert len(tables["headline"]) == len(c.headline)
    out = c.format()
    assert "QRS" in out and "VEB" in out and "SVEB" in out
    assert "98.50" in out  # QRS Se 197/200
    assert "missed beat 3" in out and "label mismatch 4" in out


def test_to_dict_has_no_nan():
    a = bare_result([Event("af", 0.0, 10.0)])
    b = bare_result([])
    d = compare(a, b).to_dict()

    def walk(x):
        if isinstance(x, dict):
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
        elif isinstance(x, float):
            assert math.isfinite(x)

    walk(d)
    json.dumps(d, allow_nan=False)
    assert d["events"]["af"]["episode_pp"] is None


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"window_ms": 0}, "window_ms"),
        ({"window_ms": float("nan")}, "window_ms"),
        ({"learning_s": -1}, "learning_s"),
        ({"learning_s": 5000}, "learning period"),
        ({"max_disagreements": -1}, "max_disagreements"),
        ({"max_disagreements": 1.5}, "max_disagreements"),
    ],
)
def test_bad_options_raise_parameter_error(kwargs, match):
    a = bare_result([], duration=3600.0)
    with pytest.raises(ParameterError, match=match):
        compare(a, a, **kwargs)


# --------------------------------------------------------------------------- MIT-BIH
@pytest.fixture(scope="module")
def record_201(mitdb):
    path = MITDB / "201.atr"
    result = analyze_beats(read_annotations(path), duration_s=650000 / 360, name="201")
    return path, result


def test_result_vs_mitbih_reference(record_201):
    path, result = record_201
    c = compare(path, result)
    assert c.a["kind"] == "annotations" and c.b["kind"] == "result"
    assert c.settings["end_s"] == pytest.approx(650000 / 360)  # from 201.hea
    assert c.beats.qrs_se == c.beats.qrs_pp == 1.0
    assert c.beats.veb_se == c.beats.veb_pp == 1.0
    assert c.beats.sveb_se == c.beats.sveb_pp == 1.0
    assert c.beats.n_reference == len(read_annotations(path).beats())
    assert c.disagreement_counts["missed_beat"] == 0
    assert c.disagreement_counts["label_mismatch"] == 0
    af = c.events["af"]
    assert af.ref_tp + af.fn == 3  # 201 has three (AFIB episodes
    assert af.episode_se == 1.0
    assert af.duration_se > 0.9
    assert "pause" in c.events and c.events["pause"].episode_se == 1.0
    assert c.headline is None
    assert any("only between two results" in n for n in c.notes)
    json.dumps(c.to_dict(), allow_nan=False)


def test_mitbih_reference_against_itself(mitdb):
    path = MITDB / "201.atr"
    c = compare(path, path)
    assert c.identical
    assert c.a["name"] != c.b["name"]
    assert c.beats.timing()["sd_ms"] == 0.0
    assert "matched beats: median +0.0 ms, SD 0.0 ms" in c.format()
    assert {"af", "svt", "v_trigeminy", "pause"} <= set(c.events)
    for comp in c.events.values():
        assert comp.episode_se == 1.0 and comp.duration_se == pytest.approx(1.0)
