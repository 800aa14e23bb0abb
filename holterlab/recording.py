"""The :class:`Recording`: lazy, lead- and time-windowed access to an ECG recording.

A recording is a header (lead names, sampling rate, start time, ADC calibration) plus a
*signal source* that reads any window of samples on demand. Readers in :mod:`holterlab.io`
parse the header once and return a :class:`Recording` whose source reads only what is
asked for, so a 7-day file opens in milliseconds and serves any window without loading the
rest.

Physical values are float32 millivolts. ``fs`` is always explicit.
"""

from __future__ import annotations

import datetime as _dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

import numpy as np

from holterlab.errors import ParameterError

if TYPE_CHECKING:  # pragma: no cover
    from holterlab.annotations import Annotations

__all__ = ["Recording", "SignalSource", "ArraySource", "LeadSpec"]

LeadSpec = "int | str | Sequence[int | str] | None"


@runtime_checkable
class SignalSource(Protocol):
    """What a reader provides: random access to a window of samples.

    ``read(start, stop, leads)`` returns float32 millivolts of shape
    ``(len(leads), stop - start)`` for ``0 <= start <= stop <= n_samples`` and lead indices
    ``leads``. ``read_digital`` (optional) returns the stored integers, used by writers for
    exact conversions.
    """

    n_samples: int

    def read(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray: ...

    def close(self) -> None: ...


class ArraySource:
    """A :class:`SignalSource` over an in-memory (or memory-mapped) array of shape (leads, n).

    Parameters
    ----------
    data
        Physical values in mV, shape ``(n_leads, n_samples)``; any float dtype, or integers
        together with ``adc_gain``/``adc_zero`` (then ``mV = (raw - zero) / gain``).
    adc_gain, adc_zero
        Per-lead calibration for integer ``data``.
    """

    def __init__(
        self,
        data: np.ndarray,
        adc_gain: np.ndarray | None = None,
        adc_zero: np.ndarray | None = None,
    ) -> None:
        if data.ndim != 2:
            raise ParameterError(f"signal must be 2-D (leads, samples), got shape {data.shape}")
        self._data = data
        self.n_samples = int(data.shape[1])
        self._gain = None if adc_gain is None else np.asarray(adc_gain, dtype=np.float64)
        self._zero = None if adc_zero is None else np.asarray(adc_zero, dtype=np.float64)
        if np.issubdtype(data.dtype, np.integer) and self._gain is None:
            raise ParameterError("integer signal data needs adc_gain (ADC units per mV)")

    def read(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        idx = list(leads)
        block = self._data[idx, start:stop]
        if self._gain is None:
            return np.asarray(block, dtype=np.float32)
        zero = 0.0 if self._zero is None else self._zero[idx, None]
        return ((block - zero) / self._gain[idx, None]).astype(np.float32)

    def read_digital(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray | None:
        if not np.issubdtype(self._data.dtype, np.integer):
            return None
        return np.asarray(self._data[list(leads), start:stop])

    def close(self) -> None:
        self._data = self._data[:, :0]


@dataclass
class Recording:
    """An ECG recording with lazy access to its samples.

    Parameters
    ----------
    source
        The :class:`SignalSource` that reads samples on demand.
    fs
        Sampling rate in Hz (> 0).
    leads
        Lead names, one per channel.
    start_time
        Recording start (naive local time as stored by the device, or timezone-aware), or None.
    annotations
        Reference annotations carried by the file (WFDB ``.atr``, EDF+ annotations), or None.
    adc_gain, adc_zero
        Per-lead ADC calibration of the stored integers (``mV = (raw - zero) / gain``), when the
        format stores integers; writers use it to convert without requantising.
    path, format
        Where the recording was read from and the format name (``edf``, ``wfdb``, ...).
    metadata
        Format-specific extras (patient, device, EDF header fields, ...).
    """

    source: SignalSource
    fs: float
    leads: list[str]
    start_time: _dt.datetime | None = None
    annotations: Annotations | None = None
    adc_gain: np.ndarray | None = None
    adc_zero: np.ndarray | None = None
    path: str | None = None
    format: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        fs = float(self.fs)
        if not np.isfinite(fs) or fs <= 0:
            raise ParameterError(f"sampling rate must be a positive number of Hz, got {self.fs!r}")
        self.fs = fs
        self.leads = [str(x) for x in self.leads]
        if len(self.leads) == 0:
            raise ParameterError("a recording needs at least one lead")
        if len(set(self.leads)) != len(self.leads):
            # keep names unique so that lead selection by name is unambiguous
            seen: dict[str, int] = {}
            unique = []
            for name in self.leads:
                n = seen.get(name, 0)
                seen[name] = n + 1
                unique.append(name if n == 0 else f"{name}_{n + 1}")
            self.leads = unique
        for attr in ("adc_gain", "adc_zero"):
            value = getattr(self, attr)
            if value is not None:
                arr = np.asarray(value, dtype=np.float64).reshape(-1)
                if arr.size != len(self.leads):
                    raise ParameterError(f"{attr} needs one value per lead")
                setattr(self, attr, arr)

    # ------------------------------------------------------------------ construction
    @classmethod
    def from_array(
        cls,
        signal: np.ndarray,
        fs: float,
        leads: Sequence[str] | None = None,
        *,
        start_time: _dt.datetime | None = None,
        annotations: Annotations | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> Recording:
        """Wrap an array of physical values (mV), shape ``(n_leads, n_samples)`` or ``(n,)``."""
        data = np.asarray(signal)
        if data.ndim == 1:
            data = data[None, :]
        if not np.issubdtype(data.dtype, np.floating):
            data = data.astype(np.float32)
        if leads is None:
            leads = [f"ECG{i + 1}" for i in range(data.shape[0])]
        if len(leads) != data.shape[0]:
            raise ParameterError(
                f"{len(leads)} lead names given for a signal with {data.shape[0]} leads"
            )
        return cls(
            source=ArraySource(data),
            fs=fs,
            leads=list(leads),
            start_time=start_time,
            annotations=annotations,
            metadata=dict(metadata or {}),
        )

    # ------------------------------------------------------------------ facts
    @property
    def n_samples(self) -> int:
        """Number of samples per lead."""
        return int(self.source.n_samples)

    @property
    def n_leads(self) -> int:
        """Number of leads."""
        return len(self.leads)

    @property
    def duration(self) -> float:
        """Duration in seconds."""
        return self.n_samples / self.fs

    @property
    def name(self) -> str:
        """Record name (file name without extension), or ``"recording"``."""
        if not self.path:
            return "recording"
        from pathlib import Path

        p = Path(self.path)
        name = p.name
        for suffix in (".hea", ".zip", ".csv", ".edf", ".bdf", ".aiecg", ".ecg", ".dat"):
            if name.lower().endswith(suffix):
                return name[: -len(suffix)]
        return p.stem

    # ------------------------------------------------------------------ access
    def lead_indices(self, leads: Any = None) -> list[int]:
        """Resolve lead names/indices (or None for all) to a list of indices."""
        if leads is None:
            return list(range(self.n_leads))
        if isinstance(leads, (str, int, np.integer)):
            leads = [leads]
        out = []
        for lead in leads:
            if isinstance(lead, (int, np.integer)):
                i = int(lead)
                if not -self.n_leads <= i < self.n_leads:
                    raise ParameterError(
                        f"lead index {i} out of range: the recording has {self.n_leads} leads"
                    )
                out.append(i % self.n_leads)
            else:
                try:
                    out.append(self.leads.index(str(lead)))
                except ValueError:
                    raise ParameterError(
                        f"no lead named {lead!r}; the leads are {', '.join(self.leads)}"
                    ) from None
        return out

    def _sample_range(self, start: float, stop: float | None) -> tuple[int, int]:
        if start is None:
            start = 0.0
        if not np.isfinite(start) or (stop is not None and not np.isfinite(stop)):
            raise ParameterError("start and stop must be finite numbers of seconds")
        i0 = int(round(float(start) * self.fs))
        i1 = self.n_samples if stop is None else int(round(float(stop) * self.fs))
        i0 = min(max(i0, 0), self.n_samples)
        i1 = min(max(i1, i0), self.n_samples)
        return i0, i1

    def get(self, leads: Any = None, start: float = 0.0, stop: float | None = None) -> np.ndarray:
        """Return samples in mV as float32, shape ``(n_leads, n)``.

        Parameters
        ----------
        leads
            Lead names or indices (a single one or a list); None for all leads.
        start, stop
            Window in seconds from the start of the recording; ``stop=None`` means the end.
            The window is clipped to the recording.
        """
        i0, i1 = self._sample_range(start, stop)
        return self.get_samples(leads, i0, i1)

    def get_samples(self, leads: Any = None, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Like :meth:`get` with the window in samples ``[start, stop)``."""
        idx = self.lead_indices(leads)
        n = self.n_samples
        i0 = min(max(int(start), 0), n)
        i1 = n if stop is None else min(max(int(stop), i0), n)
        out = self.source.read(i0, i1, idx)
        return np.asarray(out, dtype=np.float32)

    def get_digital(self, leads: Any = None, start: int = 0, stop: int | None = None):
        """Stored integer samples ``[start, stop)`` if the source keeps integers, else None."""
        reader = getattr(self.source, "read_digital", None)
        if reader is None:
            return None
        idx = self.lead_indices(leads)
        n = self.n_samples
        i0 = min(max(int(start), 0), n)
        i1 = n if stop is None else min(max(int(stop), i0), n)
        return reader(i0, i1, idx)

    def iter_chunks(
        self,
        chunk: float = 3600.0,
        *,
        overlap: float = 0.0,
        leads: Any = None,
    ) -> Iterator[tuple[int, np.ndarray]]:
        """Iterate over the recording in windows of ``chunk`` seconds.

        Yields ``(first_sample, block)`` where ``block`` covers
        ``[first_sample, first_sample + chunk + overlap)`` clipped to the recording; the
        chunks' start points are ``chunk`` seconds apart, so consecutive blocks share
        ``overlap`` seconds.
        """
        if chunk <= 0:
            raise ParameterError("chunk length must be positive")
        if overlap < 0:
            raise ParameterError("overlap must not be negative")
        step = max(1, int(round(chunk * self.fs)))
        extra = int(round(overlap * self.fs))
        idx = self.lead_indices(leads)
        for i0 in range(0, self.n_samples, step):
            i1 = min(self.n_samples, i0 + step + extra)
            yield i0, np.asarray(self.source.read(i0, i1, idx), dtype=np.float32)

    def time(self, start: int = 0, stop: int | None = None) -> np.ndarray:
        """Seconds from the start for samples ``[start, stop)``."""
        stop = self.n_samples if stop is None else stop
        return np.arange(start, stop, dtype=np.float64) / self.fs

    # ------------------------------------------------------------------ misc
    def load(self) -> Recording:
        """Return an in-memory copy (all samples read once)."""
        data = self.get()
        rec = Recording.from_array(
            data,
            self.fs,
            self.leads,
            start_time=self.start_time,
            annotations=self.annotations,
            metadata=dict(self.metadata),
        )
        rec.path, rec.format = self.path, self.format
        return rec

    def write(self, path: str, **kwargs: Any) -> None:
        """Write this recording with :func:`holterlab.write` (format from the extension)."""
        from holterlab.io import write

        write(self, path, **kwargs)

    def info(self) -> dict[str, Any]:
        """A summary dictionary (what ``holterlab info`` prints)."""
        return {
            "path": self.path,
            "format": self.format,
            "leads": list(self.leads),
            "fs": self.fs,
            "n_samples": self.n_samples,
            "duration_s": self.duration,
            "start_time": None if self.start_time is None else self.start_time.isoformat(),
            "annotations": None if self.annotations is None else len(self.annotations),
        }

    def close(self) -> None:
        """Release the file handles of the source."""
        self.source.close()

    def __enter__(self) -> Recording:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        hours = self.duration / 3600
        return (
            f"<Recording {self.name!r} format={self.format} leads={self.leads} fs={self.fs:g} Hz "
            f"duration={hours:.2f} h>"
        )
