"""Review edits: relabelled beats, saved as a WFDB annotation file beside the recording.

The edit file ``NAME.edit.hlab`` (WFDB/MIT annotation format, written atomically with
:func:`~holterlab.annotations.write_annotations`) holds one annotation per *edited* beat: its
sample index and the label the reviewer gave it (``N S V F Q``, or ``|`` for "artefact, not a
beat"). Only differences from the analysis are stored, so the same edits apply again after the
recording is re-opened or re-analysed: each edit goes to the beat within
:data:`MATCH_TOLERANCE_S` of its sample.

When the recording's folder is not writable (read-only data), the edit file goes to the
user cache folder instead (:func:`edit_path` says where).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np

from holterlab.annotations import (
    Annotations,
    copy_annotation_file,
    read_annotations,
    write_annotations,
)
from holterlab.errors import AnnotationError, ParameterError

__all__ = [
    "EDIT_SUFFIX",
    "ARTEFACT",
    "EDIT_LABELS",
    "MATCH_TOLERANCE_S",
    "edit_path",
    "load_edits",
    "save_edits",
    "apply_edits",
    "diff_edits",
]

#: File name ending of an edit file (``NAME.edit.hlab``).
EDIT_SUFFIX = ".edit.hlab"
#: Label of a detection the reviewer marked as artefact (MIT "isolated QRS-like artifact").
ARTEFACT = "|"
#: Labels a reviewer may give a beat.
EDIT_LABELS = ("N", "S", "V", "F", "Q", ARTEFACT)
#: An edit applies to the beat within this many seconds of its sample.
MATCH_TOLERANCE_S = 0.075


def _record_name(path: Path) -> str:
    name = path.name
    for suffix in (".hea", ".zip", ".csv", ".edf", ".bdf", ".aiecg", ".ecg", ".dat"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def edit_path(recording_path: str | os.PathLike[str], *, cache_dir: Path | None = None) -> Path:
    """Where the edits of a recording live: ``NAME.edit.hlab`` beside it, or (if that folder
    is not writable) in the user cache folder under a name keyed by the recording path."""
    p = Path(recording_path).resolve()
    beside = p.parent / f"{_record_name(p)}{EDIT_SUFFIX}"
    if beside.exists() or os.access(p.parent, os.W_OK):
        return beside
    from holterlab.viz.pyramid import cache_root

    root = cache_dir or cache_root().parent / "edits"
    key = hashlib.sha1(str(p).encode()).hexdigest()[:12]
    return root / f"{_record_name(p)}-{key}{EDIT_SUFFIX}"


def load_edits(path: str | os.PathLike[str]) -> tuple[np.ndarray, np.ndarray, float | None]:
    """Read an edit file: ``(samples, labels, fs)``; empty arrays if there is none."""
    p = Path(path)
    if not p.is_file() or p.stat().st_size <= 2:
        return np.zeros(0, np.int64), np.zeros(0, "<U1"), None
    try:
        ann = read_annotations(p)
    except AnnotationError:
        raise
    labels = np.asarray(ann.symbol.astype(str), dtype="<U1")
    keep = np.isin(labels, EDIT_LABELS)
    return ann.sample[keep], labels[keep], ann.fs


def save_edits(
    path: str | os.PathLike[str], samples: np.ndarray, labels: np.ndarray, fs: float
) -> Path:
    """Write the edits (atomically). An empty edit set leaves an empty annotation file."""
    samples = np.asarray(samples, dtype=np.int64)
    labels = np.asarray(labels, dtype="<U1")
    if samples.shape != labels.shape:
        raise ParameterError("edit samples and labels must have the same length")
    bad = sorted(set(labels.tolist()) - set(EDIT_LABELS))
    if bad:
        raise ParameterError(f"edit labels must be among {' '.join(EDIT_LABELS)}; got {bad}")
    order = np.argsort(samples, kind="stable")
    ann = Annotations(samples[order], labels[order].tolist(), float(fs))
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    # wfdb only writes record names of letters, digits, - and _: write under a safe name in
    # a private folder, then copy onto the target atomically
    with tempfile.TemporaryDirectory(dir=p.parent) as tmp:
        written = write_annotations(ann, Path(tmp) / "edits.hlab")
        copy_annotation_file(written, p)
    return p


def apply_edits(
    beat_samples: np.ndarray,
    beat_labels: np.ndarray,
    edit_samples: np.ndarray,
    edit_labels: np.ndarray,
    fs: float,
    *,
    edit_fs: float | None = None,
    tolerance_s: float = MATCH_TOLERANCE_S,
) -> tuple[np.ndarray, int]:
    """Labels after the edits: each edit relabels the nearest beat within ``tolerance_s``.

    Returns the new label array (``<U1``, ``|`` for artefacts) and the number of edits that
    found a beat.
    """
    labels = np.asarray(beat_labels, dtype="<U1").copy()
    b = np.asarray(beat_samples, dtype=np.int64)
    e = np.asarray(edit_samples, dtype=np.int64)
    if b.size == 0 or e.size == 0:
        return labels, 0
    if edit_fs is not None and edit_fs != fs:
        e = np.round(e * (fs / edit_fs)).astype(np.int64)
    pos = np.clip(np.searchsorted(b, e), 1, b.size - 1) if b.size > 1 else np.zeros_like(e)
    if b.size > 1:
        left = b[pos - 1]
        right = b[pos]
        nearest = np.where(np.abs(e - left) <= np.abs(right - e), pos - 1, pos)
    else:
        nearest = pos
    ok = np.abs(b[nearest] - e) <= tolerance_s * fs
    labels[nearest[ok]] = np.asarray(edit_labels, dtype="<U1")[ok]
    return labels, int(ok.sum())


def diff_edits(
    beat_samples: np.ndarray, base_labels: np.ndarray, labels: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The edits that turn ``base_labels`` into ``labels``: ``(samples, labels)``."""
    changed = np.asarray(base_labels).astype(str) != np.asarray(labels).astype(str)
    return (
        np.asarray(beat_samples, dtype=np.int64)[changed],
        np.asarray(labels, dtype="<U1")[changed],
    )
