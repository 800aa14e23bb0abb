"""``render_report``: run the report notebook with papermill, print it to PDF, atomically.

The template (``report_templates/holter_report.ipynb``) is executed by papermill in the
project's own Jupyter kernel ``python3`` (its kernelspec is installed into this Python's
prefix when the one Jupyter finds would run another Python), then printed to PDF by
:class:`~holterlab.report.exporter.HolterWebPDFExporter`. A cell that fails raises
:class:`~holterlab.errors.ReportError` naming the cell and the error; the PDF is written
atomically, so a failed render leaves no PDF behind.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from holterlab._atomic import atomic_write_bytes
from holterlab.errors import ParameterError, RecordingNotFoundError, ReportError
from holterlab.report.context import BEAT_SOURCES, paper_name

__all__ = [
    "render_report",
    "execute_report",
    "export_pdf",
    "ensure_kernel",
    "default_template",
    "is_result_path",
    "KERNEL_NAME",
]

#: The Jupyter kernel the template runs in.
KERNEL_NAME = "python3"


def default_template() -> Path:
    """The report template: ``$HOLTERLAB_REPORT_TEMPLATE``, else the repository's."""
    env = os.environ.get("HOLTERLAB_REPORT_TEMPLATE")
    if env:
        return Path(env)
    return Path(__file__).resolve().parents[2] / "report_templates" / "holter_report.ipynb"


def is_result_path(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` names a result JSON (by its ``.json`` ending)."""
    return str(path).lower().endswith(".json")


# ---------------------------------------------------------------------- kernel
def _runs_this_python(argv: list[str]) -> bool:
    if not argv:
        return False
    exe = argv[0]
    major, minor = sys.version_info[:2]
    if exe in {"python", f"python{major}", f"python{major}.{minor}"}:
        return True  # jupyter_client runs these as sys.executable
    here = Path(sys.executable).absolute()
    there = Path(exe).absolute()
    return there == here or (there.parent == here.parent and there.name.startswith("python"))


def ensure_kernel(name: str = KERNEL_NAME) -> Path:
    """Make sure the Jupyter kernel ``name`` runs this Python; return its kernelspec folder.

    When Jupyter finds no such kernel, or one that runs another Python, a kernelspec pointing
    at :data:`sys.executable` is installed into ``sys.prefix/share/jupyter/kernels``.
    """
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec(name)
        if _runs_this_python(list(spec.argv)):
            return Path(spec.resource_dir)
    except NoSuchKernel:
        pass
    from ipykernel.kernelspec import install

    path = Path(install(kernel_name=name, prefix=sys.prefix, display_name="Python 3 (holterlab)"))
    spec = KernelSpecManager().get_kernel_spec(name)
    if not _runs_this_python(list(spec.argv)):
        raise ReportError(
            f"the Jupyter kernel {name!r} found at {spec.resource_dir} runs {spec.argv[0]}, not "
            f"this Python ({sys.executable}); remove that kernelspec or set "
            f"JUPYTER_PREFER_ENV_PATH=1 so the one installed in {path} is used"
        )
    return path


def _kernel_manager_class() -> type:
    """Kernel manager talking to the kernel over Unix sockets (no TCP port is opened)."""
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import CaselessStrEnum

    if os.name == "nt":  # pragma: no cover - no IPC transport on Windows
        return AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc").tag(config=True)

        async def _async_interrupt_kernel(self) -> None:
            # jupyter_client interrupts the kernel before every shutdown, and the idle
            # kernel logs "KeyboardInterrupt caught in kernel" to stderr: after a successful
            # report that reads like a failure. A kernel being shut down needs no interrupt.
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

    return IPCKernelManager


# ---------------------------------------------------------------------- execute
def _cell_name(nb_path: Path, exec_count: int | None, source: str) -> str:
    """The tag (or first line) of the failed cell of the executed notebook."""
    try:
        import nbformat

        cells = [c for c in nbformat.read(nb_path, as_version=4).cells if c.cell_type == "code"]
        failed = [
            c for c in cells if any(o.get("output_type") == "error" for o in c.get("outputs", []))
        ] or [c for c in cells if exec_count is not None and c.get("execution_count") == exec_count]
        if failed:
            tags = [t for t in failed[0].metadata.get("tags", []) if t != "parameters"]
            if tags:
                return tags[0]
            source = failed[0].source
    except Exception:  # noqa: BLE001 - best effort: the error itself is what matters
        pass
    first = next((ln.strip() for ln in str(source).splitlines() if ln.strip()), "")
    return first[:60] or "?"


def _jsonable(params: Any) -> dict[str, Any]:
    if params is None:
        return {}
    if isinstance(params, dict):
        return json.loads(json.dumps(params))
    if hasattr(params, "to_dict"):
        return params.to_dict()
    raise ParameterError(f"params must be AnalysisParams or a dict, got {type(params).__name__}")


def execute_report(
    parameters: dict[str, Any],
    *,
    template: str | os.PathLike[str] | None = None,
    workdir: str | os.PathLike[str],
    progress: bool = False,
    timeout_s: float | None = None,
) -> tuple[Any, Path]:
    """Execute the template with papermill; return the executed notebook and its path.

    Raises :class:`ReportError` naming the failing cell. ``workdir`` is the kernel's working
    folder and receives ``report.ipynb``.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    template = Path(template) if template is not None else default_template()
    if not template.is_file():
        raise ReportError(
            f"report template {template} not found; set HOLTERLAB_REPORT_TEMPLATE to the "
            "holter_report.ipynb template"
        )
    ensure_kernel()
    out_nb = Path(workdir) / "report.ipynb"
    try:
        nb = papermill.execute_notebook(
            str(template),
            str(out_nb),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=progress,
            log_output=False,
            request_save_on_cell_execute=False,
            cwd=str(workdir),
            execution_timeout=timeout_s,
            kernel_manager_class=_kernel_manager_class(),
        )
    except PapermillExecutionError as exc:
        name = _cell_name(out_nb, exc.exec_count, exc.source)
        evalue = " ".join(str(exc.evalue).split())
        raise ReportError(f"report template cell {name!r} failed: {exc.ename}: {evalue}") from None
    return nb, out_nb


def export_pdf(nb: Any, *, paper: str = "A4", footer: str = "", **traits: Any) -> bytes:
    """Print an executed report notebook to PDF bytes (raises ReportError on failure)."""
    from holterlab.report.exporter import HolterWebPDFExporter

    exporter = HolterWebPDFExporter(paper=paper_name(paper), footer_text=footer, **traits)
    try:
        pdf, _resources = exporter.from_notebook_node(nb)
    except Exception as exc:  # noqa: BLE001 - chromium/playwright failures of any kind
        raise ReportError(f"the report could not be printed to PDF: {exc}") from exc
    if not pdf.startswith(b"%PDF"):
        raise ReportError("the browser returned something that is not a PDF")
    return pdf


def _check_recording(path: Path) -> None:
    if path.is_file() or path.with_name(path.name + ".hea").is_file():
        return
    raise RecordingNotFoundError(f"{path}: no such recording")


def render_report(
    source: str | os.PathLike[str],
    out_pdf: str | os.PathLike[str],
    *,
    recording_path: str | os.PathLike[str] | None = None,
    params: Any = None,
    patient: dict[str, Any] | None = None,
    paper: str = "A4",
    keep_notebook: str | os.PathLike[str] | None = None,
    progress: bool = False,
    beats: str = "detect",
    result_out: str | os.PathLike[str] | None = None,
    title: str | None = None,
    template: str | os.PathLike[str] | None = None,
    timeout_s: float | None = None,
) -> Path:
    """Render the PDF report of a recording or of a result JSON.

    Parameters
    ----------
    source
        A recording (analysed first) or a result JSON (``.json``).
    out_pdf
        The PDF to write (atomically: a failed render leaves no file).
    recording_path
        With a result JSON as ``source``: its recording, for the ECG strips.
    params
        Analysis parameters (:class:`AnalysisParams` or dict) when ``source`` is a recording.
    patient
        Patient fields printed on the summary page (id, name, age, sex, ...).
    paper
        ``"A4"`` or ``"Letter"``.
    keep_notebook
        Also save the executed notebook here (even when a cell fails, for debugging).
    progress
        Show papermill's cell progress bar.
    beats
        ``"detect"`` (QRS detector) or ``"annotations"`` (the recording's reference beats).
    result_out
        When ``source`` is a recording, also write the result JSON (with beats) here.
    title
        Report title (default "Holter ECG report").
    template
        Another template notebook.
    timeout_s
        Longest time a cell may run (None: no limit).

    Returns
    -------
    Path
        ``out_pdf``.

    Raises
    ------
    ReportError
        A template cell failed (the message names it) or the PDF could not be printed.
    """
    from holterlab.result import ResultError

    paper = paper_name(paper)
    if beats not in BEAT_SOURCES:
        raise ParameterError(f"beats must be one of {', '.join(BEAT_SOURCES)}, got {beats!r}")
    src = Path(source).absolute()
    out_pdf = Path(out_pdf)
    if out_pdf.suffix.lower() != ".pdf":
        raise ParameterError(f"{out_pdf}: the report file must end in .pdf")
    result_path = recording = None
    if is_result_path(src):
        if not src.is_file():
            raise ResultError(f"{src}: no such result file")
        result_path = src
        if recording_path is not None:
            recording = Path(recording_path).absolute()
            _check_recording(recording)
        if result_out is not None:
            raise ParameterError("result_out is only for a recording source (it is analysed)")
    else:
        _check_recording(src)
        recording = src
        if recording_path is not None and Path(recording_path).absolute() != src:
            raise ParameterError("give the recording once: as the source, or with a result JSON")
    parameters = {
        "recording_path": None if recording is None else str(recording),
        "result_path": None if result_path is None else str(result_path),
        "result_out": None if result_out is None else str(Path(result_out).absolute()),
        "params": _jsonable(params),
        "beats": beats,
        "patient": {str(k): v for k, v in json.loads(json.dumps(patient or {})).items()},
        "paper": paper,
        "title": title or "Holter ECG report",
    }
    label = (patient or {}).get("id") or src.stem.removesuffix(".result")
    footer = f"{parameters['title']} · {label}"
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="holterlab-report-") as work:
        try:
            nb, nb_path = execute_report(
                parameters,
                template=template,
                workdir=work,
                progress=progress,
                timeout_s=timeout_s,
            )
        except ReportError:
            if keep_notebook is not None and (Path(work) / "report.ipynb").is_file():
                atomic_write_bytes(keep_notebook, (Path(work) / "report.ipynb").read_bytes())
            raise
        if progress:
            print(
                f"notebook executed in {time.perf_counter() - t0:.1f} s; printing PDF",
                file=sys.stderr,
            )
        pdf = export_pdf(nb, paper=paper, footer=footer)
        if keep_notebook is not None:
            import nbformat

            atomic_write_bytes(keep_notebook, nbformat.writes(nb).encode("utf-8"))
        atomic_write_bytes(out_pdf, pdf)
    return out_pdf
