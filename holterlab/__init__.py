"""holterlab: an open research workbench for long-term (Holter) ECG analysis.

Light to import: heavy parts (numba kernels, wfdb, pyedflib, plotting, the server) load on
first use.

>>> import holterlab
>>> rec = holterlab.read("100.hea")          # EDF/BDF, WFDB, CSV, aiecg, ISHNE
>>> rec.get(leads="MLII", start=60, stop=70)  # float32 mV, shape (1, 3600)
"""

from __future__ import annotations

import importlib
from typing import Any

from holterlab._version import __version__
from holterlab.errors import HolterlabError

__all__ = [
    "__version__",
    "HolterlabError",
    "Recording",
    "Annotations",
    "read",
    "write",
    "read_annotations",
    "write_annotations",
    "evaluate",
    "detect_beats",
    "analyze",
    "analyze_beats",
    "AnalysisParams",
    "HolterResult",
    "compare",
]

_LAZY = {
    "Recording": ("holterlab.recording", "Recording"),
    "Annotations": ("holterlab.annotations", "Annotations"),
    "read_annotations": ("holterlab.annotations", "read_annotations"),
    "write_annotations": ("holterlab.annotations", "write_annotations"),
    "read": ("holterlab.io", "read"),
    "write": ("holterlab.io", "write"),
    "evaluate": ("holterlab.evaluate", None),
    "detect_beats": ("holterlab.beats", "detect_beats"),
    "synth": ("holterlab.synth", None),
    "analyze": ("holterlab.pipeline", "analyze"),
    "analyze_beats": ("holterlab.pipeline", "analyze_beats"),
    "AnalysisParams": ("holterlab.params.analysis", "AnalysisParams"),
    "HolterResult": ("holterlab.result", "HolterResult"),
    "compare": ("holterlab.compare", "compare"),
}


def __getattr__(name: str) -> Any:
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'holterlab' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
