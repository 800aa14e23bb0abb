"""EDF/EDF+/BDF reading (against pyedflib on the shared test files), writing and errors."""

from __future__ import annotations

import datetime as dt
import tempfile
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
from holterlab.io import edf
from holterlab.io import wfdb as hw
from holterlab.recording import Recording
from tests.conftest import EDF_DIR, MITDB

pyedflib = pytest.importorskip("pyedflib")

READABLE = sorted(
    p
    for p in EDF_DIR.glob("*/*.[eb]df")
    if p.name not in ("test_generator_2.edf", "test_edfann.edf")
)
UNIT = {"uV": 1e-3, "mV": 1.0, "V": 1e3}


# ---------------------------------------------------------------------- shared test files
def test_shared_files_present() -> None:
    assert len(READABLE) >= 7


@pytest.mark.parametrize("path", READABLE, ids=lambda p: p.name)
@pytest.mark.parametrize("engine", ["direct", "pyedflib"])
def test_samples_equal_pyedflib(path: Path, engine: str) -> None:
    reader = pyedflib.EdfReader(str(path))  # reference values first: one handle per file
    try:
        ref = {}
        for ch, label in enumerate(reader.getSignalLabels()):
            unit = UNIT.get(reader.getPhysicalDimension(ch), 1.0)
            ref[label] = (
                reader.getSampleFrequency(ch),
                reader.readSignal(ch, digital=True),
                reader.readSignal(ch) * unit,
            )
    finally:
        reader.close()
    with edf.read(path, engine=engine) as rec:
        assert "EDF Annotations" not in rec.leads
        for k, lead in enumerate(rec.leads):
            fs, digital, physical = ref[lead]
            assert rec.fs == fs and rec.n_samples == digital.size
            np.testing.assert_array_equal(rec.get_digital(k)[0], digital)
            np.testing.assert_allclose(rec.get(k)[0], physical, rtol=1e-6, atol=1e-9)
            n = rec.n_samples
            for a, b in [(0, 1), (n // 3, n // 2), (n - 7, n)]:
                np.testing.assert_allclose(
                    rec.get_samples(k, a, b)[0], physical[a:b], rtol=1e-6, atol=1e-9
                )


def test_channels_with_other_rates_are_dropped() -> None:
    rec = edf.read(EDF_DIR / "pyedflib-0.1.42" / "test_generator.bdf")
    assert rec.leads == ["sine 5Hz"] and rec.fs == 1000
    assert rec.metadata["dropped_channels"] == [
        "square 13Hz",
        "ramp 7Hz",
        "pink noise",
        "white noise",
    ]
    chosen = edf.read(EDF_DIR / "pyedflib-0.1.42" / "test_generator.bdf", leads=["ramp 7Hz"])
    assert chosen.fs == 500 and chosen.leads == ["ramp 7Hz"]
    with pytest.raises(ParameterError, match="different sampling rates"):
        edf.read(EDF_DIR / "pyedflib-0.1.42" / "test_generator.bdf", leads=[0, 1])


def test_legacy_annotation_channel_is_not_a_signal() -> None:
    rec = edf.read(EDF_DIR / "pyedflib-0.1.42" / "test_legacy.edf")
    assert rec.n_leads == 11 and "EDF Annotations" not in rec.leads
    assert "dropped_channels" not in rec.metadata


def test_subsecond_start_and_annotations() -> None:
    rec = edf.read(EDF_DIR / "pyedflib-0.1.42" / "test_subsecond.edf")
    # the first data record starts 0.3945312 s after 04:05:56 (its time-keeping TAL)
    assert rec.start_time == dt.datetime(2020, 1, 24, 4, 5, 56, 394531)
    reader = pyedflib.EdfReader(str(EDF_DIR / "pyedflib-0.1.42" / "test_subsecond.edf"))
    onset, _, text = reader.readAnnotations()
    reader.close()
    assert list(rec.annotations.aux) == list(text)
    assert set(rec.annotations.symbol) == {'"'}
    np.testing.assert_array_equal(rec.annotations.sample, np.round(onset * 128).astype(int))


def test_recording_annotations_of_generator() -> None:
    rec = edf.read(EDF_DIR / "pyedflib-0.1.42" / "test_generator.edf")
    assert list(rec.annotations.aux) == ["Recording starts", "Recording ends"]
    assert rec.n_samples == 120_000  # the end marker lies at the end: nothing trimmed
    assert rec.start_time == dt.datetime(2011, 4, 4, 12, 57, 2)


def test_non_ascii_header_gives_a_clear_error() -> None:
    path = EDF_DIR / "wfdb-python" / "test_generator_2.edf"
    with pytest.raises(HeaderError, match=r"signal 9 \('sine 15 Hz'\): the physical dimension"):
        edf.read(path)
    rec = edf.read(path, lenient=True)
    assert rec.n_leads == 11 and rec.n_samples == 120_000
    assert any("non-ASCII" in w for w in rec.metadata["header_warnings"])
    assert "sine 15 Hz" in rec.metadata["unit_notes"]
    # pyedflib refuses the file, so the annotations come from the Python TAL parser
    assert list(rec.annotations.aux) == ["RECORD START", "REC STOP"]
    ref = hw.read(EDF_DIR / "wfdb-python" / "test_generator_2.hea")
    # wfdb's conversion of the same recording holds the same stored integers
    np.testing.assert_array_equal(rec.get_digital(3), ref.get_digital(3))


def test_annotation_only_file() -> None:
    path = EDF_DIR / "wfdb-python" / "test_edfann.edf"
    with pytest.raises(FormatError, match="no signal channels.*read_edf_annotations"):
        edf.read(path)
    ann = edf.read_edf_annotations(path)
    events = edf.read_edf_events(path)
    assert len(ann) == len(events) == 856
    assert ann.fs == 1000.0 and ann.aux[0] == "Sleep stage W" and ann.symbol[0] == '"'
    assert events[0] == (0.0, 30.0, "Sleep stage W")
    np.testing.assert_array_equal(ann.sample, np.round([e[0] * 1000 for e in events]))


def test_sniff() -> None:
    assert edf.sniff(b"0       X X X")
    assert edf.sniff(b"\xffBIOSEMI")
    assert not edf.sniff(b"100 2 360 650000\n")
    assert not edf.sniff(b"PK\x03\x04")


def test_pyedflib_engine_keeps_one_handle() -> None:
    path = EDF_DIR / "pyedflib-0.1.42" / "test_generator.edf"
    with edf.read(path, engine="pyedflib"):
        with pytest.raises(CorruptFileError, match="open already"):
            edf.read(path, engine="pyedflib")
        # the direct engine does not hold the file open
        a = edf.read(path)
        b = edf.read(path)
        np.testing.assert_array_equal(a.get(start=3, stop=4), b.get(start=3, stop=4))


# ---------------------------------------------------------------------- writing
def test_write_mit_record_exact_edf_and_bdf(tmp_path) -> None:
    src = hw.read(MITDB / "208.hea")
    src.start_time = dt.datetime(2022, 3, 4, 5, 6, 7, 890000)
    for name in ("r.edf", "r.bdf"):
        edf.write(src, tmp_path / name)
        back = edf.read(tmp_path / name)
        assert back.metadata["file_type"] == ("BDF+C" if name.endswith("bdf") else "EDF+C")
        assert back.n_samples == src.n_samples and back.leads == src.leads
        np.testing.assert_array_equal(back.get_digital(), src.get_digital())
        np.testing.assert_array_equal(back.get(), src.get())
        assert back.annotations == src.annotations
        assert back.start_time == src.start_time
        # pyedflib reads the same (plus the padding of the last data record)
        reader = pyedflib.EdfReader(str(tmp_path / name))
        n = src.n_samples
        assert reader.getNSamples()[0] == 1806 * 360
        np.testing.assert_allclose(reader.readSignal(0)[:n], src.get(0)[0], rtol=1e-6, atol=1e-9)
        np.testing.assert_array_equal(reader.readSignal(0)[n:], src.get(0)[0, -1])
        reader.close()


def _float_recording(n: int, fs: float = 250.0, seed: int = 0) -> Recording:
    rng = np.random.default_rng(seed)
    scale = np.array([[0.5], [3.0], [0.002]])
    x = (rng.standard_normal((3, n)) * scale + [[0.0], [10.0], [-2.0]]).astype(np.float32)
    ann = Annotations(
        np.sort(rng.integers(0, n, 3 * n // int(fs) + 5)),
        None,
        fs,
    )
    ann.symbol[:] = "N"
    ann.symbol[-1] = "V"
    ann.symbol[0] = "+"
    ann.aux[0] = "(AFIB"
    ann.symbol[1] = '"'
    ann.aux[1] = "electrode off"
    return Recording.from_array(
        x,
        fs,
        ["I", "II", "a very long lead name"],
        start_time=dt.datetime(2019, 12, 31, 23, 59, 59),
        annotations=ann,
    )


@pytest.mark.parametrize("suffix", [".edf", ".bdf"])
@pytest.mark.parametrize(("n", "fs"), [(2500, 250.0), (2503, 250.0), (1001, 128.5)])
def test_write_float_data_within_quantisation(tmp_path, suffix, n, fs) -> None:
    rec = _float_recording(n, fs)
    out = edf.write(rec, tmp_path / f"f{suffix}", chunk_seconds=1.0)
    back = edf.read(out)
    assert back.n_samples == n and back.fs == fs  # padding of the last record trimmed
    assert back.leads == ["I", "II", "a very long lead"]
    x = rec.get().astype(np.float64)
    d = back.get_digital().astype(np.float64)
    y = (d - back.adc_zero[:, None]) / back.adc_gain[:, None]
    assert np.all(np.abs(y - x).max(axis=1) <= 0.5 / back.adc_gain * (1 + 1e-9))
    # float32 values as returned, within quantisation plus float32 rounding
    tol = 0.5 / back.adc_gain[:, None] + np.spacing(np.abs(x).astype(np.float32))
    assert np.all(np.abs(back.get() - x) <= tol)
    assert back.annotations == rec.annotations
    assert back.start_time == rec.start_time


def test_write_is_atomic(tmp_path) -> None:
    rec = _float_recording(5000)

    def failing(start, stop, leads):
        raise RuntimeError("source broke")

    rec.source.read = failing  # type: ignore[method-assign]
    with pytest.raises(RuntimeError):
        edf.write(rec, tmp_path / "x.edf")
    assert list(tmp_path.iterdir()) == []


def test_unknown_start_round_trip(tmp_path) -> None:
    rec = _float_recording(500)
    rec.start_time = None
    edf.write(rec, tmp_path / "x.edf")
    assert edf.read(tmp_path / "x.edf").start_time is None


def test_write_constant_and_nan_leads(tmp_path) -> None:
    x = np.zeros((2, 1000), dtype=np.float32)
    x[1] = np.nan
    edf.write(Recording.from_array(x, 100.0), tmp_path / "c.edf")
    back = edf.read(tmp_path / "c.edf")
    np.testing.assert_array_equal(back.get(0)[0], 0.0)
    assert np.all(np.isfinite(back.get(1)))  # EDF has no invalid marker


# ---------------------------------------------------------------------- broken input
@pytest.fixture(scope="module")
def small_edf_bytes() -> bytes:
    with tempfile.TemporaryDirectory() as tmp:
        edf.write(_float_recording(2000), Path(tmp) / "s.edf")
        return (Path(tmp) / "s.edf").read_bytes()


def _field(data: bytes, offset: int, width: int, text: str) -> bytes:
    return data[:offset] + text.ljust(width).encode("latin-1") + data[offset + width :]


def test_broken_files(tmp_path, small_edf_bytes) -> None:
    data = small_edf_bytes
    ns = int(data[252:256])
    cases = {
        "empty": (b"", EmptyFileError, "empty"),
        "short": (data[:100], TruncatedFileError, "256"),
        "magic": (b"1" + data[1:], FormatError, "not an EDF or BDF"),
        "records": (_field(data, 236, 8, "100"), TruncatedFileError, "promises 100 data"),
        "cut": (data[: len(data) - 10], TruncatedFileError, "truncated"),
        "headersize": (data[: 256 + ns * 256 - 5], TruncatedFileError, "holds only"),
        "duration0": (_field(data, 244, 8, "0"), HeaderError, "no positive sampling rate"),
        "duration-": (_field(data, 244, 8, "-1"), HeaderError, "no positive sampling rate"),
        "nsig": (_field(data, 252, 4, "7"), HeaderError, "header size"),
        "nsig-text": (_field(data, 252, 4, "x"), HeaderError, "not a whole number"),
        "date": (_field(data, 168, 8, "31.02.20"), HeaderError, "not a valid date"),
        "physmin": (_field(data, 256 + ns * 104, 8, "abc"), HeaderError, "physical minimum"),
        "digrange": (
            _field(data, 256 + ns * 120, 8, "40000"),
            HeaderError,
            "digital range|digital minimum",
        ),
        "spr": (_field(data, 256 + ns * 216, 8, "0"), HeaderError, "samples per data record"),
    }
    for name, (content, error, words) in cases.items():
        path = tmp_path / f"{name}.edf"
        path.write_bytes(content)
        with pytest.raises(error, match=words):
            edf.read(path)


def test_repair_reads_complete_records(tmp_path, small_edf_bytes) -> None:
    path = tmp_path / "cut.edf"
    ns = int(small_edf_bytes[252:256])
    record = (len(small_edf_bytes) - 256 * (ns + 1)) // 8  # 2000 samples at 250 Hz: 8 records
    path.write_bytes(small_edf_bytes[: len(small_edf_bytes) - record - 3])
    rec = edf.read(path, repair=True)
    assert rec.n_samples == 6 * 250
    assert any("truncated" in w for w in rec.metadata["header_warnings"])


@settings(max_examples=150, deadline=3000, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_corrupted_files_raise_only_holterlab_errors(small_edf_bytes, data) -> None:
    blob = bytearray(small_edf_bytes)
    for _ in range(data.draw(st.integers(1, 4))):
        kind = data.draw(st.sampled_from(["header", "any", "truncate", "delete"]))
        if not blob:
            break
        if kind == "truncate":
            del blob[data.draw(st.integers(0, len(blob) - 1)) :]
        elif kind == "delete":
            i = data.draw(st.integers(0, len(blob) - 1))
            del blob[i : i + data.draw(st.integers(1, 16))]
        else:
            hi = min(len(blob), 256 * 6) if kind == "header" else len(blob)
            blob[data.draw(st.integers(0, hi - 1))] = data.draw(st.integers(0, 255))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "f.edf"
        path.write_bytes(bytes(blob))
        for engine in ("direct", "pyedflib"):
            try:
                with edf.read(path, engine=engine) as rec:
                    rec.get()
                    rec.get(start=1.0, stop=2.0)
            except HolterlabError:
                pass


@pytest.mark.parametrize(
    "path",
    [
        EDF_DIR / "pyedflib-0.1.42" / "test_generator.edf",
        EDF_DIR / "pyedflib-0.1.42" / "test_subsecond.edf",
        EDF_DIR / "pyedflib-0.1.42" / "test_utf8.edf",
        EDF_DIR / "wfdb-python" / "test_edfann.edf",
    ],
    ids=lambda p: p.name,
)
def test_python_tal_parser_equals_pyedflib(path: Path) -> None:
    ours = edf.parse_tals(edf.parse_edf_header(path))
    ref = edf.read_edf_events(path)
    assert [e[2] for e in ours] == [e[2] for e in ref]
    np.testing.assert_allclose([e[0] for e in ours], [e[0] for e in ref], atol=1e-6)
    assert [e[1] for e in ours] == [e[1] for e in ref]


def test_trailing_bytes_are_ignored(tmp_path, small_edf_bytes) -> None:
    path = tmp_path / "long.edf"
    path.write_bytes(small_edf_bytes + b"\x00" * 7)
    rec = edf.read(path)
    assert rec.n_samples == 2000 and len(rec.annotations) > 0
    assert any("ignored" in w for w in rec.metadata["header_warnings"])


def test_repair_keeps_annotations_of_complete_records(tmp_path) -> None:
    src = _float_recording(2500)
    edf.write(src, tmp_path / "full.edf")
    data = (tmp_path / "full.edf").read_bytes()
    (tmp_path / "cut.edf").write_bytes(data[:-100])
    rec = edf.read(tmp_path / "cut.edf", repair=True)
    assert rec.n_samples == 9 * 250
    full = edf.read(tmp_path / "full.edf")
    np.testing.assert_array_equal(rec.get_digital(), full.get_digital(None, 0, 9 * 250))
    # edflib puts annotations in data records in order; those of the lost record are gone
    assert 0 < len(rec.annotations) <= len(full.annotations)
    kept = rec.annotations
    assert set(zip(kept.sample, kept.symbol, strict=True)) <= set(
        zip(full.annotations.sample, full.annotations.symbol, strict=True)
    )
    with pytest.raises(ParameterError, match="engine='direct'"):
        edf.read(tmp_path / "cut.edf", repair=True, engine="pyedflib")


def test_too_many_annotations_warns(tmp_path) -> None:
    n_ann = 200
    ann = Annotations(np.linspace(0, 499, n_ann).astype(int), ["N"] * n_ann, 250.0)
    rec = Recording.from_array(np.zeros((1, 501), "float32"), 250.0, annotations=ann)
    with pytest.warns(UserWarning, match="at most 64 annotations"):
        edf.write(rec, tmp_path / "a.edf")
    back = edf.read(tmp_path / "a.edf")
    assert back.n_samples == 501  # the end marker is kept
    assert len(back.annotations) == 64 * 3 - 1
