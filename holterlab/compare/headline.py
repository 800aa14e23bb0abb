"""Headline-number part of a comparison: ``HolterResult.headline()`` of both sides, side by side."""

from __future__ import annotations

import math
from typing import Any

__all__ = ["headline_differences", "HEADLINE_SKIP"]

#: Headline keys that are not numbers to compare.
HEADLINE_SKIP = frozenset({"name"})


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        f = float(value)
        return f if math.isfinite(f) else None
    return None


def headline_differences(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per headline number: ``key``, ``a``, ``b``, ``difference`` (b - a) and
    ``relative_pct`` (100 * (b - a) / |a|).

    A difference is ``None`` when either value is undefined; the relative difference is also
    ``None`` when ``a`` is 0 and ``b`` is not (0 when both are 0). Keys are those of ``a``
    followed by any only in ``b``; non-numeric ones (the recording name) are left out.
    """
    keys = list(a) + [k for k in b if k not in a]
    rows = []
    for key in keys:
        if key in HEADLINE_SKIP:
            continue
        va, vb = a.get(key), b.get(key)
        if va is not None and _number(va) is None or vb is not None and _number(vb) is None:
            continue  # not a number
        fa, fb = _number(va), _number(vb)
        diff = rel = None
        if fa is not None and fb is not None:
            diff = fb - fa
            if fa != 0:
                rel = 100.0 * diff / abs(fa)
            elif diff == 0:
                rel = 0.0
        rows.append({"key": key, "a": va, "b": vb, "difference": diff, "relative_pct": rel})
    return rows
