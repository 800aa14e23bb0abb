"""Plots of long ECG recordings: overview, detail on ECG paper, trends (HoloViews + Datashader).

* :mod:`.pyramid` - multi-resolution min/max pyramid cached on disk (numpy only)
* :mod:`.overview` - the whole recording, every lead, rasterised with Datashader
* :mod:`.detail` - seconds of signal on an ECG paper grid with beat markers and RR values
* :mod:`.trend` - heart-rate trend and event track
* :mod:`.grid` - the ECG paper grid (25 mm/s, 10 mm/mV)
* :mod:`.gallery` - beat-template thumbnails as inline SVG (no plotting library)
* :mod:`.axes` - clock-time tick formatting

Importing this package is light: the plotting modules import HoloViews when they are used.
"""

from __future__ import annotations

__all__ = ["pyramid", "overview", "detail", "trend", "grid", "gallery", "axes", "ensure_bokeh"]


_BOKEH_READY = False


def ensure_bokeh() -> None:
    """Load HoloViews' Bokeh backend (silently, as ``hv.extension`` would in a notebook)."""
    import holoviews as hv
    import holoviews.plotting.bokeh  # noqa: F401  (registers the backend)

    global _BOKEH_READY
    if not _BOKEH_READY:
        hv.Store.set_current_backend("bokeh")  # also builds hv.opts.<Element> for it
        _BOKEH_READY = True
