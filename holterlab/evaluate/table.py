"""Tables and text reports of beat and episode evaluations (bxb / sumstats style).

Ratios are shown in percent (VEB and SVEB false positive rates with three decimals, as bxb);
an undefined value prints as ``-`` and is NaN in the DataFrames.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from holterlab.evaluate.ec57 import COL_LABELS, ROW_LABELS, BeatStatistics

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from holterlab.evaluate.ec57 import EvaluationReport
    from holterlab.evaluate.episodes import EpisodeReport

__all__ = [
    "beat_table",
    "episode_table",
    "format_beat_report",
    "format_episode_report",
    "format_matrix",
]

#: Column title of each beat ratio.
BEAT_COLUMNS = {
    "qrs_se": "QRS Se",
    "qrs_pp": "QRS +P",
    "veb_se": "VEB Se",
    "veb_pp": "VEB +P",
    "veb_fpr": "VEB FPR",
    "sveb_se": "SVEB Se",
    "sveb_pp": "SVEB +P",
    "sveb_fpr": "SVEB FPR",
}
EPISODE_COLUMNS = {
    "episode_se": "Ep Se",
    "episode_pp": "Ep +P",
    "duration_se": "Dur Se",
    "duration_pp": "Dur +P",
}
_COUNTS = ("Beats", "TP", "FN", "FP")


def _pct(value: float | None) -> float:
    return float("nan") if value is None else 100.0 * value


def _counts(stats: BeatStatistics) -> list[int]:
    return [stats.qrs_tp + stats.qrs_fn, stats.qrs_tp, stats.qrs_fn, stats.qrs_fp]


#: Columns of the fiducial offsets (test minus reference, paired beats) in :func:`beat_table`.
_OFFSET_COLUMNS = ("Offset ms", "Offset SD ms")


def _offsets(timing: dict) -> list[float]:
    if not timing["n"]:
        return [np.nan, np.nan]
    return [timing["median_ms"], timing["sd_ms"]]


def beat_table(report: EvaluationReport) -> pd.DataFrame:
    """Per-record beat statistics plus ``Gross`` and ``Average`` rows (ratios in percent).

    The last two columns are the median and standard deviation of the fiducial offsets of
    the paired beats (test minus reference, ms; the ``Gross`` row pools every record).
    """
    import pandas as pd

    rows, index = [], []
    for name, comp in report.records.items():
        stats = comp.statistics
        rows.append(
            _counts(stats) + [_pct(v) for v in stats.ratios().values()] + _offsets(comp.timing())
        )
        index.append(name)
    gross = report.gross
    rows.append(
        _counts(gross)
        + [_pct(v) for v in gross.ratios().values()]
        + _offsets(report.gross_timing())
    )
    index.append("Gross")
    rows.append(
        [None] * len(_COUNTS) + [_pct(v) for v in report.average.values()] + [np.nan, np.nan]
    )
    index.append("Average")
    frame = pd.DataFrame(rows, index=pd.Index(index, name="record"))
    frame.columns = list(_COUNTS) + list(BEAT_COLUMNS.values()) + list(_OFFSET_COLUMNS)
    for col in _COUNTS:
        frame[col] = frame[col].astype("Int64")
    return frame


def _fmt(value: float | None, decimals: int, width: int) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-".rjust(width)
    return f"{100.0 * value:{width}.{decimals}f}"


def format_matrix(matrix: np.ndarray, title: str = "") -> str:
    """A 6 x 6 beat confusion matrix as text (rows reference, columns test)."""
    m = np.asarray(matrix)
    width = max(6, len(str(int(m.max()))) + 1) if m.size else 6
    lines = []
    if title:
        lines.append(title)
    lines.append("     " + "".join(c.rjust(width) for c in COL_LABELS))
    for r, label in enumerate(ROW_LABELS):
        cells = [str(int(v)).rjust(width) for v in m[r]]
        if label == "O":
            cells[-1] = "".rjust(width)
        lines.append(f"  {label}  " + "".join(cells))
    return "\n".join(lines)


def format_beat_report(report: EvaluationReport) -> str:
    """Text report: one line per record, Gross and Average lines, and the gross matrix."""
    names = list(report.records)
    name_w = max([len(n) for n in names] + [7])
    count_w = (
        max(
            [len(str(_counts(c.statistics)[0])) for c in report.records.values()]
            + [len(str(_counts(report.gross)[0])), 5]
        )
        + 1
    )
    titles = list(BEAT_COLUMNS.values())
    col_w = [max(len(t), 7) + 1 for t in titles]
    head = "Record".ljust(name_w) + "".join(c.rjust(count_w) for c in _COUNTS)
    head += "".join(t.rjust(w) for t, w in zip(titles, col_w, strict=True))
    lines = [head]

    def stat_cells(values: dict[str, float | None]) -> str:
        out = ""
        for (name, value), w in zip(values.items(), col_w, strict=True):
            out += _fmt(value, 3 if name.endswith("fpr") else 2, w)
        return out

    for name, comp in report.records.items():
        counts = "".join(str(v).rjust(count_w) for v in _counts(comp.statistics))
        lines.append(name.ljust(name_w) + counts + stat_cells(comp.statistics.ratios()))
    lines.append("-" * len(head))
    gross = report.gross
    counts = "".join(str(v).rjust(count_w) for v in _counts(gross))
    lines.append("Gross".ljust(name_w) + counts + stat_cells(gross.ratios()))
    lines.append("Average".ljust(name_w) + " " * (count_w * 4) + stat_cells(report.average))
    lines.append("")
    lines.append(
        format_matrix(
            report.gross_matrix,
            "Gross beat matrix (rows: reference N S V F Q, O = no reference beat; "
            "columns: test, o = missed)",
        )
    )
    timing = report.gross_timing()
    if timing["n"]:
        lines.append("")
        lines.append(
            f"Fiducial offset (test - reference) of {timing['n']} paired beats: median "
            f"{timing['median_ms']:.1f} ms, SD {timing['sd_ms']:.1f} ms; 95 % within "
            f"{timing['p95_dev_ms']:.1f} ms of the median"
        )
    lines.append("")
    n = len(report)
    lines.append(
        f"Summary of results from {n} record{'s' if n != 1 else ''}; "
        "Se/+P/FPR in percent, '-' = undefined"
    )
    return "\n".join(lines)


def _dur(seconds: float) -> str:
    h, rest = divmod(int(round(seconds)), 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}"


def episode_table(report: EpisodeReport) -> pd.DataFrame:
    """Per-record episode statistics plus ``Gross`` and ``Average`` rows (ratios in percent)."""
    import pandas as pd

    rows, index = [], []
    for name, c in report.records.items():
        d = c.to_dict()
        rows.append(
            [d["ref_tp"], d["fn"], d["test_tp"], d["fp"]]
            + [_pct(d[k]) for k in EPISODE_COLUMNS]
            + [d["ref_duration_s"], d["test_duration_s"], d["overlap_s"]]
        )
        index.append(name)
    g = report.gross
    rows.append(
        [g["ref_tp"], g["fn"], g["test_tp"], g["fp"]]
        + [_pct(g[k]) for k in EPISODE_COLUMNS]  # type: ignore[arg-type]
        + [g["ref_duration_s"], g["test_duration_s"], g["overlap_s"]]
    )
    index.append("Gross")
    avg = report.average
    rows.append([None] * 4 + [_pct(avg[k]) for k in EPISODE_COLUMNS] + [None] * 3)
    index.append("Average")
    frame = pd.DataFrame(rows, index=pd.Index(index, name="record"))
    frame.columns = (
        ["TPs", "FN", "TPp", "FP"]
        + list(EPISODE_COLUMNS.values())
        + ["Ref dur s", "Test dur s", "Overlap s"]
    )
    for col in ("TPs", "FN", "TPp", "FP"):
        frame[col] = frame[col].astype("Int64")
    return frame


def format_episode_report(report: EpisodeReport, title: str = "") -> str:
    """Text report of an episode comparison (epicmp line format plus Gross and Average)."""
    names = list(report.records)
    name_w = max([len(n) for n in names] + [7])
    head = "Record".ljust(name_w) + "".join(c.rjust(5) for c in ("TPs", "FN", "TPp", "FP"))
    head += "".join(t.rjust(8) for t in EPISODE_COLUMNS.values())
    head += "  Ref duration  Test duration"
    lines = [title] if title else []
    lines.append(head)

    def line(name: str, d: dict, counts: bool = True) -> str:
        out = name.ljust(name_w)
        if counts:
            out += "".join(str(d[k]).rjust(5) for k in ("ref_tp", "fn", "test_tp", "fp"))
        else:
            out += " " * 20
        out += "".join(_fmt(d[k], 1, 8) for k in EPISODE_COLUMNS)
        if counts:
            out += f"  {_dur(d['ref_duration_s']):>12}  {_dur(d['test_duration_s']):>13}"
        return out

    for name, c in report.records.items():
        lines.append(line(name, c.to_dict()))
    lines.append("-" * len(head))
    lines.append(line("Gross", report.gross))
    lines.append(line("Average", report.average, counts=False))
    return "\n".join(lines)
