"""Atrial activity from the ECG signal (flutter F waves, fibrillatory f waves, P waves).

:func:`measure_atrial_activity` measures an in-memory block, :func:`atrial_activity_recording`
a whole :class:`~holterlab.recording.Recording` in chunks; both return the
:class:`holterlab.rhythm.af.AtrialActivity` that :func:`holterlab.rhythm.af.apply_atrial_activity`
(and ``analyze_rhythm(..., atrial_activity=...)``) uses to find atrial flutter.
"""

from __future__ import annotations

from holterlab.atrial.activity import (
    atrial_activity_recording,
    measure_atrial_activity,
    window_grid,
)

__all__ = ["measure_atrial_activity", "atrial_activity_recording", "window_grid"]
