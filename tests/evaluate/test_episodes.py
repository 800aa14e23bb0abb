"""Episode comparison (epicmp rules) and episode extraction from rhythm annotations."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from holterlab.annotations import Annotations, read_annotations
from holterlab.errors import ParameterError
from holterlab.evaluate import (
    compare_episodes,
    episodes_from_rhythm,
    episodes_from_vf,
    evaluate_episodes,
)
from tests.conftest import MITDB


def cmp(ref, test, **kw):
    kw.setdefault("learning_s", 0.0)
    return compare_episodes(ref, test, **kw)


def test_identical_episodes():
    eps = [(10, 70), (200, 500)]
    c = cmp(eps, eps)
    assert (c.ref_tp, c.fn, c.test_tp, c.fp) == (2, 0, 2, 0)
    assert c.episode_se == c.episode_pp == c.duration_se == c.duration_pp == 1.0
    assert c.ref_duration_s == 360.0


def test_any_overlap_is_a_match_and_durations_count_the_overlap():
    ref = [(100, 200), (400, 500)]
    test = [(190, 250), (600, 700)]
    c = cmp(ref, test)
    assert (c.ref_tp, c.fn) == (1, 1)  # (100, 200) overlaps 10 s of a test episode
    assert (c.test_tp, c.fp) == (1, 1)
    assert c.episode_se == 0.5 and c.episode_pp == 0.5
    assert c.overlap_s == pytest.approx(10.0)
    assert c.duration_se == pytest.approx(10 / 200)
    assert c.duration_pp == pytest.approx(10 / 160)
    assert c.ref_matched.tolist() == [True, False]


def test_touching_episodes_do_not_overlap():
    c = cmp([(0, 100)], [(100, 200)])
    assert c.ref_tp == 0 and c.test_tp == 0 and c.overlap_s == 0.0


def test_one_test_episode_covering_two_reference_episodes():
    c = cmp([(10, 20), (30, 40)], [(0, 100)])
    assert (c.ref_tp, c.fn, c.test_tp, c.fp) == (2, 0, 1, 0)
    assert c.overlap_s == pytest.approx(20.0)
    assert c.duration_pp == pytest.approx(0.2)


def test_learning_period_clips_and_skips():
    ref = [(100, 250), (280, 400)]
    test = [(100, 250), (350, 360)]
    c = compare_episodes(ref, test)  # default learning_s = 300
    assert c.reference_episodes.tolist() == [[300.0, 400.0]]
    assert (c.ref_tp, c.fn) == (1, 0)
    assert c.ref_duration_s == 100.0
    assert c.test_episodes.tolist() == [[350.0, 360.0]]


def test_end_clips_and_drops():
    c = cmp([(10, 50), (60, 90)], [(10, 50)], end_s=40)
    assert c.reference_episodes.tolist() == [[10.0, 40.0]]
    assert c.ref_duration_s == 30.0


def test_min_duration_ignores_short_episodes():
    c = cmp([(10, 12), (100, 200)], [(10, 12), (150, 160)], min_duration_s=5)
    assert (c.ref_tp, c.fn, c.test_tp, c.fp) == (1, 0, 1, 0)
    assert c.ref_duration_s == 100.0 and c.test_duration_s == 10.0


def test_exclusions_remove_parts_of_test_episodes():
    ref = [(0, 100)]
    test = [(50, 150), (300, 320)]
    c = cmp(ref, test, exclude=[(120, 150), (290, 330)])
    assert c.test_duration_s == pytest.approx(70.0)  # (300, 320) lies inside an exclusion
    assert (c.test_tp, c.fp) == (1, 0)


def test_overlapping_intervals_in_one_list_are_merged():
    c = cmp([(0, 50), (40, 100)], [(0, 100)])
    assert c.reference_episodes.tolist() == [[0.0, 100.0]]


def test_no_episodes_gives_undefined_ratios():
    c = cmp([], [])
    assert c.episode_se is None and c.episode_pp is None and c.duration_se is None
    json.dumps(c.to_dict())


def test_gross_and_average():
    pairs = {
        "a": ([(0, 100)], [(0, 50)]),  # ESe 1, DSe 0.5
        "b": ([(0, 100), (200, 300), (400, 500)], []),  # ESe 0, DSe 0
        "c": ([], []),  # undefined: skipped in averages
    }
    report = evaluate_episodes(pairs, learning_s=0)
    assert report.gross["episode_se"] == pytest.approx(1 / 4)
    assert report.average["episode_se"] == pytest.approx(0.5)
    assert report.gross["duration_se"] == pytest.approx(50 / 400)
    assert report.average["duration_se"] == pytest.approx(0.25)
    assert report.average["episode_pp"] == 1.0  # only record a has test episodes
    table = report.table()
    assert math.isnan(table.loc["c", "Ep Se"])
    assert table.loc["Gross", "TPs"] == 1
    text = report.format()
    assert "Gross" in text and "Average" in text
    json.dumps(report.to_dict())


@pytest.mark.parametrize("bad", [[(5, 1)], [(0, float("nan"))], [[1, 2, 3]], "abc"])
def test_bad_intervals(bad):
    with pytest.raises(ParameterError):
        cmp(bad, [])


def test_bad_options():
    with pytest.raises(ParameterError):
        cmp([], [], min_duration_s=-1)
    with pytest.raises(ParameterError):
        compare_episodes([], [], learning_s=300, end_s=100)


# ------------------------------------------------------------------ extraction
def rhythm(times, notes, fs=100.0, last=None):
    samples = list(times)
    symbols = ["+"] * len(samples)
    aux = list(notes)
    if last is not None:
        samples.append(last)
        symbols.append("N")
        aux.append("")
    return Annotations(np.asarray(samples), symbols, fs, aux)


def test_episodes_from_rhythm():
    a = rhythm([0, 1000, 2000, 3000, 4000], ["(N", "(AFIB", "(AFIB", "(N", "(AFIB"], last=5000)
    eps = episodes_from_rhythm(a)
    assert eps.tolist() == [[10.0, 30.0], [40.0, 50.0]]  # open episode ends at the last annotation
    assert episodes_from_rhythm(a, end_s=60.0)[-1].tolist() == [40.0, 60.0]
    assert episodes_from_rhythm(a, "(AFL").shape == (0, 2)


def test_episodes_from_vf():
    a = Annotations(np.array([10, 20, 30, 40, 50]), list("N[!]["), 10.0)
    assert episodes_from_vf(a).tolist() == [[2.0, 4.0], [5.0, 5.0]]


def test_mitdb_203_af_against_itself(mitdb):
    a = read_annotations(MITDB / "203.atr")
    eps = episodes_from_rhythm(a, end_s=1805.56)
    assert eps.shape[0] > 5
    c = compare_episodes(eps, eps, end_s=1805.56)
    assert c.episode_se == c.episode_pp == c.duration_se == c.duration_pp == 1.0


def test_mitdb_207_vf_episodes(mitdb):
    a = read_annotations(MITDB / "207.atr")
    eps = episodes_from_vf(a)
    assert eps.shape[0] >= 1 and np.all(eps[:, 1] > eps[:, 0])


def test_importing_evaluate_does_not_load_numba():
    code = "import sys, holterlab.evaluate; print('numba' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
