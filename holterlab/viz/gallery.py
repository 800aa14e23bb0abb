"""Beat-template thumbnails as inline SVG (a gallery of dozens costs no plotting library)."""

from __future__ import annotations

import html

import numpy as np

__all__ = ["LEAD_OFF_TEXT", "lead_off", "template_svg"]

#: Written in the band of a lead with no signal instead of its (flat) trace.
LEAD_OFF_TEXT = "lead off"


def lead_off(template: np.ndarray) -> np.ndarray:
    """Which leads of a template ``(n_leads, n)`` have no signal: all zero or not finite.

    A median template is exactly zero on a lead that was off (flat or NaN, replaced by zeros)
    in its member beats; no real QRS is exactly zero at every sample.
    """
    t = np.atleast_2d(np.asarray(template, dtype=np.float64))
    live = np.isfinite(t) & (t != 0.0)
    return ~live.any(axis=1)


def template_svg(
    template: np.ndarray,
    *,
    color: str = "#111111",
    width: int = 140,
    height: int = 90,
    mv_range: float | None = None,
    title: str = "",
) -> str:
    """An SVG image of a beat template ``(n_leads, n)`` in mV, leads stacked top to bottom.

    ``mv_range`` fixes the amplitude per lead band (default: the template's own range, at
    least 1 mV) so that several thumbnails can share a scale. NaN samples leave gaps. A lead
    with no signal (:func:`lead_off`) is not drawn as a flat trace: its band holds a small
    grey :data:`LEAD_OFF_TEXT` label (an SVG ``<text class="lead-off">``) instead.
    """
    t = np.atleast_2d(np.asarray(template, dtype=np.float64))
    n_leads, n = t.shape
    band = height / max(1, n_leads)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" style="background:#fffafa">'
    ]
    if title:
        parts.append(f"<title>{html.escape(title)}</title>")
    off = lead_off(t)
    for k in range(n_leads):
        if k:
            parts.append(
                f'<line x1="0" x2="{width}" y1="{band * k:.1f}" y2="{band * k:.1f}" '
                'stroke="#e9ecef"/>'
            )
        if off[k]:
            parts.append(
                f'<text class="lead-off" x="{width / 2:.1f}" y="{band * k + band / 2:.1f}" '
                'text-anchor="middle" dominant-baseline="middle" font-size="9" '
                f'font-style="italic" fill="#868e96">{LEAD_OFF_TEXT}</text>'
            )
            continue
        y = t[k]
        finite = np.isfinite(y)
        if n < 2:
            continue
        lo, hi = float(np.nanmin(y)), float(np.nanmax(y))
        span = mv_range if mv_range is not None else max(1.0, hi - lo)
        mid = (lo + hi) / 2
        xs = np.linspace(2, width - 2, n)
        ys = band * k + band / 2 - (y - mid) / span * (band - 6)
        path, pen = [], "M"
        for xi, yi, ok in zip(xs, ys, finite, strict=True):
            if not ok:
                pen = "M"
                continue
            path.append(f"{pen}{xi:.1f},{yi:.1f}")
            pen = "L"
        parts.append(
            f'<path d="{" ".join(path)}" fill="none" stroke="{color}" stroke-width="1.3"/>'
        )
    parts.append("</svg>")
    return "".join(parts)
