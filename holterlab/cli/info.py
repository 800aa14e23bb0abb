"""``holterlab info PATH``: print a recording's header facts."""

from __future__ import annotations

import argparse
import json

from holterlab.cli._options import add_read_options, recording_options


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="print the facts of a recording (format, leads, fs, duration)")
    p.add_argument("path", help="recording file (.edf .bdf .hea .zip .csv .aiecg .ecg)")
    p.add_argument(
        "--fs", type=float, default=None, help="sampling rate in Hz of a CSV file without one"
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    add_read_options(p)
    p.set_defaults(func=run)


def _duration(seconds: float) -> str:
    days, rest = divmod(int(round(seconds)), 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    text = f"{h:02d}:{m:02d}:{s:02d}"
    return f"{days} d {text}" if days else text


def run(args: argparse.Namespace) -> int:
    from holterlab.io import read

    with read(
        args.path, **recording_options(args.path, args.fs, format=args.format, repair=args.repair)
    ) as rec:
        info = rec.info()
        ann = rec.annotations
        if ann is not None:
            beats = ann.beats()
            info["beats"] = len(beats)
            info["rhythm_changes"] = len(ann.rhythms())
    if args.json:
        print(json.dumps(info, indent=2))
        return 0
    print(f"path        {info['path']}")
    print(f"format      {info['format']}")
    print(f"leads       {len(info['leads'])}: {', '.join(info['leads'])}")
    print(f"fs          {info['fs']:g} Hz")
    print(f"samples     {info['n_samples']:,} per lead")
    print(f"duration    {_duration(info['duration_s'])} ({info['duration_s']:.1f} s)")
    print(f"start       {info['start_time'] or 'unknown'}")
    if info["annotations"] is not None:
        print(
            f"annotations {info['annotations']:,} ({info['beats']:,} beats, "
            f"{info['rhythm_changes']:,} rhythm changes)"
        )
    return 0
