"""Run-length segmentation: the vectorised functions equal their plain-Python references."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from holterlab.rhythm._input import segment_bounds
from holterlab.rhythm.runs import (
    geminy_chains,
    geminy_chains_py,
    merge_spans,
    runs_of,
    runs_of_py,
)

codes = st.lists(st.integers(0, 4), max_size=80)


def _segs(n: int, cuts: list[int]) -> np.ndarray:
    seg = np.zeros(n, dtype=np.int64)
    for c in cuts:
        if 0 < c < n:
            seg[c:] += 1
    return seg


@settings(max_examples=300, deadline=None)
@given(codes, st.lists(st.integers(0, 80), max_size=4), st.integers(0, 4))
def test_runs_of_equals_reference(code, cuts, target):
    code = np.array(code, dtype=np.int8)
    seg = _segs(code.size, cuts)
    mask = code == target
    a = runs_of(mask, seg)
    b = runs_of_py(mask, seg)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.sampled_from([0, 0, 0, 1, 2]), max_size=80),
    st.lists(st.integers(0, 80), max_size=3),
    st.sampled_from([1, 2]),
    st.sampled_from([1, 2]),
)
def test_geminy_chains_equals_reference(code, cuts, target, spacing):
    code = np.array(code, dtype=np.int8)
    seg = _segs(code.size, cuts)
    a = geminy_chains(code, seg, target, spacing)
    b = geminy_chains_py(code, seg, target, spacing)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])


def test_runs_of_examples():
    mask = np.array([1, 1, 0, 1, 1, 1, 0, 1], dtype=bool)
    first, last = runs_of(mask, np.zeros(8))
    assert first.tolist() == [0, 3, 7] and last.tolist() == [1, 5, 7]
    # a segment change splits a run
    first, last = runs_of(mask, np.array([0, 0, 0, 0, 1, 1, 1, 1]))
    assert first.tolist() == [0, 3, 4, 7] and last.tolist() == [1, 3, 5, 7]
    assert runs_of(np.zeros(0, bool), np.zeros(0))[0].size == 0


def test_geminy_chain_examples():
    # N V N V N V N: one bigeminal chain from the first to the last V
    code = np.array([0, 2, 0, 2, 0, 2, 0])
    first, last = geminy_chains(code, np.zeros(7), 2, 1)
    assert first.tolist() == [1] and last.tolist() == [5]
    # an S beat between two V beats breaks the chain
    code = np.array([0, 2, 1, 2, 0, 2, 0])
    first, last = geminy_chains(code, np.zeros(7), 2, 1)
    assert first.tolist() == [3] and last.tolist() == [5]
    # a couplet is not part of a chain
    code = np.array([0, 2, 2, 0, 2, 0, 2])
    first, last = geminy_chains(code, np.zeros(7), 2, 1)
    assert first.tolist() == [4] and last.tolist() == [6]


def test_segment_bounds_matches_searchsorted():
    seg = np.array([0, 0, 1, 1, 1, 3, 3, 4])
    lo, hi = segment_bounds(seg)
    assert np.array_equal(lo, np.searchsorted(seg, seg, side="left"))
    assert np.array_equal(hi, np.searchsorted(seg, seg, side="right"))


def test_merge_spans_by_gap_and_group():
    s, e = merge_spans(
        np.array([0.0, 12.0, 30.0, 31.0]),
        np.array([10.0, 20.0, 30.5, 40.0]),
        np.array([0, 0, 0, 1]),
        5.0,
    )
    assert s.tolist() == [0.0, 30.0, 31.0] and e.tolist() == [20.0, 30.5, 40.0]
