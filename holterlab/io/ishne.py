"""ISHNE 1.0 Holter ECG files (``.ecg``), read-only.

The ISHNE Holter standard output file (Badilini F, "The ISHNE Holter Standard Output File
Format", Ann Noninvasive Electrocardiol 3(3):263-266, 1998) is a 522-byte little-endian header,
a variable-length block and int16 samples interleaved by lead. Layout as read here (offsets in
bytes from the start of the file; checked against the THEW project's description,
http://thew-project.org/THEWFileFormat.html, and EDFbrowser's converter,
``EEGKit/EDFbrowser: ishne2edf.cpp``, which validates the same offsets and CRC):

======  ======  ============================================================================
offset  size    field
======  ======  ============================================================================
0       8       magic ``"ISHNE1.0"``
8       2       CRC-CCITT (uint16) over the fixed header and the variable block, i.e. over
                ``data[10 : var_block_offset + var_block_size]`` (normally up to the samples)
10      4       var_block_size (int32): bytes in the variable-length block
14      4       ecg_size (int32): samples per lead
18      4       var_block_offset (int32): normally 522
22      4       ecg_block_offset (int32): normally ``522 + var_block_size``
26      2       file version (int16)
28      40      first name (ASCII/Latin-1, NUL padded, as all text fields)
68      40      last name
108     20      patient id
128     2       sex (0 unknown, 1 male, 2 female)
130     2       race (0 unknown, 1 Caucasian, 2 Black, 3 Oriental, >3 other)
132     6       birth date: day, month, year (3 x int16)
138     6       record date: day, month, year
144     6       file date: day, month, year
150     6       start time: hour, minute, second
156     2       number of leads (1..12)
158     24      lead specification (12 x int16; codes in :data:`LEAD_NAMES`)
182     24      lead quality (12 x int16)
206     24      amplitude resolution (12 x int16, nV per ADC unit)
230     2       pacemaker code (0 none)
232     40      recorder type
272     2       sampling rate (int16, Hz)
274     80      proprietary
354     80      copyright
434     88      reserved
522     var     variable-length block (free text)
ecg     rest    int16 samples from ``ecg_block_offset`` on, interleaved by lead:
                ``s0L0 s0L1 ... s1L0 ...``; ``ecg_size`` samples per lead
======  ======  ============================================================================

The CRC is CRC-CCITT (polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR:
the "CRC-16/CCITT-FALSE" variant; :func:`crc_ccitt`). A mismatch raises
:class:`~holterlab.errors.ChecksumError` (``check_crc=False`` reads the file anyway).

Physical values: ``mV = raw * resolution_nV / 1e6``, exposed as ``adc_gain = 1e6 /
resolution_nV`` ADC units per mV and ``adc_zero = 0``. The value -32768 is used by some
recorders to flag a lead fault; it reads as NaN (the stored integer stays available through
:meth:`Recording.get_digital`).
"""

from __future__ import annotations

import datetime as _dt
import logging
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from holterlab.errors import (
    ChecksumError,
    FormatError,
    HeaderError,
    TruncatedFileError,
)
from holterlab.io.aiecg import Int16MemmapSource
from holterlab.recording import Recording

__all__ = ["FORMAT", "EXTENSIONS", "MAGIC", "LEAD_NAMES", "sniff", "read", "crc_ccitt"]

log = logging.getLogger(__name__)

FORMAT = "ishne"
EXTENSIONS = (".ecg",)
MAGIC = b"ISHNE1.0"
HEADER_SIZE = 522  # magic (8) + CRC (2) + fixed header (512)
MAX_LEADS = 12

#: ISHNE lead specification codes.
LEAD_NAMES: dict[int, str] = {
    0: "Unknown",
    1: "Generic bipolar",
    2: "X",
    3: "Y",
    4: "Z",
    5: "I",
    6: "II",
    7: "III",
    8: "aVR",
    9: "aVL",
    10: "aVF",
    11: "V1",
    12: "V2",
    13: "V3",
    14: "V4",
    15: "V5",
    16: "V6",
    17: "ES",
    18: "AS",
    19: "AI",
}
_SEX = {0: "unknown", 1: "male", 2: "female"}
_RACE = {0: "unknown", 1: "Caucasian", 2: "Black", 3: "Oriental"}

# the fixed header (bytes 10..522) as one struct, little-endian
_FIXED = struct.Struct("<iiiih40s40s20shh3h3h3h3hh12h12h12hh40sh80s80s88s")
assert _FIXED.size == 512


def _crc_table() -> list[int]:
    table = []
    for byte in range(256):
        crc = byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
        table.append(crc & 0xFFFF)
    return table


_CRC_TABLE = _crc_table()


def crc_ccitt(data: bytes, initial: int = 0xFFFF) -> int:
    """CRC-CCITT (polynomial 0x1021, MSB first, no final XOR) of ``data``.

    With the default initial value 0xFFFF this is CRC-16/CCITT-FALSE, the ISHNE header
    checksum: ``crc_ccitt(b"123456789") == 0x29B1``.
    """
    crc = initial & 0xFFFF
    table = _CRC_TABLE
    for b in bytes(data):
        crc = ((crc << 8) & 0xFFFF) ^ table[((crc >> 8) ^ b) & 0xFF]
    return crc


def sniff(head: bytes) -> bool:
    """True if ``head`` starts with ``ISHNE1.0``."""
    return head[:8] == MAGIC


def _text(raw: bytes) -> str:
    return raw.split(b"\x00", 1)[0].decode("latin-1").strip()


def _date(day: int, month: int, year: int) -> _dt.date | None:
    try:
        return _dt.date(year, month, day)
    except ValueError:
        return None


def _iso(day: _dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def read(path: str | os.PathLike[str], *, check_crc: bool = True, **options: Any) -> Recording:
    """Open an ISHNE 1.0 Holter file; samples are memory-mapped and read on demand.

    Parameters
    ----------
    path
        The ``.ecg`` file.
    check_crc
        Verify the header CRC (default); a mismatch raises
        :class:`~holterlab.errors.ChecksumError`.

    Raises
    ------
    FormatError
        The file does not start with ``ISHNE1.0``.
    TruncatedFileError
        The file ends before the header or the samples its header promises.
    HeaderError
        Impossible header values (no leads, sampling rate <= 0, resolution <= 0, bad offsets).
    ChecksumError
        The stored header CRC does not match.
    """
    p = Path(path)
    if options:
        log.debug("ishne.read ignores options %s", sorted(options))
    size = p.stat().st_size
    with open(p, "rb") as fh:
        head = fh.read(HEADER_SIZE)
        if head[:8] != MAGIC[: len(head[:8])] or not head:
            raise FormatError(f"{p}: not an ISHNE 1.0 file (it does not start with 'ISHNE1.0')")
        if len(head) < HEADER_SIZE:
            raise TruncatedFileError(
                f"{p}: the file ends after {len(head)} bytes, inside the {HEADER_SIZE}-byte "
                "ISHNE header"
            )
        f = _FIXED.unpack(head[10:HEADER_SIZE])
        var_size, ecg_size, var_offset, ecg_offset = f[0], f[1], f[2], f[3]
        if var_size < 0 or var_offset < HEADER_SIZE:
            raise HeaderError(
                f"{p}: impossible ISHNE variable block ({var_size} bytes at offset "
                f"{var_offset}); the header is damaged"
            )
        if var_offset + var_size > size:
            raise TruncatedFileError(
                f"{p}: the ISHNE variable block ({var_size} bytes at offset {var_offset}) "
                f"extends past the end of the {size}-byte file; the file is truncated"
            )
        if ecg_offset < var_offset + var_size:
            raise HeaderError(
                f"{p}: the ISHNE sample block offset {ecg_offset} lies inside the header"
            )
        fh.seek(var_offset)
        var_block = fh.read(var_size)
        # the CRC covers the fixed header and the variable block, from byte 10 on
        fh.seek(10)
        crc_bytes = fh.read(var_offset + var_size - 10)
    stored_crc = struct.unpack("<H", head[8:10])[0]
    if check_crc:
        crc = crc_ccitt(crc_bytes)
        if crc != stored_crc:
            raise ChecksumError(
                f"{p}: ISHNE header checksum mismatch (stored 0x{stored_crc:04X}, computed "
                f"0x{crc:04X}): the header is corrupt; pass check_crc=False to read it anyway"
            )

    version = f[4]
    first, last, pid = _text(f[5]), _text(f[6]), _text(f[7])
    sex, race = f[8], f[9]
    birth, rec_date, file_date, start = f[10:13], f[13:16], f[16:19], f[19:22]
    n_leads = f[22]
    spec, quality, resolution = f[23:35], f[35:47], f[47:59]
    pacemaker, recorder, fs = f[59], _text(f[60]), f[61]
    proprietary, copyright_ = _text(f[62]), _text(f[63])

    if not 1 <= n_leads <= MAX_LEADS:
        raise HeaderError(f"{p}: the ISHNE header gives {n_leads} leads; 1 to 12 are allowed")
    if fs <= 0:
        raise HeaderError(f"{p}: the ISHNE sampling rate must be positive, got {fs} Hz")
    if ecg_size < 0:
        raise HeaderError(f"{p}: the ISHNE sample count is negative ({ecg_size})")
    res = np.array(resolution[:n_leads], dtype=np.float64)
    if np.any(res <= 0):
        bad = int(np.argmax(res <= 0)) + 1
        raise HeaderError(
            f"{p}: lead {bad} has amplitude resolution {int(res[bad - 1])} nV; it must be > 0"
        )
    expected = ecg_size * n_leads * 2
    available = size - ecg_offset
    if available < expected:
        raise TruncatedFileError(
            f"{p}: the ISHNE header promises {ecg_size} samples x {n_leads} leads "
            f"({expected:,} bytes) but only {max(available, 0):,} follow; the file is truncated"
        )

    leads = [LEAD_NAMES.get(code, f"ECG{i + 1}") for i, code in enumerate(spec[:n_leads])]
    start_time = None
    day = _date(rec_date[0], rec_date[1], rec_date[2])
    if day is not None:
        try:
            start_time = _dt.datetime.combine(day, _dt.time(start[0], start[1], start[2]))
        except ValueError:
            start_time = None
    if start_time is None:
        log.info("%s: no valid record date/start time in the ISHNE header", p)

    metadata: dict[str, Any] = {
        "ishne_version": version,
        "patient": {
            "first_name": first,
            "last_name": last,
            "id": pid,
            "sex": _SEX.get(sex, f"code {sex}"),
            "race": _RACE.get(race, "other" if race > 3 else f"code {race}"),
            "birth_date": _iso(_date(*birth)),
        },
        "device": {"recorder": recorder, "pacemaker": pacemaker},
        "file_date": _iso(_date(*file_date)),
        "lead_codes": list(spec[:n_leads]),
        "lead_quality": list(quality[:n_leads]),
        "resolution_nV": [int(x) for x in res],
        "proprietary": proprietary,
        "copyright": copyright_,
        "variable_block": var_block.split(b"\x00", 1)[0].decode("latin-1"),
        "stored_crc": stored_crc,
    }
    if available > expected:
        metadata["trailing_bytes"] = available - expected
        log.info("%s: %d bytes after the ISHNE sample block ignored", p, available - expected)

    if ecg_size == 0:
        data: np.ndarray = np.zeros((0, n_leads), dtype="<i2")
    else:
        data = np.memmap(p, dtype="<i2", mode="r", offset=ecg_offset, shape=(ecg_size, n_leads))
    gain = 1e6 / res
    zero = np.zeros(n_leads)
    return Recording(
        source=Int16MemmapSource(data, gain, zero),
        fs=float(fs),
        leads=leads,
        start_time=start_time,
        adc_gain=gain,
        adc_zero=zero,
        path=str(p),
        format=FORMAT,
        metadata=metadata,
    )
