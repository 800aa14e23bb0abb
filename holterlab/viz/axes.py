"""Time axes: seconds from the recording start shown as clock time (or elapsed time)."""

from __future__ import annotations

import datetime as _dt
from typing import Any

__all__ = ["clock_offset_s", "format_clock", "clock_formatter"]


def clock_offset_s(start_time: _dt.datetime | None) -> float | None:
    """Seconds after midnight of the recording start, or None when the start is unknown."""
    if start_time is None:
        return None
    return float(start_time.hour * 3600 + start_time.minute * 60 + start_time.second)


def format_clock(t_s: float, start_time: _dt.datetime | None = None, *, decimals: int = 0) -> str:
    """``HH:MM:SS`` clock time of ``t_s`` seconds into the recording (``+Nd`` after the first
    day); elapsed ``H:MM:SS`` when the start time is unknown."""
    offset = clock_offset_s(start_time)
    total = float(t_s) + (offset or 0.0)
    days, rest = divmod(total, 86400.0)
    h, rest = divmod(rest, 3600.0)
    m, s = divmod(rest, 60.0)
    sec = f"{s:0{3 + decimals if decimals else 2}.{decimals}f}"
    text = f"{int(h):02d}:{int(m):02d}:{sec}"
    if offset is None:
        text = f"{int(h + 24 * days)}:{int(m):02d}:{sec}"
    elif days >= 1:
        text += f" +{int(days)}d"
    return text


def clock_formatter(start_time: _dt.datetime | None = None) -> Any:
    """A Bokeh tick formatter showing seconds-from-start as clock time."""
    from bokeh.models import CustomJSTickFormatter

    offset = clock_offset_s(start_time)
    code = """
        const total = tick + OFFSET;
        const day = Math.floor(total / 86400);
        let rest = total - 86400 * day;
        const h = Math.floor(rest / 3600); rest -= 3600 * h;
        const m = Math.floor(rest / 60); const s = rest - 60 * m;
        const pad = (v) => String(v).padStart(2, '0');
        let sec = Number.isInteger(Math.round(s * 100) / 100) ? pad(Math.round(s))
                  : s.toFixed(2).padStart(5, '0');
        if (!CLOCK) { return (h + 24 * day) + ':' + pad(m) + ':' + sec; }
        return pad(h) + ':' + pad(m) + ':' + sec + (day > 0 ? ' +' + day + 'd' : '');
    """
    code = code.replace("OFFSET", repr(offset or 0.0)).replace(
        "CLOCK", "true" if offset is not None else "false"
    )
    return CustomJSTickFormatter(code=code)
