"""Loading the sides of a comparison and deriving reference episodes from annotations."""

from __future__ import annotations

import json

import numpy as np
import pytest

from holterlab.annotations import Annotations, write_annotations
from holterlab.compare import compare, load_side
from holterlab.compare.events import pause_threshold, side_episodes
from holterlab.errors import (
    AnnotationError,
    HolterlabError,
    ParameterError,
    RecordingNotFoundError,
)
from holterlab.events import Event
from holterlab.result import ResultError
from tests.compare.helpers import FS, bare_result, base_beats, result_from_beats


def reference_annotations() -> Annotations:
    """Beats every second (a 2.5 s pause after 5 s) and rhythm changes incl. (B vs (BII."""
    beats = [1.0, 2.0, 3.0, 4.0, 5.0, 7.5, 8.5, 9.5, 10.5, 11.5, 12.5]
    rhythm = [(0.5, "(N"), (2.5, "(B"), (4.5, "(BII"), (6.0, "(AFIB"), (8.0, "(AFIB"), (10.0, "(N")]
    samples = [round(t * FS) for t in beats] + [round(t * FS) for t, _ in rhythm]
    symbols = ["N"] * len(beats) + ["+"] * len(rhythm)
    aux = [""] * len(beats) + [note for _, note in rhythm]
    return Annotations(np.asarray(samples), symbols, FS, aux)


def test_annotation_episodes_match_codes_exactly():
    side = load_side(reference_annotations())
    assert side.kind == "annotations" and side.has_beats and side.has_rhythm
    big = side_episodes(side, "v_bigeminy", end_s=None, pause_s=2.0)
    assert big.tolist() == [[2.5, 4.5]]  # (BII (2nd degree block) ends it, is not bigeminy
    af = side_episodes(side, "af", end_s=None, pause_s=2.0)
    assert af.tolist() == [[6.0, 10.0]]  # (AFIB followed by (AFIB continues the episode
    assert side_episodes(side, "vt", end_s=None, pause_s=2.0).shape == (0, 2)


def test_open_episode_ends_at_the_last_annotation():
    ann = reference_annotations()
    cut = ann.select(~((ann.symbol == "+") & (ann.sample >= round(10.0 * FS))))  # no final (N
    side = load_side(cut)
    assert side_episodes(side, "af", end_s=None, pause_s=2.0).tolist() == [[6.0, 12.5]]
    assert side_episodes(side, "af", end_s=20.0, pause_s=2.0).tolist() == [[6.0, 20.0]]


def test_annotation_pauses_use_the_threshold():
    side = load_side(reference_annotations())
    assert side_episodes(side, "pause", end_s=None, pause_s=2.0).tolist() == [[5.0, 7.5]]
    assert side_episodes(side, "pause", end_s=None, pause_s=3.0).shape == (0, 2)


def test_pause_threshold_comes_from_the_result_params():
    result = result_from_beats(*base_beats())
    assert pause_threshold(load_side(result)) == 2.0
    result.params["rhythm"]["pause"]["pause_s"] = 3.0
    assert pause_threshold(load_side(reference_annotations()), load_side(result)) == 3.0
    assert pause_threshold(load_side(reference_annotations())) == 2.0


def test_annotation_reference_vs_result_events():
    result = bare_result(
        [Event("af", 6.5, 9.0), Event("pause", 5.0, 7.5), Event("s_couplet", 1.0, 2.0)],
        duration=13.0,
    )
    c = compare(reference_annotations(), result)
    # s_couplet cannot come from annotations: not compared, with a note
    assert set(c.events) == {"af", "pause", "v_bigeminy"}
    assert any("s_couplet" in n for n in c.notes)
    assert c.events["af"].duration_se == pytest.approx(2.5 / 4.0)
    assert c.events["pause"].episode_se == 1.0
    assert c.events["v_bigeminy"].episode_se == 0.0
    with pytest.raises(ParameterError, match="cannot be derived"):
        compare(reference_annotations(), result, event_types=["st_depression"])


def test_annotations_without_rhythm_give_only_pauses():
    ann = reference_annotations().beats()
    result = bare_result([Event("af", 6.5, 9.0)], duration=13.0)
    c = compare(ann, result)
    assert list(c.events) == ["pause"]
    assert any("no '+' rhythm annotations" in n for n in c.notes)


def test_annotation_file_with_fs(tmp_path):
    path = tmp_path / "ref.atr"
    write_annotations(reference_annotations(), path)
    side = load_side(path)
    assert side.name == "ref.atr" and side.annotations.fs == FS and side.duration_s is None
    assert load_side(path, name="doctor").name == "doctor"


@pytest.mark.parametrize(
    "content, error, match",
    [
        ("{not json", ResultError, "not valid JSON"),
        ("", ResultError, "empty"),
        ('{"a": 1}', ResultError, "no schema_version"),
        ("[1, 2]", ResultError, "JSON object"),
        (
            '{"schema_version": "1.0", "recording": {}, "heart_rate": {}, "beats": {},'
            ' "beat_list": {"sample": [1]}}',
            ResultError,
            "not a valid holterlab result",
        ),
        (
            '{"schema_version": "1.0", "recording": {}, "heart_rate": {}, "beats": {},'
            ' "events": [{"type": "nonsense", "start_s": 0, "end_s": 1}]}',
            ResultError,
            "not a valid holterlab result",
        ),
    ],
)
def test_broken_result_files(tmp_path, content, error, match):
    path = tmp_path / "broken.json"
    path.write_text(content)
    with pytest.raises(error, match=match):
        load_side(path)


def test_other_broken_inputs(tmp_path):
    with pytest.raises(ResultError, match="no such result file"):
        load_side(tmp_path / "missing.json")
    with pytest.raises(RecordingNotFoundError):
        load_side(tmp_path / "missing.atr")
    garbage = tmp_path / "garbage.atr"
    garbage.write_bytes(bytes(range(256)) * 3)
    with pytest.raises(HolterlabError):
        load_side(garbage)
    empty = tmp_path / "empty.atr"
    empty.write_bytes(b"")
    with pytest.raises(AnnotationError):
        load_side(empty)
    binary = tmp_path / "binary.json"
    binary.write_bytes(b"\xff\xfe\x00{")
    with pytest.raises(ResultError, match="UTF-8"):
        load_side(binary)
    with pytest.raises(ParameterError, match="folder"):
        load_side(tmp_path)
    with pytest.raises(ParameterError, match="HolterResult"):
        load_side(42)


def test_json_content_without_json_suffix(tmp_path):
    result = result_from_beats(*base_beats())
    path = tmp_path / "result.txt"
    path.write_text(json.dumps(result.to_dict(include_beats=True)))
    side = load_side(path)
    assert side.kind == "result" and side.has_beats
