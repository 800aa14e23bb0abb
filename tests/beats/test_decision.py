"""Decision rules on top of the beat model (holterlab.beats.decision)."""

from __future__ import annotations

import numpy as np
import pytest

from holterlab.beats import decision as D
from holterlab.beats._run_kernels import sv_runs, sv_runs_ref
from holterlab.beats.classify import classify_beats

from ._synthetic_beats import synthetic_ecg


def _neutral_features(n: int) -> tuple[np.ndarray, dict[str, int]]:
    """Feature rows of ordinary sinus beats (log ratios 0, clear P waves, regular rhythm)."""
    from holterlab.beats.features import FEATURE_NAMES

    X = np.zeros((n, len(FEATURE_NAMES)), dtype=np.float32)
    col = {name: j for j, name in enumerate(FEATURE_NAMES)}
    X[:, col["rr_pre"]] = 0.8
    X[:, col["dom_corr"]] = 0.99
    X[:, col["ctx_p"]] = 0.95
    X[:, col["ctx_irr"]] = np.log10(0.01 + 1e-4)
    return X, col


def test_decide_labels_runs_and_abruptness():
    X, col = _neutral_features(14)
    X[5, col["pre_prev"]] = np.log2(0.6)  # the run's first beat: abruptly premature
    X[5:9, col["rr_pre"]] = 0.48
    X[5:9, col["pre_prev32"]] = np.log2(0.6)
    proba = np.tile([0.9, 0.05, 0.03, 0.02], (14, 1))
    proba[5] = [0.2, 0.7, 0.05, 0.05]  # the model calls only the first beat S
    labels = D.decide_labels(proba, X)
    assert "".join(labels) == "NNNNNSSSSNNNNN"
    # a gradual shortening (not abrupt) starts no run, even if the model says S
    X[5, col["pre_prev"]] = np.log2(0.95)
    assert "".join(D.decide_labels(proba, X)) == "N" * 14
    # an irregular neighbourhood without P waves (fibrillation): no S
    X[5, col["pre_prev"]] = np.log2(0.6)
    X[:, col["ctx_p"]] = 0.1
    X[:, col["ctx_irr"]] = np.log10(0.15)
    assert "".join(D.decide_labels(proba, X)) == "N" * 14


def test_family_consensus_needs_strong_evidence_for_v_overrides():
    label = np.array(list("NNNNVNNNVV"))
    family = np.array([0, 0, 0, 0, 0, 0, 0, 0, 1, 1])
    proba = np.tile([0.9, 0.0, 0.1, 0.0], (10, 1))
    proba[4] = [0.4, 0.0, 0.6, 0.0]  # a weak V inside the normal family
    proba[8:] = [0.1, 0.0, 0.9, 0.0]
    fam_labels, over = D.family_consensus(label, proba, family, 2)
    assert list(fam_labels) == ["N", "V"]
    assert over[4] == ""  # the weak V follows its family
    proba[4] = [0.02, 0.0, 0.98, 0.0]
    _, over = D.family_consensus(label, proba, family, 2)
    assert over[4] == "V"
    paced = np.array([False, True])
    fam_labels, over = D.family_consensus(label, proba, family, 2, paced=paced)
    assert fam_labels[1] == "Q" and np.all(over[8:] == "")


# ------------------------------------------------------------------ supraventricular runs
def _run_case(n: int = 40, start: int = 20, length: int = 8, ratio: float = 0.6):
    """Neutral sinus beats (RR 0.8 s) with a run of ``length`` beats at ``ratio`` x RR."""
    X, col = _neutral_features(n)
    rr = np.full(n, 0.8)
    rr[start : start + length] = 0.8 * ratio
    X[:, col["rr_pre"]] = rr
    prev = np.concatenate([[0.8], rr[:-1]])
    X[:, col["pre_prev"]] = np.log2(rr / prev)
    X[start, col["pre_prev32"]] = np.log2(ratio)
    return X, col


def test_abrupt_regular_run_is_s_even_where_the_model_says_n():
    X, col = _run_case()
    proba = np.tile([0.9, 0.05, 0.03, 0.02], (40, 1))  # the model calls every beat N
    labels = D.decide_labels(proba, X)
    assert "".join(labels) == "N" * 20 + "S" * 8 + "N" * 12
    assert D.supraventricular_runs(np.full(40, "N"), X).sum() == 8


def test_run_rule_needs_abrupt_onset_regularity_length_and_narrow_beats():
    n = np.full(40, "N")
    # a run of two beats is left to the model
    X, col = _run_case(length=2)
    assert not D.supraventricular_runs(n, X).any()
    # a 15 % faster rhythm is not abrupt enough to start a run
    X, col = _run_case(ratio=0.85)
    assert not D.supraventricular_runs(n, X).any()
    # an irregular fast rhythm (fibrillation with a fast response) is not an SVT
    X, col = _run_case(length=12)
    X[20:32, col["rr_pre"]] *= np.where(np.arange(12) % 2 == 0, 0.8, 1.2)
    assert not D.supraventricular_runs(n, X).any()
    # an irregular neighbourhood starts no run
    X, col = _run_case()
    X[:, col["ctx_irr"]] = np.log10(0.3)
    assert not D.supraventricular_runs(n, X).any()
    # a ventricular beat ends the run; a wide beat cannot start one
    X, col = _run_case(length=8)
    labels = n.copy()
    labels[24] = "V"
    assert np.flatnonzero(D.supraventricular_runs(labels, X)).tolist() == [20, 21, 22, 23]
    X[20, col["dom_corr"]] = 0.3
    assert not D.supraventricular_runs(n, X)[20]
    # the two beats after an ectopic beat have no reference RR: they start no run
    for before in (18, 19):
        X, col = _run_case()
        labels = n.copy()
        labels[before] = "V"
        assert not D.supraventricular_runs(labels, X)[20:].any()
    # an early beat, its return cycle, then sinus tachycardia faster than the reference RR:
    # not a run (the second beat of a run keeps the onset's rate)
    X, col = _run_case(length=12, ratio=0.75)
    X[20, col["rr_pre"]] = 0.45
    X[21, col["rr_pre"]] = 0.62
    assert not D.supraventricular_runs(n, X).any()
    # without P-wave-like atrial activity (flutter waves, fibrillation) a run is not an SVT
    X, col = _run_case()
    X[:, col["ctx_p"]] = -0.5
    assert not D.supraventricular_runs(n, X).any()


def test_gradual_acceleration_is_not_a_run():
    X, col = _neutral_features(80)
    rr = 0.8 * 0.97 ** np.clip(np.arange(80) - 20, 0, 30)  # 3 % faster each beat
    X[:, col["rr_pre"]] = rr
    X[:, col["pre_prev"]] = np.log2(rr / np.concatenate([[0.8], rr[:-1]]))
    X[:, col["pre_prev32"]] = np.log2(rr / 0.8)
    assert not D.supraventricular_runs(np.full(80, "N"), X).any()


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_run_kernel_equals_reference(seed):
    rng = np.random.default_rng(seed)
    n = 3000
    rr = rng.choice([0.8, 0.5, 0.45], n, p=[0.7, 0.2, 0.1]) * rng.uniform(0.9, 1.1, n)
    ctx_p = rng.uniform(0.0, 1.0, n)
    onset = rng.random(n) < 0.1
    ok = rng.random(n) < 0.95
    cases = (
        (8, 0.85, 3, 0.08, 0.5),
        (4, 0.9, 2, 0.2, 0.3),
        (16, 0.7, 5, 0.05, 0.0),
    )
    for args in cases:
        got = sv_runs(rr, ctx_p, onset, ok, *args)
        want = sv_runs_ref(rr, ctx_p, onset, ok, *args)
        assert got.dtype == np.bool_ and np.array_equal(got, want)
    assert sv_runs(rr, ctx_p, onset, ok, *cases[1]).sum() > 20  # the case exercises runs


def test_svt_run_in_a_synthetic_ecg_is_s():
    """A 40-beat paroxysmal SVT is S throughout (propagating the first S beat alone stops
    after about 16 beats, once the run itself is the preceding rhythm)."""
    kinds = ["N"] * 120 + ["S"] * 40 + ["N"] * 120
    x, beats = synthetic_ecg(kinds, fs=250.0, noise=0.01, seed=21)
    res = classify_beats(x, 250.0, beats)
    kinds = np.array(kinds)
    assert np.mean(res.labels[kinds == "S"] == "S") >= 0.9, res.counts()
    assert np.mean(res.labels[kinds == "N"] == "N") >= 0.99


# ------------------------------------------------------------------ aberrant conduction
def _premature_beat(pre: float, post: float, irregular: float = 0.01):
    X, col = _neutral_features(3)
    X[1, col["pre_local"]] = np.log2(pre)
    X[1, col["post_local"]] = np.log2(post)
    X[:, col["ctx_irr"]] = np.log10(irregular + 1e-4)
    return X


@pytest.mark.parametrize(
    ("pre", "post", "irregular", "aberrant"),
    [
        (0.42, 1.15, 0.01, True),  # very early, sinus node reset: an Ashman beat
        (0.42, 1.58, 0.01, False),  # full compensatory pause: ventricular
        (0.45, 0.55, 0.01, False),  # interpolated: ventricular
        (0.65, 1.0, 0.01, False),  # not early enough for aberrancy
        (0.42, 1.15, 0.3, False),  # atrial fibrillation: the pause means nothing
    ],
)
def test_aberrant_conduction(pre, post, irregular, aberrant):
    X = _premature_beat(pre, post, irregular)
    labels = np.array(["N", "V", "N"])
    assert D.aberrant_conduction(labels, X).tolist() == [False, aberrant, False]
    assert not D.aberrant_conduction(np.array(["N", "N", "N"]), X).any()  # only V beats


def test_sinus_beat_after_a_compensatory_pause_is_not_abrupt():
    """RR 0.8, a PVC at 0.4, its pause 1.2, then sinus at 0.75: the model's S for that beat is
    wrong (0.75 / 1.2 looks abrupt, but 0.75 / 0.8 is the sinus rhythm speeding up a little)."""
    X, col = _neutral_features(12)
    rr = np.array([0.8] * 6 + [0.4, 1.2, 0.75, 0.75, 0.75, 0.75])
    X[:, col["rr_pre"]] = rr
    X[:, col["pre_prev"]] = np.log2(rr / np.concatenate([[0.8], rr[:-1]]))
    proba = np.tile([0.9, 0.05, 0.03, 0.02], (12, 1))
    proba[6] = [0.02, 0.03, 0.95, 0.0]  # the PVC
    proba[8] = [0.1, 0.85, 0.05, 0.0]  # the model calls the sinus beat S
    assert "".join(D.decide_labels(proba, X)) == "NNNNNNVNNNNN"
    # the same beat without the PVC before it is abruptly premature and stays S
    proba[6] = [0.9, 0.05, 0.03, 0.02]
    assert D.decide_labels(proba, X)[8] == "S"


def test_aberrancy_needs_an_isolated_beat():
    """The second PVC of a couplet is as early and its pause looks non-compensatory (the pause
    follows the couplet, not the beat): it stays V."""
    X = _premature_beat(0.49, 0.99)
    assert D.aberrant_conduction(np.array(["N", "V", "N"]), X)[1]
    assert not D.aberrant_conduction(np.array(["V", "V", "N"]), X).any()
    assert not D.aberrant_conduction(np.array(["N", "V", "F"]), X).any()


def test_a_propagated_run_ends_at_its_first_beat_that_is_not_premature():
    """An APC in a sinus rhythm speeding up: the beat after it that is not premature ends the
    run; the faster sinus beats after that are not part of it."""
    X, col = _neutral_features(16)
    rr = np.array([0.8] * 6 + [0.5, 0.6, 0.78, 0.66, 0.64, 0.62, 0.8, 0.8, 0.8, 0.8])
    X[:, col["rr_pre"]] = rr
    X[:, col["pre_prev"]] = np.log2(rr / np.concatenate([[0.8], rr[:-1]]))
    X[:, col["pre_prev32"]] = np.log2(rr / 0.8)
    X[8, col["pre_prev32"]] = np.log2(0.8)  # faster than the 32 beats before (mostly 0.8 s)
    proba = np.tile([0.9, 0.05, 0.03, 0.02], (16, 1))
    proba[6] = [0.1, 0.85, 0.05, 0.0]  # the APC
    assert "".join(D.decide_labels(proba, X)) == "NNNNNNSSNNNNNNNN"


def test_a_long_run_stays_s_after_its_32_beat_reference_window():
    """A 60-beat SVT that warms up (no single abrupt onset, as in MIT-BIH 209), started as S
    by the model: once the median of the previous 32 RR is the run's own rate, its beats
    are still S while they keep the rate; the sinus beats after it are N."""
    n = 100
    X, col = _neutral_features(n)
    rr = np.full(n, 0.8)
    rr[20:80] = 0.41
    rr[20:23] = [0.43, 0.59, 0.48]
    X[:, col["rr_pre"]] = rr
    X[:, col["pre_prev"]] = np.log2(rr / np.concatenate([[0.8], rr[:-1]]))
    med32 = np.array([np.median(np.concatenate([[0.8] * 32, rr])[i : i + 32]) for i in range(n)])
    X[:, col["pre_prev32"]] = np.log2(rr / med32)
    proba = np.tile([0.9, 0.05, 0.03, 0.02], (n, 1))
    proba[[20, 22]] = [0.1, 0.85, 0.05, 0.0]
    labels = D.decide_labels(proba, X)
    assert "".join(labels) == "N" * 20 + "S" * 60 + "N" * 20
    X[:, col["dom_corr"]] = np.where(np.arange(n) == 60, 0.5, 0.99)  # a wide beat ends it
    assert "".join(D.decide_labels(proba, X)) == "N" * 20 + "S" * 40 + "N" * 40


# ------------------------------------------------------------------ ventricular escape
def _escape_case():
    """Sinus beats, then a wide, unlike, late family without P waves (an escape rhythm)."""
    X, col = _neutral_features(20)
    X[:, col["is_dom"]] = 1.0
    X[:, col["fam_dom_corr"]] = 1.0
    X[:, col["width_ms"]] = 90.0
    esc = np.arange(10, 20)
    X[esc, col["is_dom"]] = 0.0
    X[esc, col["fam_dom_corr"]] = 0.05
    X[esc, col["fam_width_rel"]] = np.log2(1.3)
    X[esc, col["width_ms"]] = 140.0
    X[esc, col["ctx_p"]] = -0.4
    X[esc, col["pre_local"]] = np.log2(1.2)
    X[esc, col["rr_pre"]] = 1.3
    return X, col, esc


def test_escape_rhythm_is_ventricular():
    X, col, esc = _escape_case()
    assert np.flatnonzero(D.ventricular_escape(X)).tolist() == esc.tolist()
    proba = np.tile([0.9, 0.05, 0.03, 0.02], (20, 1))  # the model calls them N (not premature)
    assert "".join(D.decide_labels(proba, X)) == "N" * 10 + "V" * 10


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("fam_dom_corr", 0.6),  # like the dominant beat (e.g. bundle branch block)
        ("fam_width_rel", np.log2(1.05)),  # not wider than the dominant beat
        ("width_ms", 100.0),  # narrow
        ("ctx_p", 0.6),  # P waves: a conducted beat
        ("ctx_irr", np.log10(0.3)),  # atrial fibrillation: aberrant conduction
        ("pre_local", np.log2(0.7)),  # premature: left to the model
        ("is_dom", 1.0),  # the dominant family
    ],
)
def test_escape_rule_needs_every_criterion(name, value):
    X, col, esc = _escape_case()
    X[esc, col[name]] = value
    assert not D.ventricular_escape(X).any()


def test_v_beat_in_a_family_of_aberrated_s_beats_is_s():
    """A family (one QRS shape) whose beats are mostly aberrated APCs: its beats the model
    calls V with certainty are aberrated APCs too; in an N family a certain V stays V."""
    label = np.array(list("NNNNSSSVVN"))
    family = np.array([0, 0, 0, 0, 1, 1, 1, 1, 1, 0])
    proba = np.tile([0.9, 0.05, 0.05, 0.0], (10, 1))
    proba[7:9] = [0.0, 0.02, 0.98, 0.0]
    fam_labels, over = D.family_consensus(label, proba, family, 2)
    assert list(fam_labels) == ["N", "S"] and np.all(over[4:9] == "")
    family[7:9] = 0  # the same certain V beats in the normal family keep their V
    fam_labels, over = D.family_consensus(label, proba, family, 2)
    assert list(over[7:9]) == ["V", "V"]


def _fibrillation_case() -> tuple[np.ndarray, dict[str, int], np.ndarray]:
    """20 beats in atrial fibrillation; beats 3, 9, 15 belong to a family with a changed QRS
    shape that is not wider than the dominant one and not early."""
    X, col = _neutral_features(20)
    X[:, col["ctx_irr"]] = np.log10(0.35 + 1e-4)
    X[:, col["ctx_p"]] = 0.1
    odd = np.array([3, 9, 15])
    X[odd, col["dom_corr"]] = 0.2
    X[odd, col["fam_dom_corr"]] = 0.2
    X[odd, col["fam_width_rel"]] = np.log2(1.05)
    X[odd, col["fam_pre_local"]] = np.log2(1.02)
    X[odd, col["is_dom"]] = 0.0
    return X, col, odd


def test_changed_qrs_shape_in_fibrillation_is_conducted():
    X, col, odd = _fibrillation_case()
    assert np.flatnonzero(D.conducted_in_fibrillation(X[odd])).tolist() == [0, 1, 2]
    proba = np.tile([0.9, 0.05, 0.03, 0.02], (20, 1))
    proba[odd] = [0.1, 0.0, 0.9, 0.0]  # the model calls the unlike-the-dominant beats V
    assert set(D.decide_labels(proba, X)) == {"N"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("fam_width_rel", np.log2(1.3)),  # wider than the dominant beat: ventricular
        ("fam_pre_local", np.log2(0.7)),  # coupled early as a family: ventricular ectopics
        ("ctx_irr", np.log10(0.05)),  # regular rhythm: not fibrillation
        ("ctx_p", 0.8),  # sinus P waves: not fibrillation
    ],
)
def test_conducted_in_fibrillation_needs_every_criterion(name, value):
    X, col, odd = _fibrillation_case()
    X[odd, col[name]] = value
    assert not D.conducted_in_fibrillation(X[odd]).any()
    proba = np.tile([0.9, 0.05, 0.03, 0.02], (20, 1))
    proba[odd] = [0.1, 0.0, 0.9, 0.0]
    assert "".join(D.decide_labels(proba, X)[odd]) == "VVV"


# ------------------------------------------------------------------ runs at the sinus rate
def _sinus_rate_run() -> tuple[np.ndarray, dict[str, int], np.ndarray, np.ndarray]:
    """Sinus rhythm at 1.08 s with beats 8-12 wider (1.25 times the dominant width) and
    unlike the dominant template, arriving on time, with P waves around them (MIT-BIH 108)."""
    X, col = _neutral_features(20)
    X[:, col["rr_pre"]] = 1.08
    X[:, col["is_dom"]] = 1.0
    X[:, col["fam_dom_corr"]] = 1.0
    run = np.arange(8, 13)
    X[run, col["is_dom"]] = 0.0
    X[run, col["fam_dom_corr"]] = 0.1
    X[run, col["dom_corr"]] = 0.1
    X[run, col["fam_width_rel"]] = np.log2(1.25)
    X[run, col["width_ms"]] = 118.0
    X[run, col["ctx_p"]] = 0.05
    proba = np.tile([0.9, 0.05, 0.03, 0.02], (20, 1))
    proba[run] = [0.1, 0.0, 0.9, 0.0]  # the model calls the wide beats V
    return X, col, run, proba


def test_a_wide_run_at_the_sinus_rate_is_conducted():
    X, col, run, proba = _sinus_rate_run()
    assert set(D.decide_labels(proba, X)) == {"N"}
    # a single wide beat on time is left to the model (late-coupled PVCs exist)
    one = proba.copy()
    one[run[1:]] = [0.9, 0.05, 0.03, 0.02]
    assert "".join(D.decide_labels(one, X)[run]) == "VNNNN"


@pytest.mark.parametrize(
    ("name", "where", "value"),
    [
        ("pre_prev", 0, np.log2(0.7)),  # the run starts early: ventricular couplet/run
        ("post_pre", -1, np.log2(1.5)),  # a pause after it
        ("pre_prev", 2, np.log2(0.8)),  # it speeds up inside
        ("fam_width_rel", slice(None), np.log2(1.7)),  # much wider: idioventricular
        ("ctx_p", slice(None), -0.5),  # P waves dissociated: idioventricular
        ("ctx_irr", slice(None), np.log10(0.35)),  # irregular neighbourhood
    ],
)
def test_a_wide_run_at_the_sinus_rate_needs_every_criterion(name, where, value):
    X, col, run, proba = _sinus_rate_run()
    X[run[where], col[name]] = value
    assert "".join(D.decide_labels(proba, X)[run]) == "VVVVV"
