"""What a report is made from: the result (loaded or computed) and, for strips, the recording.

The report template calls :func:`prepare` with its parameters and draws everything from the
:class:`ReportContext` it returns:

(a) a result JSON and a recording: strips are drawn from the recording at the result's beats;
(b) a result JSON alone: no strips (the report says so);
(c) a recording alone: the analysis runs here (:func:`analyse`), optionally saving the result
    JSON (``result_out``) so the report can be re-rendered without analysing again.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from holterlab.errors import ParameterError
from holterlab.report.formatting import Clock

__all__ = ["ReportContext", "prepare", "analyse", "BEAT_SOURCES", "PAPERS", "paper_name"]

#: Where the beats of an analysis come from: the QRS detector, or the recording's own
#: reference annotations (e.g. a WFDB ``.atr``), for reports of annotated databases.
BEAT_SOURCES = ("detect", "annotations")
#: Paper sizes a report can be printed on.
PAPERS = ("A4", "Letter")


def paper_name(paper: str) -> str:
    """``"a4"`` -> ``"A4"``, ``"letter"`` -> ``"Letter"``; anything else is a ParameterError."""
    for name in PAPERS:
        if str(paper).strip().lower() == name.lower():
            return name
    raise ParameterError(f"paper must be A4 or Letter, got {paper!r}")


@dataclass
class ReportContext:
    """Everything the template needs.

    Attributes
    ----------
    result
        The result as plain JSON (:meth:`HolterResult.to_dict` with the beat list when known).
    recording
        The recording for ECG strips, or None.
    patient
        Patient fields given to the report (id, name, age, sex, ...).
    notes
        Remarks about the inputs, printed in the report (e.g. why there are no strips).
    """

    result: dict[str, Any]
    recording: Any = None
    patient: dict[str, Any] = field(default_factory=dict)
    paper: str = "A4"
    title: str = "Holter ECG report"
    notes: list[str] = field(default_factory=list)
    recording_path: str | None = None
    result_path: str | None = None
    beats_source: str | None = None

    @property
    def clock(self) -> Clock:
        return Clock.from_result(self.result)

    @property
    def fs(self) -> float | None:
        bl = self.result.get("beat_list") or {}
        fs = bl.get("fs") or (self.result.get("recording") or {}).get("fs")
        return None if fs is None else float(fs)

    @property
    def has_beats(self) -> bool:
        bl = self.result.get("beat_list") or {}
        return bool(bl.get("sample"))

    def beats(self) -> tuple[np.ndarray, np.ndarray]:
        """Beat sample indices (int64) and AAMI labels (``<U1``); empty without a beat list."""
        bl = self.result.get("beat_list") or {}
        samples = np.asarray(bl.get("sample") or [], dtype=np.int64)
        labels = np.asarray(bl.get("label") or [], dtype="<U1")
        return samples, labels

    def section(self, name: str) -> Any:
        """A result section (None when it was not analysed)."""
        return self.result.get(name)

    @property
    def content_width_mm(self) -> float:
        """Printable width of the page (paper width minus 12 mm margins)."""
        return {"A4": 210.0, "Letter": 215.9}[self.paper] - 24.0


def _read_recording(path: str | os.PathLike[str]) -> Any:
    from holterlab.io import read

    return read(path)


def analyse(
    recording: Any,
    params: Any = None,
    *,
    beats: str = "detect",
    progress: Any = None,
) -> Any:
    """Analyse ``recording`` and return a :class:`~holterlab.result.HolterResult`.

    Parameters
    ----------
    recording
        A :class:`~holterlab.recording.Recording`.
    params
        :class:`~holterlab.params.analysis.AnalysisParams` or its dict form.
    beats
        ``"detect"`` runs the whole pipeline (:func:`holterlab.pipeline.analyze`);
        ``"annotations"`` takes the beats and their labels from the recording's reference
        annotations and runs rhythm, HRV and ST/QT on them.
    """
    if beats not in BEAT_SOURCES:
        raise ParameterError(f"beats must be one of {', '.join(BEAT_SOURCES)}, got {beats!r}")
    from holterlab.params.analysis import AnalysisParams

    p = AnalysisParams.coerce(params)
    if beats == "detect":
        from holterlab.pipeline import analyze

        return analyze(recording, p, progress=progress)

    from holterlab.pipeline import analyze_beats
    from holterlab.st_qt import st_qt_recording

    ann = recording.annotations
    if ann is None or len(ann.beats()) < 2:
        raise ParameterError(
            f"{recording.path or recording.name}: the recording has no reference beat "
            "annotations (e.g. a WFDB .atr beside it); analyse with beats='detect'"
        )
    result = analyze_beats(
        ann, p, duration_s=recording.duration, start_time=recording.start_time, name=recording.name
    )
    if p.st_qt.enabled:
        stqt = st_qt_recording(
            recording, result.beat_samples, result.beat_labels, params=p.st_qt, chunk_s=p.chunk_s
        )
        sections = stqt.to_dict()
        result.st, result.qt = sections["st"], sections["qt"]
        result.events = sorted([*result.events, *stqt.episodes], key=lambda e: (e.start_s, e.type))
    result.recording.update(
        path=recording.path,
        format=recording.format or result.recording.get("format"),
        leads=list(recording.leads),
    )
    return result


def _recording_patient(recording: Any) -> dict[str, Any]:
    """Patient fields stored in the recording's header (a dict, or an EDF patient string)."""
    value = (getattr(recording, "metadata", None) or {}).get("patient")
    if isinstance(value, dict):
        return {str(k): v for k, v in value.items() if isinstance(v, str | int | float)}
    if isinstance(value, str) and value.replace("X", "").strip():
        return {"id": " ".join(value.split())}
    return {}


def _matches(result: dict[str, Any], recording: Any) -> str | None:
    """Why ``recording`` is not the recording of ``result`` (None when it is)."""
    rec = result.get("recording") or {}
    fs, duration = rec.get("fs"), rec.get("duration_s")
    if fs is not None and abs(float(fs) - recording.fs) > 1e-6:
        return f"sampling rate {recording.fs:g} Hz, the result's is {float(fs):g} Hz"
    if duration is not None and abs(float(duration) - recording.duration) > 1.0:
        return f"duration {recording.duration:.1f} s, the result's is {float(duration):.1f} s"
    return None


def prepare(
    *,
    recording_path: str | os.PathLike[str] | None = None,
    result_path: str | os.PathLike[str] | None = None,
    params: Any = None,
    beats: str = "detect",
    result_out: str | os.PathLike[str] | None = None,
    patient: dict[str, Any] | None = None,
    paper: str = "A4",
    title: str | None = None,
) -> ReportContext:
    """Load (or compute) the result and open the recording for a report.

    Parameters
    ----------
    recording_path
        The recording (any format :func:`holterlab.read` knows). Needed for ECG strips, and
        analysed when no ``result_path`` is given.
    result_path
        A result JSON written by :meth:`HolterResult.to_json`.
    params
        Analysis parameters (used only when the analysis runs here).
    beats
        Beat source of the analysis (:data:`BEAT_SOURCES`).
    result_out
        When the analysis runs here, also write the result JSON (with its beat list) here.
    patient
        Patient fields (id, name, age, sex, ...) printed on the summary page.
    paper
        ``"A4"`` or ``"Letter"``.
    """
    from holterlab.result import HolterResult

    paper = paper_name(paper)
    if not recording_path and not result_path:
        raise ParameterError("a report needs a recording path or a result JSON path (or both)")
    notes: list[str] = []
    recording = _read_recording(recording_path) if recording_path else None
    beats_source = None
    if result_path:
        result = HolterResult.from_json(Path(result_path)).to_dict(include_beats=True)
    else:
        res = analyse(recording, params, beats=beats)
        beats_source = beats
        if result_out:
            res.to_json(result_out, include_beats=True)
        result = res.to_dict(include_beats=True)
        if beats == "annotations":
            notes.append(
                "Beats and their labels were taken from the recording's reference annotations "
                "(not from the QRS detector)."
            )
    if recording is not None:
        why = _matches(result, recording)
        if why is not None:
            notes.append(
                f"The recording given ({recording_path}) does not match the result ({why}); "
                "no ECG strips are shown."
            )
            recording = None
    if not patient and recording is not None:
        patient = _recording_patient(recording)
        if patient:
            notes.append("Patient fields were taken from the recording's header.")
    patient = {str(k): v for k, v in (patient or {}).items() if v not in (None, "")}
    return ReportContext(
        result=result,
        recording=recording,
        patient=patient,
        paper=paper,
        title=title or "Holter ECG report",
        notes=notes,
        recording_path=None if recording_path is None else str(recording_path),
        result_path=None if result_path is None else str(result_path),
        beats_source=beats_source,
    )
