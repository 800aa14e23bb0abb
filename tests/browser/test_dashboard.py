"""The served dashboard in a real (headless Debian) Chromium, driven with Playwright.

``holterlab dashboard --no-show --port P`` runs in a subprocess on a free loopback port; the
page must show the overview (non-blank pixels), move the detail view when an event row is
clicked, change the counts when a beat is relabelled, and re-run when a parameter changes.
Screenshots are saved under ``tests/artifacts/`` (git-ignored).
"""

from __future__ import annotations

import io
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from tests.ui._data import make_sample

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
TIMEOUT_MS = 20_000

sync_api = pytest.importorskip("playwright.sync_api")
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM), reason="no Debian chromium")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _warm_numba_caches(recording_path: Path) -> None:
    """Compile (and cache on disk) the numba kernels the dashboard server runs: on a fresh
    clone the server would otherwise compile them while the page loads, and the page's
    first updates then race its initial render (seen as "Cannot set properties of
    undefined" page errors in a clean CI run)."""
    import holterlab
    from holterlab.viz.pyramid import minmax_blocks

    rec = holterlab.read(recording_path)
    short = holterlab.Recording.from_array(rec.get(stop=120.0), rec.fs)
    holterlab.analyze(short)
    minmax_blocks(np.zeros((2, 4096), np.float32), 64)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dashboard")
    sample = make_sample(folder, hours=0.25, seed=3)
    second = make_sample(folder, hours=0.1, seed=5, name="second")
    second.result.unlink()  # opened without a result
    _warm_numba_caches(sample.recording)
    port = _free_port()
    env = dict(os.environ, HOLTERLAB_CACHE_DIR=str(folder / "cache"))
    log = open(folder / "server.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "holterlab",
            "dashboard",
            str(sample.recording),
            "--result",
            str(sample.result),
            "--no-show",
            "--port",
            str(port),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.flush()
                    pytest.fail("dashboard did not start:\n" + (folder / "server.log").read_text())
                time.sleep(0.3)
        yield {
            "url": f"http://127.0.0.1:{port}/",
            "sample": sample,
            "second": second,
            "log": folder / "server.log",
        }
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(folder / "server.log", ARTIFACTS / "dashboard-server.log")


@pytest.fixture(scope="module")
def page(server):
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1300})
            page.set_default_timeout(TIMEOUT_MS)
            errors: list[str] = []
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            bokeh_warnings: list[str] = []  # e.g. a glyph mapped to a column it lacks
            page.on(
                "console",
                lambda msg: (
                    msg.type in ("warning", "error")
                    and msg.text.startswith("[bokeh")
                    and bokeh_warnings.append(msg.text)
                ),
            )
            page.bokeh_warnings = bokeh_warnings  # type: ignore[attr-defined]
            page.goto(server["url"], timeout=90_000)
            page.locator(".hl-overview canvas").first.wait_for(state="attached", timeout=90_000)
            page.locator(".hl-detail canvas").first.wait_for(state="attached")
            page.wait_for_timeout(2000)
            page.errors = errors  # type: ignore[attr-defined]
            yield page
        finally:
            browser.close()


def _shot(page, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"dashboard-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def _tab(page, name: str) -> None:
    page.locator(".bk-tab", has_text=name).first.click()


def _detail_start(page) -> float:
    return float(page.locator("#hl-detail-start").get_attribute("data-start"))


def _count(page, label: str) -> int:
    text = page.locator(f"#hl-count-{label} .hl-count-value").inner_text()
    return int(text.replace(",", ""))


def _wait_for(predicate, timeout_s: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _overview_pixels(page) -> np.ndarray:
    from PIL import Image

    png = page.locator(".hl-overview canvas").first.screenshot()
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)


def _ink(img: np.ndarray) -> float:
    return float((img.sum(axis=2) < 200).mean())  # ECG ink: near-black / dark blue pixels


def test_overview_renders(page):
    _shot(page, "1-loaded")
    dark = _ink(_overview_pixels(page))
    assert dark > 0.02, f"overview looks blank ({dark:.4f} dark pixels)"
    assert not page.errors, page.errors


def test_overview_zoom_rerenders(page):
    before = _overview_pixels(page)
    box = page.locator(".hl-overview canvas").first.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.25)
    for _ in range(6):
        page.mouse.wheel(0, -300)
        page.wait_for_timeout(150)
    page.wait_for_timeout(1500)

    def changed() -> bool:
        after = _overview_pixels(page)
        return after.shape != before.shape or np.abs(after - before).mean() > 1.0

    _wait_for(changed, what="the overview to re-render after zooming")
    _shot(page, "1b-zoomed")
    after = _overview_pixels(page)
    assert _ink(after) > 0.005, "the zoomed overview is blank"


def test_clicking_an_event_row_moves_the_detail_view(page, server):
    _tab(page, "Events")
    rows = page.locator(".hl-events .tabulator-row")
    rows.nth(5).wait_for()
    before = _detail_start(page)
    rows.nth(5).locator('.tabulator-cell[tabulator-field="type"]').click()
    _wait_for(lambda: _detail_start(page) != before, what="the detail window to move")
    _shot(page, "2-event-clicked")
    # the detail window now holds the event's onset
    from holterlab.result import HolterResult

    result = HolterResult.from_json(server["sample"].result)
    onset = result.events[5].start_s
    new = _detail_start(page)
    assert new <= onset <= new + 10.0


def test_keyboard_pages_the_detail_view(page):
    page.locator(".hl-title").click()  # focus the page, not a text field
    before = _detail_start(page)
    page.keyboard.press("ArrowRight")
    _wait_for(
        lambda: abs(_detail_start(page) - before - 10.0) < 1e-6 or before > 880,
        what="the detail view to page right",
    )


# the detail figure's frame (left, top, width, height) in page pixels
_DETAIL_FRAME_JS = """() => {
  const found = [];
  const walk = (v) => {
    if (!v) return;
    if (v.model && v.model.type === 'Figure' && v.model.frame_width) found.push(v);
    for (const c of (v.child_views || [])) walk(c);
  };
  for (const v of Object.values(Bokeh.index)) walk(v);
  const fig = found[0];  // the only figure with a fixed frame (paper scale)
  const r = fig.el.getBoundingClientRect(), b = fig.frame.bbox;
  return [r.left + b.left, r.top + b.top, b.width, b.height,
          fig.model.x_range.start, fig.model.x_range.end];
}"""


def test_clicking_a_beat_selects_it(page, server):
    """A click on a beat in the detail view selects it (the tap never reached the server)."""
    from holterlab.result import HolterResult

    result = HolterResult.from_json(server["sample"].result)
    t = result.beat_samples / result.fs
    label = page.locator("#hl-selected-label")
    for _attempt in range(6):  # the plot may still be (re)rendering on a cold, loaded CI
        left, top, width, height, x0, x1 = page.evaluate(_DETAIL_FRAME_JS)
        beat = float(t[(t > x0 + 0.2 * (x1 - x0)) & (t < x1)][0])
        page.mouse.click(left + (beat - x0) / (x1 - x0) * width, top + 0.5 * height)
        try:
            label.wait_for(timeout=5000)
            break
        except Exception:  # noqa: BLE001 - playwright TimeoutError: click again
            continue
    label.wait_for()
    info = page.locator(".hl-beat-info div").first.inner_text()
    assert "RR" in info
    _shot(page, "2b-beat-clicked")
    assert not page.bokeh_warnings, page.bokeh_warnings


def test_relabelling_a_beat_changes_the_counts(page):
    v_before, n_before = _count(page, "V"), _count(page, "N")
    v_total = int(page.locator("#hl-v-total").inner_text().replace(",", ""))
    page.get_by_role("button", name="beat ▶").click()  # next V beat, selected
    page.locator("#hl-selected-label").wait_for()
    _wait_for(
        lambda: page.locator("#hl-selected-label").inner_text() == "V",
        what="a V beat to be selected",
    )
    page.locator(".hl-relabel-N button").click()
    _wait_for(lambda: _count(page, "V") == v_before - 1, what="the V count to drop")
    assert _count(page, "N") == n_before + 1
    assert page.locator("#hl-n-edits").inner_text() == "1"
    _wait_for(  # the summary (re-computed in the background) follows
        lambda: page.locator("#hl-v-total").inner_text().replace(",", "") == str(v_total - 1),
        what="the summary's V total to drop",
    )
    _shot(page, "3-relabelled")


def test_families_gallery(page):
    _tab(page, "Families")
    page.locator(".hl-family svg").first.wait_for()
    assert page.locator(".hl-family").count() >= 3
    _shot(page, "4-families")


def test_changing_a_parameter_reruns(page):
    _tab(page, "Parameters")
    events_before = int(page.locator("#hl-n-events").inner_text())
    box = page.get_by_label(re.compile(r"^pause s"))
    box.fill("1.2")
    box.press("Enter")
    _wait_for(
        lambda: int(page.locator("#hl-n-events").inner_text()) > events_before,
        timeout_s=30,
        what="the event count to change after the parameter change",
    )
    _shot(page, "5-parameter")


def test_comparison_tab(page, server):
    _tab(page, "Comparison")
    box = page.get_by_label(re.compile(r"^Reference"))
    box.fill(str(server["sample"].result))
    box.press("Enter")
    page.get_by_role("button", name="Compare").click()
    page.get_by_text("reference beats scored").wait_for()
    _shot(page, "6-comparison")
    assert not page.errors, page.errors


def test_open_another_recording_from_the_path_box(page, server):
    second = server["second"].recording
    page.get_by_label(re.compile(r"^Recording")).fill(str(second))
    page.get_by_label(re.compile(r"^Result JSON")).fill("")
    page.get_by_role("button", name="Open", exact=True).click()
    page.get_by_text("opened second").wait_for()

    def painted() -> bool:
        try:
            return _ink(_overview_pixels(page)) > 0.02
        except Exception:  # the overview is being replaced
            return False

    _wait_for(painted, timeout_s=30, what="the new overview to render")
    _shot(page, "7-second-recording")
    assert not page.errors, page.errors
