"""``Comparison``: the result of :func:`holterlab.compare.compare`, as JSON, tables and text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from holterlab.compare.disagreements import KIND_TITLES, KINDS
from holterlab.evaluate import COL_LABELS, ROW_LABELS, BeatComparison, EpisodeComparison
from holterlab.result import json_safe

__all__ = ["Comparison"]

_BEAT_RATIOS = (
    ("QRS", "qrs_se", "qrs_pp", None),
    ("VEB", "veb_se", "veb_pp", "veb_fpr"),
    ("SVEB", "sveb_se", "sveb_pp", "sveb_fpr"),
)
_EPISODE_RATIOS = ("episode_se", "episode_pp", "duration_se", "duration_pp")


def _pct(value: float | None, decimals: int = 2) -> str:
    return "-" if value is None else f"{100.0 * value:.{decimals}f}"


def _num(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, int):
        return str(value)
    return f"{value:.4g}" if abs(value) < 1e4 else f"{value:.0f}"


def _clock(seconds: float) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"


@dataclass(frozen=True, eq=False)
class Comparison:
    """Comparison of two Holter analyses (or an analysis and reference annotations).

    Side ``a`` is the reference: beat sensitivity counts ``a`` beats found in ``b``, positive
    predictivity counts ``b`` beats confirmed by ``a``.

    Attributes
    ----------
    a, b
        Description of each side (name, kind ``result``/``annotations``, beats, duration).
    settings
        ``window_ms``, ``learning_s``, ``end_s`` (end of scoring, ``None``: last ``a`` beat),
        ``max_disagreements``.
    beats
        EC57 beat comparison (:class:`holterlab.evaluate.BeatComparison`), or ``None`` when a
        side has no beat list (``notes`` says why).
    events
        Event type -> :class:`holterlab.evaluate.EpisodeComparison` (epicmp rules).
    headline
        Rows ``key, a, b, difference, relative_pct`` of the headline numbers (two results
        only, else ``None``).
    disagreements
        Time-sorted disagreements, at most ``settings["max_disagreements"]`` of them (see
        :mod:`holterlab.compare.disagreements`).
    disagreement_counts
        Number of disagreements of each kind, uncapped.
    notes
        What was skipped or how something was derived.
    """

    a: dict[str, Any]
    b: dict[str, Any]
    settings: dict[str, Any]
    beats: BeatComparison | None
    events: dict[str, EpisodeComparison]
    headline: list[dict[str, Any]] | None
    disagreements: list[dict[str, Any]]
    disagreement_counts: dict[str, int]
    notes: list[str] = field(default_factory=list)

    # ------------------------------------------------------------------ summaries
    @property
    def n_disagreements(self) -> int:
        """Total number of disagreements (all kinds, not capped)."""
        return int(sum(self.disagreement_counts.values()))

    @property
    def identical(self) -> bool:
        """True when no beat or episode disagrees and every headline difference is 0."""
        if self.n_disagreements:
            return False
        for row in self.headline or []:
            if row["a"] != row["b"]:
                return False
        return True

    def event_rows(self) -> list[dict[str, Any]]:
        """One JSON-ready row per event type: counts, durations and the four ratios."""
        rows = []
        for event_type, comp in self.events.items():
            d = comp.to_dict()
            rows.append(
                {
                    "event_type": event_type,
                    "n_a": comp.ref_tp + comp.fn,
                    "n_b": comp.test_tp + comp.fp,
                    **d,
                }
            )
        return rows

    # ------------------------------------------------------------------ JSON
    def to_dict(self) -> dict[str, Any]:
        """Plain JSON types (ratios as fractions in [0, 1]; undefined values ``null``)."""
        shown = len(self.disagreements)
        return json_safe(
            {
                "a": self.a,
                "b": self.b,
                "settings": self.settings,
                "identical": self.identical,
                "beats": None if self.beats is None else self.beats.to_dict(),
                "events": {row.pop("event_type"): row for row in self.event_rows()},
                "headline": self.headline,
                "disagreements": {
                    "total": self.n_disagreements,
                    "shown": shown,
                    "truncated": shown < self.n_disagreements,
                    "by_kind": dict(self.disagreement_counts),
                    "items": self.disagreements,
                },
                "notes": list(self.notes),
            }
        )

    # ------------------------------------------------------------------ tables
    def to_pandas(self) -> dict[str, Any]:
        """The comparison as pandas DataFrames.

        Keys: ``beats`` (6 x 6 confusion matrix, rows ``a`` N S V F Q O, columns ``b``
        n s v f q o; empty without beat comparison), ``beat_statistics`` (one row of counts
        and ratios), ``events`` (one row per event type), ``headline`` (one row per headline
        number) and ``disagreements`` (the capped list).
        """
        import pandas as pd

        if self.beats is not None:
            matrix = self.beats.matrix_frame()
            stats = pd.DataFrame([self.beats.statistics.to_dict()])
        else:
            matrix = pd.DataFrame(index=list(ROW_LABELS), columns=list(COL_LABELS), dtype=float)
            stats = pd.DataFrame()
        events = pd.DataFrame(
            self.event_rows(),
            columns=[
                "event_type",
                "n_a",
                "n_b",
                "ref_tp",
                "fn",
                "test_tp",
                "fp",
                "ref_duration_s",
                "test_duration_s",
                "overlap_s",
                *_EPISODE_RATIOS,
            ],
        )
        headline = pd.DataFrame(
            self.headline or [], columns=["key", "a", "b", "difference", "relative_pct"]
        )
        disagreements = pd.DataFrame(
            self.disagreements,
            columns=["time_s", "end_s", "kind", "event_type", "label_a", "label_b"],
        )
        return {
            "beats": matrix,
            "beat_statistics": stats,
            "events": events,
            "headline": headline,
            "disagreements": disagreements,
        }

    # ------------------------------------------------------------------ text
    def format(self, *, max_rows: int = 20) -> str:
        """The text report (what ``holterlab compare`` prints); ratios in percent.

        ``max_rows`` limits the disagreements listed (their counts are always complete).
        """
        lines = [
            f"A (reference): {self.a['name']} ({self.a['kind']})",
            f"B:             {self.b['name']} ({self.b['kind']})",
        ]
        s = self.settings
        end = "last beat of A" if s.get("end_s") is None else f"{s['end_s']:g} s"
        lines.append(
            f"match window {s['window_ms']:g} ms, scored from {s['learning_s']:g} s to {end}"
        )
        lines.append("")
        lines += self._format_beats()
        lines.append("")
        lines += self._format_events()
        if self.headline is not None:
            lines.append("")
            lines += self._format_headline()
        lines.append("")
        lines += self._format_disagreements(max_rows)
        if self.notes:
            lines.append("")
            lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def _format_beats(self) -> list[str]:
        from holterlab.evaluate.table import format_matrix

        lines = ["Beats (ANSI/AAMI EC57, bxb matching; Se/+P/FPR in percent)"]
        comp = self.beats
        if comp is None:
            return [*lines, "  not compared (see notes)"]
        st = comp.statistics
        lines.append(
            f"  beats in A {st.qrs_tp + st.qrs_fn}, matched {st.qrs_tp}, "
            f"missed (only in A) {st.qrs_fn}, extra (only in B) {st.qrs_fp}"
        )
        lines.append(f"  {'':5}{'Se':>9}{'+P':>9}{'FPR':>9}")
        for title, se, pp, fpr in _BEAT_RATIOS:
            fpr_text = "" if fpr is None else _pct(getattr(st, fpr), 3)
            lines.append(
                f"  {title:5}{_pct(getattr(st, se)):>9}{_pct(getattr(st, pp)):>9}{fpr_text:>9}"
            )
        t = comp.timing()
        if t["n"]:
            lines.append(
                f"  beat times, B - A, matched beats: median {t['median_ms']:+.1f} ms, "
                f"SD {t['sd_ms']:.1f} ms; 95 % within {t['p95_dev_ms']:.1f} ms of the median"
            )
        lines.append("")
        lines.append(
            format_matrix(
                comp.matrix,
                "  Matrix (rows: A N S V F Q, O = not in A; columns: B, o = not in B)",
            )
        )
        return lines

    def _format_events(self) -> list[str]:
        lines = ["Events (epicmp rules: any overlap matches; Se/+P in percent)"]
        rows = self.event_rows()
        if not rows:
            return [*lines, "  no events of a comparable type on either side"]
        w = max(12, *(len(r["event_type"]) + 1 for r in rows))
        head = f"  {'type':<{w}}{'A':>5}{'B':>5}{'Ep Se':>8}{'Ep +P':>8}{'Dur Se':>8}"
        head += f"{'Dur +P':>8}{'A dur s':>10}{'B dur s':>10}"
        lines.append(head)
        for r in rows:
            lines.append(
                f"  {r['event_type']:<{w}}{r['n_a']:>5}{r['n_b']:>5}"
                + "".join(f"{_pct(r[k], 1):>8}" for k in _EPISODE_RATIOS)
                + f"{r['ref_duration_s']:>10.1f}{r['test_duration_s']:>10.1f}"
            )
        return lines

    def _format_headline(self) -> list[str]:
        rows = self.headline or []
        lines = ["Headline numbers (difference = B - A)"]
        if not rows:
            return [*lines, "  none"]
        w = max(len(r["key"]) for r in rows) + 2
        lines.append(f"  {'':<{w}}{'A':>12}{'B':>12}{'B - A':>12}{'%':>9}")
        for r in rows:
            rel = "-" if r["relative_pct"] is None else f"{r['relative_pct']:.1f}"
            lines.append(
                f"  {r['key']:<{w}}{_num(r['a']):>12}{_num(r['b']):>12}"
                f"{_num(r['difference']):>12}{rel:>9}"
            )
        return lines

    def _format_disagreements(self, max_rows: int) -> list[str]:
        total = self.n_disagreements
        if total == 0:
            return ["Disagreements: none"]
        parts = [
            f"{KIND_TITLES[k]} {self.disagreement_counts[k]}"
            for k in KINDS
            if self.disagreement_counts.get(k)
        ]
        lines = [f"Disagreements: {total} ({', '.join(parts)})"]
        items = self.disagreements[: max(max_rows, 0)]
        for d in items:
            what = KIND_TITLES[d["kind"]]
            if d["event_type"] is not None:
                detail = f"{d['event_type']} until {_clock(d['end_s'])}"
            else:
                detail = f"A {d['label_a'] or '-'} / B {d['label_b'] or '-'}"
            lines.append(f"  {_clock(d['time_s'])}  {what:<18}{detail}")
        if total > len(items):
            lines.append(
                f"  ... {total - len(items)} more (--json lists up to "
                f"{self.settings.get('max_disagreements')})"
            )
        return lines
