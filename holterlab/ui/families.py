"""Morphology families for the review gallery.

Two sources:

* the classifier's :class:`~holterlab.beats.templates.Families` (templates, counts, labels)
  with the family of every beat, when the recording was analysed in this session
  (:func:`families_from_classifier`);
* otherwise, when only a result (a beat list) is loaded, one family per beat label, with
  median templates computed from up to ``per_family`` beats spread over the recording
  (:func:`families_from_labels`).

A :class:`FamilyTable` maps every current beat to a family; counts and each family's label
(the label most of its beats carry now) follow the beat labels, so relabelling updates them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

__all__ = [
    "FamilyTable",
    "families_from_classifier",
    "families_from_labels",
    "median_template",
    "spread_pick",
]

PRE_MS = 250.0
POST_MS = 400.0


@dataclass
class FamilyTable:
    """Families of the current beats.

    Attributes
    ----------
    family
        int64 family of each beat (-1: none).
    templates
        float32 ``(n_families, n_leads, width)`` template of each family in mV.
    time_ms
        Template time axis relative to the QRS (ms).
    source
        ``"classifier"`` or ``"labels"``.
    """

    family: np.ndarray
    templates: np.ndarray
    time_ms: np.ndarray
    source: str

    @property
    def n_families(self) -> int:
        return int(self.templates.shape[0])

    def counts(self, labels: np.ndarray | None = None) -> np.ndarray:
        """Beats per family (artefacts, labelled ``|``, are not counted)."""
        fam = self.family
        if labels is not None:
            fam = fam[np.asarray(labels).astype(str) != "|"]
        fam = fam[fam >= 0]
        return np.bincount(fam, minlength=self.n_families)[: self.n_families]

    def family_labels(self, labels: np.ndarray) -> list[str]:
        """The label most beats of each family carry now (``-`` for an empty family)."""
        labels = np.asarray(labels).astype(str)
        out = []
        for f in range(self.n_families):
            lab = labels[self.family == f]
            lab = lab[lab != "|"]
            if lab.size == 0:
                out.append("-")
                continue
            values, counts = np.unique(lab, return_counts=True)
            out.append(str(values[np.argmax(counts)]))
        return out

    def members(self, f: int) -> np.ndarray:
        """Indices of the beats of family ``f``."""
        return np.flatnonzero(self.family == int(f))

    def remap(self, old_samples: np.ndarray, new_samples: np.ndarray) -> FamilyTable:
        """The same families for a changed beat list (beats kept keep their family; new beats
        get -1)."""
        old = np.asarray(old_samples, dtype=np.int64)
        new = np.asarray(new_samples, dtype=np.int64)
        pos = np.searchsorted(old, new)
        pos = np.clip(pos, 0, max(0, old.size - 1))
        same = old.size > 0
        fam = np.full(new.size, -1, dtype=np.int64)
        if same:
            hit = old[pos] == new
            fam[hit] = self.family[pos[hit]]
        return FamilyTable(fam, self.templates, self.time_ms, self.source)


def spread_pick(indices: np.ndarray, k: int) -> np.ndarray:
    """Up to ``k`` of ``indices`` spread evenly over them."""
    indices = np.asarray(indices)
    if indices.size <= k:
        return indices
    pick = np.unique(np.linspace(0, indices.size - 1, k).round().astype(np.int64))
    return indices[pick]


def median_template(
    recording: Any, samples: np.ndarray, *, pre_ms: float = PRE_MS, post_ms: float = POST_MS
) -> np.ndarray:
    """Median beat ``(n_leads, width)`` in mV around the given beat samples.

    Each window has its baseline (median of the first 80 ms) removed; windows reaching past
    the recording are left out.
    """
    fs = float(recording.fs)
    pre = int(round(pre_ms * fs / 1000.0))
    post = int(round(post_ms * fs / 1000.0))
    width = pre + post + 1
    base_n = max(1, int(round(0.08 * fs)))
    stack = []
    for s in np.asarray(samples, dtype=np.int64):
        i0, i1 = int(s) - pre, int(s) + post + 1
        if i0 < 0 or i1 > recording.n_samples:
            continue
        w = recording.get_samples(None, i0, i1)
        with np.errstate(all="ignore"):
            w = w - np.nanmedian(w[:, :base_n], axis=1, keepdims=True)
        stack.append(w)
    if not stack:
        return np.full((recording.n_leads, width), np.nan, dtype=np.float32)
    with np.errstate(all="ignore"):
        return np.nanmedian(np.stack(stack), axis=0).astype(np.float32)


def _time_ms(fs: float, pre_ms: float, post_ms: float) -> np.ndarray:
    pre = int(round(pre_ms * fs / 1000.0))
    post = int(round(post_ms * fs / 1000.0))
    return (np.arange(pre + post + 1) - pre) * 1000.0 / fs


def families_from_labels(
    recording: Any,
    samples: np.ndarray,
    labels: np.ndarray,
    *,
    per_family: int = 48,
    pre_ms: float = PRE_MS,
    post_ms: float = POST_MS,
) -> FamilyTable:
    """One family per beat label present (N first, then S V F Q), median templates from up to
    ``per_family`` beats spread over the recording."""
    labels = np.asarray(labels).astype(str)
    order = [c for c in ("N", "S", "V", "F", "Q") if np.any(labels == c)]
    family = np.full(labels.size, -1, dtype=np.int64)
    templates = []
    for f, c in enumerate(order):
        idx = np.flatnonzero(labels == c)
        family[idx] = f
        pick = spread_pick(idx, per_family)
        templates.append(
            median_template(recording, np.asarray(samples)[pick], pre_ms=pre_ms, post_ms=post_ms)
        )
    width = _time_ms(recording.fs, pre_ms, post_ms).size
    arr = (
        np.stack(templates)
        if templates
        else np.zeros((0, recording.n_leads, width), dtype=np.float32)
    )
    return FamilyTable(family, arr, _time_ms(recording.fs, pre_ms, post_ms), "labels")


def families_from_classifier(beat_labels: Any, samples: np.ndarray) -> FamilyTable:
    """Families of a :class:`~holterlab.beats.classify.BeatLabels` mapped onto ``samples``
    (the beat list of the result it came with)."""
    fams = beat_labels.families
    src = np.asarray(beat_labels.beats, dtype=np.int64)
    table = FamilyTable(
        np.asarray(beat_labels.family, dtype=np.int64),
        np.asarray(fams.templates, dtype=np.float32),
        np.asarray(fams.time_ms, dtype=np.float64),
        "classifier",
    )
    if src.shape == np.shape(samples) and np.array_equal(src, samples):
        return table
    return table.remap(src, samples)
