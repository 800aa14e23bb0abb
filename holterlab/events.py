"""Events found by the analysis (AF episodes, pauses, runs, brady/tachy, ST episodes, ...).

Every stage that finds episodes returns a list of :class:`Event`; the result keeps them all
in one ``events`` list, sorted by start time. Times are seconds from the recording start.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = ["Event", "EVENT_TYPES", "events_to_frame"]

#: Event types and what they mean (the ``type`` field of an event).
EVENT_TYPES: dict[str, str] = {
    "af": "atrial fibrillation episode",
    "afl": "atrial flutter episode",
    "pause": "pause (RR above the pause threshold) or sinus arrest",
    "brady": "bradycardia episode (heart rate below the threshold for the minimum duration)",
    "tachy": "tachycardia episode (heart rate above the threshold for the minimum duration)",
    "v_couplet": "two consecutive ventricular beats",
    "v_triplet": "three consecutive ventricular beats",
    "vt": "ventricular tachycardia: a run of >= 3 (configurable) V beats at or above the VT rate",
    "ivr": "idioventricular rhythm: a run of V beats below the VT rate",
    "v_bigeminy": "ventricular bigeminy episode (N V N V ...)",
    "v_trigeminy": "ventricular trigeminy episode (N N V N N V ...)",
    "s_couplet": "two consecutive supraventricular premature beats",
    "s_triplet": "three consecutive supraventricular beats (when runs need more than 3 beats)",
    "s_run": "a run of S beats below the SVT rate (e.g. ectopic atrial or junctional rhythm)",
    "svt": "supraventricular tachycardia: a run of >= 3 (configurable) S beats",
    "s_bigeminy": "supraventricular bigeminy episode",
    "s_trigeminy": "supraventricular trigeminy episode",
    "st_depression": "ST depression episode (1 mm / 1 minute rule)",
    "st_elevation": "ST elevation episode",
    "noise": "unanalysable signal (noise, lead-off, saturation)",
}


@dataclass(frozen=True)
class Event:
    """One episode.

    Parameters
    ----------
    type
        One of :data:`EVENT_TYPES`.
    start_s, end_s
        Start and end in seconds from the recording start (``end_s >= start_s``).
    rate_bpm
        Mean heart rate over the episode (or the run rate), if meaningful.
    n_beats
        Number of beats in the episode, if meaningful.
    lead
        Lead name for lead-specific events (ST), else None.
    detail
        Extra numbers (e.g. ``{"min_rate_bpm": 38}``, ``{"max_depression_mv": -0.2}``).
    """

    type: str
    start_s: float
    end_s: float
    rate_bpm: float | None = None
    n_beats: int | None = None
    lead: str | None = None
    detail: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.type not in EVENT_TYPES:
            raise ValueError(f"unknown event type {self.type!r}")
        if self.end_s < self.start_s:
            raise ValueError("an event cannot end before it starts")

    @property
    def duration_s(self) -> float:
        return float(self.end_s - self.start_s)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["start_s"] = round(float(self.start_s), 3)
        d["end_s"] = round(float(self.end_s), 3)
        d["duration_s"] = round(d["end_s"] - d["start_s"], 3)
        if self.rate_bpm is not None:
            d["rate_bpm"] = round(float(self.rate_bpm), 1)
        return d

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Event:
        d = {k: v for k, v in data.items() if k != "duration_s"}
        return cls(**d)


def events_to_frame(events: list[Event]):
    """A pandas DataFrame with one row per event (columns of :meth:`Event.to_dict`)."""
    import pandas as pd

    cols = ["type", "start_s", "end_s", "duration_s", "rate_bpm", "n_beats", "lead", "detail"]
    return pd.DataFrame([e.to_dict() for e in events], columns=cols)
