"""Re-summarising a result after review edits or rhythm-parameter changes (no signal needed).

Beat counts update at once (:func:`beats_section`); the rhythm and HRV sections, the hourly
table and the rhythm events are recomputed from the edited beat list with
:func:`holterlab.rhythm.analyze_rhythm` and :func:`holterlab.hrv.compute_hrv`
(:func:`resummarise`, about a second for 24 hours of beats). Signal-derived parts (noise
exclusions, ST/QT) are kept from the analysed result.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from holterlab.params.analysis import AnalysisParams
from holterlab.result import HolterResult

__all__ = ["beats_section", "with_counts", "resummarise", "SIGNAL_EVENTS"]

#: Event types found from the signal, kept as they are when beats are re-summarised.
SIGNAL_EVENTS = ("noise", "st_depression", "st_elevation")


def beats_section(labels: np.ndarray, analysable_s: float | None) -> dict[str, Any]:
    """The ``beats`` section of a result: total, per-class counts, beats per hour.

    Artefacts (``|``) are not beats and are left out.
    """
    labels = np.asarray(labels).astype(str)
    labels = labels[labels != "|"]
    counts = {c: int(np.count_nonzero(labels == c)) for c in "NSVFQ"}
    total = int(labels.size)
    per_hour = None
    if analysable_s and analysable_s > 0:
        per_hour = round(total / (analysable_s / 3600.0), 1)
    return {"total": total, **counts, "per_hour": per_hour}


def with_counts(result: HolterResult, samples: np.ndarray, labels: np.ndarray) -> HolterResult:
    """``result`` with the edited beat list and beat counts (other sections unchanged)."""
    labels = np.asarray(labels, dtype="<U1")
    keep = labels != "|"
    analysable = (result.recording or {}).get("analysable_s")
    return dataclasses.replace(
        result,
        beats=beats_section(labels, analysable),
        beat_samples=np.asarray(samples, dtype=np.int64)[keep],
        beat_labels=labels[keep],
    )


def resummarise(
    result: HolterResult,
    samples: np.ndarray,
    labels: np.ndarray,
    *,
    params: AnalysisParams | None = None,
    duration_s: float | None = None,
    start_time: Any = None,
    hrv: bool = True,
) -> HolterResult:
    """Recompute the beat-derived sections of ``result`` from an edited beat list.

    Parameters
    ----------
    result
        The analysed (or loaded) result.
    samples, labels
        The current beats and labels (``|`` = artefact, left out).
    params
        Analysis parameters (rhythm and HRV parts used); default: the result's own.
    duration_s, start_time
        Recording length and start (default: from the result).
    hrv
        Also recompute HRV (else it is kept).
    """
    from holterlab.hrv import compute_hrv
    from holterlab.rhythm import analyze_rhythm

    if params is None:
        params = AnalysisParams.from_dict(result.params) if result.params else AnalysisParams()
    fs = float(result.fs or (result.recording or {}).get("fs"))
    rec = dict(result.recording or {})
    if duration_s is None:
        duration_s = rec.get("duration_s")
    labels = np.asarray(labels, dtype="<U1")
    keep = labels != "|"
    b = np.asarray(samples, dtype=np.int64)[keep]
    lab = labels[keep]
    excluded = [(e.start_s, e.end_s) for e in result.events if e.type == "noise"] or None
    out = with_counts(result, samples, labels)
    if b.size < 2:
        return out
    rhythm = analyze_rhythm(
        b,
        lab,
        fs,
        params=params.rhythm,
        excluded=excluded,
        start_time=start_time,
        duration_s=duration_s,
    )
    r = rhythm.to_dict()
    heart_rate = dict(r["heart_rate"])
    heart_rate["day"] = r.get("day")
    heart_rate["night"] = r.get("night")
    hrv_section = result.hrv
    if hrv and params.hrv_enabled:
        hrv_section = compute_hrv(
            b, lab, fs, params=params.hrv, excluded=excluded, start_time=start_time
        ).to_dict()
    kept = [e for e in result.events if e.type in SIGNAL_EVENTS]
    events = sorted(list(rhythm.events) + kept, key=lambda e: (e.start_s, e.type))
    return dataclasses.replace(
        out,
        heart_rate=heart_rate,
        ventricular=r["ventricular"],
        supraventricular=r["supraventricular"],
        af=r["af"],
        pauses=r["pauses"],
        hrv=hrv_section,
        hourly=r["hourly"],
        events=events,
        params=params.to_dict(),
    )
