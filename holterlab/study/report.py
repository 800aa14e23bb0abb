"""The study report: ``report_templates/study_report.ipynb`` run with papermill, then HTML.

The template reads ``study.parquet``, ``study.json`` and the PNGs of ``plots/`` from the study
folder (its only parameter besides the title). The executed notebook is kept as
``report/study_report.ipynb`` and exported to ``report/study_report.html`` (nbconvert,
images embedded, code hidden); with ``pdf=True`` also to ``report/study_report.pdf`` through
holterlab's web-PDF exporter (:mod:`holterlab.report.exporter`, system chromium) when that
module is installed. Every file is written atomically.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

from holterlab._atomic import atomic_write_bytes, atomic_write_text
from holterlab.errors import ReportError

__all__ = ["render_study_report", "default_study_template"]


def default_study_template() -> Path:
    """``$HOLTERLAB_STUDY_TEMPLATE``, else ``report_templates/study_report.ipynb``."""
    env = os.environ.get("HOLTERLAB_STUDY_TEMPLATE")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "report_templates" / "study_report.ipynb"


def _kernel() -> tuple[str, Any]:
    """Kernel name and manager class: holterlab.report's (this Python, no TCP) if present."""
    try:
        from holterlab.report.render import KERNEL_NAME, _kernel_manager_class, ensure_kernel
    except ImportError:
        return "python3", None
    ensure_kernel()
    return KERNEL_NAME, _kernel_manager_class()


def render_study_report(
    study_dir: str | os.PathLike[str],
    *,
    title: str = "Study report",
    pdf: bool = False,
    template: str | os.PathLike[str] | None = None,
    timeout_s: float | None = 600.0,
) -> dict[str, Path]:
    """Execute the study report template for ``study_dir`` and export it.

    Returns
    -------
    dict
        ``notebook``, ``html`` and (when made) ``pdf`` paths.

    Raises
    ------
    ReportError
        The template is missing or a cell failed (the message names the error), or the PDF
        could not be printed.
    """
    import nbformat
    import papermill
    from nbconvert import HTMLExporter
    from papermill.exceptions import PapermillExecutionError

    study_dir = Path(study_dir).resolve()
    template = Path(template) if template is not None else default_study_template()
    if not template.is_file():
        raise ReportError(
            f"study report template {template} not found; set HOLTERLAB_STUDY_TEMPLATE"
        )
    out_dir = study_dir / "report"
    out_dir.mkdir(parents=True, exist_ok=True)
    kernel_name, manager = _kernel()
    extra = {} if manager is None else {"kernel_manager_class": manager}
    with tempfile.TemporaryDirectory(prefix="holterlab-study-report-") as work:
        executed = Path(work) / "study_report.ipynb"
        try:
            papermill.execute_notebook(
                str(template),
                str(executed),
                parameters={"study_dir": str(study_dir), "title": title},
                kernel_name=kernel_name,
                progress_bar=False,
                log_output=False,
                cwd=str(study_dir),
                execution_timeout=timeout_s,
                **extra,
            )
        except PapermillExecutionError as exc:
            evalue = " ".join(str(exc.evalue).split())
            raise ReportError(
                f"study report cell #{exc.cell_index} failed: {exc.ename}: {evalue}"
            ) from None
        nb = nbformat.read(executed, as_version=4)
    paths: dict[str, Path] = {}
    nb_path = out_dir / "study_report.ipynb"
    atomic_write_text(nb_path, nbformat.writes(nb))
    paths["notebook"] = nb_path
    exporter = HTMLExporter(
        template_name="lab",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        embed_images=True,
    )
    html, _ = exporter.from_notebook_node(nb)
    html_path = out_dir / "study_report.html"
    atomic_write_text(html_path, html)
    paths["html"] = html_path
    if pdf:
        try:
            from holterlab.report.exporter import HolterWebPDFExporter
        except ImportError:
            raise ReportError(
                "PDF output needs holterlab.report.exporter (the report extra); the HTML "
                f"report is at {html_path}"
            ) from None
        try:
            data, _ = HolterWebPDFExporter(footer_text=title).from_notebook_node(nb)
        except Exception as exc:  # noqa: BLE001 - chromium/playwright failures of any kind
            raise ReportError(f"the study report could not be printed to PDF: {exc}") from exc
        pdf_path = out_dir / "study_report.pdf"
        atomic_write_bytes(pdf_path, data)
        paths["pdf"] = pdf_path
    return paths
