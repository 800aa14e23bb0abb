"""Beats: multi-lead QRS detection (:mod:`.detect`) and beat classification (:mod:`.classify`).

>>> from holterlab.beats import detect_beats
>>> beats = detect_beats(x, fs=250)     # doctest: +SKIP  (int64 sample indices)

The classification functions are imported on first use, so importing this package stays
light.
"""

from __future__ import annotations

import importlib
from typing import Any

from holterlab.beats.detect import BeatDetector, detect_beats, detect_beats_recording

__all__ = [
    "BeatDetector",
    "detect_beats",
    "detect_beats_recording",
    "BeatLabels",
    "classify_beats",
    "classify_beats_recording",
]

_CLASSIFY = {"BeatLabels", "classify_beats", "classify_beats_recording", "beat_features"}


def __getattr__(name: str) -> Any:
    if name in _CLASSIFY:
        value = getattr(importlib.import_module("holterlab.beats.classify"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'holterlab.beats' has no attribute {name!r}")
