"""One run of a study: analyse a recording with one variant and score it against the reference.

:func:`run_study_task` is the function shipped to the workers (local processes or Dask): it
reads the recording and the reference *where it runs*, so paths must be reachable there
(local paths, a shared disk, or fsspec URLs). It returns plain dictionaries: the result (with
its beat list) and the flat metrics of :func:`score_result`.
"""

from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Any

from holterlab.annotations import Annotations
from holterlab.errors import ParameterError, RecordingNotFoundError

__all__ = [
    "run_study_task",
    "run_remote_task",
    "score_result",
    "BEAT_COUNTS",
    "EPISODE_COUNTS",
    "HEADLINE_KEYS",
    "metric_columns",
]

#: Beat counts kept per run (summed for the gross rows).
BEAT_COUNTS = (
    "qrs_tp",
    "qrs_fn",
    "qrs_fp",
    "veb_tp",
    "veb_fn",
    "veb_fp",
    "sveb_tp",
    "sveb_fn",
    "sveb_fp",
)
#: Beat ratios (percent): name -> (numerator count, other denominator count).
BEAT_RATIOS = {
    "qrs_se_pct": ("qrs_tp", "qrs_fn"),
    "qrs_pp_pct": ("qrs_tp", "qrs_fp"),
    "veb_se_pct": ("veb_tp", "veb_fn"),
    "veb_pp_pct": ("veb_tp", "veb_fp"),
    "sveb_se_pct": ("sveb_tp", "sveb_fn"),
    "sveb_pp_pct": ("sveb_tp", "sveb_fp"),
}
#: Episode counts kept per run and event type (columns ``{type}_{count}``).
EPISODE_COUNTS = (
    "ref_tp",
    "fn",
    "test_tp",
    "fp",
    "ref_duration_s",
    "test_duration_s",
    "overlap_s",
)
#: Episode ratios (percent), columns ``{type}_{ratio}``.
EPISODE_RATIOS = ("episode_se_pct", "episode_pp_pct", "duration_se_pct", "duration_pp_pct")
#: Headline numbers of the result kept per run (what rhythm/HRV studies look at).
HEADLINE_KEYS = (
    "beats_total",
    "hr_mean_bpm",
    "v_total",
    "s_total",
    "af_episodes",
    "af_burden_pct",
    "pauses",
    "longest_pause_s",
    "sdnn_ms",
    "rmssd_ms",
)


def metric_columns(event_types: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """``(ratio columns, count columns)`` of the study table for these event types."""
    ratios = list(BEAT_RATIOS)
    counts = list(BEAT_COUNTS)
    for t in event_types:
        ratios += [f"{t}_{r}" for r in EPISODE_RATIOS]
        counts += [f"{t}_{c}" for c in EPISODE_COUNTS]
    return ratios, counts


def _pct(num: float, den: float) -> float | None:
    return None if den <= 0 else round(100.0 * num / den, 4)


def ratios_from_counts(counts: dict[str, Any], event_types: tuple[str, ...]) -> dict[str, Any]:
    """The percent ratios from (possibly summed) counts; ``None`` where undefined."""
    out: dict[str, Any] = {}
    for name, (tp, other) in BEAT_RATIOS.items():
        a, b = counts.get(tp), counts.get(other)
        out[name] = None if a is None or b is None else _pct(a, a + b)
    for t in event_types:
        g = {c: counts.get(f"{t}_{c}") for c in EPISODE_COUNTS}
        if any(v is None for v in g.values()):
            out.update({f"{t}_{r}": None for r in EPISODE_RATIOS})
            continue
        out[f"{t}_episode_se_pct"] = _pct(g["ref_tp"], g["ref_tp"] + g["fn"])
        out[f"{t}_episode_pp_pct"] = _pct(g["test_tp"], g["test_tp"] + g["fp"])
        out[f"{t}_duration_se_pct"] = _pct(g["overlap_s"], g["ref_duration_s"])
        out[f"{t}_duration_pp_pct"] = _pct(g["overlap_s"], g["test_duration_s"])
    return out


def score_result(
    result: dict[str, Any],
    reference: str | Annotations,
    *,
    learning_s: float = 300.0,
    window_ms: float = 150.0,
    event_types: tuple[str, ...] | list[str] = ("af", "pause"),
) -> tuple[dict[str, Any], list[str]]:
    """Score a result against its reference: EC57 beat and episode statistics, flat.

    Parameters
    ----------
    result
        A result dictionary (with its beat list for the beat statistics).
    reference
        A WFDB annotation file or result JSON (local path or fsspec URL), or Annotations.
    learning_s, window_ms
        Unscored start and beat match window (EC57: 300 s and 150 ms).
    event_types
        Event types whose episodes are compared (epicmp rules).

    Returns
    -------
    metrics, notes
        Counts (``qrs_tp``, ..., ``af_ref_tp``, ...), percent ratios (``qrs_se_pct``, ...,
        ``af_duration_pp_pct``; ``None`` where undefined or not comparable) and the headline
        numbers of the result; notes on what could not be compared.
    """
    from holterlab.compare import compare, load_side
    from holterlab.compare.events import side_capabilities
    from holterlab.distributed.workers import local_path
    from holterlab.result import HolterResult

    event_types = tuple(event_types)
    res = HolterResult.from_dict(result)
    test = load_side(res, name="result")
    with contextlib.ExitStack() as stack:
        if isinstance(reference, Annotations):
            ref = load_side(reference, name="reference")
        else:
            local = stack.enter_context(local_path(reference))
            ref = load_side(str(local))
        can = set(side_capabilities(ref)) & set(side_capabilities(test))
        types = [t for t in event_types if t in can]
        comparison = compare(
            ref, test, window_ms=window_ms, learning_s=learning_s, event_types=types
        )
    metrics: dict[str, Any] = {}
    beats = comparison.beats
    if beats is not None:
        stats = beats.statistics
        metrics.update({k: getattr(stats, k) for k in BEAT_COUNTS})
    else:
        metrics.update(dict.fromkeys(BEAT_COUNTS))
    notes = [n for n in comparison.notes if not n.startswith("headline numbers")]
    for t in event_types:
        comp = comparison.events.get(t)
        if comp is None:
            notes.append(f"{t} episodes cannot be derived from the reference {ref.name}")
            metrics.update({f"{t}_{c}": None for c in EPISODE_COUNTS})
            continue
        d = comp.to_dict()
        metrics.update({f"{t}_{c}": d[c] for c in EPISODE_COUNTS})
    metrics.update(ratios_from_counts(metrics, event_types))
    headline = res.headline()
    metrics.update({k: headline.get(k) for k in HEADLINE_KEYS})
    return metrics, notes


def _evaluation_kwargs(task: dict[str, Any]) -> dict[str, Any]:
    ev = task.get("evaluation") or {}
    return {
        "learning_s": float(ev.get("learning_s", 300.0)),
        "window_ms": float(ev.get("window_ms", 150.0)),
        "event_types": tuple(ev.get("event_types", ("af", "pause"))),
    }


def _check_reference(reference: Any) -> None:
    """A clear error for a local reference file that is not there (URLs are checked when
    they are fetched)."""
    from holterlab.distributed.workers import is_url

    if isinstance(reference, Annotations) or is_url(str(reference)):
        return
    if not Path(reference).exists():
        raise RecordingNotFoundError(
            f"{reference}: no such reference annotation file (give reference: or "
            "reference_ext: in the study file)"
        )


def run_study_task(task: dict[str, Any], cancel: Any = None) -> dict[str, Any]:
    """Worker function: analyse one recording with one variant and score it.

    ``cancel`` (a :class:`threading.Event` or callable, passed by
    :func:`holterlab.distributed.map_tasks`) stops a signal analysis while it runs.

    ``task`` keys: ``mode`` (``signal``/``beats``), ``path``, ``reference``, ``params`` (full
    AnalysisParams dict), ``evaluation`` (``learning_s``, ``window_ms``, ``event_types``),
    optional ``format`` and ``read_options`` (signal mode).

    Returns
    -------
    dict
        ``result`` (result dict with beat list), ``metrics`` (flat, see :func:`score_result`),
        ``notes``, ``analysis_s`` and ``evaluation_s``.
    """
    from holterlab.distributed.workers import analyze_annotation_path, analyze_path

    mode = task.get("mode")
    if task["reference"] != task["path"]:
        _check_reference(task["reference"])  # before a long analysis whose scoring would fail
    t0 = time.perf_counter()
    if mode == "beats":
        result = analyze_annotation_path(task["path"], task.get("params"))
    elif mode == "signal":
        result = analyze_path(
            task["path"],
            task.get("params"),
            format=task.get("format"),
            read_options=task.get("read_options"),
            cancel=cancel,
        )
    else:
        raise ParameterError(f"study mode must be signal or beats, got {mode!r}")
    t1 = time.perf_counter()
    metrics, notes = score_result(result, task["reference"], **_evaluation_kwargs(task))
    return {
        "result": result,
        "metrics": metrics,
        "notes": notes,
        "analysis_s": round(t1 - t0, 3),
        "evaluation_s": round(time.perf_counter() - t1, 3),
    }


def run_remote_task(task: dict[str, Any], api_key: str | None = None) -> dict[str, Any]:
    """Analyse one recording on the analysis service (:class:`holterlab.client.HolterClient`)
    and score it like :func:`run_study_task`. Runs in the calling process (the API key never
    leaves it)."""
    from holterlab.client import HolterClient
    from holterlab.distributed.workers import local_path

    t0 = time.perf_counter()
    with local_path(task["path"]) as local, HolterClient(task["url"], api_key) as client:
        run = client.analyze_file(
            local,
            analysis_options=task.get("params"),
            progress=False,
            timeout=float(task.get("timeout_s", 6 * 3600.0)),
        )
    result = dict(run.result)
    t1 = time.perf_counter()
    metrics, notes = score_result(result, task["reference"], **_evaluation_kwargs(task))
    if "beat_list" not in result:
        notes.append("the service sent no beat list: beat statistics are not available")
    return {
        "result": result,
        "metrics": metrics,
        "notes": notes,
        "analysis_s": round(t1 - t0, 3),
        "evaluation_s": round(time.perf_counter() - t1, 3),
    }
