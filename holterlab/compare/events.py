"""Event-level part of a comparison: episode agreement per event type (epicmp rules).

For each event type the episodes of the two sides, as ``(start_s, end_s)`` intervals, are
compared with :func:`holterlab.evaluate.compare_episodes` (side ``a`` is the reference; any
overlap matches; episode and duration sensitivity and positive predictivity). Overlapping
episodes of one type on one side (e.g. ST episodes of two leads) are merged first, and
zero-length episodes are ignored, as ``compare_episodes`` does; the episode counts reported
(``n_a``, ``n_b``) are those of the merged episodes. Result event times are rounded to the
millisecond, as in the result JSON.

Where episodes come from
    * a result: its ``events`` of that type;
    * reference annotations: rhythm episodes from the ``+`` rhythm annotations with
      :func:`holterlab.evaluate.episodes_from_rhythm`, with the MIT codes of
      :data:`holterlab.rhythm.annotate.RHYTHM_CODES` (``(AFIB`` af, ``(AFL`` afl, ``(VT`` vt,
      ``(IVR`` ivr, ``(SVTA`` svt, ``(B`` v_bigeminy, ``(T`` v_trigeminy, ``(SBR`` brady),
      matched exactly (``(B`` is not ``(BII``; an episode still open at the end of the file
      ends at the end of scoring or the last annotation, whichever is later); and pauses
      (type ``pause``) from the RR intervals of the annotated beats at or above the pause
      threshold (the threshold of the result side's parameters, else 2 s), from the beat
      before to the beat after.

Which types are compared
    By default, every type that occurs on either side and that both sides can express
    (annotations express only the types above; an annotation file without ``+`` annotations
    expresses only pauses). ``event_types`` names them explicitly.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from holterlab.annotations import Annotations
from holterlab.compare.sides import RESULT, Side
from holterlab.errors import ParameterError
from holterlab.evaluate import EpisodeComparison, compare_episodes, episodes_from_rhythm
from holterlab.events import EVENT_TYPES
from holterlab.rhythm.annotate import RHYTHM_CODES

__all__ = [
    "ANNOTATION_EVENT_TYPES",
    "DEFAULT_PAUSE_S",
    "compare_side_events",
    "side_episodes",
    "pause_threshold",
]

#: Default pause threshold (s) for pauses derived from reference beats.
DEFAULT_PAUSE_S = 2.0

#: Event types that reference annotations can give (rhythm codes plus pauses).
ANNOTATION_EVENT_TYPES: tuple[str, ...] = (*RHYTHM_CODES, "pause")

_OTHER = "(?"  # stands for any rhythm note that is not the one looked for


def pause_threshold(*sides: Side) -> float:
    """The pause threshold of the first result side's parameters, else 2 s."""
    for side in sides:
        if side.result is None:
            continue
        try:
            value = float(side.result.params["rhythm"]["pause"]["pause_s"])
        except (KeyError, TypeError, ValueError):
            continue
        if np.isfinite(value) and value > 0:
            return value
    return DEFAULT_PAUSE_S


def _rhythm_episodes(rhythm: Annotations, code: str, end_s: float | None) -> np.ndarray:
    """Episodes of one MIT rhythm code, the aux note matched exactly (not as a prefix)."""
    notes = [str(n).strip() for n in rhythm.aux]
    exact = Annotations(
        rhythm.sample, rhythm.symbol, rhythm.fs, [code if n == code else _OTHER for n in notes]
    )
    return episodes_from_rhythm(exact, code, end_s=end_s)


def _pause_episodes(beats: Annotations, pause_s: float) -> np.ndarray:
    t = beats.sample / beats.fs
    if t.size < 2:
        return np.empty((0, 2))
    idx = np.flatnonzero(np.diff(t) >= pause_s)
    return np.column_stack([t[idx], t[idx + 1]]).astype(np.float64)


def side_capabilities(side: Side) -> tuple[str, ...]:
    """Event types a side can express."""
    if side.kind == RESULT:
        return tuple(EVENT_TYPES)
    types = tuple(RHYTHM_CODES) if side.has_rhythm else ()
    if side.has_beats:
        types = (*types, "pause")
    return types


def side_episodes(
    side: Side, event_type: str, *, end_s: float | None, pause_s: float
) -> np.ndarray:
    """``(k, 2)`` episodes ``(start_s, end_s)`` of one type on one side."""
    if side.kind == RESULT:
        # rounded to the ms as in the result JSON, so an object and its JSON compare equal
        events = [e for e in side.result.events if e.type == event_type]  # type: ignore[union-attr]
        pairs = [(round(float(e.start_s), 3), round(float(e.end_s), 3)) for e in events]
        return np.asarray(pairs, dtype=np.float64).reshape(-1, 2)
    if side.annotations is None:
        return np.empty((0, 2))
    if event_type == "pause":
        return _pause_episodes(side.beat_annotations, pause_s)  # type: ignore[arg-type]
    if event_type in RHYTHM_CODES:
        # an episode still open at the end of the file ends at its last annotation (or end_s)
        last = side.annotations.sample[-1] / side.annotations.fs if len(side.annotations) else 0.0
        end = float(last) if end_s is None else max(float(last), end_s)
        rhythm = side.rhythm_annotations
        return _rhythm_episodes(rhythm, RHYTHM_CODES[event_type], end)  # type: ignore[arg-type]
    return np.empty((0, 2))


def _present_types(side: Side, *, end_s: float | None, pause_s: float) -> set[str]:
    if side.kind == RESULT:
        return {e.type for e in side.result.events}  # type: ignore[union-attr]
    return {
        t
        for t in side_capabilities(side)
        if side_episodes(side, t, end_s=end_s, pause_s=pause_s).size
    }


def select_event_types(
    a: Side,
    b: Side,
    event_types: Iterable[str] | None,
    *,
    end_s: float | None,
    pause_s: float,
) -> tuple[list[str], list[str]]:
    """The event types to compare, in :data:`EVENT_TYPES` order, and notes on skipped ones."""
    can = set(side_capabilities(a)) & set(side_capabilities(b))
    notes: list[str] = []
    if event_types is None:
        present = _present_types(a, end_s=end_s, pause_s=pause_s) | _present_types(
            b, end_s=end_s, pause_s=pause_s
        )
        skipped = sorted(present - can, key=list(EVENT_TYPES).index)
        if skipped:
            lacking = [s.name for s in (a, b) if s.kind != RESULT]
            notes.append(
                f"not compared (cannot be derived from the annotations of "
                f"{' and '.join(lacking)}): {', '.join(skipped)}"
            )
        chosen = present & can
    else:
        if isinstance(event_types, str):
            event_types = [event_types]
        chosen = set()
        for t in event_types:
            t = str(t).strip()
            if t not in EVENT_TYPES:
                raise ParameterError(
                    f"unknown event type {t!r}; event types are {', '.join(EVENT_TYPES)}"
                )
            if t not in can:
                side = next(s for s in (a, b) if t not in side_capabilities(s))
                raise ParameterError(
                    f"event type {t!r} cannot be derived from the annotations of {side.name}; "
                    f"it gives {', '.join(side_capabilities(side)) or 'no episodes'}"
                )
            chosen.add(t)
    for s in (a, b):
        if s.kind != RESULT and not s.has_rhythm:
            notes.append(f"{s.name} holds no '+' rhythm annotations: only pauses are derived")
    return [t for t in EVENT_TYPES if t in chosen], notes


def compare_side_events(
    a: Side,
    b: Side,
    *,
    event_types: Iterable[str] | None,
    learning_s: float,
    end_s: float | None,
) -> tuple[dict[str, EpisodeComparison], list[str]]:
    """Episode comparison per event type (``a`` as reference) and notes.

    Returns
    -------
    comparisons, notes
        Event type -> :class:`~holterlab.evaluate.EpisodeComparison`, in
        :data:`~holterlab.events.EVENT_TYPES` order.
    """
    pause_s = pause_threshold(b, a)
    types, notes = select_event_types(a, b, event_types, end_s=end_s, pause_s=pause_s)
    if "pause" in types and any(s.kind != RESULT for s in (a, b)):
        notes.append(f"reference pauses: RR >= {pause_s:g} s of the annotated beats")
    out: dict[str, EpisodeComparison] = {}
    for t in types:
        ref = side_episodes(a, t, end_s=end_s, pause_s=pause_s)
        test = side_episodes(b, t, end_s=end_s, pause_s=pause_s)
        out[t] = compare_episodes(ref, test, learning_s=learning_s, end_s=end_s)
    return out, notes
