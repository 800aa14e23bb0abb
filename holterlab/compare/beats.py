"""Beat-by-beat part of a comparison: EC57 / bxb statistics and the beat disagreements.

The matching and the statistics are :func:`holterlab.evaluate.compare_beats` (AAMI class
map, side ``a`` as the reference); this module only adds the per-beat disagreements (missed
beats, extra beats, class mismatches) as arrays a dashboard can navigate.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from holterlab.annotations import aami_class
from holterlab.compare.sides import Side
from holterlab.evaluate import BeatComparison, compare_beats

__all__ = ["BeatDisagreements", "compare_side_beats", "beat_disagreements"]

MISSED = "missed_beat"
EXTRA = "extra_beat"
MISMATCH = "label_mismatch"


@dataclass(frozen=True, eq=False)
class BeatDisagreements:
    """Beat disagreements as parallel arrays (times in seconds, AAMI classes or ``""``).

    ``kind`` is ``"missed_beat"`` (a beat of ``a`` with no partner in ``b``), ``"extra_beat"``
    (a beat of ``b`` with no partner in ``a``) or ``"label_mismatch"`` (paired beats of
    different AAMI classes; the time is that of the ``a`` beat).
    """

    time_s: np.ndarray
    kind: np.ndarray
    label_a: np.ndarray
    label_b: np.ndarray

    def __len__(self) -> int:
        return int(self.time_s.size)

    @classmethod
    def empty(cls) -> BeatDisagreements:
        e = np.empty(0, dtype=object)
        return cls(np.empty(0), e, e, e)


def compare_side_beats(
    a: Side,
    b: Side,
    *,
    window_ms: float,
    learning_s: float,
    end_s: float | None,
) -> tuple[BeatComparison | None, str | None]:
    """EC57 beat comparison of two sides, or ``(None, reason)`` when one has no beats."""
    missing = [s.name for s in (a, b) if not s.has_beats]
    if missing:
        which = " and ".join(missing)
        return None, (
            f"beat-by-beat comparison skipped: {which} holds no beat list "
            "(export results with include_beats=True)"
        )
    comp = compare_beats(
        a.annotations,  # type: ignore[arg-type]
        b.annotations,  # type: ignore[arg-type]
        window_ms=window_ms,
        learning_s=learning_s,
        end_s=end_s,
    )
    return comp, None


def beat_disagreements(a: Side, b: Side, comp: BeatComparison) -> BeatDisagreements:
    """Missed, extra and mismatched beats of a :class:`BeatComparison` of ``a`` and ``b``."""
    ba, bb = a.beat_annotations, b.beat_annotations
    assert ba is not None and bb is not None
    cls_a = aami_class(ba.symbol.astype(str))
    cls_b = aami_class(bb.symbol.astype(str))
    ta, tb = ba.sample / ba.fs, bb.sample / bb.fs

    missed = comp.unmatched_ref
    extra = comp.unmatched_test
    pa, pb = comp.pairs[:, 0], comp.pairs[:, 1]
    differ = cls_a[pa] != cls_b[pb]
    pa, pb = pa[differ], pb[differ]

    n_m, n_e, n_x = missed.size, extra.size, pa.size
    time = np.concatenate([ta[missed], tb[extra], ta[pa]]).astype(np.float64)
    kind = np.array([MISSED] * n_m + [EXTRA] * n_e + [MISMATCH] * n_x, dtype=object)
    blank_m = np.full(n_m, "", dtype=object)
    blank_e = np.full(n_e, "", dtype=object)
    label_a = np.concatenate([cls_a[missed].astype(object), blank_e, cls_a[pa].astype(object)])
    label_b = np.concatenate([blank_m, cls_b[extra].astype(object), cls_b[pb].astype(object)])
    order = np.argsort(time, kind="stable")
    return BeatDisagreements(time[order], kind[order], label_a[order], label_b[order])
