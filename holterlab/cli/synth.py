"""``holterlab synth OUT``: write a synthetic Holter recording with its ground truth."""

from __future__ import annotations

import argparse
import math

from holterlab.cli._options import output_file, output_format
from holterlab.errors import ParameterError


def _noise_level(text: str) -> float:
    from holterlab.params.synth import NOISE_LEVELS

    key = text.strip().lower()
    if key in NOISE_LEVELS:
        return NOISE_LEVELS[key]
    try:
        value = float(key)
    except ValueError:
        value = float("nan")
    top = max(NOISE_LEVELS.values())
    if not 0 <= value <= 10 or math.isnan(value):
        raise ParameterError(
            f"--noise must be a factor from 0 (clean) to 10 (1 = typical, {top:g} = extreme) or "
            f"one of {', '.join(NOISE_LEVELS)}; got {text!r}"
        )
    return value


def _number(kind: type, flag: str, text: str) -> float:
    try:
        return kind(text)
    except ValueError:
        what = "a whole number" if kind is int else "a number"
        raise ParameterError(f"{flag} must be {what}, got {text!r}") from None


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "synth",
        help="write a synthetic Holter ECG with exact ground truth (.atr and .truth.json)",
        description=(
            "Generate a realistic multi-lead Holter ECG (sinus rhythm with day/night rate, "
            "ectopy, AF, flutter, VT, pauses, ST episodes, noise) and write it to OUT (format "
            "from the extension), the beat and rhythm annotations to NAME.atr and every event "
            "to NAME.truth.json beside it."
        ),
    )
    p.add_argument("output", help="file to write: .hea (WFDB) .edf .bdf .csv .aiecg")
    p.add_argument(
        "--hours",
        default="1",
        help="duration in hours, above 0 and up to 336 = 14 days (default 1)",
    )
    p.add_argument("--leads", default="2", help="number of leads 1-12: II, V5, V1, ... (default 2)")
    p.add_argument("--fs", default="250", help="sampling rate in Hz, 50-4000 (default 250)")
    p.add_argument("--seed", default="0", help="random seed, a whole number >= 0 (default 0)")
    p.add_argument(
        "--noise",
        default="medium",
        help="noise level: a factor 0-10 (0 clean, 1 typical) or none/low/medium/high/extreme "
        "(default medium)",
    )
    p.add_argument(
        "--events",
        default="normal",
        help="normal (Holter-like rates) or dense (every event kind, even in minutes) "
        "(default normal)",
    )
    p.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from holterlab.params.synth import SynthParams
    from holterlab.synth import generate

    hours = _number(float, "--hours", args.hours)
    leads = _number(int, "--leads", args.leads)
    fs = _number(float, "--fs", args.fs)
    seed = _number(int, "--seed", args.seed)
    if args.events not in ("normal", "dense"):
        raise ParameterError(f"--events must be normal or dense, got {args.events!r}")
    params = SynthParams.preset(args.events, noise_level=_noise_level(args.noise))
    output_format(args.output, "OUT")
    output_file(args.output, "OUT")
    result = generate(
        args.output,
        hours=hours,
        leads=leads,
        fs=fs,
        seed=seed,
        params=params,
        progress=not args.no_progress,
    )
    rec, truth = result.recording, result.truth
    counts = truth.counts()
    beats = sum(counts.values())
    kinds: dict[str, int] = {}
    for ev in truth.events:
        kinds[ev["type"]] = kinds.get(ev["type"], 0) + 1
    print(f"wrote {result.path}")
    print(f"wrote {result.annotation_path}")
    print(f"wrote {result.truth_path}")
    print(
        f"{rec.duration / 3600:g} h, {rec.n_leads} leads ({', '.join(rec.leads)}), "
        f"{rec.fs:g} Hz, seed {seed}: {beats:,} beats "
        f"({', '.join(f'{k} {v:,}' for k, v in sorted(counts.items()))})"
    )
    if kinds:
        print("events: " + ", ".join(f"{k} {v}" for k, v in sorted(kinds.items())))
    print(f"took {result.seconds:.1f} s")
    return 0
