"""Parameters of the beat classification stage (AAMI classes and morphology families)."""

from __future__ import annotations

from dataclasses import dataclass

from holterlab.errors import ParameterError
from holterlab.params.base import Params, param_field

__all__ = ["ClassificationParams"]


@dataclass(frozen=True)
class ClassificationParams(Params):
    """Beat classification into AAMI classes N, S, V, F, Q and morphology families.

    Every beat is cut out around its QRS (re-aligned on the QRS slope-energy peak within
    ``align_search_ms`` of the given position), grouped into morphology *families* by
    incremental correlation clustering (as Holter systems build templates), then labelled by a
    small shipped model from timing features (RR intervals relative to the local and long-term
    average) and morphology features relative to the recording's dominant family.
    """

    stage = "classification"
    window_pre_ms: float = param_field(
        250.0, unit="ms", min=150.0, max=400.0, doc="beat window before the QRS (P wave side)"
    )
    window_post_ms: float = param_field(
        300.0, unit="ms", min=200.0, max=500.0, doc="beat window after the QRS (T wave side)"
    )
    match_pre_ms: float = param_field(
        100.0, unit="ms", min=40.0, max=200.0, doc="correlation window before the QRS"
    )
    match_post_ms: float = param_field(
        160.0, unit="ms", min=60.0, max=300.0, doc="correlation window after the QRS"
    )
    align_search_ms: float = param_field(
        60.0, unit="ms", min=0.0, max=120.0, doc="QRS re-alignment search either side of a beat"
    )
    max_lag_ms: float = param_field(
        8.0, unit="ms", min=0.0, max=40.0, doc="lag search when correlating with a template"
    )
    baseline_window_ms: float = param_field(
        600.0, unit="ms", min=200.0, max=2000.0, doc="moving-average baseline removed per beat"
    )
    family_threshold: float = param_field(
        0.92, min=0.5, max=0.999, doc="correlation a beat needs to join a family"
    )
    family_amplitude_ratio: float = param_field(
        2.0, min=1.1, max=10.0, doc="largest amplitude ratio between a beat and its family"
    )
    merge_threshold: float = param_field(
        0.95, min=0.5, max=0.999, doc="correlation at which two family templates are merged"
    )
    max_families: int = param_field(
        64, min=2, max=1000, doc="most families per recording (later beats join the nearest)"
    )
    template_memory: int = param_field(
        32, min=1, max=10000, doc="beats a running template averages over (tracks slow drift)"
    )
    gallery_beats: int = param_field(
        32, min=1, max=1000, doc="member beats per family used for its median template"
    )
    local_rr_beats: int = param_field(
        10, min=3, max=100, doc="normal RR intervals averaged for the local RR"
    )
    long_rr_s: float = param_field(
        300.0, unit="s", min=30.0, max=3600.0, doc="window of the long-term average RR"
    )
    min_quality: float = param_field(
        0.5, min=0.0, max=1.0, doc="beats with a quality below this are labelled Q"
    )
    detect_paced: bool = param_field(True, doc="recognise pacemaker spikes (paced beats -> Q)")
    chunk_s: float = param_field(
        1800.0, unit="s", min=60.0, max=86400.0, doc="chunk length for long recordings"
    )

    def validate(self) -> None:
        if self.match_pre_ms + self.max_lag_ms > self.window_pre_ms:
            raise ParameterError(
                "classification.match_pre_ms + max_lag_ms must not exceed window_pre_ms"
            )
        if self.match_post_ms + self.max_lag_ms > self.window_post_ms:
            raise ParameterError(
                "classification.match_post_ms + max_lag_ms must not exceed window_post_ms"
            )
        if self.merge_threshold < self.family_threshold:
            raise ParameterError("classification.merge_threshold must be at least family_threshold")
