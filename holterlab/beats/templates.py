"""Morphology families (templates) of a recording, as Holter systems build them.

Beats are grouped by incremental correlation clustering (:func:`cluster_windows`): a beat joins
the first family whose running template it matches (combined correlation over the leads, best
over a small lag search, similar amplitude), or founds a new family. Families whose templates
are alike are merged afterwards, and families are numbered by size (0 = largest).

:class:`Families` holds what a review screen needs: one median template per family (over a
wide window, for display), the member count and the family's label. Beat labels derive from
the family labels plus per-beat overrides (see :class:`~holterlab.beats.classify.BeatLabels`),
so relabelling a family relabels its beats.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from holterlab.beats import _classify_kernels as K
from holterlab.beats.features import BeatWindows
from holterlab.errors import ParameterError
from holterlab.params.classification import ClassificationParams

__all__ = [
    "Clusters",
    "Families",
    "cluster_windows",
    "median_templates",
    "gallery_members",
]

AAMI_LABELS = ("N", "S", "V", "F", "Q")


@dataclass
class Clusters:
    """Result of clustering beat windows.

    Attributes
    ----------
    family
        int64 family per beat (0 = largest family; -1 = not clustered: flat/unanalysable).
    corr
        float32 correlation of each beat with its family's running template when it joined.
    lag
        int64 lag (samples) at which the beat matched.
    templates
        float64 ``(n_families, n_leads, match_len)`` running templates (correlation range).
    counts
        int64 members per family.
    """

    family: np.ndarray
    corr: np.ndarray
    lag: np.ndarray
    templates: np.ndarray
    counts: np.ndarray

    @property
    def n_families(self) -> int:
        return int(self.counts.size)


def _template_corr(a: np.ndarray, b: np.ndarray, max_lag: int) -> tuple[float, float]:
    """Best combined correlation of two templates over lags, and their std ratio a/b."""
    m = a.shape[1]
    pad = np.zeros((a.shape[0], m + 2 * max_lag))
    pad[:, max_lag : max_lag + m] = a
    # edge-extend so that lags do not pull in zeros
    pad[:, :max_lag] = a[:, :1]
    pad[:, max_lag + m :] = a[:, -1:]
    c, _, r = K.window_corr(pad[None].astype(np.float32), b.astype(np.float32), max_lag, max_lag)
    return float(c[0]), float(r[0])


def _merge(clusters: Clusters, threshold: float, amp_ratio: float, max_lag: int) -> Clusters:
    """Merge families whose templates correlate >= threshold; renumber by size."""
    n_fam = clusters.n_families
    parent = np.arange(n_fam)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    order = np.argsort(-clusters.counts, kind="stable")
    for ai in range(n_fam):
        a = order[ai]
        for bi in range(ai + 1, n_fam):
            b = order[bi]
            ra, rb = root(a), root(b)
            if ra == rb:
                continue
            c, r = _template_corr(clusters.templates[b], clusters.templates[a], max_lag)
            if c >= threshold and 1.0 / amp_ratio <= r <= amp_ratio:
                # the larger family absorbs the smaller one
                if clusters.counts[ra] >= clusters.counts[rb]:
                    parent[rb] = ra
                else:
                    parent[ra] = rb
    roots = np.array([root(i) for i in range(n_fam)], dtype=np.int64)
    uniq = np.unique(roots)
    counts = np.array([clusters.counts[roots == u].sum() for u in uniq], dtype=np.int64)
    # templates: count-weighted mean of the merged running templates
    templates = (
        np.stack(
            [
                np.average(
                    clusters.templates[roots == u], axis=0, weights=clusters.counts[roots == u]
                )
                for u in uniq
            ]
        )
        if uniq.size
        else clusters.templates[:0]
    )
    rank = np.argsort(-counts, kind="stable")
    new_id = np.empty(uniq.size, dtype=np.int64)
    new_id[rank] = np.arange(uniq.size)
    old_to_new = new_id[np.searchsorted(uniq, roots)] if n_fam else np.zeros(0, np.int64)
    fam = clusters.family
    family = np.where(fam >= 0, old_to_new[np.maximum(fam, 0)] if n_fam else -1, -1)
    return Clusters(
        family=family.astype(np.int64),
        corr=clusters.corr,
        lag=clusters.lag,
        templates=templates[rank],
        counts=counts[rank],
    )


def cluster_windows(
    windows: BeatWindows, params: ClassificationParams, *, valid: np.ndarray | None = None
) -> Clusters:
    """Group beat windows into morphology families.

    Parameters
    ----------
    windows
        Beat windows (:func:`~holterlab.beats.features.extract_beat_windows`).
    params
        Classification parameters (``family_threshold``, ``family_amplitude_ratio``,
        ``merge_threshold``, ``max_families``, ``template_memory``).
    valid
        Beats to cluster (default: all beats whose window is not flat).
    """
    g = windows.geometry
    win = windows.win
    if valid is None:
        valid = flat_mask(windows) == 0
    fam, corr, lag, tpl, counts = K.cluster_beats(
        win,
        np.asarray(valid, dtype=np.bool_),
        g.match_lo,
        g.match_len,
        g.max_lag,
        params.family_threshold,
        params.family_amplitude_ratio,
        params.max_families,
        params.template_memory,
    )
    clusters = Clusters(fam, corr, lag, tpl, counts)
    return _merge(clusters, params.merge_threshold, params.family_amplitude_ratio, g.max_lag)


def flat_mask(windows: BeatWindows) -> np.ndarray:
    """1 for beats whose window carries no signal (flat line, lead off), else 0."""
    if windows.win.shape[0] == 0:
        return np.zeros(0, dtype=np.int8)
    ptp = windows.scal[:, 0]
    return (ptp < 1e-4).astype(np.int8)


# ---------------------------------------------------------------------------- gallery
def gallery_members(family: np.ndarray, corr: np.ndarray, n_families: int, k: int) -> list:
    """Up to ``k`` member beats per family for its median template.

    Members are spread evenly over the recording among the beats that matched their family
    best (correlation at or above the family's median), so the median template is typical.
    """
    out = []
    for f in range(n_families):
        idx = np.flatnonzero(family == f)
        if idx.size > k:
            c = corr[idx]
            good = idx[c >= np.median(c)]
            if good.size >= k:
                idx = good
            pick = np.linspace(0, idx.size - 1, k).round().astype(np.int64)
            idx = idx[np.unique(pick)]
        out.append(idx)
    return out


@dataclass
class Families:
    """Morphology families of a recording (for review galleries and relabelling).

    Attributes
    ----------
    templates
        float32 ``(n_families, n_leads, width)`` median template of each family in mV over the
        display window ``[-pre_ms, +post_ms]`` around the QRS (baseline removed).
    counts
        int64 number of beats per family.
    labels
        ``<U1`` AAMI label of each family (the label most of its beats carry).
    fs
        Sampling rate of the templates.
    pre_ms, post_ms
        Display window of the templates.
    """

    templates: np.ndarray
    counts: np.ndarray
    labels: np.ndarray
    fs: float
    pre_ms: float
    post_ms: float
    leads: list[str] = field(default_factory=list)

    def __len__(self) -> int:
        return int(self.counts.size)

    @property
    def dominant_label(self) -> np.ndarray:
        """Alias of :attr:`labels` (the dominant label of each family's beats)."""
        return self.labels

    @property
    def time_ms(self) -> np.ndarray:
        """Time axis of the templates in ms relative to the QRS."""
        n = self.templates.shape[-1] if self.templates.ndim == 3 else 0
        return (np.arange(n) - int(round(self.pre_ms * self.fs / 1000.0))) * 1000.0 / self.fs

    def relabel(self, family: int, label: str) -> None:
        """Set the label of one family (``N S V F Q``)."""
        if label not in AAMI_LABELS:
            raise ParameterError(f"label must be one of {', '.join(AAMI_LABELS)}, got {label!r}")
        if not 0 <= int(family) < len(self):
            raise ParameterError(f"no family {family}: there are {len(self)} families")
        self.labels[int(family)] = label


#: Peak-to-peak (mV) below which a lead of a beat's window carries no signal (lead off).
FLAT_LEAD_MV = 1e-3


def median_templates(
    read_window,
    fid: np.ndarray,
    members: list,
    n_leads: int,
    pre: int,
    post: int,
) -> np.ndarray:
    """Median template of each family over a wide window.

    Parameters
    ----------
    read_window
        ``read_window(start, stop) -> float32 (n_leads, stop - start)`` reading the
        baseline-corrected signal (``start`` may be negative / ``stop`` beyond the end: the
        reader pads).
    fid
        Fiducial (re-aligned) sample of every beat.
    members
        Beat indices per family (:func:`gallery_members`).

    Per lead, beats whose window is flat there (below :data:`FLAT_LEAD_MV` peak to peak) or
    has missing samples are left out of that lead's median.
    """
    width = pre + post + 1
    out = np.zeros((len(members), n_leads, width), dtype=np.float32)
    for f, idx in enumerate(members):
        if len(idx) == 0:
            continue
        stack = np.stack([read_window(int(fid[i]) - pre, int(fid[i]) + post + 1) for i in idx])
        # per lead, only the beats in which that lead carries a signal: a lead that was off
        # (flat or missing) in some members would otherwise pull the median towards zero;
        # off in all of them, the lead stays all zero (drawn as "lead off")
        finite = np.isfinite(stack)
        span = np.ptp(np.where(finite, stack, 0.0), axis=2)
        live = finite.all(axis=2) & (span >= FLAT_LEAD_MV)
        for lead in range(n_leads):
            ok = live[:, lead]
            if ok.any():
                out[f, lead] = np.median(stack[ok, lead], axis=0)
    return out
