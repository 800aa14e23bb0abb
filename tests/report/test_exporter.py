"""The web-PDF exporter: system chromium, offline, no code, paper sizes."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from holterlab.errors import ReportError
from holterlab.report.exporter import HolterWebPDFExporter
from holterlab.report.render import export_pdf
from tests.conftest import REPO
from tests.report.helpers import pdf_pages

REMOTE = [
    "https://example.com/tracker.png",
    "http://example.org/script.js",
    "https://fonts.example.net/font.css",
]


def _notebook() -> nbformat.NotebookNode:
    html = (
        "<h2>Offline check</h2><p>formula $a^2+b^2$</p>"
        f'<img src="{REMOTE[0]}"><script src="{REMOTE[1]}"></script>'
        f'<link rel="stylesheet" href="{REMOTE[2]}">'
    )
    shown = new_code_cell(
        "secret_code_line = 1",
        outputs=[
            new_output("display_data", data={"text/html": html, "text/plain": "x"}),
            new_output("stream", name="stderr", text="WARNING from a library\n"),
            new_output("execute_result", data={"text/plain": "4242"}, execution_count=1),
        ],
        execution_count=1,
    )
    hidden = new_code_cell(
        "hidden_cell = 2",
        outputs=[new_output("display_data", data={"text/plain": "removed output"})],
    )
    hidden.metadata["tags"] = ["remove_cell"]
    return new_notebook(cells=[new_markdown_cell("# Markdown title"), shown, hidden])


@pytest.fixture(scope="module")
def letter(tmp_path_factory):
    exporter = HolterWebPDFExporter(paper="Letter", footer_text="exporter test")
    pdf, _ = exporter.from_notebook_node(_notebook())
    path = tmp_path_factory.mktemp("exporter") / "letter.pdf"
    path.write_bytes(pdf)
    return exporter, path


def test_no_request_leaves_the_machine(letter):
    exporter, path = letter
    assert path.read_bytes().startswith(b"%PDF")
    assert sorted(exporter.blocked_urls) == sorted(REMOTE)
    local = [u for u in exporter.requested_urls if u not in exporter.blocked_urls]
    assert local and all(u.startswith(("file:", "data:")) for u in local)
    # MathJax comes from the Debian package, not a CDN
    assert any("/usr/share/javascript/mathjax/" in u for u in local)


def test_pdf_shows_outputs_but_no_code_prompts_or_stderr(letter):
    from tests.report.helpers import pdf_text

    text = pdf_text(letter[1])
    assert "Offline check" in text and "Markdown title" in text and "4242" in text
    for absent in (
        "secret_code_line",
        "In [",
        "Out[",
        "WARNING from a library",
        "hidden_cell",
        "removed output",
    ):
        assert absent not in text
    assert "exporter test" in text and "page 1 of 1" in text  # footer


def test_letter_page_size(letter):
    pages, size = pdf_pages(letter[1])
    assert pages == 1 and size == pytest.approx((612, 792), abs=1)


def test_missing_chromium_is_a_clear_report_error(monkeypatch):
    monkeypatch.setenv("HOLTERLAB_CHROMIUM", "/nonexistent/chromium")
    with pytest.raises(ReportError, match="chromium not found at /nonexistent/chromium"):
        export_pdf(_notebook())


def test_registered_as_nbconvert_exporter():
    from nbconvert.exporters import get_exporter

    text = (REPO / "pyproject.toml").read_text()
    section = text.split('[project.entry-points."nbconvert.exporters"]', 1)[1].split("[", 1)[0]
    target = re.search(r'holterlab_webpdf\s*=\s*"([^"]+)"', section).group(1)
    module, _, name = target.partition(":")
    assert getattr(sys.modules.get(module) or __import__(module, fromlist=[name]), name) is (
        HolterWebPDFExporter
    )
    assert get_exporter("holterlab.report.exporter.HolterWebPDFExporter") is HolterWebPDFExporter
    e = HolterWebPDFExporter()
    assert e.exclude_input and e.exclude_output_prompt and e.exclude_input_prompt
    assert e.mathjax_url.startswith("file://") and Path(e.mathjax_url[7:].split("?")[0]).is_file()


def test_kernel_is_not_interrupted_while_it_shuts_down():
    """jupyter_client interrupts a kernel before shutting it down, and the idle kernel then
    logs 'KeyboardInterrupt caught in kernel' to stderr after a report that succeeded; the
    report's kernel manager skips that interrupt (a running kernel can still be interrupted)."""
    import asyncio

    from jupyter_client.manager import AsyncKernelManager

    from holterlab.report.render import _kernel_manager_class

    calls = []

    async def record(self):
        calls.append(self.shutting_down)

    cls = _kernel_manager_class()
    km = cls()
    original = AsyncKernelManager._async_interrupt_kernel
    AsyncKernelManager._async_interrupt_kernel = record
    try:
        km.shutting_down = True
        asyncio.run(km._async_interrupt_kernel())
        km.shutting_down = False
        asyncio.run(km._async_interrupt_kernel())
    finally:
        AsyncKernelManager._async_interrupt_kernel = original
    assert calls == [False]
