"""``holterlab analyze`` and ``holterlab analyze-beats``."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from holterlab.cli._options import (
    add_read_options,
    json_object,
    output_folder,
    positive,
    recording_options,
)
from holterlab.errors import ParameterError


def _add_params_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--params",
        metavar="JSON",
        help="analysis parameters (partial AnalysisParams) as a JSON file or inline JSON",
    )
    p.add_argument(
        "--set",
        metavar="KEY=VALUE",
        action="append",
        default=[],
        help="set one parameter, e.g. --set rhythm.pause.pause_s=2.5 (repeatable)",
    )


def load_params(args: argparse.Namespace) -> Any:
    """AnalysisParams from ``--params FILE`` and ``--set key=value`` options."""
    from holterlab.params.analysis import AnalysisParams

    data: dict[str, Any] = json_object(args.params, "--params") or {}
    for item in args.set:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise ParameterError(f"--set needs KEY=VALUE, got {item!r}")
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                raise ParameterError(f"--set {key}: {part} is not a parameter group")
        node[parts[-1]] = value
    return AnalysisParams.from_dict(data)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "analyze",
        help="analyse a recording: DIR/NAME.result.json and DIR/NAME.hlab (beats, rhythms)",
    )
    p.add_argument("path", help="recording (.edf .bdf .hea .zip .csv .aiecg .ecg)")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    p.add_argument(
        "--fs", type=float, default=None, help="sampling rate in Hz of a CSV file without one"
    )
    p.add_argument("--include-beats", action="store_true", help="add the beat list to the JSON")
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    add_read_options(p)
    _add_params_options(p)
    p.set_defaults(func=run_analyze)

    q = sub.add_parser(
        "analyze-beats",
        help="rhythm and HRV analysis of a WFDB beat annotation file (no signal needed)",
    )
    q.add_argument("annotation", help="WFDB annotation file, e.g. 16272.atr")
    q.add_argument(
        "--fs",
        type=float,
        default=None,
        help="sampling rate in Hz, used when neither the file nor a .hea beside it holds one",
    )
    q.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    q.add_argument(
        "--start-time",
        metavar="ISO",
        default=None,
        help="clock time of the recording start, e.g. 2026-01-05T08:30:00 (default: the .hea "
        "beside the file; needed for clock hours and day/night values)",
    )
    q.add_argument(
        "--duration",
        type=float,
        default=None,
        metavar="S",
        help="recording length in seconds (default: the .hea beside the file, else the last "
        "beat); time without annotated beats is not analysable",
    )
    q.add_argument("--include-beats", action="store_true", help="add the beat list to the JSON")
    _add_params_options(q)
    q.set_defaults(func=run_analyze_beats)


def _header_facts(annotation: str) -> tuple[int, float | None, Any, str | None]:
    """Signals, duration (s), start time and a note, from the ``.hea`` beside an annotation
    file (2 signals and nothing else without a readable one)."""
    import datetime as dt

    from holterlab.errors import HolterlabError
    from holterlab.io.wfdb import parse_header_file

    header = Path(annotation).with_suffix(".hea")
    if not header.is_file():
        return 2, None, None, None
    try:
        h = parse_header_file(header)
    except (HolterlabError, OSError, ValueError) as exc:
        return 2, None, None, f"{header} not used ({exc})"
    duration = h.n_samples / h.fs if h.n_samples and h.fs > 0 else None
    start, note = h.start_time, None
    if start is None and h.base_time is not None:
        # a time without a date: enough for clock hours and day/night
        start = dt.datetime.combine(dt.date(2000, 1, 1), h.base_time)
        note = f"{header.name} gives a start time without a date: 2000-01-01 is used"
    return max(int(h.n_sig), 1), duration, start, note


def _sinus_max(h: dict[str, Any]) -> str:
    """`` (sinus max N)`` when the fastest sinus rate is below the maximum (AF, a VT run)."""
    top, sinus = h.get("hr_max_bpm"), h.get("hr_max_sinus_bpm")
    if top is None or sinus is None or top - sinus < 0.5:
        return ""
    return f" (sinus max {sinus:.1f})"


def _print_summary(result: Any, hlab: Path, json_path: Path) -> None:
    h = result.headline()

    def fmt(value: Any, unit: str = "") -> str:
        if value is None:
            return "-"
        if isinstance(value, float):
            return f"{value:.1f}{unit}"
        return f"{value}{unit}"

    def span(seconds: float | None) -> str:
        if seconds is None:
            return "-"
        if seconds >= 3600:
            return f"{seconds / 3600:.1f} h"
        return f"{seconds / 60:.1f} min"

    beats = result.beats or {}
    print(
        f"{h['name']}: {span(h['duration_s'])} recorded, {span(h['analysable_s'])} analysable "
        f"({fmt(h['noise_pct'], ' %')} noise"
        + (f", {fmt(h['noisy_pct'], ' %')} analysed noisy)" if h.get("noisy_pct") else ")")
    )
    print(
        f"  beats {beats.get('total', 0):,} (N {beats.get('N', 0):,}, S {beats.get('S', 0):,}, "
        f"V {beats.get('V', 0):,}, F {beats.get('F', 0):,}, Q {beats.get('Q', 0):,})"
    )
    print(
        f"  heart rate min/mean/max {fmt(h['hr_min_bpm'])}/{fmt(h['hr_mean_bpm'])}/"
        f"{fmt(h['hr_max_bpm'])} bpm{_sinus_max(h)}; pauses {fmt(h['pauses'])}; "
        f"AF/flutter burden {fmt(h['af_burden_pct'], ' %')}; SDNN {fmt(h['sdnn_ms'], ' ms')}"
    )
    print(f"wrote {json_path}")
    print(f"wrote {hlab}")


def run_analyze(args: argparse.Namespace) -> int:
    from holterlab.io import read
    from holterlab.outputs import write_outputs
    from holterlab.pipeline import analyze

    params = load_params(args)
    with read(
        args.path, **recording_options(args.path, args.fs, format=args.format, repair=args.repair)
    ) as rec:
        output_folder(args.out)
        result = analyze(rec, params, progress=not args.no_progress)
        hlab, json_path = write_outputs(
            result, args.out, rec.name, include_beats=args.include_beats
        )
    _print_summary(result, hlab, json_path)
    return 0


def run_analyze_beats(args: argparse.Namespace) -> int:
    from holterlab.annotations import read_annotations
    from holterlab.outputs import write_outputs
    from holterlab.pipeline import analyze_beats

    params = load_params(args)
    ann = read_annotations(args.annotation, fs=positive(args.fs, "--fs", " of Hz"))
    output_folder(args.out)
    name = Path(args.annotation).stem
    n_signals, duration, start, note = _header_facts(args.annotation)
    if args.duration is not None:
        duration = positive(args.duration, "--duration", " of seconds")
    if args.start_time is not None:
        import datetime as dt

        try:
            start, note = dt.datetime.fromisoformat(args.start_time.strip()), None
        except ValueError:
            raise ParameterError(
                f"--start-time {args.start_time!r} is not an ISO-8601 date and time; "
                "give e.g. 2026-01-05T08:30:00"
            ) from None
    if note:
        print(f"note: {note}", file=sys.stderr)
    last_s = float(ann.beats().sample[-1] / ann.fs) if len(ann.beats()) else 0.0
    if duration is not None and duration < last_s:
        raise ParameterError(
            f"the recording lasts {duration:g} s but its annotations reach {last_s:.1f} s; "
            "give a --duration of at least that (or none)"
        )
    result = analyze_beats(
        ann, params, name=name, n_signals=n_signals, duration_s=duration, start_time=start
    )
    beats = ann.beats()
    hlab, json_path = write_outputs(
        result,
        args.out,
        name,
        symbols=beats.symbol.astype(str),
        include_beats=args.include_beats,
    )
    _print_summary(result, hlab, json_path)
    return 0
