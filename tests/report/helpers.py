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


def pdf_words(pdf: Path) -> list[tuple[float, float, list[tuple[float, float, float, float, str]]]]:
    """Per page: width, height (pt) and the words with their boxes (xmin, ymin, xmax, ymax,
    text), from ``pdftotext -bbox``."""
    import html
    import re

    out = subprocess.run(
        ["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    word = re.compile(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
    )
    pages = []
    for m in re.finditer(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', out, re.S):
        words = [
            (float(a), float(b), float(c), float(d), html.unescape(t))
            for a, b, c, d, t in word.findall(m.group(3))
        ]
        pages.append((float(m.group(1)), float(m.group(2)), words))
    return pages


def layout_problems(pdf: Path, *, margin_mm: float = 12.0) -> list[str]:
    """Words that overlap other words, or that reach into the left/right page margins."""
    problems = []
    margin = margin_mm / 25.4 * 72.0
    for page, (width, _height, words) in enumerate(pdf_words(pdf), 1):
        for x0, _y0, x1, _y1, text in words:
            if x0 < margin - 1.0 or x1 > width - margin + 1.0:
                problems.append(f"page {page}: {text!r} runs into the margin")
        words = sorted(words, key=lambda w: w[1])
        for i, a in enumerate(words):
            for b in words[i + 1 :]:
                if b[1] >= a[3]:  # sorted by top: no later word reaches this one
                    break
                dx = min(a[2], b[2]) - max(a[0], b[0])
                dy = min(a[3], b[3]) - max(a[1], b[1])
                if dx > 0.5 and dy > 0.5 * min(a[3] - a[1], b[3] - b[1]):
                    problems.append(f"page {page}: {a[4]!r} overlaps {b[4]!r}")
    return problems
