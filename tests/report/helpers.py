"""Synthetic recordings and results for the report, batch and report-CLI tests."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from holterlab.synth import SynthParams, generate


def make_recording(
    folder: Path, name: str = "rec", *, minutes: float = 10.0, seed: int = 3, leads: int = 3
) -> Path:
    """A dense-event synthetic WFDB record (``NAME.hea``, ``.dat``, ``.atr``); returns the .hea."""
    folder.mkdir(parents=True, exist_ok=True)
    out = generate(
        folder / f"{name}.hea",
        hours=minutes / 60.0,
        leads=leads,
        fs=250,
        seed=seed,
        params=SynthParams.showcase(noise_level=0.3),
    )
    return Path(out.path)


def make_result(recording: Path, out: Path, *, include_beats: bool = True) -> dict:
    """Analyse ``recording`` from its reference beats; write the result JSON to ``out``."""
    import holterlab
    from holterlab.report.context import analyse

    result = analyse(holterlab.read(recording), beats="annotations")
    result.to_json(out, include_beats=include_beats)
    return result.to_dict(include_beats=include_beats)


def pdf_text(pdf: Path) -> str:
    """The PDF's text (pdftotext), whitespace collapsed to single spaces."""
    text = subprocess.run(
        ["pdftotext", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    return " ".join(text.split())


def pdf_pages(pdf: Path) -> tuple[int, tuple[float, float]]:
    """Number of pages and the page size in points (pdfinfo)."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True).stdout
    pages, size = 0, (0.0, 0.0)
    for line in info.splitlines():
        if line.startswith("Pages:"):
            pages = int(line.split()[1])
        elif line.startswith("Page size:"):
            parts = line.split()
            size = (float(parts[2]), float(parts[4]))
    return pages, size


def have_poppler() -> bool:
    return shutil.which("pdftotext") is not None and shutil.which("pdfinfo") is not None
