"""Trade-off plots of a study (matplotlib, PNG, no display needed).

* ``tradeoff.png``: sensitivity against positive predictivity (gross, per variant) for QRS,
  VEB, SVEB and each evaluated event type (episodes and duration);
* ``param_<name>.png``: gross metrics against the value of each varied numeric parameter, one
  line per combination of the other varied parameters;
* ``per_record.png``: heat maps of per-run metrics, recordings by variants.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from holterlab._atomic import atomic_path
from holterlab.study.runs import HEADLINE_KEYS
from holterlab.study.spec import slug

__all__ = ["study_plots", "remove_plots"]

_DPI = 110


def _families(event_types: Sequence[str]) -> list[tuple[str, str, str]]:
    out = [
        ("QRS", "qrs_se_pct", "qrs_pp_pct"),
        ("VEB", "veb_se_pct", "veb_pp_pct"),
        ("SVEB", "sveb_se_pct", "sveb_pp_pct"),
    ]
    for t in event_types:
        out.append((f"{t.upper()} episodes", f"{t}_episode_se_pct", f"{t}_episode_pp_pct"))
        out.append((f"{t.upper()} duration", f"{t}_duration_se_pct", f"{t}_duration_pp_pct"))
    return out


def _save(fig: Any, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=_DPI, bbox_inches="tight")
    return path


def _grid(n: int) -> tuple[int, int]:
    cols = min(3, n)
    return math.ceil(n / cols), cols


def _tradeoff(gross: Any, event_types: Sequence[str], path: Path) -> Path | None:
    from matplotlib.figure import Figure

    fams = [
        f
        for f in _families(event_types)[3:] + _families(event_types)[:3]
        if gross[f[1]].notna().any() and gross[f[2]].notna().any()
    ]
    # families where every variant lands on the same point show no trade-off: leave them out
    moving = [f for f in fams if len(gross[[f[1], f[2]]].dropna().round(6).drop_duplicates()) > 1]
    fams = moving or fams
    if not fams:
        return None
    rows, cols = _grid(len(fams))
    fig = Figure(figsize=(4.4 * cols, 3.9 * rows), layout="constrained")
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, (title, se, pp) in zip(axes, fams, strict=False):
        data = gross[[se, pp, "variant", "algorithm"]].dropna(subset=[se, pp])
        for algorithm, part in data.groupby("algorithm", sort=True):
            marker = "s" if algorithm == "remote" else "o"
            ax.scatter(part[se], part[pp], marker=marker, s=36, label=str(algorithm), zorder=3)
        if len(data) <= 16:
            # one label per point, naming every variant that lands there
            spots = data.assign(_x=data[se].round(6), _y=data[pp].round(6))
            for (x, y), part in spots.groupby(["_x", "_y"], sort=False):
                names = list(part["variant"].astype(str))
                text = "\n".join(names) if len(names) <= 3 else f"{names[0]} (+{len(names) - 1})"
                ax.annotate(text, (x, y), fontsize=7, xytext=(4, 3), textcoords="offset points")
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("sensitivity (%)")
        ax.set_ylabel("positive predictivity (%)")
        lo = min(data[se].min(), data[pp].min())
        pad = max(1.0, (100.0 - lo) * 0.1)
        ax.set_xlim(max(0.0, lo - pad), 100.0 + pad / 2)
        ax.set_ylim(max(0.0, lo - pad), 100.0 + pad / 2)
        ax.grid(alpha=0.3)
    for ax in axes[len(fams) :]:
        ax.set_visible(False)
    if gross["algorithm"].nunique() > 1:
        axes[0].legend(fontsize=7)
    fig.suptitle("Sensitivity vs positive predictivity (gross, per variant)", fontsize=11)
    return _save(fig, path)


def _varying_metrics(gross: Any, candidates: Sequence[str], limit: int) -> list[str]:
    varying, constant = [], []
    for c in candidates:
        values = gross[c].dropna().round(3)
        if values.empty:
            continue
        (varying if values.nunique() > 1 else constant).append(c)
    return (varying or constant)[:limit]


def _param_plots(
    gross: Any, varied: Sequence[str], event_types: Sequence[str], out_dir: Path
) -> list[Path]:
    import pandas as pd
    from matplotlib.figure import Figure

    paths: list[Path] = []
    holter = gross[gross["algorithm"] == "holterlab"]
    ratio_cols = [c for f in _families(event_types) for c in f[1:]]
    metrics = _varying_metrics(holter, [*ratio_cols, *HEADLINE_KEYS], 9)
    if not metrics:
        return paths
    for key in varied:
        x = pd.to_numeric(holter[key], errors="coerce")
        if x.isna().any() or x.nunique() < 2:
            continue
        others = [k for k in varied if k != key]
        rows, cols = _grid(len(metrics))
        fig = Figure(figsize=(4.2 * cols, 3.3 * rows), layout="constrained")
        axes = fig.subplots(rows, cols, squeeze=False).ravel()
        groups = holter.groupby(others, sort=True, dropna=False) if others else [((), holter)]
        for ax, metric in zip(axes, metrics, strict=False):
            for values, part in groups:
                part = part.assign(_x=pd.to_numeric(part[key])).sort_values("_x")
                if not isinstance(values, tuple):
                    values = (values,)
                label = ", ".join(
                    f"{k.rsplit('.', 1)[-1]}={v}" for k, v in zip(others, values, strict=True)
                )
                ax.plot(part["_x"], part[metric], marker="o", label=label or None)
            ax.set_title(f"mean {metric}" if metric in HEADLINE_KEYS else metric, fontsize=9)
            ax.set_xlabel(key, fontsize=8)
            ax.ticklabel_format(axis="y", useOffset=False)
            ax.grid(alpha=0.3)
        for ax in axes[len(metrics) :]:
            ax.set_visible(False)
        if others:
            axes[0].legend(fontsize=7)
        fig.suptitle(f"Gross metrics against {key}", fontsize=11)
        paths.append(_save(fig, out_dir / f"param_{slug(key)}.png"))
    return paths


def _per_record(runs: Any, event_types: Sequence[str], path: Path) -> Path | None:
    from matplotlib.figure import Figure

    ok = runs[runs["status"] == "ok"]
    if ok.empty:
        return None
    candidates = [c for f in _families(event_types)[3:] for c in f[1:]] + [
        "qrs_se_pct",
        "qrs_pp_pct",
        "veb_se_pct",
        "veb_pp_pct",
    ]
    metrics = _varying_metrics(ok, candidates, 4)
    if not metrics:
        return None
    recordings = list(dict.fromkeys(ok["recording"]))
    variants = list(dict.fromkeys(ok["variant"]))
    rows, cols = _grid(len(metrics))
    fig = Figure(
        figsize=(max(4.5, 0.9 * len(variants) + 2.5) * cols, (0.35 * len(recordings) + 2.2) * rows),
        layout="constrained",
    )
    axes = fig.subplots(rows, cols, squeeze=False).ravel()
    for ax, metric in zip(axes, metrics, strict=False):
        table = ok.pivot_table(
            index="recording", columns="variant", values=metric, aggfunc="mean"
        ).reindex(index=recordings, columns=variants)
        values = table.to_numpy(dtype=float)
        image = ax.imshow(values, aspect="auto", cmap="viridis", vmin=0.0, vmax=100.0)
        if values.size <= 80:
            for (i, j), v in np.ndenumerate(values):
                if np.isfinite(v):
                    ax.text(
                        j,
                        i,
                        f"{v:.0f}",
                        ha="center",
                        va="center",
                        fontsize=7,
                        color="black" if v > 60 else "white",
                    )
        ax.set_xticks(range(len(variants)), variants, rotation=45, ha="right", fontsize=7)
        ax.set_yticks(range(len(recordings)), recordings, fontsize=7)
        ax.set_title(metric, fontsize=9)
        fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
    for ax in axes[len(metrics) :]:
        ax.set_visible(False)
    fig.suptitle("Per-recording metrics (%)", fontsize=11)
    return _save(fig, path)


def remove_plots(out_dir: str | Path) -> None:
    """Remove the PNGs :func:`study_plots` writes (``tradeoff``, ``param_*``, ``per_record``)."""
    out = Path(out_dir)
    if not out.is_dir():
        return
    for p in [out / "tradeoff.png", out / "per_record.png", *out.glob("param_*.png")]:
        p.unlink(missing_ok=True)


def study_plots(
    df: Any, *, varied: Sequence[str], event_types: Sequence[str], out_dir: str | Path
) -> list[Path]:
    """Write the study's PNG plots into ``out_dir``; return their paths.

    Plots of an earlier study in ``out_dir`` are removed first (a parameter that is no longer
    varied must not leave its plot behind for the report to pick up).
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    remove_plots(out)
    gross = df[df["row_type"] == "gross"]
    runs = df[df["row_type"] == "run"]
    paths: list[Path] = []
    p = _tradeoff(gross, event_types, out / "tradeoff.png")
    if p is not None:
        paths.append(p)
    paths += _param_plots(gross, varied, event_types, out)
    p = _per_record(runs, event_types, out / "per_record.png")
    if p is not None:
        paths.append(p)
    return paths
