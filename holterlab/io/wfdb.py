"""WFDB (MIT format) records: ``NAME.hea`` plus signal files, or a ZIP holding one record.

Reading parses the header once and decodes windows of the signal files on demand. Formats
16, 61, 80, 160, 212, 24 and 32 are decoded directly (positional reads of just the bytes a
window needs, so any window of a multi-day file is served in milliseconds and reading one
lead at a time keeps memory near one lead's size); byte offsets, several signals interleaved
in one file, signals split over several files and several samples per frame are handled.
Other formats (8, 310, 311, FLAC 5xx) are read through ``wfdb.rdrecord``. Multi-segment
records are refused with a :class:`~holterlab.errors.FormatError`.

Physical values are converted to mV from the header's units (``uV``, ``mV``, ``V``; other
units are kept as stored and noted in ``metadata["unit_notes"]``). Samples holding the
format's "invalid" value read as NaN, as in the WFDB library. ``NAME.atr`` beside the header
(or in the ZIP) becomes :attr:`Recording.annotations`.

Writing produces ``NAME.dat`` (format 16, chunk by chunk), ``NAME.atr`` when the recording
has annotations, and ``NAME.hea`` last, each file atomically. A ``.zip`` output path packs the
three files into an archive. The recording's own calibration is kept when its stored integers
fit format 16 (then the integers are copied exactly); otherwise the gain is chosen so that the
signal's range spans 80 % of the int16 range (25 % headroom each side of the data's extremes
relative to its half-range), and the rounding error is at most ``0.5 / gain`` mV.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import shutil
import tempfile
import threading
import warnings
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from holterlab._atomic import atomic_path, atomic_write_text
from holterlab.errors import (
    AnnotationError,
    CorruptFileError,
    EmptyFileError,
    FormatError,
    HeaderError,
    ParameterError,
    RecordingNotFoundError,
    TruncatedFileError,
)
from holterlab.io._chunks import (
    chunk_samples,
    iter_windows,
    quantise,
    read_physical64,
    scan_range,
)
from holterlab.recording import Recording

__all__ = [
    "FORMAT",
    "EXTENSIONS",
    "sniff",
    "read",
    "write",
    "WfdbHeader",
    "SignalSpec",
    "parse_header_text",
    "parse_header_file",
    "signal_file_paths",
    "decode_stream",
    "FileLayout",
    "FrameFileSource",
]

FORMAT = "wfdb"
EXTENSIONS = (".hea", ".zip", ".dat")

#: Formats decoded directly by this module.
DIRECT_FORMATS = frozenset({16, 61, 80, 160, 212, 24, 32})
#: Formats read through ``wfdb.rdrecord``.
LIBRARY_FORMATS = frozenset({8, 310, 311, 508, 516, 524})
#: Formats whose bytes are plain integers numpy reads without conversion.
_NATIVE_DTYPES = {16: np.dtype("<i2"), 61: np.dtype(">i2"), 32: np.dtype("<i4")}
#: Bytes per sample of the byte-aligned formats.
_SAMPLE_BYTES = {16: 2, 61: 2, 160: 2, 80: 1, 24: 3, 32: 4, 8: 1}
#: Digital value marking an invalid sample (read as NaN).
INVALID_VALUE = {
    80: -(2**7),
    508: -(2**7),
    310: -(2**9),
    311: -(2**9),
    212: -(2**11),
    16: -(2**15),
    61: -(2**15),
    160: -(2**15),
    516: -(2**15),
    24: -(2**23),
    524: -(2**23),
    32: -(2**31),
}
#: Range of stored integers per format.
DIGITAL_BOUNDS = {
    8: (-128, 127),
    80: (-128, 127),
    508: (-128, 127),
    310: (-512, 511),
    311: (-512, 511),
    212: (-2048, 2047),
    16: (-32768, 32767),
    61: (-32768, 32767),
    160: (-32768, 32767),
    516: (-32768, 32767),
    24: (-(2**23), 2**23 - 1),
    524: (-(2**23), 2**23 - 1),
    32: (-(2**31), 2**31 - 1),
}
_DEFAULT_ADC_RES = {8: 8, 80: 8, 508: 8, 310: 10, 311: 10, 212: 12, 24: 24, 524: 24, 32: 32}

#: Physical unit (lower case) -> millivolts per unit.
UNIT_TO_MV = {
    "mv": 1.0,
    "uv": 1e-3,
    "µv": 1e-3,
    "μv": 1e-3,
    "microvolt": 1e-3,
    "nv": 1e-6,
    "v": 1e3,
    "volt": 1e3,
    "millivolt": 1.0,
}

_NUM = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_RE_NAME = re.compile(r"^([^/\s]+)(?:/(\d+))?$")
_RE_FS = re.compile(rf"^({_NUM})(?:/({_NUM})(?:\(({_NUM})\))?)?$")
_RE_FMT = re.compile(r"^(\d+)(?:x(\d+))?(?::(\d+))?(?:\+(\d+))?$")
_RE_GAIN = re.compile(rf"^({_NUM})?(?:\((-?\d+)\))?(?:/(.*))?$")
_RE_INT = re.compile(r"^[-+]?\d+$")
_RE_TIME = re.compile(r"^(\d{1,2})(?::(\d{1,2}))?(?::(\d{1,2}))?(?:\.(\d{1,9}))?$")
_RE_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{1,4})$")
_RE_RECORD_NAME = re.compile(r"^[-A-Za-z0-9_]+$")
_TZ_COMMENT = "holterlab start_time"

#: Samples (of all signals in a file) decoded per block when reading long windows; bounds the
#: temporary memory of a long read to a few tens of MB.
_BLOCK_SAMPLES = 1 << 21


# ====================================================================== header
@dataclass
class SignalSpec:
    """One signal line of a WFDB header."""

    file_name: str
    fmt: int
    spf: int = 1
    skew: int = 0
    byte_offset: int = 0
    gain: float = 200.0
    baseline: int = 0
    units: str = "mV"
    adc_res: int = 0
    adc_zero: int = 0
    init_value: int | None = None
    checksum: int | None = None
    block_size: int = 0
    description: str = ""


@dataclass
class WfdbHeader:
    """A parsed WFDB header (single-segment records; segments are only counted)."""

    name: str
    n_sig: int
    fs: float = 250.0
    counter_freq: float | None = None
    base_counter: float | None = None
    n_samples: int | None = None
    base_time: _dt.time | None = None
    base_date: _dt.date | None = None
    signals: list[SignalSpec] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    n_seg: int | None = None

    @property
    def start_time(self) -> _dt.datetime | None:
        """Base date and time combined, or None when either is missing."""
        if self.base_time is None or self.base_date is None:
            return None
        return _dt.datetime.combine(self.base_date, self.base_time)


def _num(token: str, what: str, where: str) -> float:
    if not re.fullmatch(_NUM, token):
        raise HeaderError(f"{where}: {what} {token!r} is not a number")
    value = float(token)
    if not np.isfinite(value):
        raise HeaderError(f"{where}: {what} {token!r} is not a finite number")
    return value


def _int(token: str, what: str, where: str) -> int:
    if not _RE_INT.match(token):
        raise HeaderError(f"{where}: {what} {token!r} is not a whole number")
    return int(token)


def _parse_time(token: str, where: str) -> _dt.time:
    m = _RE_TIME.match(token)
    if not m:
        raise HeaderError(f"{where}: base time {token!r} is not HH:MM:SS")
    parts = [int(x) for x in m.group(1, 2, 3) if x is not None]
    parts = [0] * (3 - len(parts)) + parts  # SS, MM:SS or HH:MM:SS
    frac = m.group(4) or ""
    micro = int((frac + "000000")[:6])
    try:
        return _dt.time(parts[0], parts[1], parts[2], micro)
    except ValueError:
        raise HeaderError(f"{where}: base time {token!r} is not a valid time of day") from None


def _parse_date(token: str, where: str) -> _dt.date:
    m = _RE_DATE.match(token)
    if not m:
        raise HeaderError(f"{where}: base date {token!r} is not DD/MM/YYYY")
    day, month, year = (int(x) for x in m.groups())
    try:
        return _dt.date(year, month, day)
    except ValueError:
        raise HeaderError(f"{where}: base date {token!r} is not a valid date") from None


def _parse_record_line(line: str, where: str) -> WfdbHeader:
    tokens = line.split()
    if len(tokens) < 2:
        raise HeaderError(
            f"{where}: the record line {line.strip()!r} needs at least a record name and a "
            "number of signals"
        )
    m = _RE_NAME.match(tokens[0])
    if not m:
        raise HeaderError(f"{where}: bad record name {tokens[0]!r}")
    name, n_seg = m.group(1), m.group(2)
    n_sig = _int(tokens[1], "number of signals", where)
    if n_sig < 0:
        raise HeaderError(f"{where}: negative number of signals {n_sig}")
    header = WfdbHeader(name=name, n_sig=n_sig, n_seg=None if n_seg is None else int(n_seg))
    if len(tokens) > 2:
        mf = _RE_FS.match(tokens[2])
        if not mf:
            raise HeaderError(f"{where}: sampling frequency {tokens[2]!r} is not a number")
        fs = _num(mf.group(1), "sampling frequency", where)
        if fs <= 0:
            raise HeaderError(
                f"{where}: sampling frequency {tokens[2]!r} must be positive; fix the header's "
                "record line (NAME NSIG FS NSAMP)"
            )
        header.fs = fs
        if mf.group(2):
            header.counter_freq = float(mf.group(2))
        if mf.group(3):
            header.base_counter = float(mf.group(3))
    if len(tokens) > 3:
        n = _int(tokens[3], "number of samples", where)
        if n < 0:
            raise HeaderError(f"{where}: negative number of samples {n}")
        header.n_samples = n
    if len(tokens) > 4:
        header.base_time = _parse_time(tokens[4], where)
    if len(tokens) > 5:
        header.base_date = _parse_date(tokens[5], where)
    return header


def _parse_signal_line(line: str, where: str) -> SignalSpec:
    tokens = line.strip().split(None, 8)
    if len(tokens) < 2:
        raise HeaderError(
            f"{where}: the signal line {line.strip()!r} needs at least a file name and a format"
        )
    file_name = tokens[0]
    mf = _RE_FMT.match(tokens[1])
    if not mf:
        raise HeaderError(f"{where}: signal format {tokens[1]!r} is not FMT[xSPF][:SKEW][+OFFSET]")
    fmt = int(mf.group(1))
    if fmt not in DIGITAL_BOUNDS and fmt != 0:
        raise HeaderError(f"{where}: unknown WFDB signal format {fmt}")
    spec = SignalSpec(file_name=file_name, fmt=fmt)
    spec.spf = int(mf.group(2)) if mf.group(2) else 1
    if spec.spf < 1:
        raise HeaderError(f"{where}: samples per frame must be at least 1")
    spec.skew = int(mf.group(3)) if mf.group(3) else 0
    spec.byte_offset = int(mf.group(4)) if mf.group(4) else 0
    adc_zero_given = False
    baseline: int | None = None
    if len(tokens) > 2:
        mg = _RE_GAIN.match(tokens[2])
        if not mg:
            raise HeaderError(
                f"{where}: ADC gain field {tokens[2]!r} is not GAIN[(BASELINE)][/UNITS]"
            )
        if mg.group(1):
            gain = _num(mg.group(1), "ADC gain", where)
            spec.gain = 200.0 if gain == 0 else gain
        if mg.group(2):
            baseline = int(mg.group(2))
        if mg.group(3):
            spec.units = mg.group(3)
    if len(tokens) > 3:
        spec.adc_res = _int(tokens[3], "ADC resolution", where)
    if len(tokens) > 4:
        spec.adc_zero = _int(tokens[4], "ADC zero", where)
        adc_zero_given = True
    if len(tokens) > 5:
        spec.init_value = _int(tokens[5], "initial value", where)
    if len(tokens) > 6:
        spec.checksum = _int(tokens[6], "checksum", where)
    if len(tokens) > 7:
        spec.block_size = _int(tokens[7], "block size", where)
    if len(tokens) > 8:
        spec.description = tokens[8].strip()
    spec.baseline = baseline if baseline is not None else (spec.adc_zero if adc_zero_given else 0)
    if not spec.adc_res:
        spec.adc_res = _DEFAULT_ADC_RES.get(fmt, 16)
    return spec


def parse_header_text(text: str, source: str = "header") -> WfdbHeader:
    """Parse the text of a WFDB ``.hea`` file.

    Raises
    ------
    HeaderError
        A missing or malformed field (the message names the line), a sampling rate <= 0, or
        fewer signal lines than the record line declares.
    """
    if "\x00" in text:
        raise HeaderError(f"{source}: not a WFDB header (it holds binary data)")
    lines: list[tuple[int, str]] = []
    comments: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if not stripped:
            continue
        if stripped.startswith("#"):
            comments.append(stripped[1:].strip())
            continue
        lines.append((number, raw))
    if not lines:
        raise HeaderError(f"{source}: the header has no record line")
    number, first = lines[0]
    header = _parse_record_line(first, f"{source} line {number}")
    header.comments = comments
    if header.n_seg is not None:
        return header
    if len(lines) - 1 < header.n_sig:
        raise HeaderError(
            f"{source}: the record line declares {header.n_sig} signals but the header "
            f"describes {len(lines) - 1}"
        )
    for number, line in lines[1 : 1 + header.n_sig]:
        header.signals.append(_parse_signal_line(line, f"{source} line {number}"))
    return header


def parse_header_file(path: str | os.PathLike[str]) -> WfdbHeader:
    """Read and parse a ``.hea`` file (see :func:`parse_header_text`)."""
    p = Path(path)
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise RecordingNotFoundError(f"{p}: no such WFDB header") from None
    except OSError as exc:
        raise CorruptFileError(f"{p}: cannot read the header ({exc.strerror})") from None
    if not data.strip():
        raise EmptyFileError(f"{p}: the WFDB header is empty")
    if len(data) > 16 * 1024 * 1024:
        raise HeaderError(f"{p}: a {len(data):,}-byte file is not a WFDB header")
    return parse_header_text(data.decode("latin-1"), str(p))


def _safe_signal_file(name: str, directory: Path, where: str) -> Path:
    norm = name.replace("\\", "/")
    parts = [x for x in norm.split("/") if x not in ("", ".")]
    if norm.startswith("/") or ".." in parts or not parts:
        raise HeaderError(
            f"{where}: signal file name {name!r} must be a file beside the header (no absolute "
            "path, no '..')"
        )
    return directory.joinpath(*parts)


def signal_file_paths(header: WfdbHeader, directory: str | os.PathLike[str]) -> list[Path]:
    """The distinct signal files a header names, resolved against ``directory``."""
    out: list[Path] = []
    for spec in header.signals:
        if spec.file_name in ("~", "-"):
            continue
        path = _safe_signal_file(spec.file_name, Path(directory), header.name)
        if path not in out:
            out.append(path)
    return out


def sniff(head: bytes) -> bool:
    """True if ``head`` looks like the start of a WFDB header."""
    if not head or b"\x00" in head:
        return False
    text = head.decode("latin-1")
    lines = [ln for ln in text.splitlines() if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return False
    try:
        header = _parse_record_line(lines[0], "head")
    except HeaderError:
        return False
    if len(lines) < 2:
        return False
    if header.n_seg is not None:
        return bool(re.match(r"^\s*\S+\s+\d+\s*$", lines[1]))
    try:
        spec = _parse_signal_line(lines[1], "head")
    except HeaderError:
        return False
    return spec.fmt in DIGITAL_BOUNDS and not _looks_numeric(spec.file_name)


def _looks_numeric(token: str) -> bool:
    return bool(re.fullmatch(_NUM, token))


# ====================================================================== decoding
def _bytes_for_samples(fmt: int, n: int) -> int:
    """Bytes that ``n`` consecutive samples occupy in format ``fmt`` (minimum needed)."""
    if fmt == 212:
        return 3 * (n // 2) + (2 if n % 2 else 0)
    if fmt in (310, 311):
        return 4 * (n // 3) + ((n % 3) and (n % 3) + 1)
    return _SAMPLE_BYTES.get(fmt, 2) * n


def _samples_in_bytes(fmt: int, nbytes: int) -> int:
    """Complete samples held by ``nbytes`` bytes of format ``fmt``."""
    if fmt == 212:
        return 2 * (nbytes // 3) + (1 if nbytes % 3 >= 2 else 0)
    if fmt in (310, 311):
        return 3 * (nbytes // 4) + max(0, nbytes % 4 - 1)
    return nbytes // _SAMPLE_BYTES.get(fmt, 2)


def decode_stream(raw: bytes | np.ndarray, fmt: int, first: int, n: int) -> np.ndarray:
    """Decode ``n`` samples of a directly supported format.

    ``raw`` holds the file bytes starting at the byte where sample ``first`` lies (for format
    212, the start of the 3-byte pair holding it, i.e. ``first`` is the offset of the wanted
    sample inside that pair, 0 or 1; for other formats ``first`` must be 0). Missing bytes at
    the end are read as zeros. Returns int32.
    """
    buf = np.frombuffer(raw, dtype=np.uint8) if not isinstance(raw, np.ndarray) else raw
    if fmt == 212:
        total = first + n
        pairs = (total + 1) // 2
        need = 3 * pairs
        if buf.size < need:
            buf = np.concatenate([buf, np.zeros(need - buf.size, dtype=np.uint8)])
        b = buf[:need].reshape(-1, 3).astype(np.int32)
        out = np.empty(2 * pairs, dtype=np.int32)
        out[0::2] = b[:, 0] | ((b[:, 1] & 0x0F) << 8)
        out[1::2] = b[:, 2] | ((b[:, 1] & 0xF0) << 4)
        out = (out ^ 0x800) - 0x800
        return out[first : first + n]
    if first:
        raise ParameterError("only format 212 decodes from inside a byte block")
    size = _SAMPLE_BYTES[fmt]
    need = size * n
    if buf.size < need:
        buf = np.concatenate([buf, np.zeros(need - buf.size, dtype=np.uint8)])
    buf = buf[:need]
    if fmt == 16:
        return buf.view("<i2").astype(np.int32)
    if fmt == 61:
        return buf.view(">i2").astype(np.int32)
    if fmt == 160:
        return buf.view("<u2").astype(np.int32) - 32768
    if fmt == 80:
        return buf.astype(np.int32) - 128
    if fmt == 32:
        return buf.view("<i4").astype(np.int32)
    if fmt == 24:
        b = buf.reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        return (v ^ 0x800000) - 0x800000
    raise FormatError(f"WFDB format {fmt} is not decoded directly")


def _pread(fd: int, n: int, offset: int, lock: threading.Lock) -> bytes:
    """Read up to ``n`` bytes at ``offset`` (fewer only at the end of the file)."""
    chunks = []
    remaining = n
    while remaining > 0:
        step = min(remaining, 1 << 30)
        if hasattr(os, "pread"):
            data = os.pread(fd, step, offset)
        else:  # pragma: no cover - Windows
            with lock:
                os.lseek(fd, offset, os.SEEK_SET)
                data = os.read(fd, step)
        if not data:
            break
        chunks.append(data)
        remaining -= len(data)
        offset += len(data)
    return b"".join(chunks)


@dataclass
class FileLayout:
    """One signal file: signals interleaved frame by frame."""

    path: Path
    fmt: int
    byte_offset: int
    frame_size: int  # samples per frame in this file (sum of spf)
    fd: int = -1


class FrameFileSource:
    """Reads windows of frame-interleaved signal files on demand (formats in DIRECT_FORMATS).

    A file (a :class:`FileLayout`) is a sequence of frames; a frame holds ``spf``
    consecutive samples of each of its signals in turn. WFDB signal files are laid out so,
    and so are EDF/BDF data records (a data record is a frame of format 16 or 24 after the
    header), which is why :mod:`holterlab.io.edf` uses this class too.

    ``leads`` map output lead ``k`` to ``(file index, offset of its first sample in the
    frame)``; all leads share one ``spf``, so output sample ``i`` of a lead lies in frame
    ``i // spf``. Only the bytes of the frames a window needs are read (positional reads, so
    the source is thread-safe); long windows are decoded in blocks of about two million
    samples, so reading one lead of a multi-day file needs little memory beyond the result.
    ``invalid[k]`` is the stored value read as NaN for lead ``k`` (or None).
    """

    def __init__(
        self,
        groups: list[FileLayout],
        leads: list[tuple[int, int]],
        spf: int,
        n_samples: int,
        gain: np.ndarray,
        baseline: np.ndarray,
        invalid: list[int | None],
        bounds: tuple[int, int],
        cleanup: Callable[[], Any] | None = None,
    ) -> None:
        self._groups = groups
        self._leads = leads
        self._spf = spf
        self.n_samples = int(n_samples)
        self._gain = gain
        self._baseline = baseline
        self._invalid = invalid
        self.digital_bounds = bounds
        self._lock = threading.Lock()
        self._cleanup = cleanup
        self._closed = False
        for g in groups:
            g.fd = os.open(g.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))

    # ------------------------------------------------------------------ core
    def _read_group(self, g: FileLayout, f0: int, f1: int) -> np.ndarray:
        """Frames ``[f0, f1)`` of group ``g`` as int32, shape ``(f1 - f0, frame_size)``."""
        s0, s1 = f0 * g.frame_size, f1 * g.frame_size
        n = s1 - s0
        if g.fmt == 212:
            pair0 = s0 // 2
            nbytes = 3 * ((s1 + 1) // 2 - pair0)
            raw = _pread(g.fd, nbytes, g.byte_offset + 3 * pair0, self._lock)
            flat = decode_stream(raw, 212, s0 - 2 * pair0, n)
        else:
            size = _SAMPLE_BYTES[g.fmt]
            raw = _pread(g.fd, size * n, g.byte_offset + size * s0, self._lock)
            native = _NATIVE_DTYPES.get(g.fmt)
            if native is not None and len(raw) == size * n:
                # no conversion of the whole block: callers convert only the columns they take
                return np.frombuffer(raw, dtype=native).reshape(f1 - f0, g.frame_size)
            flat = decode_stream(raw, g.fmt, 0, n)
        return flat.reshape(f1 - f0, g.frame_size)

    def _fill(
        self,
        start: int,
        stop: int,
        leads: Sequence[int],
        out: np.ndarray,
        convert: Callable[[int, np.ndarray], np.ndarray] | None,
    ) -> np.ndarray:
        if self._closed:
            raise CorruptFileError("the recording is closed")
        spf = self._spf
        f0, f1 = start // spf, -(-stop // spf)
        by_group: dict[int, list[tuple[int, int]]] = {}
        for k, lead in enumerate(leads):
            gi, off = self._leads[lead]
            by_group.setdefault(gi, []).append((k, off))
        for gi, items in by_group.items():
            g = self._groups[gi]
            block = max(1, _BLOCK_SAMPLES // g.frame_size)
            for b0 in range(f0, f1, block):
                b1 = min(f1, b0 + block)
                frames = self._read_group(g, b0, b1)
                a, b = max(start, b0 * spf), min(stop, b1 * spf)
                for k, off in items:
                    col = frames[:, off : off + spf].reshape(-1)[a - b0 * spf : b - b0 * spf]
                    lead = leads[k]
                    out[k, a - start : b - start] = col if convert is None else convert(lead, col)
        return out

    def _to_physical(self, lead: int, col: np.ndarray) -> np.ndarray:
        values = col.astype(np.float64)
        values -= self._baseline[lead]
        values /= self._gain[lead]
        bad = self._invalid[lead]
        if bad is not None:
            mask = col == bad
            if mask.any():
                values[mask] = np.nan
        return values

    # ------------------------------------------------------------------ SignalSource
    def read(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        out = np.empty((len(leads), stop - start), dtype=np.float32)
        if stop <= start:
            return out
        return self._fill(start, stop, list(leads), out, self._to_physical)

    def read_digital(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        out = np.empty((len(leads), stop - start), dtype=np.int32)
        if stop <= start:
            return out
        return self._fill(start, stop, list(leads), out, None)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for g in self._groups:
            if g.fd >= 0:
                try:
                    os.close(g.fd)
                except OSError:
                    pass
                g.fd = -1
        if self._cleanup is not None:
            self._cleanup()

    def __del__(self) -> None:  # pragma: no cover - depends on the garbage collector
        try:
            self.close()
        except Exception:
            pass


class WfdbLibrarySource:
    """Reads windows through ``wfdb.rdrecord`` (formats this module does not decode)."""

    def __init__(
        self,
        record_path: Path,
        channels: list[int],
        n_samples: int,
        gain: np.ndarray,
        baseline: np.ndarray,
        invalid: list[int | None],
        bounds: tuple[int, int],
        cleanup: Callable[[], Any] | None = None,
        *,
        from_start: bool = False,
    ) -> None:
        self._record = str(record_path)
        # format 8 stores differences: a window is only right when decoded from sample 0
        self._from_start = from_start
        self._channels = channels
        self.n_samples = int(n_samples)
        self._gain = gain
        self._baseline = baseline
        self._invalid = invalid
        self.digital_bounds = bounds
        self._cleanup = cleanup
        self._closed = False

    def read_digital(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        leads = list(leads)
        if stop <= start or not leads:
            return np.empty((len(leads), max(0, stop - start)), dtype=np.int32)
        if self._closed:
            raise CorruptFileError("the recording is closed")
        wanted = sorted({self._channels[i] for i in leads})
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import wfdb

            first = 0 if self._from_start else start
            try:
                rec = wfdb.rdrecord(
                    self._record, sampfrom=first, sampto=stop, channels=wanted, physical=False
                )
            except Exception as exc:
                raise CorruptFileError(
                    f"{self._record}: wfdb cannot read samples {start}-{stop} ({exc})"
                ) from None
        data = np.asarray(rec.d_signal, dtype=np.int32).T[:, start - first :]
        pos = {ch: i for i, ch in enumerate(wanted)}
        return np.ascontiguousarray(data[[pos[self._channels[i]] for i in leads]])

    def read(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        leads = list(leads)
        digital = self.read_digital(start, stop, leads)
        out = np.empty(digital.shape, dtype=np.float32)
        for k, lead in enumerate(leads):
            values = (digital[k] - self._baseline[lead]) / self._gain[lead]
            bad = self._invalid[lead]
            if bad is not None:
                values[digital[k] == bad] = np.nan
            out[k] = values
        return out

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        if self._cleanup is not None:
            self._cleanup()


# ====================================================================== reading
def _unit_factor(units: str) -> float | None:
    return UNIT_TO_MV.get(units.strip().lower())


def _choose_spf(header: WfdbHeader) -> tuple[int, list[int], list[int]]:
    """Pick the samples-per-frame shared by most signals (ties: the higher rate)."""
    counts: dict[int, int] = {}
    for spec in header.signals:
        counts[spec.spf] = counts.get(spec.spf, 0) + 1
    spf = max(counts, key=lambda s: (counts[s], s))
    kept = [i for i, s in enumerate(header.signals) if s.spf == spf]
    dropped = [i for i, s in enumerate(header.signals) if s.spf != spf]
    return spf, kept, dropped


def _start_time(header: WfdbHeader) -> _dt.datetime | None:
    start = header.start_time
    for comment in header.comments:
        if comment.startswith(_TZ_COMMENT):
            text = comment[len(_TZ_COMMENT) :].strip()
            try:
                aware = _dt.datetime.fromisoformat(text)
            except ValueError:
                continue
            if start is None or aware.replace(tzinfo=None) == start:
                return aware
    return start


def _read_header_path(
    hea: Path,
    *,
    annotator: str | None,
    cleanup: Callable[[], Any] | None,
    display_path: Path,
) -> Recording:
    header = parse_header_file(hea)
    where = str(display_path)
    if header.n_seg is not None:
        raise FormatError(
            f"{where}: multi-segment WFDB records ({header.n_seg} segments) are not supported; "
            "join the segments first (e.g. wfdb.rdrecord on the whole record, then wfdb.wrsamp)"
        )
    if header.n_sig == 0:
        raise FormatError(f"{where}: the WFDB header declares no signals")
    directory = hea.parent
    stem = hea.name[: -len(".hea")] if hea.name.lower().endswith(".hea") else hea.stem

    # group consecutive signals stored in one file
    groups: list[FileLayout] = []
    group_of: list[tuple[int, int]] = []  # signal -> (group, offset in frame)
    seen_files: dict[str, int] = {}
    for i, spec in enumerate(header.signals):
        if spec.file_name in ("~", "-"):
            raise FormatError(
                f"{where}: signal {i} ({spec.description or 'unnamed'}) has no signal file "
                f"({spec.file_name!r}); holterlab reads only signals stored in files"
            )
        if spec.fmt == 0:
            raise FormatError(f"{where}: signal {i} has format 0 (no data)")
        if groups and spec.file_name == header.signals[i - 1].file_name:
            g = groups[-1]
            if spec.fmt != g.fmt:
                raise HeaderError(
                    f"{where}: signals in {spec.file_name} have different formats "
                    f"({g.fmt} and {spec.fmt})"
                )
            group_of.append((len(groups) - 1, g.frame_size))
            g.frame_size += spec.spf
            continue
        if spec.file_name in seen_files:
            raise HeaderError(
                f"{where}: the signals of {spec.file_name} are not listed consecutively"
            )
        path = _safe_signal_file(spec.file_name, directory, where)
        seen_files[spec.file_name] = len(groups)
        groups.append(
            FileLayout(path=path, fmt=spec.fmt, byte_offset=spec.byte_offset, frame_size=0)
        )
        group_of.append((len(groups) - 1, 0))
        groups[-1].frame_size += spec.spf

    # signal files present, and how many frames they hold
    n_frames_header = header.n_samples if header.n_samples else None
    available: list[int] = []
    for g in groups:
        if not g.path.is_file():
            raise CorruptFileError(
                f"{where}: the header names the signal file {g.path.name}, which is missing; "
                "put it beside the header (a header without signal file holds no samples; read "
                "annotation-only records with holterlab.annotations.read_annotations)"
            )
        size = g.path.stat().st_size
        data_bytes = max(0, size - g.byte_offset)
        frames = _samples_in_bytes(g.fmt, data_bytes) // g.frame_size
        available.append(frames)
        if n_frames_header is not None and frames < n_frames_header:
            need = g.byte_offset + _bytes_for_samples(g.fmt, n_frames_header * g.frame_size)
            raise TruncatedFileError(
                f"{where}: the header promises {n_frames_header:,} samples per signal, but "
                f"{g.path.name} holds only {frames:,} ({size:,} of {need:,} bytes); the file is "
                "truncated or the header is wrong"
            )
    n_frames = n_frames_header if n_frames_header is not None else min(available)
    if n_frames == 0:
        raise EmptyFileError(f"{where}: the record holds no samples")

    spf, kept, dropped = _choose_spf(header)
    fmts = {header.signals[i].fmt for i in kept}
    skews = any(header.signals[i].skew for i in kept)
    gain = np.empty(len(kept))
    baseline = np.empty(len(kept))
    invalid: list[int | None] = []
    units: list[str] = []
    unit_notes: dict[str, str] = {}
    names: list[str] = []
    for k, i in enumerate(kept):
        spec = header.signals[i]
        name = spec.description or f"ch{i + 1}"
        names.append(name)
        factor = _unit_factor(spec.units)
        if factor is None:
            factor = 1.0
            unit_notes[name] = f"unit {spec.units!r} is not a voltage; values kept as stored"
        gain[k] = spec.gain / factor
        baseline[k] = spec.baseline
        invalid.append(INVALID_VALUE.get(spec.fmt))
        units.append(spec.units)
    lo = min(DIGITAL_BOUNDS[f][0] for f in fmts)
    hi = max(DIGITAL_BOUNDS[f][1] for f in fmts)

    n_samples = n_frames * spf
    if fmts <= DIRECT_FORMATS and not skews:
        source: Any = FrameFileSource(
            groups,
            [group_of[i] for i in kept],
            spf,
            n_samples,
            gain,
            baseline,
            invalid,
            (lo, hi),
            cleanup,
        )
    else:
        if spf != 1 or dropped:
            raise FormatError(
                f"{where}: WFDB format(s) {sorted(fmts)} with several samples per frame or skew "
                "are not supported; convert the record to format 16 with the WFDB tools"
            )
        source = WfdbLibrarySource(
            directory / stem if header.name == stem else directory / header.name,
            kept,
            n_samples,
            gain,
            baseline,
            invalid,
            (lo, hi),
            cleanup,
            from_start=8 in fmts,
        )

    fs = header.fs * spf
    metadata: dict[str, Any] = {
        "record_name": header.name,
        "comments": list(header.comments),
        "units": units,
        "formats": [header.signals[i].fmt for i in kept],
        "adc_res": [header.signals[i].adc_res for i in kept],
        "checksums": [header.signals[i].checksum for i in kept],
        "init_values": [header.signals[i].init_value for i in kept],
    }
    if unit_notes:
        metadata["unit_notes"] = unit_notes
    if dropped:
        metadata["dropped_channels"] = [
            header.signals[i].description or f"ch{i + 1}" for i in dropped
        ]
    if spf != 1:
        metadata["frame_frequency"] = header.fs
        metadata["samples_per_frame"] = spf
    if header.base_time is not None and header.base_date is None:
        metadata["base_time"] = header.base_time.isoformat()
    if header.counter_freq is not None:
        metadata["counter_frequency"] = header.counter_freq
        metadata["base_counter"] = header.base_counter

    try:
        annotations = None
        if annotator:
            ann_path = hea.with_name(f"{stem}.{annotator}")
            if ann_path.is_file():
                from holterlab.annotations import read_annotations

                try:
                    annotations = read_annotations(ann_path, fs=header.fs)
                except AnnotationError as exc:
                    raise AnnotationError(
                        f"{exc}; pass annotator=None to read the signals without annotations"
                    ) from None
                if annotations.fs != fs:
                    annotations = annotations.resampled(fs)
        rec = Recording(
            source=source,
            fs=fs,
            leads=names,
            start_time=_start_time(header),
            annotations=annotations,
            adc_gain=gain,
            adc_zero=baseline,
            path=str(display_path),
            format=FORMAT,
            metadata=metadata,
        )
    except BaseException:
        source.close()
        raise
    return rec


class _TempDir:
    """A private temporary folder removed (once) when called."""

    def __init__(self) -> None:
        self.path = tempfile.mkdtemp(prefix="holterlab-wfdb-")

    def __call__(self) -> None:
        shutil.rmtree(self.path, ignore_errors=True)


def _read_zip(path: Path, *, annotator: str | None, **limits: Any) -> Recording:
    from holterlab.io.archive import extract_record_zip

    tmp = _TempDir()
    try:
        hea = extract_record_zip(path, tmp.path, **limits)
        rec = _read_header_path(hea, annotator=annotator, cleanup=tmp, display_path=path)
    except BaseException:
        tmp()
        raise
    # the folder goes when the source is closed, garbage-collected, or at interpreter exit
    weakref.finalize(rec.source, tmp)
    rec.metadata["archive"] = str(path)
    return rec


def read(
    path: str | os.PathLike[str],
    *,
    annotator: str | None = "atr",
    max_entries: int | None = None,
    max_total_bytes: int | None = None,
    **options: Any,
) -> Recording:
    """Open a WFDB record lazily.

    Parameters
    ----------
    path
        ``NAME.hea``, ``NAME`` (no extension), ``NAME.dat`` (its header beside it is used) or
        a ``.zip`` holding exactly one record.
    annotator
        Extension of the reference annotation file attached as ``annotations`` when it exists
        (``atr``); None to ignore annotation files.
    max_entries, max_total_bytes
        Limits for ZIP archives (see :func:`holterlab.io.archive.extract_record_zip`).

    Raises
    ------
    HeaderError
        Unparsable header or a sampling rate <= 0.
    CorruptFileError
        A signal file named by the header is missing.
    TruncatedFileError
        A signal file holds fewer samples than the header promises.
    FormatError
        Multi-segment records, signals without files.
    """
    if options:
        raise ParameterError(f"unknown WFDB read option(s): {', '.join(sorted(options))}")
    p = Path(path)
    if not p.exists() and p.with_name(p.name + ".hea").is_file():
        p = p.with_name(p.name + ".hea")
    if not p.exists():
        raise RecordingNotFoundError(f"{p}: no such file or WFDB record")
    suffix = p.suffix.lower()
    with open(p, "rb") as fh:
        head = fh.read(4)
    if head[:4] == b"PK\x03\x04" or (suffix == ".zip" and head[:2] == b"PK"):
        from holterlab.io.archive import DEFAULT_MAX_ENTRIES, DEFAULT_MAX_TOTAL_BYTES

        return _read_zip(
            p,
            annotator=annotator,
            max_entries=DEFAULT_MAX_ENTRIES if max_entries is None else max_entries,
            max_total_bytes=DEFAULT_MAX_TOTAL_BYTES if max_total_bytes is None else max_total_bytes,
        )
    if suffix == ".zip":
        raise FormatError(f"{p}: not a ZIP archive (it does not start with the ZIP signature)")
    if suffix == ".dat":
        hea = p.with_suffix(".hea")
        if not hea.is_file():
            raise FormatError(
                f"{p}: a WFDB signal file needs its header {hea.name} beside it; give the .hea"
            )
        p = hea
    return _read_header_path(p, annotator=annotator, cleanup=None, display_path=p)


# ====================================================================== writing
def _format_number(x: float) -> str:
    return np.format_float_positional(float(x), trim="-")


def _wfdb_calibration(
    rec: Recording, *, progress: bool, step: int
) -> tuple[np.ndarray, np.ndarray, bool]:
    """Gain (adu/mV) and integer baseline per lead for format 16; True if exact copy."""
    n = rec.n_leads
    dmin, dmax = -32767, 32767  # -32768 marks invalid samples
    own_gain = rec.adc_gain
    own_zero = np.zeros(n) if rec.adc_zero is None else rec.adc_zero
    # WFDB baselines are integers: a zero within 1e-6 of one (EDF's float arithmetic) counts
    reusable = (
        own_gain is not None
        and np.all(np.isfinite(own_gain))
        and np.all(own_gain != 0)
        and np.all(np.isfinite(own_zero))
        and np.all(np.abs(own_zero - np.round(own_zero)) < 1e-6)
    )
    if reusable:
        own_zero = np.round(own_zero)
    bounds = getattr(rec.source, "digital_bounds", None)
    if reusable and bounds is not None and bounds[0] >= -32768 and bounds[1] <= dmax:
        return own_gain.copy(), own_zero.copy(), True  # stored integers fit: copy them
    lo, hi = scan_range(rec, step=step, progress=progress)
    if reusable:
        d_lo = lo * own_gain + own_zero
        d_hi = hi * own_gain + own_zero
        if np.all(np.minimum(d_lo, d_hi) >= dmin - 0.5) and np.all(
            np.maximum(d_lo, d_hi) <= dmax + 0.5
        ):
            return own_gain.copy(), own_zero.copy(), True
    gain = np.empty(n)
    zero = np.empty(n)
    for i in range(n):
        mid = 0.5 * (lo[i] + hi[i])
        half = 0.5 * (hi[i] - lo[i])
        if not half > 0:
            half = max(abs(mid), 1.0) * 1e-3 if mid else 1.0
        g = dmax / (1.25 * half)  # data spans 80 % of the range
        g = float(f"{g:.6g}")
        g = float(_format_number(g))
        z = -round(mid * g)
        gain[i], zero[i] = g, z
    return gain, zero, False


def _record_name(path: Path) -> tuple[Path, str, str]:
    """(directory, record name, output kind) for a WFDB output path."""
    name = path.name
    kind = "hea"
    lower = name.lower()
    for suffix in (".hea", ".dat", ".zip"):
        if lower.endswith(suffix):
            name = name[: -len(suffix)]
            kind = suffix[1:]
            break
    else:
        if path.suffix:
            raise ParameterError(
                f"{path}: a WFDB output path ends in .hea, .zip or has no extension"
            )
    if not _RE_RECORD_NAME.match(name):
        raise ParameterError(
            f"{path}: WFDB record names may contain only letters, digits, '_' and '-' "
            f"(got {name!r})"
        )
    return path.parent, name, kind


def write(
    recording: Recording,
    path: str | os.PathLike[str],
    *,
    progress: bool = False,
    annotations: bool = True,
    annotator: str = "atr",
    chunk_seconds: float = 3600.0,
) -> Path:
    """Write a recording as a WFDB record (format 16); return the ``.hea`` (or ``.zip``) path.

    Parameters
    ----------
    recording
        What to write.
    path
        ``NAME.hea``, ``NAME`` or ``NAME.zip`` (the record packed into an archive).
    progress
        Show a progress bar.
    annotations, annotator
        Write ``recording.annotations`` (if any) to ``NAME.<annotator>``.
    chunk_seconds
        Length of the windows read and written at a time.

    Notes
    -----
    ``NAME.dat`` is written first, then the annotations, then ``NAME.hea`` (each atomically);
    an existing ``NAME.hea`` is removed before anything else, so an interrupted write never
    leaves a header that looks complete.
    """
    out = Path(path)
    directory, name, kind = _record_name(out)
    if kind == "zip":
        from holterlab.io.archive import zip_record

        with tempfile.TemporaryDirectory(prefix="holterlab-wfdb-", dir=directory or None) as tmp:
            hea = write(
                recording,
                Path(tmp) / f"{name}.hea",
                progress=progress,
                annotations=annotations,
                annotator=annotator,
                chunk_seconds=chunk_seconds,
            )
            zip_record(hea, out, annotators=(annotator,))
        return out
    if recording.n_samples == 0:
        raise EmptyFileError("cannot write a WFDB record without samples")
    directory.mkdir(parents=True, exist_ok=True)
    hea = directory / f"{name}.hea"
    dat = directory / f"{name}.dat"
    if hea.exists():
        hea.unlink()

    rec = recording
    step = chunk_samples(rec.fs, chunk_seconds)
    gain, zero, _ = _wfdb_calibration(rec, progress=progress, step=step)
    n_leads = rec.n_leads
    checksum = np.zeros(n_leads, dtype=np.int64)
    init = np.zeros(n_leads, dtype=np.int64)
    with atomic_path(dat) as tmp, open(tmp, "wb") as fh:
        for i0, i1 in iter_windows(rec.n_samples, step, progress=progress, desc="write"):
            x = read_physical64(rec, i0, i1)
            d = quantise(x, gain, zero, -32767, 32767, nan_value=-32768)
            if i0 == 0 and d.shape[1]:
                init = d[:, 0].astype(np.int64)
            checksum += d.sum(axis=1, dtype=np.int64)
            fh.write(np.ascontiguousarray(d.T, dtype="<i2").tobytes())
    if annotations and rec.annotations is not None:
        from holterlab.annotations import write_annotations

        ann = rec.annotations
        if ann.fs != rec.fs:
            ann = ann.resampled(rec.fs)
        write_annotations(ann, directory / f"{name}.{annotator}")

    lines = [f"{name} {n_leads} {_format_number(rec.fs)} {rec.n_samples}"]
    start = rec.start_time
    if start is not None:
        t = start.strftime("%H:%M:%S")
        if start.microsecond:
            t += f".{start.microsecond:06d}"
        lines[0] += f" {t} {start.strftime('%d/%m/%Y')}"
    for i, lead in enumerate(rec.leads):
        label = " ".join(str(lead).split()) or f"ECG{i + 1}"
        cs = int(((checksum[i] + 32768) % 65536) - 32768)
        lines.append(
            f"{name}.dat 16 {_format_number(gain[i])}({int(zero[i])})/mV 16 0 "
            f"{int(init[i])} {cs} 0 {label}"
        )
    lines.append("# written by holterlab")
    if start is not None and start.tzinfo is not None:
        lines.append(f"# {_TZ_COMMENT} {start.isoformat()}")
    atomic_write_text(hea, "\n".join(lines) + "\n")
    return hea
