"""Builders of small results for the comparison tests."""

from __future__ import annotations

import numpy as np

from holterlab.annotations import Annotations
from holterlab.events import Event
from holterlab.pipeline import analyze_beats
from holterlab.result import HolterResult

FS = 360.0
RR = 288  # samples: 0.8 s
N_BEATS = 200
V_AT = (10, 20, 30, 40, 50)
S_AT = (60, 70, 80)


def base_beats() -> tuple[np.ndarray, np.ndarray]:
    """200 beats every 0.8 s from 1 s on; V at V_AT, S at S_AT, else N."""
    samples = FS + RR * np.arange(N_BEATS, dtype=np.int64)
    labels = np.full(N_BEATS, "N", dtype="<U1")
    labels[list(V_AT)] = "V"
    labels[list(S_AT)] = "S"
    return samples.astype(np.int64), labels


def duration_s() -> float:
    return float((FS + RR * N_BEATS) / FS + 1.0)


def result_from_beats(samples: np.ndarray, labels: np.ndarray) -> HolterResult:
    """A result of ``analyze_beats`` on the given beat samples and AAMI labels."""
    order = np.argsort(samples, kind="stable")
    ann = Annotations(np.asarray(samples)[order], np.asarray(labels)[order], FS)
    return analyze_beats(ann, duration_s=duration_s())


def bare_result(events: list[Event], duration: float = 3600.0, **sections) -> HolterResult:
    """A result without beat list holding only ``events`` (and optional sections)."""
    fields = {
        name: {}
        for name in (
            "heart_rate",
            "beats",
            "ventricular",
            "supraventricular",
            "af",
            "pauses",
        )
    }
    fields.update(sections)
    return HolterResult(
        recording={"name": "bare", "duration_s": duration}, events=list(events), **fields
    )
