"""The NN series: label rules, excluded time, RR limits, change filter, input checks."""

from __future__ import annotations

import numpy as np
import pytest

from holterlab.errors import AnnotationError, ParameterError
from holterlab.hrv.nn import (
    change_filter_python,
    merge_intervals,
    nn_intervals,
    overlaps_excluded,
)
from holterlab.params.hrv import HRVParams
from tests.hrv.synth import beats_from_rr


def _series(n=20, rr=800.0):
    rr_ms = np.full(n, rr) + np.arange(n)  # distinct values
    return beats_from_rr(rr_ms), np.full(n + 1, "N")


def test_all_normal_gives_every_interval_adjacent():
    beats, labels = _series()
    s = nn_intervals(beats, labels, 1000.0)
    assert len(s) == 20
    np.testing.assert_allclose(s.nn_ms, 800.0 + np.arange(20))
    np.testing.assert_allclose(s.times_s, beats[1:] / 1000.0)
    assert not s.adjacent[0] and s.adjacent[1:].all()
    assert s.rejected == {
        "not_normal": 0,
        "excluded": 0,
        "non_sinus": 0,
        "out_of_range": 0,
        "change": 0,
    }


@pytest.mark.parametrize("label", ["V", "S", "F", "Q", "|", "X"])
def test_an_ectopic_or_artefact_beat_removes_its_two_intervals(label):
    beats, labels = _series()
    labels[7] = label  # intervals 6 (beat 6->7) and 7 (beat 7->8) go
    s = nn_intervals(beats, labels, 1000.0)
    assert len(s) == 18
    assert list(s.start_beat) == [i for i in range(20) if i not in (6, 7)]
    # the interval after the gap is not adjacent to the one before it
    k = list(s.start_beat).index(8)
    assert not s.adjacent[k] and s.adjacent[k - 1]
    assert s.rejected["not_normal"] == 2


def test_excluded_time_drops_only_overlapping_intervals():
    beats, labels = _series()
    t = beats / 1000.0
    # an excluded stretch inside interval 5 and one touching intervals 10 and 11
    excluded = [(t[5] + 0.1, t[5] + 0.2), (t[11] - 0.05, t[11] + 0.05)]
    s = nn_intervals(beats, labels, 1000.0, excluded=excluded)
    assert sorted(set(range(20)) - set(s.start_beat)) == [5, 10, 11]
    assert s.rejected["excluded"] == 3


def test_fibrillation_and_flutter_time_is_not_sinus_rhythm():
    """AAMI labels the beats of AF and flutter N; HRV leaves their intervals out all the same."""
    beats, labels = _series()
    t = beats / 1000.0
    s = nn_intervals(beats, labels, 1000.0, non_sinus=[(t[4], t[9])])
    # the intervals between the episode's first and last beat (4->5 ... 8->9) go
    assert sorted(set(range(20)) - set(s.start_beat)) == list(range(4, 9))
    assert s.rejected["non_sinus"] == 5 and s.rejected["excluded"] == 0


def test_merge_and_overlap_helpers():
    starts, ends = merge_intervals([(5, 6), (1, 3), (2, 4), (4.5, 4.6)])
    np.testing.assert_allclose(starts, [1, 4.5, 5])
    np.testing.assert_allclose(ends, [4, 4.6, 6])
    hit = overlaps_excluded(
        np.array([0.0, 3.9, 4.0, 4.7, 6.0]), np.array([1.0, 5, 4.4, 4.9, 7]), starts, ends
    )
    assert list(hit) == [False, True, False, False, False]


def test_rr_limits():
    rr = np.array([800, 250, 800, 2100, 800, 300, 2000], dtype=float)
    beats = beats_from_rr(rr)
    s = nn_intervals(beats, None, 1000.0)
    np.testing.assert_allclose(s.nn_ms, [800, 800, 800, 300, 2000])
    assert s.rejected["out_of_range"] == 2
    s = nn_intervals(beats, None, 1000.0, params=HRVParams(min_rr_ms=400, max_rr_ms=1500))
    np.testing.assert_allclose(s.nn_ms, [800, 800, 800])


def test_change_filter_rejects_jumps_from_the_last_accepted_interval():
    rr = np.array([800, 810, 1000, 820, 830, 600, 840], dtype=float)
    s = nn_intervals(beats_from_rr(rr), None, 1000.0, params=HRVParams(change_filter=True))
    np.testing.assert_allclose(s.nn_ms, [800, 810, 820, 830, 840])
    assert s.rejected["change"] == 2
    assert list(s.adjacent) == [False, True, False, True, False]
    off = nn_intervals(beats_from_rr(rr), None, 1000.0)
    assert len(off) == 7


def test_change_filter_resets_after_a_long_gap():
    # a sustained rate change: after change_reset_s without an accepted interval, the filter
    # accepts the new rate instead of rejecting it for ever
    rr = np.concatenate([np.full(10, 1000.0), np.full(40, 600.0)])
    p = HRVParams(change_filter=True, change_reset_s=5.0)
    s = nn_intervals(beats_from_rr(rr), None, 1000.0, params=p)
    accepted_600 = np.count_nonzero(s.nn_ms == 600)
    assert 40 - 10 <= accepted_600 < 40  # about 5 s (9 beats) rejected, then accepted


def test_change_filter_compiled_equals_python_reference():
    from holterlab.hrv._kernels import change_filter

    rng = np.random.default_rng(3)
    for _ in range(5):
        n = 5000
        nn = 800 + rng.normal(0, 120, n)
        start = np.cumsum(nn) / 1000.0 + np.cumsum(rng.exponential(0.3, n) * (rng.random(n) < 0.05))
        end = start + nn / 1000.0
        for frac, reset in [(0.2, 10.0), (0.1, 2.0), (0.05, 60.0)]:
            ref = change_filter_python(nn, start, end, frac, reset)
            got = change_filter(nn, start, end, frac, reset)
            assert np.array_equal(ref, got)
            assert 0 < ref.sum() < n


def test_subset_keeps_adjacency_only_between_kept_neighbours():
    beats, labels = _series()
    s = nn_intervals(beats, labels, 1000.0)
    mask = np.ones(len(s), bool)
    mask[5] = False
    sub = s.subset(mask)
    assert len(sub) == 19
    assert not sub.adjacent[0] and not sub.adjacent[5] and sub.adjacent[6]


def test_short_inputs_give_empty_series():
    assert len(nn_intervals(np.array([100]), np.array(["N"]), 250.0)) == 0
    assert len(nn_intervals(np.array([], dtype=np.int64), np.array([], dtype=str), 250.0)) == 0


@pytest.mark.parametrize(
    "beats, labels, fs, excluded, error, message",
    [
        ([3, 2, 5], None, 250, None, AnnotationError, "sorted"),
        ([[1, 2]], None, 250, None, AnnotationError, "1-D"),
        ([1.5, 2.0], None, 250, None, AnnotationError, "whole sample"),
        ([1, 2, 3], ["N", "N"], 250, None, AnnotationError, "one entry per beat"),
        ([1, 2, 3], None, 0, None, ParameterError, "positive"),
        ([1, 2, 3], None, "x", None, ParameterError, "number"),
        ([1, 2, 3], None, 250, [1, 2, 3], ParameterError, "start_s, end_s"),
        ([1, 2, 3], None, 250, [(2, 1)], ParameterError, "start_s <= end_s"),
        ([1, 2, 3], None, 250, [(0, np.nan)], ParameterError, "finite"),
    ],
)
def test_bad_input_raises_specific_errors(beats, labels, fs, excluded, error, message):
    with pytest.raises(error, match=message):
        nn_intervals(np.asarray(beats), labels, fs, excluded=excluded)


def test_labels_as_bytes_lists_or_none():
    beats = beats_from_rr(np.full(4, 800.0))
    assert len(nn_intervals(beats, None, 1000.0)) == 4
    assert len(nn_intervals(beats, [b"N", b"N", b"V", b"N", b"N"], 1000.0)) == 2
    assert len(nn_intervals(beats, ["N", "N", "V", "N", "N"], 1000.0)) == 2
