"""Typed results of the HRV layer and their JSON form.

Every value is in the unit its name ends with (``_ms``, ``_ms2``, ``_pct``, ``_bpm``,
``_ms_per_beat``; ``_nu`` are normalised units 0-100). Undefined values are ``None`` — in the
objects and in :meth:`HRVResult.to_dict`, which returns plain JSON types only (no NaN).
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from typing import Any

from holterlab.params.hrv import HRVParams

__all__ = ["HRVResult", "HRTResult", "ShortTermHRV", "PeriodHRV", "clean_float", "json_value"]


def clean_float(value: Any) -> float | None:
    """``float(value)``, or ``None`` for None, NaN and infinities."""
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


_DIGITS = (
    ("_ms_per_beat", 3),
    ("_ms2", 2),
    ("_ms", 2),
    ("_pct", 3),
    ("_bpm", 2),
    ("_nu", 3),
    ("_s", 3),
)


def json_value(name: str, value: Any) -> Any:
    """A plain JSON value for field ``name``: rounded by unit, ints kept, NaN as ``None``."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return {k: json_value(k, v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_value(name, v) for v in value]
    if hasattr(value, "to_dict"):
        return value.to_dict()
    x = clean_float(value)
    if x is None:
        return None
    for suffix, digits in _DIGITS:
        if name.endswith(suffix):
            return round(x, digits)
    return round(x, 4)


def _as_dict(obj: Any) -> dict[str, Any]:
    return {f.name: json_value(f.name, getattr(obj, f.name)) for f in dataclasses.fields(obj)}


@dataclass(frozen=True)
class HRTResult:
    """Heart-rate turbulence.

    Attributes
    ----------
    to_pct
        Turbulence onset (%), mean over qualifying VPBs; ``None`` below the minimum count.
    ts_ms_per_beat
        Turbulence slope (ms per beat) of the averaged tachogram; ``None`` likewise.
    n_vpb
        Number of qualifying VPBs used.
    n_v_beats
        Number of beats labelled ``V`` in the input.
    tachogram_ms
        Averaged tachogram: ``hrt_n_before`` sinus RR, coupling interval, compensatory pause,
        ``hrt_n_after`` sinus RR (empty below the minimum count).
    """

    to_pct: float | None
    ts_ms_per_beat: float | None
    n_vpb: int
    n_v_beats: int
    tachogram_ms: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        object.__setattr__(self, "to_pct", clean_float(self.to_pct))
        object.__setattr__(self, "ts_ms_per_beat", clean_float(self.ts_ms_per_beat))

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True)
class ShortTermHRV:
    """Means over the valid short-term (5-minute) segments."""

    vlf_ms2: float | None
    lf_ms2: float | None
    hf_ms2: float | None
    total_power_ms2: float | None
    lf_hf: float | None
    lf_nu: float | None
    hf_nu: float | None
    n_segments: int
    segment_s: float

    @classmethod
    def from_summary(cls, summary: dict[str, float], segment_s: float) -> ShortTermHRV:
        names = [f.name for f in dataclasses.fields(cls)][:7]
        return cls(
            **{k: clean_float(summary.get(k)) for k in names},
            n_segments=int(summary.get("n_segments", 0)),
            segment_s=float(segment_s),
        )

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True)
class PeriodHRV:
    """HRV of one part of the record: a clock hour, the day window or the night window.

    Attributes
    ----------
    label
        ``"hour"``, ``"day"`` or ``"night"``.
    start
        Clock start: ISO date-time of an hour (``None`` without a start time), or ``"HH:MM"`` of
        a day/night window.
    end
        Clock end in the same form (``None`` for hours without a start time).
    offset_s
        Start of the hour relative to the recording start (s); ``None`` for day/night.
    n_nn
        NN intervals in the period.
    mean_nn_ms, sdnn_ms, rmssd_ms, pnn50_pct
        Time-domain values of the NN intervals ending in the period (successive differences
        only between adjacent intervals that are both in it).
    lf_ms2, hf_ms2, lf_hf
        Means over the valid 5-minute segments lying wholly in the period.
    n_segments
        Valid 5-minute segments in the period.
    """

    label: str
    start: str | None
    end: str | None
    offset_s: float | None
    n_nn: int
    mean_nn_ms: float | None
    sdnn_ms: float | None
    rmssd_ms: float | None
    pnn50_pct: float | None
    lf_ms2: float | None
    hf_ms2: float | None
    lf_hf: float | None
    n_segments: int

    def to_dict(self) -> dict[str, Any]:
        return _as_dict(self)


@dataclass(frozen=True)
class HRVResult:
    """All HRV values of a record (see :func:`holterlab.hrv.compute_hrv`)."""

    # bookkeeping
    n_beats: int
    n_nn: int
    nn_coverage_pct: float | None
    duration_s: float
    start_time: str | None
    rejected: dict[str, int]
    # time domain
    mean_nn_ms: float | None
    mean_hr_bpm: float | None
    sdnn_ms: float | None
    sdann_ms: float | None
    sdnn_index_ms: float | None
    rmssd_ms: float | None
    sdsd_ms: float | None
    nn50: int
    pnn50_pct: float | None
    triangular_index: float | None
    tinn_ms: float | None
    # frequency domain (whole record)
    ulf_ms2: float | None  # None for series shorter than params.ulf_min_hours
    vlf_ms2: float | None
    lf_ms2: float | None
    hf_ms2: float | None
    total_power_ms2: float | None
    lf_hf: float | None
    lf_nu: float | None
    hf_nu: float | None
    # nonlinear
    sd1_ms: float | None
    sd2_ms: float | None
    sd1_sd2: float | None
    dfa_alpha1: float | None
    dfa_alpha2: float | None
    # turbulence
    hrt_to_pct: float | None
    hrt_ts_ms_per_beat: float | None
    hrt_n_vpb: int
    # parts
    short_term: ShortTermHRV
    hourly: list[PeriodHRV]
    day: PeriodHRV | None
    night: PeriodHRV | None
    hrt: HRTResult
    params: HRVParams

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types: numbers rounded by unit, ``None`` where undefined."""
        out: dict[str, Any] = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if f.name == "params":
                out[f.name] = value.to_dict()
            elif f.name == "hourly":
                out[f.name] = [h.to_dict() for h in value]
            elif f.name == "hrt":
                out["hrt_n_v_beats"] = value.n_v_beats
                out["hrt_tachogram_ms"] = json_value("_ms", value.tachogram_ms)
            else:
                out[f.name] = json_value(f.name, value)
        return out
