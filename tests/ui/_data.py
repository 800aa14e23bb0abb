"""Synthetic recordings with a result, for the workbench tests (no detector needed)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from holterlab.annotations import Annotations


@dataclass
class Sample:
    """A synthetic recording written to disk with its result JSON and its truth."""

    recording: Path
    result: Path
    truth: Annotations
    duration_s: float


def make_sample(folder: Path, *, hours: float = 0.25, seed: int = 3, name: str = "rec") -> Sample:
    """Write ``NAME.aiecg`` (2 leads, 250 Hz, dense events) and ``NAME.result.json`` (rhythm
    analysis of the truth beats, with the beat list) into ``folder``."""
    from holterlab.io import write
    from holterlab.pipeline import analyze_beats
    from holterlab.synth import SynthParams, synthesize

    folder.mkdir(parents=True, exist_ok=True)
    rec, truth = synthesize(hours=hours, leads=2, fs=250, seed=seed, params=SynthParams.showcase())
    path = folder / f"{name}.aiecg"
    write(rec, path)
    result = analyze_beats(
        truth.annotations, duration_s=rec.duration, start_time=rec.start_time, name=name
    )
    result_path = folder / f"{name}.result.json"
    result.to_json(result_path, include_beats=True)
    return Sample(path, result_path, truth.annotations, rec.duration)
