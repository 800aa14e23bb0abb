"""Cross-checks on MIT-BIH records: against wfdb-python's matcher, and .atr against itself.

wfdb's ``compare_annotations(ref, test, window_width)`` pairs beats with
``|T - t| < window_width`` (strict) while bxb/EC57 use ``<= window``, so wfdb is given
``window + 1`` samples. Neither has a learning period here (``learning_s=0``) and the
comparison runs to past the last beat of either file (``end_s``), as wfdb counts every beat.
The only known difference is the partner chosen in an exact tie (two test beats equally far
from a reference beat): bxb pairs the later one, wfdb the earlier; the counts agree.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from holterlab.annotations import Annotations, read_annotations
from holterlab.evaluate import compare_beats, evaluate_records
from tests.conftest import DS1, MITDB

WINDOW = 54  # 150 ms at 360 Hz (bxb: int(0.15 * 360 + 0.5))


def perturbed(reference: Annotations, seed: int) -> Annotations:
    rng = np.random.default_rng(seed)
    s = reference.sample
    keep = rng.random(s.size) > 0.03  # ~3 % missed
    moved = s[keep] + rng.integers(-60, 61, keep.sum())  # some jitter beyond the window
    extra = rng.integers(0, s[-1], 60)  # false detections anywhere
    t = np.unique(np.clip(np.concatenate([moved, extra]), 0, None))
    return Annotations(t, ["N"] * t.size, reference.fs)


@pytest.mark.parametrize("record", [101, 203, 207])
def test_qrs_counts_equal_wfdb_compare_annotations(mitdb, record):
    from wfdb.processing import compare_annotations

    reference = read_annotations(MITDB / f"{record}.atr").beats()
    for seed in range(8):
        test = perturbed(reference, seed)
        end = (max(test.sample[-1], reference.sample[-1]) + 1000) / reference.fs
        ours = compare_beats(reference, test, learning_s=0, end_s=end)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = compare_annotations(reference.sample, test.sample, WINDOW + 1)
        s = ours.statistics
        assert (s.qrs_tp, s.qrs_fn, s.qrs_fp) == (theirs.tp, theirs.fn, theirs.fp)
        assert s.qrs_fn > 0 and s.qrs_fp > 0  # the case is not trivial
        # pairs agree except in exact ties
        mine = np.full(len(reference), -1)
        mine[ours.pairs[:, 0]] = ours.pairs[:, 1]
        wfdb_pairs = theirs.matching_sample_nums
        for b in np.flatnonzero(mine != wfdb_pairs):
            assert mine[b] >= 0 and wfdb_pairs[b] >= 0
            t = test.sample
            assert abs(t[mine[b]] - reference.sample[b]) == abs(
                t[wfdb_pairs[b]] - reference.sample[b]
            )


@pytest.mark.parametrize("record", DS1[:6] + [207, 208])
def test_atr_against_itself_is_perfect(mitdb, record):
    reference = read_annotations(MITDB / f"{record}.atr")
    c = compare_beats(reference, reference)
    defined = {k: v for k, v in c.statistics.ratios().items() if v is not None}
    for name, value in defined.items():
        assert value == (0.0 if name.endswith("fpr") else 1.0), name
    assert c.statistics.qrs_fn == 0 and c.statistics.qrs_fp == 0
    off_diagonal = c.matrix - np.diag(np.diag(c.matrix))
    assert not off_diagonal.any()
    assert c.statistics.qrs_tp > 1000


def test_ds1_report_against_itself(mitdb):
    pairs = {}
    for record in DS1:
        a = read_annotations(MITDB / f"{record}.atr")
        pairs[str(record)] = (a, a)
    report = evaluate_records(pairs)
    gross = report.gross
    assert gross.qrs_se == gross.qrs_pp == gross.veb_se == gross.sveb_se == 1.0
    assert report.average["veb_pp"] == 1.0
    text = report.format()
    assert "Gross" in text and "Average" in text and "230" in text
