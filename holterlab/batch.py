"""Batch analysis and reports: every recording of a folder, through papermill.

:func:`run_batch` runs :func:`run_one` for every recording found by
:func:`find_recordings` (in turn, in a local process pool, or on a Dask cluster), with a tqdm
bar, and writes a summary table (``summary.csv`` and ``summary.parquet``, one row per
recording with the headline numbers of :meth:`HolterResult.headline`). A recording that
fails is listed with its reason and does not stop the others. A recording is *finished* when
its result JSON and its PDF both exist (each is written atomically); a rerun skips finished
recordings, and renders only the PDF when the result JSON is already there. The folder may be
an fsspec URL (``s3://bucket/holter/``): each recording is then read where it is analysed;
the output folder is always a path (on a Dask cluster, a disk every worker mounts).

:func:`run_one` is a pure top-level function of plain arguments returning a plain dict, so it
can be shipped to other executors (Dask) as is.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from holterlab._atomic import atomic_path
from holterlab._urls import url_filesystem
from holterlab.errors import CancelledError, HolterlabError, ParameterError

__all__ = [
    "RECORDING_EXTENSIONS",
    "find_recordings",
    "output_paths",
    "is_finished",
    "run_one",
    "run_batch",
    "BatchSummary",
    "SUMMARY_COLUMNS",
]

#: File endings treated as recordings in a folder (a WFDB record is found by its ``.hea``).
RECORDING_EXTENSIONS = (".edf", ".bdf", ".hea", ".zip", ".csv", ".tsv", ".aiecg", ".ecg")

#: Bookkeeping columns of the summary table (the headline numbers follow).
SUMMARY_COLUMNS = ("recording", "status", "reason", "seconds", "result_json", "pdf")

_HEADLINE_KEYS = (
    "name",
    "duration_s",
    "analysable_s",
    "noise_pct",
    "noisy_pct",
    "beats_total",
    "hr_min_bpm",
    "hr_mean_bpm",
    "hr_max_bpm",
    "hr_max_sinus_bpm",
    "v_total",
    "v_burden_pct",
    "s_total",
    "s_burden_pct",
    "af_burden_pct",
    "af_episodes",
    "pauses",
    "longest_pause_s",
    "sdnn_ms",
    "rmssd_ms",
    "mean_qtc_ms",
)


def _is_recording_name(name: str) -> bool:
    return (
        not name.startswith(".")
        and os.path.splitext(name)[1].lower() in RECORDING_EXTENSIONS
        and not name.lower().endswith(".result.json")
    )


def _find_remote(url: str, recursive: bool) -> list[str]:
    """The recordings under an fsspec folder URL, as URLs (sorted)."""
    import posixpath

    fs, root = url_filesystem(url)
    try:
        if not fs.isdir(root):
            raise ParameterError(f"{url} is not a folder; give the folder of recordings")
        if recursive:
            files = list(fs.find(root))
        else:
            files = [f for f in fs.ls(root, detail=False) if fs.isfile(f)]
    except OSError as exc:
        raise ParameterError(f"{url}: cannot list the folder ({exc})") from None
    return sorted(
        fs.unstrip_protocol(f) for f in files if _is_recording_name(posixpath.basename(f))
    )


def find_recordings(
    folder: str | os.PathLike[str], *, recursive: bool = False
) -> list[Path] | list[str]:
    """The recordings in ``folder`` (by :data:`RECORDING_EXTENSIONS`), sorted by path.

    ``folder`` may be an fsspec URL (``s3://bucket/holter/``, ``memory://...``): the
    recordings are then URLs, read where they are analysed (:func:`run_one`).
    """
    from holterlab.distributed.workers import is_url

    if is_url(str(folder)):
        return _find_remote(str(folder), recursive)
    root = Path(folder)
    if not root.is_dir():
        raise ParameterError(f"{root} is not a folder")
    files = root.rglob("*") if recursive else root.iterdir()
    return sorted(p for p in files if p.is_file() and _is_recording_name(p.name))


def output_paths(
    path: str | os.PathLike[str], outdir: str | os.PathLike[str], name: str | None = None
) -> tuple[Path, Path]:
    """The result JSON and PDF of a recording: ``OUTDIR/NAME.result.json``, ``OUTDIR/NAME.pdf``."""
    stem = name or Path(path).stem
    out = Path(outdir)
    return out / f"{stem}.result.json", out / f"{stem}.pdf"


def _relative(p: Path | str, root: Path | str) -> Path:
    """``p`` relative to the batch folder ``root`` (paths or URLs), else its file name."""
    if isinstance(p, str):  # a URL under a folder URL
        import posixpath

        base = str(root).rstrip("/") + "/"
        tail = p[len(base) :] if p.startswith(base) else posixpath.basename(p)
        return Path(tail)
    return p.relative_to(root) if p.is_relative_to(root) else Path(p.name)


def _folder_url(url: str) -> str:
    """A folder URL in the form fsspec gives its files (``memory:///x``), without the last /."""
    try:
        import fsspec

        fs, path = fsspec.core.url_to_fs(url)
    except (ImportError, ValueError):
        return url  # find_recordings says what is wrong
    return fs.unstrip_protocol(path.rstrip("/") or path)


def _names(paths: list[Any], root: Path | str) -> dict[Any, str]:
    """Output names: the file stem, with the subfolder and extension when needed to be unique."""
    names: dict[Any, str] = {}
    stems: dict[str, int] = {}
    for p in paths:
        rel = _relative(p, root)
        stem = "__".join([*rel.parent.parts, rel.stem])
        stems[stem] = stems.get(stem, 0) + 1
        names[p] = stem
    for p, stem in list(names.items()):
        if stems[stem] > 1:
            names[p] = f"{stem}_{_relative(p, root).suffix.lstrip('.').lower()}"
    return names


def is_finished(
    path: str | os.PathLike[str], outdir: str | os.PathLike[str], name: str | None = None
) -> bool:
    """True when the recording's result JSON and PDF both exist."""
    result_json, pdf = output_paths(path, outdir, name)
    return result_json.is_file() and pdf.is_file()


def _one_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    if isinstance(exc, HolterlabError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _headline(result_json: Path) -> dict[str, Any]:
    from holterlab.result import HolterResult

    return HolterResult.from_json(result_json).headline()


def _set_recording_path(result_json: Path, path: str) -> None:
    """Store the URL (not the worker's temporary copy) as the result's recording path."""
    data = json.loads(result_json.read_text(encoding="utf-8"))
    if isinstance(data.get("recording"), dict):
        data["recording"]["path"] = path
        with atomic_path(result_json) as tmp:
            tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")


def run_one(
    path: str | os.PathLike[str],
    outdir: str | os.PathLike[str],
    params: dict[str, Any] | None = None,
    *,
    name: str | None = None,
    beats: str = "detect",
    paper: str = "A4",
    patient: dict[str, Any] | None = None,
    template: str | None = None,
    timeout_s: float | None = None,
    force: bool = False,
    cancel: Any = None,
) -> dict[str, Any]:
    """Analyse one recording and render its report, through papermill; never raises for a
    failure of this recording (it is returned as ``status="failed"`` with its ``reason``).

    Parameters
    ----------
    path
        The recording: a path, or an fsspec URL (``s3://...``) that is copied to a temporary
        folder of the machine running this.
    outdir
        Output folder: ``NAME.result.json`` (with the beat list) and ``NAME.pdf``.
    params
        Analysis parameters (dict form of :class:`AnalysisParams`).
    name
        Output name (default: the file stem).
    beats, paper, patient, template, timeout_s
        As for :func:`holterlab.report.render_report`.
    force
        Redo finished recordings.
    cancel
        :class:`threading.Event` or callable: when true, the analysis or the report stops
        (the notebook kernel is interrupted) and nothing is written; the row's status is
        ``cancelled``. :func:`holterlab.distributed.map_tasks` passes its own (a cancelled
        batch, or Ctrl-C, stops the recordings running on Dask workers too).

    Returns
    -------
    dict
        ``recording``, ``status`` (``ok``, ``skipped``, ``failed``, ``cancelled``), ``reason``,
        ``seconds``,
        ``result_json``, ``pdf`` and the headline numbers (when a result exists).
    """
    from holterlab.distributed.workers import is_url, local_path
    from holterlab.report.render import render_report

    t0 = time.perf_counter()
    url = is_url(str(path))
    path = str(path) if url else Path(path)
    result_json, pdf = output_paths(path, outdir, name)
    row: dict[str, Any] = {
        "recording": str(path),
        "status": "ok",
        "reason": None,
        "seconds": 0.0,
        "result_json": str(result_json),
        "pdf": str(pdf),
    }
    try:
        if not force and result_json.is_file() and pdf.is_file():
            row["status"] = "skipped"
        elif not force and result_json.is_file():
            # analysed before, the PDF failed or was interrupted: print it from the result
            with local_path(path) as local:  # a URL is fetched to this worker
                render_report(
                    result_json,
                    pdf,
                    recording_path=local,
                    paper=paper,
                    patient=patient,
                    template=template,
                    timeout_s=timeout_s,
                    cancel=cancel,
                )
        else:
            from holterlab.io import read

            with local_path(path) as local:  # a URL is fetched to this worker
                read(local).close()  # a broken file fails here, before a kernel is started
                render_report(
                    local,
                    pdf,
                    params=params,
                    beats=beats,
                    paper=paper,
                    patient=patient,
                    result_out=result_json,
                    template=template,
                    timeout_s=timeout_s,
                    cancel=cancel,
                )
            if url:
                _set_recording_path(result_json, str(path))
        row.update(_headline(result_json))
    except CancelledError as exc:
        row["status"] = "cancelled"
        row["reason"] = _one_line(exc)
    except Exception as exc:  # noqa: BLE001 - one broken recording must not stop the batch
        row["status"] = "failed"
        row["reason"] = _one_line(exc)
        if result_json.is_file():
            try:
                row.update(_headline(result_json))
            except Exception:  # noqa: BLE001
                pass
    row["seconds"] = round(time.perf_counter() - t0, 2)
    return row


@dataclass
class BatchSummary:
    """What :func:`run_batch` did: one row per recording, and the summary files written."""

    rows: list[dict[str, Any]]
    csv_path: Path
    parquet_path: Path
    seconds: float = 0.0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> list[dict[str, Any]]:
        return [r for r in self.rows if r["status"] == "failed"]

    def frame(self):  # -> pandas.DataFrame
        """The summary as a pandas DataFrame."""
        return _frame(self.rows)


def _frame(rows: list[dict[str, Any]]):
    import pandas as pd

    cols = list(SUMMARY_COLUMNS) + list(_HEADLINE_KEYS)
    extra = [k for r in rows for k in r if k not in cols]
    cols += list(dict.fromkeys(extra))
    df = pd.DataFrame(rows, columns=cols)
    for c in df.columns:
        if df[c].dtype == object and c not in (
            "recording",
            "status",
            "reason",
            "result_json",
            "pdf",
            "name",
        ):
            df[c] = pd.to_numeric(df[c], errors="coerce")
    for c in ("reason", "name"):
        df[c] = df[c].astype("string")
    return df


def _write_summary(rows: list[dict[str, Any]], outdir: Path) -> tuple[Path, Path]:
    df = _frame(rows)
    csv_path, parquet_path = outdir / "summary.csv", outdir / "summary.parquet"
    with atomic_path(csv_path) as tmp:
        df.to_csv(tmp, index=False)
    with atomic_path(parquet_path) as tmp:
        df.to_parquet(tmp, index=False)
    return csv_path, parquet_path


def run_batch(
    folder: str | os.PathLike[str],
    outdir: str | os.PathLike[str],
    *,
    jobs: int = 1,
    params: dict[str, Any] | None = None,
    beats: str = "detect",
    paper: str = "A4",
    recursive: bool = False,
    force: bool = False,
    progress: bool = True,
    template: str | None = None,
    timeout_s: float | None = None,
    scheduler: str | None = None,
    cancel: Any = None,
) -> BatchSummary:
    """Analyse and report every recording of ``folder`` into ``outdir``.

    Parameters
    ----------
    folder
        A folder, or an fsspec folder URL (``s3://bucket/holter/``): each recording is then
        copied to the machine that analyses it (a Dask worker, or this one).
    outdir
        The output folder (on a Dask cluster: a shared disk every worker mounts).
    jobs
        Recordings processed at once (a local process pool when above 1).
    params, beats, paper, template, timeout_s
        As for :func:`run_one`.
    recursive
        Also look in subfolders (output names then carry the subfolder).
    force
        Redo recordings that are already finished.
    progress
        Show a tqdm bar on stderr.
    scheduler
        A Dask scheduler address (``tcp://HOST:PORT``): each recording is analysed and
        reported on the cluster's workers (which must reach the recordings and ``outdir``);
        a worker that dies has its recording rescheduled. None: this machine.
    cancel
        :class:`threading.Event` or callable: when true, the recordings being processed stop
        (locally or on the Dask workers) without writing outputs, and every unfinished one is
        listed as ``cancelled``. Ctrl-C stops the running ones the same way.

    Returns
    -------
    BatchSummary
        The rows (in path order) and the paths of ``summary.csv`` / ``summary.parquet``.
    """
    from tqdm.auto import tqdm

    from holterlab.report.context import BEAT_SOURCES, paper_name

    if int(jobs) < 1:
        raise ParameterError(f"jobs must be at least 1, got {jobs}")
    if beats not in BEAT_SOURCES:
        raise ParameterError(f"beats must be one of {', '.join(BEAT_SOURCES)}, got {beats!r}")
    paper = paper_name(paper)
    params = json.loads(json.dumps(params)) if params else None
    from holterlab.distributed.workers import is_url

    if is_url(str(outdir)):
        raise ParameterError(
            f"{outdir}: the output folder must be a folder of this machine or a shared disk "
            "the workers mount, not a URL"
        )
    root: Path | str = _folder_url(str(folder)) if is_url(str(folder)) else Path(folder)
    paths: list[Any] = list(find_recordings(root, recursive=recursive))
    if not paths:
        raise ParameterError(
            f"no recordings in {root} (looked for {', '.join(RECORDING_EXTENSIONS)})"
        )
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    out_abs = out.resolve()
    paths = [  # our own outputs are not recordings
        p for p in paths if isinstance(p, str) or not p.resolve().is_relative_to(out_abs)
    ]
    if not paths:
        raise ParameterError(f"no recordings in {root} outside the output folder {out}")
    names = _names(paths, root)
    kwargs = dict(beats=beats, paper=paper, template=template, timeout_s=timeout_s, force=force)
    t0 = time.perf_counter()
    rows: dict[Any, dict[str, Any]] = {}
    from holterlab.distributed import Task, connect, map_tasks

    # connect first: an unreachable scheduler is one clear error, before any progress bar
    client = None
    if isinstance(scheduler, (str, os.PathLike)) and str(scheduler).strip():
        client = connect(scheduler)
    try:
        with tqdm(total=len(paths), desc="batch", unit="recording", disable=not progress) as bar:

            def done(p: Any, row: dict[str, Any]) -> None:
                rows[p] = row
                bar.set_postfix_str(f"{_relative(p, root).name}: {row['status']}")
                bar.update(1)

            items = [Task(p, out, params, name=names[p], **kwargs) for p in paths]
            target = client if client is not None else scheduler
            outcomes = map_tasks(
                run_one, items, scheduler=target, jobs=int(jobs), retries=0, cancel=cancel
            )
            try:
                for o in outcomes:
                    p = paths[o.index]
                    if o.ok:
                        row = o.value
                    else:  # the worker died, the task was lost, or the batch was cancelled
                        result_json, pdf = output_paths(p, out, names[p])
                        cancelled = o.status == "cancelled"
                        row = {
                            "recording": str(p),
                            "status": "cancelled" if cancelled else "failed",
                            "reason": o.error if cancelled else f"worker failed: {o.error}",
                            "seconds": o.seconds,
                            "result_json": str(result_json),
                            "pdf": str(pdf),
                        }
                    done(p, row)
            finally:  # Ctrl-C: the recordings running on Dask workers are cancelled too
                outcomes.close()
    finally:
        if client is not None:
            with contextlib.suppress(Exception):
                client.close(timeout=5)
    ordered = [rows[p] for p in paths]
    csv_path, parquet_path = _write_summary(ordered, out)
    counts: dict[str, int] = {}
    for r in ordered:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    return BatchSummary(ordered, csv_path, parquet_path, round(time.perf_counter() - t0, 2), counts)
