"""WFDB reading (against wfdb-python on the shared MIT-BIH data), writing, ZIP records, errors."""

from __future__ import annotations

import datetime as dt
import gc
import os
import shutil
import tempfile
import warnings
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from holterlab.annotations import Annotations
from holterlab.errors import (
    CorruptFileError,
    EmptyFileError,
    FormatError,
    HeaderError,
    HolterlabError,
    ParameterError,
    TruncatedFileError,
)
from holterlab.io import wfdb as hw
from holterlab.io.archive import zip_record
from holterlab.recording import Recording
from tests.conftest import MITDB, NSTDB

warnings.filterwarnings("ignore", module="wfdb")
wfdb = pytest.importorskip("wfdb")

MIT_RECORDS = sorted(p.with_suffix("") for p in MITDB.glob("*.hea"))
NST_RECORDS = [NSTDB / n for n in ("118e12", "118e24", "bw", "ma")]


# ---------------------------------------------------------------------- shared data vs wfdb
@pytest.mark.parametrize("record", MIT_RECORDS + NST_RECORDS, ids=lambda p: p.name)
def test_reads_like_wfdb(record: Path) -> None:
    assert MIT_RECORDS, "no MIT-BIH records found"
    ref_d = wfdb.rdrecord(str(record), physical=False)
    ref_p = wfdb.rdrecord(str(record))
    with hw.read(record.with_suffix(".hea")) as rec:
        assert rec.fs == ref_d.fs
        assert rec.leads == ref_d.sig_name
        assert rec.n_samples == ref_d.sig_len
        np.testing.assert_array_equal(rec.get_digital(), ref_d.d_signal.T)
        np.testing.assert_allclose(rec.get(), ref_p.p_signal.T, rtol=1e-6, atol=1e-7)
        np.testing.assert_array_equal(rec.adc_gain, ref_d.adc_gain)
        np.testing.assert_array_equal(rec.adc_zero, ref_d.baseline)
        if record.with_suffix(".atr").is_file():
            ann = wfdb.rdann(str(record), "atr")
            assert rec.annotations is not None
            np.testing.assert_array_equal(rec.annotations.sample, ann.sample)
            assert list(rec.annotations.symbol) == list(ann.symbol)
            assert [a.rstrip("\x00") for a in ann.aux_note] == list(rec.annotations.aux)
            assert rec.annotations.fs == rec.fs
        else:
            assert rec.annotations is None


def test_header_parse_matches_wfdb() -> None:
    for record in MIT_RECORDS[:6] + NST_RECORDS:
        ours = hw.parse_header_file(record.with_suffix(".hea"))
        ref = wfdb.rdheader(str(record))
        assert ours.fs == ref.fs and ours.n_samples == ref.sig_len and ours.n_sig == ref.n_sig
        assert [s.gain for s in ours.signals] == ref.adc_gain
        assert [s.baseline for s in ours.signals] == ref.baseline
        assert [s.checksum for s in ours.signals] == ref.checksum
        assert [s.init_value for s in ours.signals] == ref.init_value
        assert [s.description for s in ours.signals] == ref.sig_name
        assert [str(s.fmt) for s in ours.signals] == ref.fmt


def test_record_name_without_extension_and_dat_path() -> None:
    a = hw.read(MITDB / "101")
    b = hw.read(MITDB / "101.dat")
    np.testing.assert_array_equal(a.get(start=10, stop=11), b.get(start=10, stop=11))
    assert a.name == "101"


@pytest.fixture(scope="module")
def full_208():
    rec = hw.read(MITDB / "208.hea")
    return rec, rec.get_digital(), rec.get()


@settings(
    max_examples=60, deadline=2000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    start=st.integers(0, 650_000),
    length=st.integers(0, 5000),
    leads=st.sampled_from([[0], [1], [0, 1], [1, 0]]),
)
def test_windows_equal_full_read(full_208, start, length, leads) -> None:
    rec, digital, physical = full_208
    stop = min(rec.n_samples, start + length)
    start = min(start, stop)
    np.testing.assert_array_equal(rec.get_digital(leads, start, stop), digital[leads, start:stop])
    np.testing.assert_array_equal(rec.get_samples(leads, start, stop), physical[leads, start:stop])


@pytest.fixture(scope="module")
def full_118e24():
    rec = hw.read(NSTDB / "118e24.hea")
    return rec, rec.get_digital(), rec.get()


@settings(
    max_examples=25, deadline=3000, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(start=st.integers(0, 649_000), length=st.integers(1, 300_000), block=st.integers(64, 20_000))
def test_long_windows_cross_blocks(full_118e24, start, length, block) -> None:
    rec, digital, physical = full_118e24
    stop = min(rec.n_samples, start + length)
    old = hw._BLOCK_SAMPLES
    hw._BLOCK_SAMPLES = block  # small blocks put many block boundaries inside a window
    try:
        np.testing.assert_array_equal(rec.get_digital(None, start, stop), digital[:, start:stop])
        np.testing.assert_array_equal(
            rec.get_samples([1], start, stop),
            hw.read(NSTDB / "118e24.hea").get_samples([1], start, stop),
        )
    finally:
        hw._BLOCK_SAMPLES = old


# ---------------------------------------------------------------------- synthetic layouts
def _write_record(directory: Path, name: str, d: np.ndarray, fmt: str, **kw) -> Path:
    n_sig = d.shape[1]
    r = wfdb.Record(
        record_name=name,
        n_sig=n_sig,
        fs=kw.get("fs", 250),
        sig_len=d.shape[0],
        file_name=kw.get("file_name", [f"{name}.dat"] * n_sig),
        fmt=[fmt] * n_sig,
        adc_gain=kw.get("adc_gain", [100.0, 200.0, 1000.0][:n_sig]),
        baseline=kw.get("baseline", [0, 5, -3][:n_sig]),
        units=kw.get("units", ["mV", "uV", "V"][:n_sig]),
        sig_name=[f"s{i}" for i in range(n_sig)],
        d_signal=d,
        adc_res=[12] * n_sig,
        adc_zero=[0] * n_sig,
        init_value=list(d[0]),
        checksum=[0] * n_sig,
        block_size=[0] * n_sig,
    )
    r.wrsamp(write_dir=str(directory))
    return directory / f"{name}.hea"


def _check_against_wfdb(hea: Path) -> Recording:
    rec = hw.read(hea)
    ref = wfdb.rdrecord(str(hea.with_suffix("")), physical=False)
    np.testing.assert_array_equal(rec.get_digital(), ref.d_signal.T)
    n = rec.n_samples
    for a, b in [(0, 1), (1, 2), (n // 3, n // 3 + 1), (n // 3, 2 * n // 3 + 1), (n - 1, n)]:
        np.testing.assert_array_equal(rec.get_digital(None, a, b), ref.d_signal.T[:, a:b])
    ref_p = wfdb.rdrecord(str(hea.with_suffix("")))
    factor = np.array([{"mV": 1.0, "uV": 1e-3, "V": 1e3}[u] for u in ref_p.units])
    with np.errstate(invalid="ignore"):
        np.testing.assert_allclose(rec.get(), ref_p.p_signal.T * factor[:, None], rtol=1e-6)
    return rec


@pytest.mark.parametrize("fmt", ["16", "80", "212", "24", "32"])
@pytest.mark.parametrize("n", [1, 1000, 1001])
def test_formats_written_by_wfdb(tmp_path, fmt, n) -> None:
    lo, hi = hw.DIGITAL_BOUNDS[int(fmt)]
    d = np.random.default_rng(n).integers(lo + 1, hi, size=(n, 3))
    rec = _check_against_wfdb(_write_record(tmp_path, f"r{fmt}", d, fmt))
    assert type(rec.source).__name__ == "FrameFileSource"
    assert rec.metadata["units"] == ["mV", "uV", "V"]


def test_invalid_samples_read_as_nan(tmp_path) -> None:
    d = np.random.default_rng(0).integers(-2000, 2000, size=(500, 2))
    d[10, 0] = -2048
    rec = _check_against_wfdb(_write_record(tmp_path, "nan", d, "212"))
    x = rec.get()
    assert np.isnan(x[0, 10]) and np.isnan(x).sum() == 1


def test_signals_split_over_files_and_interleaved(tmp_path) -> None:
    d = np.random.default_rng(3).integers(-30000, 30000, size=(777, 3))
    hea = _write_record(tmp_path, "split", d, "16", file_name=["a.dat", "a.dat", "b.dat"])
    rec = _check_against_wfdb(hea)
    assert sorted(p.name for p in tmp_path.glob("*.dat")) == ["a.dat", "b.dat"]
    assert rec.n_leads == 3


def _hand_record(tmp_path: Path, fmt: int, d: np.ndarray, data: bytes, *, offset=0) -> Path:
    n, n_sig = d.shape
    fmt_field = f"{fmt}" + (f"+{offset}" if offset else "")
    lines = [f"h{fmt} {n_sig} 360 {n}"]
    lines += [f"h{fmt}.dat {fmt_field} 200(0)/mV 12 0 {d[0, i]} 0 0 sig{i}" for i in range(n_sig)]
    (tmp_path / f"h{fmt}.hea").write_text("\n".join(lines) + "\n")
    (tmp_path / f"h{fmt}.dat").write_bytes(b"\x7f" * offset + data)
    return tmp_path / f"h{fmt}.hea"


def test_formats_61_160_with_byte_offset(tmp_path) -> None:
    d = np.random.default_rng(5).integers(-32000, 32000, size=(401, 2))
    _check_against_wfdb(_hand_record(tmp_path, 61, d, d.astype(">i2").tobytes(), offset=37))
    raw = (d + 32768).astype("<u2").tobytes()
    _check_against_wfdb(_hand_record(tmp_path, 160, d, raw, offset=0))
    # format 16 with an odd byte offset
    _check_against_wfdb(_hand_record(tmp_path, 16, d, d.astype("<i2").tobytes(), offset=3))


def test_library_fallback_formats_311_and_8(tmp_path) -> None:
    rng = np.random.default_rng(8)
    d = rng.integers(-500, 500, size=(301, 2))
    flat = (d.reshape(-1) & 0x3FF).astype(np.uint32)
    flat = np.concatenate([flat, np.zeros((-flat.size) % 3, dtype=np.uint32)])
    words = flat[0::3] | (flat[1::3] << 10) | (flat[2::3] << 20)
    rec = _check_against_wfdb(_hand_record(tmp_path, 311, d, words.astype("<u4").tobytes()))
    assert type(rec.source).__name__ == "WfdbLibrarySource"
    d8 = np.cumsum(rng.integers(-5, 6, size=(300, 2)), axis=0)
    diffs = np.diff(np.vstack([d8[:1] * 0, d8]), axis=0)
    hea = _hand_record(tmp_path, 8, d8, diffs.astype(np.int8).tobytes())
    text = hea.read_text().replace(f" {d8[0, 0]} 0 0 sig0", " 0 0 0 sig0")
    hea.write_text(text.replace(f" {d8[0, 1]} 0 0 sig1", " 0 0 0 sig1"))
    rec = hw.read(hea)
    ref = wfdb.rdrecord(str(hea.with_suffix("")), physical=False).d_signal.T
    np.testing.assert_array_equal(rec.get_digital(), ref)
    np.testing.assert_array_equal(rec.get_digital(None, 120, 200), ref[:, 120:200])


def test_multi_frequency_keeps_most_common_rate(tmp_path) -> None:
    rng = np.random.default_rng(4)
    n = 200
    e = [rng.integers(-1000, 1000, size=n * 2), rng.integers(-1000, 1000, size=n * 2)]
    e.append(rng.integers(-1000, 1000, size=n))
    r = wfdb.Record(
        record_name="mf",
        n_sig=3,
        fs=100,
        sig_len=n,
        file_name=["mf.dat"] * 3,
        fmt=["16"] * 3,
        samps_per_frame=[2, 2, 1],
        adc_gain=[200.0] * 3,
        baseline=[0] * 3,
        units=["mV"] * 3,
        sig_name=["a", "b", "slow"],
        e_d_signal=e,
        adc_res=[16] * 3,
        adc_zero=[0] * 3,
        init_value=[int(x[0]) for x in e],
        checksum=[0] * 3,
        block_size=[0] * 3,
    )
    r.wrsamp(write_dir=str(tmp_path), expanded=True)
    rec = hw.read(tmp_path / "mf.hea")
    assert rec.fs == 200 and rec.leads == ["a", "b"] and rec.n_samples == 2 * n
    assert rec.metadata["dropped_channels"] == ["slow"]
    np.testing.assert_array_equal(rec.get_digital(), np.vstack(e[:2]))
    np.testing.assert_array_equal(rec.get_digital(None, 3, 8), np.vstack(e[:2])[:, 3:8])


# ---------------------------------------------------------------------- header & file errors
def _copy_record(tmp_path: Path, name: str = "101") -> Path:
    for ext in ("hea", "dat", "atr"):
        shutil.copy(MITDB / f"{name}.{ext}", tmp_path / f"{name}.{ext}")
    return tmp_path / f"{name}.hea"


@pytest.mark.parametrize(
    ("record_line", "error", "words"),
    [
        ("101 2 0 650000", HeaderError, "must be positive"),
        ("101 2 -360 650000", HeaderError, "must be positive"),
        ("101 2 abc 650000", HeaderError, "not a number"),
        ("101 2 360 65x", HeaderError, "not a whole number"),
        ("101 3 360 650000", HeaderError, "declares 3 signals"),
        ("101 2 360 650000 25:00:00", HeaderError, "not a valid time"),
        ("101 2 360 650000 10:00:00 31/02/2020", HeaderError, "not a valid date"),
        ("101 2 360 650001", TruncatedFileError, "truncated"),
        ("101/2 2 360 650000", FormatError, "multi-segment"),
    ],
)
def test_header_errors(tmp_path, record_line, error, words) -> None:
    hea = _copy_record(tmp_path)
    lines = hea.read_text().splitlines()
    lines[0] = record_line
    hea.write_text("\n".join(lines) + "\n")
    with pytest.raises(error, match=words):
        hw.read(hea)


def test_missing_dat_is_a_clear_error(tmp_path) -> None:
    hea = _copy_record(tmp_path)
    (tmp_path / "101.dat").unlink()
    with pytest.raises(CorruptFileError, match="101.dat, which is missing"):
        hw.read(hea)


def test_truncated_dat(tmp_path) -> None:
    hea = _copy_record(tmp_path)
    dat = tmp_path / "101.dat"
    dat.write_bytes(dat.read_bytes()[:100_001])
    with pytest.raises(TruncatedFileError, match="promises 650,000 samples"):
        hw.read(hea)


def test_missing_sample_count_comes_from_file_size(tmp_path) -> None:
    hea = _copy_record(tmp_path)
    lines = hea.read_text().splitlines()
    lines[0] = "101 2 360"
    hea.write_text("\n".join(lines) + "\n")
    assert hw.read(hea).n_samples == 650_000


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (b"", EmptyFileError),
        (b"   \n", EmptyFileError),
        (b"\x00\x01\x02binary", HeaderError),
        (b"# only a comment\n", HeaderError),
        (b"rec 1 360 10\n../evil.dat 16 200 16 0 0 0 0 x\n", HeaderError),
        (b"rec 1 360 10\nrec.dat 999 200 16 0 0 0 0 x\n", HeaderError),
        (b"rec 0 360 10\n", FormatError),
        (b"rec 1 360 10\n~ 16 200 16 0 0 0 0 x\n", FormatError),
    ],
)
def test_broken_headers(tmp_path, content, error) -> None:
    hea = tmp_path / "rec.hea"
    hea.write_bytes(content)
    with pytest.raises(error):
        hw.read(hea)


def test_empty_dat(tmp_path) -> None:
    (tmp_path / "rec.hea").write_text("rec 1 360\nrec.dat 16 200 16 0 0 0 0 x\n")
    (tmp_path / "rec.dat").write_bytes(b"")
    with pytest.raises(EmptyFileError):
        hw.read(tmp_path / "rec.hea")


def test_sniff() -> None:
    assert hw.sniff((MITDB / "101.hea").read_bytes())
    assert hw.sniff(b"# comment\n100 2 360 650000\n100.dat 212 200 11 1024 995 -22131 0 MLII\n")
    assert not hw.sniff(b"0.1,0.2\n0.3,0.4\n")
    assert not hw.sniff(b"1 2 3\n4 5 6\n")
    assert not hw.sniff(b"0       X X X X")
    assert not hw.sniff(b"")


# ---------------------------------------------------------------------- writing
def test_write_copies_mit_record_exactly(tmp_path) -> None:
    src = hw.read(MITDB / "119.hea")
    src.start_time = dt.datetime(2020, 2, 3, 4, 5, 6, 250000)
    out = hw.write(src, tmp_path / "copy.hea")
    assert out == tmp_path / "copy.hea"
    back = hw.read(out)
    np.testing.assert_array_equal(back.get_digital(), src.get_digital())
    np.testing.assert_array_equal(back.get(), src.get())
    assert back.annotations == src.annotations
    assert back.start_time == src.start_time
    # checksums and initial values written like the original header's
    ours, orig = hw.parse_header_file(out), hw.parse_header_file(MITDB / "119.hea")
    assert [s.checksum for s in ours.signals] == [s.checksum for s in orig.signals]
    assert [s.init_value for s in ours.signals] == [s.init_value for s in orig.signals]
    ref = wfdb.rdrecord(str(tmp_path / "copy"))
    np.testing.assert_allclose(ref.p_signal.T, src.get(), rtol=1e-6)


def _float_recording(n: int = 5003, seed: int = 0) -> Recording:
    rng = np.random.default_rng(seed)
    scale = np.array([[0.5], [3.0], [0.002]])
    offset = np.array([[0.0], [10.0], [-2.0]])
    x = (rng.standard_normal((3, n)) * scale + offset).astype(np.float32)
    x[1, 17] = np.nan
    ann = Annotations(np.sort(rng.integers(0, n, 40)), ["N"] * 39 + ["V"], 250.0)
    tz = dt.timezone(dt.timedelta(hours=-5))
    return Recording.from_array(
        x,
        250.0,
        ["I", "II", "V1"],
        start_time=dt.datetime(2021, 6, 1, 8, tzinfo=tz),
        annotations=ann,
    )


@pytest.mark.parametrize("chunk_seconds", [3600.0, 1.0, 0.3])
def test_write_float_data_within_quantisation(tmp_path, chunk_seconds) -> None:
    rec = _float_recording()
    hw.write(rec, tmp_path / "f", chunk_seconds=chunk_seconds)
    back = hw.read(tmp_path / "f.hea")
    assert back.n_samples == rec.n_samples and back.leads == rec.leads
    x = rec.get().astype(np.float64)
    d = back.get_digital().astype(np.float64)
    y = (d - back.adc_zero[:, None]) / back.adc_gain[:, None]
    y[d == -32768] = np.nan
    err = np.abs(y - x)
    assert np.array_equal(np.isnan(err), np.isnan(x))
    assert np.all(np.nanmax(err, axis=1) <= 0.5 / back.adc_gain * (1 + 1e-9))
    # the data use about 80 % of the int16 range (headroom), never the invalid value
    used = np.nanmax(np.abs(d - np.nanmean(d, axis=1, keepdims=True)), axis=1)
    assert np.all(used < 32767) and np.all(used > 0.5 * 32767 / 1.25)
    assert back.annotations == rec.annotations
    assert back.start_time == rec.start_time and back.start_time.utcoffset() is not None


def test_written_header_is_last_and_atomic(tmp_path) -> None:
    rec = _float_recording()
    hw.write(rec, tmp_path / "a.hea")

    class Boom(Exception):
        pass

    calls = {"n": 0}
    real = rec.source.read

    def failing(start, stop, leads):
        calls["n"] += 1
        if calls["n"] > 3:
            raise Boom("disk on fire")
        return real(start, stop, leads)

    rec.source.read = failing  # type: ignore[method-assign]
    with pytest.raises(Boom):
        hw.write(rec, tmp_path / "a.hea", chunk_seconds=1.0)
    # the previous header is gone, no new one was written, no temporary files remain
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.atr", "a.dat"]


def test_write_zip_and_read_it_back(tmp_path) -> None:
    rec = _float_recording()
    out = hw.write(rec, tmp_path / "packed.zip")
    assert out.suffix == ".zip"
    with zipfile.ZipFile(out) as zf:
        assert sorted(zf.namelist()) == ["packed.atr", "packed.dat", "packed.hea"]
    back = hw.read(out)
    assert back.annotations == rec.annotations and back.n_samples == rec.n_samples


def test_bad_output_names(tmp_path) -> None:
    rec = _float_recording(100)
    with pytest.raises(EmptyFileError):
        hw.write(Recording.from_array(np.zeros((1, 0), np.float32), 250.0), tmp_path / "e")
    with pytest.raises(ParameterError, match="letters, digits"):
        hw.write(rec, tmp_path / "my record.hea")
    with pytest.raises(ParameterError):
        hw.write(rec, tmp_path / "x.csv")


# ---------------------------------------------------------------------- ZIP records
def test_zip_record_reads_and_cleans_up(tmp_path) -> None:
    hea = _copy_record(tmp_path)
    archive = zip_record(hea, tmp_path / "rec.zip")
    rec = hw.read(archive)
    ref = hw.read(hea)
    np.testing.assert_array_equal(rec.get(start=100, stop=110), ref.get(start=100, stop=110))
    assert rec.annotations == ref.annotations
    assert rec.path == str(archive) and rec.name == "rec"
    extracted = Path(rec.source._groups[0].path).parent
    assert extracted.is_dir() and extracted != tmp_path
    rec.close()
    assert not extracted.exists()


def test_zip_record_temp_folder_goes_with_garbage_collection(tmp_path) -> None:
    archive = zip_record(_copy_record(tmp_path), tmp_path / "rec.zip")
    rec = hw.read(archive)
    extracted = Path(rec.source._groups[0].path).parent
    assert extracted.is_dir()
    del rec
    gc.collect()
    assert not extracted.exists()


def test_zip_with_record_in_subfolder_and_macos_junk(tmp_path) -> None:
    with zipfile.ZipFile(tmp_path / "r.zip", "w") as zf:
        for ext in ("hea", "dat", "atr"):
            zf.write(MITDB / f"101.{ext}", f"record/101.{ext}")
        zf.writestr("__MACOSX/record/._101.hea", b"junk")
    rec = hw.read(tmp_path / "r.zip")
    assert rec.leads == ["MLII", "V1"] and rec.annotations is not None


def test_zip_with_two_records_is_refused(tmp_path) -> None:
    with zipfile.ZipFile(tmp_path / "two.zip", "w") as zf:
        for name in ("101", "106"):
            for ext in ("hea", "dat"):
                zf.write(MITDB / f"{name}.{ext}", f"{name}.{ext}")
    with pytest.raises(FormatError, match="2 WFDB headers"):
        hw.read(tmp_path / "two.zip")
    assert not list(Path(tempfile.gettempdir()).glob("holterlab-wfdb-*/106.dat"))


# ---------------------------------------------------------------------- fuzzing
_SMALL = None


def _small_record() -> tuple[bytes, bytes]:
    global _SMALL
    if _SMALL is None:
        with tempfile.TemporaryDirectory() as tmp:
            d = wfdb.rdrecord(str(MITDB / "101"), sampto=301, physical=False).d_signal
            hea = _write_record(
                Path(tmp),
                "small",
                d,
                "212",
                adc_gain=[200.0, 200.0],
                baseline=[1024, 1024],
                units=["mV", "mV"],
            )
            _SMALL = (hea.read_bytes(), hea.with_suffix(".dat").read_bytes())
    return _SMALL


@settings(max_examples=150, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_corrupted_records_raise_only_holterlab_errors(data) -> None:
    hea, dat = _small_record()
    target = data.draw(st.sampled_from(["hea", "dat", "both"]))
    if target in ("hea", "both"):
        hea = _mutate(data, hea)
    if target in ("dat", "both"):
        dat = _mutate(data, dat)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "small.hea").write_bytes(hea)
        (Path(tmp) / "small.dat").write_bytes(dat)
        try:
            with hw.read(Path(tmp) / "small.hea") as rec:
                rec.get()
                rec.get(start=0.1, stop=0.5)
                rec.get_digital()
        except HolterlabError:
            pass


def _mutate(data, blob: bytes) -> bytes:
    b = bytearray(blob)
    kind = data.draw(st.sampled_from(["flip", "truncate", "insert", "delete"]))
    if not b:
        return bytes(b)
    if kind == "truncate":
        return bytes(b[: data.draw(st.integers(0, len(b)))])
    i = data.draw(st.integers(0, len(b) - 1))
    if kind == "flip":
        b[i] = data.draw(st.integers(0, 255))
    elif kind == "insert":
        b[i:i] = data.draw(st.binary(min_size=1, max_size=8))
    else:
        del b[i : i + data.draw(st.integers(1, 8))]
    return bytes(b)


def test_no_file_handles_leak(tmp_path) -> None:
    if not Path("/proc/self/fd").is_dir():
        pytest.skip("needs /proc")
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        with hw.read(MITDB / "101.hea") as rec:
            rec.get(start=0, stop=1)
    assert len(os.listdir("/proc/self/fd")) <= before + 1


class _RecordingSource:
    """Wraps a source and remembers the longest window read (writers must read in chunks)."""

    def __init__(self, source) -> None:
        self._source = source
        self.n_samples = source.n_samples
        self.longest = 0

    def read(self, start, stop, leads):
        self.longest = max(self.longest, stop - start)
        return self._source.read(start, stop, leads)

    def close(self) -> None:
        self._source.close()


@pytest.mark.parametrize("suffix", [".hea", ".edf", ".bdf"])
def test_writers_read_in_chunks_through_the_registry(tmp_path, suffix) -> None:
    from holterlab.io import read, write

    rec = _float_recording(20_000)
    spy = _RecordingSource(rec.source)
    rec.source = spy
    out = write(rec, tmp_path / f"w{suffix}", chunk_seconds=4.0)
    assert spy.longest <= 1000  # 4 s at 250 Hz
    back = read(out)
    assert back.n_samples == 20_000 and back.format == ("wfdb" if suffix == ".hea" else "edf")
