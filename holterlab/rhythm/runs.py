"""Run-length segmentation of beat sequences (vectorised, with plain-Python references).

The vectorised functions are what the rhythm stage uses; each ``*_py`` function is the
obvious loop a test holds the vectorised one equal to.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "runs_of",
    "runs_of_py",
    "geminy_chains",
    "geminy_chains_py",
    "merge_spans",
]


def runs_of(mask: np.ndarray, seg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Maximal runs of True in ``mask`` that do not cross a change of ``seg``.

    Returns ``(first, last)`` index arrays (inclusive) of the runs, in order.
    """
    mask = np.asarray(mask, dtype=bool)
    n = mask.size
    if n == 0 or not mask.any():
        e = np.zeros(0, dtype=np.int64)
        return e, e.copy()
    seg = np.asarray(seg)
    joined = mask[1:] & mask[:-1] & (seg[1:] == seg[:-1])  # i and i+1 in one run
    has_prev = np.concatenate([[False], joined])
    has_next = np.concatenate([joined, [False]])
    first = np.flatnonzero(mask & ~has_prev)
    last = np.flatnonzero(mask & ~has_next)
    return first.astype(np.int64), last.astype(np.int64)


def runs_of_py(mask, seg) -> tuple[np.ndarray, np.ndarray]:
    """Plain-Python reference of :func:`runs_of`."""
    first: list[int] = []
    last: list[int] = []
    i, n = 0, len(mask)
    while i < n:
        if mask[i]:
            j = i
            while j + 1 < n and mask[j + 1] and seg[j + 1] == seg[i]:
                j += 1
            first.append(i)
            last.append(j)
            i = j + 1
        else:
            i += 1
    return np.array(first, dtype=np.int64), np.array(last, dtype=np.int64)


def geminy_chains(
    code: np.ndarray, seg: np.ndarray, target: int, spacing: int, normal: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Chains of isolated ``target`` beats each separated from the next by ``spacing``
    ``normal`` beats (bigeminy: spacing 1, trigeminy: spacing 2), within one segment.

    An isolated beat is a ``target`` beat whose neighbours are not ``target`` (same segment
    or not). Returns ``(first, last)`` beat indices of the first and last ectopic beat of
    every chain with at least two ectopic beats; the number of cycles of a chain is
    ``(last - first) // (spacing + 1) + 1``.
    """
    code = np.asarray(code)
    seg = np.asarray(seg)
    n = code.size
    e = np.zeros(0, dtype=np.int64)
    if n == 0:
        return e, e.copy()
    is_t = code == target
    prev_t = np.concatenate([[False], is_t[:-1]])
    next_t = np.concatenate([is_t[1:], [False]])
    iso = np.flatnonzero(is_t & ~prev_t & ~next_t)
    if iso.size < 2:
        return e, e.copy()
    a, b = iso[:-1], iso[1:]
    link = (b - a) == spacing + 1
    link &= seg[a] == seg[b]
    # every beat strictly between a and b must be `normal`
    is_n = (code == normal).astype(np.int64)
    cum = np.concatenate([[0], np.cumsum(is_n)])
    link &= (cum[b] - cum[a + 1]) == spacing
    # chains = runs of consecutive links
    lf, ll = runs_of(link, np.zeros(link.size, dtype=np.int64))
    return iso[lf].astype(np.int64), iso[ll + 1].astype(np.int64)


def geminy_chains_py(code, seg, target, spacing, normal=0) -> tuple[np.ndarray, np.ndarray]:
    """Plain-Python reference of :func:`geminy_chains`."""
    n = len(code)
    iso = [
        i
        for i in range(n)
        if code[i] == target
        and (i == 0 or code[i - 1] != target)
        and (i == n - 1 or code[i + 1] != target)
    ]
    first: list[int] = []
    last: list[int] = []
    k = 0
    while k < len(iso) - 1:
        j = k
        while j + 1 < len(iso):
            a, b = iso[j], iso[j + 1]
            ok = (
                b - a == spacing + 1
                and seg[a] == seg[b]
                and all(code[x] == normal for x in range(a + 1, b))
            )
            if not ok:
                break
            j += 1
        if j > k:
            first.append(iso[k])
            last.append(iso[j])
            k = j
        else:
            k += 1
    return np.array(first, dtype=np.int64), np.array(last, dtype=np.int64)


def merge_spans(
    start: np.ndarray, end: np.ndarray, group: np.ndarray, gap: float
) -> tuple[np.ndarray, np.ndarray]:
    """Merge time spans (sorted by start) of one ``group`` that are at most ``gap`` apart."""
    start = np.asarray(start, dtype=np.float64)
    end = np.asarray(end, dtype=np.float64)
    if start.size == 0:
        return start, end
    group = np.asarray(group)
    run_end = np.maximum.accumulate(end)
    new = np.ones(start.size, dtype=bool)
    new[1:] = (start[1:] - run_end[:-1] > gap) | (group[1:] != group[:-1])
    idx = np.cumsum(new) - 1
    s = start[new]
    e = np.full(s.size, -np.inf)
    np.maximum.at(e, idx, end)
    return s, e
