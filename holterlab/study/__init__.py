"""Algorithm comparison studies: recordings x parameter variants, scored by EC57, tabulated.

A study file (YAML, :mod:`holterlab.study.spec`) lists recordings with their reference
annotations and a grid of parameter sets; :func:`run_study` analyses every recording with
every variant (locally or on a Dask cluster, through :func:`holterlab.distributed.map_tasks`),
scores each run against its reference (EC57 beat statistics and episode statistics), and
writes one tidy table (Parquet and CSV), trade-off plots and an HTML (and PDF) report. Runs
are cached, so a rerun only does what is missing.

>>> from holterlab.study import load_study, run_study
>>> result = run_study(load_study("af-study.yaml"))        # doctest: +SKIP
>>> result.gross[["variant", "af_episode_se_pct", "af_episode_pp_pct"]]  # doctest: +SKIP

Command line: ``holterlab study STUDY.yaml``.
"""

from __future__ import annotations

from holterlab.study.runner import StudyResult, run_study
from holterlab.study.runs import run_study_task, score_result
from holterlab.study.spec import (
    Evaluation,
    RemoteSpec,
    StudyRecording,
    StudySpec,
    Variant,
    expand_grid,
    load_study,
    run_key,
    study_from_dict,
)

__all__ = [
    "load_study",
    "study_from_dict",
    "run_study",
    "StudyResult",
    "StudySpec",
    "StudyRecording",
    "Variant",
    "Evaluation",
    "RemoteSpec",
    "expand_grid",
    "run_key",
    "run_study_task",
    "score_result",
]
