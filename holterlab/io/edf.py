"""EDF, EDF+ and BDF(+) recordings.

Reading validates the header in Python first (every field, the file size against the number
of data records), so a broken file gives a :class:`~holterlab.errors.HolterlabError` that
names the problem instead of pyedflib's terse ``OSError``; pyedflib then checks the file as
well and reads the EDF+ annotations. Samples are read lazily: by default straight from the
data records (``engine="direct"``: positional reads of only the records a window needs, with
the decoder of WFDB formats 16/24 and a plain OS file descriptor, so a file can be opened any
number of times and from several threads), or with pyedflib's ``readSignal`` per lead
(``engine="pyedflib"``; pyedflib allows one open handle per file and process, and pyedflib
is closed again right after opening with the direct engine). Both give identical values.
Files cut short can be read with ``repair=True`` and headers with non-ASCII bytes with
``lenient=True``; pyedflib refuses both, so their annotations are then parsed in Python
(:func:`parse_tals`).

Channels: EDF+ annotation channels are never signals. When the signal channels have
different sampling rates, the rate shared by the most ECG-named channels (then by the most
channels, then the highest rate) is kept; the other channels are listed in
``metadata["dropped_channels"]``. Physical dimensions ``uV``/``mV``/``V`` are converted to
mV; other units are kept as stored and noted in ``metadata["unit_notes"]``. The start time
includes the EDF+ sub-second start. EDF+ annotations become :attr:`Recording.annotations`:
a text that is a single MIT code (``N``, ``V``, ``+``, ...) becomes that symbol, a text
starting with ``(`` becomes a rhythm change ``+`` with the text as aux note, anything else a
comment ``"`` with the text as aux note.

Writing (pyedflib) produces EDF+ (or BDF+ for ``.bdf``) data record by data record from
hour-long chunks, with int16 (EDF) or int24 (BDF) digital values. The recording's own
calibration is kept when its values fit (its stored integers are then reproduced exactly);
otherwise the physical range is the data's range. Values are rounded to the nearest digital
step, so the error is at most half a step. When the length is not a whole number of data
records, the last record is padded with the last sample and an EDF+ ``Recording ends``
annotation marks the true end, which :func:`read` honours.
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import re
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from holterlab._atomic import atomic_path
from holterlab.errors import (
    CorruptFileError,
    EmptyFileError,
    FormatError,
    HeaderError,
    ParameterError,
    RecordingNotFoundError,
    TruncatedFileError,
)
from holterlab.io._chunks import chunk_samples, iter_windows, quantise, read_physical64, scan_range
from holterlab.recording import Recording

__all__ = [
    "FORMAT",
    "EXTENSIONS",
    "sniff",
    "read",
    "write",
    "read_edf_annotations",
    "read_edf_events",
    "parse_edf_header",
    "parse_tals",
    "EdfHeader",
    "EdfSignal",
    "PyedflibSource",
]

FORMAT = "edf"
EXTENSIONS = (".edf", ".bdf")

EDF_MAGIC = b"0       "
BDF_MAGIC = b"\xffBIOSEMI"
#: Most signals edflib opens.
MAX_SIGNALS = 4096
#: Start time written when the recording's is unknown (and read back as unknown).
UNKNOWN_START = _dt.datetime(1985, 1, 1)
ANNOTATION_LABELS = ("EDF Annotations", "BDF Annotations")
#: Symbols an EDF+ annotation text maps to when it is exactly one of them.
MIT_CODES = frozenset(
    "N L R B A a J S V r F e j n E / f Q ? [ ! ] x ( ) p t u ` ' ^ | ~ + s T * D = \" @".split()
)
_UNIT_TO_MV = {"mv": 1.0, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "nv": 1e-6, "v": 1e3}
_NUM = re.compile(r"^[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?$")
_ECG_LABEL = re.compile(
    r"(ecg|ekg)|^(lead\s*)?(i|ii|iii|avr|avl|avf|v[1-6]|mlii|ml[1-3]|ch\s*\d+)$", re.IGNORECASE
)
_MONTHS = "JAN FEB MAR APR MAY JUN JUL AUG SEP OCT NOV DEC".split()
_BLOCK = 1 << 22


# ====================================================================== header
@dataclass
class EdfSignal:
    """One signal header of an EDF/BDF file."""

    label: str
    transducer: str
    dimension: str
    physical_min: float
    physical_max: float
    digital_min: int
    digital_max: int
    prefilter: str
    samples_per_record: int
    reserved: str = ""

    @property
    def is_annotation(self) -> bool:
        return self.label.strip() in ANNOTATION_LABELS

    def gain_zero(self) -> tuple[float, float]:
        """ADC gain (stored units per physical unit) and zero: ``phys = (d - zero) / gain``."""
        gain = (self.digital_max - self.digital_min) / (self.physical_max - self.physical_min)
        zero = self.digital_max - self.physical_max * gain
        return gain, zero


@dataclass
class EdfHeader:
    """A validated EDF/BDF header."""

    path: Path
    is_bdf: bool
    patient: str
    recording: str
    start: _dt.datetime | None
    header_bytes: int
    reserved: str
    n_records: int
    record_duration: float
    signals: list[EdfSignal]
    file_size: int
    warnings: list[str] = field(default_factory=list)
    #: The number of data records as the header states it (``n_records`` is what is read).
    n_records_field: int = 0

    @property
    def plus(self) -> bool:
        """EDF+ or BDF+ (the reserved field starts with ``EDF+``/``BDF+``)."""
        return self.reserved.startswith(("EDF+", "BDF+"))

    @property
    def discontinuous(self) -> bool:
        return self.reserved.startswith(("EDF+D", "BDF+D"))

    @property
    def bytes_per_sample(self) -> int:
        return 3 if self.is_bdf else 2

    @property
    def record_bytes(self) -> int:
        return sum(s.samples_per_record for s in self.signals) * self.bytes_per_sample

    @property
    def file_type(self) -> str:
        base = "BDF" if self.is_bdf else "EDF"
        return self.reserved[:5] if self.plus else base

    def signal_fs(self, i: int) -> float:
        return self.signals[i].samples_per_record / self.record_duration


def _field_text(raw: bytes, what: str, where: str, problems: list[str]) -> str:
    bad = [b for b in raw if b < 32 or b > 126]
    if bad:
        problems.append(
            f"{where}: the {what} field holds non-ASCII bytes ({raw.strip()!r}); EDF headers "
            "must be plain ASCII (e.g. write 'uV' for µV)"
        )
    return raw.decode("latin-1").strip()


def _field_number(text: str, what: str, where: str) -> float:
    if not _NUM.match(text):
        raise HeaderError(f"{where}: the {what} field {text!r} is not a number")
    value = float(text)
    if not math.isfinite(value):
        raise HeaderError(f"{where}: the {what} field {text!r} is not a finite number")
    return value


def _field_int(text: str, what: str, where: str) -> int:
    if not re.match(r"^[-+]?\d+$", text):
        raise HeaderError(f"{where}: the {what} field {text!r} is not a whole number")
    return int(text)


def _parse_start(date: str, time: str, recording: str, where: str) -> _dt.datetime:
    m_date = re.match(r"^(\d\d)\.(\d\d)\.(\d\d)$", date)
    if not m_date:
        raise HeaderError(f"{where}: the start date {date!r} is not dd.mm.yy")
    m_time = re.match(r"^(\d\d)\.(\d\d)\.(\d\d)$", time)
    if not m_time:
        raise HeaderError(f"{where}: the start time {time!r} is not hh.mm.ss")
    day, month, yy = (int(x) for x in m_date.groups())
    year = 1900 + yy if yy >= 85 else 2000 + yy
    m_plus = re.match(r"^Startdate (\d\d)-([A-Z]{3})-(\d{4})\b", recording)
    if m_plus and m_plus.group(2) in _MONTHS:
        year = int(m_plus.group(3))  # EDF+ gives the full year
    hh, mm, ss = (int(x) for x in m_time.groups())
    try:
        return _dt.datetime(year, month, day, hh, mm, ss)
    except ValueError:
        raise HeaderError(
            f"{where}: the start date/time {date} {time} is not a valid date and time"
        ) from None


def parse_edf_header(
    path: str | os.PathLike[str], *, repair: bool = False, lenient: bool = False
) -> EdfHeader:
    """Read and validate the header of an EDF/EDF+/BDF/BDF+ file.

    Parameters
    ----------
    repair
        Accept a file holding fewer data records than its header declares (a recording that
        was cut short) and use the complete records it holds.
    lenient
        Accept non-ASCII bytes in text fields (decoded as Latin-1, e.g. ``µV``) instead of
        raising; the problems are listed in ``warnings``.

    Raises
    ------
    EmptyFileError, TruncatedFileError, FormatError, HeaderError
        With a message naming the field (and signal) that is wrong.
    """
    p = Path(path)
    where = str(p)
    try:
        size = p.stat().st_size
        with open(p, "rb") as fh:
            head = fh.read(256)
            if size == 0:
                raise EmptyFileError(f"{p}: the file is empty")
            if head[:8] == BDF_MAGIC:
                is_bdf = True
            elif head[:8] == EDF_MAGIC:
                is_bdf = False
            else:
                raise FormatError(
                    f"{p}: not an EDF or BDF file (it does not start with '0' and 7 spaces, or "
                    "with 0xFF 'BIOSEMI')"
                )
            if len(head) < 256:
                raise TruncatedFileError(
                    f"{p}: the file holds only {size} bytes; an EDF/BDF header needs 256"
                )
            ns_text = head[252:256].decode("latin-1").strip()
            ns = _field_int(ns_text, "number of signals", where)
            if ns < 0 or ns > MAX_SIGNALS:
                raise HeaderError(
                    f"{where}: the number of signals {ns} is not between 0 and {MAX_SIGNALS}"
                )
            rest = fh.read(256 * ns)
    except FileNotFoundError:
        raise RecordingNotFoundError(f"{p}: no such file") from None
    except IsADirectoryError:
        raise FormatError(f"{p} is a folder, not an EDF file") from None
    except OSError as exc:
        raise CorruptFileError(f"{p}: cannot read ({exc.strerror})") from None
    problems: list[str] = []
    patient = _field_text(head[8:88], "patient", where, problems)
    recording = _field_text(head[88:168], "recording", where, problems)
    date = _field_text(head[168:176], "start date", where, problems)
    time = _field_text(head[176:184], "start time", where, problems)
    header_bytes = _field_int(
        _field_text(head[184:192], "header size", where, problems), "header size", where
    )
    reserved = _field_text(head[192:236], "reserved", where, problems)
    n_records = _field_int(
        _field_text(head[236:244], "number of data records", where, problems),
        "number of data records",
        where,
    )
    duration = _field_number(
        _field_text(head[244:252], "data record duration", where, problems),
        "data record duration",
        where,
    )
    _field_text(head[252:256], "number of signals", where, problems)
    if header_bytes != 256 * (ns + 1):
        raise HeaderError(
            f"{where}: the header size field says {header_bytes} bytes, but {ns} signals need "
            f"{256 * (ns + 1)}"
        )
    if size < header_bytes or len(rest) < 256 * ns:
        raise TruncatedFileError(
            f"{where}: the header describes {ns} signals ({header_bytes} bytes) but the file "
            f"holds only {size} bytes"
        )
    start = _parse_start(date, time, recording, where)

    def column(offset: int, width: int) -> list[bytes]:
        base = offset * ns
        return [rest[base + i * width : base + (i + 1) * width] for i in range(ns)]

    widths = [
        ("label", 16),
        ("transducer", 80),
        ("physical dimension", 8),
        ("physical minimum", 8),
        ("physical maximum", 8),
        ("digital minimum", 8),
        ("digital maximum", 8),
        ("prefilter", 80),
        ("samples per data record", 8),
        ("reserved", 32),
    ]
    columns: dict[str, list[str]] = {}
    offset = 0
    labels_raw = column(0, 16)
    for name, width in widths:
        raw = column(offset, width)
        values = []
        for i, item in enumerate(raw):
            label = labels_raw[i].decode("latin-1").strip()
            values.append(_field_text(item, name, f"{where} signal {i + 1} ({label!r})", problems))
        columns[name] = values
        offset += width
    bounds = (-(2**23), 2**23 - 1) if is_bdf else (-32768, 32767)
    signals: list[EdfSignal] = []
    for i in range(ns):
        sw = f"{where} signal {i + 1} ({columns['label'][i]!r})"
        sig = EdfSignal(
            label=columns["label"][i],
            transducer=columns["transducer"][i],
            dimension=columns["physical dimension"][i],
            physical_min=_field_number(columns["physical minimum"][i], "physical minimum", sw),
            physical_max=_field_number(columns["physical maximum"][i], "physical maximum", sw),
            digital_min=_field_int(columns["digital minimum"][i], "digital minimum", sw),
            digital_max=_field_int(columns["digital maximum"][i], "digital maximum", sw),
            prefilter=columns["prefilter"][i],
            samples_per_record=_field_int(
                columns["samples per data record"][i], "samples per data record", sw
            ),
            reserved=columns["reserved"][i],
        )
        if sig.physical_min == sig.physical_max:
            raise HeaderError(f"{sw}: physical minimum and maximum are equal ({sig.physical_min})")
        if sig.digital_min >= sig.digital_max:
            raise HeaderError(
                f"{sw}: digital minimum {sig.digital_min} is not below digital maximum "
                f"{sig.digital_max}"
            )
        if sig.digital_min < bounds[0] or sig.digital_max > bounds[1]:
            raise HeaderError(
                f"{sw}: digital range {sig.digital_min}..{sig.digital_max} exceeds what "
                f"{'BDF' if is_bdf else 'EDF'} stores ({bounds[0]}..{bounds[1]})"
            )
        if sig.samples_per_record < 1:
            raise HeaderError(f"{sw}: samples per data record must be at least 1")
        signals.append(sig)
    if problems and not lenient:
        raise HeaderError(
            problems[0] + (f" (and {len(problems) - 1} more)" if problems[1:] else "")
        )
    header = EdfHeader(
        path=p,
        is_bdf=is_bdf,
        patient=patient,
        recording=recording,
        start=start,
        header_bytes=header_bytes,
        reserved=reserved,
        n_records=n_records,
        record_duration=duration,
        signals=signals,
        file_size=size,
        warnings=problems,
        n_records_field=n_records,
    )
    has_signals = any(not s.is_annotation for s in signals)
    if duration < 0 or (duration == 0 and has_signals):
        raise HeaderError(
            f"{where}: the data record duration {duration:g} s gives no positive sampling rate; "
            "fix the header's duration field"
        )
    record_bytes = header.record_bytes
    if record_bytes == 0:
        raise HeaderError(f"{where}: a data record holds no samples")
    available = (size - header_bytes) // record_bytes
    if n_records == -1:
        header.n_records = available
        header.warnings.append("the number of data records is -1 (unknown); counted from size")
    elif n_records < -1:
        raise HeaderError(f"{where}: negative number of data records {n_records}")
    elif available < n_records:
        if not repair:
            raise TruncatedFileError(
                f"{where}: the header promises {n_records:,} data records "
                f"({header_bytes + n_records * record_bytes:,} bytes) but the file holds "
                f"{available:,} complete ones ({size:,} bytes); the file is truncated. To read "
                "the complete records, pass repair=True (on the command line --repair)"
            )
        header.n_records = available
        header.warnings.append(
            f"truncated: read {available} of the {n_records} data records the header promises"
        )
    elif size > header_bytes + n_records * record_bytes:
        header.warnings.append(
            f"{size - header_bytes - n_records * record_bytes} bytes after the last data record "
            "are ignored"
        )
    return header


def sniff(head: bytes) -> bool:
    """True if ``head`` starts like an EDF or BDF file."""
    return head.startswith(EDF_MAGIC) or head.startswith(BDF_MAGIC)


def _subsecond_start(header: EdfHeader) -> float:
    """Onset of the first data record from its time-keeping TAL (EDF+), in seconds."""
    if not header.plus or header.n_records < 1:
        return 0.0
    offset = header.header_bytes
    for sig in header.signals:
        width = sig.samples_per_record * header.bytes_per_sample
        if sig.is_annotation:
            with open(header.path, "rb") as fh:
                fh.seek(offset)
                tal = fh.read(width)
            m = re.match(rb"^([+-]\d+(?:\.\d+)?)\x14", tal)
            if not m:
                return 0.0
            value = float(m.group(1))
            return value if 0.0 <= value < 1.0 else 0.0
        offset += width
    return 0.0


_TAL_HEAD = re.compile(rb"^([+-]\d+(?:\.\d*)?)(?:\x15(\d+(?:\.\d*)?))?$")


def parse_tals(header: EdfHeader) -> list[tuple[float, float | None, str]]:
    """EDF+ annotations read in Python from the annotation channels of every data record.

    Used where pyedflib cannot read the file (a file cut short and read with ``repair``, or a
    header pyedflib rejects with ``lenient``). Returns ``(onset_s, duration_s or None,
    text)`` with onsets from the start of the recording (the first data record's
    time-keeping onset subtracted, as pyedflib does); time-keeping TALs are skipped.
    """
    if not header.plus or header.n_records < 1:
        return []
    bps = header.bytes_per_sample
    spans = []
    offset = 0
    for sig in header.signals:
        width = sig.samples_per_record * bps
        if sig.is_annotation:
            spans.append((offset, width))
        offset += width
    if not spans:
        return []
    record_bytes = header.record_bytes
    per_block = max(1, (16 << 20) // record_bytes)
    t0 = _subsecond_start(header)
    events: list[tuple[float, float | None, str]] = []
    with open(header.path, "rb") as fh:
        for r0 in range(0, header.n_records, per_block):
            n = min(per_block, header.n_records - r0)
            fh.seek(header.header_bytes + r0 * record_bytes)
            block = fh.read(n * record_bytes)
            for r in range(len(block) // record_bytes):
                base = r * record_bytes
                for a, width in spans:
                    for tal in block[base + a : base + a + width].split(b"\x00"):
                        if not tal:
                            continue
                        parts = tal.split(b"\x14")
                        m = _TAL_HEAD.match(parts[0])
                        if not m:
                            continue
                        onset = float(m.group(1)) - t0
                        duration = float(m.group(2)) if m.group(2) else None
                        for text in parts[1:]:
                            if text:
                                events.append((onset, duration, text.decode("utf-8", "replace")))
    events.sort(key=lambda e: e[0])
    return events


# ====================================================================== pyedflib
def _pyedflib_cannot_open(header: EdfHeader) -> bool:
    """True for files edflib refuses although holterlab reads them (cut short, -1 records)."""
    return header.n_records_field != header.n_records


def _pyedflib_open(header: EdfHeader, *, annotations: bool):
    """Open with pyedflib, translating its errors; returns the reader."""
    import pyedflib

    size_mode = pyedflib.CHECK_FILE_SIZE
    expected = header.header_bytes + header.n_records * header.record_bytes
    if header.file_size > expected:
        size_mode = pyedflib.DO_NOT_CHECK_FILE_SIZE
    mode = pyedflib.READ_ALL_ANNOTATIONS if annotations else pyedflib.DO_NOT_READ_ANNOTATIONS
    try:
        return pyedflib.EdfReader(str(header.path), mode, size_mode)
    except OSError as exc:
        message = str(exc)
        detail = message.split(": ", 1)[1] if message.startswith(str(header.path)) else message
        if "already been opened" in detail:
            raise CorruptFileError(
                f"{header.path}: pyedflib has this file open already (it allows one handle per "
                "file); close the other Recording or use engine='direct'"
            ) from None
        if "to many files" in detail or "too many files" in detail:
            raise CorruptFileError(
                f"{header.path}: pyedflib has too many files open; close some recordings or "
                "use engine='direct'"
            ) from None
        raise CorruptFileError(
            f"{header.path}: pyedflib rejects the file: {detail}. Check the header with an EDF "
            "validator (e.g. EDFbrowser's header editor) or pass lenient=True to read the "
            "signals without pyedflib's checks"
        ) from None


def read_edf_events(
    path: str | os.PathLike[str], *, repair: bool = False
) -> list[tuple[float, float | None, str]]:
    """EDF+ annotations as ``(onset_s, duration_s or None, text)``, onsets from the start.

    Works for annotation-only files (no signal channels) too. ``repair`` as in :func:`read`.
    """
    header = parse_edf_header(path, repair=repair)
    if not header.plus:
        return []
    if _pyedflib_cannot_open(header):
        return parse_tals(header)
    reader = _pyedflib_open(header, annotations=True)
    try:
        onset, duration, text = reader.readAnnotations()
    finally:
        reader.close()
    return [
        (float(o), None if d is None or float(d) < 0 else float(d), str(t))
        for o, d, t in zip(onset, duration, text, strict=True)
    ]


def _events_to_annotations(
    events: Sequence[tuple[float, float | None, str]], fs: float
) -> tuple[Any, int]:
    from holterlab.annotations import Annotations

    samples, symbols, aux = [], [], []
    dropped = 0
    for onset, _duration, text in events:
        s = int(round(onset * fs))
        if s < 0:
            dropped += 1
            continue
        t = text.strip()
        if t in MIT_CODES:
            symbols.append(t)
            aux.append("")
        elif t.startswith("(") and " " not in t:
            symbols.append("+")
            aux.append(t)
        else:
            symbols.append('"')
            aux.append(t)
        samples.append(s)
    return Annotations(np.asarray(samples, dtype=np.int64), symbols, fs, aux), dropped


def read_edf_annotations(path: str | os.PathLike[str], *, fs: float | None = None):
    """EDF+ annotations of a file as :class:`~holterlab.annotations.Annotations`.

    Parameters
    ----------
    fs
        Sampling rate the sample indices refer to; default: the rate of the signals that
        :func:`read` keeps, or 1000 Hz (millisecond resolution) for annotation-only files.
    """
    header = parse_edf_header(path)
    if fs is None:
        rates = [header.signal_fs(i) for i, s in enumerate(header.signals) if not s.is_annotation]
        fs = _choose_channels(header, None)[1] if rates else 1000.0
    if fs <= 0 or not math.isfinite(fs):
        raise ParameterError(f"fs must be a positive number of Hz, got {fs!r}")
    annotations, _ = _events_to_annotations(read_edf_events(path), float(fs))
    return annotations


# ====================================================================== sources
class PyedflibSource:
    """Reads windows with pyedflib's ``readSignal`` (one open handle, guarded by a lock)."""

    def __init__(
        self,
        reader: Any,
        channels: list[int],
        n_samples: int,
        gain: np.ndarray,
        zero: np.ndarray,
        bounds: tuple[int, int],
    ) -> None:
        self._reader = reader
        self._channels = channels
        self.n_samples = int(n_samples)
        self._gain = gain
        self._zero = zero
        self.digital_bounds = bounds
        self._lock = threading.Lock()

    def _digital(self, lead: int, start: int, n: int) -> np.ndarray:
        if self._reader is None:
            raise CorruptFileError("the recording is closed")
        with self._lock:
            data = self._reader.readSignal(self._channels[lead], int(start), int(n), digital=True)
        if data.shape[0] != n:
            raise CorruptFileError(f"pyedflib returned {data.shape[0]} of {n} samples")
        return data

    def read_digital(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        out = np.empty((len(leads), max(0, stop - start)), dtype=np.int32)
        for k, lead in enumerate(leads):
            if stop > start:
                out[k] = self._digital(lead, start, stop - start)
        return out

    def read(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        out = np.empty((len(leads), max(0, stop - start)), dtype=np.float32)
        for k, lead in enumerate(leads):
            for a in range(start, stop, _BLOCK):
                b = min(stop, a + _BLOCK)
                d = self._digital(lead, a, b - a)
                out[k, a - start : b - start] = (d - self._zero[lead]) / self._gain[lead]
        return out

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None


# ====================================================================== reading
def _choose_channels(
    header: EdfHeader, leads: Sequence[int | str] | None
) -> tuple[list[int], float]:
    """Indices of the signal channels to keep and their sampling rate."""
    signal_idx = [i for i, s in enumerate(header.signals) if not s.is_annotation]
    if leads is not None:
        chosen = []
        labels = [header.signals[i].label for i in signal_idx]
        for lead in leads:
            if isinstance(lead, (int, np.integer)):
                if not 0 <= int(lead) < len(signal_idx):
                    raise ParameterError(
                        f"channel index {lead} out of range: the file has {len(signal_idx)} "
                        "signal channels"
                    )
                chosen.append(signal_idx[int(lead)])
            else:
                if str(lead) not in labels:
                    raise ParameterError(
                        f"no channel labelled {lead!r}; the channels are {', '.join(labels)}"
                    )
                chosen.append(signal_idx[labels.index(str(lead))])
        rates = {header.signals[i].samples_per_record for i in chosen}
        if len(rates) > 1:
            raise ParameterError("the chosen channels have different sampling rates")
        return chosen, header.signal_fs(chosen[0])
    groups: dict[int, list[int]] = {}
    for i in signal_idx:
        groups.setdefault(header.signals[i].samples_per_record, []).append(i)

    def score(spr: int) -> tuple[int, int, int]:
        members = groups[spr]
        ecg = sum(bool(_ECG_LABEL.search(header.signals[i].label)) for i in members)
        return ecg, len(members), spr

    spr = max(groups, key=score)
    return groups[spr], header.signal_fs(groups[spr][0])


def read(
    path: str | os.PathLike[str],
    *,
    engine: str = "direct",
    leads: Sequence[int | str] | None = None,
    repair: bool = False,
    lenient: bool = False,
    annotations: bool = True,
    **options: Any,
) -> Recording:
    """Open an EDF/EDF+/BDF/BDF+ file lazily.

    Parameters
    ----------
    engine
        ``"direct"`` (decode data records with positional reads) or ``"pyedflib"``.
    leads
        Signal channels to keep (labels or indices among the signal channels); default: the
        channels sharing the chosen sampling rate (see the module description).
    repair
        Read the complete data records of a file cut short (instead of raising
        :class:`TruncatedFileError`).
    lenient
        Accept non-ASCII header bytes (e.g. ``µV``) and read the signals even if pyedflib
        rejects the file (then without annotations); problems are listed in
        ``metadata["header_warnings"]``. Only with ``engine="direct"``.
    annotations
        Read EDF+ annotations into ``Recording.annotations``.
    """
    if options:
        raise ParameterError(f"unknown EDF read option(s): {', '.join(sorted(options))}")
    if engine not in ("direct", "pyedflib"):
        raise ParameterError(f"engine must be 'direct' or 'pyedflib', got {engine!r}")
    if lenient and engine != "direct":
        raise ParameterError("lenient=True needs engine='direct'")
    p = Path(path)
    header = parse_edf_header(p, repair=repair, lenient=lenient)
    where = str(p)
    if not any(not s.is_annotation for s in header.signals):
        raise FormatError(
            f"{where}: the file has no signal channels"
            + (
                " (it holds EDF+ annotations only); read them with "
                "holterlab.io.edf.read_edf_annotations(path)"
                if header.signals
                else ""
            )
        )
    if header.n_records == 0:
        raise EmptyFileError(f"{where}: the file holds no data records")
    kept, fs = _choose_channels(header, leads)
    dropped = [i for i, s in enumerate(header.signals) if not s.is_annotation and i not in kept]
    metadata: dict[str, Any] = {
        "file_type": header.file_type,
        "patient": header.patient,
        "recording": header.recording,
        "record_duration": header.record_duration,
        "n_records": header.n_records,
        "units": [header.signals[i].dimension for i in kept],
        "transducer": [header.signals[i].transducer for i in kept],
        "prefilter": [header.signals[i].prefilter for i in kept],
    }
    if dropped:
        metadata["dropped_channels"] = [header.signals[i].label for i in dropped]
    if header.warnings:
        metadata["header_warnings"] = list(header.warnings)
    if header.discontinuous:
        metadata["discontinuous"] = True
        warnings.warn(
            f"{where} is EDF+D (discontinuous): holterlab reads its data records as if they "
            "were contiguous",
            stacklevel=2,
        )

    # calibration, in mV where the unit is a voltage
    gain = np.empty(len(kept))
    zero = np.empty(len(kept))
    unit_notes: dict[str, str] = {}
    names = []
    for k, i in enumerate(kept):
        sig = header.signals[i]
        g, z = sig.gain_zero()
        factor = _UNIT_TO_MV.get(sig.dimension.strip().lower())
        if factor is None:
            factor = 1.0
            unit_notes[sig.label] = (
                f"unit {sig.dimension!r} is not a voltage; values kept as stored"
            )
        gain[k], zero[k] = g / factor, z
        names.append(sig.label or f"ch{i + 1}")
    if unit_notes:
        metadata["unit_notes"] = unit_notes
    bounds = (
        min(header.signals[i].digital_min for i in kept),
        max(header.signals[i].digital_max for i in kept),
    )
    spr = header.signals[kept[0]].samples_per_record
    n_samples = header.n_records * spr

    # pyedflib: its own checks, and the annotations
    reader = None
    events: list[tuple[float, float | None, str]] = []
    python_tals = _pyedflib_cannot_open(header)
    if python_tals and engine != "direct":
        raise ParameterError(
            "pyedflib cannot open a file cut short or with an unknown number of data records; "
            "use engine='direct'"
        )
    if not python_tals:
        try:
            reader = _pyedflib_open(header, annotations=annotations and header.plus)
        except CorruptFileError as exc:
            if not lenient:
                raise
            metadata.setdefault("header_warnings", []).append(f"pyedflib: {exc}")
            python_tals = True
    if python_tals and annotations:
        events = parse_tals(header)
    if reader is not None:
        try:
            if annotations and header.plus:
                onset, duration, text = reader.readAnnotations()
                events = [
                    (float(o), None if float(d) < 0 else float(d), str(t))
                    for o, d, t in zip(onset, duration, text, strict=True)
                ]
            n_py = int(reader.getNSamples()[kept[0]])
            if n_py != n_samples:
                raise CorruptFileError(
                    f"{where}: pyedflib sees {n_py} samples per channel, the header {n_samples}"
                )
        except BaseException:
            reader.close()
            raise
        if engine == "direct":
            reader.close()
            reader = None

    # the true end marked by "Recording ends" inside the last (padded) data record
    for j in range(len(events) - 1, -1, -1):
        onset, _d, text = events[j]
        end = int(round(onset * fs))
        if text.strip().lower() == "recording ends" and n_samples - spr < end < n_samples:
            n_samples = end
            del events[j]
            break

    if engine == "pyedflib":
        source: Any = PyedflibSource(reader, kept, n_samples, gain, zero, bounds)
    else:
        from holterlab.io.wfdb import FileLayout, FrameFileSource

        layout = FileLayout(
            path=p,
            fmt=24 if header.is_bdf else 16,
            byte_offset=header.header_bytes,
            frame_size=sum(s.samples_per_record for s in header.signals),
        )
        offsets = np.cumsum([0] + [s.samples_per_record for s in header.signals])
        source = FrameFileSource(
            [layout],
            [(0, int(offsets[i])) for i in kept],
            spr,
            n_samples,
            gain,
            zero,
            [None] * len(kept),
            bounds,
        )
    try:
        start = None
        if header.start is not None and header.start != UNKNOWN_START:
            start = header.start + _dt.timedelta(seconds=_subsecond_start(header))
        ann = None
        if events:
            ann, n_negative = _events_to_annotations(events, fs)
            if n_negative:
                metadata["annotations_before_start"] = n_negative
        rec = Recording(
            source=source,
            fs=fs,
            leads=names,
            start_time=start,
            annotations=ann,
            adc_gain=gain,
            adc_zero=zero,
            path=str(p),
            format=FORMAT,
            metadata=metadata,
        )
    except BaseException:
        source.close()
        raise
    return rec


# ====================================================================== writing
def _edf_number(x: float, direction: str) -> str:
    """``x`` as a decimal of at most 8 characters: ``"nearest"``, or rounded ``"down"``/``"up"``.

    The most decimals that fit are used; raises :class:`ParameterError` if even the integer
    part does not fit.
    """
    from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_EVEN, Decimal

    rounding = {"down": ROUND_FLOOR, "up": ROUND_CEILING, "nearest": ROUND_HALF_EVEN}[direction]
    value = Decimal(float(x))
    for decimals in range(7, -1, -1):
        q = value.quantize(Decimal(1).scaleb(-decimals), rounding=rounding)
        text = f"{q:f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if text in ("-0", ""):
            text = "0"
        if len(text) <= 8:
            return text
    raise ParameterError(f"the value {x!r} does not fit the 8 characters of an EDF header field")


def _edf_calibration(
    rec: Recording, *, bdf: bool, progress: bool, step: int
) -> tuple[list[str], list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Physical min/max strings, digital min/max, and the gain/zero they imply (per lead)."""
    dmin, dmax = (-(2**23), 2**23 - 1) if bdf else (-32768, 32767)
    n = rec.n_leads
    lo, hi = scan_range(rec, step=step, progress=progress)
    own_gain = rec.adc_gain
    own_zero = np.zeros(n) if rec.adc_zero is None else rec.adc_zero
    pmin_s: list[str] = []
    pmax_s: list[str] = []
    candidates = [(dmin, dmax), (-32768, 32767)] + [(-(2**k), 2**k - 1) for k in range(14, 10, -1)]
    dig_lo = np.full(n, dmin)
    dig_hi = np.full(n, dmax)
    for i in range(n):
        chosen = None
        if own_gain is not None and np.isfinite(own_gain[i]) and own_gain[i] > 0:
            # keep the recording's calibration: prefer a digital range whose physical limits
            # are exact 8-character decimals (then the stored integers are reproduced)
            fallback = None
            for c_lo, c_hi in candidates:
                pmin = (c_lo - own_zero[i]) / own_gain[i]
                pmax = (c_hi - own_zero[i]) / own_gain[i]
                try:
                    a, b = _edf_number(pmin, "nearest"), _edf_number(pmax, "nearest")
                except ParameterError:
                    continue
                if not (float(a) <= lo[i] and hi[i] <= float(b)):
                    continue
                if float(a) == pmin and float(b) == pmax:
                    chosen = (a, b, c_lo, c_hi)
                    break
                if fallback is None and (c_lo, c_hi) == (dmin, dmax):
                    fallback = (a, b, c_lo, c_hi)
            chosen = chosen or fallback
        if chosen is None:
            a_val, b_val = lo[i], hi[i]
            if not b_val > a_val:
                a_val, b_val = a_val - 1.0, b_val + 1.0
            a, b = _edf_number(a_val, "down"), _edf_number(b_val, "up")
            if float(a) == float(b):
                b = _edf_number(float(b) + abs(float(b)) * 1e-6 + 1e-6, "up")
            chosen = (a, b, dmin + 1, dmax)  # symmetric: the mid-range value is exact
        pmin_s.append(chosen[0])
        pmax_s.append(chosen[1])
        dig_lo[i], dig_hi[i] = chosen[2], chosen[3]
    pmin = np.array([float(x) for x in pmin_s])
    pmax = np.array([float(x) for x in pmax_s])
    gain = (dig_hi - dig_lo) / (pmax - pmin)
    zero = dig_hi - pmax * gain
    return pmin_s, pmax_s, dig_lo.astype(int), dig_hi.astype(int), gain, zero


def _edf_labels(leads: Sequence[str]) -> list[str]:
    out: list[str] = []
    for i, lead in enumerate(leads):
        text = "".join(c if 32 <= ord(c) <= 126 else "?" for c in str(lead)).strip()[:16]
        text = text or f"ECG{i + 1}"
        base, k = text, 2
        while text in out:
            suffix = f"_{k}"
            text = base[: 16 - len(suffix)] + suffix
            k += 1
        out.append(text)
    return out


def _annotation_text(symbol: str, aux: str) -> str:
    symbol, aux = str(symbol), str(aux).strip()
    if not aux:
        return symbol
    if symbol in ('"', "+"):
        return aux
    return f"{symbol} {aux}"


def write(
    recording: Recording,
    path: str | os.PathLike[str],
    *,
    progress: bool = False,
    file_type: str | None = None,
    annotations: bool = True,
    chunk_seconds: float = 3600.0,
) -> Path:
    """Write a recording as EDF+ (or BDF+), data record by data record, atomically.

    Parameters
    ----------
    recording
        What to write.
    path
        Output file (``.edf`` or ``.bdf``).
    progress
        Show progress bars (a range scan, then the writing).
    file_type
        ``"edf"`` or ``"bdf"``; default from the extension (``.bdf`` -> BDF+, else EDF+).
    annotations
        Write ``recording.annotations`` as EDF+ annotations (text: the symbol, or the aux
        note for comments and rhythm changes; at most 40 characters each).
    chunk_seconds
        Length of the windows read and written at a time.
    """
    import pyedflib
    from pyedflib._extensions._pyedflib import set_starttime_subsecond

    out = Path(path)
    kind = (file_type or ("bdf" if out.suffix.lower() == ".bdf" else "edf")).lower()
    if kind not in ("edf", "bdf"):
        raise ParameterError(f"file_type must be 'edf' or 'bdf', got {file_type!r}")
    bdf = kind == "bdf"
    rec = recording
    if rec.n_samples == 0:
        raise EmptyFileError("cannot write an EDF file without samples")
    pmin_s, pmax_s, dmin, dmax, gain, zero = _edf_calibration(
        rec, bdf=bdf, progress=progress, step=chunk_samples(rec.fs, chunk_seconds)
    )
    labels = _edf_labels(rec.leads)
    headers = [
        {
            "label": labels[i],
            "dimension": "mV",
            "sample_frequency": rec.fs,
            "physical_min": float(pmin_s[i]),
            "physical_max": float(pmax_s[i]),
            "digital_min": int(dmin[i]),
            "digital_max": int(dmax[i]),
            "prefilter": "",
            "transducer": "",
        }
        for i in range(rec.n_leads)
    ]
    ann = rec.annotations if annotations else None
    if ann is not None and ann.fs != rec.fs:
        ann = ann.resampled(rec.fs)

    with atomic_path(out) as tmp:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            writer = pyedflib.EdfWriter(
                str(tmp),
                rec.n_leads,
                pyedflib.FILETYPE_BDFPLUS if bdf else pyedflib.FILETYPE_EDFPLUS,
            )
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                writer.setSignalHeaders(headers)
                start = rec.start_time or UNKNOWN_START
                start_naive = start.replace(tzinfo=None)
                writer.setStartdatetime(start_naive.replace(microsecond=0))
                spr = writer.get_smp_per_record(0)
                record_duration = writer.record_duration
                if abs(spr / record_duration - rec.fs) > 1e-9 * rec.fs:
                    raise ParameterError(
                        f"the sampling rate {rec.fs:g} Hz cannot be stored exactly in EDF"
                    )
                n_records = -(-rec.n_samples // spr)
                padded = n_records * spr != rec.n_samples
                n_ann = (0 if ann is None else len(ann)) + (1 if padded else 0)
                if n_ann:
                    writer.set_number_of_annotation_signals(
                        min(64, max(1, -(-n_ann // n_records) + 1))
                    )
                lost = max(0, n_ann - 64 * n_records)  # edflib stores 64 per data record
                if start_naive.microsecond:
                    # pyedflib scales sub-seconds wrongly; edflib wants units of 100 ns
                    set_starttime_subsecond(writer.handle, start_naive.microsecond * 10)
            if lost:
                warnings.warn(
                    f"{out}: EDF+ holds at most 64 annotations per data record; the last "
                    f"{lost} of {n_ann} annotations are not written",
                    stacklevel=2,
                )
            step = chunk_samples(rec.fs, chunk_seconds, multiple=spr)
            for i0, i1 in iter_windows(rec.n_samples, step, progress=progress, desc="write"):
                x = read_physical64(rec, i0, i1)
                d = quantise(x, gain, zero, dmin, dmax, nan_value=0)
                if np.isnan(x).any():  # EDF has no invalid marker: use the digital minimum
                    d = np.where(np.isnan(x), dmin[:, None], d)
                if d.shape[1] % spr:
                    pad = spr - d.shape[1] % spr
                    d = np.concatenate([d, np.repeat(d[:, -1:], pad, axis=1)], axis=1)
                blocks = d.reshape(rec.n_leads, -1, spr).transpose(1, 0, 2)
                blocks = np.ascontiguousarray(blocks, dtype=np.int32)
                for r in range(blocks.shape[0]):
                    if writer.blockWriteDigitalSamples(blocks[r].reshape(-1)) < 0:
                        raise OSError(f"{out}: pyedflib could not write data record {r}")
            if padded:  # first, so that it is never among annotations edflib drops
                writer.writeAnnotation(rec.n_samples / rec.fs, -1, "Recording ends")
            if ann is not None:
                for s, sym, aux in zip(ann.sample, ann.symbol, ann.aux, strict=True):
                    writer.writeAnnotation(float(s) / rec.fs, -1, _annotation_text(sym, aux)[:40])
        finally:
            writer.close()
        _patch_physical_range(tmp, pmin_s, pmax_s)
    return out


def _patch_physical_range(path: Path, pmin: Sequence[str], pmax: Sequence[str]) -> None:
    """Write the exact physical min/max strings into the header (edflib truncates digits)."""
    with open(path, "r+b") as fh:
        head = fh.read(256)
        ns = int(head[252:256].decode("ascii").strip())
        base = 256 + ns * (16 + 80 + 8)
        for i, text in enumerate(pmin):
            fh.seek(base + 8 * i)
            fh.write(text.ljust(8).encode("ascii"))
        base += 8 * ns
        for i, text in enumerate(pmax):
            fh.seek(base + 8 * i)
            fh.write(text.ljust(8).encode("ascii"))
