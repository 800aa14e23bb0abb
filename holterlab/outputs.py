"""Writing an analysis to disk: ``NAME.result.json`` and the ``NAME.hlab`` annotation file.

The ``.hlab`` file is a WFDB (MIT format) annotation file: one annotation per beat at its
fiducial sample with its label (AAMI symbol ``N S V F Q``, or the input symbol for
``analyze-beats``), plus ``+`` rhythm-change annotations with MIT aux notes (``(AFIB``,
``(AFL``, ``(VT``, ``(SVTA``, ``(B``, ``(T``, ``(IVR``, ``(SBR``, ``(N``). Both files are
written atomically, the JSON last, so a result JSON on disk always has its ``.hlab`` beside it.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from holterlab.annotations import Annotations, write_annotations
from holterlab.result import HolterResult

__all__ = ["result_annotations", "write_outputs"]


def result_annotations(result: HolterResult, *, symbols: np.ndarray | None = None) -> Annotations:
    """Beat and rhythm annotations of a result (beats labelled with ``symbols`` if given)."""
    from holterlab.rhythm.annotate import rhythm_annotations

    if result.beat_samples is None or result.fs is None:
        raise ValueError("the result holds no beat list")
    labels = result.beat_labels if symbols is None else np.asarray(symbols)
    beats = Annotations(result.beat_samples, list(labels.astype(str)), result.fs)
    rhythm = rhythm_annotations(result, result.fs)
    return Annotations.concatenate([beats, rhythm])


def write_outputs(
    result: HolterResult,
    out_dir: str | os.PathLike[str],
    name: str,
    *,
    symbols: np.ndarray | None = None,
    include_beats: bool = False,
) -> tuple[Path, Path]:
    """Write ``out_dir/name.hlab`` then ``out_dir/name.result.json``; return both paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    hlab = write_annotations(result_annotations(result, symbols=symbols), out / f"{name}.hlab")
    json_path = out / f"{name}.result.json"
    result.to_json(json_path, include_beats=include_beats)
    return hlab, json_path
