"""Evaluation of beat and episode annotations against a reference (ANSI/AAMI EC57).

* :func:`compare_beats` / :func:`evaluate_records`: beat-by-beat comparison as PhysioNet's
  ``bxb`` (150 ms window, 5-minute learning period, N S V F Q confusion matrix, QRS / VEB /
  SVEB sensitivity, positive predictivity and false positive rate, gross and averaged).
* :func:`compare_episodes` / :func:`evaluate_episodes`: episode comparison as ``epicmp``
  (episode and duration sensitivity and positive predictivity), with
  :func:`episodes_from_rhythm` and :func:`episodes_from_vf` to get episodes from annotations.

>>> from holterlab.evaluate import compare_beats
>>> result = compare_beats(reference, test)        # doctest: +SKIP
>>> result.qrs_se, result.veb_pp, result.cell("V", "n")  # doctest: +SKIP
"""

from __future__ import annotations

from holterlab.evaluate.ec57 import (
    BXB_CLASS_MAP,
    CLASSES,
    COL_LABELS,
    ROW_LABELS,
    BeatComparison,
    BeatStatistics,
    EvaluationReport,
    compare_beats,
    evaluate_records,
    fiducial_timing,
    match_beats,
)
from holterlab.evaluate.episodes import (
    EpisodeComparison,
    EpisodeReport,
    compare_episodes,
    episodes_from_rhythm,
    episodes_from_vf,
    evaluate_episodes,
)

__all__ = [
    "BXB_CLASS_MAP",
    "CLASSES",
    "COL_LABELS",
    "ROW_LABELS",
    "BeatComparison",
    "BeatStatistics",
    "EvaluationReport",
    "compare_beats",
    "evaluate_records",
    "fiducial_timing",
    "match_beats",
    "EpisodeComparison",
    "EpisodeReport",
    "compare_episodes",
    "episodes_from_rhythm",
    "episodes_from_vf",
    "evaluate_episodes",
]
