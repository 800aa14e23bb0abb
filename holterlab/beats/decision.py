"""Decision rules on top of the beat model: from class probabilities to beat labels.

The shipped model (:mod:`holterlab.beats.classify`) gives each beat the probabilities of N, S,
V and F from its own features. The rules here add what a per-beat model cannot see, as a
Holter reader does:

* :func:`supraventricular_gate`: no S in an irregular neighbourhood (atrial fibrillation,
  flutter with variable conduction: conducted beats are N) or without sinus P waves unless
  abruptly premature; an S beat must be abruptly premature (gradual rate changes and sinus
  arrhythmia are not ectopy);
* :func:`_propagate_runs`: beats continuing a run an S beat started stay S while premature
  (a long run, past its 32-beat reference window, while it keeps its rate);
* :func:`supraventricular_runs`: a regular narrow-complex run that starts abruptly (at least
  20 % faster than the preceding rhythm) is an atrial run (SVT) from its first to its last
  beat, whatever the model says of its beats one by one;
* :func:`aberrant_conduction`: a very premature wide beat in a regular rhythm followed by a
  non-compensatory pause is an aberrantly conducted atrial premature beat, not a PVC;
* :func:`wide_tachycardia`: a wide, unlike-the-dominant family at >= 150 bpm is ventricular;
* :func:`ventricular_escape`: a wide, unlike-the-dominant beat without P waves that is not
  premature, in a regular rhythm, is a ventricular escape or idioventricular beat;
* :func:`conducted_in_fibrillation`: in atrial fibrillation, a family no wider than the
  dominant one whose beats are not early is conducted (a changed QRS shape), not ventricular;
* :func:`wide_runs_at_sinus_rate`: two or more wide beats in a row that keep the sinus rate
  from the beat before them to the beat after them, with P waves that are not dissociated
  and a QRS less than 1.5 times as wide as the dominant one, are conducted with a
  bundle-branch block, not V;
* :func:`family_consensus`: a family takes its beats' majority label; a V override inside a
  non-V family needs strong evidence, and a V beat in a family of (aberrated) S beats is S.

All rules read the feature matrix of :func:`holterlab.beats.features.feature_matrix`
(columns :data:`~holterlab.beats.features.FEATURE_NAMES`) and work on any number of beats.
"""

from __future__ import annotations

import numpy as np

from holterlab.beats._run_kernels import sv_runs
from holterlab.beats.features import FEATURE_NAMES

__all__ = [
    "STRONG_V",
    "aberrant_conduction",
    "conducted_in_fibrillation",
    "decide_labels",
    "family_consensus",
    "supraventricular_gate",
    "supraventricular_runs",
    "ventricular_escape",
    "wide_runs_at_sinus_rate",
    "wide_tachycardia",
]


#: Neighbourhood P-wave correlation below which a beat has no sinus P waves around it.
NO_P_CONTEXT = 0.5
#: Neighbourhood irregularity (median |dRR| / local RR, smallest over lags 1-3 beats) of a
#: fibrillation-like rhythm.
IRREGULAR_CONTEXT = 0.24
#: The same where sinus P waves are missing around the beat (``ctx_p`` < :data:`NO_P_CONTEXT`).
IRREGULAR_NO_P = 0.06
#: RR ratio to the previous beat above which a beat is not abruptly premature.
NOT_ABRUPT = 0.85


def supraventricular_gate(X: np.ndarray) -> np.ndarray:
    """Beats that may not be called S whatever the model says (bool per beat).

    In an irregular neighbourhood (``ctx_irr`` above :data:`IRREGULAR_CONTEXT`: atrial
    fibrillation, flutter with variable conduction; regular bi- or trigeminy does not count)
    beats are conducted and AAMI counts them N; without sinus P waves around a beat (``ctx_p``
    below :data:`NO_P_CONTEXT`) already :data:`IRREGULAR_NO_P` suffices, and otherwise a beat is
    only S if it is abruptly premature.
    """
    if X.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    col = {name: j for j, name in enumerate(FEATURE_NAMES)}
    ctx_p = X[:, col["ctx_p"]]
    irr = X[:, col["ctx_irr"]]
    irregular = irr > np.log10(IRREGULAR_CONTEXT + 1e-4)
    somewhat = irr > np.log10(IRREGULAR_NO_P + 1e-4)
    not_abrupt = X[:, col["pre_prev"]] > np.log2(NOT_ABRUPT)
    return irregular | ((ctx_p < NO_P_CONTEXT) & (somewhat | not_abrupt))


#: Model probability of V a beat needs to be called V inside a family labelled N (or S).
STRONG_V = 0.9


def family_consensus(
    beat_label: np.ndarray,
    proba: np.ndarray,
    family: np.ndarray,
    n_families: int,
    *,
    paced: np.ndarray | None = None,
    strong_v: float = STRONG_V,
) -> tuple[np.ndarray, np.ndarray]:
    """Family labels (the most common beat label of each family) and per-beat overrides.

    A beat keeps a label that differs from its family's as an override, except that a V
    override inside a non-V family needs strong evidence (V probability ``>= strong_v``):
    single wide-looking beats of a normal family are mostly noise or aberration; and a V beat
    in a family labelled S (one QRS shape, mostly aberrantly conducted APCs) is S. Paced
    families are Q (no overrides); beats without a family (``-1``) are Q.
    """
    n = beat_label.size
    fam_labels = np.full(n_families, "N", dtype="<U1")
    paced = np.zeros(n_families, dtype=bool) if paced is None else paced
    ok = family >= 0
    if n_families:
        codes = np.searchsorted(np.array(["F", "N", "S", "V"]), beat_label)
        votes = np.zeros((n_families, 4), dtype=np.int64)
        np.add.at(votes, (family[ok], codes[ok]), 1)
        fam_labels = np.array(["F", "N", "S", "V"])[np.argmax(votes, axis=1)].astype("<U1")
        fam_labels[votes.sum(axis=1) == 0] = "N"
        fam_labels[paced] = "Q"
    base = np.full(n, "Q", dtype="<U1")
    paced_beat = np.zeros(n, dtype=bool)
    if n_families:
        base[ok] = fam_labels[family[ok]]
        paced_beat[ok] = paced[family[ok]]
    label = beat_label.copy()
    weak_v = (label == "V") & (base != "V") & (proba[:, 2] < strong_v) if n else label == "V"
    label[weak_v] = np.where(base[weak_v] == "Q", "N", base[weak_v])
    # a wide beat shaped like a family of (aberrantly conducted) S beats is one of them
    label[(label == "V") & (base == "S")] = "S"
    overrides = np.full(n, "", dtype="<U1")
    differ = (label != base) & ok & ~paced_beat
    overrides[differ] = label[differ]
    overrides[~ok] = "Q"
    return fam_labels, overrides


def decide_labels(proba: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Beat labels (``<U1`` N S V F) from model probabilities and the feature matrix ``X``."""
    classes = np.array(["N", "S", "V", "F"])
    if proba.shape[0] == 0:
        return np.zeros(0, dtype="<U1")
    out = classes[np.argmax(proba, axis=1)]
    gate = supraventricular_gate(X)
    # an S beat (the first of a run) is abruptly premature: a gradual shortening of the RR
    # (sinus tachycardia building up, sinus arrhythmia) is not ectopy
    abrupt = _abrupt(out, X)
    out[(out == "S") & (gate | ~abrupt)] = "N"
    out = _propagate_runs(out, X, gate)
    out[supraventricular_runs(out, X)] = "S"
    out[aberrant_conduction(out, X)] = "S"
    # a family of wide beats unlike the dominant one, fast and without sinus timing, is
    # ventricular: "a wide-complex tachycardia is VT until proven otherwise" (fast VT loses
    # the prematurity cue after its first beat, and the model, trained on MIT-BIH with few
    # fast VT runs, calls it S)
    out[wide_tachycardia(X) & ((out == "N") | (out == "S"))] = "V"
    out[ventricular_escape(X) & ((out == "N") | (out == "S"))] = "V"
    out[conducted_in_fibrillation(X) & (out == "V")] = "N"
    out[wide_runs_at_sinus_rate(out, X)] = "N"
    return out


def _abrupt(labels: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Beats abruptly premature to the RR before them (below :data:`ABRUPT`; bool per beat).

    The second beat after a ventricular (or fusion) beat is compared with the RR before that
    beat instead: the RR it follows is the ectopic beat's compensatory pause, and sinus rhythm
    resuming after a pause is not premature.
    """
    f = FEATURE_NAMES.index
    ratio = np.exp2(X[:, f("pre_prev")].astype(np.float64))
    rr = X[:, f("rr_pre")].astype(np.float64)
    ectopic = (labels == "V") | (labels == "F")
    after = np.zeros(labels.size, dtype=bool)
    after[3:] = ectopic[1:-2]
    idx = np.flatnonzero(after)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio[idx] = rr[idx] / rr[idx - 3]
    return ratio < ABRUPT


#: Family QRS width (log2 of the ratio to the dominant family) from which a family is wide.
WIDE_LOG2 = float(np.log2(1.5))
#: Family template correlation with the dominant template below which it is unlike it.
WIDE_CORR = 0.6
#: Shortest QRS (ms) of a beat called ventricular by the wide-tachycardia rule.
WIDE_MS = 110.0
#: RR (ms) below which a beat of a wide family is tachycardic (150 bpm).
WIDE_RR_MS = 400.0


def wide_tachycardia(X: np.ndarray) -> np.ndarray:
    """Beats of a wide, unlike-the-dominant family that arrive at >= 150 bpm (bool)."""
    f = FEATURE_NAMES.index
    rr_ms = 1000.0 * X[:, f("rr_pre")]
    return (
        (X[:, f("fam_width_rel")] >= WIDE_LOG2)
        & (X[:, f("fam_dom_corr")] < WIDE_CORR)
        & (X[:, f("width_ms")] >= WIDE_MS)
        & (rr_ms < WIDE_RR_MS)
        & (X[:, f("is_dom")] < 0.5)
    )


#: RR ratio to the previous RR below which a beat is abruptly premature.
ABRUPT = 0.9


#: RR ratio to the median of the previous 32 RR intervals below which a beat is premature.
PREMATURE = 0.85


def _propagate_runs(labels: np.ndarray, X: np.ndarray, gate: np.ndarray) -> np.ndarray:
    """Beats that continue a run started by an S beat become S.

    A beat labelled N in an unbroken sequence of premature beats after an S beat (the first
    beat that is not premature ends the run) becomes S when it is premature both relative to
    the preceding rhythm (RR below :data:`PREMATURE` of the median
    of the previous 32 RR intervals) and relative to the last RR before the run's first S beat,
    has a normal QRS (correlation with the dominant template >= 0.8) and is not in a
    fibrillation/flutter context (``gate``): the beats of a supraventricular run are each as
    premature as its first beat, while a gradual rate increase is not.
    """
    col = {name: j for j, name in enumerate(FEATURE_NAMES)}
    rr = X[:, col["rr_pre"]].astype(np.float64)
    cand = (X[:, col["pre_prev32"]] < np.log2(PREMATURE)) & (X[:, col["dom_corr"]] > 0.8) & ~gate
    is_s = labels == "S"
    chain = is_s | ((labels == "N") & cand)
    seg = np.cumsum(~chain)  # chained beats share the segment id of the beat before them
    idx_s = np.flatnonzero(is_s)
    out = labels.copy()
    if idx_s.size == 0:
        return out
    segs, first = np.unique(seg[idx_s], return_index=True)
    first_s = idx_s[first]
    anchor = np.full(int(seg[-1]) + 1, np.nan)
    anchor[segs] = rr[np.maximum(first_s - 1, 0)]
    start = np.full(int(seg[-1]) + 1, labels.size)
    start[segs] = first_s
    i = np.arange(labels.size)
    with np.errstate(invalid="ignore"):
        premature = rr < PREMATURE * anchor[seg]
    after = chain & (i > start[seg])
    # the run ends at its first N beat that is not premature: no S label beyond it
    broken = np.cumsum(after & ~premature & ~is_s)
    at_start = np.zeros(int(seg[-1]) + 1, dtype=np.int64)
    at_start[segs] = broken[first_s]
    out[after & premature & (broken == at_start[seg])] = "S"
    return _continue_long_runs(out, rr, (X[:, col["dom_corr"]] > 0.8) & ~gate)


def _continue_long_runs(labels: np.ndarray, rr: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """S runs of at least :data:`RUN_MIN_BEATS` beats continue while they keep their rate.

    :func:`_propagate_runs` chains beats that are premature to the median of the previous 32
    RR intervals; after about 16 beats of a long run that median is the run's own rate, and
    the rest of the run would fall back to N. A run continues instead over N beats (narrow,
    ``ok``) whose RR stays below :data:`PREMATURE` of the median of the
    :data:`RUN_REFERENCE_BEATS` RR intervals before its first beat, as in
    :func:`supraventricular_runs`.
    """
    s = labels == "S"
    if not s.any():
        return labels
    out = labels.copy()
    n = labels.size
    first = np.flatnonzero(s & np.concatenate([[True], ~s[:-1]]))
    ends = np.flatnonzero(s[:-1] & (labels[1:] == "N")) + 1
    for e in ends.tolist():
        a = int(first[np.searchsorted(first, e) - 1])
        if e - a < RUN_MIN_BEATS or a < RUN_REFERENCE_BEATS:
            continue
        limit = PREMATURE * float(np.median(rr[a - RUN_REFERENCE_BEATS : a]))
        j = e
        while j < n and out[j] == "N" and ok[j] and rr[j] < limit:
            out[j] = "S"
            j += 1
    return out


#: RR ratio (to the previous RR and to the median of the previous 32) below which a beat
#: starts a supraventricular run: the rate jumps by at least 20 % from one beat to the next.
RUN_ONSET = 0.8
#: Fewest beats of a supraventricular run found by :func:`supraventricular_runs` (shorter
#: salvos are left to the model and :func:`_propagate_runs`).
RUN_MIN_BEATS = 3
#: Largest median ``|dRR| / RR`` inside a supraventricular run (re-entry and ectopic atrial
#: tachycardias are regular; fibrillation with a fast response is not).
RUN_IRREGULARITY = 0.08
#: RR intervals before a run's first beat whose median is the run's reference rhythm.
RUN_REFERENCE_BEATS = 8
#: Correlation with the dominant template a beat of a supraventricular run needs (narrow,
#: normally conducted).
RUN_DOM_CORR = 0.8


def supraventricular_runs(labels: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Beats of regular narrow-complex runs that start abruptly (bool per beat).

    A run starts at a beat that is not V or F, looks like the dominant beat (correlation above
    :data:`RUN_DOM_CORR`), sits in a regular neighbourhood (``ctx_irr`` below
    :data:`IRREGULAR_CONTEXT`) and is abruptly premature: its RR is below :data:`RUN_ONSET`
    of both the previous RR and the median of the previous 32. The run continues while the
    beats stay narrow and not ventricular and their RR stays below :data:`PREMATURE` of the
    median of the :data:`RUN_REFERENCE_BEATS` RR intervals before the run. It counts if it has
    at least :data:`RUN_MIN_BEATS` beats and is regular (median ``|dRR| / RR`` at most
    :data:`RUN_IRREGULARITY`).

    This is how a reader tells a paroxysmal SVT from sinus tachycardia, which builds up over
    many beats, and from atrial fibrillation, which is irregular. The P waves of an ectopic
    atrial run differ from sinus P waves and may hide in the T wave, and from its second beat
    on a fast run is no longer premature to the beat before, so the per-beat model tends to
    call such beats N one by one; the run as a whole is unambiguous.
    """
    n = labels.size
    if n == 0:
        return np.zeros(0, dtype=bool)
    f = FEATURE_NAMES.index
    rr = X[:, f("rr_pre")].astype(np.float64)
    ok = (labels != "V") & (labels != "F") & (X[:, f("dom_corr")] > RUN_DOM_CORR)
    onset = (
        ok
        & (X[:, f("pre_prev")] < np.log2(RUN_ONSET))
        & (X[:, f("pre_prev32")] < np.log2(RUN_ONSET))
        & (X[:, f("ctx_irr")] < np.log10(IRREGULAR_CONTEXT + 1e-4))
    )
    return sv_runs(
        rr,
        X[:, f("ctx_p")].astype(np.float64),
        onset,
        ok,
        RUN_REFERENCE_BEATS,
        PREMATURE,
        RUN_MIN_BEATS,
        RUN_IRREGULARITY,
        NO_P_CONTEXT,
    )


#: RR ratio to the local rhythm below which a wide premature beat may be aberrantly
#: conducted (aberrancy needs a very early beat: the bundle branches are still refractory).
ABERRANT_PREMATURE = 0.5
#: Range of ``(RR before + RR after) / local RR`` of a non-compensatory pause: an atrial beat
#: resets the sinus node (the sum stays well below 2); a ventricular beat leaves a full
#: compensatory pause (about 2); an interpolated ventricular beat leaves none (about 1).
NON_COMPENSATORY = (1.25, 1.8)


def aberrant_conduction(labels: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Beats labelled V that are aberrantly conducted atrial premature beats (bool per beat).

    An isolated beat labelled V (no V or F beat next to it) whose RR is below
    :data:`ABERRANT_PREMATURE` of the local rhythm, in a regular neighbourhood (``ctx_irr``
    below :data:`IRREGULAR_CONTEXT`; in fibrillation the pause means nothing), and whose pause
    is non-compensatory (RR before plus RR after, over the local RR, inside
    :data:`NON_COMPENSATORY`) reset the sinus node: it came from the atria and was conducted
    aberrantly (the classic Ashman beat). A ventricular premature beat leaves the sinus node
    undisturbed (full compensatory pause) or is interpolated.

    Designed on MIT-BIH DS1, where record 201 holds nearly all aberrated APCs (``a``): the
    leave-one-record-out figures cannot show how far the rule generalises.
    """
    n = labels.size
    if n == 0:
        return np.zeros(0, dtype=bool)
    f = FEATURE_NAMES.index
    pre = np.exp2(X[:, f("pre_local")].astype(np.float64))
    total = pre + np.exp2(X[:, f("post_local")].astype(np.float64))
    lo, hi = NON_COMPENSATORY
    # the pause tells the origin of an isolated premature beat only (not inside a couplet)
    ectopic = (labels == "V") | (labels == "F")
    isolated = np.ones(n, dtype=bool)
    isolated[1:] &= ~ectopic[:-1]
    isolated[:-1] &= ~ectopic[1:]
    return (
        isolated
        & (labels == "V")
        & (pre < ABERRANT_PREMATURE)
        & (total > lo)
        & (total < hi)
        & (X[:, f("ctx_irr")] < np.log10(IRREGULAR_CONTEXT + 1e-4))
    )


#: Family template correlation with the dominant template below which an escape family is
#: unlike it (a bundle-branch-block family of the same patient correlates better).
ESCAPE_CORR = 0.5
#: Family QRS width (log2 of the ratio to the dominant family) from which a family is wider.
ESCAPE_WIDER_LOG2 = float(np.log2(1.15))
#: RR ratio to the local rhythm above which a beat is not premature.
ESCAPE_NOT_PREMATURE = 0.9


def ventricular_escape(X: np.ndarray) -> np.ndarray:
    """Ventricular escape and idioventricular beats (bool per beat).

    A beat of a family that is not the dominant one, unlike it (template correlation below
    :data:`ESCAPE_CORR`), wider (by at least 15 %, and at least :data:`WIDE_MS`), without P
    waves around it (``ctx_p`` below 0: the P range does not resemble the running sinus P
    template at all), not premature (RR at least :data:`ESCAPE_NOT_PREMATURE` of the local
    rhythm) and in a regular neighbourhood (``ctx_irr`` below :data:`IRREGULAR_CONTEXT`: in
    atrial fibrillation a wide family is mostly aberrant conduction). The model, which learns
    prematurity as the mark of ectopy, calls such beats N; escape rhythms arrive late.

    Designed on MIT-BIH DS1, where only record 207 holds escape beats (``E``): on the beats
    the detector finds, the template of its escape rhythm correlates 0.31 with the dominant
    one, so the threshold leaves room above that. On the other records it marks few beats
    the model does not already call V (record 108: runs of wide beats at the sinus rate
    where no P wave is found, about 13 false V on detected beats).
    """
    if X.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    f = FEATURE_NAMES.index
    return (
        (X[:, f("is_dom")] < 0.5)
        & (X[:, f("fam_dom_corr")] < ESCAPE_CORR)
        & (X[:, f("fam_width_rel")] >= ESCAPE_WIDER_LOG2)
        & (X[:, f("width_ms")] >= WIDE_MS)
        & (X[:, f("ctx_p")] < 0.0)
        & (X[:, f("ctx_irr")] < np.log10(IRREGULAR_CONTEXT + 1e-4))
        & (X[:, f("pre_local")] > np.log2(ESCAPE_NOT_PREMATURE))
    )


#: Family median RR ratio to the local rhythm above which a family is not early as a whole.
CONDUCTED_NOT_EARLY = 0.85
#: Family QRS width (log2 of the ratio to the dominant family) below which it is not wider.
CONDUCTED_WIDTH_LOG2 = float(np.log2(1.15))


def conducted_in_fibrillation(X: np.ndarray) -> np.ndarray:
    """Beats of conducted families with a changed QRS shape in atrial fibrillation (bool).

    In a fibrillation-like neighbourhood (``ctx_irr`` above :data:`IRREGULAR_CONTEXT`, no
    sinus P waves: ``ctx_p`` below :data:`NO_P_CONTEXT`), a beat of a family that is not wider
    than the dominant one (by less than 15 %) and whose beats arrive, as a family, no earlier
    than the rhythm around them (family median RR at least :data:`CONDUCTED_NOT_EARLY` of
    the local RR) is a conducted beat whose QRS changed shape (axis shift with posture,
    partial aberrancy, noise), not a ventricular one: ventricular ectopics are wide, or
    coupled early to the beat before them. The classifier, seeing a QRS unlike the dominant
    template in an irregular rhythm, calls such beats V.

    Designed on MIT-BIH DS1 (record 203: 38 false V removed, one true V lost; no other
    record changes).
    """
    if X.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    f = FEATURE_NAMES.index
    return (
        (X[:, f("ctx_irr")] > np.log10(IRREGULAR_CONTEXT + 1e-4))
        & (X[:, f("ctx_p")] < NO_P_CONTEXT)
        & (X[:, f("fam_pre_local")] > np.log2(CONDUCTED_NOT_EARLY))
        & (X[:, f("fam_width_rel")] < CONDUCTED_WIDTH_LOG2)
    )


#: RR ratio range (to the previous RR) of a beat that keeps the rate of the rhythm.
SINUS_RATE_RANGE = (0.85, 1.2)
#: Family QRS width (log2 of the ratio to the dominant family) from which a run is too wide
#: to be a bundle-branch block of the dominant rhythm.
SINUS_RUN_WIDTH_LOG2 = float(np.log2(1.5))
#: Median ``ctx_p`` over the run below which its P waves are dissociated (idioventricular).
SINUS_RUN_MIN_P = -0.2


def wide_runs_at_sinus_rate(labels: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Beats of V runs that are intermittent bundle-branch block at the sinus rate (bool).

    A run of two or more beats labelled V after an N or S beat is conducted when, in a
    regular neighbourhood, every beat of it and the beat after it keep the rate (RR ratio to
    the previous RR inside :data:`SINUS_RATE_RANGE`: no premature onset, no pause at the
    end), its family is less than 1.5 times as wide as the dominant one and the P waves
    around it are not dissociated (median ``ctx_p`` at least :data:`SINUS_RUN_MIN_P`). A
    ventricular couplet or run starts early; an accelerated idioventricular rhythm, which
    may keep the sinus rate, is dissociated from the P waves and wider (MIT-BIH 124: ``ctx_p``
    about -0.5, 1.7 times the dominant width). The model, seeing a wider QRS unlike the
    dominant template, calls these beats V.

    Designed on MIT-BIH DS1, where only record 108 holds such runs (on detected beats, 31
    false V removed; no true V lost on any DS1 record).
    """
    n = labels.size
    out = np.zeros(n, dtype=bool)
    v = labels == "V"
    if n < 3 or not v.any():
        return out
    f = FEATURE_NAMES.index
    lo, hi = np.log2(SINUS_RATE_RANGE[0]), np.log2(SINUS_RATE_RANGE[1])
    pp = X[:, f("pre_prev")]
    post = X[:, f("post_pre")]
    keeps = (pp > lo) & (pp < hi) & (X[:, f("ctx_irr")] < np.log10(IRREGULAR_CONTEXT + 1e-4))
    edges = np.diff(np.concatenate([[0], v.astype(np.int8), [0]]))
    starts, stops = np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()
    for a, b in zip(starts, stops, strict=True):
        if b - a < 2 or a == 0 or labels[a - 1] not in ("N", "S"):
            continue
        if not keeps[a:b].all() or not (lo < post[b - 1] < hi):
            continue
        if np.median(X[a:b, f("fam_width_rel")]) >= SINUS_RUN_WIDTH_LOG2:
            continue
        if np.median(X[a:b, f("ctx_p")]) < SINUS_RUN_MIN_P:
            continue
        out[a:b] = True
    return out
