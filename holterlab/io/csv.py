"""CSV (delimited text) recordings: one column per lead, an optional time column.

Reading
-------
A CSV recording is a text table:

* optional comment lines starting with ``#``; at the top of the file they may carry
  ``key = value`` or ``key: value`` settings: ``# fs = 360`` (also ``sampling_rate``,
  ``sample_rate``, ``frequency``; a trailing ``Hz`` is allowed), ``# units: uV`` (``uV``,
  ``mV`` or ``V``), ``# start_time: 2026-01-05T08:30:00`` (ISO-8601) and
  ``# leads: MLII, V5``;
* an optional header row with the column names (detected when a cell of the first row is not a
  number); a last comment line with one name per column (``np.savetxt`` style) also works;
* data rows, one per sample, all with the same number of cells; the delimiter (comma,
  semicolon, tab or whitespace) is sniffed, and a decimal comma is accepted with ``;``, tab or
  whitespace delimiters;
* an optional time column: a column named ``time``, ``t``, ``s``, ``sec``, ``seconds``,
  ``timestamp``, ``elapsed`` ... (seconds), ``ms``, ``time_ms``, ``milliseconds`` ...
  (milliseconds), ``sample``, ``index``, ``n`` ... (sample numbers: carry no rate), or
  ISO date-times in a column named like a time; without a header row, a strictly increasing,
  regular first column of a table with two or more columns is taken as time in seconds.
  ``time_column=`` forces the choice (``False`` for none, a column name or index).

The sampling rate comes from, in this order, the ``fs=`` argument, a ``# fs`` comment or the
time column (``(n - 1) / (t_last - t_first)``; the steps must be regular within 10 % plus the
printing resolution of the times, else :class:`~holterlab.errors.CSVError`). Without any of
them reading fails and asks for ``fs=`` (CLI: ``--fs``). Values are mV unless ``units=`` or a
``# units`` comment says ``uV`` or ``V``.

Broken tables raise :class:`~holterlab.errors.CSVError` naming the line (and column):
non-numeric cells, rows with a different number of cells, empty or NaN cells, columns without
numbers; files without data rows raise :class:`~holterlab.errors.EmptyFileError`.

Cache
-----
Text parsing is the slow part, so the first read of a file stores the parsed table as a
float32 ``.npy`` (samples x columns, memory-mappable) plus a small JSON description in the
cache folder: ``$HOLTERLAB_CACHE_DIR/csv`` if that variable is set, else
``~/.cache/holterlab/csv``. Entries are keyed by the CSV's absolute path, size, modification
time and a hash of its first and last 64 KiB (and the parsing layout), written atomically, and
replaced when the file changes. Later reads memory-map the cache and open instantly. If the
cache cannot be written, the table is kept in memory (logged at INFO level). ``cache=False``
disables it; ``cache=path`` uses another folder.

Writing
-------
:func:`write` writes ``# holterlab CSV``, ``# fs = ...``, ``# units: mV`` (and
``# start_time: ...``) comment lines, a header row (``time`` then the lead names) and one row
per sample, chunk by chunk and atomically. Values are mV rounded to ``decimals`` places and
printed in their shortest form, so reading back differs by at most ``0.5 * 10**-decimals`` mV.
By default ``decimals`` is ``floor(log10(gain)) + 2`` when the recording stores integers with
ADC gain ``gain`` (e.g. 4 for 200 ADC units/mV), so that re-quantising the values read back,
``round(mV * gain + zero)``, gives the stored integers exactly; otherwise 6 (float32 precision
for mV-range values). The time column (``time_column=True``) is in seconds, rounded to
``max(3, ceil(log10(fs)) + 3)`` decimals.
"""

from __future__ import annotations

import contextlib
import csv as _csv
import datetime as _dt
import hashlib
import json
import logging
import math
import os
import re
import struct
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from holterlab._atomic import atomic_path, atomic_write_text
from holterlab.errors import (
    CSVError,
    EmptyFileError,
    HeaderError,
    HolterlabError,
    ParameterError,
)
from holterlab.recording import Recording

__all__ = ["FORMAT", "EXTENSIONS", "sniff", "read", "write", "cache_dir", "UNITS"]

log = logging.getLogger(__name__)

FORMAT = "csv"
EXTENSIONS = (".csv", ".tsv", ".txt")

#: Unit name -> factor to mV.
UNITS: dict[str, float] = {
    "mv": 1.0,
    "millivolt": 1.0,
    "millivolts": 1.0,
    "uv": 1e-3,
    "µv": 1e-3,
    "μv": 1e-3,
    "microvolt": 1e-3,
    "microvolts": 1e-3,
    "v": 1e3,
    "volt": 1e3,
    "volts": 1e3,
}

_TIME_SECONDS = {
    "time",
    "t",
    "s",
    "sec",
    "secs",
    "second",
    "seconds",
    "times",
    "timesec",
    "timesecs",
    "timeseconds",
    "timeins",
    "elapsed",
    "elapsedtime",
    "elapsedtimes",
    "timestamp",
    "timestamps",
    "datetime",
    "date",
    "ts",
}
_TIME_MS = {
    "ms",
    "msec",
    "msecs",
    "millis",
    "millisecond",
    "milliseconds",
    "timems",
    "timemsec",
    "timemilliseconds",
    "elapsedms",
    "tms",
    "timestampms",
}
_TIME_SAMPLES = {
    "sample",
    "samples",
    "sampleno",
    "samplenr",
    "samplenum",
    "samplenumber",
    "sampleindex",
    "index",
    "idx",
    "n",
    "nr",
    "no",
}
_FS_KEYS = {
    "fs",
    "sf",
    "sampling_rate",
    "sample_rate",
    "samplerate",
    "samplingrate",
    "sampling_frequency",
    "sample_frequency",
    "frequency",
    "rate",
    "hz",
}
_UNIT_KEYS = {"units", "unit", "signal_units", "signal_unit"}
_START_KEYS = {"start_time", "start", "start_datetime", "recording_start", "starttime"}
_LEAD_KEYS = {"leads", "lead", "lead_names", "channels", "signals"}

_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_HEAD_BYTES = 256 * 1024
_SAMPLE_ROWS = 200
_CHUNK_ROWS = 500_000
_WRITE_CHUNK_VALUES = 1_000_000
_FLOAT32_MAX = float(np.finfo(np.float32).max)
_CACHE_VERSION = 1
_NPY_HEADER = 128


# ------------------------------------------------------------------------------- layout
@dataclass(frozen=True)
class _Layout:
    """How to parse one CSV file (decided from its first lines)."""

    sep: str
    decimal: str
    encoding: str
    skiprows: int  # physical lines before the first data row (comments, blanks, header)
    ncols: int  # cells per data row
    signal_cols: tuple[int, ...]
    names: tuple[str, ...]  # one per signal column
    time_col: int | None
    time_kind: str | None  # seconds, ms, samples, datetime
    time_quantum: float  # printing resolution of the time column (its unit)
    units: tuple[str, ...] = ()  # per signal column, from a units row under the header
    settings: dict[str, str] = field(default_factory=dict, compare=False)

    def key(self) -> dict[str, Any]:
        d = asdict(self)
        for name in ("settings", "names", "units"):
            d.pop(name)
        return d


def _decode_head(path: Path) -> tuple[str, str, bool]:
    """Return (text of the first bytes, encoding, whether the whole file was read)."""
    with open(path, "rb") as fh:
        raw = fh.read(_HEAD_BYTES + 1)
    complete = len(raw) <= _HEAD_BYTES
    raw = raw[:_HEAD_BYTES]
    if b"\x00" in raw:
        raise CSVError(f"{path}: the file holds NUL bytes; it is binary, not CSV text")
    try:
        text = raw.decode("utf-8-sig")
        encoding = "utf-8-sig"
    except UnicodeDecodeError as exc:
        if not complete and exc.start >= len(raw) - 4:  # a character cut at the edge
            text = raw[: exc.start].decode("utf-8-sig")
            encoding = "utf-8-sig"
        else:
            text = raw.decode("latin-1")
            encoding = "latin-1"
    if not complete:
        # drop a partial last line
        cut = text.rfind("\n")
        text = text[: cut + 1] if cut >= 0 else text
    return text, encoding, complete


def _norm_key(key: str) -> str:
    return re.sub(r"[\s\-]+", "_", key.strip().lower())


def _parse_setting(line: str) -> tuple[str, str] | None:
    body = line.lstrip()[1:].strip()
    m = re.match(r"^([A-Za-z][A-Za-z0-9 _\-]*?)\s*[:=]\s*(.*)$", body)
    if not m:
        return None
    return _norm_key(m.group(1)), m.group(2).strip()


def _split(line: str, sep: str) -> list[str]:
    if sep == r"\s+":
        return line.split()
    try:
        return next(_csv.reader([line], delimiter=sep))
    except (_csv.Error, StopIteration) as exc:
        raise CSVError(f"cannot split a line into cells ({exc})") from None


def _strip_inline_comment(line: str) -> str:
    i = line.find("#")
    return line if i < 0 else line[:i]


def _to_float(cell: str, decimal: str) -> float:
    s = _unquote(cell)
    if decimal != ".":
        s = s.replace(decimal, ".")
    return float(s)


def _is_number(cell: str, decimal: str = ".") -> bool:
    try:
        _to_float(cell, decimal)
    except ValueError:
        return False
    return True


def _time_kind_of(name: str) -> str | None:
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    if key in _TIME_SECONDS:
        return "seconds"
    if key in _TIME_MS:
        return "ms"
    if key in _TIME_SAMPLES:
        return "samples"
    return None


def _sniff_sep(lines: list[str]) -> str:
    for sep in ("\t", ";", ","):
        counts = {ln.count(sep) for ln in lines}
        if len(counts) == 1 and counts.pop() > 0:
            return sep
    if all(len(ln.split()) > 1 for ln in lines) and len({len(ln.split()) for ln in lines}) == 1:
        return r"\s+"
    # one column, or ragged: take the most frequent candidate to report rows precisely
    best = max(("\t", ";", ","), key=lambda s: sum(ln.count(s) for ln in lines))
    if sum(ln.count(best) for ln in lines) > 0:
        return best
    if any(len(ln.split()) > 1 for ln in lines):
        return r"\s+"
    return ","


def _decimals_of(cells: Sequence[str]) -> int:
    best = 0
    for c in cells:
        c = _unquote(c).lower()
        if "e" in c:
            return 9
        if "." in c:
            best = max(best, len(c.split(".", 1)[1]))
    return best


_ELAPSED = re.compile(r"^(?:(\d+):)?(\d+):(\d+(?:\.\d*)?)$")


def _unquote(cell: str) -> str:
    return cell.strip().strip("\"'").strip()


def _looks_elapsed(cell: str) -> bool:
    """``[h:]m:ss.fff`` elapsed time, as in PhysioNet's CSV exports."""
    return _ELAPSED.match(_unquote(cell)) is not None


def _looks_datetime(cell: str) -> bool:
    import pandas as pd

    s = _unquote(cell)
    if not re.match(r"^\d{4}-\d{2}-\d{2}", s):
        return False
    try:
        pd.Timestamp(s)
    except Exception:  # pandas raises several kinds for odd text
        return False
    return True


def _sniff_layout(
    path: Path,
    *,
    time_column: bool | int | str | None,
    leads: Sequence[str] | str | None,
) -> _Layout:
    text, encoding, _ = _decode_head(path)
    lines = _LINE_BREAK.split(text)
    settings: dict[str, str] = {}
    top_comments: list[str] = []
    data_idx: list[int] = []  # indexes into lines of non-comment, non-blank lines
    in_top = True
    for i, line in enumerate(lines):
        s = line.strip()
        if not s:
            continue
        if s.startswith("#"):
            if in_top:
                top_comments.append(s)
                kv = _parse_setting(s)
                if kv is not None:
                    settings.setdefault(kv[0], kv[1])
            continue
        in_top = False
        data_idx.append(i)
        if len(data_idx) > _SAMPLE_ROWS + 1:
            break
    if not data_idx:
        raise EmptyFileError(f"{path}: the CSV file has no data rows (only comments or blanks)")

    rows = [_strip_inline_comment(lines[i]).strip() for i in data_idx]
    sep = _sniff_sep(rows[1:] if len(rows) > 1 else rows)
    first = _split(rows[0], sep)
    decimal = "."
    body_cells = [c for r in rows[1:] for c in _split(r, sep)]
    if sep != "," and any("," in c for c in body_cells) and not any("." in c for c in body_cells):
        decimal = ","

    def is_text(cell: str) -> bool:
        return not _is_number(cell, decimal) and not _looks_datetime(cell)

    def all_text(cells: list[str]) -> bool:
        filled = [c for c in cells if c.strip()]
        return bool(filled) and all(is_text(c) and not _looks_elapsed(c) for c in filled)

    header: list[str] | None = None
    units_row: list[str] | None = None
    rows_data = rows
    header_line: int | None = None
    if all_text(first):
        header = [_unquote(c) for c in first]
        rows_data = rows[1:]
        header_line = data_idx[0]
        # a units row under the header (PhysioNet exports: 'hh:mm:ss.mmm','mV','mV')
        if rows_data:
            second = _split(rows_data[0], sep)
            known = [_unquote(c).lower().replace(" ", "") in UNITS for c in second]
            if all_text(second) and sum(known) >= max(1, len(second) - 1):
                units_row = [_unquote(c) for c in second]
                rows_data = rows_data[1:]
                header_line = data_idx[1]
        if not rows_data:
            raise EmptyFileError(f"{path}: the CSV file has a header row but no data rows")
    split_rows = [_split(r, sep) for r in rows_data]
    ncols = len(split_rows[0])

    # drop a trailing empty column (rows ending in a delimiter)
    used = list(range(ncols))
    if ncols > 1 and all(len(r) == ncols and not r[-1].strip() for r in split_rows):
        if header is None or len(header) < ncols or not header[ncols - 1]:
            used = used[:-1]
    if header is None and top_comments:
        last = top_comments[-1].lstrip("#").strip()
        cand = _split(last, sep) if last else []
        if (
            _parse_setting(top_comments[-1]) is None
            and len(cand) in (ncols, len(used))
            and not any(_is_number(c, decimal) for c in cand)
        ):
            header = [_unquote(c) for c in cand]

    if leads is None and "leads" not in settings:
        for k in _LEAD_KEYS:
            if k in settings:
                settings["leads"] = settings[k]
                break
    given = leads if leads is not None else settings.get("leads")
    if isinstance(given, str):
        given = [x.strip() for x in given.split(",")]
    n_given = -1 if given is None else len(given)

    # time column
    time_col: int | None = None
    kind: str | None = None
    if time_column is True:
        time_col = 0
    elif isinstance(time_column, (int, np.integer)) and not isinstance(time_column, bool):
        time_col = int(time_column)
        if not 0 <= time_col < len(used):
            raise ParameterError(
                f"time_column={time_column} is out of range: the table has {len(used)} columns"
            )
        time_col = used[time_col]
    elif isinstance(time_column, str):
        if header is None or time_column not in header:
            raise ParameterError(
                f"time_column={time_column!r}: the CSV has no column of that name"
                + ("" if header is None else f" (columns: {', '.join(header)})")
            )
        time_col = header.index(time_column)
    elif time_column is None:
        if header is not None:
            for j in used:
                if j < len(header) and _time_kind_of(header[j]) is not None:
                    time_col = j
                    break
        elif len(used) >= 2 and n_given != len(used):
            # no header: a strictly increasing, regular first column is time (or a counter)
            col = [r[0] for r in split_rows if len(r) == ncols]
            try:
                t = np.array([_to_float(c, decimal) for c in col])
            except ValueError:
                t = np.array([])
            if t.size >= 3:
                d = np.diff(t)
                step = float(np.median(d))
                if np.all(d > 0) and np.all(np.abs(d - step) <= 0.1 * step):
                    counter = bool(np.all(d == 1) and np.all(t == np.round(t)))
                    time_col, kind = 0, ("samples" if counter else "seconds")
    elif time_column is not False:
        raise ParameterError(
            f"time_column must be None, True, False, a column name or index; got {time_column!r}"
        )
    quantum = 0.0
    if time_col is not None:
        cells = [r[time_col] for r in split_rows if len(r) > time_col]
        if kind is None:
            name = header[time_col] if header is not None and time_col < len(header) else ""
            kind = _time_kind_of(name) or "seconds"
        if cells and not _is_number(cells[0], decimal):
            if _looks_elapsed(cells[0]):
                kind = "elapsed"
            elif _looks_datetime(cells[0]):
                kind = "datetime"
        if kind in ("seconds", "ms", "elapsed"):
            quantum = 10.0 ** -_decimals_of(cells)
    signal_cols = tuple(j for j in used if j != time_col)
    if not signal_cols:
        raise CSVError(f"{path}: the CSV has a time column but no signal columns")

    # lead names: leads= > '# leads' comment > header > ECG1, ECG2 ...
    names: list[str]
    if given is not None:
        names = [str(x) for x in given]
        if len(names) != len(signal_cols):
            err = ParameterError if leads is not None else HeaderError
            raise err(
                f"{path}: {len(names)} lead names given for {len(signal_cols)} signal columns"
            )
    elif header is not None:
        names = [
            header[j] if j < len(header) and header[j] else f"ECG{k + 1}"
            for k, j in enumerate(signal_cols)
        ]
    else:
        names = [f"ECG{k + 1}" for k in range(len(signal_cols))]

    units: tuple[str, ...] = ()
    if units_row is not None:
        units = tuple(units_row[j] if j < len(units_row) else "" for j in signal_cols)
    skiprows = (header_line + 1) if header_line is not None else data_idx[0]
    return _Layout(
        sep=sep,
        decimal=decimal,
        encoding=encoding,
        skiprows=skiprows,
        ncols=ncols,
        signal_cols=signal_cols,
        names=tuple(str(n) for n in names),
        time_col=time_col,
        time_kind=kind,
        time_quantum=quantum,
        units=units,
        settings=settings,
    )


# ------------------------------------------------------------------------------- parsing
@dataclass
class _TimeStats:
    """Streaming summary of the time column (in seconds)."""

    n: int = 0
    first: float = math.nan
    last: float = math.nan
    min_step: float = math.inf
    max_step: float = -math.inf
    max_step_at: float = math.nan
    start: str | None = None  # ISO text of the first timestamp (datetime columns)
    origin_ns: int | None = None  # the first timestamp in ns (datetime columns)

    def update(self, t: np.ndarray) -> None:
        if t.size == 0:
            return
        if self.n == 0:
            self.first = float(t[0])
        else:
            t = np.concatenate([[self.last], t])
        if t.size > 1:
            d = np.diff(t)
            lo, hi = float(d.min()), float(d.max())
            if lo < self.min_step:
                self.min_step = lo
            if hi > self.max_step:
                self.max_step = hi
                self.max_step_at = float(t[int(np.argmax(d))])
        self.last = float(t[-1])
        self.n += t.size - (0 if self.n == 0 else 1)


def _time_seconds(values: Any, kind: str, stats: _TimeStats) -> np.ndarray:
    import pandas as pd

    if kind == "datetime":
        ts = pd.to_datetime(pd.Series(values), format="ISO8601")
        if len(ts) == 0:
            return np.zeros(0)
        if stats.start is None:
            stats.start = ts.iloc[0].to_pydatetime(warn=False).isoformat()
        if ts.dt.tz is not None:
            ts = ts.dt.tz_convert("UTC").dt.tz_localize(None)
        ns = ts.to_numpy(dtype="datetime64[ns]").astype(np.int64)
        if stats.origin_ns is None:
            stats.origin_ns = int(ns[0])
        return (ns - stats.origin_ns) / 1e9
    if kind == "elapsed":
        parts = pd.Series(values).astype(str).map(_unquote).str.extract(_ELAPSED)
        if parts[[1, 2]].isna().any().any():
            raise ValueError("an elapsed time is not [h:]m:ss.fff")
        nums = parts.astype(float).fillna(0.0).to_numpy()
        return nums[:, 0] * 3600 + nums[:, 1] * 60 + nums[:, 2]
    arr = np.asarray(values, dtype=np.float64)
    return arr / 1000.0 if kind == "ms" else arr


def _diagnose(path: Path, layout: _Layout, fallback: str) -> HolterlabError:
    """Find the first bad line of a CSV (slow path, only on error) and describe it."""
    names = {j: n for j, n in zip(layout.signal_cols, layout.names, strict=False)}
    if layout.time_col is not None:
        names[layout.time_col] = "time"
    used = set(layout.signal_cols) | ({layout.time_col} if layout.time_col is not None else set())
    with open(path, encoding=layout.encoding, errors="replace", newline="") as fh:
        for lineno, line in enumerate(fh, start=1):
            if lineno <= layout.skiprows:
                continue
            body = _strip_inline_comment(line).strip()
            if not body:
                continue
            try:
                cells = _split(body, layout.sep)
            except CSVError as exc:
                return CSVError(f"{path}: line {lineno}: {exc}")
            if len(cells) != layout.ncols:
                return CSVError(
                    f"{path}: line {lineno} has {len(cells)} cells but the table has "
                    f"{layout.ncols} columns (ragged rows); fix or remove that line"
                )
            for j in sorted(used):
                cell = cells[j]
                col = f"column {j + 1} ({names[j]!r})"
                if not cell.strip():
                    return CSVError(f"{path}: line {lineno}, {col} is empty")
                if j == layout.time_col and layout.time_kind in ("datetime", "elapsed"):
                    continue
                try:
                    value = _to_float(cell, layout.decimal)
                except ValueError:
                    return CSVError(
                        f"{path}: line {lineno}, {col}: {cell.strip()!r} is not a number"
                    )
                if not math.isfinite(value):
                    return CSVError(
                        f"{path}: line {lineno}, {col} is {cell.strip()!r}; holterlab needs "
                        "finite numbers (fill or cut gaps first)"
                    )
                if j != layout.time_col and abs(value) > _FLOAT32_MAX:
                    return CSVError(
                        f"{path}: line {lineno}, {col}: {cell.strip()!r} is too large for a "
                        "signal value"
                    )
    return CSVError(f"{path}: cannot parse the CSV table ({fallback})")


def _iter_chunks(path: Path, layout: _Layout, stats: _TimeStats) -> Iterator[np.ndarray]:
    """Yield float32 blocks (rows, signal columns) of the raw values; update time stats."""
    import pandas as pd

    dtype: dict[int, Any] = {j: np.float64 for j in range(layout.ncols)}
    if layout.time_col is not None and layout.time_kind in ("datetime", "elapsed"):
        dtype[layout.time_col] = str
    kwargs: dict[str, Any] = {
        "sep": layout.sep,
        "decimal": layout.decimal,
        "header": None,
        "names": list(range(layout.ncols)),
        "skiprows": layout.skiprows,
        "comment": "#",
        "skip_blank_lines": True,
        "engine": "c",
        "encoding": layout.encoding,
        "chunksize": _CHUNK_ROWS,
        "dtype": dtype,
        "na_filter": True,
    }
    if layout.sep == r"\s+":
        kwargs["sep"] = r"\s+"
    cols = list(layout.signal_cols)
    extra = [j for j in range(layout.ncols) if j not in cols and j != layout.time_col]
    try:
        with pd.read_csv(path, **kwargs) as reader:
            for frame in reader:
                values = frame[cols].to_numpy(dtype=np.float64)
                if not np.all(np.abs(values) <= _FLOAT32_MAX):  # also catches NaN
                    raise _BadTable("non-finite or huge values")
                if extra and not frame[extra].isna().all().all():
                    raise _BadTable("cells in a column without a header")
                if layout.time_col is not None and layout.time_kind != "samples":
                    tcol = frame[layout.time_col]
                    if tcol.isna().any():
                        raise _BadTable("empty time cells")
                    try:
                        stats.update(_time_seconds(tcol.to_numpy(), layout.time_kind, stats))
                    except (ValueError, TypeError) as exc:
                        raise CSVError(
                            f"{path}: the time column holds values that are not valid times ({exc})"
                        ) from None
                yield values.astype(np.float32)
    except (ValueError, pd.errors.ParserError, UnicodeDecodeError, _csv.Error) as exc:
        raise _diagnose(path, layout, str(exc)) from None
    except _BadTable as exc:
        raise _diagnose(path, layout, str(exc)) from None


class _BadTable(Exception):
    pass


# ------------------------------------------------------------------------------- cache
def cache_dir(cache: bool | str | os.PathLike[str] | None = None) -> Path | None:
    """The folder for parsed-CSV caches (None if caching is off).

    ``cache`` None or True: ``$HOLTERLAB_CACHE_DIR/csv`` or ``~/.cache/holterlab/csv``;
    False: no cache; a path: that folder.
    """
    if cache is False:
        return None
    if cache is not None and cache is not True:
        return Path(cache)
    root = os.environ.get("HOLTERLAB_CACHE_DIR")
    if root:
        return Path(root) / "csv"
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg else Path.home() / ".cache"
    return base / "holterlab" / "csv"


def _cache_names(path: Path, layout: _Layout) -> tuple[str, str]:
    st = path.stat()
    ident = str(path.resolve())
    path_hash = hashlib.sha256(ident.encode("utf-8")).hexdigest()[:16]
    # the first and last 64 KiB guard against edits within the mtime resolution
    with open(path, "rb") as fh:
        ends = fh.read(65536)
        if st.st_size > 65536:
            fh.seek(max(65536, st.st_size - 65536))
            ends += fh.read(65536)
    key = {
        "v": _CACHE_VERSION,
        "path": ident,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "ends": hashlib.sha256(ends).hexdigest(),
        "layout": layout.key(),
    }
    key_hash = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:16]
    return path_hash, key_hash


def _npy_header(n_rows: int, n_cols: int) -> bytes:
    d = f"{{'descr': '<f4', 'fortran_order': False, 'shape': ({n_rows}, {n_cols}), }}"
    body_len = _NPY_HEADER - 10
    text = d.ljust(body_len - 1) + "\n"
    if len(text) != body_len:
        raise OSError("npy header too long")
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", body_len) + text.encode("latin-1")


def _load_cache(folder: Path, stem: str) -> tuple[np.ndarray, _TimeStats] | None:
    """The cached table and time statistics, or None if absent or unusable."""
    meta_path, npy_path = folder / f"{stem}.json", folder / f"{stem}.npy"
    if not meta_path.is_file() or not npy_path.is_file():
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        stats = _TimeStats(**meta["time"]) if meta.get("time") else _TimeStats()
        shape = (int(meta["n_rows"]), int(meta["n_cols"]))
        if shape[0] == 0:
            return np.zeros(shape, dtype=np.float32), stats
        data = np.load(npy_path, mmap_mode="r")
        if data.shape != shape or data.dtype != np.float32:
            raise ValueError("cache shape mismatch")
        return data, stats
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        log.info("ignoring unusable CSV cache %s (%s)", npy_path, exc)
        return None


def _write_cache(path: Path, layout: _Layout, folder: Path) -> tuple[np.ndarray, _TimeStats]:
    """Parse the table into a cache entry (atomically) and memory-map it."""
    stats = _TimeStats()
    n_cols = len(layout.signal_cols)
    folder.mkdir(parents=True, exist_ok=True)
    path_hash, key_hash = _cache_names(path, layout)
    stem = f"{path_hash}-{key_hash}"
    n_rows = 0
    with atomic_path(folder / f"{stem}.npy") as tmp:
        with open(tmp, "r+b") as fh:
            fh.write(_npy_header(0, n_cols))
            for block in _iter_chunks(path, layout, stats):
                fh.write(np.ascontiguousarray(block, dtype="<f4").tobytes())
                n_rows += block.shape[0]
            fh.seek(0)
            fh.write(_npy_header(n_rows, n_cols))
    meta = {
        "version": _CACHE_VERSION,
        "source": str(path.resolve()),
        "n_rows": n_rows,
        "n_cols": n_cols,
        "time": asdict(stats) if layout.time_col is not None else None,
    }
    atomic_write_text(folder / f"{stem}.json", json.dumps(meta))
    for old in folder.glob(f"{path_hash}-*"):
        if not old.name.startswith(stem):
            with contextlib.suppress(OSError):
                old.unlink()
    loaded = _load_cache(folder, stem)
    if loaded is None:
        raise OSError("the cache entry just written cannot be read back")
    return loaded


def _parse(path: Path, layout: _Layout, folder: Path | None) -> tuple[np.ndarray, _TimeStats, str]:
    """Parse the table into the cache, or into memory if that fails. Returns (table, stats,
    where)."""
    if folder is not None:
        try:
            table, stats = _write_cache(path, layout, folder)
            return table, stats, "cache"
        except OSError as exc:
            log.info("cannot write the CSV cache in %s (%s); parsing into memory", folder, exc)
    stats = _TimeStats()
    chunks = list(_iter_chunks(path, layout, stats))
    n_cols = len(layout.signal_cols)
    if not chunks:
        return np.zeros((0, n_cols), dtype=np.float32), stats, "memory"
    table = np.concatenate(chunks, axis=0) if len(chunks) > 1 else chunks[0]
    return table, stats, "memory"


# ------------------------------------------------------------------------------- source
class _TableSource:
    """A :class:`~holterlab.recording.SignalSource` over a (samples, leads) float32 table."""

    def __init__(self, table: np.ndarray, scale: np.ndarray) -> None:
        self._table: np.ndarray | None = table
        self.n_samples = int(table.shape[0])
        self._scale = np.asarray(scale, dtype=np.float32).reshape(-1)

    def read(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        if self._table is None:
            raise ParameterError("the recording was closed; open it again to read samples")
        idx = list(leads)
        block = self._table[start:stop]
        out = np.array(
            block.T if idx == list(range(block.shape[1])) else block[:, idx].T, dtype=np.float32
        )
        scale = self._scale[idx]
        if np.any(scale != 1.0):
            out *= scale[:, None]
        return out

    def close(self) -> None:
        self._table = None


# ------------------------------------------------------------------------------- reading
def _positive_fs(value: Any, what: str, path: Path, err: type[HolterlabError]) -> float:
    try:
        fs = float(value)
    except (TypeError, ValueError):
        raise err(f"{path}: {what} {value!r} is not a number of Hz") from None
    if not math.isfinite(fs) or fs <= 0:
        raise err(f"{path}: {what} must be a positive number of Hz, got {value!r}")
    return fs


def _units_factor(value: str, path: Path, err: type[HolterlabError]) -> float:
    key = value.strip().lower().replace(" ", "")
    if key not in UNITS:
        raise err(f"{path}: unknown units {value!r}; use uV, mV or V")
    return UNITS[key]


def _fs_from_time(stats: _TimeStats, layout: _Layout, path: Path) -> float | None:
    if stats.n < 2:
        return None
    unit = 1000.0 if layout.time_kind == "ms" else 1.0
    span = stats.last - stats.first
    if stats.min_step <= 0:
        raise CSVError(
            f"{path}: the time column is not strictly increasing (a step of "
            f"{stats.min_step * unit:g}); fix the times or pass time_column=False and fs="
        )
    step = span / (stats.n - 1)
    quantum = layout.time_quantum / unit
    if stats.max_step - stats.min_step > 0.1 * step + 2 * quantum:
        raise CSVError(
            f"{path}: the time column is irregular: steps range from {stats.min_step:g} s to "
            f"{stats.max_step:g} s (largest after t = {stats.max_step_at * unit:g}) around a "
            f"mean of {step:g} s; holterlab needs a constant sampling rate (resample first, or "
            "pass time_column=False and fs=)"
        )
    fs = (stats.n - 1) / span
    tol = max(1e-6, 2 * quantum / span) * fs
    if abs(fs - round(fs)) <= tol:
        return float(round(fs))
    return float(f"{fs:.6g}")


def read(
    path: str | os.PathLike[str],
    *,
    fs: float | None = None,
    units: str | None = None,
    leads: Sequence[str] | str | None = None,
    time_column: bool | int | str | None = None,
    start_time: _dt.datetime | str | None = None,
    cache: bool | str | os.PathLike[str] | None = None,
    **options: Any,
) -> Recording:
    """Read a CSV recording (see the module documentation for the accepted layouts).

    Parameters
    ----------
    path
        The CSV file.
    fs
        Sampling rate in Hz; overrides a ``# fs`` comment and the time column.
    units
        ``"uV"``, ``"mV"`` (default) or ``"V"``; overrides a ``# units`` comment.
    leads
        Lead names for the signal columns (list, or comma-separated text).
    time_column
        None: detect; False: there is none; True: the first column; a column name or index.
    start_time
        Recording start (datetime or ISO-8601 text); overrides a ``# start_time`` comment.
    cache
        None/True: cache the parsed table in the default folder; False: no cache; a path:
        cache folder.

    Raises
    ------
    ParameterError
        No sampling rate anywhere (pass ``fs=``), or an invalid argument.
    CSVError
        Non-numeric, empty, NaN or ragged cells (the message names the line and column), an
        irregular time column.
    EmptyFileError
        No data rows.
    """
    p = Path(path)
    if options:
        log.debug("csv.read ignores options %s", sorted(options))
    if p.stat().st_size == 0:
        raise EmptyFileError(f"{p}: the file is empty")
    try:
        layout = _sniff_layout(p, time_column=time_column, leads=leads)
    except CSVError as exc:
        if str(p) in str(exc):
            raise
        raise CSVError(f"{p}: {exc}") from None
    settings = layout.settings

    fs_comment = next((settings[k] for k in _FS_KEYS if k in settings), None)
    fs_given = fs is not None
    if fs is not None:
        fs = _positive_fs(fs, "fs", p, ParameterError)
    elif fs_comment is not None:
        m = re.match(r"^\s*([-+0-9.eE]+)", fs_comment)
        fs = _positive_fs(m.group(1) if m else fs_comment, "the '# fs' comment", p, HeaderError)
    elif layout.time_col is None or layout.time_kind == "samples":
        raise ParameterError(
            f"{p}: the sampling rate is unknown: the CSV has no time column and no "
            "'# fs = ...' comment; pass fs= (command line: --fs)"
        )

    unit_text = (
        units
        if units is not None
        else next((settings[k] for k in _UNIT_KEYS if k in settings), None)
    )
    scale = np.ones(len(layout.signal_cols))
    if units is not None or (unit_text is not None and not layout.units):
        err = ParameterError if units is not None else HeaderError
        scale[:] = _units_factor(str(unit_text), p, err)
    elif layout.units:
        for k, u in enumerate(layout.units):
            if u:
                scale[k] = _units_factor(u, p, HeaderError)
        unit_text = ",".join(layout.units)

    start: _dt.datetime | None = None
    start_text = (
        start_time
        if start_time is not None
        else next((settings[k] for k in _START_KEYS if k in settings), None)
    )
    if isinstance(start_text, _dt.datetime):
        start = start_text
    elif start_text is not None:
        from holterlab.io.aiecg import parse_start_time

        start = parse_start_time(start_text, p)

    folder = cache_dir(cache)
    loaded = None
    if folder is not None:
        try:
            path_hash, key_hash = _cache_names(p, layout)
            loaded = _load_cache(folder, f"{path_hash}-{key_hash}")
        except OSError:
            loaded = None
    if loaded is not None:
        table, stats = loaded
        where = "cache"
    else:
        table, stats, where = _parse(p, layout, folder)
    if table.shape[0] == 0:
        raise EmptyFileError(f"{p}: the CSV file has no data rows")

    metadata: dict[str, Any] = {"csv": {"delimiter": layout.sep, "storage": where}}
    if layout.time_col is not None and layout.time_kind != "samples":
        fs_time = _fs_from_time(stats, layout, p)
        if fs is None:
            if fs_time is None:
                raise ParameterError(
                    f"{p}: one sample is not enough to tell the sampling rate; pass fs="
                )
            fs = fs_time
        elif fs_time is not None and abs(fs_time - fs) > 0.01 * fs:
            if not fs_given:
                raise HeaderError(
                    f"{p}: the '# fs' comment says {fs:g} Hz but the time column implies "
                    f"{fs_time:g} Hz; pass fs= to choose"
                )
            log.warning(
                "%s: the time column implies %g Hz but fs=%g was given; using %g Hz",
                p,
                fs_time,
                fs,
                fs,
            )
        if stats.n:
            if layout.time_kind == "datetime":
                if start is None and stats.start is not None:
                    start = _dt.datetime.fromisoformat(stats.start)
            elif stats.first != 0:
                metadata["time_offset_s"] = stats.first
    if unit_text is not None:
        metadata["csv"]["units"] = unit_text
    assert fs is not None
    return Recording(
        source=_TableSource(table, scale),
        fs=fs,
        leads=list(layout.names),
        start_time=start,
        path=str(p),
        format=FORMAT,
        metadata=metadata,
    )


def sniff(head: bytes) -> bool:
    """True if ``head`` looks like a numeric delimited text table."""
    if not head or b"\x00" in head:
        return False
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:
            return False
        text = head[: exc.start].decode("utf-8-sig")
    split = _LINE_BREAK.split(text)
    lines = [ln.strip() for ln in (split[:-1] if len(split) > 1 else split)]
    rows = [ln for ln in lines if ln and not ln.startswith("#")]
    if not rows:
        return False
    sep = _sniff_sep(rows[1:] if len(rows) > 1 else rows)
    numeric = 0
    for r in rows[1:] if len(rows) > 1 else rows:
        try:
            cells = _split(_strip_inline_comment(r), sep)
        except CSVError:
            return False
        if cells and all(_is_number(c) or _looks_datetime(c) for c in cells if c.strip()):
            numeric += 1
        else:
            return False
    return numeric > 0


# ------------------------------------------------------------------------------- writing
def _default_decimals(recording: Recording) -> int:
    if recording.adc_gain is not None:
        gain = float(np.max(np.abs(recording.adc_gain)))
        if gain > 0 and math.isfinite(gain):
            return max(0, math.floor(math.log10(gain)) + 2)
    return 6


def _format_fs(fs: float) -> str:
    return str(int(fs)) if float(fs).is_integer() else repr(float(fs))


def write(
    recording: Recording,
    path: str | os.PathLike[str],
    *,
    progress: bool = False,
    time_column: bool = True,
    decimals: int | None = None,
    delimiter: str = ",",
    **options: Any,
) -> Path:
    """Write ``recording`` as CSV (mV), chunk by chunk and atomically.

    Parameters
    ----------
    recording
        Any recording.
    path
        Output ``.csv`` file.
    progress
        Show a progress bar (tqdm).
    time_column
        Write a first ``time`` column in seconds.
    decimals
        Decimal places of the mV values (default: exact re-quantisation for integer
        recordings, else 6; see the module documentation).
    delimiter
        ``","`` (default), ``";"`` or ``"\\t"``.

    Returns
    -------
    Path
        The file written.
    """
    from tqdm.auto import tqdm

    p = Path(path)
    if options:
        log.debug("csv.write ignores options %s", sorted(options))
    if delimiter not in (",", ";", "\t"):
        raise ParameterError(f"delimiter must be ',', ';' or a tab, got {delimiter!r}")
    if decimals is None:
        decimals = _default_decimals(recording)
    if not isinstance(decimals, (int, np.integer)) or not 0 <= decimals <= 12:
        raise ParameterError(f"decimals must be an integer from 0 to 12, got {decimals!r}")
    fs = recording.fs
    t_decimals = max(3, math.ceil(math.log10(fs)) + 3) if fs > 1 else 6
    n, n_leads = recording.n_samples, recording.n_leads
    for name in recording.leads:
        if "\n" in name or "\r" in name:
            raise ParameterError(f"lead name {name!r} holds a line break")

    use_digital = recording.adc_gain is not None
    if use_digital:
        probe = recording.get_digital(None, 0, min(n, 1))
        use_digital = probe is not None and np.issubdtype(np.asarray(probe).dtype, np.integer)
    gain = None if recording.adc_gain is None else np.asarray(recording.adc_gain, np.float64)
    zero = (
        np.zeros(n_leads)
        if recording.adc_zero is None
        else np.asarray(recording.adc_zero, dtype=np.float64)
    )

    lines = ["# holterlab CSV", f"# fs = {_format_fs(fs)}", "# units: mV"]
    if recording.start_time is not None:
        lines.append(f"# start_time: {recording.start_time.isoformat()}")
    names = (["time"] if time_column else []) + list(recording.leads)
    step = max(1, _WRITE_CHUNK_VALUES // (n_leads + 1))
    with atomic_path(p) as tmp, open(tmp, "w", encoding="utf-8", newline="") as fh:
        fh.write("\n".join(lines) + "\n")
        _csv.writer(fh, delimiter=delimiter, lineterminator="\n").writerow(names)
        with tqdm(
            total=n, unit="sample", unit_scale=True, disable=not progress, leave=False
        ) as bar:
            for i0 in range(0, n, step):
                i1 = min(n, i0 + step)
                if use_digital:
                    raw = np.asarray(recording.get_digital(None, i0, i1), dtype=np.float64)
                    values = (raw - zero[:, None]) / gain[:, None]  # type: ignore[index]
                else:
                    values = recording.get_samples(None, i0, i1).astype(np.float64)
                if not np.all(np.isfinite(values)):
                    raise ParameterError(
                        "the recording holds NaN or infinite values; CSV readers (holterlab's "
                        "too) reject them: fill or cut the gaps first"
                    )
                cols = np.round(values, decimals).T
                if time_column:
                    t = np.round(np.arange(i0, i1, dtype=np.float64) / fs, t_decimals)
                    cols = np.column_stack([t, cols])
                # repr() prints each rounded float in its shortest exact form
                fmt = delimiter.join(["%r"] * cols.shape[1]) + "\n"
                fh.write("".join([fmt % tuple(row) for row in cols.tolist()]))
                bar.update(i1 - i0)
    return p
