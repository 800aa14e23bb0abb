"""``run_study``: every (recording, variant) run, cached, scored, tabulated, plotted, reported.

Output folder layout::

    OUT/study.json                 the resolved study (recordings, variants, evaluation)
    OUT/study.parquet, study.csv   the tidy table (holterlab.study.table)
    OUT/runs/KEY.json              one finished run: its row (metrics, runtime, notes)
    OUT/runs/KEY.result.json       its result (with the beat list)
    OUT/plots/*.png                trade-off plots (holterlab.study.plots)
    OUT/report/study_report.ipynb, .html (, .pdf)

``KEY`` hashes the recording, its reference, the mode, the variant's full parameters, the
evaluation settings and (signal mode) the study's ``format:`` and ``read_options:``
(:func:`holterlab.study.spec.run_key`). A run is finished when its ``KEY.json`` exists
(written last, atomically); a rerun loads finished runs instead of running them again
(``force=True`` redoes them). Failed and cancelled runs are not cached. The key does not see
changes *inside* the files: after editing a recording or its reference annotations, rerun
with ``force=True``. ``study.json``, the table, the plots and the report always describe the
same run of the study: they are replaced together at the end (the old plots and report are
removed before the new table is written).
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from holterlab._atomic import atomic_write_text
from holterlab.distributed import map_tasks
from holterlab.errors import HolterlabError
from holterlab.study.spec import StudyRecording, StudySpec, Variant, get_dotted, run_key
from holterlab.study.table import aggregate_rows, study_frame, write_table

__all__ = ["run_study", "StudyResult"]


@dataclass
class StudyResult:
    """What :func:`run_study` did.

    Attributes
    ----------
    table
        The tidy study table (pandas DataFrame; see :mod:`holterlab.study.table`).
    paths
        ``parquet``, ``csv``, ``study_json``, ``plots`` (list), ``notebook``/``html``/``pdf``.
    counts
        Runs by outcome: ``ran``, ``cached``, ``failed``, ``cancelled``.
    notes
        What was skipped and why (remote algorithm unavailable, report not rendered, ...).
    seconds
        Wall time.
    """

    table: Any
    paths: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def runs(self):  # -> pandas.DataFrame
        return self.table[self.table["row_type"] == "run"]

    @property
    def gross(self):  # -> pandas.DataFrame
        return self.table[self.table["row_type"] == "gross"]

    @property
    def failed(self):  # -> pandas.DataFrame
        runs = self.runs
        return runs[runs["status"] != "ok"]


@dataclass
class _Run:
    recording: StudyRecording
    variant: Variant
    key: str
    task: dict[str, Any]


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "tolist"):
        return value.tolist()
    return str(value)


def _plan(spec: StudySpec, variants: list[Variant]) -> list[_Run]:
    runs = []
    for variant in variants:
        for rec in spec.recordings:
            extra: dict[str, Any] = {}
            if variant.algorithm == "remote" and spec.remote is not None:
                extra["remote_url"] = spec.remote.url
            # how the signal is read changes the result: part of the key (only when set, so
            # that the keys of studies without them stay as they were)
            if spec.mode == "signal" and spec.format:
                extra["format"] = spec.format
            if spec.mode == "signal" and spec.read_options:
                extra["read_options"] = spec.read_options
            key = run_key(rec, variant, mode=spec.mode, evaluation=spec.evaluation, extra=extra)
            task: dict[str, Any] = {
                "mode": spec.mode,
                "path": rec.path,
                "reference": rec.reference,
                "params": variant.params,
                "evaluation": spec.evaluation.to_dict(),
            }
            if spec.mode == "signal":
                task["format"] = spec.format
                task["read_options"] = spec.read_options
            if variant.algorithm == "remote" and spec.remote is not None:
                task["url"] = spec.remote.url
                task["timeout_s"] = spec.remote.timeout_s
            runs.append(_Run(rec, variant, key, task))
    return runs


def _row_id(run: _Run) -> tuple[str, str, str]:
    return (run.variant.algorithm, run.variant.name, run.recording.name)


def remove_outputs(out_dir: str | os.PathLike[str]) -> None:
    """Remove the plots and report files a study writes into ``out_dir`` (not the runs)."""
    from holterlab.study.plots import remove_plots

    remove_plots(Path(out_dir) / "plots")
    for suffix in (".ipynb", ".html", ".pdf"):
        with contextlib.suppress(FileNotFoundError):
            (Path(out_dir) / "report" / f"study_report{suffix}").unlink()


def _row(spec: StudySpec, run: _Run) -> dict[str, Any]:
    return {
        "study": spec.name,
        "row_type": "run",
        "algorithm": run.variant.algorithm,
        "variant": run.variant.name,
        **{k: get_dotted(run.variant.params, k) for k in spec.varied},
        "recording": run.recording.name,
        "key": run.key,
    }


def _remote_variant(spec: StudySpec, notes: list[str]) -> Variant | None:
    if spec.remote is None:
        return None
    if spec.mode != "signal":
        notes.append(
            f"remote algorithm {spec.remote.name!r} skipped: the service analyses signals and "
            "this study is in beats mode"
        )
        return None
    if importlib.util.find_spec("holterlab.client") is None:
        notes.append(
            f"remote algorithm {spec.remote.name!r} skipped: holterlab.client is not installed"
        )
        return None
    # the service gets the study's base parameters (not one point of the grid)
    base = spec.base_params or _full_base()
    return Variant(spec.remote.name, base, {}, algorithm="remote")


def _full_base() -> dict[str, Any]:
    from holterlab.params.analysis import AnalysisParams

    return AnalysisParams().to_dict()


def _load_cached(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("status") == "ok" else None


def run_study(
    spec: StudySpec,
    *,
    out: str | os.PathLike[str] | None = None,
    scheduler: Any = None,
    jobs: int | None = None,
    force: bool = False,
    progress: bool = True,
    cancel: Any = None,
    report: bool | None = None,
    pdf: bool | None = None,
    keep_results: bool = True,
) -> StudyResult:
    """Run a study: every recording with every variant, scored against its reference.

    Parameters
    ----------
    spec
        The study (:func:`holterlab.study.load_study`).
    out, scheduler, jobs
        Override the study's output folder, Dask scheduler and local process count.
    force
        Redo runs that are already finished.
    progress
        Show a tqdm bar.
    cancel
        :class:`threading.Event` or callable: stop pending runs (finished ones stay cached).
    report, pdf
        Render the HTML (and PDF) report; default: the study's ``report:`` setting.
    keep_results
        Write each run's result JSON beside its row (``runs/KEY.result.json``).

    Returns
    -------
    StudyResult
    """
    t0 = time.perf_counter()
    out_dir = Path(out) if out is not None else spec.out
    runs_dir = out_dir / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    remote = _remote_variant(spec, notes)
    local_runs = _plan(spec, list(spec.variants))
    remote_runs = _plan(spec, [remote]) if remote is not None else []
    # rows by (algorithm, variant, recording): two variants with the same parameters (or one
    # file listed twice) share a cache key, so they are computed once and listed for each
    rows: dict[tuple[str, str, str], dict[str, Any]] = {}
    counts = {"ran": 0, "cached": 0, "failed": 0, "cancelled": 0}
    todo: dict[str, list[_Run]] = {}
    todo_remote: dict[str, list[_Run]] = {}
    for run in [*local_runs, *remote_runs]:
        cached = None if force else _load_cached(runs_dir / f"{run.key}.json")
        if cached is not None:
            row = {**cached, **_row(spec, run), "cached": True}
            rows[_row_id(run)] = row
            counts["cached"] += 1
        elif run.variant.algorithm == "remote":
            todo_remote.setdefault(run.key, []).append(run)
        else:
            todo.setdefault(run.key, []).append(run)

    def record(same: list[_Run], outcome: Any) -> None:
        first = same[0]
        done: dict[str, Any] = {}
        if outcome.ok:
            value = outcome.value
            result_json = None
            if keep_results:
                result_path = runs_dir / f"{first.key}.result.json"
                atomic_write_text(result_path, json.dumps(value["result"], separators=(",", ":")))
                result_json = str(result_path)
            done.update(value["metrics"])
            done.update(
                status="ok",
                reason=None,
                runtime_s=value.get("analysis_s"),
                result_json=result_json,
                notes=" | ".join(value.get("notes") or []) or None,
            )
            atomic_write_text(
                runs_dir / f"{first.key}.json",
                json.dumps(
                    {**_row(spec, first), "cached": False, **done},
                    indent=1,
                    default=_json_default,
                ),
            )
        else:
            done.update(status=outcome.status, reason=outcome.error)
        for run in same:
            rows[_row_id(run)] = {**_row(spec, run), "cached": False, **done}
            if outcome.ok:
                counts["ran"] += 1
            else:
                counts["failed" if outcome.status == "failed" else "cancelled"] += 1

    if todo:
        from holterlab.study.runs import run_study_task

        groups = list(todo.values())
        for outcome in map_tasks(
            run_study_task,
            [same[0].task for same in groups],
            scheduler=scheduler if scheduler is not None else spec.scheduler,
            jobs=jobs if jobs is not None else spec.jobs,
            progress=progress,
            cancel=cancel,
            desc=f"study {spec.name}",
            unit="run",
        ):
            record(groups[outcome.index], outcome)
    if todo_remote:
        from holterlab.distributed import Task
        from holterlab.study.runs import run_remote_task

        api_key = os.environ.get(spec.remote.api_key_env) if spec.remote else None
        if not api_key:
            notes.append(
                f"${spec.remote.api_key_env} is not set: the remote service is called "  # type: ignore[union-attr]
                "without an API key"
            )
        groups_remote = list(todo_remote.values())
        for outcome in map_tasks(
            run_remote_task,
            [Task(same[0].task, api_key) for same in groups_remote],
            progress=progress,
            cancel=cancel,
            desc=f"remote {spec.remote.name}",  # type: ignore[union-attr]
            unit="run",
            retries=0,
        ):
            record(groups_remote[outcome.index], outcome)

    ordered = [rows[_row_id(r)] for r in [*local_runs, *remote_runs] if _row_id(r) in rows]
    pairs = [(v.algorithm, v.name) for v in spec.variants]
    if remote is not None:
        pairs.append(("remote", remote.name))
    aggregates = aggregate_rows(
        ordered,
        variants=pairs,
        varied=spec.varied,
        event_types=spec.evaluation.event_types,
        study=spec.name,
    )
    df = study_frame(
        [*ordered, *aggregates], varied=spec.varied, event_types=spec.evaluation.event_types
    )
    # plots and report of an earlier run of this folder no longer match the new table:
    # remove them first, so that nothing stale (or half-made, if interrupted) is left
    remove_outputs(out_dir)
    atomic_write_text(
        out_dir / "study.json", json.dumps(spec.to_dict(), indent=1, default=_json_default)
    )
    parquet_path, csv_path = write_table(df, out_dir)
    paths: dict[str, Any] = {
        "parquet": parquet_path,
        "csv": csv_path,
        "study_json": out_dir / "study.json",
    }
    if counts["cancelled"]:
        notes.append("cancelled: plots and report were not made; rerun to finish the study")
        return StudyResult(df, paths, counts, notes, round(time.perf_counter() - t0, 2))

    from holterlab.study.plots import study_plots

    paths["plots"] = study_plots(
        df,
        varied=spec.varied,
        event_types=spec.evaluation.event_types,
        out_dir=out_dir / "plots",
    )
    want_report = spec.report_html if report is None else bool(report)
    want_pdf = spec.report_pdf if pdf is None else bool(pdf)
    if want_report or want_pdf:
        from holterlab.study.report import render_study_report

        try:
            paths.update(render_study_report(out_dir, title=spec.name, pdf=want_pdf))
        except HolterlabError as exc:
            notes.append(f"report not rendered: {' '.join(str(exc).split())}")
    return StudyResult(df, paths, counts, notes, round(time.perf_counter() - t0, 2))
