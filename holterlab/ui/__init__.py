"""holterlab's workbench: state models (no Panel) and thin Panel views over them.

* :mod:`.models` - ``param.Parameterized`` classes holding the workbench state (the open
  recording, its result and edits, navigation, parameters, comparison). They never import
  Panel or Bokeh: scripts and tests drive them directly.
* :mod:`.views` - thin Panel ``Viewer`` classes over the models (they render with
  ``pn.panel(view)`` in a JupyterLab notebook after ``pn.extension()``, or served).
* :mod:`.app` - the composed dashboard (``holterlab dashboard``).

Helpers without Panel: :mod:`.jobs` (background work with progress and cancel),
:mod:`.edits` (review edits saved as a WFDB annotation file beside the recording),
:mod:`.families` (morphology families and their median templates), :mod:`.summary`
(re-summarising a result after edits), :mod:`.paramsmodel` (analysis parameters as param
objects built from :meth:`~holterlab.params.base.Params.describe`).
"""

from __future__ import annotations

__all__ = ["models", "views", "app"]
