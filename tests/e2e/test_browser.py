"""End to end in a real headless Chromium: drop an image on the running app, read the result, move the threshold.

Needs Debian's chromium (installed by .ci/run). Outside CI a missing browser
skips the test; in CI (CI=true) it fails, so the check cannot silently vanish.
"""
import base64
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.conftest import ROOT, SAMPLES

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
ARTIFACTS = os.path.join(ROOT, "bench", "out")


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server():
    if not os.path.exists(CHROMIUM):
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run should have installed it")
        pytest.skip("chromium not installed (run .ci/run)")
    port = _free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "streamlit_app.py", "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port)],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                if urllib.request.urlopen(url + "/_stcore/health", timeout=1).read() == b"ok":
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("streamlit did not come up")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


def _area(page):
    """The 'Lesion area' metric's value as an int."""
    metric = page.locator('[data-testid="stMetric"]').filter(has_text="Lesion area").first
    text = metric.locator('[data-testid="stMetricValue"]').inner_text()
    return int(re.sub(r"[^0-9]", "", text))


def test_drop_upload_threshold_and_screenshot(server):
    from playwright.sync_api import sync_playwright

    os.makedirs(ARTIFACTS, exist_ok=True)
    with open(os.path.join(SAMPLES, "malignant", "malignant (20).png"), "rb") as fh:
        first = fh.read()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(server + "/segment")
        zone = page.locator('[data-testid="stFileUploaderDropzone"]')
        zone.wait_for(timeout=90_000)
        # warm-up happens at model load: wait until the page is idle before timing
        page.get_by_text("Drop one or more ultrasound images").wait_for(timeout=90_000)

        # 1) a real drop: DataTransfer built in the page, then dragenter/dragover/drop
        dt = page.evaluate_handle(
            """([b64, name]) => {
                const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
                const dt = new DataTransfer();
                dt.items.add(new File([bytes], name, {type: 'image/png'}));
                return dt;
            }""", [base64.b64encode(first).decode(), "malignant (20).png"])
        t0 = time.time()
        for ev in ("dragenter", "dragover", "drop"):
            zone.dispatch_event(ev, {"dataTransfer": dt})
        page.locator('[data-testid="stMetric"]').filter(has_text="Lesion area").first.wait_for(timeout=60_000)
        page.locator(".js-plotly-plot").first.wait_for(timeout=60_000)
        shown_s = time.time() - t0
        area0 = _area(page)
        assert page.get_by_text("not a diagnosis").first.is_visible()

        # 2) lower the threshold by 0.3: the marked area must grow
        slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
        slider.focus()
        for _ in range(30):
            slider.press("ArrowLeft")
        page.wait_for_function(
            """(a0) => { const m = [...document.querySelectorAll('[data-testid="stMetric"]')]
                          .find(e => e.innerText.includes('Lesion area'));
                         return m && parseInt(m.querySelector('[data-testid="stMetricValue"]').innerText.replace(/[^0-9]/g, '')) !== a0; }""",
            arg=area0, timeout=30_000)
        assert _area(page) > area0

        # 3) the file chooser path: a second image joins the list
        page.locator('[data-testid="stFileUploaderDropzone"] input[type="file"]').set_input_files(
            os.path.join(SAMPLES, "benign", "benign (2).png"))
        page.get_by_text("Image (2 analysed)").wait_for(timeout=60_000)
        page.screenshot(path=os.path.join(ARTIFACTS, "segment_e2e.png"), full_page=True)
        browser.close()
    print(f"overlay and area shown {shown_s:.2f} s after the drop")
