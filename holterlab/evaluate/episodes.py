"""Episode-by-episode comparison (AF, VF, ...) as ANSI/AAMI EC57 and PhysioNet's ``epicmp`` do it.

Rules (``epicmp.c`` of the WFDB Software Package, ``epicmp()``, ``find_episode()`` and
``find_overlap()``)

* Sensitivity pass: every reference episode is a window; its *overlap* is the summed
  duration of its intersections with the test episodes. A reference episode with overlap
  > 0 is a true positive (TPs), otherwise a false negative (FN). For AF and VF any overlap
  counts (epicmp's ``case AFE: case VFE: match++``; the 50 % rule applies to ST only).
* Positive-predictivity pass: the same with the roles swapped: test episodes with overlap
  > 0 with reference episodes are TPp, the others FP.
* Episode Se = TPs / (TPs + FN), episode +P = TPp / (TPp + FP).
* Duration Se = overlap / total reference duration, duration +P = overlap / total test
  duration, where *overlap* is the total measured in the +P pass (epicmp prints
  ``total_overlap`` after both passes, so the second pass's total serves both ratios).
* Learning period: windows that end before ``learning_s`` (300 s by default, as epicmp) are
  skipped and one that straddles it is clipped to start there; windows are clipped at
  ``end_s`` and those starting at or after it are dropped. The *other* side's episodes are
  used unclipped and unfiltered when measuring overlap.
* ``min_duration_s`` (epicmp ``-i``): windows shorter than this (after clipping) are
  ignored, i.e. neither counted nor added to the durations.
* ``exclude``: intervals removed from the test episodes of the +P pass (epicmp excludes
  reference atrial-flutter intervals from AF +P); a test episode wholly inside an exclusion
  is ignored.

Deliberate differences: overlapping or touching intervals within one list are merged first
(epicmp's annotation parser cannot produce them); windows of zero duration after clipping
are ignored (epicmp counts them as unmatched when ``-i`` is 0); exclusions are subtracted
exactly (epicmp's arithmetic for an exclusion covering an episode's start adds rather than
subtracts the excluded part).

Gross statistics sum the counts, overlaps and durations over records; averaged statistics are
the mean of the per-record values where defined (``sumstats``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from holterlab.annotations import Annotations
from holterlab.errors import ParameterError

__all__ = [
    "EpisodeComparison",
    "EpisodeReport",
    "compare_episodes",
    "evaluate_episodes",
    "episodes_from_rhythm",
    "episodes_from_vf",
]

_RATIOS = ("episode_se", "episode_pp", "duration_se", "duration_pp")


def _ratio(num: float, den: float) -> float | None:
    return None if den <= 0 else num / den


def _as_intervals(value: Any, what: str) -> np.ndarray:
    """Validate an interval list and return it sorted with overlapping/touching ones merged."""
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ParameterError(f"{what} must be an array of (start_s, end_s) pairs") from None
    if arr.size == 0:
        return np.empty((0, 2))
    if arr.ndim != 2 or arr.shape[1] != 2:
        raise ParameterError(f"{what} must have shape (n, 2) of (start_s, end_s), got {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ParameterError(f"{what} holds NaN or infinite times")
    if np.any(arr[:, 1] < arr[:, 0]):
        raise ParameterError(f"{what} holds an interval that ends before it starts")
    arr = arr[np.argsort(arr[:, 0], kind="stable")]
    merged = [list(arr[0])]
    for s, e in arr[1:]:
        if s <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return np.asarray(merged, dtype=np.float64)


def _subtract(s: float, e: float, cuts: np.ndarray) -> list[tuple[float, float]]:
    """The parts of [s, e] outside the (sorted, disjoint) intervals ``cuts``."""
    pieces = []
    cur = s
    for cs, ce in cuts:
        if ce <= cur:
            continue
        if cs >= e:
            break
        if cs > cur:
            pieces.append((cur, cs))
        cur = max(cur, ce)
        if cur >= e:
            break
    if cur < e:
        pieces.append((cur, e))
    return pieces


def _overlap(pieces: list[tuple[float, float]], others: np.ndarray) -> float:
    total = 0.0
    if others.size == 0:
        return total
    for s, e in pieces:
        lo = np.searchsorted(others[:, 1], s, side="right")
        hi = np.searchsorted(others[:, 0], e, side="left")
        if hi > lo:
            seg = others[lo:hi]
            total += float(np.sum(np.minimum(seg[:, 1], e) - np.maximum(seg[:, 0], s)))
    return total


def _epicmp_pass(
    windows: np.ndarray,
    others: np.ndarray,
    start: float,
    end: float | None,
    min_duration: float,
    exclude: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """One epicmp pass: (counted windows, matched flags, total duration, total overlap)."""
    kept, matched = [], []
    total_duration = total_overlap = 0.0
    for s, e in windows:
        if e <= start:
            continue
        s = max(s, start)
        if end is not None:
            if s >= end:
                break
            e = min(e, end)
        pieces = _subtract(s, e, exclude) if exclude.size else [(s, e)]
        duration = sum(pe - ps for ps, pe in pieces)
        if duration <= 0 or duration < min_duration:
            continue
        overlap = _overlap(pieces, others)
        kept.append((s, e))
        matched.append(overlap > 0)
        total_duration += duration
        total_overlap += overlap
    arr = np.asarray(kept, dtype=np.float64).reshape(-1, 2)
    return arr, np.asarray(matched, dtype=bool), total_duration, total_overlap


@dataclass(frozen=True, eq=False)
class EpisodeComparison:
    """Result of :func:`compare_episodes` for one record (durations in seconds).

    Attributes
    ----------
    reference_episodes, test_episodes
        The counted episodes (clipped to the scored interval), (k, 2) arrays.
    ref_matched, test_matched
        Whether each counted episode overlaps an episode of the other side.
    ref_duration_s, test_duration_s
        Total duration of the counted episodes (exclusions removed from test episodes).
    overlap_s
        Total overlap measured in the +P pass (used for both duration statistics, as epicmp).
    """

    reference_episodes: np.ndarray
    test_episodes: np.ndarray
    ref_matched: np.ndarray
    test_matched: np.ndarray
    ref_duration_s: float
    test_duration_s: float
    overlap_s: float

    @property
    def ref_tp(self) -> int:
        """Reference episodes detected (epicmp TPs)."""
        return int(np.count_nonzero(self.ref_matched))

    @property
    def fn(self) -> int:
        """Reference episodes missed."""
        return int(self.ref_matched.size - self.ref_tp)

    @property
    def test_tp(self) -> int:
        """Test episodes that overlap a reference episode (epicmp TPp)."""
        return int(np.count_nonzero(self.test_matched))

    @property
    def fp(self) -> int:
        """Test episodes without a reference episode."""
        return int(self.test_matched.size - self.test_tp)

    @property
    def episode_se(self) -> float | None:
        """Episode sensitivity TPs / (TPs + FN); ``None`` without reference episodes."""
        return _ratio(self.ref_tp, self.ref_tp + self.fn)

    @property
    def episode_pp(self) -> float | None:
        """Episode positive predictivity TPp / (TPp + FP); ``None`` without test episodes."""
        return _ratio(self.test_tp, self.test_tp + self.fp)

    @property
    def duration_se(self) -> float | None:
        """Duration sensitivity: overlap / reference duration."""
        return _ratio(self.overlap_s, self.ref_duration_s)

    @property
    def duration_pp(self) -> float | None:
        """Duration positive predictivity: overlap / test duration."""
        return _ratio(self.overlap_s, self.test_duration_s)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready counts, durations and ratios (undefined ratios are ``None``)."""
        return {
            "ref_tp": self.ref_tp,
            "fn": self.fn,
            "test_tp": self.test_tp,
            "fp": self.fp,
            "ref_duration_s": self.ref_duration_s,
            "test_duration_s": self.test_duration_s,
            "overlap_s": self.overlap_s,
            **{name: getattr(self, name) for name in _RATIOS},
        }


def compare_episodes(
    reference: Any,
    test: Any,
    *,
    min_duration_s: float = 0.0,
    learning_s: float = 300.0,
    end_s: float | None = None,
    exclude: Any = None,
) -> EpisodeComparison:
    """Compare test episodes with reference episodes (EC57 / epicmp, AF and VF rules).

    Parameters
    ----------
    reference, test
        Episodes as arrays of (start_s, end_s) pairs (e.g. from :func:`episodes_from_rhythm`).
    min_duration_s
        Ignore episodes shorter than this (epicmp ``-i``; default 0).
    learning_s
        Start of scoring (s); EC57 and epicmp: 300 s. 0 scores from the start.
    end_s
        End of scoring (s), e.g. the record length; ``None``: no limit.
    exclude
        Intervals removed from the test episodes in the +P pass (e.g. reference AFL for AF).

    Returns
    -------
    EpisodeComparison
    """
    ref = _as_intervals(reference, "reference episodes")
    tst = _as_intervals(test, "test episodes")
    exc = _as_intervals([] if exclude is None else exclude, "exclude")
    for name, value in (("min_duration_s", min_duration_s), ("learning_s", learning_s)):
        if not math.isfinite(value) or value < 0:
            raise ParameterError(f"{name} must be >= 0 seconds, got {value!r}")
    if end_s is not None and (not math.isfinite(end_s) or end_s < learning_s):
        raise ParameterError(f"end_s ({end_s!r}) must not lie before learning_s ({learning_s:g})")
    none = np.empty((0, 2))
    ref_kept, ref_matched, ref_duration, _ = _epicmp_pass(
        ref, tst, learning_s, end_s, min_duration_s, none
    )
    test_kept, test_matched, test_duration, overlap = _epicmp_pass(
        tst, ref, learning_s, end_s, min_duration_s, exc
    )
    return EpisodeComparison(
        reference_episodes=ref_kept,
        test_episodes=test_kept,
        ref_matched=ref_matched,
        test_matched=test_matched,
        ref_duration_s=ref_duration,
        test_duration_s=test_duration,
        overlap_s=overlap,
    )


@dataclass(frozen=True, eq=False)
class EpisodeReport:
    """Episode results of several records with gross and averaged statistics."""

    records: Mapping[str, EpisodeComparison]

    def __iter__(self) -> Iterator[str]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def gross(self) -> dict[str, float | int | None]:
        """Summed counts and durations, and the ratios computed from the sums."""
        comps = list(self.records.values())
        tps = sum(c.ref_tp for c in comps)
        fn = sum(c.fn for c in comps)
        tpp = sum(c.test_tp for c in comps)
        fp = sum(c.fp for c in comps)
        ref_d = float(sum(c.ref_duration_s for c in comps))
        test_d = float(sum(c.test_duration_s for c in comps))
        ov = float(sum(c.overlap_s for c in comps))
        return {
            "ref_tp": tps,
            "fn": fn,
            "test_tp": tpp,
            "fp": fp,
            "ref_duration_s": ref_d,
            "test_duration_s": test_d,
            "overlap_s": ov,
            "episode_se": _ratio(tps, tps + fn),
            "episode_pp": _ratio(tpp, tpp + fp),
            "duration_se": _ratio(ov, ref_d),
            "duration_pp": _ratio(ov, test_d),
        }

    @property
    def average(self) -> dict[str, float | None]:
        """Mean of the per-record ratios over the records where each is defined."""
        out: dict[str, float | None] = {}
        for name in _RATIOS:
            values = [getattr(c, name) for c in self.records.values()]
            values = [v for v in values if v is not None]
            out[name] = float(np.mean(values)) if values else None
        return out

    def table(self):  # -> pandas.DataFrame
        """Per-record rows plus ``Gross`` and ``Average`` (ratios in percent)."""
        from holterlab.evaluate.table import episode_table

        return episode_table(self)

    def format(self, title: str = "") -> str:
        """The text report (like epicmp -l followed by sumstats), under an optional title."""
        from holterlab.evaluate.table import format_episode_report

        return format_episode_report(self, title)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready per-record, gross and averaged results."""
        return {
            "records": {name: c.to_dict() for name, c in self.records.items()},
            "gross": self.gross,
            "average": self.average,
        }


def evaluate_episodes(pairs: Mapping[str, tuple[Any, Any]], **options: Any) -> EpisodeReport:
    """Compare the episodes of several records (options of :func:`compare_episodes`;
    ``end_s`` and ``exclude`` may also be mappings by record name)."""
    if not isinstance(pairs, Mapping):
        raise ParameterError("pairs must map record names to (reference, test) episode lists")
    per_record = {k: options.pop(k, None) for k in ("end_s", "exclude")}
    results: dict[str, EpisodeComparison] = {}
    for name, pair in pairs.items():
        try:
            reference, test = pair
        except (TypeError, ValueError):
            raise ParameterError(f"record {name!r}: expected a (reference, test) pair") from None
        extra = {k: (v.get(name) if isinstance(v, Mapping) else v) for k, v in per_record.items()}
        results[str(name)] = compare_episodes(reference, test, **extra, **options)
    return EpisodeReport(records=results)


def _unterminated_end(annotations: Annotations, end_s: float | None) -> float:
    last = float(annotations.sample[-1] / annotations.fs) if len(annotations) else 0.0
    return max(last, end_s) if end_s is not None else last


def episodes_from_rhythm(
    annotations: Annotations, code: str = "(AFIB", end_s: float | None = None
) -> np.ndarray:
    """Episodes of one rhythm from ``+`` rhythm annotations, as epicmp finds them.

    An episode starts at a ``+`` annotation whose aux note starts with ``code`` and ends at the
    next ``+`` annotation whose aux note does not (``(AFIB`` followed by ``(AFIB`` continues the
    episode). An episode still open at the end of the file ends at the later of the last
    annotation and ``end_s``.

    Returns
    -------
    numpy.ndarray
        (k, 2) float64 array of (start_s, end_s).
    """
    if not isinstance(annotations, Annotations):
        raise ParameterError("annotations must be an Annotations object")
    if not code:
        raise ParameterError("code must be a non-empty rhythm code such as '(AFIB'")
    rhythm = annotations.symbol.astype(str) == "+"
    times = annotations.sample[rhythm] / annotations.fs
    aux = annotations.aux[rhythm]
    episodes: list[tuple[float, float]] = []
    start: float | None = None
    for t, note in zip(times, aux, strict=True):
        is_code = str(note).startswith(code)
        if start is None and is_code:
            start = float(t)
        elif start is not None and not is_code:
            episodes.append((start, float(t)))
            start = None
    if start is not None:
        episodes.append((start, _unterminated_end(annotations, end_s)))
    return np.asarray(episodes, dtype=np.float64).reshape(-1, 2)


def episodes_from_vf(annotations: Annotations, end_s: float | None = None) -> np.ndarray:
    """VF episodes from ``[`` (VFON) and ``]`` (VFOFF) annotations, as epicmp finds them."""
    if not isinstance(annotations, Annotations):
        raise ParameterError("annotations must be an Annotations object")
    symbols = annotations.symbol.astype(str)
    times = annotations.sample / annotations.fs
    episodes: list[tuple[float, float]] = []
    start: float | None = None
    for t, sym in zip(times, symbols, strict=True):
        if start is None and sym == "[":
            start = float(t)
        elif start is not None and sym == "]":
            episodes.append((start, float(t)))
            start = None
    if start is not None:
        episodes.append((start, _unterminated_end(annotations, end_s)))
    return np.asarray(episodes, dtype=np.float64).reshape(-1, 2)
