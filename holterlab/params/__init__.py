"""Parameter objects of every analysis stage, nested in :class:`AnalysisParams`.

Each stage's parameters live in their own module of this package (``beats.py``,
``quality.py``, ...); :class:`AnalysisParams` (in ``analysis.py``) nests them all.
"""

from holterlab.params.base import Params, param_field

__all__ = ["Params", "param_field"]
