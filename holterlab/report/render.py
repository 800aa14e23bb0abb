"""``render_report``: run the report notebook with papermill, print it to PDF, atomically.

The template (``report_templates/holter_report.ipynb``) is executed by papermill in the
project's own Jupyter kernel ``python3`` (its kernelspec is installed into this Python's
prefix when the one Jupyter finds would run another Python), then printed to PDF by
:class:`~holterlab.report.exporter.HolterWebPDFExporter`. A cell that fails raises
:class:`~holterlab.errors.ReportError` naming the cell and the error; the PDF is written
atomically, so a failed render leaves no PDF behind.

Progress and cancel: ``progress`` is ``True`` (papermill's tqdm bar) or a callback
``progress(stage, fraction)`` told the stage (``"execute"`` cell by cell, then ``"pdf"``) and
the overall fraction done; ``cancel`` is a :class:`threading.Event` or a callable returning
True to stop. Cancel is checked before every cell; a cell that is running is interrupted
(SIGINT) and, when it does not stop within :data:`INTERRUPT_GRACE_S`, its kernel is shut
down; while the PDF is printed, the browser is closed. :class:`~holterlab.errors.CancelledError`
is raised and no PDF is written.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from holterlab._atomic import atomic_write_bytes
from holterlab.errors import CancelledError, ParameterError, RecordingNotFoundError, ReportError
from holterlab.report.context import BEAT_SOURCES, paper_name

__all__ = [
    "render_report",
    "execute_report",
    "export_pdf",
    "ensure_kernel",
    "default_template",
    "is_result_path",
    "KERNEL_NAME",
    "RENDER_STAGES",
    "INTERRUPT_GRACE_S",
]

#: The Jupyter kernel the template runs in.
KERNEL_NAME = "python3"

#: Stages of :func:`render_report` and their share of the work (for the overall fraction).
RENDER_STAGES: dict[str, float] = {"execute": 0.85, "pdf": 0.15}

#: Seconds a cancelled cell gets to stop after its interrupt before the kernel is shut down.
INTERRUPT_GRACE_S = 1.0

#: ``True``/``False`` (papermill's tqdm bar or nothing) or ``progress(stage, fraction)``.
ProgressArg = bool | Callable[[str, float], None] | None
#: A :class:`threading.Event` or a callable returning True to stop.
CancelArg = threading.Event | Callable[[], bool] | None

#: Name under which the cancellable papermill engine is registered.
ENGINE_NAME = "holterlab"


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
    from traitlets import CaselessStrEnum, default

    if os.name == "nt":  # pragma: no cover - no IPC transport on Windows
        return AsyncKernelManager

    class IPCKernelManager(AsyncKernelManager):
        transport = CaselessStrEnum(["tcp", "ipc"], default_value="ipc").tag(config=True)

        @default("ip")
        def _absolute_ipc_path(self) -> str:
            # jupyter_client's default socket path is relative ("kernel-ipc"), which only works
            # when the kernel starts in this process's working directory
            return os.path.join(tempfile.gettempdir(), f"holterlab-{uuid.uuid4().hex[:16]}-ipc")

        async def _async_interrupt_kernel(self) -> None:
            # jupyter_client interrupts the kernel before every shutdown, and the idle
            # kernel logs "KeyboardInterrupt caught in kernel" to stderr: after a successful
            # report that reads like a failure. A kernel being shut down needs no interrupt.
            if self.shutting_down:
                return
            await super()._async_interrupt_kernel()

    return IPCKernelManager


# ---------------------------------------------------------------------- progress, cancel
def _cancel_fn(cancel: CancelArg) -> Callable[[], bool] | None:
    """None without ``cancel`` (then the plain papermill engine runs), else its check."""
    from holterlab.quality import _cancel_check

    return None if cancel is None else _cancel_check(cancel)


def _check_progress(progress: ProgressArg) -> None:
    if progress is not None and not isinstance(progress, bool) and not callable(progress):
        raise ParameterError("progress must be True/False or a callable progress(stage, fraction)")


def _check_cancelled(cancelled: Callable[[], bool] | None, where: str) -> None:
    if cancelled is not None and cancelled():
        raise CancelledError(f"report cancelled {where}; no PDF was written")


@functools.cache
def _engine_name() -> str:
    """Register the papermill engine that reports each cell and can be cancelled; its name.

    Its notebook client checks ``holterlab_cancel()`` before every cell and, while a cell
    runs, every 0.1 s: once set, the kernel is interrupted, and shut down when the cell is
    still running :data:`INTERRUPT_GRACE_S` later (nbclient then raises ``DeadKernelError``
    within a second).
    After every cell ``holterlab_progress(cells_done / cells)`` is called.
    """
    import asyncio

    from nbclient.util import ensure_async, run_sync
    from papermill.clientwrap import PapermillNotebookClient
    from papermill.engines import NBClientEngine, papermill_engines
    from papermill.log import logger
    from papermill.utils import merge_kwargs, remove_args
    from traitlets import Any as AnyTrait
    from traitlets import Float

    class CancellableNotebookClient(PapermillNotebookClient):
        holterlab_cancel = AnyTrait(None, allow_none=True, help="() -> bool: stop when True")
        holterlab_progress = AnyTrait(None, allow_none=True, help="(fraction) -> None")
        holterlab_grace_s = Float(INTERRUPT_GRACE_S)

        async def async_execute_cell(
            self,
            cell: Any,
            cell_index: int,
            execution_count: int | None = None,
            store_history: bool = True,
        ) -> Any:
            cancelled = self.holterlab_cancel
            _check_cancelled(cancelled, f"before cell {cell_index}")
            watcher = None
            if cancelled is not None:
                watcher = asyncio.ensure_future(self._stop_on_cancel(cancelled))
            try:
                out = await super().async_execute_cell(
                    cell, cell_index, execution_count, store_history
                )
            finally:
                if watcher is not None:
                    watcher.cancel()
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await watcher
            if self.holterlab_progress is not None:
                self.holterlab_progress((cell_index + 1) / max(len(self.nb.cells), 1))
            return out

        # nbclient binds execute_cell to the base class's coroutine: rebind it to this one
        execute_cell = run_sync(async_execute_cell)

        async def _stop_on_cancel(self, cancelled: Callable[[], bool]) -> None:
            while not cancelled():
                await asyncio.sleep(0.1)
            km = self.km
            if km is None:
                return
            with contextlib.suppress(Exception):  # KeyboardInterrupt in the cell
                await ensure_async(km.interrupt_kernel())
            await asyncio.sleep(self.holterlab_grace_s)
            # still running (a cell that ignores SIGINT): kill the kernel; nbclient notices
            # within a second (it polls km.is_alive) and raises DeadKernelError
            with contextlib.suppress(Exception):
                await ensure_async(km.shutdown_kernel(now=True))

    class CancellableEngine(NBClientEngine):
        @classmethod
        def execute_managed_notebook(
            cls,
            nb_man: Any,
            kernel_name: str,
            log_output: bool = False,
            stdout_file: Any = None,
            stderr_file: Any = None,
            start_timeout: float = 60,
            execution_timeout: float | None = None,
            **kwargs: Any,
        ) -> Any:
            # as NBClientEngine.execute_managed_notebook, with the cancellable client
            kwargs = remove_args(["input_path"], **kwargs)
            safe_kwargs = remove_args(["timeout", "startup_timeout"], **kwargs)
            final_kwargs = merge_kwargs(
                safe_kwargs,
                timeout=execution_timeout if execution_timeout else kwargs.get("timeout"),
                startup_timeout=start_timeout,
                kernel_name=kernel_name,
                log=logger,
                log_output=log_output,
                stdout_file=stdout_file,
                stderr_file=stderr_file,
            )
            return CancellableNotebookClient(nb_man, **final_kwargs).execute()

    papermill_engines.register(ENGINE_NAME, CancellableEngine)
    return ENGINE_NAME


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
    progress: ProgressArg = False,
    timeout_s: float | None = None,
    cancel: CancelArg = None,
) -> tuple[Any, Path]:
    """Execute the template with papermill; return the executed notebook and its path.

    Raises :class:`ReportError` naming the failing cell. ``workdir`` is the kernel's working
    folder and receives ``report.ipynb``. ``progress`` is ``True`` (papermill's tqdm bar) or
    ``progress("execute", fraction_of_cells_done)``; ``cancel`` (an Event or a callable)
    stops between cells or interrupts the running one (then its kernel is shut down) and
    raises :class:`CancelledError`.
    """
    import papermill
    from papermill.exceptions import PapermillExecutionError

    _check_progress(progress)
    cancelled = _cancel_fn(cancel)
    callback = progress if callable(progress) else None

    template = Path(template) if template is not None else default_template()
    if not template.is_file():
        raise ReportError(
            f"report template {template} not found; set HOLTERLAB_REPORT_TEMPLATE to the "
            "holter_report.ipynb template"
        )
    ensure_kernel()
    _check_cancelled(cancelled, "before the notebook was run")
    out_nb = Path(workdir) / "report.ipynb"
    extra: dict[str, Any] = {}
    if cancelled is not None or callback is not None:
        extra = {
            "engine_name": _engine_name(),
            "holterlab_cancel": cancelled,
            "holterlab_progress": (
                None if callback is None else (lambda fraction: callback("execute", fraction))
            ),
        }
    try:
        nb = papermill.execute_notebook(
            str(template),
            str(out_nb),
            parameters=parameters,
            kernel_name=KERNEL_NAME,
            progress_bar=progress is True,
            log_output=False,
            request_save_on_cell_execute=False,
            # the kernel starts in workdir; papermill's cwd= would chdir this whole process
            # (every thread of a dashboard) while the notebook runs
            resources={"metadata": {"path": str(workdir)}},
            execution_timeout=timeout_s,
            kernel_manager_class=_kernel_manager_class(),
            **extra,
        )
    except CancelledError:
        raise
    except Exception as exc:
        if cancelled is not None and cancelled():
            # interrupted (KeyboardInterrupt in the cell) or its kernel was shut down
            raise CancelledError(
                "report cancelled while its notebook ran; no PDF was written"
            ) from None
        if not isinstance(exc, PapermillExecutionError):
            raise
        name = _cell_name(out_nb, exc.exec_count, exc.source)
        evalue = " ".join(str(exc.evalue).split())
        raise ReportError(f"report template cell {name!r} failed: {exc.ename}: {evalue}") from None
    return nb, out_nb


def export_pdf(
    nb: Any,
    *,
    paper: str = "A4",
    footer: str = "",
    cancel: Callable[[], bool] | None = None,
    **traits: Any,
) -> bytes:
    """Print an executed report notebook to PDF bytes (raises ReportError on failure).

    ``cancel`` is polled ten times a second while the browser prints: when it turns true the
    browser is closed and :class:`~holterlab.errors.CancelledError` raised.
    """
    from holterlab.report.exporter import HolterWebPDFExporter, PrintCancelled

    exporter = HolterWebPDFExporter(
        paper=paper_name(paper), footer_text=footer, cancel_check=cancel, **traits
    )
    try:
        pdf, _resources = exporter.from_notebook_node(nb)
    except PrintCancelled:
        raise CancelledError(
            "report cancelled while the PDF was printed; no PDF was written"
        ) from None
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
    progress: ProgressArg = False,
    beats: str = "detect",
    result_out: str | os.PathLike[str] | None = None,
    title: str | None = None,
    template: str | os.PathLike[str] | None = None,
    timeout_s: float | None = None,
    cancel: CancelArg = None,
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
        Also save the executed notebook here (even when a cell fails, for debugging; not
        when the render is cancelled).
    progress
        ``True``: show papermill's cell progress bar. A callable: ``progress(stage,
        fraction)`` with ``stage`` ``"execute"`` (after each notebook cell) then ``"pdf"``,
        and ``fraction`` the overall fraction done (0..1, never decreasing; see
        :data:`RENDER_STAGES`).
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
    cancel
        A :class:`threading.Event` or a callable returning True to stop: checked before each
        cell and while one runs (it is interrupted, its kernel shut down if it goes on), and
        ten times a second while the PDF is printed (the browser is closed).

    Returns
    -------
    Path
        ``out_pdf``.

    Raises
    ------
    ReportError
        A template cell failed (the message names it) or the PDF could not be printed.
    CancelledError
        ``cancel`` was set; nothing was written to ``out_pdf``.
    """
    from holterlab.result import ResultError

    _check_progress(progress)
    cancelled = _cancel_fn(cancel)
    report = _stage_reporter(progress)

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
    report("execute", 0.0)
    with tempfile.TemporaryDirectory(prefix="holterlab-report-") as work:
        try:
            nb, nb_path = execute_report(
                parameters,
                template=template,
                workdir=work,
                progress=report if callable(progress) else progress,
                timeout_s=timeout_s,
                cancel=cancelled,
            )
        except ReportError:
            if keep_notebook is not None and (Path(work) / "report.ipynb").is_file():
                atomic_write_bytes(keep_notebook, (Path(work) / "report.ipynb").read_bytes())
            raise
        if progress is True:
            print(
                f"notebook executed in {time.perf_counter() - t0:.1f} s; printing PDF",
                file=sys.stderr,
            )
        _check_cancelled(cancelled, "before the PDF was printed")
        report("pdf", 0.0)
        pdf = export_pdf(nb, paper=paper, footer=footer, cancel=cancelled)
        _check_cancelled(cancelled, "while the PDF was printed")
        if keep_notebook is not None:
            import nbformat

            atomic_write_bytes(keep_notebook, nbformat.writes(nb).encode("utf-8"))
        atomic_write_bytes(out_pdf, pdf)
        report("pdf", 1.0)
    return out_pdf


def _stage_reporter(progress: ProgressArg) -> Callable[[str, float], None]:
    """``report(stage, stage_fraction)`` calling ``progress(stage, overall_fraction)``."""
    if not callable(progress):
        return lambda stage, fraction: None
    names = list(RENDER_STAGES)
    total = sum(RENDER_STAGES.values())
    done = [0.0]

    def report(stage: str, fraction: float) -> None:
        base = sum(RENDER_STAGES[s] for s in names[: names.index(stage)]) / total
        overall = base + RENDER_STAGES[stage] / total * min(max(float(fraction), 0.0), 1.0)
        done[0] = max(done[0], min(overall, 1.0))
        progress(stage, done[0])

    return report
