"""``AnalysisParams``: every stage's parameters in one frozen, validated object."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from holterlab.errors import ParameterError
from holterlab.params.atrial import AtrialParams
from holterlab.params.base import Params, param_field
from holterlab.params.classification import ClassificationParams
from holterlab.params.detection import DetectionParams, QualityParams
from holterlab.params.hrv import HRVParams
from holterlab.params.rhythm import RhythmParams
from holterlab.params.st_qt import STQTParams

__all__ = ["AnalysisParams"]


@dataclass(frozen=True)
class AnalysisParams(Params):
    """Parameters of the whole analysis (:func:`holterlab.analyze`), nested per stage.

    Build variants with :meth:`replace` or from a partial dictionary (the API's
    ``analysis_options``) with :meth:`from_dict`::

        AnalysisParams.from_dict({"rhythm": {"pause": {"pause_s": 2.5}}})
    """

    stage = "analysis"
    chunk_s: float = param_field(
        1800.0, unit="s", min=60.0, max=86400.0, doc="signal chunk length for long recordings"
    )
    in_memory_mb: float = param_field(
        512.0,
        unit="MB",
        min=0.0,
        max=1048576.0,
        doc="a recording whose float32 signal fits in this many MB is read into memory once "
        "and every stage works on that copy; longer ones are streamed chunk by chunk (0: "
        "always stream). Results are identical either way",
    )
    quality: QualityParams = param_field(QualityParams())
    detection: DetectionParams = param_field(DetectionParams())
    classification: ClassificationParams = param_field(ClassificationParams())
    atrial: AtrialParams = param_field(AtrialParams())
    rhythm: RhythmParams = param_field(RhythmParams())
    hrv_enabled: bool = param_field(True, doc="compute HRV")
    hrv: HRVParams = param_field(HRVParams())
    st_qt: STQTParams = param_field(STQTParams())

    @classmethod
    def coerce(cls, value: AnalysisParams | dict[str, Any] | None) -> AnalysisParams:
        """Accept an AnalysisParams, its dict form, or None (defaults)."""
        if value is None:
            return cls()
        if isinstance(value, cls):
            return value
        if isinstance(value, dict):
            return cls.from_dict(value)
        raise ParameterError(
            f"analysis parameters must be AnalysisParams or a dict, got {type(value).__name__}"
        )
