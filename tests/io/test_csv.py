"""CSV recordings: layouts, sampling rate and units, errors with line numbers, cache, writer."""

from __future__ import annotations

import datetime as dt
import logging
import os
from pathlib import Path

import numpy as np
import pytest

import holterlab.io
from holterlab.errors import (
    CSVError,
    EmptyFileError,
    HeaderError,
    HolterlabError,
    ParameterError,
    UnknownFormatError,
)
from holterlab.io import csv as hcsv
from holterlab.recording import ArraySource, Recording
from tests.conftest import CSV_DIR


@pytest.fixture(autouse=True)
def cache_root(tmp_path_factory, monkeypatch) -> Path:
    """Every test gets its own cache folder (never the user's ~/.cache)."""
    root = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("HOLTERLAB_CACHE_DIR", str(root))
    return root


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8", newline="")
    return path


def _csv_files(prefix: str) -> list[str]:
    return sorted(
        p.name
        for p in CSV_DIR.glob(f"{prefix}*.csv")
        if "_ann" not in p.name and "annotations" not in p.name
    )


# ------------------------------------------------------------------ shared sample files
@pytest.mark.parametrize(
    ("name", "fs"), [(n, 250) for n in _csv_files("e0")] + [(n, 360) for n in _csv_files("118e")]
)
def test_shared_heartpy_csv_files(name: str, fs: int):
    path = CSV_DIR / name
    lines = path.read_text().split()
    rec = holterlab.io.read(path, fs=fs)
    assert rec.format == "csv" and rec.fs == fs and rec.leads == ["ECG1"]
    assert rec.n_samples == len(lines) == fs * 120  # 2-minute excerpts
    x = rec.get()[0]
    assert x[0] == np.float32(float(lines[0]))
    assert x[-1] == np.float32(float(lines[-1]))
    assert x[len(lines) // 2] == np.float32(float(lines[len(lines) // 2]))


def test_shared_file_needs_fs():
    with pytest.raises(ParameterError, match=r"pass fs=.*--fs"):
        holterlab.io.read(CSV_DIR / "e0103.csv")


def test_shared_files_found():
    assert len(_csv_files("e0")) == 3 and len(_csv_files("118e")) == 4


# ------------------------------------------------------------------ layouts
def test_header_time_column_and_leads(tmp_path: Path):
    t = np.arange(1000) / 500
    x = np.sin(t)
    rows = "\n".join(f"{a:.3f},{b:.4f},{-b:.4f}" for a, b in zip(t, x, strict=True))
    rec = hcsv.read(_write(tmp_path / "a.csv", "time,MLII,V5\n" + rows + "\n"))
    assert rec.fs == 500 and rec.leads == ["MLII", "V5"] and rec.n_samples == 1000
    np.testing.assert_allclose(rec.get()[0], np.round(x, 4), atol=1e-6)
    np.testing.assert_allclose(rec.get()[1], -np.round(x, 4), atol=1e-6)


@pytest.mark.parametrize("name", ["time", "t", "Seconds", "Time (s)", "timestamp", "elapsed"])
def test_time_column_names_in_seconds(tmp_path: Path, name: str):
    text = f"{name},ecg\n" + "".join(f"{i / 360:.6f},{i % 7}\n" for i in range(720))
    rec = hcsv.read(_write(tmp_path / "t.csv", text))
    assert rec.fs == 360 and rec.leads == ["ecg"]
    np.testing.assert_array_equal(rec.get()[0][:8], [0, 1, 2, 3, 4, 5, 6, 0])


def test_time_column_in_milliseconds(tmp_path: Path):
    text = "time_ms;a\n" + "".join(f"{i * 4};{i}\n" for i in range(100))
    rec = hcsv.read(_write(tmp_path / "ms.csv", text))
    assert rec.fs == 250


def test_sample_index_column_carries_no_rate(tmp_path: Path):
    path = _write(tmp_path / "s.csv", "sample,a\n" + "".join(f"{i},{i}\n" for i in range(50)))
    with pytest.raises(ParameterError, match="fs="):
        hcsv.read(path)
    rec = hcsv.read(path, fs=128)
    assert rec.leads == ["a"] and rec.fs == 128


def test_time_column_detected_without_header(tmp_path: Path):
    text = "".join(f"{10 + i / 200:.3f}\t{np.sin(i / 5):.3f}\t{i % 3}\n" for i in range(400))
    rec = hcsv.read(_write(tmp_path / "h.tsv", text))
    assert rec.fs == 200 and rec.n_leads == 2 and rec.leads == ["ECG1", "ECG2"]
    assert rec.metadata["time_offset_s"] == pytest.approx(10.0)


def test_unnamed_counter_column_is_a_sample_index(tmp_path: Path):
    path = _write(tmp_path / "n.csv", "".join(f"{i},{i % 4},{-i % 3}\n" for i in range(50)))
    with pytest.raises(ParameterError, match="fs="):
        hcsv.read(path)
    rec = hcsv.read(path, fs=250)
    assert rec.n_leads == 2
    np.testing.assert_array_equal(rec.get()[0, :5], [0, 1, 2, 3, 0])


def test_increasing_first_column_is_not_time_when_told(tmp_path: Path):
    text = "".join(f"{i},{i * 2}\n" for i in range(20))
    path = _write(tmp_path / "i.csv", text)
    rec = hcsv.read(path, fs=100, time_column=False)
    assert rec.n_leads == 2
    np.testing.assert_array_equal(rec.get()[0], np.arange(20))


def test_datetime_time_column(tmp_path: Path):
    start = dt.datetime(2026, 1, 5, 8, 30)
    rows = "".join(
        f"{(start + dt.timedelta(milliseconds=4 * i)).isoformat(timespec='milliseconds')},{i}\n"
        for i in range(500)
    )
    rec = hcsv.read(_write(tmp_path / "d.csv", "timestamp,lead\n" + rows))
    assert rec.fs == 250 and rec.start_time == start and rec.leads == ["lead"]


def _elapsed(seconds: float) -> str:
    m, s = divmod(seconds, 60)
    return f"'{int(m)}:{s:06.3f}'"


def test_physionet_export_with_units_row(tmp_path: Path):
    """PhysioNet's CSV export: quoted names, a units row and m:ss.mmm elapsed times."""
    rows = "".join(f"{_elapsed(i / 360)},{(i % 9) / 100:.3f},{-i % 5}\n" for i in range(1500))
    text = "'Elapsed time','MLII','V5'\n'hh:mm:ss.mmm','mV','uV'\n" + rows
    rec = hcsv.read(_write(tmp_path / "samples.csv", text))
    assert rec.fs == 360 and rec.leads == ["MLII", "V5"] and rec.n_samples == 1500
    np.testing.assert_allclose(rec.get()[0, :3], [0, 0.01, 0.02], atol=1e-7)
    np.testing.assert_allclose(rec.get()[1, :3], [0, 0.004, 0.003], atol=1e-7)  # uV -> mV


def test_mixed_first_row_is_data_with_an_error(tmp_path: Path):
    path = _write(tmp_path / "m.csv", "1,abc\n2,3\n")
    with pytest.raises(CSVError, match=r"line 1, column 2 .*'abc' is not a number"):
        hcsv.read(path, fs=10, time_column=False)


def test_header_comments(tmp_path: Path):
    text = (
        "# exported by a recorder\n"
        "# fs = 360 Hz\n"
        "# units: uV\n"
        "# start_time: 2026-01-05T08:30:00\n"
        "# leads: MLII, V1\n"
        "1000,-500\n2000,250\n# a comment inside\n\n3000,0\n"
    )
    rec = hcsv.read(_write(tmp_path / "c.csv", text))
    assert rec.fs == 360 and rec.leads == ["MLII", "V1"]
    assert rec.start_time == dt.datetime(2026, 1, 5, 8, 30)
    np.testing.assert_allclose(rec.get(), [[1, 2, 3], [-0.5, 0.25, 0]])


def test_sampling_rate_comment_variants(tmp_path: Path):
    path = _write(tmp_path / "r.csv", "# sampling_rate: 250\n1\n2\n3\n")
    assert hcsv.read(path).fs == 250
    assert hcsv.read(path, fs=500).fs == 500  # the argument wins


@pytest.mark.parametrize(("units", "factor"), [("uV", 1e-3), ("mV", 1.0), ("V", 1e3)])
def test_units_option(tmp_path: Path, units: str, factor: float):
    path = _write(tmp_path / "u.csv", "1.5\n-2\n")
    rec = hcsv.read(path, fs=100, units=units)
    np.testing.assert_allclose(rec.get()[0], np.array([1.5, -2]) * factor, rtol=1e-6)


def test_unknown_units(tmp_path: Path):
    with pytest.raises(ParameterError, match="units"):
        hcsv.read(_write(tmp_path / "u.csv", "1\n2\n"), fs=1, units="furlongs")
    with pytest.raises(HeaderError, match="units"):
        hcsv.read(_write(tmp_path / "u2.csv", "# units: gauss\n1\n2\n"), fs=1)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1,2\n3,4\n", [[1, 3], [2, 4]]),
        ("1;2\n3;4\n", [[1, 3], [2, 4]]),
        ("1\t2\n3\t4\n", [[1, 3], [2, 4]]),
        ("1  2\n 3 4\n", [[1, 3], [2, 4]]),
        ("0,5;1,5\n-2,25;4\n", [[0.5, -2.25], [1.5, 4]]),  # decimal comma
        ("1,2,\n3,4,\n", [[1, 3], [2, 4]]),  # trailing delimiter
        ("a,b\r\n1,2\r\n3,4\r\n", [[1, 3], [2, 4]]),  # CRLF
        ("\ufeffa,b\n1,2\n3,4\n", [[1, 3], [2, 4]]),  # byte order mark
        ('"a","b"\n"1","2"\n3,4\n', [[1, 3], [2, 4]]),  # quoted cells
        ("# x y\n1 2\n3 4\n", [[1, 3], [2, 4]]),  # savetxt-style commented header
    ],
)
def test_delimiters_and_variants(tmp_path: Path, text: str, expected):
    rec = hcsv.read(_write(tmp_path / "v.csv", text), fs=10, time_column=False)
    np.testing.assert_allclose(rec.get(), expected)


def test_savetxt_header_gives_names(tmp_path: Path):
    path = tmp_path / "s.csv"
    np.savetxt(path, np.ones((5, 2)), delimiter=",", header="I,II")
    assert hcsv.read(path, fs=1).leads == ["I", "II"]


def test_leads_option(tmp_path: Path):
    path = _write(tmp_path / "l.csv", "1,2\n3,4\n")
    assert hcsv.read(path, fs=1, time_column=False, leads="A, B").leads == ["A", "B"]
    with pytest.raises(ParameterError, match="3 lead names"):
        hcsv.read(path, fs=1, time_column=False, leads=["a", "b", "c"])


# ------------------------------------------------------------------ errors
def test_non_numeric_cell_names_line_and_column(tmp_path: Path):
    path = _write(tmp_path / "n.csv", "# fs = 10\nI,II\n1,2\n3,4\n5,abc\n7,8\n")
    with pytest.raises(CSVError, match=r"line 5, column 2 \('II'\): 'abc' is not a number"):
        holterlab.io.read(path)


def test_ragged_row_names_line(tmp_path: Path):
    path = _write(tmp_path / "r.csv", "1,2\n3,4\n5,6,7\n8,9\n")
    with pytest.raises(CSVError, match=r"line 3 has 3 cells .* 2 columns"):
        hcsv.read(path, fs=10, time_column=False)
    short = _write(tmp_path / "r2.csv", "1,2\n3,4\n5\n8,9\n")
    with pytest.raises(CSVError, match="line 3 has 1 cells"):
        hcsv.read(short, fs=10, time_column=False)


@pytest.mark.parametrize("cell", ["nan", "NaN", "", "inf"])
def test_nan_or_empty_cell(tmp_path: Path, cell: str):
    path = _write(tmp_path / "x.csv", f"a,b\n1,2\n3,{cell}\n5,6\n")
    with pytest.raises(CSVError, match=r"line 3, column 2"):
        hcsv.read(path, fs=10)


def test_empty_column(tmp_path: Path):
    path = _write(tmp_path / "e.csv", "a,b,c\n1,,2\n3,,4\n")
    with pytest.raises(CSVError, match=r"column 2 \('b'\) is empty"):
        hcsv.read(path, fs=10)


def test_all_nan_column(tmp_path: Path):
    path = _write(tmp_path / "e.csv", "a,b\n1,nan\n3,nan\n")
    with pytest.raises(CSVError, match="line 2, column 2"):
        hcsv.read(path, fs=10)


def test_empty_file(tmp_path: Path):
    path = _write(tmp_path / "e.csv", "")
    with pytest.raises(EmptyFileError):
        holterlab.io.read(path)
    with pytest.raises(EmptyFileError):
        hcsv.read(path, fs=1)


@pytest.mark.parametrize("text", ["time,I,II\n", "# fs = 250\nI,II\n\n", "# only\n# comments\n"])
def test_header_or_comments_only(tmp_path: Path, text: str):
    with pytest.raises(EmptyFileError, match="no data rows"):
        hcsv.read(_write(tmp_path / "h.csv", text), fs=250)


def test_irregular_time_column(tmp_path: Path):
    times = [i / 100 for i in range(50)] + [1.0 + i / 100 for i in range(50)]  # a 0.5 s gap
    text = "time,a\n" + "".join(f"{t:.2f},1\n" for t in times)
    with pytest.raises(CSVError, match=r"irregular.*after t = 0\.49"):
        hcsv.read(_write(tmp_path / "i.csv", text))
    one_missing = "time,a\n" + "".join(f"{i / 100:.3f},1\n" for i in range(50) if i != 30)
    with pytest.raises(CSVError, match="irregular"):
        hcsv.read(_write(tmp_path / "i2.csv", one_missing))


def test_time_column_not_increasing(tmp_path: Path):
    text = "time,a\n0,1\n0.01,1\n0.01,1\n0.03,1\n"
    with pytest.raises(CSVError, match="not strictly increasing"):
        hcsv.read(_write(tmp_path / "i.csv", text))


@pytest.mark.parametrize("fs", [0, -250, float("nan"), "x"])
def test_impossible_fs_argument(tmp_path: Path, fs):
    with pytest.raises(ParameterError, match="positive number of Hz|not a number"):
        hcsv.read(_write(tmp_path / "f.csv", "1\n2\n"), fs=fs)


@pytest.mark.parametrize("value", ["0", "-5", "fast"])
def test_impossible_fs_comment(tmp_path: Path, value: str):
    with pytest.raises(HeaderError):
        hcsv.read(_write(tmp_path / "f.csv", f"# fs = {value}\n1\n2\n"))


def test_fs_comment_contradicts_time_column(tmp_path: Path):
    text = "# fs = 100\ntime,a\n" + "".join(f"{i / 250},1\n" for i in range(10))
    path = _write(tmp_path / "c.csv", text)
    with pytest.raises(HeaderError, match="pass fs="):
        hcsv.read(path)
    assert hcsv.read(path, fs=250).fs == 250


def test_binary_file_is_not_csv(tmp_path: Path):
    path = tmp_path / "b.csv"
    path.write_bytes(b"\x00\x01\x02garbage\x00")
    with pytest.raises(CSVError, match="binary"):
        holterlab.io.read(path, fs=1)


def test_unknown_extension(tmp_path: Path):
    path = tmp_path / "notes.xyz"
    path.write_text("Dear diary, today my heart was beating.\nIt was fine.\n")
    with pytest.raises(UnknownFormatError):
        holterlab.io.read(path)


def test_all_errors_are_holterlab_errors():
    assert issubclass(CSVError, HolterlabError) and issubclass(EmptyFileError, HolterlabError)


# ------------------------------------------------------------------ cache
def _entries(root: Path) -> list[str]:
    folder = root / "csv"
    return sorted(p.suffix for p in folder.iterdir()) if folder.is_dir() else []


def test_cache_written_then_memory_mapped(tmp_path: Path, cache_root: Path):
    path = _write(
        tmp_path / "c.csv", "# fs = 100\n" + "".join(f"{i % 5},{-i}\n" for i in range(300))
    )
    first = hcsv.read(path)
    assert _entries(cache_root) == [".json", ".npy"]
    second = hcsv.read(path)
    assert second.metadata["csv"]["storage"] == "cache"
    assert isinstance(second.source._table, np.memmap)
    np.testing.assert_array_equal(first.get(), second.get())
    np.testing.assert_array_equal(second.get()[:, :3], [[0, 1, 2], [0, -1, -2]])


def test_cache_follows_file_changes(tmp_path: Path, cache_root: Path):
    path = _write(tmp_path / "c.csv", "1\n2\n3\n")
    assert hcsv.read(path, fs=1).get()[0].tolist() == [1, 2, 3]
    _write(path, "7\n8\n9\n")  # same size, possibly the same mtime
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1_000_000))
    assert hcsv.read(path, fs=1).get()[0].tolist() == [7, 8, 9]
    assert _entries(cache_root) == [".json", ".npy"]  # the stale entry was removed


def test_cache_same_size_same_mtime_edit(tmp_path: Path):
    path = _write(tmp_path / "c.csv", "1\n2\n3\n")
    stat = path.stat()
    assert hcsv.read(path, fs=1).get()[0].tolist() == [1, 2, 3]
    _write(path, "4\n5\n6\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert hcsv.read(path, fs=1).get()[0].tolist() == [4, 5, 6]


def test_unwritable_cache_falls_back_to_memory(tmp_path: Path, caplog):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    path = _write(tmp_path / "c.csv", "1\n2\n3\n")
    with caplog.at_level(logging.INFO, logger="holterlab.io.csv"):
        rec = hcsv.read(path, fs=1, cache=blocker / "sub")
    assert rec.metadata["csv"]["storage"] == "memory"
    assert rec.get()[0].tolist() == [1, 2, 3]
    assert "cache" in caplog.text


def test_cache_disabled(tmp_path: Path, cache_root: Path):
    path = _write(tmp_path / "c.csv", "1\n2\n")
    rec = hcsv.read(path, fs=1, cache=False)
    assert rec.metadata["csv"]["storage"] == "memory" and _entries(cache_root) == []


def test_corrupt_cache_is_ignored(tmp_path: Path, cache_root: Path):
    path = _write(tmp_path / "c.csv", "1\n2\n3\n")
    hcsv.read(path, fs=1)
    for npy in (cache_root / "csv").glob("*.npy"):
        npy.write_bytes(b"rubbish")
    assert hcsv.read(path, fs=1).get()[0].tolist() == [1, 2, 3]


def test_cache_with_unexpected_description_is_ignored(tmp_path: Path, cache_root: Path):
    path = _write(tmp_path / "c.csv", "time,a\n0,1\n0.5,2\n1.0,3\n")
    assert hcsv.read(path).fs == 2
    for meta in (cache_root / "csv").glob("*.json"):
        meta.write_text('{"time": {"bogus": 1}, "n_rows": 3, "n_cols": 1}')
    rec = hcsv.read(path)
    assert rec.fs == 2 and rec.get()[0].tolist() == [1, 2, 3]


def test_cache_dir_default(monkeypatch):
    monkeypatch.delenv("HOLTERLAB_CACHE_DIR", raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    assert hcsv.cache_dir() == Path.home() / ".cache" / "holterlab" / "csv"
    assert hcsv.cache_dir(False) is None


def test_large_file_in_several_chunks(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(hcsv, "_CHUNK_ROWS", 1000)
    x = np.arange(10_500) % 97
    path = _write(tmp_path / "big.csv", "a,b\n" + "".join(f"{v},{-v}\n" for v in x))
    rec = hcsv.read(path, fs=100)
    np.testing.assert_array_equal(rec.get()[0], x)
    rec2 = hcsv.read(path, fs=100)  # from the cache
    np.testing.assert_array_equal(rec2.get()[1], -x)
    bad = _write(tmp_path / "bad.csv", path.read_text().replace("\n96,-96\n", "\n96,-9x6\n", 1))
    with pytest.raises(CSVError, match=r"line 98, column 2"):
        hcsv.read(bad, fs=100)


# ------------------------------------------------------------------ writer
def test_write_read_round_trip(tmp_path: Path):
    rng = np.random.default_rng(0)
    data = rng.normal(size=(2, 3000)).astype(np.float32)
    rec = Recording.from_array(data, 360, ["MLII", "V1"], start_time=dt.datetime(2026, 1, 5, 8))
    path = holterlab.io.write(rec, tmp_path / "w.csv")
    text = path.read_text()
    assert text.startswith("# holterlab CSV\n# fs = 360\n# units: mV\n")
    assert "time,MLII,V1\n" in text
    back = holterlab.io.read(path)
    assert back.fs == 360 and back.leads == ["MLII", "V1"] and back.n_samples == 3000
    assert back.start_time == dt.datetime(2026, 1, 5, 8)
    assert np.abs(back.get() - data).max() <= 0.5e-6 + 1e-6


def test_write_without_time_column_and_decimals(tmp_path: Path):
    data = np.array([[0.12345, -1.0, 2.5]], dtype=np.float32)
    rec = Recording.from_array(data, 250, ["x"])
    path = hcsv.write(rec, tmp_path / "w.csv", time_column=False, decimals=2)
    assert path.read_text().splitlines()[3:] == ["x", "0.12", "-1.0", "2.5"]
    back = hcsv.read(path)
    assert back.fs == 250
    assert np.abs(back.get() - data).max() <= 0.5e-2 + 1e-7


def test_write_digital_recording_requantises_exactly(tmp_path: Path):
    rng = np.random.default_rng(5)
    ints = rng.integers(-2048, 2048, size=(2, 4000)).astype(np.int16)
    gain, zero = np.array([200.0, 137.0]), np.array([1024.0, -3.0])
    rec = Recording(ArraySource(ints, gain, zero), 360, ["a", "b"], adc_gain=gain, adc_zero=zero)
    path = hcsv.write(rec, tmp_path / "d.csv", delimiter=";")
    assert path.read_text().splitlines()[3] == "time;a;b"
    back = hcsv.read(path).get().astype(np.float64)
    requantised = np.rint(back * gain[:, None] + zero[:, None]).astype(np.int64)
    np.testing.assert_array_equal(requantised, ints)


def test_write_chunked_equals_single_chunk(tmp_path: Path, monkeypatch):
    data = np.sin(np.arange(5000) / 10).astype(np.float32)[None, :]
    rec = Recording.from_array(data, 100, ["s"])
    one = hcsv.write(rec, tmp_path / "one.csv").read_bytes()
    monkeypatch.setattr(hcsv, "_WRITE_CHUNK_VALUES", 777)
    many = hcsv.write(rec, tmp_path / "many.csv").read_bytes()
    assert one == many


def test_write_quotes_awkward_lead_names(tmp_path: Path):
    rec = Recording.from_array(np.ones((2, 3), dtype=np.float32), 10, ["lead, one", "two"])
    back = hcsv.read(hcsv.write(rec, tmp_path / "q.csv"))
    assert back.leads == ["lead, one", "two"]


def test_write_rejects_nan_and_leaves_nothing(tmp_path: Path):
    rec = Recording.from_array(np.array([[1.0, np.nan]], dtype=np.float32), 10)
    with pytest.raises(ParameterError, match="NaN"):
        hcsv.write(rec, tmp_path / "n.csv")
    assert list(tmp_path.iterdir()) == []


def test_write_bad_options(tmp_path: Path):
    rec = Recording.from_array(np.ones((1, 3), dtype=np.float32), 10)
    with pytest.raises(ParameterError):
        hcsv.write(rec, tmp_path / "x.csv", delimiter="|")
    with pytest.raises(ParameterError):
        hcsv.write(rec, tmp_path / "x.csv", decimals=-1)


def test_shared_file_round_trip_through_writer(tmp_path: Path):
    rec = hcsv.read(CSV_DIR / "118e24.csv", fs=360)
    back = hcsv.read(hcsv.write(rec, tmp_path / "118e24.csv"))
    np.testing.assert_array_equal(back.get(), rec.get())
    assert back.fs == 360
