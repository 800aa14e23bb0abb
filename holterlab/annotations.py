"""Beat and rhythm annotations as arrays, with WFDB (MIT format) input and output.

An :class:`Annotations` object holds parallel arrays: ``sample`` (int64 sample indices),
``symbol`` (MIT-BIH annotation codes such as ``N``, ``V``, ``+``) and ``aux`` (aux notes such
as ``(AFIB``), plus the sampling rate ``fs`` they refer to.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from holterlab._atomic import atomic_path
from holterlab.errors import AnnotationError, ParameterError, RecordingNotFoundError

__all__ = [
    "Annotations",
    "BEAT_SYMBOLS",
    "AAMI_MAP",
    "aami_class",
    "read_annotations",
    "write_annotations",
]

#: MIT-BIH symbols that mark beats (as PhysioNet's ``isqrs``).
BEAT_SYMBOLS = frozenset("N L R B A a J S V r F e j n E / f Q ?".split())

#: ANSI/AAMI EC57 class of each MIT-BIH beat symbol (``/`` paced beats are class Q).
AAMI_MAP: dict[str, str] = {
    **dict.fromkeys(["N", "L", "R", "e", "j", "B", "n"], "N"),
    **dict.fromkeys(["A", "a", "J", "S"], "S"),
    **dict.fromkeys(["V", "E", "r"], "V"),
    "F": "F",
    **dict.fromkeys(["/", "f", "Q", "?"], "Q"),
}


def aami_class(symbols: Iterable[str] | np.ndarray) -> np.ndarray:
    """Map MIT-BIH beat symbols to AAMI classes ``N S V F Q`` (non-beats map to ``""``)."""
    arr = np.asarray(list(symbols) if not isinstance(symbols, np.ndarray) else symbols, dtype=str)
    out = np.full(arr.shape, "", dtype="<U1")
    for sym, cls in AAMI_MAP.items():
        out[arr == sym] = cls
    return out


def _as_str_array(values: Iterable[str] | np.ndarray | None, n: int, what: str) -> np.ndarray:
    if values is None:
        return np.full(n, "", dtype=object)
    arr = np.array([("" if v is None else str(v)) for v in values], dtype=object)
    if arr.shape != (n,):
        raise AnnotationError(f"{what} must have one entry per annotation ({n}), got {arr.shape}")
    return arr


@dataclass
class Annotations:
    """Time-stamped annotations.

    Parameters
    ----------
    sample
        Sample indices (int64), non-decreasing.
    symbol
        MIT-BIH annotation code per annotation.
    fs
        Sampling rate the sample indices refer to (Hz).
    aux
        Aux note per annotation (``""`` where none).
    chan
        Channel (lead) number per annotation (0 where unknown).
    subtype
        MIT ``subtyp`` field per annotation (0 where unused). For noise annotations (``~``)
        bits 0-3 flag the noisy signals and -1 means all signals unreadable.
    """

    sample: np.ndarray
    symbol: np.ndarray
    fs: float
    aux: np.ndarray = field(default=None)  # type: ignore[assignment]
    chan: np.ndarray = field(default=None)  # type: ignore[assignment]
    subtype: np.ndarray = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        sample = np.asarray(self.sample)
        if sample.ndim != 1:
            raise AnnotationError("annotation samples must be a 1-D array")
        if sample.size and not np.issubdtype(sample.dtype, np.integer):
            if not np.all(np.isfinite(sample)) or np.any(sample != np.round(sample)):
                raise AnnotationError("annotation samples must be whole sample indices")
        self.sample = sample.astype(np.int64)
        n = self.sample.size
        self.symbol = np.asarray(_as_str_array(self.symbol, n, "symbol"), dtype=str).astype(object)
        self.aux = _as_str_array(self.aux, n, "aux")
        self.chan = (
            np.zeros(n, dtype=np.int16) if self.chan is None else np.asarray(self.chan, np.int16)
        )
        if self.chan.shape != (n,):
            raise AnnotationError("chan must have one entry per annotation")
        self.subtype = (
            np.zeros(n, dtype=np.int8)
            if self.subtype is None
            else np.asarray(self.subtype, np.int8)
        )
        if self.subtype.shape != (n,):
            raise AnnotationError("subtype must have one entry per annotation")
        if not np.isfinite(self.fs) or self.fs <= 0:
            raise AnnotationError(f"annotation sampling rate must be positive, got {self.fs!r}")
        self.fs = float(self.fs)
        if n and np.any(self.sample < 0):
            raise AnnotationError("annotation samples must not be negative")
        if n > 1 and np.any(np.diff(self.sample) < 0):
            order = np.argsort(self.sample, kind="stable")
            self.sample = self.sample[order]
            self.symbol = self.symbol[order]
            self.aux = self.aux[order]
            self.chan = self.chan[order]
            self.subtype = self.subtype[order]

    # ------------------------------------------------------------------ views
    def __len__(self) -> int:
        return int(self.sample.size)

    @property
    def time(self) -> np.ndarray:
        """Annotation times in seconds."""
        return self.sample / self.fs

    def select(self, mask: np.ndarray) -> Annotations:
        """The annotations where ``mask`` is true."""
        return Annotations(
            self.sample[mask],
            self.symbol[mask],
            self.fs,
            self.aux[mask],
            self.chan[mask],
            self.subtype[mask],
        )

    def beats(self) -> Annotations:
        """Only the beat annotations (symbols in :data:`BEAT_SYMBOLS`)."""
        return self.select(np.isin(self.symbol.astype(str), list(BEAT_SYMBOLS)))

    def rhythms(self) -> Annotations:
        """Only the rhythm-change annotations (``+`` with an aux note)."""
        return self.select(self.symbol.astype(str) == "+")

    def aami(self) -> np.ndarray:
        """AAMI class of each annotation (``""`` for non-beats)."""
        return aami_class(self.symbol.astype(str))

    def window(self, start: int, stop: int) -> Annotations:
        """Annotations with ``start <= sample < stop``."""
        return self.select((self.sample >= start) & (self.sample < stop))

    def shift(self, offset: int) -> Annotations:
        """The same annotations with ``offset`` added to every sample index."""
        return Annotations(
            self.sample + int(offset), self.symbol, self.fs, self.aux, self.chan, self.subtype
        )

    def resampled(self, fs: float) -> Annotations:
        """The same annotations with sample indices converted to sampling rate ``fs``."""
        sample = np.round(self.sample * (fs / self.fs)).astype(np.int64)
        return Annotations(sample, self.symbol, fs, self.aux, self.chan, self.subtype)

    @classmethod
    def concatenate(cls, parts: list[Annotations]) -> Annotations:
        """Join annotation sets of the same sampling rate (result sorted by sample)."""
        if not parts:
            raise AnnotationError("nothing to concatenate")
        fs = parts[0].fs
        if any(p.fs != fs for p in parts):
            raise AnnotationError("cannot concatenate annotations of different sampling rates")
        return cls(
            np.concatenate([p.sample for p in parts]),
            np.concatenate([p.symbol for p in parts]),
            fs,
            np.concatenate([p.aux for p in parts]),
            np.concatenate([p.chan for p in parts]),
            np.concatenate([p.subtype for p in parts]),
        )

    def noise_intervals(self, n_signals: int = 2) -> np.ndarray:
        """``(start_s, end_s)`` rows of unanalysable time marked by the annotations.

        Two MIT-BIH conventions: noise annotations ``~`` set a noise state that lasts until
        the next ``~`` (unanalysable when every one of ``n_signals`` signals is flagged noisy,
        or ``subtype == -1``); an isolated artefact ``|`` makes the RR interval around it
        invalid (a 20 ms interval is returned at its position so nothing spans it). Stretches
        marked as ventricular flutter ``[`` ... ``]`` are not included.
        """
        sym = self.symbol.astype(str)
        t = self.time
        rows: list[tuple[float, float]] = []
        all_mask = (1 << max(1, int(n_signals))) - 1
        noise = np.flatnonzero(sym == "~")
        start = None
        for k in noise:
            st = int(self.subtype[k])
            bad = st == -1 or (st & all_mask) == all_mask
            if bad and start is None:
                start = float(t[k])
            elif not bad and start is not None:
                rows.append((start, float(t[k])))
                start = None
        if start is not None:
            end = float(t[-1]) if len(t) else start
            rows.append((start, max(end, start)))
        for k in np.flatnonzero(sym == "|"):
            rows.append((float(t[k]) - 0.01, float(t[k]) + 0.01))
        if not rows:
            return np.zeros((0, 2))
        out = np.array(sorted(rows))
        out[:, 0] = np.maximum(out[:, 0], 0.0)
        return out

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Annotations):
            return NotImplemented
        return (
            self.fs == other.fs
            and np.array_equal(self.sample, other.sample)
            and np.array_equal(self.symbol.astype(str), other.symbol.astype(str))
            and np.array_equal(self.aux.astype(str), other.aux.astype(str))
        )

    def __repr__(self) -> str:
        return f"<Annotations n={len(self)} fs={self.fs:g} Hz>"


# ---------------------------------------------------------------------- WFDB I/O
def _split_annotation_path(path: str | os.PathLike[str], extension: str | None):
    """Return (directory, record name, extension) for an annotation file path."""
    p = Path(path)
    if extension is None:
        if not p.suffix:
            raise ParameterError(
                f"{p}: give the annotation file with its extension (e.g. 100.atr) "
                "or pass extension="
            )
        extension = p.suffix[1:]
        record = p.name[: -len(p.suffix)]
    else:
        record = p.name
        if record.endswith("." + extension):
            record = record[: -len(extension) - 1]
    return p.parent, record, extension


#: Bytes of a text file (a .hea header, a CSV): a WFDB annotation file always has others.
_TEXT_BYTES = frozenset(b"\t\n\r" + bytes(range(32, 127)))


def _check_annotation_bytes(file: Path) -> None:
    """Refuse a text file and a file cut short (wfdb would read either without complaint)."""
    size = file.stat().st_size
    with open(file, "rb") as fh:
        head = fh.read(256)
        fh.seek(max(size - 2, 0))
        tail = fh.read(2)
    if all(byte in _TEXT_BYTES for byte in head):
        raise AnnotationError(
            f"{file}: this is a text file (a .hea header? a CSV?), not a WFDB annotation file; "
            "give the binary annotation file, e.g. 100.atr"
        )
    if size % 2 or tail != b"\x00\x00":
        raise AnnotationError(
            f"{file}: the annotation file is truncated (it does not end with the WFDB "
            "end-of-file mark); copy it again from its source"
        )


def read_annotations(
    path: str | os.PathLike[str], extension: str | None = None, *, fs: float | None = None
) -> Annotations:
    """Read a WFDB (MIT format) annotation file.

    Parameters
    ----------
    path
        The annotation file (``100.atr``), or a record path with ``extension`` given.
    extension
        Annotation file extension (``atr``, ``hlab``, ...) if ``path`` has none.
    fs
        Sampling rate; needed when the file does not store it and no ``.hea`` lies beside it.
    """
    directory, record, extension = _split_annotation_path(path, extension)
    file = directory / f"{record}.{extension}"
    if not file.is_file():
        raise RecordingNotFoundError(f"{file}: no such annotation file")
    if file.stat().st_size == 0:
        raise AnnotationError(f"{file}: the annotation file is empty")
    _check_annotation_bytes(file)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import wfdb

        try:
            ann = wfdb.rdann(str(directory / record), extension)
        except Exception as exc:  # wfdb raises many kinds of errors on corrupt files
            raise AnnotationError(f"{file}: not a readable WFDB annotation file ({exc})") from None
    rate = ann.fs
    if rate is None or not np.isfinite(rate) or rate <= 0:
        rate = fs
    if rate is None:
        header = directory / f"{record}.hea"
        if header.is_file():
            try:
                rate = float(header.read_text(errors="replace").split()[2].split("/")[0])
            except (IndexError, ValueError):
                rate = None
    if rate is None:
        raise AnnotationError(
            f"{file}: the sampling rate is not stored in the file; pass fs= (e.g. --fs 360)"
        )
    n = len(ann.sample)
    aux = ann.aux_note if ann.aux_note is not None else [""] * n
    aux = [a.rstrip("\x00") for a in aux]
    chan = ann.chan if ann.chan is not None else np.zeros(n)
    subtype = ann.subtype if ann.subtype is not None else np.zeros(n)
    return Annotations(np.asarray(ann.sample), list(ann.symbol), float(rate), aux, chan, subtype)


def write_annotations(
    annotations: Annotations,
    path: str | os.PathLike[str],
    extension: str | None = None,
) -> Path:
    """Write annotations as a WFDB (MIT format) annotation file, atomically.

    Returns the path written. The sampling rate is stored in the file.
    """
    directory, record, extension = _split_annotation_path(path, extension)
    target = directory / f"{record}.{extension}"
    ann = annotations
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import wfdb

        with tempfile.TemporaryDirectory(dir=directory if directory.exists() else None) as tmp:
            if len(ann) == 0:
                # wfdb cannot write an empty file: write the end-of-file marker ourselves
                data = b"\x00\x00"
            else:
                fs_value = ann.fs if float(ann.fs).is_integer() else round(ann.fs, 6)
                fs_value = int(fs_value) if float(fs_value).is_integer() else fs_value
                wfdb.wrann(
                    record,
                    extension,
                    sample=ann.sample.astype(np.int64),
                    symbol=[str(s) for s in ann.symbol],
                    aux_note=[str(a) for a in ann.aux],
                    chan=ann.chan.astype(np.int64),
                    subtype=ann.subtype.astype(np.int64),
                    fs=fs_value,
                    write_dir=tmp,
                )
                data = (Path(tmp) / f"{record}.{extension}").read_bytes()
    with atomic_path(target) as part:
        part.write_bytes(data)
    return target


def copy_annotation_file(src: str | os.PathLike[str], dst: str | os.PathLike[str]) -> None:
    """Copy an annotation file atomically."""
    with atomic_path(dst) as part:
        shutil.copyfile(src, part)
