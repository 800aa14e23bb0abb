"""The compiled bxb matcher equals its plain-Python reference port, and keeps its invariants."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from holterlab.errors import ParameterError
from holterlab.evaluate import match_beats

times = st.lists(st.integers(min_value=0, max_value=400), max_size=40).map(
    lambda xs: np.sort(np.asarray(xs, dtype=np.int64))
)


@st.composite
def cases(draw):
    ref = draw(times)
    test = draw(st.one_of(times, st.just(ref), st.builds(lambda r: r + 3, st.just(ref))))
    window = draw(st.integers(min_value=0, max_value=60))
    start = draw(st.one_of(st.just(0), st.integers(min_value=0, max_value=300)))
    end = draw(st.one_of(st.none(), st.integers(min_value=start, max_value=450)))
    return ref, test, window, start, end


def run_both(ref, test, window, start, end):
    fast = match_beats(ref, test, window=window, start=start, end=end)
    slow = match_beats(ref, test, window=window, start=start, end=end, implementation="python")
    return fast, slow


@settings(max_examples=400, deadline=None)
@given(cases())
def test_numba_equals_python_reference(case):
    ref, test, window, start, end = case
    (fr, ft), (sr, st_) = run_both(ref, test, window, start, end)
    assert np.array_equal(fr, sr)
    assert np.array_equal(ft, st_)


@settings(max_examples=200, deadline=None)
@given(cases())
def test_pairs_are_one_to_one_and_within_the_window(case):
    ref, test, window, start, end = case
    ref_status, test_status = match_beats(ref, test, window=window, start=start, end=end)
    paired = np.flatnonzero(ref_status >= 0)
    partners = ref_status[paired]
    assert np.array_equal(test_status[partners], paired)  # mutual
    assert np.unique(partners).size == partners.size  # one-to-one
    assert np.all(np.abs(ref[paired] - test[partners]) <= window)
    assert np.all(np.diff(partners) > 0)  # order preserved
    # unpaired counted beats lie in the scored interval
    assert np.all(ref[ref_status == -1] >= start)
    if end is not None:
        assert np.all(ref[ref_status == -1] <= end)
        assert np.all(test[test_status == -1] <= end)


def test_well_separated_beats_pair_with_their_own_detection():
    rng = np.random.default_rng(7)
    ref = np.cumsum(rng.integers(250, 400, 3000)).astype(np.int64)
    keep = rng.random(ref.size) > 0.1
    test = np.sort(ref[keep] + rng.integers(-54, 55, keep.sum()))
    ref_status, test_status = match_beats(ref, test, window=54)
    assert np.array_equal(ref_status >= 0, keep)
    assert np.all(test_status >= 0)
    assert np.array_equal(ref_status[keep], np.arange(keep.sum()))


def test_large_inputs_match_between_implementations():
    rng = np.random.default_rng(3)
    ref = np.cumsum(rng.integers(60, 400, 20_000)).astype(np.int64)
    test = np.sort(
        np.concatenate([ref + rng.integers(-70, 70, ref.size), rng.integers(0, ref[-1], 500)])
    )
    (fr, ft), (sr, st_) = run_both(ref, test, 54, 108_000, None)
    assert np.array_equal(fr, sr) and np.array_equal(ft, st_)


def test_bad_arguments():
    a = np.array([1, 2, 3])
    with pytest.raises(ParameterError):
        match_beats(a[::-1], a, window=5)
    with pytest.raises(ParameterError):
        match_beats(a, a, window=-1)
    with pytest.raises(ParameterError):
        match_beats(a, a, window=5, start=10, end=5)
    with pytest.raises(ParameterError):
        match_beats(a, a, window=5, implementation="c")
    with pytest.raises(ParameterError):
        match_beats(np.array([-1, 2]), a, window=5)
