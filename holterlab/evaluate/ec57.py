"""Beat-by-beat comparison of two annotation sets as ANSI/AAMI EC57 and PhysioNet's ``bxb`` do it.

Matching (``bxb.c`` of the WFDB Software Package, revision of 27 April 2020, ``main()``)
    Both beat sequences are walked together, earliest annotation first. A reference beat at
    ``T`` and a test beat at ``t`` are paired when ``|T - t| <= window`` (150 ms by default,
    ``strtim(".15")``: ``int(0.15 * fs + 0.5)`` samples) *and* the earlier of the two is a
    better partner for the later one than the later one's own successor is::

        t < T:  pair if T-t <= dt and (T-t < |T-t'| or |T'-t'| < |T-t'|)   (bxb case 1)
        t >= T: pair if t-T <= dt and (t-T < |t-T'| or |t'-T'| < |t-T'|)   (bxb case 3)

    (``'`` marks the next annotation of the same file; the second alternative is the
    24 November 2002 amendment for rates above 200 bpm). Otherwise the earlier annotation is
    left unpaired: an extra test beat (row ``O``) or a missed reference beat (column ``o``).
    Each beat is paired at most once; of two candidates in the window the closer one wins
    (on an exact tie, the later one).

Learning period and end of the comparison
    Scoring starts at ``start`` (``learning_s``, 300 s by default as in bxb; 0 allowed).
    Reference beats before it are ignored. The last test beat before ``start`` may still be
    paired with the first scored reference beat if it is its better partner, and the first
    test beat after ``start`` is skipped uncounted when it lies within one window of
    ``start`` and the next test beat is closer to the first scored reference beat (bxb's
    start-up rule). Without ``end_s`` the comparison runs to the last reference beat (bxb
    without a record length: test beats after it are ignored unless paired with it); with
    ``end_s`` every beat up to ``end_s`` is scored and a beat after it only when it is paired
    with a beat before it (bxb with a record length or ``-t``).

Ventricular flutter/fibrillation (``[`` and ``]`` annotations)
    As in bxb, beat annotations inside a VF episode of either file are ignored, and an
    unpaired test beat inside a *reference* VF episode is not counted (``excluded_test``).

Classes
    Beat symbols are mapped to the AAMI classes N S V F Q with
    :data:`holterlab.annotations.AAMI_MAP` (EC57 table: N = N L R e j, S = A a J S,
    V = V E, F = F, Q = / f Q; also B n -> N, r -> V, ? -> Q). bxb's own map (``amap()``)
    differs: with SVEB statistics it counts the escape beats ``e j n`` as S; pass
    ``class_map=BXB_CLASS_MAP`` to reproduce it.

Statistics (``print_results()`` of bxb.c; matrix rows = reference, columns = test)
    * QRS: TP = the 25 cells of N S V F Q x n s v f q; FN = column o; FP = row O.
    * VEB: TP = Vv; FN = Vn + Vs + Vf + Vq + Vo; FP = Nv + Sv + Ov;
      TN = rows N S F Q O x columns n s f q. Fv and Qv count neither as TP nor as FP: a
      fusion or unclassifiable reference beat called V is not penalised.
      FPR = FP / (TN + FP).
    * SVEB: TP = Ss; FN = Sn + Sv + Sf + Sq + So; FP = Ns + Vs + Fs + Os (Qs is not a FP).
      bxb reports no SVEB FPR; holterlab adds FP / (TN + FP) with TN = rows N V F Q O x
      columns n v f q, by analogy with the VEB FPR.
    * Se = TP / (TP + FN), +P = TP / (TP + FP). A statistic whose denominator is 0 (e.g. VEB
      Se of a record without V beats) is undefined and given as ``None``.
    * Gross statistics come from the summed matrices; averaged statistics are the mean of the
      per-record values over the records where the value is defined (``sumstats``).

Differences from bxb, all deliberate
    * Shutdown (``X`` row/column, from NOISE annotations whose subtype marks both signals
      unreadable) is not modelled: :class:`~holterlab.annotations.Annotations` carries no
      subtype. Such pairs land in the ``O`` row / ``o`` column instead; every statistic above
      treats X and O identically, so no statistic changes, only the matrix layout.
    * A test beat is excluded as inside reference VF when it lies in *any* reference VF
      episode; bxb only remembers the current and the previous one.
    * When the learning period is shorter than the window and no test beat precedes it, bxb
      pairs the first reference beat with a non-existent test beat (dropping it uncounted);
      holterlab scores it normally. Likewise with ``learning_s=0`` bxb drops a test beat at
      sample 0 uncounted; holterlab scores it.
    * When the two files have different sampling rates, both are put on a common integer
      time base (the least common multiple of integer rates, exact) and the window is
      ``int(window * fs_ref + 0.5)`` reference samples; non-integer rate pairs fall back to
      rounding test samples to the reference rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from holterlab.annotations import AAMI_MAP, BEAT_SYMBOLS, Annotations
from holterlab.errors import ParameterError

__all__ = [
    "CLASSES",
    "ROW_LABELS",
    "COL_LABELS",
    "BXB_CLASS_MAP",
    "BeatStatistics",
    "BeatComparison",
    "EvaluationReport",
    "compare_beats",
    "evaluate_records",
    "fiducial_timing",
    "match_beats",
]

#: AAMI beat classes, in matrix order.
CLASSES = ("N", "S", "V", "F", "Q")
#: Matrix row labels (reference class; ``O``: no reference beat, i.e. an extra test beat).
ROW_LABELS = ("N", "S", "V", "F", "Q", "O")
#: Matrix column labels (test class; ``o``: no test beat, i.e. a missed reference beat).
COL_LABELS = ("n", "s", "v", "f", "q", "o")

#: bxb's ``amap()`` with SVEB statistics (``-S``/``-L``/``-C``): escape beats e, j, n are S.
BXB_CLASS_MAP: dict[str, str] = {
    **dict.fromkeys(["N", "L", "R", "B"], "N"),
    **dict.fromkeys(["J", "A", "S", "a", "j", "e", "n"], "S"),
    **dict.fromkeys(["V", "r", "E"], "V"),
    "F": "F",
    **dict.fromkeys(["Q", "/", "f", "?"], "Q"),
}

_N, _S, _V, _F, _Q, _O = range(6)
_VF_ON = -2
_VF_OFF = -3
_NON_BEAT = -1
_UNMATCHED = -1
_NOT_SCORED = -2

#: Largest common time base (Hz) used when the two files have different integer rates.
_MAX_BASE_HZ = 10**7


# --------------------------------------------------------------------------- statistics
def _ratio(num: int, den: int) -> float | None:
    return None if den <= 0 else num / den


@dataclass(frozen=True)
class BeatStatistics:
    """EC57 counts and ratios derived from one confusion matrix (see the module docstring).

    Ratios are fractions in [0, 1], or ``None`` where the denominator is 0.
    """

    qrs_tp: int
    qrs_fn: int
    qrs_fp: int
    veb_tp: int
    veb_fn: int
    veb_fp: int
    veb_tn: int
    sveb_tp: int
    sveb_fn: int
    sveb_fp: int
    sveb_tn: int

    @classmethod
    def from_matrix(cls, matrix: np.ndarray) -> BeatStatistics:
        """Compute the counts from a 6 x 6 matrix laid out as :data:`ROW_LABELS` x
        :data:`COL_LABELS`."""
        m = np.asarray(matrix, dtype=np.int64)
        if m.shape != (6, 6):
            raise ParameterError(f"a beat confusion matrix is 6 x 6, got {m.shape}")
        nsfq = [_N, _S, _F, _Q]
        nvfq = [_N, _V, _F, _Q]
        return cls(
            qrs_tp=int(m[:5, :5].sum()),
            qrs_fn=int(m[:5, _O].sum()),
            qrs_fp=int(m[_O, :5].sum()),
            veb_tp=int(m[_V, _V]),
            veb_fn=int(m[_V, [_N, _S, _F, _Q, _O]].sum()),
            veb_fp=int(m[[_N, _S, _O], _V].sum()),
            veb_tn=int(m[np.ix_([_N, _S, _F, _Q, _O], nsfq)].sum()),
            sveb_tp=int(m[_S, _S]),
            sveb_fn=int(m[_S, [_N, _V, _F, _Q, _O]].sum()),
            sveb_fp=int(m[[_N, _V, _F, _O], _S].sum()),
            sveb_tn=int(m[np.ix_([_N, _V, _F, _Q, _O], nvfq)].sum()),
        )

    @property
    def qrs_se(self) -> float | None:
        """QRS sensitivity TP / (TP + FN)."""
        return _ratio(self.qrs_tp, self.qrs_tp + self.qrs_fn)

    @property
    def qrs_pp(self) -> float | None:
        """QRS positive predictivity TP / (TP + FP)."""
        return _ratio(self.qrs_tp, self.qrs_tp + self.qrs_fp)

    @property
    def veb_se(self) -> float | None:
        """VEB sensitivity Vv / (Vv + Vn + Vs + Vf + Vq + Vo)."""
        return _ratio(self.veb_tp, self.veb_tp + self.veb_fn)

    @property
    def veb_pp(self) -> float | None:
        """VEB positive predictivity Vv / (Vv + Nv + Sv + Ov)."""
        return _ratio(self.veb_tp, self.veb_tp + self.veb_fp)

    @property
    def veb_fpr(self) -> float | None:
        """VEB false positive rate FP / (TN + FP)."""
        return _ratio(self.veb_fp, self.veb_tn + self.veb_fp)

    @property
    def sveb_se(self) -> float | None:
        """SVEB sensitivity Ss / (Ss + Sn + Sv + Sf + Sq + So)."""
        return _ratio(self.sveb_tp, self.sveb_tp + self.sveb_fn)

    @property
    def sveb_pp(self) -> float | None:
        """SVEB positive predictivity Ss / (Ss + Ns + Vs + Fs + Os)."""
        return _ratio(self.sveb_tp, self.sveb_tp + self.sveb_fp)

    @property
    def sveb_fpr(self) -> float | None:
        """SVEB false positive rate FP / (TN + FP) (holterlab extension, not in bxb)."""
        return _ratio(self.sveb_fp, self.sveb_tn + self.sveb_fp)

    #: Names of the ratio statistics, in report order.
    RATIOS = (
        "qrs_se",
        "qrs_pp",
        "veb_se",
        "veb_pp",
        "veb_fpr",
        "sveb_se",
        "sveb_pp",
        "sveb_fpr",
    )

    def ratios(self) -> dict[str, float | None]:
        """The eight ratio statistics by name."""
        return {name: getattr(self, name) for name in self.RATIOS}

    def to_dict(self) -> dict[str, Any]:
        """Counts and ratios as JSON-ready values (undefined ratios are ``None``)."""
        out: dict[str, Any] = {
            k: getattr(self, k)
            for k in (
                "qrs_tp",
                "qrs_fn",
                "qrs_fp",
                "veb_tp",
                "veb_fn",
                "veb_fp",
                "veb_tn",
                "sveb_tp",
                "sveb_fn",
                "sveb_fp",
                "sveb_tn",
            )
        }
        out.update(self.ratios())
        return out


# --------------------------------------------------------------------------- matching
def _bxb_match_python(
    ref: np.ndarray, test: np.ndarray, dt: int, start: int, end: int, has_end: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Plain-Python port of bxb's ``main()`` loop (reference implementation of the kernel).

    Parameters
    ----------
    ref, test
        Sorted int64 beat times on one time base.
    dt
        Match window (same units); a pair needs ``|T - t| <= dt``.
    start
        First scored time (end of the learning period).
    end, has_end
        Last scored time, used only when ``has_end``; otherwise bxb's end-of-reference rule.

    Returns
    -------
    ref_status, test_status
        Per beat: the index of its partner (>= 0), ``-1`` if counted unpaired, ``-2`` if not
        scored.
    """
    huge = 2**62
    ref_l = [int(x) for x in ref]
    test_l = [int(x) for x in test]
    ref_status = [_NOT_SCORED] * len(ref_l)
    test_status = [_NOT_SCORED] * len(test_l)
    # bxb state: current (T, t) and next (Tprime, tprime) annotation of each file, with their
    # indices (-1: bxb's initial pseudo-annotation at time 0).
    st = {"T": 0, "Tp": 0, "iT": -1, "iTp": -1, "t": 0, "tp": 0, "it": -1, "itp": -1}

    def getref() -> None:
        st["T"], st["iT"] = st["Tp"], st["iTp"]
        k = st["iTp"] + 1
        st["iTp"] = k
        st["Tp"] = ref_l[k] if k < len(ref_l) else huge

    def gettest() -> None:
        st["t"], st["it"] = st["tp"], st["itp"]
        k = st["itp"] + 1
        st["itp"] = k
        st["tp"] = test_l[k] if k < len(test_l) else huge

    def pair() -> None:
        ref_status[st["iT"]] = st["it"]
        test_status[st["it"]] = st["iT"]

    # prime the look-ahead
    getref()
    gettest()
    if start > 0:
        # do getref() while (T < start): the priming call above was the first pass
        while st["T"] < start:
            getref()
        # do gettest() while (tprime < start): t = last test beat before start
        while st["tp"] < start:
            gettest()
        big_t, t, tp = st["T"], st["t"], st["tp"]
        if st["it"] >= 0 and big_t - t < abs(big_t - tp) and big_t - t <= dt:
            pair()
            getref()
            gettest()
        else:
            gettest()
            if st["t"] - start <= dt and abs(st["T"] - st["tp"]) < abs(st["T"] - st["t"]):
                gettest()
    else:
        getref()
        gettest()

    def running() -> bool:
        if has_end:
            return st["T"] <= end or st["t"] <= end
        return st["T"] != huge

    while running():
        big_t, big_tp, t, tp = st["T"], st["Tp"], st["t"], st["tp"]
        if t < big_t:
            if big_t - t <= dt and (
                big_t - t < abs(big_t - tp) or abs(big_tp - tp) < abs(big_t - tp)
            ):
                pair()
                getref()
                gettest()
            else:
                test_status[st["it"]] = _UNMATCHED
                gettest()
        else:
            if t - big_t <= dt and (
                t - big_t < abs(t - big_tp) or abs(tp - big_tp) < abs(t - big_tp)
            ):
                pair()
                gettest()
                getref()
            else:
                ref_status[st["iT"]] = _UNMATCHED
                getref()
    return np.asarray(ref_status, dtype=np.int64), np.asarray(test_status, dtype=np.int64)


def match_beats(
    ref: np.ndarray,
    test: np.ndarray,
    *,
    window: int,
    start: int = 0,
    end: int | None = None,
    implementation: str = "numba",
) -> tuple[np.ndarray, np.ndarray]:
    """Pair two sorted integer beat-time arrays with bxb's algorithm (see the module docstring).

    Parameters
    ----------
    ref, test
        Sorted beat times (integers on one time base, e.g. sample indices).
    window
        Match window in the same units (pairs need ``|T - t| <= window``).
    start
        First scored time.
    end
        Last scored time; ``None``: up to the last reference beat.
    implementation
        ``"numba"`` (compiled, default) or ``"python"`` (the slow reference port).

    Returns
    -------
    ref_status, test_status
        int64 arrays: the index of the partner beat (>= 0), ``-1`` for a counted unpaired
        beat, ``-2`` for a beat that is not scored.
    """
    ref = np.ascontiguousarray(ref, dtype=np.int64)
    test = np.ascontiguousarray(test, dtype=np.int64)
    for name, arr in (("reference", ref), ("test", test)):
        if arr.ndim != 1:
            raise ParameterError(f"{name} beat times must be a 1-D array")
        if arr.size > 1 and np.any(np.diff(arr) < 0):
            raise ParameterError(f"{name} beat times must be sorted")
        if arr.size and (arr[0] < 0 or arr[-1] >= 2**61):
            raise ParameterError(f"{name} beat times must lie in [0, 2**61)")
    if window < 0:
        raise ParameterError(f"the match window must not be negative, got {window}")
    if start < 0:
        raise ParameterError(f"the start of the comparison must not be negative, got {start}")
    if end is not None and end < start:
        raise ParameterError(f"the end of the comparison ({end}) lies before its start ({start})")
    args = (ref, test, int(window), int(start), int(-1 if end is None else end), end is not None)
    if implementation == "python":
        return _bxb_match_python(*args)
    if implementation != "numba":
        raise ParameterError(f"implementation must be 'numba' or 'python', not {implementation!r}")
    from holterlab.evaluate._kernels import bxb_match

    return bxb_match(*args)


# --------------------------------------------------------------------------- preparation
def _class_lut(class_map: Mapping[str, str] | None) -> dict[str, int]:
    cmap = AAMI_MAP if class_map is None else class_map
    lut: dict[str, int] = {}
    for sym in BEAT_SYMBOLS:
        cls = cmap.get(sym)
        if cls is None:
            raise ParameterError(
                f"class_map gives no AAMI class for beat symbol {sym!r}; map every beat symbol "
                f"({' '.join(sorted(BEAT_SYMBOLS))}) to one of N S V F Q"
            )
        if cls not in CLASSES:
            raise ParameterError(f"class_map maps {sym!r} to {cls!r}; classes are N S V F Q")
        lut[sym] = CLASSES.index(cls)
    lut["["] = _VF_ON
    lut["]"] = _VF_OFF
    return lut


@dataclass(frozen=True)
class _Side:
    """Beats of one file ready for matching."""

    n_beats: int  # beats in the file (indices refer to these)
    index: np.ndarray  # beat index of each kept beat (not inside a VF episode)
    time: np.ndarray  # int64 time of each kept beat on the common time base
    cls: np.ndarray  # int8 class code of each kept beat
    vf: np.ndarray  # (k, 2) VF episodes (on, off) on the common time base; off may be huge


def _prepare(ann: Annotations, lut: dict[str, int], scale: int, divide: float | None) -> _Side:
    symbols = ann.symbol
    codes = np.fromiter((lut.get(s, _NON_BEAT) for s in symbols), dtype=np.int8, count=len(ann))
    if divide is None:
        times = ann.sample * np.int64(scale)
    else:  # fall-back for non-integer rate pairs: round to the reference rate
        times = np.round(ann.sample * divide).astype(np.int64)
    is_beat = codes >= 0
    n_beats = int(np.count_nonzero(is_beat))
    marker = (codes == _VF_ON) | (codes == _VF_OFF)
    if marker.any():
        # state after each annotation: inside VF if the latest marker so far is '['; nested
        # '[' inside an episode are ignored (bxb reads on until ']').
        pos = np.where(marker, np.arange(codes.size), -1)
        last = np.maximum.accumulate(pos)
        inside = np.zeros(codes.size, dtype=bool)
        has = last >= 0
        inside[has] = codes[last[has]] == _VF_ON
        keep = is_beat & ~inside
        # episodes: an '[' that starts one (not already inside) up to the next ']'
        on_idx = np.flatnonzero((codes == _VF_ON) & ~np.concatenate([[False], inside[:-1]]))
        off_all = np.flatnonzero(codes == _VF_OFF)
        k = np.searchsorted(off_all, on_idx)
        off_time = np.where(
            k < off_all.size, times[off_all[np.minimum(k, off_all.size - 1)]], 2**62
        )
        vf = np.column_stack([times[on_idx], off_time]).astype(np.int64)
    else:
        keep = is_beat
        vf = np.empty((0, 2), dtype=np.int64)
    beat_number = np.cumsum(is_beat) - 1
    return _Side(
        n_beats=n_beats,
        index=beat_number[keep].astype(np.int64),
        time=np.ascontiguousarray(times[keep]),
        cls=codes[keep],
        vf=vf,
    )


def _in_intervals(times: np.ndarray, intervals: np.ndarray) -> np.ndarray:
    """Which times lie in any closed interval [on, off] (intervals sorted by ``on``)."""
    if intervals.size == 0 or times.size == 0:
        return np.zeros(times.shape, dtype=bool)
    k = np.searchsorted(intervals[:, 0], times, side="right") - 1
    ok = k >= 0
    inside = np.zeros(times.shape, dtype=bool)
    inside[ok] = times[ok] <= np.maximum.accumulate(intervals[:, 1])[k[ok]]
    return inside


def _bxb_samples(seconds: float, fs: float) -> int:
    """bxb's ``strtim``: ``(long)(seconds * fs + 0.5)``."""
    return int(seconds * fs + 0.5)


def _time_base(fs_ref: float, fs_test: float) -> tuple[int, int, float | None]:
    """Integer scale factors of the reference and test samples onto a common time base."""
    if fs_ref == fs_test:
        return 1, 1, None
    if float(fs_ref).is_integer() and float(fs_test).is_integer():
        base = math.lcm(int(fs_ref), int(fs_test))
        if base <= _MAX_BASE_HZ:
            return base // int(fs_ref), base // int(fs_test), None
    return 1, 1, fs_ref / fs_test


# --------------------------------------------------------------------------- results
@dataclass(frozen=True, eq=False)
class BeatComparison:
    """Result of :func:`compare_beats` for one record.

    Attributes
    ----------
    matrix
        6 x 6 int64 confusion matrix, rows :data:`ROW_LABELS` (reference class, ``O`` = no
        reference beat), columns :data:`COL_LABELS` (test class, ``o`` = no test beat);
        ``matrix[5, 5]`` is always 0.
    pairs
        (k, 2) int64: indices of paired beats into ``reference.beats()`` and
        ``test.beats()``, in time order.
    unmatched_ref
        Indices into ``reference.beats()`` of scored reference beats with no partner (FN).
    unmatched_test
        Indices into ``test.beats()`` of scored test beats with no partner (FP).
    excluded_test
        Unpaired test beats inside a reference VF episode (not counted, as in bxb).
    fs
        Reference sampling rate (Hz).
    window_s, start_s, end_s
        Effective match window, first scored time and last scored time (``None``: up to the
        last reference beat).
    offsets_s
        Per pair (in the order of ``pairs``), the test beat's time minus its reference
        beat's (s): the fiducial offset (:meth:`timing`).
    """

    matrix: np.ndarray
    pairs: np.ndarray
    unmatched_ref: np.ndarray
    unmatched_test: np.ndarray
    excluded_test: np.ndarray
    fs: float
    window_s: float
    start_s: float
    end_s: float | None
    offsets_s: np.ndarray = field(default_factory=lambda: np.zeros(0))
    statistics: BeatStatistics = field(init=False)

    row_labels = ROW_LABELS
    col_labels = COL_LABELS

    def __post_init__(self) -> None:
        object.__setattr__(self, "statistics", BeatStatistics.from_matrix(self.matrix))

    # ratio shortcuts --------------------------------------------------------
    @property
    def qrs_se(self) -> float | None:
        return self.statistics.qrs_se

    @property
    def qrs_pp(self) -> float | None:
        return self.statistics.qrs_pp

    @property
    def veb_se(self) -> float | None:
        return self.statistics.veb_se

    @property
    def veb_pp(self) -> float | None:
        return self.statistics.veb_pp

    @property
    def veb_fpr(self) -> float | None:
        return self.statistics.veb_fpr

    @property
    def sveb_se(self) -> float | None:
        return self.statistics.sveb_se

    @property
    def sveb_pp(self) -> float | None:
        return self.statistics.sveb_pp

    @property
    def sveb_fpr(self) -> float | None:
        return self.statistics.sveb_fpr

    @property
    def n_reference(self) -> int:
        """Scored reference beats (TP + FN)."""
        return int(self.matrix[:5, :].sum())

    def timing(self) -> dict[str, float | int | None]:
        """Fiducial offsets of the paired beats (:func:`fiducial_timing`)."""
        return fiducial_timing(self.offsets_s)

    def cell(self, ref: str, test: str) -> int:
        """One matrix cell, e.g. ``cell("V", "n")`` = Vn (labels case-insensitive)."""
        try:
            r = ROW_LABELS.index(ref.upper())
            c = COL_LABELS.index(test.lower())
        except ValueError:
            raise ParameterError(
                f"matrix labels are {'/'.join(ROW_LABELS)} x {'/'.join(COL_LABELS)}"
            ) from None
        return int(self.matrix[r, c])

    def matrix_frame(self):  # -> pandas.DataFrame
        """The confusion matrix as a labelled DataFrame."""
        import pandas as pd

        return pd.DataFrame(self.matrix, index=list(ROW_LABELS), columns=list(COL_LABELS))

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready summary: matrix, counts, ratios (undefined as ``None``), settings."""
        return {
            "matrix": {
                "rows": list(ROW_LABELS),
                "columns": list(COL_LABELS),
                "counts": self.matrix.tolist(),
            },
            **self.statistics.to_dict(),
            "n_pairs": int(self.pairs.shape[0]),
            "n_unmatched_ref": int(self.unmatched_ref.size),
            "n_unmatched_test": int(self.unmatched_test.size),
            "n_excluded_test": int(self.excluded_test.size),
            "fs": self.fs,
            "window_s": self.window_s,
            "start_s": self.start_s,
            "end_s": self.end_s,
            "timing": self.timing(),
        }


def fiducial_timing(offsets_s: np.ndarray) -> dict[str, float | int | None]:
    """Summary of fiducial offsets (test minus reference time of paired beats, seconds).

    Returns ``n`` (pairs), ``median_ms`` (the systematic offset: where the two place a beat
    differs by definition, e.g. R peak against QRS onset), ``sd_ms`` (standard deviation),
    ``p95_dev_ms`` (95th percentile of the distance from the median: the beat-to-beat jitter
    that reaches RR intervals and HRV) and ``p95_abs_ms`` (95th percentile of the absolute
    offset). Values are ``None`` without pairs.
    """
    try:
        off = np.asarray(offsets_s, dtype=np.float64) * 1000.0
    except (TypeError, ValueError):
        raise ParameterError("offsets_s must be an array of numbers (seconds)") from None
    if off.ndim != 1 or not np.all(np.isfinite(off)):
        raise ParameterError("offsets_s must be a 1-D array of finite offsets in seconds")
    if off.size == 0:
        return {"n": 0, "median_ms": None, "sd_ms": None, "p95_dev_ms": None, "p95_abs_ms": None}
    med = float(np.median(off))
    return {
        "n": int(off.size),
        "median_ms": med,
        "sd_ms": float(np.std(off)),
        "p95_dev_ms": float(np.percentile(np.abs(off - med), 95)),
        "p95_abs_ms": float(np.percentile(np.abs(off), 95)),
    }


def compare_beats(
    reference: Annotations,
    test: Annotations,
    *,
    window_ms: float = 150.0,
    learning_s: float = 300.0,
    start_s: float | None = None,
    end_s: float | None = None,
    class_map: Mapping[str, str] | None = None,
) -> BeatComparison:
    """Compare test beat annotations with reference ones, beat by beat (EC57 / bxb).

    Parameters
    ----------
    reference, test
        Annotation sets of one record; non-beat annotations are ignored (``[``/``]`` mark VF
        episodes). They may have different sampling rates (compared by time).
    window_ms
        Match window (ms): a pair needs ``|T - t| <= window``; 150 ms in EC57.
    learning_s
        Learning period (s) at the start of the record that is not scored; EC57: 300 s.
    start_s
        First scored time (s); when given it replaces ``learning_s``.
    end_s
        Last scored time (s), e.g. the record length; ``None``: up to the last reference beat.
    class_map
        Beat symbol -> AAMI class; default :data:`~holterlab.annotations.AAMI_MAP`, or
        :data:`BXB_CLASS_MAP` for bxb's own mapping.

    Returns
    -------
    BeatComparison
        Matrix, pairs, unpaired beats and the EC57 statistics (module docstring).
    """
    for name, ann in (("reference", reference), ("test", test)):
        if not isinstance(ann, Annotations):
            raise ParameterError(f"{name} must be an Annotations object, not {type(ann).__name__}")
    window_s = float(window_ms) / 1000.0
    if not math.isfinite(window_s) or window_s <= 0:
        raise ParameterError(f"window_ms must be a positive number of ms, got {window_ms!r}")
    begin = learning_s if start_s is None else start_s
    if not math.isfinite(begin) or begin < 0:
        what = "learning_s" if start_s is None else "start_s"
        raise ParameterError(f"{what} must be >= 0 seconds, got {begin!r}")
    if end_s is not None and (not math.isfinite(end_s) or end_s < begin):
        raise ParameterError(
            f"end_s ({end_s!r}) must be a time after the start of scoring ({begin:g} s)"
        )
    fs = reference.fs
    scale_ref, scale_test, divide = _time_base(fs, test.fs)
    lut = _class_lut(class_map)
    ref_side = _prepare(reference, lut, scale_ref, None)
    test_side = _prepare(test, lut, scale_test, divide)
    dt = _bxb_samples(window_s, fs) * scale_ref
    start = _bxb_samples(begin, fs) * scale_ref
    end = None if end_s is None else _bxb_samples(end_s, fs) * scale_ref

    ref_status, test_status = match_beats(
        ref_side.time, test_side.time, window=dt, start=start, end=end
    )
    paired = np.flatnonzero(ref_status >= 0)
    partner = ref_status[paired]
    miss = np.flatnonzero(ref_status == _UNMATCHED)
    extra = np.flatnonzero(test_status == _UNMATCHED)
    in_vf = _in_intervals(test_side.time[extra], ref_side.vf)
    excluded = extra[in_vf]
    extra = extra[~in_vf]

    matrix = np.zeros((6, 6), dtype=np.int64)
    np.add.at(matrix, (ref_side.cls[paired], test_side.cls[partner]), 1)
    matrix[:5, _O] = np.bincount(ref_side.cls[miss], minlength=5)[:5]
    matrix[_O, :5] = np.bincount(test_side.cls[extra], minlength=5)[:5]

    return BeatComparison(
        matrix=matrix,
        pairs=np.column_stack([ref_side.index[paired], test_side.index[partner]]).astype(np.int64),
        unmatched_ref=ref_side.index[miss],
        unmatched_test=test_side.index[extra],
        excluded_test=test_side.index[excluded],
        fs=fs,
        window_s=window_s,
        start_s=float(begin),
        end_s=None if end_s is None else float(end_s),
        offsets_s=(test_side.time[partner] - ref_side.time[paired]) / (fs * scale_ref),
    )


# --------------------------------------------------------------------------- reports
@dataclass(frozen=True, eq=False)
class EvaluationReport:
    """Beat-by-beat results of several records (:func:`evaluate_records`).

    Attributes
    ----------
    records
        Record name -> :class:`BeatComparison`, in the order given.
    """

    records: Mapping[str, BeatComparison]

    def __iter__(self) -> Iterator[str]:
        return iter(self.records)

    def __len__(self) -> int:
        return len(self.records)

    @property
    def gross_matrix(self) -> np.ndarray:
        """The sum of the per-record matrices."""
        total = np.zeros((6, 6), dtype=np.int64)
        for comp in self.records.values():
            total += comp.matrix
        return total

    @property
    def gross(self) -> BeatStatistics:
        """Gross statistics: from the summed matrix (beats pooled over records)."""
        return BeatStatistics.from_matrix(self.gross_matrix)

    def gross_timing(self) -> dict[str, float | int | None]:
        """Fiducial offsets of the paired beats of every record pooled (:func:`fiducial_timing`)."""
        parts = [c.offsets_s for c in self.records.values()]
        return fiducial_timing(np.concatenate(parts) if parts else np.zeros(0))

    @property
    def average(self) -> dict[str, float | None]:
        """Record-averaged statistics: the mean over the records where each is defined."""
        out: dict[str, float | None] = {}
        for name in BeatStatistics.RATIOS:
            values = [getattr(c.statistics, name) for c in self.records.values()]
            values = [v for v in values if v is not None]
            out[name] = float(np.mean(values)) if values else None
        return out

    @property
    def average_counts(self) -> dict[str, int]:
        """Number of records over which each averaged statistic was taken."""
        return {
            name: sum(getattr(c.statistics, name) is not None for c in self.records.values())
            for name in BeatStatistics.RATIOS
        }

    def table(self):  # -> pandas.DataFrame
        """Per-record rows plus ``Gross`` and ``Average`` (ratios in percent, NaN undefined)."""
        from holterlab.evaluate.table import beat_table

        return beat_table(self)

    def format(self) -> str:
        """The text report (per-record table, Gross and Average rows, gross matrix)."""
        from holterlab.evaluate.table import format_beat_report

        return format_beat_report(self)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready report: per-record results, gross and averaged statistics."""
        return {
            "records": {name: comp.to_dict() for name, comp in self.records.items()},
            "gross": {
                "matrix": {
                    "rows": list(ROW_LABELS),
                    "columns": list(COL_LABELS),
                    "counts": self.gross_matrix.tolist(),
                },
                **self.gross.to_dict(),
                "timing": self.gross_timing(),
            },
            "average": self.average,
            "average_n_records": self.average_counts,
        }


def evaluate_records(
    pairs: Mapping[str, tuple[Annotations, Annotations]], **options: Any
) -> EvaluationReport:
    """Compare several records and pool the results.

    Parameters
    ----------
    pairs
        Record name -> (reference, test) annotations.
    **options
        Keyword options of :func:`compare_beats` (``window_ms``, ``learning_s``, ...);
        ``end_s`` may also be a mapping record name -> end time.
    """
    if not isinstance(pairs, Mapping):
        raise ParameterError("pairs must map record names to (reference, test) annotations")
    end = options.pop("end_s", None)
    results: dict[str, BeatComparison] = {}
    for name, pair in pairs.items():
        try:
            reference, test = pair
        except (TypeError, ValueError):
            raise ParameterError(
                f"record {name!r}: expected a (reference, test) pair of annotations"
            ) from None
        end_s = end.get(name) if isinstance(end, Mapping) else end
        results[str(name)] = compare_beats(reference, test, end_s=end_s, **options)
    return EvaluationReport(records=results)
