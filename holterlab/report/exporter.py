"""nbconvert exporter that prints a notebook to PDF with the system's chromium, offline.

:class:`HolterWebPDFExporter` is nbconvert's web-PDF route (HTML template, then a headless
browser prints the page) made fit for clinical reports:

* it launches the chromium of the system (Debian's ``/usr/bin/chromium``; the
  ``HOLTERLAB_CHROMIUM`` environment variable or the ``chromium_executable`` trait choose
  another) with a fresh profile, never a downloaded browser;
* no request leaves the machine: every request the page makes is routed, and anything that is
  not ``file:`` or ``data:`` is aborted (and recorded in :attr:`blocked_urls`); MathJax comes
  from the local Debian package, the require.js and mermaid CDN scripts of the lab template are
  left out;
* the paper is A4 or Letter with fixed margins and a page footer; code cells, prompts and
  In/Out labels are not printed, nor stderr output or cells tagged ``remove_cell``.

It is registered as the nbconvert exporter ``holterlab_webpdf`` (``jupyter nbconvert --to
holterlab_webpdf NB.ipynb``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import copy
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from jinja2 import DictLoader
from nbconvert.exporters import WebPDFExporter
from traitlets import Any as AnyTrait
from traitlets import Bool, Enum, Float, Int, List, Unicode, default

from holterlab.errors import CancelledError

__all__ = [
    "HolterWebPDFExporter",
    "PrintCancelled",
    "DEFAULT_CHROMIUM",
    "LOCAL_MATHJAX",
    "PAPER_SIZES_MM",
]

#: How often (s) a running print looks at ``cancel_check``.
CANCEL_POLL_S = 0.1


class PrintCancelled(CancelledError):
    """Printing to PDF was cancelled (the browser was closed; nothing was returned)."""


#: Chromium used when neither the trait nor ``HOLTERLAB_CHROMIUM`` says otherwise.
DEFAULT_CHROMIUM = "/usr/bin/chromium"
#: MathJax 2 of the Debian ``libjs-mathjax`` package.
LOCAL_MATHJAX = Path("/usr/share/javascript/mathjax/MathJax.js")
#: Paper sizes (width, height) in millimetres.
PAPER_SIZES_MM = {"A4": (210.0, 297.0), "Letter": (215.9, 279.4)}

#: Arguments chromium is launched with (no network activity of its own, no sandbox in
#: containers, no GPU).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--disable-domain-reliability",
    "--disable-client-side-phishing-detection",
    "--no-pings",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]

_TEMPLATE_NAME = "holterlab_report.html.j2"

_TEMPLATE = r"""{%- extends 'lab/index.html.j2' -%}
{#- holterlab report: the lab template without CDN scripts, with print CSS -#}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}
{%- if resources.mathjax_url -%}{{ super() }}{%- endif -%}
{%- endblock html_head_js_mathjax -%}
{% block extra_css %}
<style type="text/css">
{{ resources.holterlab_css }}
</style>
{% endblock extra_css %}
"""

#: Print CSS shared by every report (page size and margins are filled in per paper).
PRINT_CSS = """
@page { size: %(size)s; margin: %(top)smm %(side)smm %(bottom)smm %(side)smm; }
html, body { background: white; }
body.jp-Notebook, .jp-Notebook {
  font-family: "DejaVu Sans", "Liberation Sans", sans-serif; font-size: 9.5pt;
  color: #111; padding: 0 !important; margin: 0 !important;
}
.jp-Cell { padding: 0 !important; margin: 0 !important; }
.jp-OutputArea-output, .jp-RenderedHTMLCommon { padding: 0 !important; margin: 0 !important;
  font-size: 9.5pt; line-height: 1.35; color: #111; }
.jp-OutputArea-child { display: block !important; break-inside: auto !important; }
.jp-OutputArea-output { display: block !important; width: auto !important; }
.jp-OutputPrompt, .jp-InputPrompt { display: none !important; }
.jp-RenderedHTMLCommon table { font-size: 8.5pt; margin: 0; }
.jp-RenderedHTMLCommon svg, .jp-RenderedHTMLCommon img { max-width: none; }
"""


def chromium_path(configured: str | None = None) -> str:
    """The chromium executable: ``configured``, else ``$HOLTERLAB_CHROMIUM``, else Debian's."""
    return configured or os.environ.get("HOLTERLAB_CHROMIUM") or DEFAULT_CHROMIUM


class HolterWebPDFExporter(WebPDFExporter):
    """Web-PDF export through the system chromium, offline, A4 or Letter, no code shown."""

    export_from_notebook = "Holter report PDF"

    chromium_executable = Unicode(
        "",
        help="chromium executable (default: $HOLTERLAB_CHROMIUM or /usr/bin/chromium)",
    ).tag(config=True)
    paper = Enum(["A4", "Letter"], default_value="A4", help="paper size").tag(config=True)
    margin_mm = Float(12.0, help="left/right/top page margin in mm").tag(config=True)
    footer_mm = Float(14.0, help="bottom page margin (holds the footer) in mm").tag(config=True)
    footer_text = Unicode("", help="text on the left of every page footer").tag(config=True)
    launch_timeout_ms = Int(60000, help="time allowed for chromium to start").tag(config=True)
    extra_browser_args = List(Unicode(), help="more chromium arguments").tag(config=True)
    drop_stderr = Bool(True, help="leave stderr output (warnings) out").tag(config=True)
    cancel_check = AnyTrait(
        None, allow_none=True, help="() -> bool, polled while printing: True stops the browser"
    )

    #: URLs the page requested during the last export (``file:``/``data:`` ones included).
    requested_urls: list[str]
    #: URLs that were aborted because they would have left the machine.
    blocked_urls: list[str]

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.requested_urls = []
        self.blocked_urls = []

    # ------------------------------------------------------------------ defaults
    @default("exclude_input")
    def _exclude_input_default(self) -> bool:
        return True

    @default("exclude_input_prompt")
    def _exclude_input_prompt_default(self) -> bool:
        return True

    @default("exclude_output_prompt")
    def _exclude_output_prompt_default(self) -> bool:
        return True

    @default("mathjax_url")
    def _mathjax_url_default(self) -> str:
        if LOCAL_MATHJAX.is_file():
            return f"{LOCAL_MATHJAX.as_uri()}?config=TeX-AMS_CHTML-full,Safe"
        return ""  # no local MathJax: formulas stay as TeX rather than reach a CDN

    @default("require_js_url")
    def _require_js_url_default(self) -> str:
        return ""

    @default("jquery_url")
    def _jquery_url_default(self) -> str:
        return ""

    @default("template_file")
    def _template_file_default(self) -> str:
        return _TEMPLATE_NAME

    @default("extra_loaders")
    def _extra_loaders_default(self) -> list:
        return [DictLoader({_TEMPLATE_NAME: _TEMPLATE})]

    @default("page_render_timeout")
    def _page_render_timeout_default(self) -> int:
        return 200

    # ------------------------------------------------------------------ content
    def page_css(self) -> str:
        """The print CSS for the chosen paper."""
        return PRINT_CSS % {
            "size": self.paper,
            "top": f"{self.margin_mm:g}",
            "side": f"{self.margin_mm:g}",
            "bottom": f"{self.footer_mm:g}",
        }

    def _strip(self, nb: Any) -> Any:
        nb = copy.deepcopy(nb)
        cells = []
        for cell in nb.cells:
            tags = set(cell.get("metadata", {}).get("tags", []))
            if "remove_cell" in tags:
                continue
            if cell.get("cell_type") == "code" and self.drop_stderr:
                cell.outputs = [
                    o
                    for o in cell.get("outputs", [])
                    if not (o.get("output_type") == "stream" and o.get("name") == "stderr")
                ]
            cells.append(cell)
        nb.cells = cells
        return nb

    def from_notebook_node(self, nb: Any, resources: dict | None = None, **kw: Any):
        resources = dict(resources or {})
        resources["holterlab_css"] = self.page_css()
        return super().from_notebook_node(self._strip(nb), resources=resources, **kw)

    # ------------------------------------------------------------------ printing
    def _footer_template(self) -> str:
        left = self.footer_text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        style = (
            "font-family: 'DejaVu Sans', sans-serif; font-size: 7pt; color: #555; width: 100%;"
            f" margin: 0 {self.margin_mm:g}mm; display: flex; justify-content: space-between;"
        )
        return (
            f'<div style="{style}"><span>{left}</span>'
            '<span>page <span class="pageNumber"></span> of <span class="totalPages"></span>'
            "</span></div>"
        )

    async def _print(self, html_file: Path, profile: Path) -> bytes:
        try:
            from playwright.async_api import async_playwright
        except ModuleNotFoundError as exc:  # pragma: no cover - installed with the report extra
            raise RuntimeError(
                "playwright is not installed; install holterlab[report] for PDF reports"
            ) from exc

        executable = chromium_path(self.chromium_executable)
        if not Path(executable).is_file():
            raise RuntimeError(
                f"chromium not found at {executable}; install Debian's chromium package or set "
                "HOLTERLAB_CHROMIUM to a chromium executable"
            )
        requested, blocked = self.requested_urls, self.blocked_urls

        async def route(r: Any) -> None:
            url = r.request.url
            if url.startswith(("file:", "data:")):
                await r.continue_()
            else:
                blocked.append(url)
                await r.abort("blockedbyclient")

        pw = await async_playwright().start()
        try:
            context = await pw.chromium.launch_persistent_context(
                str(profile),
                executable_path=executable,
                headless=True,
                args=[*CHROMIUM_ARGS, *self.extra_browser_args],
                offline=True,
                service_workers="block",
                accept_downloads=False,
                handle_sigint=False,
                handle_sigterm=False,
                handle_sighup=False,
                timeout=self.launch_timeout_ms,
            )
            try:
                await context.route("**/*", route)
                page = await context.new_page()
                page.on("request", lambda req: requested.append(req.url))
                await page.emulate_media(media="print")
                await page.goto(html_file.as_uri(), wait_until="load")
                await page.wait_for_timeout(self.page_render_timeout)
                m = f"{self.margin_mm:g}mm"
                return await page.pdf(
                    format=self.paper,
                    print_background=True,
                    margin={"top": m, "left": m, "right": m, "bottom": f"{self.footer_mm:g}mm"},
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=self._footer_template(),
                    prefer_css_page_size=False,
                )
            finally:
                await context.close()
        finally:
            await pw.stop()

    async def _print_or_cancel(self, html_file: Path, profile: Path) -> bytes:
        """:meth:`_print`, stopped when ``cancel_check()`` turns true (checked every
        :data:`CANCEL_POLL_S`): the browser is closed and :class:`PrintCancelled` raised."""
        job = asyncio.ensure_future(self._print(html_file, profile))
        check = self.cancel_check
        while True:
            done, _ = await asyncio.wait({job}, timeout=CANCEL_POLL_S)
            if done:
                return job.result()
            if check is not None and check():
                job.cancel()  # closes the page, the browser and playwright (their finally)
                with contextlib.suppress(BaseException):
                    await job
                raise PrintCancelled("printing was cancelled")

    def run_playwright(self, html: str) -> bytes:
        """Print ``html`` to PDF bytes with the system chromium (a fresh profile each time)."""
        self.requested_urls = []
        self.blocked_urls = []
        work = Path(tempfile.mkdtemp(prefix="holterlab-webpdf-"))
        try:
            html_file = work / "report.html"
            html_file.write_text(html, encoding="utf-8")
            profile = work / "profile"
            profile.mkdir()
            # asyncio.run in a worker thread: works even when the caller runs an event loop
            with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
                job = self._print_or_cancel(html_file, profile)
                return pool.submit(asyncio.run, job).result()
        finally:
            shutil.rmtree(work, ignore_errors=True)
