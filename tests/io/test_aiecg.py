"""The aiecg container: byte layout, exact round trips, lazy reads and broken files."""

from __future__ import annotations

import datetime as dt
import json
import struct
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

import holterlab.io
from holterlab.errors import (
    CorruptFileError,
    EmptyFileError,
    FormatError,
    HeaderError,
    ParameterError,
    TruncatedFileError,
)
from holterlab.io import aiecg
from holterlab.recording import ArraySource, Recording


class SineSource:
    """A lazy source: a sine per lead computed for each requested window (nothing stored)."""

    def __init__(self, n_samples: int, fs: float, n_leads: int) -> None:
        self.n_samples = n_samples
        self.fs = fs
        self.n_leads = n_leads
        self.largest_window = 0

    def read(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        self.largest_window = max(self.largest_window, stop - start)
        # lead k: a (k + 1) Hz sine of amplitude 1 + k/2 mV, looked up in a 1 s table
        period = int(self.fs)
        phase = np.arange(start, stop) % period
        rows = [
            (np.sin(2 * np.pi * (1.0 + k) * np.arange(period) / self.fs) * (1.0 + 0.5 * k))[phase]
            for k in leads
        ]
        return np.array(rows, dtype=np.float32).reshape(len(rows), stop - start)

    def close(self) -> None:
        pass


class FailingSource(SineSource):
    def read(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        if start > 0:
            raise RuntimeError("disk gone")
        return super().read(start, stop, leads)


def _raw_file(path: Path, header: dict, body: bytes, *, version: bytes = b"\x01\x00") -> Path:
    text = json.dumps(header).encode()
    path.write_bytes(aiecg.MAGIC + version + struct.pack("<I", len(text)) + text + body)
    return path


def _header(**changes) -> dict:
    h = {
        "fs": 250,
        "n_samples": 4,
        "leads": ["I", "II"],
        "adc_gain": [200, 200],
        "adc_zero": [0, 0],
        "start_time": "2026-01-05T08:30:00",
    }
    h.update(changes)
    return {k: v for k, v in h.items() if v is not ...}


@pytest.fixture
def float_rec() -> Recording:
    rng = np.random.default_rng(0)
    data = (rng.normal(size=(3, 7000)) * 2).astype(np.float32)
    return Recording.from_array(
        data,
        360,
        ["MLII", "V1", "V5"],
        start_time=dt.datetime(2026, 1, 5, 8, 30, tzinfo=dt.timezone(dt.timedelta(hours=1))),
        metadata={"patient": {"id": "P7", "sex": "F"}, "device": {"model": "X1"}},
    )


def _digital_rec(dtype=np.int16, low=-2000, high=2000) -> tuple[Recording, np.ndarray]:
    rng = np.random.default_rng(3)
    ints = rng.integers(low, high, size=(2, 5000)).astype(dtype)
    gain, zero = np.array([200.0, 137.5]), np.array([0.0, 12.0])
    rec = Recording(ArraySource(ints, gain, zero), 250, ["I", "II"], adc_gain=gain, adc_zero=zero)
    return rec, ints


# ------------------------------------------------------------------ round trips
def test_physical_round_trip_within_half_a_step(tmp_path: Path, float_rec: Recording):
    path = holterlab.io.write(float_rec, tmp_path / "r.aiecg")
    rec = holterlab.io.read(path)
    assert rec.format == "aiecg"
    assert rec.fs == 360 and rec.leads == ["MLII", "V1", "V5"]
    assert rec.n_samples == 7000
    assert rec.start_time == float_rec.start_time
    assert rec.metadata["patient"] == {"id": "P7", "sex": "F"}
    assert rec.metadata["device"] == {"model": "X1"}
    gain = aiecg.choose_gain(float(np.abs(float_rec.get()).max()))
    np.testing.assert_array_equal(rec.adc_gain, [gain] * 3)
    assert gain in (1000.0, 500.0)  # data of a few mV keep at least 2 uV resolution
    err = np.abs(rec.get() - float_rec.get())
    assert err.max() <= 0.5 / gain + 1e-6


def test_digital_round_trip_is_exact(tmp_path: Path):
    src, ints = _digital_rec()
    rec = aiecg.read(aiecg.write(src, tmp_path / "d.aiecg"))
    np.testing.assert_array_equal(rec.get_digital(), ints)
    np.testing.assert_array_equal(rec.adc_gain, [200.0, 137.5])
    np.testing.assert_array_equal(rec.adc_zero, [0.0, 12.0])
    np.testing.assert_array_equal(rec.get(), src.get())


def test_wide_integers_are_requantised(tmp_path: Path):
    src, _ = _digital_rec(np.int32, -30_000_000, 30_000_000)  # 24-bit-like, beyond int16
    rec = aiecg.read(aiecg.write(src, tmp_path / "w.aiecg"))
    peak = float(np.abs(src.get()).max())
    gain = aiecg.choose_gain(peak)
    assert rec.adc_gain[0] == gain and gain * peak <= 32767
    assert np.abs(rec.get() - src.get()).max() <= 0.5 / gain * (1 + 1e-5)


def test_forced_gain(tmp_path: Path, float_rec: Recording):
    rec = aiecg.read(aiecg.write(float_rec, tmp_path / "g.aiecg", gain=200))
    assert list(rec.adc_gain) == [200.0] * 3
    assert np.abs(rec.get() - float_rec.get()).max() <= 0.5 / 200 + 1e-6
    with pytest.raises(ParameterError, match="smaller gain"):
        aiecg.write(float_rec, tmp_path / "g2.aiecg", gain=1e5)
    with pytest.raises(ParameterError):
        aiecg.write(float_rec, tmp_path / "g3.aiecg", gain=-1)


def test_nan_is_stored_as_missing(tmp_path: Path):
    data = np.array([[0.5, np.nan, -0.25, 1.0]], dtype=np.float32)
    rec = aiecg.read(aiecg.write(Recording.from_array(data, 100), tmp_path / "n.aiecg"))
    got = rec.get()[0]
    assert np.isnan(got[1])
    np.testing.assert_allclose(got[[0, 2, 3]], [0.5, -0.25, 1.0])
    assert rec.get_digital()[0, 1] == aiecg.MISSING


@pytest.mark.parametrize(
    ("peak", "gain"),
    [
        (0.0, 1000),
        (1.0, 1000),
        (32.7, 1000),
        (40.0, 500),
        (100.0, 200),
        (300.0, 100),
        (5000.0, 5),
        (1e5, 0.2),
    ],
)
def test_choose_gain(peak: float, gain: float):
    assert aiecg.choose_gain(peak) == pytest.approx(gain)
    assert round(peak * aiecg.choose_gain(peak)) <= 32767


# ------------------------------------------------------------------ byte layout
def test_byte_layout(tmp_path: Path):
    ints = np.array([[1, 2, 3], [-1, -2, 300]], dtype=np.int16)
    src = Recording(ArraySource(ints, [100.0, 100.0]), 500, ["a", "b"], adc_gain=[100.0, 100.0])
    raw = aiecg.write(src, tmp_path / "l.aiecg").read_bytes()
    assert raw[:6] == b"AIECG\x00" and raw[6:8] == b"\x01\x00"
    (hlen,) = struct.unpack("<I", raw[8:12])
    offset = 12 + hlen
    assert offset % 16 == 0
    header = json.loads(raw[12:offset].decode("utf-8"))
    assert header["fs"] == 500 and header["n_samples"] == 3 and header["leads"] == ["a", "b"]
    assert header["adc_gain"] == [100.0, 100.0] and header["adc_zero"] == [0.0, 0.0]
    body = np.frombuffer(raw[offset:], dtype="<i2")
    np.testing.assert_array_equal(body, [1, -1, 2, -2, 3, 300])  # interleaved by lead
    assert aiecg.sniff(raw[:32])


def test_24h_two_lead_250hz_sample_block_is_86_4_mb(tmp_path: Path):
    n = 250 * 86_400
    source = SineSource(n, 250.0, 2)
    rec = Recording(source, 250, ["ECG1", "ECG2"])
    path = aiecg.write(rec, tmp_path / "day.aiecg")
    with path.open("rb") as fh:
        (hlen,) = struct.unpack("<I", fh.read(12)[8:12])
    assert path.stat().st_size - 12 - hlen == 86_400_000
    assert source.largest_window < n // 10  # written chunk by chunk
    back = aiecg.read(path)
    assert back.n_samples == n and back.duration == 86_400
    window = back.get(start=43_200, stop=43_210)
    expected = SineSource(n, 250.0, 2).read(43_200 * 250, 43_210 * 250, [0, 1])
    assert np.abs(window - expected).max() <= 0.5 / back.adc_gain[0] + 1e-6
    back.close()


# ------------------------------------------------------------------ lazy access
def test_windows_and_lead_selection(tmp_path: Path, float_rec: Recording):
    rec = aiecg.read(aiecg.write(float_rec, tmp_path / "w.aiecg"))
    assert isinstance(rec.source._data, np.memmap)
    full = rec.get()
    np.testing.assert_array_equal(rec.get(leads="V5", start=1, stop=2), full[2:3, 360:720])
    np.testing.assert_array_equal(rec.get_samples(["V5", "MLII"], 10, 20), full[[2, 0], 10:20])
    assert rec.get(start=100).shape == (3, 0)
    rec.close()
    with pytest.raises(ParameterError, match="closed"):
        rec.get()


def test_zero_samples(tmp_path: Path):
    rec = Recording.from_array(np.zeros((2, 0), dtype=np.float32), 250)
    back = aiecg.read(aiecg.write(rec, tmp_path / "z.aiecg"))
    assert back.n_samples == 0 and back.get().shape == (2, 0)


def test_write_is_atomic(tmp_path: Path):
    rec = Recording(FailingSource(3_000_000, 250.0, 1), 250, ["x"])
    target = tmp_path / "f.aiecg"
    with pytest.raises(RuntimeError, match="disk gone"):
        aiecg.write(rec, target, gain=1000)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ broken files
def test_empty_file(tmp_path: Path):
    path = tmp_path / "e.aiecg"
    path.write_bytes(b"")
    with pytest.raises(EmptyFileError):
        holterlab.io.read(path)


def test_wrong_magic(tmp_path: Path, float_rec: Recording):
    path = aiecg.write(float_rec, tmp_path / "m.aiecg")
    raw = bytearray(path.read_bytes())
    raw[0:5] = b"XXXXX"
    path.write_bytes(bytes(raw))
    with pytest.raises(FormatError, match="not an aiecg file"):
        holterlab.io.read(path, format="aiecg")


def test_unsupported_version(tmp_path: Path):
    path = _raw_file(tmp_path / "v.aiecg", _header(), b"\x00" * 16, version=b"\x02\x00")
    with pytest.raises(FormatError, match="version 2.0"):
        aiecg.read(path)
    # a newer minor version is read
    ok = _raw_file(tmp_path / "v1.aiecg", _header(), b"\x00" * 16, version=b"\x01\x07")
    assert aiecg.read(ok).n_samples == 4


@pytest.mark.parametrize("cut", [3, 5, 11, 20])
def test_truncated_inside_header(tmp_path: Path, float_rec: Recording, cut: int):
    path = aiecg.write(float_rec, tmp_path / "t.aiecg")
    path.write_bytes(path.read_bytes()[:cut])
    with pytest.raises(TruncatedFileError):
        holterlab.io.read(path, format="aiecg")
    if cut >= 4:  # long enough to be recognised by its magic
        with pytest.raises(TruncatedFileError):
            holterlab.io.read(path)


def test_truncated_samples(tmp_path: Path, float_rec: Recording):
    path = aiecg.write(float_rec, tmp_path / "t.aiecg")
    path.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(TruncatedFileError, match="truncated"):
        holterlab.io.read(path)


def test_header_promises_more_samples(tmp_path: Path):
    path = _raw_file(tmp_path / "p.aiecg", _header(n_samples=5), b"\x00" * 16)
    with pytest.raises(TruncatedFileError, match="5 samples"):
        aiecg.read(path)


def test_trailing_garbage(tmp_path: Path, float_rec: Recording):
    path = aiecg.write(float_rec, tmp_path / "g.aiecg")
    path.write_bytes(path.read_bytes() + b"junk")
    with pytest.raises(CorruptFileError, match="4 unexpected bytes") as info:
        holterlab.io.read(path)
    assert not isinstance(info.value, TruncatedFileError)


@pytest.mark.parametrize("fs", [0, -250, "fast", None, True])
def test_impossible_sampling_rate(tmp_path: Path, fs):
    path = _raw_file(tmp_path / "f.aiecg", _header(fs=fs), b"\x00" * 16)
    with pytest.raises(HeaderError, match="fs|sampling rate"):
        aiecg.read(path)


@pytest.mark.parametrize(
    ("changes", "match"),
    [
        ({"leads": ...}, "'leads'"),
        ({"adc_gain": ...}, "'adc_gain'"),
        ({"leads": []}, "leads"),
        ({"leads": ["I", ""]}, "leads"),
        ({"adc_gain": [200]}, "one number per lead"),
        ({"adc_gain": [200, 0]}, "must not be 0"),
        ({"adc_zero": [0, "x"]}, "must be a number"),
        ({"n_samples": -1}, "n_samples"),
        ({"n_samples": 2.5}, "n_samples"),
        ({"start_time": "yesterday"}, "ISO-8601"),
    ],
)
def test_bad_header_fields(tmp_path: Path, changes: dict, match: str):
    path = _raw_file(tmp_path / "h.aiecg", _header(**changes), b"\x00" * 16)
    with pytest.raises(HeaderError, match=match):
        aiecg.read(path)


def test_header_not_json(tmp_path: Path):
    text = b"{not json"
    path = tmp_path / "j.aiecg"
    path.write_bytes(aiecg.MAGIC + b"\x01\x00" + struct.pack("<I", len(text)) + text)
    with pytest.raises(HeaderError, match="JSON"):
        holterlab.io.read(path)
    path.write_bytes(aiecg.MAGIC + b"\x01\x00" + struct.pack("<I", 2) + b"[]")
    with pytest.raises(HeaderError, match="object"):
        holterlab.io.read(path)


def test_header_length_beyond_file(tmp_path: Path):
    path = tmp_path / "l.aiecg"
    path.write_bytes(aiecg.MAGIC + b"\x01\x00" + struct.pack("<I", 10_000) + b"{}")
    with pytest.raises(TruncatedFileError):
        aiecg.read(path)


def test_long_reads_bypass_the_mapping_and_equal_short_ones(tmp_path: Path):
    rng = np.random.default_rng(4)
    n = 3 * aiecg._DIRECT_READ_ROWS + 123
    digital = rng.integers(-3000, 3000, size=(3, n)).astype(np.int16)
    gain, zero = np.full(3, 200.0), np.zeros(3)
    rec = Recording(
        ArraySource(digital, gain, zero), 250, ["I", "II", "V1"], adc_gain=gain, adc_zero=zero
    )
    back = aiecg.read(aiecg.write(rec, tmp_path / "long.aiecg"))
    whole = back.get_digital(None, 5, n - 7)  # one direct read
    np.testing.assert_array_equal(whole, digital[:, 5 : n - 7])
    pieces = [back.get_digital([2, 0], a, min(a + 1000, n)) for a in range(0, n, 1000)]
    np.testing.assert_array_equal(np.concatenate(pieces, axis=1), digital[[2, 0]])
    np.testing.assert_allclose(back.get_samples(None, 0, n), digital / 200.0, atol=1e-6)


def test_long_read_kernel_is_bit_identical_to_the_numpy_path(tmp_path: Path):
    rng = np.random.default_rng(5)
    n = aiecg._DIRECT_READ_ROWS + 4321
    digital = rng.integers(-30000, 30000, size=(3, n)).astype(np.int16)
    gain, zero = np.array([200.0, 137.5, 81.9]), np.array([0.0, 12.0, -7.0])
    rec = Recording(
        ArraySource(digital, gain, zero), 250, ["I", "II", "V1"], adc_gain=gain, adc_zero=zero
    )
    back = aiecg.read(aiecg.write(rec, tmp_path / "k.aiecg"))
    src = back.source
    for leads in ([0, 1, 2], [2, 1], [1]):
        fast = src.read(3, n, leads)  # long: the numba kernel
        ref = src._read_reference(3, n, leads)
        np.testing.assert_array_equal(fast.view(np.int32), ref.view(np.int32))
    # a gap (NaN written as the missing value) reads back as NaN through the kernel too
    x = rng.normal(0, 1, size=(2, n)).astype(np.float32)
    x[1, 100:180] = np.nan
    gap = aiecg.read(aiecg.write(Recording.from_array(x, 250), tmp_path / "g.aiecg")).source
    fast, ref = gap.read(0, n, [0, 1]), gap._read_reference(0, n, [0, 1])
    assert np.isnan(fast[1, 100:180]).all() and not np.isnan(fast[0]).any()
    np.testing.assert_array_equal(fast.view(np.int32), ref.view(np.int32))
