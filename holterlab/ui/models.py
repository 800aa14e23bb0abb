"""Workbench state as ``param.Parameterized`` models (no Panel, no Bokeh).

:class:`WorkbenchModel` holds everything the dashboard shows: the open recording and its
overview pyramid, the result and the reviewer's edits, the detail window and the selected
beat, background jobs (opening, analysis, re-summarising, report export), the analysis
parameters (:class:`~holterlab.ui.paramsmodel.ParamsModel`) and the comparison with reference
annotations (:class:`ComparisonModel`). Views observe its parameters; scripts, notebooks and
tests call its methods directly::

    wb = WorkbenchModel(background=False)
    wb.open("rec.aiecg", result_path="rec.result.json")
    wb.next_beat(+1, "V")          # detail window to the next V beat
    wb.relabel_beat("N")           # saved to rec.edit.hlab at once
    wb.counts                      # {'N': ..., 'V': ..., ...}

With ``background=True`` (the dashboard) long work runs in threads; the interface calls
:meth:`WorkbenchModel.poll` periodically to apply finished work in its own thread.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.util
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import param

from holterlab.annotations import Annotations
from holterlab.errors import CancelledError, HolterlabError, ParameterError
from holterlab.result import HolterResult
from holterlab.ui.edits import (
    ARTEFACT,
    EDIT_LABELS,
    apply_edits,
    diff_edits,
    edit_path,
    load_edits,
    save_edits,
)
from holterlab.ui.families import FamilyTable, families_from_classifier, families_from_labels
from holterlab.ui.jobs import Job
from holterlab.ui.paramsmodel import ParamsModel
from holterlab.ui.summary import resummarise, with_counts

__all__ = ["WorkbenchModel", "ComparisonModel", "WINDOW_SECONDS", "KEYS", "detector_available"]

#: Detail window lengths offered (seconds).
WINDOW_SECONDS = [2.5, 5.0, 10.0, 20.0, 30.0, 60.0]

#: Keyboard shortcuts of the detail view: key -> (method, arguments).
KEYS: dict[str, tuple[str, tuple[Any, ...]]] = {
    "ArrowRight": ("page", (1,)),
    "ArrowLeft": ("page", (-1,)),
    "PageDown": ("page", (1,)),
    "PageUp": ("page", (-1,)),
    "j": ("next_beat", (1,)),
    "k": ("next_beat", (-1,)),
    "e": ("next_event", (1,)),
    "E": ("next_event", (-1,)),
    "+": ("zoom", (-1,)),
    "-": ("zoom", (1,)),
    "N": ("relabel_beat", ("N",)),
    "S": ("relabel_beat", ("S",)),
    "V": ("relabel_beat", ("V",)),
    "F": ("relabel_beat", ("F",)),
    "Q": ("relabel_beat", ("Q",)),
    "X": ("relabel_beat", (ARTEFACT,)),
}


def detector_available() -> bool:
    """Whether the QRS detector (``holterlab.beats.detect``) can be imported."""
    try:
        importlib.import_module("holterlab.beats.detect")
    except Exception:
        return False
    return True


def report_available() -> bool:
    """Whether :func:`holterlab.report.render_report` exists."""
    try:
        module = importlib.import_module("holterlab.report")
    except Exception:
        return False
    return callable(getattr(module, "render_report", None))


def _fetch_json(url: str) -> str:
    import httpx

    try:
        response = httpx.get(url, timeout=30.0, follow_redirects=True)
        response.raise_for_status()
    except httpx.HTTPError as exc:
        raise HolterlabError(f"cannot fetch {url}: {exc}") from None
    return response.text


# ============================================================================ comparison
class ComparisonModel(param.Parameterized):
    """Reference annotations (or another result) compared with the current (edited) result.

    The reference is a WFDB annotation file (``100.atr``), a result JSON holding a beat list
    (a file, or an ``http(s)://`` address of a remote result), or the recording's own
    annotations. :meth:`run` compares beat by beat (EC57, via :func:`holterlab.compare.compare`
    when that module is installed, which also compares episodes; else
    :func:`holterlab.evaluate.compare_beats`) and lists the disagreements.
    """

    reference_path = param.String(default="", doc="reference annotations or result JSON")
    learning_s = param.Number(
        default=300.0, bounds=(0.0, None), doc="EC57 learning period not scored (s)"
    )
    status = param.String(default="")
    version = param.Integer(default=0, doc="increases when a comparison is made")

    def __init__(self, **params: Any) -> None:
        super().__init__(**params)
        self.reference: Annotations | None = None
        self.reference_obj: Annotations | HolterResult | None = None
        self.comparison: Any = None  # BeatComparison
        self.full: Any = None  # holterlab.compare.Comparison, when available
        self.disagreements = None  # pandas.DataFrame

    def clear(self) -> None:
        """Forget the reference and the comparison (a new recording was opened)."""
        self.reference = self.reference_obj = None
        self.comparison = self.full = self.disagreements = None
        self.reference_path = ""
        self.status = ""
        self.version += 1

    def load_reference(self, source: Any = None, *, recording: Any = None) -> Annotations:
        """Read the reference (see the class docstring); returns its annotations."""
        from holterlab.annotations import read_annotations

        source = self.reference_path if source is None else source
        obj: Annotations | HolterResult
        if isinstance(source, (Annotations, HolterResult)):
            obj = source
        elif not source:
            if recording is None or recording.annotations is None:
                raise ParameterError(
                    "no reference: give an annotation file (e.g. 100.atr) or a result JSON"
                )
            obj = recording.annotations
        else:
            text = str(source)
            if text.startswith(("http://", "https://")):
                obj = HolterResult.from_json(_fetch_json(text))
            elif text.lower().endswith(".json"):
                obj = HolterResult.from_json(text)
            else:
                fs = None if recording is None else recording.fs
                obj = read_annotations(text, fs=fs)
            self.reference_path = text
        self.reference_obj = obj
        self.reference = obj if isinstance(obj, Annotations) else _annotations_of_result(obj)
        return self.reference

    def run(self, test: HolterResult, *, start_time: Any = None) -> Any:
        """Compare ``test`` with the loaded reference; returns the beat comparison."""
        import pandas as pd

        from holterlab.viz.axes import format_clock

        if self.reference is None:
            raise ParameterError("load reference annotations first")
        compare = _compare_function()
        if compare is not None:
            full = compare(self.reference_obj, test, learning_s=self.learning_s)
            cmp = full.beats
            rows = [
                (
                    float(d["time_s"]),
                    str(d["kind"]).replace("_", " "),
                    d.get("label_a") or "-",
                    d.get("label_b") or "-",
                    d.get("event_type") or "",
                )
                for d in full.disagreements
            ]
            total = full.n_disagreements
        else:
            full = None
            cmp, rows = _beat_comparison(
                self.reference, _annotations_of_result(test), self.learning_s
            )
            total = len(rows)
        rows.sort(key=lambda row: row[0])
        self.disagreements = pd.DataFrame(
            {
                "time": [format_clock(r[0], start_time, decimals=2) for r in rows],
                "kind": [r[1] for r in rows],
                "reference": [r[2] for r in rows],
                "test": [r[3] for r in rows],
                "event": [r[4] for r in rows],
                "time_s": [round(r[0], 3) for r in rows],
            }
        )
        self.comparison = cmp
        self.full = full
        scored = "-" if cmp is None else f"{cmp.n_reference}"
        self.status = f"{scored} reference beats scored; {total} disagreements"
        self.version += 1
        return cmp

    def ec57_table(self):
        """EC57 statistics as a table (percent), or None before :meth:`run`."""
        import pandas as pd

        if self.comparison is None:
            return None
        names = {
            "qrs_se": "QRS Se",
            "qrs_pp": "QRS +P",
            "veb_se": "VEB Se",
            "veb_pp": "VEB +P",
            "veb_fpr": "VEB FPR",
            "sveb_se": "SVEB Se",
            "sveb_pp": "SVEB +P",
            "sveb_fpr": "SVEB FPR",
        }
        ratios = self.comparison.statistics.ratios()
        return pd.DataFrame(
            {
                "statistic": list(names.values()),
                "percent": [
                    None if ratios[k] is None else round(100.0 * ratios[k], 2) for k in names
                ],
            }
        )

    def matrix(self):
        """The confusion matrix (reference rows x test columns), or None."""
        return None if self.comparison is None else self.comparison.matrix_frame()

    def episode_table(self):
        """Episode comparison per event type (with :mod:`holterlab.compare`), or None."""
        import pandas as pd

        if self.full is None or not self.full.events:
            return None
        rows = self.full.event_rows()
        cols = [
            "event_type",
            "n_a",
            "n_b",
            "episode_se",
            "episode_pp",
            "duration_se",
            "duration_pp",
        ]
        frame = pd.DataFrame(rows)
        return frame[[c for c in cols if c in frame.columns]]


def _compare_function():
    """:func:`holterlab.compare.compare` if that module is installed, else None."""
    try:
        module = importlib.import_module("holterlab.compare")
    except ImportError:
        return None
    return getattr(module, "compare", None)


def _beat_comparison(reference: Annotations, test: Annotations, learning_s: float):
    from holterlab.evaluate import compare_beats

    cmp = compare_beats(reference, test, learning_s=learning_s)
    ref_beats, test_beats = reference.beats(), test.beats()
    ref_cls, test_cls = ref_beats.aami(), test_beats.aami()
    rows = []
    for i in cmp.unmatched_ref:
        rows.append((float(ref_beats.time[i]), "missed beat", ref_cls[i], "-", ""))
    for j in cmp.unmatched_test:
        rows.append((float(test_beats.time[j]), "extra beat", "-", test_cls[j], ""))
    if cmp.pairs.size:
        r, t = cmp.pairs[:, 0], cmp.pairs[:, 1]
        differ = ref_cls[r] != test_cls[t]
        for i, j in zip(r[differ], t[differ], strict=True):
            rows.append((float(ref_beats.time[i]), "label mismatch", ref_cls[i], test_cls[j], ""))
    return cmp, rows


def _nearest_distance(samples: np.ndarray, query: np.ndarray) -> np.ndarray:
    """Distance (samples) from each query point to the nearest of sorted ``samples``."""
    if samples.size == 0:
        return np.full(query.shape, np.inf)
    pos = np.searchsorted(samples, query)
    left = samples[np.clip(pos - 1, 0, samples.size - 1)]
    right = samples[np.clip(pos, 0, samples.size - 1)]
    return np.minimum(np.abs(query - left), np.abs(right - query)).astype(np.float64)


def _check_result_fits(result: HolterResult, samples: np.ndarray, recording: Any) -> None:
    """Refuse a result whose beats lie past the end of ``recording`` (the result of another
    recording): its beats, counts and events would be shown as if they were this one's."""
    if samples.size == 0 or samples[-1] < recording.n_samples + recording.fs:  # 1 s of slack
        return
    section = result.recording or {}
    name = section.get("name") or "another recording"
    length = section.get("duration_s") or samples[-1] / recording.fs
    raise ParameterError(
        f"this result is of {name} ({float(length) / 3600:.2f} h): its beats run to "
        f"{samples[-1] / recording.fs / 3600:.2f} h, past the end of {recording.name} "
        f"({recording.duration / 3600:.2f} h); load the result of this recording or analyse it"
    )


def _annotations_of_result(result: HolterResult) -> Annotations:
    if result.beat_samples is None or result.fs is None:
        raise ParameterError(
            "this result holds no beat list: save it with its beats (include_beats=True)"
        )
    return Annotations(result.beat_samples, [str(x) for x in result.beat_labels], result.fs)


# ============================================================================ workbench
class WorkbenchModel(param.Parameterized):
    """The state of one review session (see the module docstring)."""

    path = param.String(default="", doc="the open recording")
    result_path = param.String(default="", doc="the loaded result JSON, if any")
    status = param.String(default="Open a recording to start.")
    error = param.String(default="")
    duration_s = param.Number(default=0.0)
    detail_start = param.Number(default=0.0, doc="start of the detail window (s)")
    detail_seconds = param.Selector(default=10.0, objects=WINDOW_SECONDS, doc="detail window")
    selected_beat = param.Integer(default=-1, doc="index of the selected beat (-1: none)")
    nav_class = param.Selector(default="V", objects=list("NSVFQ"), doc="class to step through")
    event_index = param.Integer(default=-1, doc="index of the event last jumped to")
    progress = param.Number(default=0.0, bounds=(0.0, 1.0))
    stage = param.String(default="")
    busy = param.Boolean(default=False, doc="an analysis or overview build is running")
    job_name = param.String(default="")
    counts = param.Dict(default={}, doc="beats per label (N S V F Q and | artefacts)")
    summary = param.Dict(default={}, doc="headline numbers of the current result")
    summary_stale = param.Boolean(default=False, doc="rhythm sections being recomputed")
    recording_version = param.Integer(default=0)
    overview_version = param.Integer(default=0)
    result_version = param.Integer(default=0)
    labels_version = param.Integer(default=0)
    summary_version = param.Integer(default=0)
    edit_file = param.String(default="", doc="where edits are saved")
    n_edits = param.Integer(default=0, doc="beats whose label differs from the analysis")
    report_path = param.String(default="")
    report_busy = param.Boolean(default=False, doc="a PDF report is being rendered")
    report_progress = param.Number(default=0.0, bounds=(0.0, 1.0), doc="of the report render")
    report_stage = param.String(default="", doc="stage of the report render")
    report_enabled = param.Boolean(default=False, doc="holterlab.report.render_report exists")
    analysis_enabled = param.Boolean(default=False, doc="the QRS detector can be imported")

    def __init__(
        self, *, background: bool = False, cache_dir: str | None = None, **params: Any
    ) -> None:
        super().__init__(**params)
        self.background = background
        self.cache_dir = cache_dir
        self.recording: Any = None
        self.pyramid: Any = None
        self.base_result: HolterResult | None = None
        self.result: HolterResult | None = None
        self.samples = np.zeros(0, dtype=np.int64)
        self.base_labels = np.zeros(0, dtype="<U1")
        self.labels = np.zeros(0, dtype="<U1")
        self.families: FamilyTable | None = None
        self.classifier_labels: Any = None
        self.params = ParamsModel()
        self.comparison = ComparisonModel()
        self._jobs: dict[str, tuple[Job, Callable[[Any], None]]] = {}
        self._summary_pending = False
        self.last_timings: dict[str, float] = {}
        self.report_enabled = report_available()
        self.analysis_enabled = detector_available()
        self.params.param.watch(self._params_changed, "version")

    # ------------------------------------------------------------------ jobs
    def _start(
        self, name: str, fn: Callable, on_done: Callable[[Any], None], *, main: bool = True
    ) -> Job:
        old = self._jobs.pop(name, None)
        if old is not None:
            old[0].cancel()
        job = Job(name, fn)
        if not self.background:
            job.run_here()
            on_done(job.value)
            return job
        self._jobs[name] = (job, on_done)
        job.start()
        if main:
            self.busy = True
            self.job_name = name
            self.progress = 0.0
            self.stage = name
        return job

    def poll(self) -> bool:
        """Apply finished background work and copy progress (call from the UI thread).

        Returns True when something changed.
        """
        changed = False
        main = self._jobs.get(self.job_name)
        if main is not None and not main[0].done:
            job = main[0]
            if abs(job.fraction - self.progress) > 1e-3 or job.stage != self.stage:
                self.progress = job.fraction
                self.stage = job.stage or job.name
                changed = True
        report = self._jobs.get("report")
        if report is not None and not report[0].done:
            job = report[0]
            if abs(job.fraction - self.report_progress) > 1e-3 or job.stage != self.report_stage:
                self.param.update(report_progress=job.fraction, report_stage=job.stage)
                changed = True
        for name, (job, on_done) in list(self._jobs.items()):
            if not job.done:
                continue
            del self._jobs[name]
            changed = True
            if job.error is None:
                try:
                    on_done(job.value)
                except HolterlabError as exc:
                    self._fail(exc)
            elif isinstance(job.error, CancelledError):
                if name == "report":
                    self.status = "report cancelled: nothing was written"
                else:
                    self.status = f"{name} cancelled"
            elif isinstance(job.error, Exception):
                self._fail(job.error)
        if self.busy and not any(self._jobs.get(n) for n in ("overview", "analysis", "window")):
            self.busy = False
            self.progress = 0.0 if self.error else 1.0
        if self.report_busy and "report" not in self._jobs:
            self.param.update(report_busy=False, report_stage="")
            changed = True
        return changed

    def wait(self, timeout: float = 120.0) -> None:
        """Block until every background job has ended and is applied (for scripts/tests)."""
        deadline = time.monotonic() + timeout
        while self._jobs and time.monotonic() < deadline:
            for job, _ in list(self._jobs.values()):
                job.wait(max(0.0, min(0.2, deadline - time.monotonic())))
            self.poll()
        self.poll()

    def cancel(self) -> None:
        """Cancel the running analysis / overview build."""
        for name in ("analysis", "overview", "window"):
            entry = self._jobs.get(name)
            if entry is not None:
                entry[0].cancel()
        self.status = "cancelling..."

    def cancel_report(self) -> None:
        """Cancel the PDF report being rendered (its kernel is stopped, no PDF is written)."""
        entry = self._jobs.get("report")
        if entry is not None:
            entry[0].cancel()
            self.status = "cancelling the report..."

    def cancel_all(self) -> None:
        """Ask every background job of this model to stop (the dashboard calls this when its
        browser session ends). Does not wait: the jobs end in their threads, and a later
        :meth:`poll` or :meth:`wait` reports them as cancelled."""
        for job, _ in list(self._jobs.values()):
            job.cancel()

    def _fail(self, exc: BaseException) -> None:
        message = " ".join(str(exc).split()) or type(exc).__name__
        if not isinstance(exc, HolterlabError):
            message = f"{type(exc).__name__}: {message}"
        self.error = message
        self.status = f"error: {message}"

    # ------------------------------------------------------------------ open
    def close(self) -> None:
        """Close the recording (cancelling its background work).

        A PDF report being rendered goes on (it works on its own copy of the result) and is
        still reported by :meth:`poll`; :meth:`cancel_report` stops it.
        """
        for name, (job, _) in list(self._jobs.items()):
            if name != "report":
                job.cancel()
                del self._jobs[name]
        if self.pyramid is not None:
            self.pyramid.close()
        if self.recording is not None:
            self.recording.close()
        self.recording = self.pyramid = self.result = self.base_result = None
        self.families = self.classifier_labels = None
        self.samples = np.zeros(0, dtype=np.int64)
        self.base_labels = self.labels = np.zeros(0, dtype="<U1")
        self.busy = False
        self.n_edits = 0
        self.summary_stale = False
        self.counts = {}
        self.summary = {}

    def open(
        self,
        path: str | os.PathLike[str] | Any,
        result_path: str | os.PathLike[str] | None = None,
        **read_options: Any,
    ) -> None:
        """Open a recording (any format :func:`holterlab.read` knows, or a Recording).

        Builds (or loads from the cache) its overview pyramid - in the background when
        ``background=True`` - and loads ``result_path``, or the ``NAME.result.json`` lying
        beside the recording, if any. A recording that cannot be read raises and leaves the
        open one as it was.
        """
        from holterlab.io import read
        from holterlab.recording import Recording

        self.error = ""
        t0 = time.perf_counter()
        if isinstance(path, Recording):
            rec = path
        else:
            rec = read(path, **read_options)
        # only now: a file that cannot be read leaves the open recording as it was
        self.close()
        self.recording = rec
        self.path = "" if rec.path is None else str(rec.path)
        self.duration_s = rec.duration
        self.edit_file = str(edit_path(rec.path)) if rec.path else ""
        self.detail_start = 0.0
        self.selected_beat = -1
        self.event_index = -1
        self.result_path = ""
        self.last_timings = {"read_s": time.perf_counter() - t0}
        self.recording_version += 1
        self.result_version += 1  # no result yet: views clear their tables
        self.labels_version += 1
        self.status = f"opened {rec.name}: {len(rec.leads)} leads, {rec.duration / 3600:.2f} h"
        self.comparison.clear()
        cache_dir = self.cache_dir

        def build(progress, cancel):
            from holterlab.viz.pyramid import MinMaxPyramid

            return MinMaxPyramid.open(
                rec,
                cache_dir=cache_dir,
                progress=lambda f: progress("overview", f),
                cancel=cancel,
            )

        def ready(pyramid):
            if self.recording is not rec:
                return
            self.pyramid = pyramid
            self.last_timings["pyramid_s"] = time.perf_counter() - t0
            self.overview_version += 1

        self._start("overview", build, ready)
        if result_path is None and rec.path:
            sidecar = Path(rec.path).with_name(f"{rec.name}.result.json")
            if sidecar.is_file():
                result_path = sidecar
        if result_path:
            self.load_result(result_path)

    def load_result(self, source: str | os.PathLike[str] | HolterResult) -> None:
        """Load a result (JSON file, JSON text, or object) for the open recording."""
        if self.recording is None:
            raise ParameterError("open a recording before loading its result")
        if isinstance(source, HolterResult):
            result = source
        else:
            try:
                result = HolterResult.from_json(source)
            except HolterlabError as exc:  # say which file (the recording's box is beside)
                where = str(source)
                if len(where) < 4096 and os.path.isfile(where) and where not in str(exc):
                    raise type(exc)(f"{where}: {exc}") from None
                raise
        if result.beat_samples is None:
            raise ParameterError(
                "the result holds no beat list; save it with beats (include_beats=True) "
                "or analyse the recording here"
            )
        self.set_result(result)
        if not isinstance(source, HolterResult):  # only once it is the current result
            self.result_path = str(source) if len(str(source)) < 4096 else ""

    def result_from_annotations(self) -> None:
        """Use the recording's own beat annotations (e.g. WFDB .atr) as the result."""
        from holterlab.pipeline import analyze_beats

        rec = self.recording
        if rec is None or rec.annotations is None or len(rec.annotations.beats()) < 2:
            raise ParameterError("the recording carries no beat annotations")
        result = analyze_beats(
            rec.annotations,
            self.params.to_params(),
            duration_s=rec.duration,
            start_time=rec.start_time,
            name=rec.name,
        )
        self.set_result(result)

    def set_result(self, result: HolterResult, classifier: Any = None) -> None:
        """Make ``result`` the current one; apply the saved edits; build the families."""
        rec = self.recording
        if rec is None:
            raise ParameterError("open a recording first")
        fs = float(result.fs or rec.fs)
        samples = np.asarray(result.beat_samples, dtype=np.int64)
        if fs != rec.fs:
            samples = np.round(samples * (rec.fs / fs)).astype(np.int64)
        order = np.argsort(samples, kind="stable")
        samples = samples[order]
        _check_result_fits(result, samples, rec)
        base = np.asarray(result.beat_labels, dtype="<U1")[order]
        self.base_result = result
        self.samples = samples
        self.base_labels = base
        labels = base.copy()
        if self.edit_file:
            es, el, efs = load_edits(self.edit_file)
            labels, n = apply_edits(samples, base, es, el, rec.fs, edit_fs=efs)
            if n:
                self.status = f"{n} saved edits re-applied from {Path(self.edit_file).name}"
        self.labels = labels
        self.classifier_labels = classifier
        t0 = time.perf_counter()
        if classifier is not None and getattr(classifier, "families", None) is not None:
            self.families = families_from_classifier(classifier, samples)
        else:
            self.families = families_from_labels(rec, samples, base)
        self.last_timings["families_s"] = time.perf_counter() - t0
        self.result = with_counts(result, samples, labels)
        self.n_edits = int(np.count_nonzero(labels != base))
        self.selected_beat = -1
        self.event_index = -1
        self._update_counts()
        self.result_version += 1
        self.labels_version += 1
        if self.n_edits:
            self.resummarise()

    # ------------------------------------------------------------------ summaries
    def _update_counts(self) -> None:
        labels = self.labels
        counts = {c: int(np.count_nonzero(labels == c)) for c in "NSVFQ"}
        counts[ARTEFACT] = int(np.count_nonzero(labels == ARTEFACT))
        self.counts = counts
        self.summary = {} if self.result is None else self.result.headline()

    def resummarise(self) -> None:
        """Recompute the rhythm sections from the current beats (background if enabled)."""
        if self.base_result is None:
            return
        try:
            params = self.params.to_params()
        except ParameterError as exc:
            self._fail(exc)
            return
        base = self.base_result
        samples, labels = self.samples.copy(), self.labels.copy()
        rec = self.recording
        self.summary_stale = True

        def work(progress, cancel):
            progress("summary", 0.1)
            return resummarise(
                base,
                samples,
                labels,
                params=params,
                duration_s=rec.duration,
                start_time=rec.start_time,
            )

        def done(result):
            if self.base_result is not base:
                return
            events_before = len(self.result.events) if self.result else 0
            self.result = result
            self.summary_stale = False
            self._update_counts()
            self.summary_version += 1
            if self.status.endswith("re-summarising"):
                self.status = f"summary updated: {len(result.events)} events"
            if len(result.events) != events_before:
                self.event_index = -1

        self._start("summary", work, done, main=False)

    def current_result(self) -> HolterResult | None:
        """The result with the reviewer's edits (beat list and counts)."""
        if self.result is None:
            return None
        out = with_counts(self.result, self.samples, self.labels)
        rec = self.recording
        if rec is not None:  # a result made from annotations knows little of the recording
            section = dict(out.recording or {})
            facts = {
                "path": rec.path,
                "format": rec.format,
                "leads": list(rec.leads),
                "fs": rec.fs,
                "n_samples": rec.n_samples,
            }
            for key, value in facts.items():
                if not section.get(key):
                    section[key] = value
            out = dataclasses.replace(out, recording=section)
        return out

    # ------------------------------------------------------------------ analysis
    def analyse(self) -> None:
        """Analyse the whole recording with the current parameters (background if enabled),
        with progress (``progress``, ``stage``) and :meth:`cancel`."""
        from holterlab.pipeline import analyze

        rec = self.recording
        if rec is None:
            raise ParameterError("open a recording first")
        params = self.params.to_params()
        t0 = time.perf_counter()

        def work(progress, cancel):
            return analyze(rec, params, progress=progress, cancel=cancel)

        def done(result):
            if self.recording is not rec:
                return
            self.set_result(result, classifier=result.classification)
            self.last_timings["analysis_s"] = time.perf_counter() - t0
            self.status = f"analysed in {time.perf_counter() - t0:.1f} s"

        self.error = ""
        self.status = "analysing..."
        self._start("analysis", work, done)

    def rerun_window(self) -> float:
        """Re-detect and re-classify the beats of the detail window with the current signal
        parameters, merge them into the beat list and re-summarise. Returns seconds taken.

        Without the classifier model, new beats take the label of the old beat they replace
        (within 75 ms), else ``Q``.
        """
        from holterlab.beats import detect_beats_recording
        from holterlab.quality import quality_recording
        from holterlab.recording import Recording

        rec = self.recording
        if rec is None or self.result is None:
            raise ParameterError("open a recording with a result first")
        t0 = time.perf_counter()
        p = self.params.to_params()
        i0 = int(round(self.detail_start * rec.fs))
        i1 = min(rec.n_samples, i0 + int(round(self.detail_seconds * rec.fs)))
        sub = Recording.from_array(rec.get_samples(None, i0, i1), rec.fs, rec.leads)
        quality = quality_recording(sub, params=p.quality)
        beats = np.asarray(
            detect_beats_recording(sub, params=p.detection, quality=quality), dtype=np.int64
        )
        old_in = (self.samples >= i0) & (self.samples < i1)
        labels = None
        try:
            from holterlab.beats import classify_beats_recording

            labels = np.asarray(
                classify_beats_recording(
                    sub, beats, params=p.classification, quality=quality
                ).labels,
                dtype="<U1",
            )
        except (HolterlabError, ImportError):
            old_s = self.samples[old_in] - i0
            old_l = self.base_labels[old_in]
            labels, _ = apply_edits(
                beats, np.full(beats.size, "Q", dtype="<U1"), old_s, old_l, rec.fs
            )
        new_samples = beats + i0
        old_samples = self.samples
        samples = np.concatenate([self.samples[~old_in], new_samples])
        base = np.concatenate([self.base_labels[~old_in], labels])
        order = np.argsort(samples, kind="stable")
        samples, base = samples[order], base[order]
        self.samples, self.base_labels = samples, base
        current = base.copy()
        if self.edit_file:
            es, el, efs = load_edits(self.edit_file)
            current, _ = apply_edits(samples, base, es, el, rec.fs, edit_fs=efs)
        self.labels = current
        if self.families is not None:
            self.families = self.families.remap(old_samples, samples)
        self.selected_beat = -1
        self.n_edits = int(np.count_nonzero(self.labels != self.base_labels))
        self.result = with_counts(self.result, self.samples, self.labels)
        self._update_counts()
        self.labels_version += 1
        took = time.perf_counter() - t0
        self.last_timings["rerun_window_s"] = took
        self.status = (
            f"window re-analysed in {took:.2f} s: {int(old_in.sum())} -> {beats.size} beats"
        )
        self.resummarise()
        return took

    def _params_changed(self, event: Any) -> None:
        if self.params.error:
            self.status = f"invalid parameters: {self.params.error}"
            return
        if self.result is None:
            return
        if self.params.needs_signal():
            self.status = (
                f"{self.params.last_stage} changed: re-run the window or the whole recording"
            )
            return
        self.status = f"{self.params.last_stage} changed: re-summarising"
        self.resummarise()

    # ------------------------------------------------------------------ navigation
    @property
    def fs(self) -> float:
        return float(self.recording.fs) if self.recording is not None else 1.0

    @property
    def centre_s(self) -> float:
        return self.detail_start + float(self.detail_seconds) / 2

    def _clamp_start(self, start: float) -> float:
        latest = max(0.0, self.duration_s - float(self.detail_seconds))
        return float(min(max(start, 0.0), latest))

    def jump_to(self, t_s: float, *, at: float = 0.5) -> None:
        """Move the detail window so that ``t_s`` lies at fraction ``at`` of it."""
        self.detail_start = self._clamp_start(float(t_s) - at * float(self.detail_seconds))

    def page(self, direction: int = 1) -> None:
        """Page the detail window one window length left (-1) or right (+1)."""
        self.detail_start = self._clamp_start(
            self.detail_start + int(direction) * float(self.detail_seconds)
        )

    def zoom(self, direction: int = 1) -> None:
        """Next longer (+1) or shorter (-1) detail window, keeping its centre."""
        options = WINDOW_SECONDS
        i = options.index(float(self.detail_seconds)) + int(direction)
        i = min(max(i, 0), len(options) - 1)
        centre = self.centre_s
        self.detail_seconds = options[i]
        self.jump_to(centre)

    def next_beat(self, direction: int = 1, label: str | None = None) -> int:
        """Select the next (+1) / previous (-1) beat of class ``label`` (default
        ``nav_class``) and centre the detail window on it. Returns its index or -1."""
        label = label or self.nav_class
        if self.samples.size == 0:
            return -1
        if 0 <= self.selected_beat < self.samples.size:
            ref = int(self.samples[self.selected_beat])
        else:
            ref = int(round(self.centre_s * self.fs))
        idx = np.flatnonzero(self.labels == label)
        if direction > 0:
            idx = idx[self.samples[idx] > ref]
            found = int(idx[0]) if idx.size else -1
        else:
            idx = idx[self.samples[idx] < ref]
            found = int(idx[-1]) if idx.size else -1
        if found < 0:
            self.status = f"no {'next' if direction > 0 else 'previous'} {label} beat"
            return -1
        self.selected_beat = found
        self.jump_to(self.samples[found] / self.fs)
        return found

    @property
    def events(self) -> list:
        return [] if self.result is None else list(self.result.events)

    def jump_to_event(self, index: int) -> None:
        """Show event ``index`` (its onset at a fifth of the detail window)."""
        events = self.events
        if not 0 <= index < len(events):
            raise ParameterError(f"no event {index}: there are {len(events)} events")
        self.event_index = int(index)
        self.jump_to(events[index].start_s, at=0.2)

    def next_event(self, direction: int = 1) -> int:
        """Jump to the next (+1) / previous (-1) event. Returns its index or -1."""
        events = self.events
        if not events:
            return -1
        if self.event_index < 0:
            starts = np.array([e.start_s for e in events])
            centre = self.centre_s
            i = (
                int(np.searchsorted(starts, centre))
                if direction > 0
                else int(np.searchsorted(starts, centre) - 1)
            )
        else:
            i = self.event_index + int(direction)
        if not 0 <= i < len(events):
            self.status = "no more events"
            return -1
        self.jump_to_event(i)
        return i

    def select_beat_at(self, t_s: float, *, tolerance_s: float = 0.3) -> int:
        """Select the beat nearest ``t_s`` (within ``tolerance_s``); returns its index or -1."""
        if self.samples.size == 0:
            return -1
        target = t_s * self.fs
        pos = int(np.searchsorted(self.samples, target))
        best, dist = -1, np.inf
        for j in (pos - 1, pos):
            if 0 <= j < self.samples.size and abs(self.samples[j] - target) < dist:
                best, dist = j, abs(self.samples[j] - target)
        if dist > tolerance_s * self.fs:
            return -1
        self.selected_beat = best
        return best

    def key(self, key: str) -> bool:
        """Run the keyboard shortcut ``key`` (see :data:`KEYS`); False if unknown."""
        action = KEYS.get(key)
        if action is None:
            return False
        name, args = action
        try:
            getattr(self, name)(*args)
        except ParameterError as exc:
            self.status = str(exc)
        return True

    def selected_info(self) -> dict[str, Any] | None:
        """Time, label and RR (ms) of the selected beat."""
        i = self.selected_beat
        if not 0 <= i < self.samples.size:
            return None
        rr = (self.samples[i] - self.samples[i - 1]) * 1000.0 / self.fs if i > 0 else None
        return {
            "index": i,
            "time_s": float(self.samples[i] / self.fs),
            "label": str(self.labels[i]),
            "analysis_label": str(self.base_labels[i]),
            "rr_ms": rr,
        }

    # ------------------------------------------------------------------ edits
    def relabel_beat(self, label: str, index: int | None = None) -> None:
        """Give one beat (default: the selected one) a new label (N S V F Q or ``|``)."""
        i = self.selected_beat if index is None else int(index)
        if not 0 <= i < self.samples.size:
            raise ParameterError("select a beat first (click it in the detail view)")
        self._check_label(label)
        self.labels[i] = label
        self._edited()

    def relabel_family(self, family: int, label: str) -> int:
        """Give every beat of a morphology family a new label; returns how many changed."""
        if self.families is None:
            raise ParameterError("no families: load or analyse a result first")
        self._check_label(label)
        members = self.families.members(family)
        if members.size == 0:
            raise ParameterError(f"family {family} has no beats")
        changed = int(np.count_nonzero(self.labels[members] != label))
        self.labels[members] = label
        self._edited()
        return changed

    @staticmethod
    def _check_label(label: str) -> None:
        if label not in EDIT_LABELS:
            raise ParameterError(f"label must be one of {' '.join(EDIT_LABELS)}, got {label!r}")

    def _edited(self) -> None:
        self.n_edits = int(np.count_nonzero(self.labels != self.base_labels))
        if self.edit_file:
            es, el = diff_edits(self.samples, self.base_labels, self.labels)
            # keep saved edits of beats that are no longer in the beat list
            old_s, old_l, old_fs = load_edits(self.edit_file)
            if old_s.size:
                if old_fs and old_fs != self.fs:
                    old_s = np.round(old_s * (self.fs / old_fs)).astype(np.int64)
                orphan = _nearest_distance(self.samples, old_s) > 0.075 * self.fs
                es = np.concatenate([es, old_s[orphan]])
                el = np.concatenate([el, old_l[orphan]])
            try:
                save_edits(self.edit_file, es, el, self.fs)
            except OSError as exc:
                self.error = f"edits not saved to {self.edit_file}: {exc}"
        if self.result is not None:
            self.result = with_counts(self.result, self.samples, self.labels)
        self._update_counts()
        self.labels_version += 1
        self.resummarise()

    # ------------------------------------------------------------------ comparison
    def compare(self, reference: Any = None) -> Any:
        """Compare the current beats with reference annotations (see ComparisonModel)."""
        if self.recording is None or self.samples.size == 0:
            raise ParameterError("open a recording with a result first")
        self.comparison.load_reference(reference, recording=self.recording)
        test = self.current_result()
        return self.comparison.run(test, start_time=self.recording.start_time)

    def jump_to_disagreement(self, row: int) -> None:
        """Centre the detail window on disagreement ``row`` and select the nearest beat."""
        table = self.comparison.disagreements
        if table is None or not 0 <= row < len(table):
            raise ParameterError("no such disagreement")
        t = float(table["time_s"].iloc[row])
        self.jump_to(t)
        self.select_beat_at(t, tolerance_s=0.16)

    # ------------------------------------------------------------------ report
    def default_report_path(self) -> Path:
        if self.recording is not None and self.recording.path:
            p = Path(self.recording.path)
            if os.access(p.parent, os.W_OK):
                return p.with_name(f"{self.recording.name}.report.pdf")
        return Path(tempfile.gettempdir()) / "holterlab-report.pdf"

    def export_report(self, out_pdf: str | os.PathLike[str] | None = None, **options: Any) -> None:
        """Render the PDF report of the current (edited) result (background if enabled).

        In the background its progress is in ``report_busy``, ``report_progress`` and
        ``report_stage`` (copied by :meth:`poll`); :meth:`cancel_report` stops it, and then no
        PDF is written. ``options`` go to :func:`holterlab.report.render_report`.
        """
        if not self.report_enabled:
            raise ParameterError("the PDF report is not available in this installation")
        result = self.current_result()
        if result is None:
            raise ParameterError("nothing to report: load or analyse a result first")
        out = Path(out_pdf) if out_pdf is not None else self.default_report_path()
        recording_path = self.recording.path if self.recording is not None else None
        t0 = time.perf_counter()

        def work(progress, cancel):
            from holterlab.report import render_report

            progress("prepare", 0.0)
            with tempfile.TemporaryDirectory() as tmp:
                js = Path(tmp) / "result.json"
                result.to_json(js, include_beats=True)
                return render_report(
                    js,
                    out,
                    recording_path=recording_path,
                    progress=progress,
                    cancel=cancel,
                    **options,
                )

        def done(path):
            self.report_path = str(path)
            self.status = f"report written to {path} in {time.perf_counter() - t0:.0f} s"

        self.status = "rendering the PDF report..."
        if self.background:
            self.param.update(report_busy=True, report_progress=0.0, report_stage="prepare")
        self._start("report", work, done, main=False)

    # ------------------------------------------------------------------ misc
    def event_rows(self) -> list[dict[str, Any]]:
        """One row per event for tables (clock time, duration, rate, beats)."""
        from holterlab.viz.axes import format_clock

        start = None if self.recording is None else self.recording.start_time
        rows = []
        for e in self.events:
            rows.append(
                {
                    "type": e.type,
                    "start": format_clock(e.start_s, start),
                    "duration_s": round(e.duration_s, 1),
                    "rate_bpm": None if e.rate_bpm is None else round(float(e.rate_bpm)),
                    "beats": e.n_beats,
                    "lead": e.lead or "",
                    "start_s": round(float(e.start_s), 3),
                }
            )
        return rows
