"""Multi-resolution min/max pyramid of a recording, cached on disk.

A 7-day, 250 Hz recording has 151 million samples per lead: far too many to draw, and too
many to hold in memory. The pyramid keeps, for every level ``k`` from :data:`BASE_LEVEL` up,
the minimum and the maximum of each block of ``2**k`` consecutive samples of every lead. A
plot of any window at any zoom reads only the level whose resolution fits the screen width
(about one block per pixel), or the raw samples when the window is short enough.

Building it streams the recording chunk by chunk (never the whole signal in memory) and writes
each level as a ``.npy`` file of shape ``(2, n_leads, n_bins)`` (min, max) float32 in a cache
folder keyed by the file's path, size and modification time. Levels are opened memory-mapped,
so an open pyramid costs almost no memory; a query copies only the bins of its window.

>>> pyr = MinMaxPyramid.open(recording)                # builds on first use, then cached
>>> env = pyr.envelope(0, recording.duration, width=1600)
>>> env.level, env.lo.shape                            # doctest: +SKIP
(15, (2, 1319))
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
import threading
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from holterlab.errors import CancelledError, ParameterError

__all__ = [
    "BASE_LEVEL",
    "CHUNK_LEVEL",
    "Envelope",
    "MinMaxPyramid",
    "cache_root",
    "cache_key",
    "reduce_minmax",
    "minmax_blocks",
    "reduce_minmax_reference",
]

#: Finest stored level: blocks of 2**5 = 32 samples. Windows that would need finer blocks
#: are read raw (at most ``32 * width`` samples per lead).
BASE_LEVEL = 5
#: The recording is streamed in chunks of 2**20 samples (about 70 min at 250 Hz).
CHUNK_LEVEL = 20
#: Levels stop once a level has at most this many bins.
TOP_BINS = 256
#: Bump when the on-disk layout changes (old caches are then ignored).
LAYOUT_VERSION = 1

_META = "meta.json"


# ----------------------------------------------------------------------------- reductions
def _pad_edge(x: np.ndarray, multiple: int) -> np.ndarray:
    n = x.shape[-1]
    extra = (-n) % multiple
    if extra == 0:
        return x
    return np.concatenate([x, np.repeat(x[..., -1:], extra, axis=-1)], axis=-1)


def reduce_minmax(lo: np.ndarray, hi: np.ndarray, factor: int) -> tuple[np.ndarray, np.ndarray]:
    """Min and max over consecutive blocks of ``factor`` values along the last axis.

    A last, partial block covers the values that exist. NaN values are ignored (a block of
    NaN only gives NaN). Powers of two are reduced pairwise (elementwise ``fmin``/``fmax``
    over strided views, fast); other factors by a reshape.
    """
    if factor == 1:
        return lo, hi
    if factor & (factor - 1) == 0:
        while factor > 1:
            lo = _pad_edge(lo, 2)
            hi = _pad_edge(hi, 2)
            lo = np.fmin(lo[..., 0::2], lo[..., 1::2])
            hi = np.fmax(hi[..., 0::2], hi[..., 1::2])
            factor //= 2
        return lo, hi
    lo = _pad_edge(lo, factor)
    hi = _pad_edge(hi, factor)
    shape = lo.shape[:-1] + (lo.shape[-1] // factor, factor)
    return np.fmin.reduce(lo.reshape(shape), axis=-1), np.fmax.reduce(hi.reshape(shape), axis=-1)


@functools.lru_cache(maxsize=1)
def _kernel():
    import numba

    @numba.njit(cache=True, nogil=True)
    def minmax_blocks(x, block, lo, hi):  # pragma: no cover - compiled
        n_leads, n = x.shape
        n_bins = lo.shape[1]
        for lead in range(n_leads):
            for b in range(n_bins):
                start = b * block
                stop = min(n, start + block)
                mn = np.nan
                mx = np.nan
                for i in range(start, stop):
                    v = x[lead, i]
                    if v == v:  # not NaN
                        if mn != mn or v < mn:
                            mn = v
                        if mx != mx or v > mx:
                            mx = v
                lo[lead, b] = mn
                hi[lead, b] = mx

    return minmax_blocks


def minmax_blocks(x: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Min and max of each block of ``block`` samples of ``x`` (leads, n), NaN ignored, in one
    pass (numba; :func:`reduce_minmax_reference` is its plain-Python reference)."""
    x = np.ascontiguousarray(x, dtype=np.float32)
    n_bins = max(1, -(-x.shape[1] // block))
    lo = np.empty((x.shape[0], n_bins), dtype=np.float32)
    hi = np.empty_like(lo)
    _kernel()(x, int(block), lo, hi)
    return lo, hi


def reduce_minmax_reference(x: np.ndarray, block: int) -> tuple[np.ndarray, np.ndarray]:
    """Plain-Python reference of one pyramid level: nan-min/max of each block of samples."""
    n_leads, n = x.shape
    n_bins = max(1, -(-n // block))
    lo = np.full((n_leads, n_bins), np.nan, dtype=np.float32)
    hi = np.full((n_leads, n_bins), np.nan, dtype=np.float32)
    for lead in range(n_leads):
        for b in range(n_bins):
            values = [v for v in x[lead, b * block : (b + 1) * block] if not np.isnan(v)]
            if values:
                lo[lead, b] = min(values)
                hi[lead, b] = max(values)
    return lo, hi


# ----------------------------------------------------------------------------- cache keys
def cache_root() -> Path:
    """Folder of the pyramid caches: ``$HOLTERLAB_CACHE_DIR`` or ``~/.cache/holterlab``."""
    env = os.environ.get("HOLTERLAB_CACHE_DIR")
    if env:
        return Path(env).expanduser() / "pyramids"
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "holterlab" / "pyramids"


def _data_files(path: Path) -> list[Path]:
    """The files whose content a recording's samples come from."""
    files = [path]
    if path.suffix.lower() == ".hea":
        files += sorted(path.parent.glob(f"{path.stem}*.dat"))
    return files


def cache_key(recording: Any) -> str | None:
    """Key of a recording's pyramid (path, size and mtime of its data files, layout), or
    None for a recording without a file."""
    if not recording.path:
        return None
    path = Path(recording.path).resolve()
    parts = [f"v{LAYOUT_VERSION}", f"base{BASE_LEVEL}", str(path), f"fs{recording.fs!r}"]
    parts.append(f"n{recording.n_samples}")
    parts.append("|".join(recording.leads))
    for f in _data_files(path):
        try:
            st = f.stat()
        except OSError:
            return None
        parts.append(f"{f.name}:{st.st_size}:{st.st_mtime_ns}")
    return hashlib.sha1("\n".join(parts).encode()).hexdigest()[:24]


# ----------------------------------------------------------------------------- envelope
@dataclass
class Envelope:
    """Min/max envelope of a window, as read from one pyramid level (or raw samples).

    Attributes
    ----------
    time
        float64 seconds: the start of each bin (of each sample when ``level == 0``).
    lo, hi
        float32 ``(n_leads, n_bins)`` minimum and maximum of each bin (equal for raw data).
    level
        Pyramid level read (``0``: raw samples).
    bin_s
        Seconds per bin.
    """

    time: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    level: int
    bin_s: float

    @property
    def n_bins(self) -> int:
        return int(self.time.size)

    def polyline(self, lead: int = 0) -> tuple[np.ndarray, np.ndarray]:
        """x, y of a line through ``min, max`` of every bin in turn.

        Drawn with one-pixel lines it covers exactly the pixels the full-resolution signal
        covers at that zoom (vertical strokes per bin plus the joins between them).
        """
        if self.level == 0:
            return self.time, self.lo[lead].astype(np.float64)
        x = np.repeat(self.time + 0.5 * self.bin_s, 2)
        y = np.empty(2 * self.n_bins, dtype=np.float64)
        y[0::2] = self.lo[lead]
        y[1::2] = self.hi[lead]
        return x, y


# ----------------------------------------------------------------------------- pyramid
def _levels_for(n_samples: int) -> list[int]:
    top = BASE_LEVEL
    while -(-n_samples // (1 << top)) > TOP_BINS:
        top += 1
    return list(range(BASE_LEVEL, top + 1))


def _n_bins(n_samples: int, level: int) -> int:
    return max(1, -(-n_samples // (1 << level)))


class MinMaxPyramid:
    """Open (and build if needed) the min/max pyramid of a recording.

    Use :meth:`open`; the constructor takes an already built folder.
    """

    def __init__(self, folder: Path, recording: Any, *, temporary: bool = False) -> None:
        self.folder = Path(folder)
        meta = json.loads((self.folder / _META).read_text())
        self.meta = meta
        self.recording = recording
        self.fs = float(meta["fs"])
        self.n_samples = int(meta["n_samples"])
        self.leads: list[str] = list(meta["leads"])
        self.levels: list[int] = [int(k) for k in meta["levels"]]
        self.y_range: list[tuple[float, float]] = [tuple(r) for r in meta["y_range"]]
        self._arrays: dict[int, np.ndarray] = {}
        self._lock = threading.Lock()
        if temporary:
            self._finalizer = weakref.finalize(self, shutil.rmtree, str(folder), True)

    # ------------------------------------------------------------------ build
    @classmethod
    def open(
        cls,
        recording: Any,
        *,
        cache_dir: str | os.PathLike[str] | None = None,
        progress: Callable[[float], None] | None = None,
        cancel: threading.Event | Callable[[], bool] | None = None,
        chunk_level: int = CHUNK_LEVEL,
    ) -> MinMaxPyramid:
        """The pyramid of ``recording``: from the cache, or built now (streamed).

        Parameters
        ----------
        recording
            A :class:`~holterlab.recording.Recording`.
        cache_dir
            Folder holding the caches (default :func:`cache_root`). A recording without a file
            (or when the folder is not writable) gets a private temporary pyramid, removed
            when the object is garbage collected.
        progress
            Called with the fraction built (0..1).
        cancel
            A :class:`threading.Event` or callable; when true the build stops and raises
            :class:`~holterlab.errors.CancelledError` (nothing is left in the cache).
        chunk_level
            Stream the recording in chunks of ``2**chunk_level`` samples.
        """
        if chunk_level < BASE_LEVEL:
            raise ParameterError(f"chunk_level must be at least {BASE_LEVEL}")
        if recording.n_samples <= 0:
            raise ParameterError("the recording holds no samples: nothing to draw")
        key = cache_key(recording)
        root = Path(cache_dir) if cache_dir is not None else cache_root()
        if key is not None:
            folder = root / key
            if (folder / _META).is_file():
                try:
                    return cls(folder, recording)
                except (OSError, ValueError, KeyError):
                    shutil.rmtree(folder, ignore_errors=True)
            try:
                root.mkdir(parents=True, exist_ok=True)
                tmp = Path(tempfile.mkdtemp(prefix=f".{key}.", dir=root))
            except OSError:
                key = None
        if key is None:
            tmp = Path(tempfile.mkdtemp(prefix="holterlab-pyramid-"))
        try:
            _build(recording, tmp, progress=progress, cancel=cancel, chunk_level=chunk_level)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        if key is None:
            return cls(tmp, recording, temporary=True)
        folder = root / key
        try:
            os.rename(tmp, folder)
        except OSError:  # another process finished first: use its copy
            shutil.rmtree(tmp, ignore_errors=True)
        return cls(folder, recording)

    # ------------------------------------------------------------------ access
    def level_array(self, level: int) -> np.ndarray:
        """Level ``level`` as a read-only memory map ``(2, n_leads, n_bins)``."""
        with self._lock:
            arr = self._arrays.get(level)
            if arr is None:
                if level not in self.levels:
                    raise ParameterError(f"no pyramid level {level}; levels are {self.levels}")
                arr = np.load(self.folder / f"L{level:02d}.npy", mmap_mode="r")
                self._arrays[level] = arr
            return arr

    def level_for(self, n_window: int, width: int) -> int:
        """Coarsest level with at least ``width`` bins in a window of ``n_window`` samples,
        or 0 (raw samples) when even the finest level would have fewer bins than pixels."""
        width = max(1, int(width))
        per_pixel = n_window / width
        if per_pixel < (1 << BASE_LEVEL):
            return 0
        best = BASE_LEVEL
        for k in self.levels:
            if (1 << k) <= per_pixel:
                best = k
        return best

    def envelope(
        self,
        start_s: float,
        stop_s: float,
        width: int,
        *,
        leads: list[int] | None = None,
    ) -> Envelope:
        """Min/max envelope of ``[start_s, stop_s)`` at about ``width`` bins.

        Reads only the level that fits (see :meth:`level_for`); windows short enough are read
        raw from the recording. ``leads`` are lead indices (default all).
        """
        if not (np.isfinite(start_s) and np.isfinite(stop_s)):
            raise ParameterError("the window must be finite seconds")
        idx = list(range(len(self.leads))) if leads is None else [int(i) for i in leads]
        i0 = int(np.clip(np.floor(start_s * self.fs), 0, self.n_samples))
        i1 = int(np.clip(np.ceil(stop_s * self.fs), i0, self.n_samples))
        if i1 <= i0:
            i1 = min(self.n_samples, i0 + 1)
            i0 = max(0, i1 - 1)
        level = self.level_for(i1 - i0, width)
        if level == 0:
            if self.recording is None:
                raise ParameterError("raw samples need the recording: open with one")
            x = self.recording.get_samples(idx, i0, i1)
            t = np.arange(i0, i1, dtype=np.float64) / self.fs
            return Envelope(t, x, x, 0, 1.0 / self.fs)
        arr = self.level_array(level)
        b0 = i0 >> level
        b1 = min(arr.shape[2], -(-i1 // (1 << level)))
        lo = np.array(arr[0][idx, b0:b1], dtype=np.float32)
        hi = np.array(arr[1][idx, b0:b1], dtype=np.float32)
        t = (np.arange(b0, b1, dtype=np.float64) * (1 << level)) / self.fs
        return Envelope(t, lo, hi, level, (1 << level) / self.fs)

    def nbytes_on_disk(self) -> int:
        """Size of the cached levels in bytes."""
        return sum(f.stat().st_size for f in self.folder.glob("L*.npy"))

    def close(self) -> None:
        """Drop the memory maps."""
        with self._lock:
            self._arrays.clear()

    def __repr__(self) -> str:
        return (
            f"<MinMaxPyramid levels={self.levels[0]}..{self.levels[-1]} leads={self.leads} "
            f"n_samples={self.n_samples} folder={str(self.folder)!r}>"
        )


def _cancelled(cancel: threading.Event | Callable[[], bool] | None) -> bool:
    if cancel is None:
        return False
    if isinstance(cancel, threading.Event):
        return cancel.is_set()
    return bool(cancel())


def _build(
    recording: Any,
    folder: Path,
    *,
    progress: Callable[[float], None] | None,
    cancel: threading.Event | Callable[[], bool] | None,
    chunk_level: int,
) -> None:
    n = int(recording.n_samples)
    n_leads = int(recording.n_leads)
    levels = _levels_for(n)
    streamed = [k for k in levels if k <= chunk_level]
    derived = [k for k in levels if k > chunk_level]
    outs = {
        k: np.lib.format.open_memmap(
            folder / f"L{k:02d}.npy", mode="w+", dtype=np.float32, shape=(2, n_leads, _n_bins(n, k))
        )
        for k in streamed
    }
    chunk = 1 << chunk_level
    all_leads = list(range(n_leads))
    for i0 in range(0, n, chunk):
        if _cancelled(cancel):
            raise CancelledError("building the overview pyramid was cancelled")
        i1 = min(n, i0 + chunk)
        x = np.asarray(recording.get_samples(all_leads, i0, i1), dtype=np.float32)
        lo, hi = minmax_blocks(x, 1 << BASE_LEVEL)
        del x
        for k in streamed:
            if k > BASE_LEVEL:
                lo, hi = reduce_minmax(lo, hi, 2)
            b0 = i0 >> k
            outs[k][0, :, b0 : b0 + lo.shape[1]] = lo
            outs[k][1, :, b0 : b0 + hi.shape[1]] = hi
        if progress is not None:
            progress(i1 / n)
    lo = np.asarray(outs[streamed[-1]][0])
    hi = np.asarray(outs[streamed[-1]][1])
    for k in derived:
        lo, hi = reduce_minmax(lo, hi, 2)
        np.save(folder / f"L{k:02d}.npy", np.stack([lo, hi]).astype(np.float32))
    # a robust amplitude range per lead (for fixed overview axes), from ~1 s blocks
    ref = outs[streamed[min(len(streamed) - 1, 3)]]
    y_range = []
    for lead in range(n_leads):
        a = np.asarray(ref[0, lead])
        b = np.asarray(ref[1, lead])
        a = a[np.isfinite(a)]
        b = b[np.isfinite(b)]
        if a.size == 0 or b.size == 0:
            y_range.append((-1.0, 1.0))
            continue
        low = float(np.percentile(a, 0.5))
        high = float(np.percentile(b, 99.5))
        if not high > low:
            low, high = low - 0.5, high + 0.5
        y_range.append((low, high))
    for arr in outs.values():
        arr.flush()
    del outs
    meta = {
        "layout": LAYOUT_VERSION,
        "fs": float(recording.fs),
        "n_samples": n,
        "leads": list(recording.leads),
        "levels": levels,
        "base_level": BASE_LEVEL,
        "y_range": y_range,
        "path": None if not recording.path else str(recording.path),
    }
    (folder / _META).write_text(json.dumps(meta, indent=1))
    if progress is not None:
        progress(1.0)
