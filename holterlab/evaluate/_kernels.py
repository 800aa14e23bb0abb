"""Compiled (numba) kernel of the bxb beat matcher; imported on first use.

The plain-Python reference implementation is :func:`holterlab.evaluate.ec57._bxb_match_python`;
``tests/evaluate/test_matcher.py`` proves the two identical on random cases.
"""

from __future__ import annotations

import numba
import numpy as np

#: Larger than any annotation time (bxb's ``huge_time``); small enough that differences of two
#: such values never overflow int64.
HUGE = np.int64(2**62)

#: Status codes of a beat after matching (a value >= 0 is the index of its partner).
UNMATCHED = -1  # counted: a missed reference beat (column o) or an extra test beat (row O)
NOT_SCORED = -2  # outside the scored interval, or skipped by bxb's start-of-period rule


@numba.njit(cache=True)
def bxb_match(ref, test, dt, start, end, has_end):  # pragma: no cover - compiled
    """Pair two sorted int64 time arrays the way bxb does; see ``_bxb_match_python``."""
    n_ref = ref.size
    n_test = test.size
    ref_status = np.full(n_ref, -2, dtype=np.int64)
    test_status = np.full(n_test, -2, dtype=np.int64)
    huge = np.int64(2**62)
    i = np.searchsorted(ref, start)
    j = np.searchsorted(test, start)
    if start > 0:
        big_t = ref[i] if i < n_ref else huge
        t_next = test[j] if j < n_test else huge
        if j > 0 and big_t - test[j - 1] < abs(big_t - t_next) and big_t - test[j - 1] <= dt:
            ref_status[i] = j - 1
            test_status[j - 1] = i
            i += 1
        elif j < n_test:
            t_after = test[j + 1] if j + 1 < n_test else huge
            if test[j] - start <= dt and abs(big_t - t_after) < abs(big_t - test[j]):
                j += 1
    while True:
        big_t = ref[i] if i < n_ref else huge
        t = test[j] if j < n_test else huge
        if has_end:
            if big_t > end and t > end:
                break
        elif big_t == huge:
            break
        big_tp = ref[i + 1] if i + 1 < n_ref else huge
        tp = test[j + 1] if j + 1 < n_test else huge
        if t < big_t:
            if big_t - t <= dt and (
                big_t - t < abs(big_t - tp) or abs(big_tp - tp) < abs(big_t - tp)
            ):
                ref_status[i] = j
                test_status[j] = i
                i += 1
                j += 1
            else:
                test_status[j] = -1
                j += 1
        else:
            if t - big_t <= dt and (
                t - big_t < abs(t - big_tp) or abs(tp - big_tp) < abs(t - big_tp)
            ):
                ref_status[i] = j
                test_status[j] = i
                i += 1
                j += 1
            else:
                ref_status[i] = -1
                i += 1
    return ref_status, test_status
