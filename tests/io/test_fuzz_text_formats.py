"""Broken input never crashes the CSV, aiecg and ISHNE readers with anything but a HolterlabError.

Each property test takes a small valid file, damages its bytes at random (truncation, bit
flips, overwritten, inserted and appended bytes), then reads it and all of its samples. The
read must either succeed or raise a :class:`~holterlab.errors.HolterlabError` subclass. The
format modules' own ``read`` is called (stricter than :func:`holterlab.io.read`, which wraps
unexpected exceptions) and then :func:`holterlab.io.read` as users call it.
"""

from __future__ import annotations

import datetime as dt
import itertools
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import holterlab.io
from holterlab.errors import HolterlabError
from holterlab.io import aiecg, ishne
from holterlab.io import csv as hcsv
from holterlab.recording import ArraySource, Recording
from tests.io.test_ishne import make_ishne

_counter = itertools.count()

FUZZ = settings(
    max_examples=120,
    deadline=dt.timedelta(seconds=3),
    suppress_health_check=[HealthCheck.too_slow],
    derandomize=True,
)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@pytest.fixture(scope="module")
def valid_aiecg(workdir: Path) -> bytes:
    rng = np.random.default_rng(0)
    ints = rng.integers(-500, 500, size=(2, 60)).astype(np.int16)
    rec = Recording(
        ArraySource(ints, [200.0, 200.0]),
        250,
        ["I", "II"],
        adc_gain=[200.0, 200.0],
        start_time=dt.datetime(2026, 1, 5, 8, 30),
        metadata={"patient": {"id": "P1"}},
    )
    return aiecg.write(rec, workdir / "valid.aiecg").read_bytes()


@pytest.fixture(scope="module")
def valid_ishne(workdir: Path) -> bytes:
    rng = np.random.default_rng(1)
    ints = rng.integers(-500, 500, size=(2, 60)).astype(np.int16)
    return make_ishne(workdir / "valid.ecg", ints, var_block=b"note").read_bytes()


VALID_CSV = (
    "# fs = 250\n# units: mV\n# start_time: 2026-01-05T08:30:00\n"
    "time,MLII,V5\n"
    + "".join(f"{i / 250:.3f},{np.sin(i / 7):.3f},{np.cos(i / 5):.3f}\n" for i in range(40))
).encode()


@st.composite
def damaged(draw, original: bytes) -> bytes:
    """Apply 1-3 random byte-level damages to ``original``."""
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["truncate", "flip", "overwrite", "insert", "append"]))
        n = len(data)
        if kind == "truncate":
            data = data[: draw(st.integers(0, max(0, n - 1)))]
        elif kind == "flip" and n:
            i = draw(st.integers(0, n - 1))
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif kind == "overwrite" and n:
            i = draw(st.integers(0, n - 1))
            chunk = draw(st.binary(min_size=1, max_size=16))
            data[i : i + len(chunk)] = chunk
        elif kind == "insert":
            i = draw(st.integers(0, n))
            data[i:i] = draw(st.binary(min_size=1, max_size=16))
        else:
            data += draw(st.binary(min_size=1, max_size=64))
    return bytes(data)


def _read_everything(path: Path, fmt: str, **options) -> None:
    module = holterlab.io.format_module(fmt)
    for reader in (module.read, lambda p, **o: holterlab.io.read(p, format=fmt, **o)):
        try:
            rec = reader(path, **options)
        except HolterlabError:
            continue
        data = rec.get()
        assert data.shape == (rec.n_leads, rec.n_samples)
        assert data.dtype == np.float32
        if rec.n_samples:
            rec.get(start=rec.duration / 2, stop=rec.duration)
        rec.get_digital()
        rec.close()


def _save(workdir: Path, data: bytes, suffix: str) -> Path:
    path = workdir / f"case{next(_counter)}{suffix}"
    path.write_bytes(data)
    return path


@pytest.mark.timeout(300)
@FUZZ
@given(st.data())
def test_damaged_aiecg(workdir: Path, valid_aiecg: bytes, data):
    raw = data.draw(damaged(valid_aiecg))
    _read_everything(_save(workdir, raw, ".aiecg"), "aiecg")


@pytest.mark.timeout(300)
@FUZZ
@given(st.data())
def test_damaged_ishne(workdir: Path, valid_ishne: bytes, data):
    raw = data.draw(damaged(valid_ishne))
    path = _save(workdir, raw, ".ecg")
    _read_everything(path, "ishne")
    _read_everything(path, "ishne", check_crc=False)


@pytest.mark.timeout(300)
@FUZZ
@given(st.data(), st.sampled_from([None, 250.0]))
def test_damaged_csv(workdir: Path, data, fs):
    raw = data.draw(damaged(VALID_CSV))
    options = {"cache": workdir / "cache"}
    if fs is not None:
        options["fs"] = fs
    _read_everything(_save(workdir, raw, ".csv"), "csv", **options)


@pytest.mark.timeout(300)
@FUZZ
@given(st.text(alphabet="0123456789.,;\t -+eE#:=naif\n\rxyz\"'", max_size=300))
def test_random_text_tables(workdir: Path, text: str):
    path = _save(workdir, text.encode(), ".csv")
    _read_everything(path, "csv", fs=100.0, cache=workdir / "cache")


def test_undamaged_files_read(workdir: Path, valid_aiecg: bytes, valid_ishne: bytes):
    """The starting points of the fuzzing are valid files."""
    assert holterlab.io.read(_save(workdir, valid_aiecg, ".aiecg")).n_samples == 60
    assert holterlab.io.read(_save(workdir, valid_ishne, ".ecg")).n_samples == 60
    rec = hcsv.read(_save(workdir, VALID_CSV, ".csv"), cache=False)
    assert rec.n_samples == 40 and rec.fs == 250 and rec.leads == ["MLII", "V5"]
    assert ishne.sniff(valid_ishne) and aiecg.sniff(valid_aiecg)
