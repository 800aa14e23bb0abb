"""``analyze()``: the whole Holter analysis of a recording, chunked, with progress and cancel.

Stages, in order (each a pure function configured by its part of :class:`AnalysisParams`):

1. ``quality``   per-lead signal quality; unusable stretches become *excluded* time
2. ``detect``    multi-lead QRS detection (chunks with overlap; chunk-size independent)
3. ``classify``  AAMI beat classes and morphology families
4. ``atrial``    atrial activity from the signal (flutter waves, fibrillatory waves, P waves)
5. ``rhythm``    heart rate, pauses, ectopy, AF/AFL, brady/tachy, hourly table, events
6. ``hrv``       time, frequency, nonlinear HRV and heart-rate turbulence
7. ``st_qt``     ST deviation and QT/QTc trends from median beats, ST episodes

:func:`analyze_beats` runs stages 5-6 on a beat annotation file (no signal: RR-based AF,
no flutter).
"""

from __future__ import annotations

import datetime as _dt
import threading
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from holterlab._version import __version__
from holterlab.errors import CancelledError, ParameterError
from holterlab.params.analysis import AnalysisParams
from holterlab.recording import Recording
from holterlab.result import HolterResult

__all__ = ["analyze", "analyze_beats", "Progress", "STAGES"]

#: Stage names and their share of the total work (for the overall progress fraction).
STAGES: dict[str, float] = {
    "quality": 0.10,
    "detect": 0.35,
    "classify": 0.25,
    "atrial": 0.05,
    "rhythm": 0.04,
    "hrv": 0.04,
    "st_qt": 0.22,
}

ProgressArg = bool | Callable[[str, float], None] | None
CancelArg = threading.Event | Callable[[], bool] | None


class Progress:
    """Turns per-stage fractions into one overall fraction, for a callback and/or tqdm.

    ``callback(stage, fraction)`` receives the stage name and the overall fraction (0..1),
    throttled to at most ~10 calls per second except at stage boundaries.
    """

    def __init__(
        self,
        progress: ProgressArg,
        stages: dict[str, float] | None = None,
        *,
        description: str = "analysis",
    ) -> None:
        self.stages = dict(stages or STAGES)
        total = sum(self.stages.values())
        self.weights = {k: v / total for k, v in self.stages.items()}
        self.callback = progress if callable(progress) else None
        self.bar = None
        if progress is True:
            from tqdm.auto import tqdm

            self.bar = tqdm(
                total=100,
                desc=description,
                unit="%",
                leave=False,
                mininterval=0.5,
                bar_format="{desc}: {percentage:3.0f}%|{bar}| [{elapsed}<{remaining}]",
            )
        self._done = 0.0
        self._last = 0.0
        self._finished: set[str] = set()
        self.stage = ""

    def start(self, stage: str) -> Callable[[float], None]:
        """Enter ``stage``; returns the function the stage calls with its own fraction."""
        self.stage = stage
        base = sum(self.weights[s] for s in self.stages if s in self._finished)
        weight = self.weights.get(stage, 0.0)
        self._report(base, force=True)

        def update(fraction: float) -> None:
            self._report(base + weight * min(max(float(fraction), 0.0), 1.0))

        return update

    def finish(self, stage: str) -> None:
        self._finished.add(stage)
        done = sum(self.weights[s] for s in self.stages if s in self._finished)
        self._report(done, force=True)

    def _report(self, overall: float, *, force: bool = False) -> None:
        now = time.monotonic()
        if not force and now - self._last < 0.1:
            return
        self._last = now
        overall = min(max(overall, self._done, 0.0), 1.0)
        if overall > 1.0 - 1e-9:
            overall = 1.0
        self._done = overall
        if self.callback is not None:
            self.callback(self.stage, overall)
        if self.bar is not None:
            self.bar.set_description_str(f"analysis: {self.stage}", refresh=False)
            self.bar.update(round(100 * overall, 1) - self.bar.n)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _cancel_fn(cancel: CancelArg) -> Callable[[], bool]:
    if cancel is None:
        return lambda: False
    if isinstance(cancel, threading.Event):
        return cancel.is_set
    if callable(cancel):
        return cancel
    raise ParameterError("cancel must be a threading.Event or a callable returning bool")


def _maybe_in_memory(recording: Recording, budget_mb: float) -> Recording:
    """The recording read into memory once when its float32 signal fits in ``budget_mb``.

    Every stage then reads from memory instead of decoding the file again (quality,
    detection, classification, ST/QT and atrial activity each walk the signal).
    """
    from holterlab.recording import ArraySource

    size_mb = recording.n_samples * recording.n_leads * 4 / 1e6
    if budget_mb <= 0 or size_mb > budget_mb or isinstance(recording.source, ArraySource):
        return recording
    return recording.load()


def _check(cancelled: Callable[[], bool], stage: str) -> None:
    if cancelled():
        raise CancelledError(f"analysis cancelled during {stage}")


def _recording_section(
    recording: Recording, analysable_s: float, noise_pct: float, noisy_pct: float | None
) -> dict:
    """``noise_pct``: time excluded as unanalysable; ``noisy_pct``: time analysed although
    every usable lead was noisy (None when unknown)."""
    return {
        "name": recording.name,
        "path": recording.path,
        "format": recording.format,
        "start_time": None if recording.start_time is None else recording.start_time.isoformat(),
        "duration_s": round(recording.duration, 3),
        "analysable_s": round(float(analysable_s), 3),
        "noise_pct": round(float(noise_pct), 2),
        "noisy_pct": None if noisy_pct is None else round(float(noisy_pct), 2),
        "fs": recording.fs,
        "n_samples": recording.n_samples,
        "leads": list(recording.leads),
    }


def _beats_section(labels: np.ndarray, analysable_s: float, n_excluded: int) -> dict[str, Any]:
    """Every published beat by class. ``excluded`` counts the beats lying in unanalysable
    time: they are in ``total`` and the class counts (and the beat list) but not in the
    ectopy, rhythm and HRV analysis, so e.g. ``V`` may exceed ``ventricular.total``."""
    labels = np.asarray(labels).astype(str)
    counts = {c: int(np.count_nonzero(labels == c)) for c in "NSVFQ"}
    total = int(labels.size)
    return {
        "total": total,
        **counts,
        "excluded": int(n_excluded),
        "per_hour": None if analysable_s <= 0 else round(total / (analysable_s / 3600.0), 1),
    }


def _assemble(
    rhythm: Any,
    hrv: Any,
    stqt: Any,
    *,
    recording_section: dict[str, Any],
    labels: np.ndarray,
    beats: np.ndarray,
    fs: float,
    params: AnalysisParams,
    extra_events: list | None = None,
) -> HolterResult:
    r = rhythm.to_dict()
    heart_rate = dict(r["heart_rate"])
    heart_rate["day"] = r.get("day")
    heart_rate["night"] = r.get("night")
    sections = stqt.to_dict() if stqt is not None else {"st": None, "qt": None}
    events = list(rhythm.events) + list(extra_events or [])
    if stqt is not None:
        events += list(stqt.episodes)
    return HolterResult(
        recording=recording_section,
        heart_rate=heart_rate,
        beats=_beats_section(labels, recording_section["analysable_s"], rhythm.n_excluded_beats),
        ventricular=r["ventricular"],
        supraventricular=r["supraventricular"],
        af=r["af"],
        pauses=r["pauses"],
        hrv=None if hrv is None else hrv.to_dict(),
        st=sections["st"],
        qt=sections["qt"],
        hourly=r["hourly"],
        events=sorted(events, key=lambda e: (e.start_s, e.type)),
        params=params.to_dict(),
        beat_samples=np.asarray(beats, dtype=np.int64),
        beat_labels=np.asarray(labels).astype("<U1"),
        fs=fs,
        holterlab_version=__version__,
    )


def analyze(
    recording: Recording,
    params: AnalysisParams | dict[str, Any] | None = None,
    *,
    progress: ProgressArg = None,
    cancel: CancelArg = None,
) -> HolterResult:
    """Run the whole Holter analysis on a recording.

    Parameters
    ----------
    recording
        A :class:`~holterlab.recording.Recording` (from :func:`holterlab.read`).
    params
        :class:`~holterlab.params.analysis.AnalysisParams` (or its dict form; defaults if None).
    progress
        ``True`` for a tqdm bar, or ``callback(stage, overall_fraction)``.
    cancel
        A :class:`threading.Event` or a callable; when it turns true the analysis stops within
        a chunk (well under 2 s) and raises :class:`~holterlab.errors.CancelledError`.

    Returns
    -------
    HolterResult
    """
    from holterlab.beats.one_pass import detect_and_classify_recording
    from holterlab.hrv import compute_hrv
    from holterlab.quality import quality_recording
    from holterlab.rhythm import analyze_rhythm
    from holterlab.st_qt import st_qt_recording

    if not isinstance(recording, Recording):
        raise ParameterError("analyze() needs a holterlab Recording (use holterlab.read(path))")
    p = AnalysisParams.coerce(params)
    cancelled = _cancel_fn(cancel)
    prog = Progress(progress)
    fs = recording.fs
    try:
        recording = _maybe_in_memory(recording, p.in_memory_mb)
        _check(cancelled, "reading")
        update = prog.start("quality")
        quality = quality_recording(
            recording, params=p.quality, chunk_s=p.chunk_s, progress=update, cancel=cancelled
        )
        prog.finish("quality")
        _check(cancelled, "quality")

        stage = {"name": ""}

        def staged(name: str, fraction: float) -> None:
            if name != stage["name"]:
                if stage["name"]:
                    prog.finish(stage["name"])
                stage["name"] = name
                stage["update"] = prog.start(name)
            stage["update"](fraction)

        # detection and the classification windows in one pass (holterlab.beats.one_pass)
        beats, classes = detect_and_classify_recording(
            recording,
            quality=quality,
            detection=p.detection,
            classification=p.classification,
            chunk_s=p.chunk_s,
            progress=staged,
            cancel=cancelled,
        )
        labels = np.asarray(classes.labels).astype("<U1")
        prog.finish("classify")
        _check(cancelled, "classify")

        activity = None
        if p.atrial.enabled:
            from holterlab.atrial import atrial_activity_recording

            update = prog.start("atrial")
            activity = atrial_activity_recording(
                recording,
                beats,
                labels,
                params=p.atrial,
                chunk_s=p.chunk_s,
                progress=update,
                cancel=cancelled,
            )
            prog.finish("atrial")

        excluded = quality.excluded_intervals()
        prog.start("rhythm")
        rhythm = analyze_rhythm(
            beats,
            labels,
            fs,
            params=p.rhythm,
            excluded=excluded,
            start_time=recording.start_time,
            duration_s=recording.duration,
            atrial_activity=activity,
        )
        prog.finish("rhythm")
        _check(cancelled, "rhythm")
        labels = _af_precedence(classes, labels, beats, fs, rhythm.events, p)

        hrv = None
        if p.hrv_enabled:
            prog.start("hrv")
            hrv = compute_hrv(
                beats,
                labels,
                fs,
                params=p.hrv,
                excluded=excluded,
                start_time=recording.start_time,
                non_sinus=_non_sinus(rhythm.events),
            )
            prog.finish("hrv")
            _check(cancelled, "hrv")

        stqt = None
        if p.st_qt.enabled:
            update = prog.start("st_qt")
            stqt = st_qt_recording(
                recording,
                beats,
                labels,
                params=p.st_qt,
                chunk_s=p.chunk_s,
                progress=update,
                cancel=cancelled,
                quality=quality,
            )
            prog.finish("st_qt")

        result = _assemble(
            rhythm,
            hrv,
            stqt,
            recording_section=_recording_section(
                recording, quality.analysable_s, quality.noise_pct, quality.noisy_pct
            ),
            labels=labels,
            beats=beats,
            fs=fs,
            params=p,
            extra_events=flag_possible_asystole(quality.noise_events(), beats / fs, recording),
        )
        result.classification = classes
        return result
    finally:
        prog.close()


#: Largest distance (s) between a no-ECG stretch and the beats around it for the stretch to be
#: flagged as a possible asystole (the stretch is found on a grid of quality segments).
ASYSTOLE_EDGE_S = 3.0
#: Longest stretch (s) examined as a possible asystole.
ASYSTOLE_MAX_S = 300.0
#: A quiet stretch's median absolute sample-to-sample change, relative to that of the ECG in
#: the 10 s before it, is at most this (the same electrodes' baseline noise; noise bursts are
#: far larger).
ASYSTOLE_QUIET_RATIO = 3.0


def flag_possible_asystole(events: list, beat_times_s: np.ndarray, recording: Recording) -> list:
    """Mark excluded stretches that may be an asystole rather than a loss of signal.

    A ``noise`` event excluded only because no lead shows ECG (reason ``no_ecg``), at most
    :data:`ASYSTOLE_MAX_S` long, framed by detected beats less than :data:`ASYSTOLE_EDGE_S`
    before it starts and after it ends, with no beat inside, and whose signal is as quiet as
    the baseline of the ECG just before it (median ``|dx|`` at most
    :data:`ASYSTOLE_QUIET_RATIO` times that of the 10 s before, in every lead) gets
    ``detail["possible_asystole"] = True`` and ``detail["rr_s"]``, the interval between the
    framing beats. The stretch stays excluded and is not counted as a pause (the signal
    cannot tell an asystole from electrodes that pick up nothing), but it is listed for
    review instead of passing as noise.
    """
    import dataclasses

    t = np.asarray(beat_times_s, dtype=np.float64)
    out = []
    for e in events:
        reasons = set((e.detail or {}).get("segments", {}))
        if (
            e.type == "noise"
            and reasons == {"no_ecg"}
            and t.size
            and e.end_s - e.start_s <= ASYSTOLE_MAX_S
        ):
            i = int(np.searchsorted(t, e.start_s))
            j = int(np.searchsorted(t, e.end_s, side="right"))
            framed = (
                i > 0
                and j == i
                and j < t.size
                and e.start_s - t[i - 1] <= ASYSTOLE_EDGE_S
                and t[j] - e.end_s <= ASYSTOLE_EDGE_S
            )
            if framed and _quiet(recording, e.start_s, e.end_s):
                rr = round(float(t[j] - t[i - 1]), 3)
                detail = dict(e.detail, possible_asystole=True, rr_s=rr)
                e = dataclasses.replace(e, detail=detail)
        out.append(e)
    return out


def _quiet(recording: Recording, start_s: float, end_s: float) -> bool:
    """Whether every lead of ``[start_s, end_s]`` is as quiet as its 10 s before."""
    before = recording.get(start=max(0.0, start_s - 10.0), stop=start_s)
    inside = recording.get(start=start_s, stop=end_s)
    if before.shape[1] < 2 or inside.shape[1] < 2:
        return False
    with np.errstate(invalid="ignore"):
        ref = np.nanmedian(np.abs(np.diff(before, axis=1)), axis=1)
        cur = np.nanmedian(np.abs(np.diff(inside, axis=1)), axis=1)
    return bool(np.all(cur <= ASYSTOLE_QUIET_RATIO * np.maximum(ref, 1e-6)))


def _non_sinus(events: list) -> np.ndarray:
    """``(start_s, end_s)`` rows of the atrial fibrillation and flutter episodes."""
    rows = [(e.start_s, e.end_s) for e in events if e.type in ("af", "afl")]
    return np.asarray(rows, dtype=np.float64).reshape(-1, 2)


def _af_precedence(
    classes: Any, labels: np.ndarray, beats: np.ndarray, fs: float, events: list, p: AnalysisParams
) -> np.ndarray:
    """Beat labels with AF precedence applied (S beats in AF/flutter episodes become N).

    The classifier cannot tell a regular 2:1 flutter from a supraventricular run beat by beat;
    the rhythm stage, with the atrial activity, can. The published labels (result counts,
    beat list, annotation file) follow the rhythm stage, as its ectopy counts already do
    (:func:`holterlab.rhythm.af_precedence`); ``classes`` gets the same change as overrides.
    """
    from holterlab.rhythm import af_precedence

    to_n = af_precedence(beats / fs, labels, events, p.rhythm.ectopy.af_onset_s)
    if not to_n.any():
        return labels
    labels = labels.copy()
    labels[to_n] = "N"
    classes.set_label(np.flatnonzero(to_n), "N")
    return labels


def _start_time(value: Any) -> _dt.datetime | None:
    """A clock start time from a datetime or an ISO-8601 string (ParameterError otherwise)."""
    if value is None or isinstance(value, _dt.datetime):
        return value
    if isinstance(value, str):
        try:
            return _dt.datetime.fromisoformat(value.strip())
        except ValueError:
            pass
    raise ParameterError(
        f"start_time must be a datetime or an ISO-8601 date and time such as "
        f"2026-01-05T08:30:00, got {value!r}"
    )


def analyze_beats(
    annotations: Any,
    params: AnalysisParams | dict[str, Any] | None = None,
    *,
    duration_s: float | None = None,
    start_time: Any = None,
    name: str = "recording",
    n_signals: int = 2,
) -> HolterResult:
    """Rhythm and HRV analysis from beat annotations alone (no signal).

    Parameters
    ----------
    annotations
        :class:`~holterlab.annotations.Annotations` with MIT-BIH beat symbols (non-beat
        annotations are ignored; ``~``/``|`` noise marks are not used).
    params
        Analysis parameters (only the rhythm and HRV parts are used).
    duration_s
        Recording duration (default: last beat + 1 s).
    start_time
        Clock time of the first sample (a datetime or an ISO-8601 string), for clock hours
        and day/night values.
    name
        Record name (written into the result).
    n_signals
        Signals of the annotated record, to read noise annotations (``~``): time where all
        signals are noisy is excluded, and RR intervals around ``|`` artefacts are ignored.
    """
    from holterlab.annotations import aami_class
    from holterlab.hrv import compute_hrv
    from holterlab.rhythm import analyze_rhythm

    p = AnalysisParams.coerce(params)
    beats_ann = annotations.beats()
    if len(beats_ann) < 2:
        raise ParameterError("the annotation file holds fewer than two beats: nothing to analyse")
    fs = annotations.fs
    beats = beats_ann.sample
    labels = aami_class(beats_ann.symbol.astype(str))
    if duration_s is None:
        duration_s = float(beats[-1] / fs + 1.0)
    start_time = _start_time(start_time)
    excluded = annotations.noise_intervals(n_signals=n_signals)
    # before the first and after the last annotated beat nothing was annotated: that time is
    # not analysable (it is not asystole, and it must not dilute the hourly rates)
    first_s, last_s = float(beats[0] / fs), float(beats[-1] / fs)
    edges = [(0.0, first_s)] if first_s > 2.0 else []
    if duration_s > last_s + 2.0:
        edges.append((last_s, float(duration_s)))
    if edges:
        excluded = np.concatenate([np.asarray(excluded, dtype=np.float64).reshape(-1, 2), edges])
    rhythm = analyze_rhythm(
        beats,
        labels,
        fs,
        params=p.rhythm,
        excluded=excluded,
        start_time=start_time,
        duration_s=duration_s,
    )
    hrv = None
    if p.hrv_enabled:
        hrv = compute_hrv(
            beats,
            labels,
            fs,
            params=p.hrv,
            excluded=excluded,
            start_time=start_time,
            non_sinus=_non_sinus(rhythm.events),
        )
    section = {
        "name": name,
        "path": None,
        "format": "annotations",
        "start_time": None if start_time is None else start_time.isoformat(),
        "duration_s": round(float(duration_s), 3),
        "analysable_s": round(float(rhythm.analysable_s), 3),
        "noise_pct": round(100.0 * (1.0 - rhythm.analysable_s / duration_s), 2)
        if duration_s > 0
        else 0.0,
        "noisy_pct": None,
        "fs": fs,
        "n_samples": int(round(duration_s * fs)),
        "leads": [],
    }
    return _assemble(
        rhythm, hrv, None, recording_section=section, labels=labels, beats=beats, fs=fs, params=p
    )
