"""The study table: one row per run, plus gross and average rows per variant.

Columns (in order): ``study``, ``row_type`` (``run``, ``gross``, ``average``), ``algorithm``,
``variant``, one column per varied parameter (its dotted name, e.g. ``rhythm.af.threshold``),
``recording``, ``status`` (``ok``, ``failed``, ``cancelled``), ``reason``, ``cached``,
``n_runs``, the percent ratios (``qrs_se_pct`` ... ``sveb_pp_pct``, ``{type}_episode_se_pct``,
``{type}_episode_pp_pct``, ``{type}_duration_se_pct``, ``{type}_duration_pp_pct``),
``runtime_s``, the result's headline numbers (per run; their mean in the gross and average
rows), the counts (``qrs_tp`` ... ``{type}_overlap_s``; summed in the gross rows), ``key``,
``result_json`` and ``notes``.

Gross rows compute the ratios from the counts summed over the variant's successful runs (beats
and episodes pooled, as EC57's gross statistics); average rows are the mean of the per-run
ratios where defined.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from holterlab._atomic import atomic_path
from holterlab.study.runs import HEADLINE_KEYS, metric_columns, ratios_from_counts

__all__ = ["study_frame", "aggregate_rows", "write_table", "FRONT_COLUMNS"]

FRONT_COLUMNS = ("study", "row_type", "algorithm", "variant")
_AFTER_PARAMS = ("recording", "status", "reason", "cached", "n_runs")
_TAIL = ("key", "result_json", "notes")


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def aggregate_rows(
    runs: Sequence[dict[str, Any]],
    *,
    variants: Sequence[tuple[str, str]],
    varied: Sequence[str],
    event_types: tuple[str, ...],
    study: str,
) -> list[dict[str, Any]]:
    """Gross and average rows for each ``(algorithm, variant)`` from its run rows."""
    ratios, counts = metric_columns(event_types)
    out: list[dict[str, Any]] = []
    for algorithm, variant in variants:
        mine = [r for r in runs if r["variant"] == variant and r["algorithm"] == algorithm]
        ok = [r for r in mine if r["status"] == "ok"]
        common = {
            "study": study,
            "algorithm": algorithm,
            "variant": variant,
            **{k: (mine[0].get(k) if mine else None) for k in varied},
            "recording": None,
            "status": "ok" if ok and len(ok) == len(mine) else f"{len(ok)} of {len(mine)} ok",
            "reason": None,
            "cached": None,
            "n_runs": len(ok),
        }
        summed: dict[str, Any] = {}
        for c in counts:
            values = [r.get(c) for r in ok]
            summed[c] = sum(values) if ok and all(_is_number(v) for v in values) else None
        gross = {**common, "row_type": "gross", **ratios_from_counts(summed, event_types), **summed}
        average = {**common, "row_type": "average"}
        for name in ratios:
            values = [r.get(name) for r in ok if _is_number(r.get(name))]
            average[name] = sum(values) / len(values) if values else None
        for row in (gross, average):
            runtimes = [r.get("runtime_s") for r in ok if _is_number(r.get("runtime_s"))]
            row["runtime_s"] = round(sum(runtimes), 3) if runtimes else None
            for key in HEADLINE_KEYS:
                values = [r.get(key) for r in ok if _is_number(r.get(key))]
                row[key] = sum(values) / len(values) if values else None
        out += [gross, average]
    return out


def study_frame(
    rows: Sequence[dict[str, Any]], *, varied: Sequence[str], event_types: tuple[str, ...]
):  # -> pandas.DataFrame
    """The tidy study table from run and aggregate rows (columns in the documented order)."""
    import pandas as pd

    ratios, counts = metric_columns(event_types)
    columns = [
        *FRONT_COLUMNS,
        *varied,
        *_AFTER_PARAMS,
        *ratios,
        "runtime_s",
        *HEADLINE_KEYS,
        *counts,
        *_TAIL,
    ]
    df = pd.DataFrame(list(rows), columns=columns)
    numeric = [*ratios, "runtime_s", *HEADLINE_KEYS, *counts, "n_runs"]
    for c in numeric:
        df[c] = pd.to_numeric(df[c], errors="coerce").astype("float64")
    for c in (
        "study",
        "row_type",
        "algorithm",
        "variant",
        "recording",
        "status",
        "reason",
        "key",
        "result_json",
        "notes",
    ):
        df[c] = df[c].astype("string")
    df["cached"] = df["cached"].astype("boolean")
    for c in varied:
        values = [
            v for v in df[c] if v is not None and not (isinstance(v, float) and math.isnan(v))
        ]
        if values and all(_is_number(v) for v in values):
            df[c] = pd.to_numeric(df[c], errors="coerce")
        elif values and all(isinstance(v, bool) for v in values):
            df[c] = df[c].astype("boolean")
        else:
            df[c] = df[c].map(lambda v: None if v is None else str(v)).astype("string")
    return df


def write_table(df, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``study.parquet`` and ``study.csv`` into ``out_dir`` (atomically)."""
    out = Path(out_dir)
    parquet_path, csv_path = out / "study.parquet", out / "study.csv"
    with atomic_path(parquet_path) as tmp:
        df.to_parquet(tmp, index=False)
    with atomic_path(csv_path) as tmp:
        df.to_csv(tmp, index=False)
    return parquet_path, csv_path
