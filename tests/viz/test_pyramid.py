"""The min/max pyramid: exact levels, streamed build, disk cache, level choice, cancel."""

from __future__ import annotations

import gc
import os
import threading

import numpy as np
import pytest

from holterlab.errors import CancelledError, ParameterError
from holterlab.recording import ArraySource, Recording
from holterlab.viz import pyramid as P
from holterlab.viz.pyramid import (
    BASE_LEVEL,
    MinMaxPyramid,
    cache_key,
    minmax_blocks,
    reduce_minmax,
    reduce_minmax_reference,
)


class CountingSource(ArraySource):
    """An ArraySource that remembers the largest window read."""

    def __init__(self, data):
        super().__init__(data)
        self.largest = 0
        self.reads = 0

    def read(self, start, stop, leads):
        self.largest = max(self.largest, stop - start)
        self.reads += 1
        return super().read(start, stop, leads)


def _signal(n: int, n_leads: int = 2, seed: int = 0, nan: bool = True) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_leads, n)).astype(np.float32)
    x += np.sin(np.arange(n) / 50.0)[None, :].astype(np.float32)
    if nan:
        x[0, 100:180] = np.nan  # a gap of missing samples
        x[1, 1000:1500] = np.nan
    return x


def _recording(x: np.ndarray, path: str | None = None, fs: float = 250.0) -> Recording:
    rec = Recording(source=CountingSource(x), fs=fs, leads=[f"L{i}" for i in range(x.shape[0])])
    rec.path = path
    return rec


@pytest.mark.parametrize("n", [1, 31, 32, 33, 1000, 4097])
@pytest.mark.parametrize("factor", [1, 2, 3, 32])
def test_reduce_minmax_equals_reference(n, factor):
    x = _signal(n, nan=n > 200)
    lo, hi = reduce_minmax(x, x, factor)
    ref_lo, ref_hi = reduce_minmax_reference(x, factor)
    np.testing.assert_array_equal(lo, ref_lo)
    np.testing.assert_array_equal(hi, ref_hi)


@pytest.mark.parametrize("n", [1, 31, 32, 33, 1000, 4097])
@pytest.mark.parametrize("block", [1, 2, 32, 100])
def test_numba_minmax_blocks_equals_reference(n, block):
    x = _signal(n, nan=n > 200)
    x[1, :] = np.nan if n < 40 else x[1, :]  # an all-NaN lead
    lo, hi = minmax_blocks(x, block)
    ref_lo, ref_hi = reduce_minmax_reference(x, block)
    np.testing.assert_array_equal(lo, ref_lo)
    np.testing.assert_array_equal(hi, ref_hi)


def test_every_level_equals_the_reference(tmp_path):
    n = 20_000
    x = _signal(n)
    rec = _recording(x)
    # small chunks: several chunks, a partial last one, and levels derived after streaming
    pyr = MinMaxPyramid.open(rec, cache_dir=tmp_path, chunk_level=6)
    assert pyr.levels[0] == BASE_LEVEL
    assert max(pyr.levels) > 6
    assert -(-n // (1 << pyr.levels[-1])) <= P.TOP_BINS
    for k in pyr.levels:
        arr = pyr.level_array(k)
        ref_lo, ref_hi = reduce_minmax_reference(x, 1 << k)
        np.testing.assert_array_equal(arr[0], ref_lo, err_msg=f"level {k} min")
        np.testing.assert_array_equal(arr[1], ref_hi, err_msg=f"level {k} max")


def test_build_streams_chunks_never_the_whole_recording(tmp_path):
    x = _signal(50_000, nan=False)
    rec = _recording(x)
    MinMaxPyramid.open(rec, cache_dir=tmp_path, chunk_level=10)
    assert rec.source.largest <= 1 << 10
    assert rec.source.reads >= 50_000 // 1024


def test_cache_is_reused_and_keyed_by_file(tmp_path, monkeypatch):
    data = tmp_path / "rec.bin"
    data.write_bytes(b"x" * 100)
    x = _signal(5_000, nan=False)
    cache = tmp_path / "cache"
    first = MinMaxPyramid.open(_recording(x, str(data)), cache_dir=cache)
    assert first.folder.parent == cache
    assert (first.folder / "meta.json").is_file()

    def fail(*args, **kwargs):
        raise AssertionError("the cached pyramid should have been used")

    monkeypatch.setattr(P, "_build", fail)
    second = MinMaxPyramid.open(_recording(x, str(data)), cache_dir=cache)
    assert second.folder == first.folder
    # a changed file gets a new key
    key = cache_key(_recording(x, str(data)))
    os.utime(data, ns=(1, 1))
    assert cache_key(_recording(x, str(data))) != key


def test_recording_without_file_gets_a_temporary_pyramid(tmp_path):
    x = _signal(3_000, nan=False)
    pyr = MinMaxPyramid.open(_recording(x), cache_dir=tmp_path / "unused")
    folder = pyr.folder
    assert folder.is_dir()
    assert not (tmp_path / "unused").exists() or not any((tmp_path / "unused").iterdir())
    del pyr
    gc.collect()
    assert not folder.exists()


def test_level_choice_fits_the_width(tmp_path):
    x = _signal(200_000, n_leads=1, nan=False)
    pyr = MinMaxPyramid.open(_recording(x), cache_dir=tmp_path)
    assert pyr.level_for(1000, 1000) == 0  # 1 sample per pixel: raw
    assert pyr.level_for(31 * 1000, 1000) == 0
    assert pyr.level_for(32 * 1000, 1000) == BASE_LEVEL
    assert pyr.level_for(200_000, 1000) == 7  # 2**7 = 128 <= 200 < 256
    env = pyr.envelope(0, 200_000 / 250.0, 1000)
    assert env.level == 7
    assert 1000 <= env.n_bins <= 2 * 1000
    assert env.lo.shape == (1, env.n_bins)


def test_envelope_raw_and_binned_values(tmp_path):
    x = _signal(100_000, n_leads=2, nan=False)
    rec = _recording(x)
    pyr = MinMaxPyramid.open(rec, cache_dir=tmp_path)
    raw = pyr.envelope(10.0, 12.0, 800)
    assert raw.level == 0
    np.testing.assert_array_equal(raw.lo, x[:, 2500:3000])
    env = pyr.envelope(0.0, 400.0, 500)
    k = env.level
    assert k >= BASE_LEVEL
    b = 3
    seg = x[1, b << k : (b + 1) << k]
    assert env.lo[1, b] == seg.min() and env.hi[1, b] == seg.max()
    px, py = env.polyline(1)
    assert px.size == 2 * env.n_bins
    assert py[0] == env.lo[1, 0] and py[1] == env.hi[1, 0]


def test_envelope_reads_only_its_window_from_the_level(tmp_path):
    x = _signal(400_000, n_leads=1, nan=False)
    pyr = MinMaxPyramid.open(_recording(x), cache_dir=tmp_path)
    env = pyr.envelope(100.0, 200.0, 100)
    assert env.time[0] <= 100.0 < env.time[0] + env.bin_s
    assert env.time[-1] < 200.0
    assert env.n_bins < pyr.level_array(env.level).shape[2]


def test_robust_y_range_ignores_spikes(tmp_path):
    x = np.sin(np.arange(200_000) / 40.0).astype(np.float32)[None, :]
    x[0, 5000] = 400.0  # one artefact spike
    pyr = MinMaxPyramid.open(_recording(x), cache_dir=tmp_path)
    lo, hi = pyr.y_range[0]
    assert -1.01 <= lo < -0.9 and 0.9 < hi <= 1.01


def test_cancel_leaves_no_cache(tmp_path):
    x = _signal(50_000, nan=False)
    cancel = threading.Event()
    cancel.set()
    data = tmp_path / "rec.bin"
    data.write_bytes(b"abc")
    with pytest.raises(CancelledError):
        MinMaxPyramid.open(_recording(x, str(data)), cache_dir=tmp_path / "c", cancel=cancel)
    assert not any((tmp_path / "c").iterdir())


def test_progress_reaches_one(tmp_path):
    seen = []
    MinMaxPyramid.open(
        _recording(_signal(10_000, nan=False)),
        cache_dir=tmp_path,
        progress=seen.append,
        chunk_level=10,
    )
    assert seen[-1] == 1.0 and len(seen) > 3
    assert seen == sorted(seen)


def test_bad_inputs(tmp_path):
    with pytest.raises(ParameterError):
        MinMaxPyramid.open(_recording(_signal(100)), chunk_level=2)
    pyr = MinMaxPyramid.open(_recording(_signal(5000, nan=False)), cache_dir=tmp_path)
    with pytest.raises(ParameterError):
        pyr.envelope(float("nan"), 1.0, 100)
    with pytest.raises(ParameterError):
        pyr.level_array(99)
