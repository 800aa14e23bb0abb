"""The ``.aiecg`` container: holterlab's own documented int16 Holter format.

The vendor's ``aiecg`` format is not publicly specified; its one published example is a 24 h
file of 86,400,000 bytes, i.e. 1,000 bytes per second (int16 samples at 250 Hz on 2 leads).
Until the vendor's specification is available, holterlab defines ``.aiecg`` as the container
below. It is *holterlab's* definition, not the vendor's, and may change (by version number)
when the vendor publishes theirs.

Byte layout (version 1.0)
-------------------------
All integers are little-endian.

======  ==========================  ===========================================================
offset  size (bytes)                content
======  ==========================  ===========================================================
0       6                           magic ``b"AIECG\\x00"``
6       1                           major version (``1``); readers reject other majors
7       1                           minor version (``0``); readers accept any minor
8       4                           ``H``: length of the JSON header in bytes (uint32)
12      ``H``                       the header: a UTF-8 JSON object, possibly followed by ASCII
                                    spaces (the writer pads it so that the sample block starts
                                    at a multiple of 16 bytes)
12 + H  2 * n_samples * n_leads     the samples: int16, interleaved by lead (sample-major:
                                    ``s0L0 s0L1 ... s0Lk s1L0 s1L1 ...``)
======  ==========================  ===========================================================

The value -32768 marks a missing sample (no signal, lead off): it reads as NaN, and NaN is
written as -32768; stored values therefore span -32767..32767.

Nothing follows the sample block: a file longer than ``12 + H + 2 * n_samples * n_leads`` bytes
is rejected as corrupt, a shorter one as truncated. The sample block of a 24 h, 2-lead,
250 Hz recording is therefore exactly 250 x 2 x 2 x 86,400 = 86,400,000 bytes.

Header keys (JSON):

``fs`` (number > 0, required)
    Sampling rate in Hz.
``n_samples`` (integer >= 0, required)
    Samples per lead.
``leads`` (list of non-empty strings, required)
    Lead names, one per interleaved channel.
``adc_gain`` (list of numbers != 0, one per lead, required)
    ADC units per mV.
``adc_zero`` (list of numbers, one per lead, required)
    The ADC value of 0 mV; physical value in mV = ``(raw - adc_zero) / adc_gain``.
``start_time`` (ISO-8601 string or null, optional)
    Recording start, e.g. ``"2026-01-05T08:30:00"`` (naive = device local time) or with an
    offset ``"2026-01-05T08:30:00+01:00"``.
``units`` (``"mV"``), ``missing`` (``-32768``), ``format`` (``"aiecg"``), ``software``
    Optional, informative.
``patient``, ``device`` (JSON objects, optional)
    Free-form patient and device fields (e.g. ``{"id": "P001", "sex": "F"}``,
    ``{"model": "...", "serial": "..."}``).

Writing
-------
:func:`write` keeps the recording's own integers and calibration when the source exposes them
(:meth:`Recording.get_digital`) and they fit int16 (WFDB format 16/212, EDF, ISHNE, aiecg;
-32768 only where the recording reports NaN): then the digital round trip is exact. Otherwise
it quantises the physical values with the largest "round" gain from 1000, 500, 200, 100, 50,
20, 10, 5, 2, 1, 0.5, ... ADC units per mV whose range ``+-32767 / gain`` mV holds the data
(1000 -> 1 uV resolution, +-32.8 mV; 200 -> 5 uV, +-163.8 mV), with zero 0; reading back
then differs from the input by at most ``0.5 / gain`` mV. ``gain=`` forces a gain. The
writer works chunk by chunk (never the whole signal in memory) and atomically.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import math
import os
import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from holterlab._atomic import atomic_path
from holterlab.errors import (
    CorruptFileError,
    FormatError,
    HeaderError,
    ParameterError,
    TruncatedFileError,
)
from holterlab.io._chunks import iter_windows, read_physical64, scan_range
from holterlab.recording import Recording

__all__ = [
    "FORMAT",
    "EXTENSIONS",
    "MAGIC",
    "VERSION",
    "sniff",
    "read",
    "write",
    "choose_gain",
    "Int16MemmapSource",
    "MISSING",
]

log = logging.getLogger(__name__)

FORMAT = "aiecg"
EXTENSIONS = (".aiecg",)
MAGIC = b"AIECG\x00"
VERSION = (1, 0)
_PREFIX = 12  # magic (6) + version (2) + header length (4)
_ALIGN = 16
_MAX_HEADER = 16 * 1024 * 1024
_GAIN_LADDER = (1000.0, 500.0, 200.0, 100.0, 50.0, 20.0, 10.0, 5.0, 2.0, 1.0)
_INT16_MAX = 32767
#: The stored value that marks a missing sample (read as NaN).
MISSING = -32768
#: Values per chunk when writing (about 8 MB of float32).
_CHUNK_VALUES = 2_000_000


def sniff(head: bytes) -> bool:
    """True if ``head`` starts with the aiecg magic bytes (or is a cut-off start of them)."""
    return len(head) >= 4 and MAGIC.startswith(head[: len(MAGIC)])


# ---------------------------------------------------------------------------------- source
#: Reads of at least this many samples bypass the memory mapping (see ``_read_rows``).
_DIRECT_READ_ROWS = 65536


class Int16MemmapSource:
    """A :class:`~holterlab.recording.SignalSource` over interleaved int16 samples.

    Parameters
    ----------
    data
        Array of shape ``(n_samples, n_leads)`` (usually an ``np.memmap``), int16.
    adc_gain, adc_zero
        Per-lead calibration: ``mV = (raw - zero) / gain``.
    missing
        The stored value that marks a missing sample (read as NaN), or None.
    """

    def __init__(
        self,
        data: np.ndarray,
        adc_gain: np.ndarray,
        adc_zero: np.ndarray,
        *,
        missing: int | None = MISSING,
    ) -> None:
        self._data: np.ndarray | None = data
        self._missing = missing
        self.n_samples = int(data.shape[0])
        self._gain = np.asarray(adc_gain, dtype=np.float64).reshape(-1)
        self._zero = np.asarray(adc_zero, dtype=np.float64).reshape(-1)
        # float32 arithmetic is exact enough (correctly rounded) when zero is an integer
        self._float32_ok = bool(np.all(self._zero == np.round(self._zero)))

    def _block(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        if self._data is None:
            raise ParameterError("the recording was closed; open it again to read samples")
        idx = list(leads)
        block = self._read_rows(start, stop)
        if idx == list(range(block.shape[1])):
            return np.array(block.T)
        return np.array(block[:, idx].T)

    def _read_rows(self, start: int, stop: int) -> np.ndarray:
        """Rows ``[start, stop)``: long reads go through ``read()`` instead of the mapping, so
        that walking a multi-day file chunk by chunk does not leave every page of it mapped
        into the process (resident memory would grow by the file size); short reads (display
        windows) use the mapping."""
        data = self._data
        filename = getattr(data, "filename", None)
        stop = max(start, min(stop, data.shape[0]))
        if filename is None or stop - start < _DIRECT_READ_ROWS:
            return data[start:stop]
        n_leads = data.shape[1]
        with open(filename, "rb") as f:
            f.seek(int(data.offset) + start * n_leads * 2)
            rows = np.fromfile(f, dtype="<i2", count=(stop - start) * n_leads)
        if rows.size != (stop - start) * n_leads:
            raise ParameterError(f"{filename}: the file is shorter than its header says")
        return rows.reshape(stop - start, n_leads)

    def read(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        idx = list(leads)
        if self._float32_ok and stop - start >= _DIRECT_READ_ROWS and self._data is not None:
            from holterlab.io._convert import int16_rows_to_mv

            rows = self._read_rows(start, stop)
            return int16_rows_to_mv(rows, idx, self._zero, self._gain, self._missing)
        return self._read_reference(start, stop, idx)

    def _read_reference(self, start: int, stop: int, idx: list[int]) -> np.ndarray:
        """The numpy conversion (short reads; the reference of the numba kernel)."""
        raw = self._block(start, stop, idx)
        if self._float32_ok:
            out = raw.astype(np.float32)
            out -= self._zero[idx, None].astype(np.float32)
            out /= self._gain[idx, None].astype(np.float32)
        else:
            out = ((raw - self._zero[idx, None]) / self._gain[idx, None]).astype(np.float32)
        if self._missing is not None:
            gaps = raw == self._missing
            if gaps.any():
                out[gaps] = np.nan
        return out

    def read_digital(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        return self._block(start, stop, leads)

    def close(self) -> None:
        self._data = None


# ---------------------------------------------------------------------------------- reading
def _require(header: dict[str, Any], key: str, path: Path) -> Any:
    if key not in header:
        raise HeaderError(f"{path}: the aiecg header has no {key!r} field; the file is damaged")
    return header[key]


def _number(value: Any, what: str, path: Path) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise HeaderError(f"{path}: aiecg header field {what} must be a number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise HeaderError(f"{path}: aiecg header field {what} is not finite ({value!r})")
    return value


def _per_lead(value: Any, n_leads: int, what: str, path: Path) -> np.ndarray:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = [value] * n_leads
    if not isinstance(value, list) or len(value) != n_leads:
        raise HeaderError(
            f"{path}: aiecg header field {what!r} needs one number per lead ({n_leads})"
        )
    return np.array([_number(v, f"{what}[{i}]", path) for i, v in enumerate(value)])


def parse_start_time(text: Any, path: Path | str) -> _dt.datetime | None:
    """Parse an ISO-8601 start time (or None); bad text raises :class:`HeaderError`."""
    if text is None or text == "":
        return None
    if not isinstance(text, str):
        raise HeaderError(f"{path}: start_time must be an ISO-8601 string, got {text!r}")
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    try:
        return _dt.datetime.fromisoformat(s)
    except ValueError:
        raise HeaderError(
            f"{path}: start_time {text!r} is not an ISO-8601 date and time "
            "(e.g. 2026-01-05T08:30:00)"
        ) from None


def read_header(path: str | os.PathLike[str]) -> tuple[dict[str, Any], int]:
    """Read and validate an aiecg header; return ``(header, data_offset)``.

    Raises
    ------
    FormatError
        Wrong magic or unsupported major version.
    TruncatedFileError
        The file ends inside the header or the sample block.
    HeaderError
        The JSON is invalid or a required field is missing or impossible.
    CorruptFileError
        Bytes follow the sample block.
    """
    p = Path(path)
    size = p.stat().st_size
    with open(p, "rb") as fh:
        prefix = fh.read(_PREFIX)
        if prefix[: len(MAGIC)] != MAGIC[: len(prefix)] or len(prefix) == 0:
            raise FormatError(f"{p}: not an aiecg file (the first bytes are not {MAGIC!r})")
        if len(prefix) < _PREFIX:
            raise TruncatedFileError(
                f"{p}: the aiecg file ends after {len(prefix)} bytes, inside its fixed prefix"
            )
        major, minor = prefix[6], prefix[7]
        if major != VERSION[0]:
            raise FormatError(
                f"{p}: aiecg version {major}.{minor} is not supported (holterlab reads "
                f"version {VERSION[0]}.x); update holterlab"
            )
        (hlen,) = struct.unpack("<I", prefix[8:12])
        if hlen > size - _PREFIX:
            raise TruncatedFileError(
                f"{p}: the aiecg header claims {hlen} bytes but only {size - _PREFIX} follow; "
                "the file is truncated"
            )
        if hlen > _MAX_HEADER:
            raise HeaderError(f"{p}: the aiecg header length {hlen} is implausibly large")
        raw = fh.read(hlen)
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise HeaderError(f"{p}: the aiecg header is not valid UTF-8 JSON ({exc})") from None
    if not isinstance(header, dict):
        raise HeaderError(f"{p}: the aiecg header must be a JSON object")

    fs = _number(_require(header, "fs", p), "fs", p)
    if fs <= 0:
        raise HeaderError(f"{p}: the aiecg sampling rate must be positive, got {fs:g} Hz")
    n_samples = _require(header, "n_samples", p)
    if isinstance(n_samples, bool) or not isinstance(n_samples, int) or n_samples < 0:
        raise HeaderError(f"{p}: n_samples must be a non-negative integer, got {n_samples!r}")
    leads = _require(header, "leads", p)
    if (
        not isinstance(leads, list)
        or not leads
        or not all(isinstance(x, str) and x.strip() for x in leads)
    ):
        raise HeaderError(f"{p}: 'leads' must be a non-empty list of lead names")
    if len(leads) > 4096:
        raise HeaderError(f"{p}: {len(leads)} leads is implausible")
    gain = _per_lead(_require(header, "adc_gain", p), len(leads), "adc_gain", p)
    if np.any(gain == 0):
        raise HeaderError(f"{p}: adc_gain must not be 0 (mV = (raw - zero) / gain)")
    zero = _per_lead(_require(header, "adc_zero", p), len(leads), "adc_zero", p)

    offset = _PREFIX + hlen
    expected = n_samples * len(leads) * 2
    actual = size - offset
    if actual < expected:
        raise TruncatedFileError(
            f"{p}: the header promises {n_samples} samples x {len(leads)} leads "
            f"({expected:,} bytes) but the file holds {actual:,}; the file is truncated"
        )
    if actual > expected:
        raise CorruptFileError(
            f"{p}: {actual - expected:,} unexpected bytes follow the {expected:,}-byte sample "
            "block; the file is damaged or not a holterlab aiecg file"
        )
    header = dict(header)
    header["fs"], header["leads"] = fs, [str(x) for x in leads]
    header["adc_gain"], header["adc_zero"] = gain, zero
    header["start_time"] = parse_start_time(header.get("start_time"), p)
    header["_version"] = f"{major}.{minor}"
    return header, offset


def read(path: str | os.PathLike[str], **options: Any) -> Recording:
    """Open an aiecg file; samples are memory-mapped and read on demand.

    Parameters
    ----------
    path
        The ``.aiecg`` file.
    **options
        None are used (accepted for a uniform :func:`holterlab.io.read`).
    """
    p = Path(path)
    if options:
        log.debug("aiecg.read ignores options %s", sorted(options))
    header, offset = read_header(p)
    n, n_leads = header["n_samples"], len(header["leads"])
    if n == 0:
        data: np.ndarray = np.zeros((0, n_leads), dtype="<i2")
    else:
        data = np.memmap(p, dtype="<i2", mode="r", offset=offset, shape=(n, n_leads))
    metadata: dict[str, Any] = {"aiecg_version": header["_version"]}
    for key in ("patient", "device"):
        if isinstance(header.get(key), dict):
            metadata[key] = header[key]
    known = {"fs", "n_samples", "leads", "adc_gain", "adc_zero", "start_time", "_version"}
    extra = {k: v for k, v in header.items() if k not in known | {"patient", "device"}}
    if extra:
        metadata["header"] = extra
    return Recording(
        source=Int16MemmapSource(data, header["adc_gain"], header["adc_zero"]),
        fs=header["fs"],
        leads=header["leads"],
        start_time=header["start_time"],
        adc_gain=header["adc_gain"],
        adc_zero=header["adc_zero"],
        path=str(p),
        format=FORMAT,
        metadata=metadata,
    )


# ---------------------------------------------------------------------------------- writing
def choose_gain(max_abs_mv: float) -> float:
    """Largest round gain (ADC units per mV) that stores ``+-max_abs_mv`` in int16.

    Tries 1000, 500, 200, 100, 50, 20, 10, 5, 2, 1, then 0.5, 0.2, 0.1, ... .
    """
    if not math.isfinite(max_abs_mv):
        raise ParameterError("cannot choose a gain for non-finite values")
    if max_abs_mv <= 0:
        return _GAIN_LADDER[0]
    scale = 1.0
    while scale > 1e-9:
        for g in _GAIN_LADDER:
            gain = g * scale
            if round(max_abs_mv * gain) <= _INT16_MAX:
                return gain
        scale /= 1000.0
    raise ParameterError(f"values up to {max_abs_mv:g} mV cannot be stored as int16")


class _DoesNotFit(Exception):
    """The recording's integers do not fit int16: quantise the physical values instead."""


def _json_safe(value: Any) -> Any:
    try:
        return json.loads(json.dumps(value, default=str))
    except (TypeError, ValueError):
        return None


def _header_bytes(header: dict[str, Any]) -> bytes:
    text = json.dumps(header, ensure_ascii=False, allow_nan=False).encode("utf-8")
    pad = (-(_PREFIX + len(text))) % _ALIGN
    text += b" " * pad
    return MAGIC + bytes(VERSION) + struct.pack("<I", len(text)) + text


def write(
    recording: Recording,
    path: str | os.PathLike[str],
    *,
    progress: bool = False,
    gain: float | None = None,
    patient: dict[str, Any] | None = None,
    device: dict[str, Any] | None = None,
    **options: Any,
) -> Path:
    """Write ``recording`` as an aiecg file, chunk by chunk and atomically.

    Parameters
    ----------
    recording
        Any :class:`~holterlab.recording.Recording`.
    path
        Output file (``.aiecg``).
    progress
        Show a progress bar (tqdm) on stderr.
    gain
        Force quantisation of the physical values with this gain (ADC units per mV, zero 0)
        instead of keeping the recording's integers or choosing a round gain.
    patient, device
        JSON-serialisable fields for the header; default to ``recording.metadata["patient"]``
        and ``["device"]`` when those are dicts.

    Returns
    -------
    Path
        The file written.
    """
    p = Path(path)
    if options:
        log.debug("aiecg.write ignores options %s", sorted(options))
    if gain is not None and (not math.isfinite(gain) or gain <= 0):
        raise ParameterError(f"gain must be a positive number of ADC units per mV, got {gain!r}")
    n, n_leads = recording.n_samples, recording.n_leads
    patient = patient if patient is not None else recording.metadata.get("patient")
    device = device if device is not None else recording.metadata.get("device")

    digital = gain is None and recording.adc_gain is not None
    if digital:
        probe = recording.get_digital(None, 0, min(n, 1))
        digital = probe is not None and np.issubdtype(np.asarray(probe).dtype, np.integer)
    step = max(1, _CHUNK_VALUES // n_leads)

    with atomic_path(p) as tmp, open(tmp, "wb") as fh:
        while True:
            if digital:
                g = np.asarray(recording.adc_gain, dtype=np.float64)
                z = (
                    np.zeros(n_leads)
                    if recording.adc_zero is None
                    else np.asarray(recording.adc_zero, dtype=np.float64)
                )
            else:
                if gain is None:
                    lo, hi = scan_range(recording, step=step)
                    gain = choose_gain(float(max(np.max(np.abs(lo)), np.max(np.abs(hi)))))
                g, z = np.full(n_leads, float(gain)), np.zeros(n_leads)
            header: dict[str, Any] = {
                "format": FORMAT,
                "fs": recording.fs,
                "n_samples": n,
                "leads": list(recording.leads),
                "adc_gain": [float(x) for x in g],
                "adc_zero": [float(x) for x in z],
                "units": "mV",
                "missing": MISSING,
                "start_time": (
                    None if recording.start_time is None else recording.start_time.isoformat()
                ),
                "software": "holterlab",
            }
            for key, value in (("patient", patient), ("device", device)):
                if isinstance(value, dict) and _json_safe(value) is not None:
                    header[key] = _json_safe(value)
            fh.seek(0)
            fh.truncate()
            fh.write(_header_bytes(header))
            try:
                for i0, i1 in iter_windows(n, step, progress=progress, desc="aiecg"):
                    fh.write(_encode_chunk(recording, i0, i1, digital, g, z))
            except _DoesNotFit:
                log.info("%s: stored integers exceed int16; quantising physical values", p)
                digital = False
                continue
            break
    return p


def _encode_chunk(
    recording: Recording, i0: int, i1: int, digital: bool, gain: np.ndarray, zero: np.ndarray
) -> bytes:
    if digital:
        raw = np.asarray(recording.get_digital(None, i0, i1))
        phys = recording.get_samples(None, i0, i1)
        nan = np.isnan(phys)
        valid = raw[~nan]
        if valid.size and (valid.min() <= MISSING or valid.max() > _INT16_MAX):
            raise _DoesNotFit
        ints = raw.astype(np.int64)
        ints[nan] = MISSING
    else:
        x = read_physical64(recording, i0, i1)
        q = x * gain[:, None] + zero[:, None]
        nan = np.isnan(q)
        has_nan = bool(nan.any())
        if has_nan:
            q[nan] = 0.0
        np.rint(q, out=q)
        if q.size and not (q.min() >= -_INT16_MAX and q.max() <= _INT16_MAX):
            if not np.all(np.isfinite(q)):
                raise ParameterError(
                    "the recording holds infinite values, which aiecg cannot store"
                )
            raise ParameterError(
                f"values exceed the int16 range at gain {gain[0]:g} ADC units/mV "
                f"(+-{_INT16_MAX / gain[0]:g} mV); pass a smaller gain="
            )
        if has_nan:
            q[nan] = MISSING
        ints = q
    return np.ascontiguousarray(ints.T, dtype="<i2").tobytes()
