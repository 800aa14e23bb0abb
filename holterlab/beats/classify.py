"""Beat classification into the AAMI classes N, S, V, F, Q with morphology families.

The method is per-recording, as clinical Holter systems work:

1. every beat is re-aligned on its QRS and cut out (baseline removed);
2. beats are grouped into morphology families by incremental correlation clustering
   (:mod:`holterlab.beats.templates`); the largest family is the dominant (normal) one;
3. each beat gets timing features (RR before/after relative to the local and 5-minute average
   of normal RR intervals, irregularity) and morphology features relative to the dominant
   family (correlation with a running dominant template, QRS width, slope, amplitude, P-wave
   power, the beat's family statistics) (:mod:`holterlab.beats.features`);
4. a small model shipped with holterlab (``holterlab/models/beat_classifier.npz``, trained on
   the MIT-BIH DS1 records by ``scripts/train_classifier.py``) labels every beat; pacemaker
   spikes (:mod:`holterlab.beats.paced`, scored on the raw signal) or the exact interval of a
   fixed-rate pacemaker (:mod:`holterlab.beats.paced_timing`) make a family paced (class Q),
   a beat with a strong spike of its own is Q (fusion of paced beats), and beats of bad
   signal quality are Q;
5. patient-adaptive decision rules on top of the model (:mod:`holterlab.beats.decision`,
   :func:`~holterlab.beats.decision.decide_labels`): an S beat must be abruptly premature
   relative to the preceding RR (gradual rate changes, sinus arrhythmia are not ectopy) and
   may not sit in an irregular neighbourhood or one without sinus P waves (atrial
   fibrillation/flutter: conducted beats are N); beats continuing a run that an S beat
   started are S while they stay premature; a regular narrow-complex run with an abrupt onset
   is S throughout; a very premature wide beat with a non-compensatory pause is an
   aberrantly conducted S beat; a fast wide unlike-the-dominant family is V;
6. family consensus (:func:`~holterlab.beats.decision.family_consensus`): a family takes the
   label most of its beats have; a beat keeps a differing label as an override, but a V
   override inside a non-V family needs a V probability of at least ``STRONG_V``.

The P-wave features compare each beat with a *running* P template of recent normal beats
(:func:`~holterlab.beats.features.p_wave_correlation`), so that the previous T wave reaching
into the P range at fast rates does not look like an ectopic P wave.

Labels derive from family labels plus per-beat overrides (:class:`BeatLabels`), so that a
reviewer can relabel a whole family at once.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from typing import Any

import numpy as np

from holterlab.beats import _classify_kernels as K
from holterlab.beats.decision import decide_labels, family_consensus
from holterlab.beats.features import (
    CONTEXT_BEATS,
    FEATURE_NAMES,
    BeatWindows,
    extract_beat_windows,
    feature_matrix,
    morphology_features,
    p_wave_correlation,
    rolling_median,
    rr_features,
    window_geometry,
)
from holterlab.beats.paced import SPIKE_THRESHOLD, paced_families, pacing_spike_score
from holterlab.beats.paced_timing import fixed_rate_families
from holterlab.beats.templates import (
    AAMI_LABELS,
    Clusters,
    Families,
    _template_corr,
    cluster_windows,
    gallery_members,
    median_templates,
)
from holterlab.errors import CancelledError, HolterlabError, ParameterError
from holterlab.params.classification import ClassificationParams

__all__ = [
    "BeatLabels",
    "ModelError",
    "classify_beats",
    "classify_beats_recording",
    "beat_features",
    "decide_labels",
    "family_consensus",
    "load_model",
    "predict_proba",
    "predict_raw",
]

MODEL_FILE = "beat_classifier.npz"


class ModelError(HolterlabError):
    """The shipped classification model is missing or unreadable."""


# ---------------------------------------------------------------------------- result
@dataclass
class BeatLabels:
    """Labels of the beats of one recording.

    The label of beat ``i`` is ``overrides[i]`` if set, else the label of its family
    (``families.labels[family[i]]``). Relabelling a family (:meth:`relabel_family`) therefore
    relabels all its beats that carry no override of their own.

    Attributes
    ----------
    beats
        int64 beat positions as given (samples).
    fs
        Sampling rate of ``beats``.
    family
        int64 morphology family of each beat (-1: not clustered, e.g. a flat window).
    overrides
        ``<U1`` per-beat label overriding the family label, ``""`` where none.
    families
        :class:`~holterlab.beats.templates.Families` (templates, counts, family labels).
    proba
        float32 ``(n_beats, 4)`` model probabilities of N, S, V, F.
    fiducial
        int64 re-aligned QRS fiducial of each beat.
    """

    beats: np.ndarray
    fs: float
    family: np.ndarray
    overrides: np.ndarray
    families: Families
    proba: np.ndarray
    fiducial: np.ndarray

    def __len__(self) -> int:
        return int(self.beats.size)

    @property
    def labels(self) -> np.ndarray:
        """``<U1`` AAMI label of every beat (N, S, V, F or Q)."""
        fam_labels = np.asarray(self.families.labels, dtype="<U1")
        base = np.full(self.beats.size, "Q", dtype="<U1")
        ok = self.family >= 0
        if fam_labels.size:
            base[ok] = fam_labels[self.family[ok]]
        return np.where(self.overrides != "", self.overrides, base).astype("<U1")

    def counts(self) -> dict[str, int]:
        """Number of beats per AAMI label."""
        labels = self.labels
        return {lab: int(np.count_nonzero(labels == lab)) for lab in AAMI_LABELS}

    def relabel_family(self, family: int, label: str, *, keep_overrides: bool = False) -> None:
        """Give a family a new label; its beats follow.

        With ``keep_overrides=False`` (default) the per-beat overrides of the family's beats
        are cleared, so every beat of the family takes the new label.
        """
        self.families.relabel(family, label)
        if not keep_overrides:
            self.overrides[self.family == int(family)] = ""

    def set_label(self, index: int | np.ndarray, label: str) -> None:
        """Override the label of single beats (``""`` returns them to their family label)."""
        if label not in AAMI_LABELS and label != "":
            raise ParameterError(f"label must be one of {', '.join(AAMI_LABELS)} or ''")
        self.overrides[index] = label

    def symbols(self) -> np.ndarray:
        """Labels as MIT-BIH annotation symbols (N S V F Q; Q is written as ``Q``)."""
        return self.labels


# ---------------------------------------------------------------------------- model
@functools.lru_cache(maxsize=4)
def load_model(path: str | None = None) -> dict[str, Any]:
    """Load the classification model (the shipped one unless ``path`` is given).

    The model is an ``.npz`` of plain arrays: ``kind`` (``"gbt"``), gradient-boosted trees as
    flat node arrays ``feature, threshold, left, right, is_leaf, value, missing_left`` with
    per-tree ``offsets`` (iteration-major, one tree per class), ``baseline``, ``n_classes``,
    ``feature_names``, ``classes`` and ``class_bias`` (log-prior offsets added before the
    softmax).
    """
    try:
        if path is None:
            ref = resources.files("holterlab") / "models" / MODEL_FILE
            with resources.as_file(ref) as p, np.load(p, allow_pickle=False) as data:
                model = {k: data[k] for k in data.files}
        else:
            with np.load(path, allow_pickle=False) as data:
                model = {k: data[k] for k in data.files}
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(
            f"cannot read the beat classification model ({exc}); reinstall holterlab or "
            "retrain it with scripts/train_classifier.py"
        ) from None
    names = tuple(str(s) for s in model["feature_names"])
    if names != FEATURE_NAMES:
        raise ModelError(
            "the beat classification model was trained on other features than this version "
            "computes; retrain it with scripts/train_classifier.py"
        )
    return model


def predict_raw(model: dict[str, Any], X: np.ndarray) -> np.ndarray:
    """Raw class scores (before the class bias and softmax) of the model for features ``X``."""
    X = np.ascontiguousarray(X)
    if X.dtype != np.float32:
        X = np.ascontiguousarray(X, dtype=np.float64)
    kind = str(model["kind"])
    if kind == "gbt":
        packed = model.get("_packed")
        if packed is None:
            packed = K.pack_trees(
                *(model[k] for k in ("feature", "threshold", "left", "right", "is_leaf", "value"))
            )
            model["_packed"] = packed
        raw = K.gbt_raw(X, packed, model["missing_left"], model["offsets"], int(model["n_classes"]))
        return raw + model["baseline"]
    raise ModelError(f"unknown model kind {kind!r}; retrain with scripts/train_classifier.py")


def predict_proba(model: dict[str, Any], X: np.ndarray, *, bias: bool = True) -> np.ndarray:
    """Class probabilities (float64 ``(n, n_classes)``, classes N S V F) for features ``X``.

    With ``bias`` the model's class offsets (decision thresholds chosen in training) are
    applied before the softmax.
    """
    h = predict_raw(model, X)
    if bias:
        h = h + model["class_bias"]
    h -= h.max(axis=1, keepdims=True)
    np.exp(h, out=h)
    h /= h.sum(axis=1, keepdims=True)
    return h


# ---------------------------------------------------------------------------- pipeline
@dataclass
class _Analysis:
    windows: BeatWindows
    clusters: Clusters
    dominant: int
    X: np.ndarray
    features: dict[str, np.ndarray]


def _without_windows(an: _Analysis) -> _Analysis:
    """The analysis without the beat windows, all but the fiducials of which :func:`_finish`
    does without: on a long recording they are the largest array (about 1 GB for 7 days of
    3 leads), freed before the model runs."""
    w = an.windows
    empty = np.empty((0,) + w.win.shape[1:], np.float32)
    light = BeatWindows(empty, w.fid, np.empty((0,) + w.scal.shape[1:], np.float32), w.geometry)
    return _Analysis(light, an.clusters, an.dominant, an.X, an.features)


def _check_inputs(
    signal: np.ndarray, fs: float, beats: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    fs = float(fs)
    if not np.isfinite(fs) or fs <= 0:
        raise ParameterError(f"fs must be a positive number of Hz, got {fs!r}")
    x = np.asarray(signal)
    if x.ndim == 1:
        x = x[None, :]
    if x.ndim != 2:
        raise ParameterError(f"signal must be (n_leads, n_samples), got shape {x.shape}")
    if x.shape[1] == 0 or x.shape[0] == 0:
        raise ParameterError("signal holds no samples")
    b = _check_beats(beats, x.shape[1])
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.all(np.isfinite(x)):
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    return x, b


def _check_beats(beats: np.ndarray, n_samples: int) -> np.ndarray:
    b = np.asarray(beats)
    if b.ndim != 1:
        raise ParameterError(f"beats must be a 1-D array of sample indices, got shape {b.shape}")
    if b.size and not np.issubdtype(b.dtype, np.integer):
        if not np.all(np.isfinite(b)) or np.any(b != np.round(b)):
            raise ParameterError("beats must be whole sample indices")
    b = b.astype(np.int64)
    if b.size and (b.min() < 0 or b.max() >= n_samples):
        raise ParameterError(
            f"beat positions must lie in [0, {n_samples}); got {b.min()}..{b.max()}"
        )
    if b.size > 1 and np.any(np.diff(b) <= 0):
        raise ParameterError("beats must be strictly increasing sample indices")
    return b


def _initial_dominant(windows: BeatWindows, clusters: Clusters, dominant: int, memory: int):
    g = windows.geometry
    idx = np.flatnonzero(clusters.family == dominant)[: max(memory, 1)]
    if idx.size == 0:
        return clusters.templates[dominant]
    segs = [
        windows.win[i, :, g.match_lo + clusters.lag[i] : g.match_lo + clusters.lag[i] + g.match_len]
        for i in idx
    ]
    return np.mean(np.stack(segs).astype(np.float64), axis=0)


def _no_check() -> None:
    return None


def _analyse(
    windows: BeatWindows, params: ClassificationParams, check: Callable[[], None] = _no_check
) -> _Analysis:
    """Families and the feature matrix of a recording's beat windows.

    ``check`` is called between the steps (each takes about 2 s for 7 days of beats) and
    raises :class:`~holterlab.errors.CancelledError` to stop.
    """
    g = windows.geometry
    clusters = cluster_windows(windows, params)
    check()
    n = windows.fid.size
    if clusters.n_families == 0:
        dominant = 0
        dom_corr = np.zeros(n, np.float32)
        dom_ratio = np.ones(n, np.float32)
        dom_lead = np.zeros((n, windows.win.shape[1]), np.float32)
        fam_dom = np.zeros(0)
    else:
        dominant = 0  # families are numbered by size
        init = _initial_dominant(windows, clusters, dominant, params.template_memory)
        dom_corr, dom_lag, dom_ratio, dom_lead = K.track_dominant(
            windows.win,
            clusters.family == dominant,
            g.match_lo,
            g.match_len,
            g.max_lag,
            params.template_memory,
            init,
        )
        fam_dom = np.array(
            [
                _template_corr(clusters.templates[f], clusters.templates[dominant], g.max_lag)[0]
                for f in range(clusters.n_families)
            ]
        )
    check()
    morph = morphology_features(
        windows,
        clusters.family,
        clusters.corr,
        dominant,
        dom_corr,
        dom_ratio,
        dom_lead,
        fam_dom,
        clusters.counts,
    )
    fam = clusters.family
    normal_like = (fam >= 0) & (
        (np.where(fam >= 0, fam_dom[np.maximum(fam, 0)] if fam_dom.size else 0, 0) >= 0.9)
        | (dom_corr >= 0.9)
    )
    t = windows.fid / g.fs
    timing = rr_features(t, normal_like, params)
    check()
    if clusters.n_families:
        pp = timing["pre_prev"]
        update = (
            (fam == dominant)
            & (pp > 0.85)
            & (pp < 1.18)
            & (timing["pre_local"] > 0.88)
            & (timing["pre_local"] < 1.15)
        )
        p_corr, p_lead, p_pow = p_wave_correlation(windows, dom_lag, update)
    else:
        p_corr, p_lead, p_pow = np.zeros(n), np.zeros(n), np.ones(n)
    morph["p_corr"] = p_corr
    morph["p_lead_max"] = p_lead
    morph["p_rel"] = p_pow
    # P-wave presence in the neighbourhood: low without sinus P waves (fibrillation, flutter)
    morph["ctx_p"] = rolling_median(p_corr, CONTEXT_BEATS)
    X = feature_matrix(timing, morph, fam)
    return _Analysis(windows, clusters, dominant, X, {**timing, **morph})


def beat_features(
    signal: np.ndarray, fs: float, beats: np.ndarray, *, params: ClassificationParams | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Feature matrix (float32 ``(n_beats, len(FEATURE_NAMES))``) and family of each beat.

    This is what the model sees; ``scripts/train_classifier.py`` uses it for training.
    """
    params = params or ClassificationParams()
    x, b = _check_inputs(signal, fs, beats)
    g = window_geometry(fs, params)
    an = _analyse(extract_beat_windows(x, b, g), params)
    return an.X, an.clusters.family


def _paced_families(
    an: _Analysis,
    params: ClassificationParams,
    spike: np.ndarray | None,
    beats: np.ndarray,
    fs: float,
) -> np.ndarray:
    """Paced families (bool per family): their beats carry a pacemaker spike before the QRS
    (:func:`holterlab.beats.paced.pacing_spike_score`), or they follow each other at the
    exact interval of a pacemaker (:func:`holterlab.beats.paced_timing.fixed_rate_families`)."""
    n_fam = an.clusters.n_families
    if not params.detect_paced or n_fam == 0:
        return np.zeros(n_fam, dtype=bool)
    fam = an.clusters.family
    width = an.X[:, FEATURE_NAMES.index("width_ms")]
    paced = fixed_rate_families(beats, fs, fam, n_fam, width)
    if spike is not None:
        paced |= paced_families(spike, fam, n_fam)
    return paced


def _spike_score(signal: np.ndarray, fs: float, beats: np.ndarray, params) -> np.ndarray | None:
    if not params.detect_paced or beats.size == 0:
        return None
    return pacing_spike_score(signal, fs, beats)


def _beat_quality(quality: Any, beats: np.ndarray) -> np.ndarray:
    """Per-beat quality from an array, or from a :class:`~holterlab.quality.QualityResult`
    (1 where at least one lead is usable in the beat's segment, else 0)."""
    if hasattr(quality, "segment_usable") and hasattr(quality, "segment_samples"):
        usable = np.asarray(quality.segment_usable, dtype=np.float64)
        if usable.size == 0:
            return np.ones(beats.size)
        seg = np.clip(beats // max(int(quality.segment_samples), 1), 0, usable.size - 1)
        return usable[seg]
    return np.asarray(quality, dtype=np.float64).reshape(-1)


def _finish(
    an: _Analysis,
    beats: np.ndarray,
    fs: float,
    params: ClassificationParams,
    quality: np.ndarray | None,
    read_window: Callable[[int, int], np.ndarray],
    leads: list[str],
    spike: np.ndarray | None = None,
    check: Callable[[], None] = _no_check,
) -> BeatLabels:
    model = load_model()
    proba = predict_proba(model, an.X) if an.X.shape[0] else np.zeros((0, 4))
    check()
    beat_label = decide_labels(proba, an.X)
    fam = an.clusters.family
    n_fam = an.clusters.n_families
    paced = _paced_families(an, params, spike, beats, fs)
    fam_labels, overrides = family_consensus(beat_label, proba, fam, n_fam, paced=paced)
    ok = fam >= 0
    overrides[~ok] = "Q"
    if spike is not None and params.detect_paced and n_fam:
        # fusion and pseudo-fusion of paced beats: an intrinsic-looking QRS with a spike
        own = (spike >= SPIKE_THRESHOLD) & ok
        own[ok] &= ~paced[fam[ok]]
        overrides[own] = "Q"
    if quality is not None:
        q = _beat_quality(quality, beats)
        if q.size != beats.size:
            raise ParameterError(f"quality needs one value per beat ({beats.size}), got {q.size}")
        overrides[q < params.min_quality] = "Q"
    g = an.windows.geometry
    members = gallery_members(fam, an.clusters.corr, n_fam, params.gallery_beats)
    templates = median_templates(read_window, an.windows.fid, members, len(leads), g.pre, g.post)
    families = Families(
        templates=templates,
        counts=an.clusters.counts.copy(),
        labels=fam_labels,
        fs=float(fs),
        pre_ms=params.window_pre_ms,
        post_ms=params.window_post_ms,
        leads=list(leads),
    )
    return BeatLabels(
        beats=beats,
        fs=float(fs),
        family=fam.copy(),
        overrides=overrides,
        families=families,
        proba=proba.astype(np.float32),
        fiducial=an.windows.fid.copy(),
    )


def _array_window_reader(x: np.ndarray, g) -> Callable[[int, int], np.ndarray]:
    def read(start: int, stop: int) -> np.ndarray:
        beats = np.array([start + g.pre], dtype=np.int64)
        w, _, _ = K.extract_windows_serial(
            x, beats, 0, g.slope_k, g.env_half, g.base_half, g.pre, g.post, g.ranges
        )
        return w[0]

    return read


def classify_beats(
    signal: np.ndarray,
    fs: float,
    beats: np.ndarray,
    *,
    params: ClassificationParams | None = None,
    quality: np.ndarray | None = None,
    leads: list[str] | None = None,
) -> BeatLabels:
    """Classify beats into AAMI classes and group them into morphology families.

    Parameters
    ----------
    signal
        float32 ``(n_leads, n_samples)`` ECG in mV (a 1-D array is one lead).
    fs
        Sampling rate in Hz.
    beats
        int64 sample indices of the detected beats (strictly increasing). They need not sit
        exactly on the R peak: each beat is re-aligned on its QRS within
        ``params.align_search_ms``.
    params
        :class:`~holterlab.params.classification.ClassificationParams` (defaults if None).
    quality
        Optional per-beat signal quality in [0, 1] (or bool, True = good), or a
        :class:`~holterlab.quality.QualityResult` of the signal (beats in segments without a
        usable lead); beats below ``params.min_quality`` are labelled Q.
    leads
        Lead names for the family templates (default ``ECG1, ECG2, ...``).

    Returns
    -------
    BeatLabels
        ``labels`` (AAMI symbol per beat), ``family`` per beat, ``families`` (median templates,
        counts, family labels) and per-beat ``overrides``.
    """
    params = params or ClassificationParams()
    x, b = _check_inputs(signal, fs, beats)
    g = window_geometry(fs, params)
    an = _analyse(extract_beat_windows(x, b, g), params)
    names = list(leads) if leads is not None else [f"ECG{i + 1}" for i in range(x.shape[0])]
    spike = _spike_score(x, float(fs), b, params)
    return _finish(an, b, float(fs), params, quality, _array_window_reader(x, g), names, spike)


def classify_beats_recording(
    recording,
    beats: np.ndarray,
    *,
    params: ClassificationParams | None = None,
    quality: np.ndarray | None = None,
    leads: Any = None,
    progress: bool | Callable[[float], None] = False,
    cancel: Callable[[], bool] | None = None,
) -> BeatLabels:
    """Classify the beats of a (multi-day) :class:`~holterlab.recording.Recording` in chunks.

    The signal is read ``params.chunk_s`` seconds at a time (plus a margin), so only one chunk
    of the signal is in memory at once; per beat the correlation window (about
    ``(match_pre_ms + match_post_ms)`` of every lead, float32) and a few numbers are kept.
    Results equal :func:`classify_beats` on the whole signal.

    Parameters
    ----------
    recording
        The recording.
    beats
        int64 sample indices of the beats (strictly increasing).
    params, quality
        As for :func:`classify_beats`.
    leads
        Leads to use (names or indices; default all).
    progress
        True: a progress bar (tqdm) over the chunks; a callable: called with the fraction
        done (0..1).
    cancel
        Called between chunks; if it returns True, :class:`~holterlab.errors.CancelledError`
        is raised.
    """
    params = params or ClassificationParams()
    fs = float(recording.fs)
    idx = recording.lead_indices(leads)
    b = _check_beats(beats, recording.n_samples)
    g = window_geometry(fs, params)
    step = max(1, int(round(params.chunk_s * fs)))
    margin = _chunk_margin(g, fs)
    starts = list(range(0, recording.n_samples, step))
    iterator = starts
    report = progress if callable(progress) else None
    if progress is True:
        from tqdm.auto import tqdm

        iterator = tqdm(starts, desc="classifying beats", unit="chunk")
    spike = np.zeros(b.size, np.float32) if params.detect_paced else None
    windows = BeatWindows(
        np.empty((b.size, len(idx), g.keep_hi - g.keep_lo), np.float32),
        np.empty(b.size, np.int64),
        np.empty((b.size, K.N_SCALAR), np.float32),
        g,
    )
    for k, i0 in enumerate(iterator):
        if report is not None:
            report(0.8 * k / max(1, len(starts)))
        if cancel is not None and cancel():
            raise CancelledError("beat classification cancelled")
        i1 = min(recording.n_samples, i0 + step)
        lo_b, hi_b = np.searchsorted(b, [i0, i1])
        if hi_b <= lo_b:
            continue
        r0 = max(0, i0 - margin)
        r1 = min(recording.n_samples, i1 + margin)
        block = recording.get_samples(idx, r0, r1)
        extract_beat_windows(block, b[lo_b:hi_b], g, offset=r0, out=windows, at=int(lo_b))
        if spike is not None:
            spike[lo_b:hi_b] = pacing_spike_score(block, fs, b[lo_b:hi_b] - r0)
        del block
    check = _cancel_checker(cancel, "beat classification cancelled")
    an = _without_windows(_analyse(windows, params, check))
    del windows
    names = [recording.leads[i] for i in idx]
    reader = _recording_window_reader(recording, idx, g)
    out = _finish(an, b, fs, params, quality, reader, names, spike, check)
    if report is not None:
        report(1.0)
    return out


def _cancel_checker(cancel: Any, message: str) -> Callable[[], None]:
    """A function raising :class:`~holterlab.errors.CancelledError` once ``cancel`` (an
    event or a callable returning True, or None) says stop."""
    from holterlab.quality import _cancel_check

    if cancel is None:
        return _no_check
    is_set = _cancel_check(cancel)

    def check() -> None:
        if is_set():
            raise CancelledError(message)

    return check


def _chunk_margin(g, fs: float) -> int:
    """Samples of signal a beat needs on each side: its window, and the pacing-spike search,
    which reaches back 120 ms (and a noise level over +-0.4 s, inside the window margin)."""
    return max(g.margin + 1, int(np.ceil(0.15 * fs)) + 1)


def _recording_window_reader(recording, idx: list[int], g) -> Callable[[int, int], np.ndarray]:
    def read(start: int, stop: int) -> np.ndarray:
        pad = g.base_half + g.slope_k + 2
        r0 = max(0, start - pad)
        r1 = min(recording.n_samples, stop + pad)
        block = recording.get_samples(idx, r0, r1)
        beats = np.array([start + g.pre - r0], dtype=np.int64)
        w, _, _ = K.extract_windows_serial(
            np.ascontiguousarray(block, dtype=np.float32),
            beats,
            0,
            g.slope_k,
            g.env_half,
            g.base_half,
            g.pre,
            g.post,
            g.ranges,
        )
        return w[0]

    return read
