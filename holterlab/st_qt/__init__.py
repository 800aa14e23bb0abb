"""ST-segment and QT analysis from median beats (per lead, over short windows)."""

from holterlab.st_qt.analysis import (
    STQTResult,
    analyze_st_qt,
    qtc,
    st_episodes,
    st_qt_recording,
)
from holterlab.st_qt.delineate import Fiducials, delineate
from holterlab.st_qt.median import MedianBeats, median_beats, remove_baseline_knots

__all__ = [
    "STQTResult",
    "analyze_st_qt",
    "st_qt_recording",
    "st_episodes",
    "qtc",
    "Fiducials",
    "delineate",
    "MedianBeats",
    "median_beats",
    "remove_baseline_knots",
]
