"""The two sides of a comparison: a Holter result or reference annotations, loaded uniformly.

A *side* is what :func:`holterlab.compare.compare` compares: a
:class:`~holterlab.result.HolterResult` (object, dict or JSON file) or reference
:class:`~holterlab.annotations.Annotations` (object or WFDB annotation file such as
``100.atr`` / ``100.hlab``). Both give beat annotations for the EC57 beat comparison; a result
gives its events, annotations give rhythm episodes from their ``+`` annotations and pauses
from their beats (see :mod:`holterlab.compare.events`).
"""

from __future__ import annotations

import json
import os
import warnings
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from holterlab.annotations import Annotations, read_annotations
from holterlab.errors import ParameterError
from holterlab.result import HolterResult, ResultError

__all__ = ["Side", "load_side", "RESULT", "ANNOTATIONS"]

#: Side kinds.
RESULT = "result"
ANNOTATIONS = "annotations"


@dataclass(frozen=True, eq=False)
class Side:
    """One side of a comparison.

    Attributes
    ----------
    name
        Display name (file name, record name or ``"a"``/``"b"``).
    kind
        ``"result"`` or ``"annotations"``.
    annotations
        Beat annotations for :func:`holterlab.evaluate.compare_beats` (for annotation files,
        the whole file, so VF ``[``/``]`` markers are kept); ``None`` without a beat list.
    result
        The result, for ``kind == "result"``.
    duration_s
        Recording length if known (a result's ``recording.duration_s``, or the record length
        from a ``.hea`` header beside an annotation file).
    """

    name: str
    kind: str
    annotations: Annotations | None
    result: HolterResult | None = None
    duration_s: float | None = None

    @cached_property
    def beat_annotations(self) -> Annotations | None:
        """Only the beat annotations (computed once), or ``None`` without a beat list."""
        return None if self.annotations is None else self.annotations.beats()

    @cached_property
    def rhythm_annotations(self) -> Annotations | None:
        """Only the ``+`` rhythm annotations (computed once), or ``None``."""
        return None if self.annotations is None else self.annotations.rhythms()

    @property
    def has_beats(self) -> bool:
        """Whether the side holds at least one beat annotation."""
        return self.beat_annotations is not None and len(self.beat_annotations) > 0

    @property
    def has_rhythm(self) -> bool:
        """Whether an annotation side holds ``+`` rhythm annotations (results: always)."""
        if self.kind == RESULT:
            return True
        return self.rhythm_annotations is not None and len(self.rhythm_annotations) > 0

    def describe(self) -> dict[str, Any]:
        """JSON-ready description (name, kind, beats, duration)."""
        n_beats = None if self.beat_annotations is None else len(self.beat_annotations)
        return {
            "name": self.name,
            "kind": self.kind,
            "n_beats": n_beats,
            "fs": None if self.annotations is None else self.annotations.fs,
            "duration_s": self.duration_s,
            "n_events": None if self.result is None else len(self.result.events),
        }


def _result_side(result: HolterResult, name: str) -> Side:
    ann = None
    if result.beat_samples is not None and result.fs:
        labels = (
            result.beat_labels
            if result.beat_labels is not None
            else np.full(result.beat_samples.size, "Q")
        )
        if len(labels) != len(result.beat_samples):
            raise ResultError(
                f"{name}: the beat list has {len(result.beat_samples)} samples but "
                f"{len(labels)} labels"
            )
        ann = Annotations(
            np.asarray(result.beat_samples), np.asarray(labels).astype(str), float(result.fs)
        )
    duration = (result.recording or {}).get("duration_s")
    return Side(
        name=name,
        kind=RESULT,
        annotations=ann,
        result=result,
        duration_s=None if duration is None else float(duration),
    )


def _result_from_dict(data: Any, name: str) -> HolterResult:
    try:
        return HolterResult.from_dict(data)
    except ResultError as exc:
        raise ResultError(f"{name}: {exc}") from None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        # a JSON object that looks like a result but has a malformed section
        raise ResultError(
            f"{name}: not a valid holterlab result ({type(exc).__name__}: {exc}); "
            "export it again with HolterResult.to_json(include_beats=True)"
        ) from None


def _record_length_s(file: Path) -> float | None:
    """Record length from the ``.hea`` header beside an annotation file, if any."""
    record = file.name[: -len(file.suffix)] if file.suffix else file.name
    header = file.parent / f"{record}.hea"
    if not header.is_file():
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import wfdb

        try:
            h = wfdb.rdheader(str(file.parent / record))
        except Exception:  # an unreadable header: the length stays unknown
            return None
    if not h.sig_len or not h.fs or h.fs <= 0:
        return None
    return float(h.sig_len) / float(h.fs)


def _looks_like_json(path: Path) -> bool:
    if path.suffix.lower() == ".json":
        return True
    try:
        with open(path, "rb") as fh:
            head = fh.read(64).lstrip()
    except OSError:
        return False
    return head.startswith(b"{")


def _load_path(path: Path, fs: float | None) -> Side:
    name = path.name
    if path.is_dir():
        raise ParameterError(f"{path}: is a folder; give a result JSON or an annotation file")
    if _looks_like_json(path):
        if not path.is_file():
            raise ResultError(f"{path}: no such result file")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise ResultError(f"{path}: not a UTF-8 text file, so not a result JSON") from None
        if not text.strip():
            raise ResultError(f"{path}: the result file is empty")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ResultError(
                f"{path}: not valid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})"
            ) from None
        return _result_side(_result_from_dict(data, name), name)
    ann = read_annotations(path, fs=fs)
    return Side(name=name, kind=ANNOTATIONS, annotations=ann, duration_s=_record_length_s(path))


def load_side(value: Any, *, name: str = "", fs: float | None = None) -> Side:
    """Load one side of a comparison.

    Parameters
    ----------
    value
        A :class:`~holterlab.result.HolterResult`, a result dictionary, a path to a result
        JSON file (``.json``, or any file starting with ``{``), reference
        :class:`~holterlab.annotations.Annotations`, or a path to a WFDB annotation file
        (``100.atr``, ``100.hlab``).
    name
        Display name; default: the file name, or the result's recording name.
    fs
        Sampling rate for annotation files that do not store one.

    Returns
    -------
    Side

    Raises
    ------
    ResultError, AnnotationError, RecordingNotFoundError, ParameterError
        For anything that is not a readable result or annotation set.
    """
    if isinstance(value, HolterResult):
        return _result_side(value, name or str((value.recording or {}).get("name") or "result"))
    if isinstance(value, Annotations):
        return Side(name=name or "annotations", kind=ANNOTATIONS, annotations=value)
    if isinstance(value, dict):
        label = name or "result"
        return _result_side(_result_from_dict(value, label), label)
    if isinstance(value, (str, os.PathLike)):
        side = _load_path(Path(value), fs)
        if name:
            side = Side(name, side.kind, side.annotations, side.result, side.duration_s)
        return side
    raise ParameterError(
        "compare() takes a HolterResult, a result dict, Annotations or a path to a result "
        f"JSON or WFDB annotation file, not {type(value).__name__}"
    )
