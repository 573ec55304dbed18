"""Helpers shared by the browser test and the UI benchmark: run the app, drive Chromium."""
from __future__ import annotations

import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager

from core.locations import PROJECT_ROOT as ROOT

# The hidden container the empty Segment page renders to load the result elements' code: the class Streamlit gives
# pages._segment_ui.PRELOAD_KEY's container (not imported: that would load the pages' caches outside a server).
# test_browser waits for it, so a renamed key fails there.
PRELOAD_SELECTOR = ".st-key-result_code_preload"

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def require_chromium() -> None:
    """Skip the calling test where Debian's Chromium is missing; in CI (CI=true) fail instead, since .ci/run
    installs it."""
    import pytest

    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run should have installed it")
        pytest.skip("chromium not installed (run .ci/run)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def running_app(env: dict | None = None, timeout_s: float = 60, args: tuple[str, ...] = ()):
    """Start `streamlit run streamlit_app.py` on 127.0.0.1; yield its URL; stop it by process id.

    args are more command-line options, e.g. ("--secrets.files", path) to give the app other secrets.
    """
    with running_app_process(env, timeout_s, args) as (url, _proc):
        yield url


@contextmanager
def running_app_process(env: dict | None = None, timeout_s: float = 60, args: tuple[str, ...] = ()):
    """As running_app, yielding (url, the server's subprocess.Popen): the load benchmark samples its memory and
    the fault tests restart it."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port), *args],
                            cwd=ROOT, env={**os.environ, **(env or {})},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        end = time.time() + timeout_s
        while True:
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                if time.time() > end:
                    raise RuntimeError("streamlit did not come up") from None
                time.sleep(0.3)
        yield url, proc
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def launch(playwright):
    return playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)


def drop_file(page, data: bytes, name: str, mime: str = "image/png") -> None:
    """A real drop: a DataTransfer built in the page, then dragenter/dragover/drop on the drop zone."""
    zone = page.locator('[data-testid="stFileUploaderDropzone"]')
    dt = page.evaluate_handle(
        """([b64, name, mime]) => {
            const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
            const dt = new DataTransfer();
            dt.items.add(new File([bytes], name, {type: mime}));
            return dt;
        }""", [base64.b64encode(data).decode(), name, mime])
    for ev in ("dragenter", "dragover", "drop"):
        zone.dispatch_event(ev, {"dataTransfer": dt})


def area_px(page) -> int:
    """The 'Lesion area' metric's value."""
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Lesion area").first
    return int(re.sub(r"[^0-9]", "", metric.locator('[data-testid="stMetricValue"]').inner_text()))


WAIT_AREA_CHANGE = """(a0) => { const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
                                   .find(e => e.innerText.includes('Lesion area'));
                                if (!m) return false;
                                const v = parseInt(m.querySelector('[data-testid="stMetricValue"]').innerText.replace(/[^0-9]/g, ''));
                                return v !== a0; }"""


def open_segment_page(page, url: str) -> None:
    page.goto(url + "/segment")
    page.get_by_text("Drop one or more ultrasound images").wait_for(timeout=120_000)
    page.locator('[data-testid="stFileUploaderDropzone"]').wait_for(timeout=60_000)


def switch_editing_on(page, tool: str = "Brush (add)") -> None:
    """Turn on 'Edit the mask' (once) and pick a tool; waits for the canvas."""
    if not page.locator("canvas.bs-canvas").count():
        page.locator('[data-testid="stCheckbox"]').filter(has_text="Edit the mask").first.click()
    page.get_by_text(tool, exact=True).first.click()
    canvas_box(page)


def canvas_box(page) -> dict:
    """The drawing canvas's box on the page (the brush canvas over the picture)."""
    canvas = page.locator("canvas.bs-canvas").first
    canvas.wait_for(timeout=60_000)
    page.wait_for_timeout(300)  # let the component size itself
    # mouse events only reach what is inside the viewport: bring the whole canvas to its middle
    canvas.evaluate("e => e.scrollIntoView({block: 'center', inline: 'nearest'})")
    return canvas.bounding_box()


def paint(page, points: list[tuple[float, float]]) -> float:
    """A mouse stroke through points given as fractions (0..1) of the canvas's width and height; no wait.
    Returns time.perf_counter() just before the mouse button is released (the stroke is sent on release)."""
    box = canvas_box(page)
    xy = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in points]
    page.mouse.move(*xy[0])
    page.mouse.down()
    for x, y in xy[1:]:
        page.mouse.move(x, y, steps=8)
    t = time.perf_counter()
    page.mouse.up()
    return t


def drag_box(page, corner0: tuple[float, float], corner1: tuple[float, float]) -> float:
    """A mouse drag from corner0 to corner1 (fractions 0..1 of the canvas) with the Box tool; no wait. Returns
    time.perf_counter() just before the mouse button is released (the box is sent on release)."""
    box = canvas_box(page)
    (x0, y0), (x1, y1) = [(box["x"] + fx * box["width"], box["y"] + fy * box["height"]) for fx, fy in (corner0, corner1)]
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(x1, y1, steps=8)
    t = time.perf_counter()
    page.mouse.up()
    return t


def lesion_box_fractions(mask_path: str, pad: float = 0.05) -> tuple[tuple[float, float], tuple[float, float]]:
    """The ground truth's tight box, padded by pad of its size, as fractions of the image (= of the canvas)."""
    import cv2
    import numpy as np

    m = cv2.imread(mask_path, cv2.IMREAD_GRAYSCALE) > 0
    ys, xs = np.nonzero(m)
    h, w = m.shape
    dx, dy = pad * (xs.max() - xs.min() + 1), pad * (ys.max() - ys.min() + 1)
    return ((max(0, xs.min() - dx) / w, max(0, ys.min() - dy) / h),
            (min(w - 1, xs.max() + dx) / w, min(h - 1, ys.max() + dy) / h))


# Timed inside the page, so the figure is when the browser had it, not when Playwright's polling noticed
# (its waits re-check at growing intervals and added up to ~0.35 s here). window.__shown: performance.now()
# at which the area readout and a loaded overlay image were both in the page.
WATCH_SHOWN = """() => {
    window.__shown = null;
    const check = () => {
        if (window.__shown) return;
        const metric = [...document.querySelectorAll('[data-testid="stMetric"]')].some(e => e.innerText.includes('Lesion area'));
        // not the hidden elements the empty page renders to load their code (pages/_segment_ui.py)
        const img = [...document.querySelectorAll('[data-testid="stImage"] img')].find(i => !i.closest('PRELOAD_SELECTOR'));
        if (metric && img && img.complete && img.naturalWidth > 0) { window.__shown = performance.now(); obs.disconnect(); }
        else if (img && !img.__watched) { img.__watched = true; img.addEventListener('load', check); }
    };
    const obs = new MutationObserver(check);
    obs.observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
    window.__dropped = null;  // the moment of the drop itself, as the user lets go of the file
    window.addEventListener('drop', () => { window.__dropped = window.__dropped || performance.now(); }, true);
}""".replace("PRELOAD_SELECTOR", PRELOAD_SELECTOR)


def drop_and_time_first_overlay(page, data: bytes, name: str, timeout_ms: int = 60_000) -> float:
    """Drop a file; seconds (page clock) until its area readout and loaded overlay image are both shown."""
    page.evaluate(WATCH_SHOWN)
    drop_file(page, data, name)
    page.wait_for_function("() => window.__shown !== null", timeout=timeout_ms)
    return page.evaluate("(window.__shown - window.__dropped) / 1000")
