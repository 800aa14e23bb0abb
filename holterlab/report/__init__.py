"""PDF Holter reports rendered from a parameterised notebook.

:func:`render_report` runs ``report_templates/holter_report.ipynb`` with papermill (in the
``python3`` kernel of this Python) and prints it to PDF through the system chromium, offline
(:class:`~holterlab.report.exporter.HolterWebPDFExporter`). The template draws its sections
with :mod:`holterlab.report.tables`, :mod:`holterlab.report.figures`,
:mod:`holterlab.report.findings` and :mod:`holterlab.report.strips`; every number goes
through :func:`holterlab.report.formatting.fmt`.

>>> from holterlab.report import render_report
>>> render_report("rec.edf", "rec.pdf", patient={"id": "P-001"})            # analyses first
>>> render_report("rec.result.json", "rec.pdf", recording_path="rec.edf")   # strips too
"""

from __future__ import annotations

from holterlab.report.render import render_report

__all__ = ["render_report"]
