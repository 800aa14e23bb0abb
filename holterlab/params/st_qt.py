"""Parameters of the ST and QT stage."""

from __future__ import annotations

from dataclasses import dataclass

from holterlab.params.base import Params, param_field

__all__ = ["STQTParams"]


@dataclass(frozen=True)
class STQTParams(Params):
    """ST-segment and QT analysis from median beats.

    The ST level is measured at ``J + st_offset_ms`` relative to the PR (isoelectric) level of
    the same median beat. ST episodes follow the 1 mm / 1 minute rule: a deviation beyond
    ``episode_threshold_mv`` for at least ``episode_min_s``, episodes closer than
    ``episode_gap_s`` merged.
    """

    stage = "st_qt"
    #: ``highpass_hz`` (until 0.x): the baseline under the ST segment is removed by the PR
    #: knots of the median beats, no filter was ever applied
    removed = frozenset({"highpass_hz"})
    enabled: bool = param_field(True, doc="run the ST/QT stage")
    window_s: float = param_field(
        30.0, unit="s", min=5.0, max=600.0, doc="median-beat window length (trend resolution)"
    )
    min_beats: int = param_field(
        6, min=3, max=1000, doc="normal beats a window needs for a median beat"
    )
    st_offset_ms: float = param_field(
        60.0, unit="ms", min=20.0, max=120.0, doc="ST measurement point after the J point"
    )
    episode_threshold_mv: float = param_field(
        0.1, unit="mV", min=0.02, max=1.0, doc="ST deviation that counts (0.1 mV = 1 mm)"
    )
    episode_min_s: float = param_field(
        60.0, unit="s", min=10.0, max=3600.0, doc="minimum ST episode duration"
    )
    episode_gap_s: float = param_field(
        60.0, unit="s", min=0.0, max=3600.0, doc="episodes closer than this are merged"
    )
    lowpass_hz: float = param_field(
        40.0, unit="Hz", min=10.0, max=150.0, doc="low-pass before median beats"
    )
    qtc_formula: str = param_field(
        "bazett", choices=("bazett", "fridericia"), doc="QTc reported as the headline value"
    )
