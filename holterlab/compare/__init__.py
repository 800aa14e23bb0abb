"""Comparison of two Holter analyses, or of an analysis with reference annotations.

Local vs remote result, two parameter sets, or a result vs a cardiologist's annotation file:
:func:`compare` matches the beats as ANSI/AAMI EC57 / bxb do (QRS, VEB and SVEB sensitivity,
positive predictivity and false positive rate, confusion matrix), the episodes of each event
type as epicmp does (episode and duration Se/+P), puts the headline numbers side by side, and
lists the disagreements (missed/extra/mismatched beats, episodes on one side only) for a
dashboard to navigate.

>>> from holterlab.compare import compare
>>> c = compare("local.json", "remote.json")                    # doctest: +SKIP
>>> c.identical, c.beats.qrs_se, c.events["af"].duration_se     # doctest: +SKIP
>>> print(compare("201.atr", result).format())                  # doctest: +SKIP

Modules: :mod:`~holterlab.compare.sides` (loading), :mod:`~holterlab.compare.beats`,
:mod:`~holterlab.compare.events`, :mod:`~holterlab.compare.headline`,
:mod:`~holterlab.compare.disagreements`, :mod:`~holterlab.compare.report`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from holterlab.compare.beats import beat_disagreements, compare_side_beats
from holterlab.compare.disagreements import collect_disagreements
from holterlab.compare.events import compare_side_events
from holterlab.compare.headline import headline_differences
from holterlab.compare.report import Comparison
from holterlab.compare.sides import RESULT, Side, load_side
from holterlab.errors import ParameterError

__all__ = ["compare", "Comparison", "Side", "load_side"]


def _check_number(name: str, value: Any, *, positive: bool) -> float:
    try:
        f = float(value)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number, got {value!r}") from None
    if not math.isfinite(f) or (f <= 0 if positive else f < 0):
        raise ParameterError(f"{name} must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return f


def compare(
    a: Any,
    b: Any,
    *,
    window_ms: float = 150.0,
    learning_s: float = 0.0,
    event_types: Iterable[str] | None = None,
    end_s: float | None = None,
    fs: float | None = None,
    max_disagreements: int = 1000,
) -> Comparison:
    """Compare two Holter analyses (``a`` is the reference).

    Parameters
    ----------
    a, b
        Each a :class:`~holterlab.result.HolterResult`, a result dictionary, a path to a
        result JSON file, reference :class:`~holterlab.annotations.Annotations`, or a path to
        a WFDB annotation file (``100.atr``; its ``+`` rhythm annotations give the reference
        AF/AFL/VT/... episodes, its beats the reference pauses).
    window_ms
        Beat match window (ms); EC57: 150.
    learning_s
        Unscored start (s), for beats and episodes; 0 scores everything (EC57 uses 300).
    event_types
        Event types to compare (see :data:`holterlab.events.EVENT_TYPES`); default: every
        type present on either side that both sides can express.
    end_s
        End of scoring (s); default: the recording length of ``a`` (result duration, or a
        ``.hea`` header beside an annotation file), else that of ``b``, else the last beat
        of ``a`` for beats and no limit for episodes.
    fs
        Sampling rate for annotation files that do not store one.
    max_disagreements
        Cap on the listed disagreements (their counts are always complete).

    Returns
    -------
    Comparison

    Raises
    ------
    HolterlabError
        For an unreadable side (:class:`~holterlab.result.ResultError`,
        :class:`~holterlab.errors.AnnotationError`, ...) or invalid options
        (:class:`~holterlab.errors.ParameterError`).
    """
    window_ms = _check_number("window_ms", window_ms, positive=True)
    learning_s = _check_number("learning_s", learning_s, positive=False)
    if isinstance(max_disagreements, bool) or not isinstance(max_disagreements, int):
        raise ParameterError(f"max_disagreements must be an integer, got {max_disagreements!r}")
    if max_disagreements < 0:
        raise ParameterError("max_disagreements must be >= 0")
    if fs is not None:
        fs = _check_number("fs", fs, positive=True)
    side_a = a if isinstance(a, Side) else load_side(a, fs=fs)
    side_b = b if isinstance(b, Side) else load_side(b, fs=fs)
    if side_a.name == side_b.name:
        side_a = Side(
            f"A: {side_a.name}", side_a.kind, side_a.annotations, side_a.result, side_a.duration_s
        )
        side_b = Side(
            f"B: {side_b.name}", side_b.kind, side_b.annotations, side_b.result, side_b.duration_s
        )

    notes: list[str] = []
    if end_s is None:
        end_s = side_a.duration_s if side_a.duration_s is not None else side_b.duration_s
    else:
        end_s = _check_number("end_s", end_s, positive=True)
    if end_s is not None and end_s < learning_s:
        raise ParameterError(
            f"the learning period ({learning_s:g} s) is longer than the recording "
            f"({end_s:g} s): nothing would be scored"
        )

    beats, beat_note = compare_side_beats(
        side_a, side_b, window_ms=window_ms, learning_s=learning_s, end_s=end_s
    )
    if beat_note:
        notes.append(beat_note)
    beat_dis = beat_disagreements(side_a, side_b, beats) if beats is not None else None

    events, event_notes = compare_side_events(
        side_a, side_b, event_types=event_types, learning_s=learning_s, end_s=end_s
    )
    notes += event_notes

    headline = None
    if side_a.kind == RESULT and side_b.kind == RESULT:
        headline = headline_differences(
            side_a.result.headline(),  # type: ignore[union-attr]
            side_b.result.headline(),  # type: ignore[union-attr]
        )
    else:
        notes.append("headline numbers are compared only between two results")

    items, counts = collect_disagreements(beat_dis, events, limit=max_disagreements)
    return Comparison(
        a=side_a.describe(),
        b=side_b.describe(),
        settings={
            "window_ms": window_ms,
            "learning_s": learning_s,
            "end_s": end_s,
            "max_disagreements": max_disagreements,
        },
        beats=beats,
        events=events,
        headline=headline,
        disagreements=items,
        disagreement_counts=counts,
        notes=notes,
    )
