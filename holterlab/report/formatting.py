"""The one way numbers, times and durations are written in a report.

Every number printed in a report goes through :func:`fmt` from the value in the result JSON,
so a test can format the JSON value the same way and find it in the PDF text. The number of
decimals follows the unit at the end of the field name (``_bpm`` whole numbers, ``_ms`` one
decimal, ...), see :data:`DIGITS`.
"""

from __future__ import annotations

import datetime as _dt
import math
from dataclasses import dataclass
from typing import Any

__all__ = [
    "DASH",
    "DIGITS",
    "digits_for",
    "fmt",
    "fmt_unit",
    "fmt_duration",
    "Clock",
    "unit_of",
]

#: What an undefined value (``None``) prints as.
DASH = "–"

#: Decimals by field name: exact names first, then name endings (first match wins).
DIGITS: tuple[tuple[str, int], ...] = (
    ("pause_s", 2),
    ("rr_s", 2),
    ("_ms_per_beat", 2),
    ("_ms2", 0),
    ("_bpm", 0),
    ("_ms", 1),
    ("_pct", 1),
    ("_mv", 2),
    ("_nu", 1),
    ("_s", 1),
    ("_h", 1),
    ("lf_hf", 2),
    ("sd1_sd2", 2),
    ("dfa_alpha1", 2),
    ("dfa_alpha2", 2),
    ("irregularity", 3),
    ("triangular_index", 1),
)

_UNITS: tuple[tuple[str, str], ...] = (
    ("_ms_per_beat", "ms/beat"),
    ("_ms2", "ms²"),
    ("_bpm", "bpm"),
    ("_ms", "ms"),
    ("_pct", "%"),
    ("_mv", "mV"),
    ("_nu", "n.u."),
    ("_s", "s"),
    ("_h", "h"),
)


def digits_for(key: str | None) -> int:
    """Decimals used for field ``key`` (1 when the name says nothing)."""
    if key:
        for suffix, digits in DIGITS:
            if key == suffix.lstrip("_") or key.endswith(suffix):
                return digits
    return 1


def unit_of(key: str | None) -> str:
    """The unit named by the end of ``key`` (``""`` when none)."""
    if key:
        for suffix, unit in _UNITS:
            if key == suffix.lstrip("_") or key.endswith(suffix):
                return unit
    return ""


def fmt(value: Any, key: str | None = None, *, digits: int | None = None) -> str:
    """Write ``value`` (a value of the result JSON) for the report.

    Parameters
    ----------
    value
        ``None`` (or NaN) prints :data:`DASH`; integers get thousands separators
        (``4,512``); floats are rounded to ``digits`` decimals, by default those of
        :func:`digits_for` ``(key)`` — percentages below 1 get one more decimal.
    key
        Name of the field the value comes from (e.g. ``"sdnn_ms"``).
    digits
        Decimals, overriding the field name.

    Examples
    --------
    >>> fmt(4512), fmt(52.097, "min_bpm"), fmt(127.3, "sdnn_ms"), fmt(None)
    ('4,512', '52', '127.3', '–')
    """
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, str):
        return value
    try:
        x = float(value)
    except (TypeError, ValueError):
        return str(value)
    if not math.isfinite(x):
        return DASH
    d = digits_for(key) if digits is None else digits
    if digits is None and key and key.endswith("_pct") and 0 < abs(x) < 1:
        d += 1
    text = f"{x:,.{max(d, 0)}f}"
    if text.startswith("-") and float(text.replace(",", "")) == 0:
        text = text[1:]
    return text


def fmt_unit(
    value: Any, key: str | None = None, *, digits: int | None = None, unit: str | None = None
) -> str:
    """:func:`fmt` followed by the unit of ``key`` (``"52 bpm"``), or just the dash."""
    text = fmt(value, key, digits=digits)
    if text == DASH:
        return text
    u = unit_of(key) if unit is None else unit
    if not u:
        return text
    return f"{text}{u}" if u == "%" else f"{text} {u}"


def fmt_duration(seconds: Any) -> str:
    """A duration for people: ``54.9 s``, ``2 min 21 s``, ``23 h 59 min``."""
    if seconds is None:
        return DASH
    s = float(seconds)
    if not math.isfinite(s):
        return DASH
    if s < 60:
        return f"{fmt(s, 'x_s')} s"
    total = int(round(s))
    if total < 3600:
        return f"{total // 60} min {total % 60:02d} s"
    hours, rest = divmod(total, 3600)
    if hours >= 48:
        return f"{hours // 24} d {hours % 24} h {rest // 60:02d} min"
    return f"{hours} h {rest // 60:02d} min"


def _parse_start(start: Any) -> _dt.datetime | None:
    if start is None or start == "":
        return None
    if isinstance(start, _dt.datetime):
        return start
    try:
        return _dt.datetime.fromisoformat(str(start))
    except ValueError:
        return None


@dataclass(frozen=True)
class Clock:
    """Turns seconds from the recording start into wall-clock (or elapsed) time stamps.

    With a start time, ``clock(3332.2)`` gives ``"09:55:32"`` (``"D2 09:55:32"`` on later
    days of multi-day recordings); without one, elapsed time ``"+00:55:32"``.
    """

    start: _dt.datetime | None = None
    multi_day: bool = False

    @classmethod
    def from_result(cls, result: dict[str, Any]) -> Clock:
        rec = result.get("recording") or {}
        duration = rec.get("duration_s") or 0.0
        start = _parse_start(rec.get("start_time"))
        multi = False
        if start is not None:
            end = start + _dt.timedelta(seconds=float(duration))
            multi = end.date() != start.date() and float(duration) > 86400.0
        return cls(start=start, multi_day=multi)

    @property
    def wall(self) -> bool:
        """True when times are clock times (the start time is known)."""
        return self.start is not None

    def at(self, time_s: float | None) -> _dt.datetime | None:
        """The wall-clock datetime of ``time_s`` (None without a start time)."""
        if time_s is None or self.start is None:
            return None
        return self.start + _dt.timedelta(seconds=float(time_s))

    def __call__(self, time_s: Any, *, seconds: bool = True) -> str:
        if time_s is None:
            return DASH
        t = float(time_s)
        if not math.isfinite(t):
            return DASH
        form = "%H:%M:%S" if seconds else "%H:%M"
        if self.start is None:
            total = int(math.floor(t + 1e-6))
            h, rest = divmod(total, 3600)
            m, s = divmod(rest, 60)
            return f"+{h:02d}:{m:02d}:{s:02d}" if seconds else f"+{h:02d}:{m:02d}"
        when = self.start + _dt.timedelta(seconds=math.floor(t + 1e-6))
        text = when.strftime(form)
        if self.multi_day:
            day = (when.date() - self.start.date()).days + 1
            text = f"D{day} {text}"
        return text

    def span(self, start_s: Any, end_s: Any) -> str:
        """``"09:55:32–09:56:10"``."""
        return f"{self(start_s)}–{self(end_s)}"

    def precise(self, time_s: Any) -> str:
        """The time stamp with tenths of a second: ``"09:55:32.4"``."""
        if time_s is None or not math.isfinite(float(time_s)):
            return DASH
        t = round(float(time_s), 1)
        whole = math.floor(t + 1e-6)
        return f"{self(whole)}.{int(round((t - whole) * 10)) % 10}"

    def date(self) -> str:
        """The start date (``2000-01-03 (Mon)``), or the dash."""
        if self.start is None:
            return DASH
        return self.start.strftime("%Y-%m-%d (%a)")
