"""Typed results of the rhythm stage; every ``to_dict()`` gives plain JSON types.

Undefined values (no analysable time, no beats in a period, no run) are ``None``, never NaN.
Times are seconds from the recording start; ``clock`` fields are ISO 8601 wall-clock times
when the recording start time is known, else ``None``.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from holterlab.events import Event
from holterlab.params.rhythm import RhythmParams

__all__ = [
    "RatePoint",
    "HeartRateSummary",
    "PeriodSummary",
    "HourRow",
    "RunSummary",
    "EctopySummary",
    "PauseSummary",
    "AFSummary",
    "RhythmResult",
    "plain",
]


def plain(value: Any, digits: int = 3) -> Any:
    """``value`` as plain JSON types: numpy scalars unwrapped, NaN/inf -> None, floats rounded."""
    if isinstance(value, Event):
        return plain(value.to_dict(), digits)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return plain({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, digits)
    if isinstance(value, dict):
        return {str(k): plain(v, digits) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, digits) for v in value]
    if isinstance(value, np.ndarray):
        return [plain(v, digits) for v in value.tolist()]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        v = float(value)
        return round(v, digits) if math.isfinite(v) else None
    if isinstance(value, (_dt.datetime, _dt.date)):
        return value.isoformat()
    return value


class _ToDict:
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dictionary (NaN never appears; undefined values are None)."""
        return plain(self)


@dataclass(frozen=True)
class RatePoint(_ToDict):
    """A heart rate at a time (the centre of its averaging window)."""

    bpm: float | None = None
    time_s: float | None = None
    clock: str | None = None


@dataclass(frozen=True)
class HeartRateSummary(_ToDict):
    """Heart rate over the analysable time.

    ``mean_bpm`` is beats per analysable minute; ``min``/``max`` are the extremes of the
    running average named by ``basis`` (e.g. ``"60 s window"``), over all beats (the
    ventricular rate, also in AF or a VT run); ``sinus_min``/``sinus_max`` those of the same
    average without the RR intervals of AF/flutter episodes and ectopic runs.
    """

    n_beats: int
    analysable_s: float
    mean_bpm: float | None
    min: RatePoint
    max: RatePoint
    basis: str
    sinus_min: RatePoint = field(default_factory=RatePoint)
    sinus_max: RatePoint = field(default_factory=RatePoint)


@dataclass(frozen=True)
class PeriodSummary(_ToDict):
    """Heart rate in the day or night period (clock hours ``start_h`` to ``end_h``)."""

    name: str
    start_h: float
    end_h: float
    analysable_s: float
    n_beats: int
    mean_bpm: float | None
    min: RatePoint
    max: RatePoint


@dataclass(frozen=True)
class HourRow(_ToDict):
    """One row of the hourly table (clock hours when the start time is known)."""

    index: int
    start_s: float
    end_s: float
    clock: str | None
    analysable_s: float
    n_beats: int
    min_bpm: float | None
    mean_bpm: float | None
    max_bpm: float | None
    v_beats: int
    s_beats: int
    pauses: int
    af_s: float


@dataclass(frozen=True)
class RunSummary(_ToDict):
    """One run of ectopic beats."""

    n_beats: int
    rate_bpm: float | None
    start_s: float
    end_s: float


@dataclass(frozen=True)
class EctopySummary(_ToDict):
    """Ventricular or supraventricular ectopy counts.

    ``runs`` counts runs of at least ``run_min_beats`` beats, split into ``fast_runs`` (VT /
    SVT) and ``slow_runs`` (IVR / slow S runs); ``triplets`` counts runs of exactly three beats
    whatever the run threshold (with the default of 3 a triplet is also a run).
    ``burden_pct`` is the percentage of all analysed beats.
    """

    kind: str
    total: int
    isolated: int
    couplets: int
    triplets: int
    runs: int
    fast_runs: int
    slow_runs: int
    bigeminy_episodes: int
    bigeminy_s: float
    trigeminy_episodes: int
    trigeminy_s: float
    burden_pct: float | None
    longest_run: RunSummary | None
    fastest_run: RunSummary | None


@dataclass(frozen=True)
class PauseSummary(_ToDict):
    """Pauses (RR at or above ``threshold_s``) in analysable time."""

    threshold_s: float
    count: int
    sinus_arrests: int
    longest_s: float | None
    longest_start_s: float | None
    by_kind: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class AFSummary(_ToDict):
    """Atrial fibrillation and flutter.

    ``episodes``, ``total_s`` and ``longest_s`` count AF episodes, ``afl_episodes`` and
    ``afl_s`` flutter episodes. ``burden_pct`` is the AF/flutter burden: the percentage of
    analysable time in AF *or* flutter (``afl_burden_pct`` is the flutter part of it);
    ``mean_rate_bpm`` the mean ventricular rate in AF/flutter (beats per minute of episode
    time).
    """

    episodes: int
    total_s: float
    burden_pct: float | None
    mean_rate_bpm: float | None
    longest_s: float | None
    afl_episodes: int
    afl_s: float
    afl_burden_pct: float | None
    method: str


@dataclass
class RhythmResult(_ToDict):
    """Everything :func:`holterlab.rhythm.analyze_rhythm` finds.

    ``events`` holds every episode (AF/AFL, pauses, brady/tachy, couplets, runs,
    bigeminy/trigeminy) as :class:`holterlab.events.Event`, sorted by start time.
    """

    duration_s: float
    analysable_s: float
    start_time: _dt.datetime | None
    n_beats: int
    n_excluded_beats: int
    label_counts: dict[str, int]
    heart_rate: HeartRateSummary
    day: PeriodSummary | None
    night: PeriodSummary | None
    ventricular: EctopySummary
    supraventricular: EctopySummary
    pauses: PauseSummary
    af: AFSummary
    hourly: list[HourRow]
    events: list[Event]
    params: RhythmParams

    def events_of(self, *types: str) -> list[Event]:
        """The events of the given types (all events without arguments)."""
        return [e for e in self.events if not types or e.type in types]

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            out[f.name] = value.to_dict() if f.name == "params" else plain(value)
        return out

    def hourly_frame(self):  # -> pandas.DataFrame
        """The hourly table as a pandas DataFrame."""
        import pandas as pd

        cols = [f.name for f in dataclasses.fields(HourRow)]
        return pd.DataFrame([row.to_dict() for row in self.hourly], columns=cols)
