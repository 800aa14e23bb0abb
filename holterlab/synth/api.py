"""Public entry points: :func:`synthesize` (lazy, in memory) and :func:`generate` (to disk)."""

from __future__ import annotations

import datetime as _dt
import os
import time as _time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from holterlab.annotations import write_annotations
from holterlab.errors import ParameterError
from holterlab.params.synth import SynthParams
from holterlab.recording import Recording
from holterlab.synth.schedule import Schedule, build_schedule
from holterlab.synth.source import ADC_GAIN, SynthSource
from holterlab.synth.truth import Truth, build_truth

__all__ = ["synthesize", "generate", "SynthResult", "record_paths"]


@dataclass
class SynthResult:
    """What :func:`generate` wrote and made.

    ``path`` is the signal file, ``annotation_path`` the WFDB ``NAME.atr`` and ``truth_path``
    ``NAME.truth.json``; ``recording`` is the lazy in-memory recording (with the truth
    annotations), ``seconds`` the wall time taken.
    """

    path: Path
    annotation_path: Path
    truth_path: Path
    recording: Recording
    truth: Truth
    seconds: float


def _start_time(start_hour: float) -> _dt.datetime:
    base = _dt.datetime(2000, 1, 3)  # a Monday
    return base + _dt.timedelta(seconds=round(start_hour * 3600.0))


def recording_from_schedule(sch: Schedule, truth: Truth | None = None) -> Recording:
    """A lazy :class:`Recording` that renders ``sch`` on demand."""
    rec = Recording(
        source=SynthSource(sch),
        fs=sch.fs,
        leads=list(sch.leads),
        start_time=_start_time(sch.params.start_hour),
        annotations=None if truth is None else truth.annotations,
        adc_gain=np.full(len(sch.leads), ADC_GAIN),
        adc_zero=np.zeros(len(sch.leads)),
        format="synth",
        metadata={
            "synth_seed": sch.seed,
            "device": {"model": "holterlab synth"},
            "patient": {"id": f"synth-{sch.seed}"},
        },
    )
    return rec


def synthesize(
    *,
    hours: float,
    leads: int | Sequence[str] = 2,
    fs: float = 250.0,
    seed: int = 0,
    params: SynthParams | None = None,
) -> tuple[Recording, Truth]:
    """A synthetic Holter recording (lazy: samples are rendered when read) and its truth.

    Parameters
    ----------
    hours
        Duration in hours (10 s to 14 days).
    leads
        Number of leads (1-12; 2 gives II and V5, 3 adds V1) or lead names.
    fs
        Sampling rate in Hz.
    seed
        Whole number >= 0; the same arguments always give the same recording.
    params
        :class:`~holterlab.params.synth.SynthParams` (``SynthParams.showcase()`` for dense
        events).

    Returns
    -------
    (Recording, Truth)
        ``recording.source`` is a :class:`~holterlab.synth.source.SynthSource`; its
        ``schedule`` holds every beat and event; ``recording.source.clean()`` renders without
        noise.
    """
    sch = build_schedule(hours=hours, leads=leads, fs=fs, seed=seed, params=params)
    truth = build_truth(sch)
    return recording_from_schedule(sch, truth), truth


def record_paths(path: str | os.PathLike[str]) -> tuple[Path, str]:
    """Folder and record name of an output path (``out/rec.edf`` -> ``out``, ``rec``)."""
    p = Path(path)
    name = p.name
    low = name.lower()
    for suffix in (".hea", ".edf", ".bdf", ".csv", ".aiecg", ".ecg", ".zip", ".dat"):
        if low.endswith(suffix):
            return p.parent, name[: -len(suffix)]
    if not p.suffix:
        raise ParameterError(
            f"{p}: give the output file with an extension (.hea, .edf, .bdf, .csv, .aiecg) "
            "so the format is known"
        )
    return p.parent, p.stem


class _ProgressSource:
    """Wraps a source and advances a tqdm bar by the samples read (of the first lead)."""

    def __init__(self, source: SynthSource, bar: Any) -> None:
        self._source = source
        self._bar = bar
        self._done = 0
        self.n_samples = source.n_samples
        self.digital_bounds = source.digital_bounds

    def _advance(self, start: int, stop: int) -> None:
        new = max(self._done, stop)
        if new > self._done:
            self._bar.update(new - self._done)
            self._done = new

    def read(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        out = self._source.read(start, stop, leads)
        self._advance(start, stop)
        return out

    def read_digital(self, start: int, stop: int, leads: Sequence[int]) -> np.ndarray:
        out = self._source.read_digital(start, stop, leads)
        self._advance(start, stop)
        return out

    def close(self) -> None:
        self._source.close()


def _write_signal(rec: Recording, path: Path) -> Path:
    from holterlab.io import write

    return Path(write(rec, path))


def generate(
    path: str | os.PathLike[str],
    *,
    hours: float,
    leads: int | Sequence[str] = 2,
    fs: float = 250.0,
    seed: int = 0,
    params: SynthParams | None = None,
    progress: bool = False,
) -> SynthResult:
    """Write a synthetic recording, its annotations and its truth; return what was made.

    The signal goes to ``path`` in the format its extension names (``.hea`` WFDB, ``.edf``,
    ``.bdf``, ``.csv``, ``.aiecg``), streamed chunk by chunk; beside it ``NAME.atr`` (WFDB
    annotations: beats and rhythm changes) and ``NAME.truth.json`` (every event). Each file is
    written atomically; the truth JSON is written last.

    Parameters are those of :func:`synthesize`; ``progress`` shows a tqdm bar on stderr.
    """
    t0 = _time.perf_counter()
    folder, name = record_paths(path)
    rec, truth = synthesize(hours=hours, leads=leads, fs=fs, seed=seed, params=params)
    if folder and not folder.exists():
        folder.mkdir(parents=True, exist_ok=True)
    from tqdm.auto import tqdm

    source = rec.source
    with tqdm(
        total=rec.n_samples,
        unit="sample",
        unit_scale=True,
        disable=not progress,
        desc=f"synth {name}",
        leave=False,
    ) as bar:
        out = Recording(
            source=_ProgressSource(source, bar),  # type: ignore[arg-type]
            fs=rec.fs,
            leads=list(rec.leads),
            start_time=rec.start_time,
            annotations=None,
            adc_gain=rec.adc_gain,
            adc_zero=rec.adc_zero,
            metadata=dict(rec.metadata),
        )
        written = _write_signal(out, Path(path))
    ann_path = write_annotations(truth.annotations, folder / f"{name}.atr")
    truth.meta["signal_file"] = Path(written).name
    truth.meta["annotation_file"] = ann_path.name
    truth_path = truth.write(folder / f"{name}.truth.json")
    rec.path = str(written)
    return SynthResult(
        path=Path(written),
        annotation_path=ann_path,
        truth_path=truth_path,
        recording=rec,
        truth=truth,
        seconds=_time.perf_counter() - t0,
    )
