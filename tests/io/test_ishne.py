"""ISHNE 1.0 Holter reader: header fields, calibration, CRC and broken files."""

from __future__ import annotations

import datetime as dt
import struct
from pathlib import Path

import numpy as np
import pytest

import holterlab.io
from holterlab.errors import (
    ChecksumError,
    FormatError,
    HeaderError,
    HolterlabError,
    TruncatedFileError,
)
from holterlab.io import ishne


# ------------------------------------------------------------------ a test-only ISHNE writer
def crc_ccitt_bitwise(data: bytes, crc: int = 0xFFFF) -> int:
    """Bit-by-bit CRC-CCITT (poly 0x1021, MSB first): a reference independent of the table."""
    for byte in data:
        crc ^= byte << 8
        for _ in range(8):
            crc = ((crc << 1) ^ 0x1021) if crc & 0x8000 else (crc << 1)
            crc &= 0xFFFF
    return crc


def _text(s: str, n: int) -> bytes:
    return s.encode("latin-1")[:n].ljust(n, b"\x00")


def make_ishne(
    path: Path,
    data: np.ndarray,
    *,
    fs: int = 200,
    resolution: list[int] | None = None,
    lead_codes: list[int] | None = None,
    var_block: bytes = b"",
    record_date: tuple[int, int, int] = (5, 1, 2026),
    start: tuple[int, int, int] = (8, 30, 15),
    birth: tuple[int, int, int] = (2, 3, 1960),
    first_name: str = "Ada",
    last_name: str = "Lovelace",
    patient_id: str = "P001",
    sex: int = 2,
    race: int = 1,
    recorder: str = "TestRecorder",
    n_leads: int | None = None,
    ecg_size: int | None = None,
    crc: int | None = None,
) -> Path:
    """Write ``data`` (int16, shape (n_leads, n)) as an ISHNE 1.0 file with a correct CRC.

    Header fields can be forced to impossible values (``n_leads``, ``ecg_size``, ``crc``)
    to test the reader's checks. The layout follows the ISHNE 1.0 description (magic,
    CRC, 512-byte fixed header, variable block, interleaved int16 samples).
    """
    data = np.asarray(data, dtype=np.int16)
    leads = data.shape[0] if n_leads is None else n_leads
    resolution = resolution or [2500] * data.shape[0]
    lead_codes = lead_codes or [5 + i for i in range(data.shape[0])]

    def pad12(values: list[int]) -> list[int]:
        return (list(values) + [0] * 12)[:12]

    fixed = b"".join(
        [
            struct.pack(
                "<iiii",
                len(var_block),
                data.shape[1] if ecg_size is None else ecg_size,
                522,
                522 + len(var_block),
            ),
            struct.pack("<h", 1),
            _text(first_name, 40),
            _text(last_name, 40),
            _text(patient_id, 20),
            struct.pack("<hh", sex, race),
            struct.pack("<3h", *birth),
            struct.pack("<3h", *record_date),
            struct.pack("<3h", 6, 1, 2026),
            struct.pack("<3h", *start),
            struct.pack("<h", leads),
            struct.pack("<12h", *pad12(lead_codes)),
            struct.pack("<12h", *pad12([0] * data.shape[0])),
            struct.pack("<12h", *pad12(resolution)),
            struct.pack("<h", 0),
            _text(recorder, 40),
            struct.pack("<h", fs),
            _text("", 80),
            _text("", 80),
            _text("", 88),
        ]
    )
    assert len(fixed) == 512
    header = fixed + var_block
    checksum = crc_ccitt_bitwise(header) if crc is None else crc
    body = np.ascontiguousarray(data.T).astype("<i2").tobytes()
    path.write_bytes(b"ISHNE1.0" + struct.pack("<H", checksum) + header + body)
    return path


@pytest.fixture
def signal() -> np.ndarray:
    rng = np.random.default_rng(1)
    return rng.integers(-3000, 3000, size=(3, 2000)).astype(np.int16)


@pytest.fixture
def ecg_file(tmp_path: Path, signal: np.ndarray) -> Path:
    return make_ishne(
        tmp_path / "rec.ecg",
        signal,
        resolution=[2500, 2500, 5000],
        lead_codes=[6, 11, 15],
        var_block=b"free text block\x00",
    )


# ------------------------------------------------------------------ CRC
@pytest.mark.parametrize(
    ("data", "expected"),
    [(b"123456789", 0x29B1), (b"", 0xFFFF), (b"A", 0xB915), (b"\x00" * 4, 0x84C0)],
)
def test_crc_known_vectors(data, expected):
    assert ishne.crc_ccitt(data) == expected
    assert crc_ccitt_bitwise(data) == expected


def test_crc_table_matches_bitwise_reference():
    rng = np.random.default_rng(7)
    for n in (1, 10, 522, 4096):
        data = rng.integers(0, 256, size=n, dtype=np.uint8).tobytes()
        assert ishne.crc_ccitt(data) == crc_ccitt_bitwise(data)
    assert ishne.crc_ccitt(b"23456789", initial=crc_ccitt_bitwise(b"1")) == 0x29B1


# ------------------------------------------------------------------ reading
def test_read_header_and_calibration(ecg_file: Path, signal: np.ndarray):
    rec = holterlab.io.read(ecg_file)
    assert rec.format == "ishne"
    assert rec.fs == 200
    assert rec.leads == ["II", "V1", "V5"]
    assert rec.n_samples == 2000
    assert rec.start_time == dt.datetime(2026, 1, 5, 8, 30, 15)
    np.testing.assert_array_equal(rec.get_digital(), signal)
    expected = signal * np.array([2500, 2500, 5000])[:, None] / 1e6  # mV
    np.testing.assert_allclose(rec.get(), expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(rec.adc_gain, [400, 400, 200])
    patient = rec.metadata["patient"]
    assert patient["first_name"] == "Ada" and patient["last_name"] == "Lovelace"
    assert patient["id"] == "P001" and patient["sex"] == "female"
    assert patient["birth_date"] == "1960-03-02"
    assert rec.metadata["device"]["recorder"] == "TestRecorder"
    assert rec.metadata["variable_block"] == "free text block"


def test_windows_match_full_read(ecg_file: Path):
    rec = holterlab.io.read(ecg_file, format="ishne")
    full = rec.get()
    np.testing.assert_array_equal(rec.get(leads="V1", start=2.0, stop=3.5), full[1:2, 400:700])
    np.testing.assert_array_equal(rec.get_samples([2, 0], 1990, 5000), full[[2, 0], 1990:])


def test_all_lead_codes_have_names(tmp_path: Path):
    codes = list(range(20))
    names = [ishne.LEAD_NAMES[c] for c in codes]
    assert names[:2] == ["Unknown", "Generic bipolar"]
    assert names[5:11] == ["I", "II", "III", "aVR", "aVL", "aVF"]
    assert names[11:17] == ["V1", "V2", "V3", "V4", "V5", "V6"]
    assert names[17:] == ["ES", "AS", "AI"]
    data = np.zeros((2, 10), dtype=np.int16)
    rec = ishne.read(make_ishne(tmp_path / "u.ecg", data, lead_codes=[0, 0]))
    assert rec.leads == ["Unknown", "Unknown_2"]  # kept unique


def test_lead_fault_value_reads_as_nan(tmp_path: Path):
    data = np.array([[1, -32768, 3]], dtype=np.int16)
    rec = ishne.read(make_ishne(tmp_path / "f.ecg", data))
    got = rec.get()[0]
    assert np.isnan(got[1]) and not np.isnan(got[[0, 2]]).any()
    assert rec.get_digital()[0, 1] == -32768


def test_invalid_record_date_gives_no_start_time(tmp_path: Path):
    rec = ishne.read(make_ishne(tmp_path / "d.ecg", np.zeros((1, 4)), record_date=(0, 0, 0)))
    assert rec.start_time is None


# ------------------------------------------------------------------ broken files
def test_header_corruption_is_a_checksum_error(ecg_file: Path, signal: np.ndarray):
    raw = bytearray(ecg_file.read_bytes())
    raw[30] ^= 0x01  # a letter of the first name
    ecg_file.write_bytes(bytes(raw))
    with pytest.raises(ChecksumError, match="checksum"):
        holterlab.io.read(ecg_file)
    rec = ishne.read(ecg_file, check_crc=False)  # still readable on request
    np.testing.assert_array_equal(rec.get_digital(), signal)


def test_corrupt_variable_block_is_a_checksum_error(ecg_file: Path):
    raw = bytearray(ecg_file.read_bytes())
    raw[525] ^= 0xFF
    ecg_file.write_bytes(bytes(raw))
    with pytest.raises(ChecksumError):
        ishne.read(ecg_file)


def test_wrong_stored_crc(tmp_path: Path):
    path = make_ishne(tmp_path / "c.ecg", np.zeros((1, 10)), crc=0x1234)
    with pytest.raises(ChecksumError, match="0x1234"):
        ishne.read(path)


def test_wrong_magic(ecg_file: Path):
    raw = bytearray(ecg_file.read_bytes())
    raw[:8] = b"ISHNE2.0"
    ecg_file.write_bytes(bytes(raw))
    with pytest.raises(FormatError):
        holterlab.io.read(ecg_file, format="ishne")


def test_truncated_samples(ecg_file: Path):
    raw = ecg_file.read_bytes()
    ecg_file.write_bytes(raw[:-7])
    with pytest.raises(TruncatedFileError, match="truncated"):
        holterlab.io.read(ecg_file)


def test_truncated_header(ecg_file: Path):
    ecg_file.write_bytes(ecg_file.read_bytes()[:300])
    with pytest.raises(TruncatedFileError):
        holterlab.io.read(ecg_file)


def test_header_promises_more_samples(tmp_path: Path):
    path = make_ishne(tmp_path / "m.ecg", np.zeros((2, 100)), ecg_size=101)
    with pytest.raises(TruncatedFileError, match="101 samples"):
        ishne.read(path)


@pytest.mark.parametrize("fs", [0, -250])
def test_impossible_sampling_rate(tmp_path: Path, fs: int):
    with pytest.raises(HeaderError, match="sampling rate"):
        ishne.read(make_ishne(tmp_path / "fs.ecg", np.zeros((1, 10)), fs=fs))


@pytest.mark.parametrize("n_leads", [0, 13, -1])
def test_impossible_lead_count(tmp_path: Path, n_leads: int):
    with pytest.raises(HeaderError, match="leads"):
        ishne.read(make_ishne(tmp_path / "n.ecg", np.zeros((1, 10)), n_leads=n_leads))


def test_zero_resolution(tmp_path: Path):
    path = make_ishne(tmp_path / "r.ecg", np.zeros((2, 10)), resolution=[2500, 0])
    with pytest.raises(HeaderError, match="resolution"):
        ishne.read(path)


def test_negative_sample_count(tmp_path: Path):
    with pytest.raises(HeaderError):
        ishne.read(make_ishne(tmp_path / "s.ecg", np.zeros((1, 10)), ecg_size=-5))


def test_errors_are_holterlab_errors():
    assert issubclass(ChecksumError, HolterlabError)


def test_sniff():
    assert ishne.sniff(b"ISHNE1.0\x00\x00")
    assert not ishne.sniff(b"ANN  1.0")
    assert not hasattr(ishne, "write")  # read-only format
