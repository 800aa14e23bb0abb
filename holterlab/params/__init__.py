"""Parameter objects of every analysis stage, nested in :class:`AnalysisParams`.

Each stage's parameters live in their own module of this package (``detection.py``,
``classification.py``, ``rhythm.py``, ``hrv.py``, ``st_qt.py``); :class:`AnalysisParams`
(``analysis.py``) nests them all. Imported lazily so ``import holterlab.params.base`` stays
cheap.
"""

from __future__ import annotations

import importlib
from typing import Any

from holterlab.params.base import Params, param_field

__all__ = ["Params", "param_field", "AnalysisParams"]


def __getattr__(name: str) -> Any:
    if name == "AnalysisParams":
        return importlib.import_module("holterlab.params.analysis").AnalysisParams
    raise AttributeError(f"module 'holterlab.params' has no attribute {name!r}")
