"""Input checks and the beat series (excluded time, segments, label mapping)."""

import datetime as dt

import numpy as np
import pytest

from holterlab.errors import AnnotationError, HolterlabError, ParameterError
from holterlab.rhythm import analyze_rhythm
from holterlab.rhythm._input import analysable_before, prepare


def test_excluded_intervals_are_merged_and_beats_dropped():
    beats = np.arange(0, 100, dtype=np.int64) * 100  # one beat a second at 100 Hz
    s = prepare(
        beats, ["N"] * 100, 100.0, excluded=[(20.5, 25.5), (24, 30.2), (50, 50)], duration_s=100
    )
    assert s.excluded.tolist() == [[20.5, 30.2]]
    assert s.n == 90 and s.n_dropped == 10
    assert s.analysable_s == pytest.approx(100 - 9.7)
    # a new segment starts after the excluded time
    assert s.seg[s.t < 20].max() == 0 and s.seg[s.t > 30].min() == 1
    assert np.isnan(s.rr[np.searchsorted(s.t, 31.0)])


def test_analysable_before():
    exc = np.array([[10.0, 20.0], [30.0, 35.0]])
    x = np.array([0.0, 10.0, 15.0, 20.0, 32.0, 40.0])
    assert analysable_before(x, exc).tolist() == [0.0, 10.0, 10.0, 10.0, 20.0, 25.0]


def test_mit_symbols_are_mapped_to_aami():
    s = prepare(np.array([10, 20, 30, 40]), ["L", "A", "E", "/"], 10.0)
    assert s.code.tolist() == [0, 1, 2, 4]


@pytest.mark.parametrize(
    "beats, labels, kw, error",
    [
        ([3, 2, 5], "NNN", {}, AnnotationError),
        ([1, 1, 5], "NNN", {}, AnnotationError),
        ([1.5, 2, 5], "NNN", {}, AnnotationError),
        ([-1, 2, 5], "NNN", {}, AnnotationError),
        ([1, 2, 5], "NN", {}, AnnotationError),
        ([1, 2, 5], "NXN", {}, AnnotationError),
        ([[1, 2]], "NN", {}, AnnotationError),
        ([1, 2, 5], "NNN", {"fs": 0}, ParameterError),
        ([1, 2, 5], "NNN", {"fs": "x"}, ParameterError),
        ([1, 2, 500], "NNN", {"duration_s": 1.0}, ParameterError),
        ([1, 2, 5], "NNN", {"excluded": [(3, 1)]}, ParameterError),
        ([1, 2, 5], "NNN", {"excluded": [(1, 2, 3)]}, ParameterError),
        ([1, 2, 5], "NNN", {"excluded": [("a", "b")]}, ParameterError),
        ([1, 2, 5], "NNN", {"excluded": [(1, float("nan"))]}, ParameterError),
        ([1, 2, 5], "NNN", {"start_time": "2024-01-01"}, ParameterError),
        ([1, 2, 5], "NNN", {"params": 3}, ParameterError),
        ([1, 2, 5], "NNN", {"params": {"nope": 1}}, ParameterError),
        ([1, 2, 5], "NNN", {"params": {"af": {"threshold": -1}}}, ParameterError),
    ],
)
def test_bad_input_raises_holterlab_errors(beats, labels, kw, error):
    fs = kw.pop("fs", 10.0)
    with pytest.raises(error) as info:
        analyze_rhythm(np.array(beats), list(labels), fs, **kw)
    assert isinstance(info.value, HolterlabError)


@pytest.mark.parametrize(
    "beats, labels, kw",
    [
        (np.zeros(0, np.int64), [], {}),
        (np.array([100]), ["N"], {}),
        (np.array([100, 200]), ["V", "S"], {"duration_s": 30}),
        (np.arange(10) * 100, ["N"] * 10, {"excluded": [(0, 20)], "duration_s": 20}),
    ],
)
def test_degenerate_inputs_give_json_without_nan(beats, labels, kw):
    import json

    r = analyze_rhythm(beats, labels, 100.0, start_time=dt.datetime(2024, 1, 1, 12), **kw)
    text = json.dumps(r.to_dict(), allow_nan=False)
    assert "NaN" not in text
    assert r.heart_rate.min.bpm is None or r.heart_rate.min.bpm > 0
