"""A server restarted while a training job runs, in a real headless Chromium on the e2e harness: the job lives on
(it runs in its own process and session), and the new server's Train page shows it as it is and can still
cancel it.

Needs Debian's chromium (see tests/e2e/test_browser.py)."""
import os
import signal

from core.training import jobs
from tests.e2e.appserver import launch, require_chromium, running_app_process


def _train_page(browser, url):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url + "/train")
    page.get_by_role("heading", name="Train", exact=True).wait_for(timeout=120_000)
    return page


def test_a_server_restarted_under_a_training_job_shows_the_job_and_can_cancel_it(isolated_dirs, busi_folder):
    from playwright.sync_api import sync_playwright

    require_chromium()
    run_dir = None
    try:
        with sync_playwright() as p:
            browser = launch(p)
            with running_app_process() as (url, first):  # the runs folder is isolated_dirs', through the environment
                page = _train_page(browser, url)
                folders = page.locator('[data-testid="stTextArea"] textarea').first
                folders.fill(str(busi_folder))
                folders.press("Control+Enter")
                page.get_by_role("button", name="Start training").click(timeout=120_000)
                page.get_by_text("One training job runs at a time").wait_for(timeout=60_000)
                run_dir = jobs.current_job()
                assert run_dir and jobs._read_lock()["pid"] != first.pid
            # the first server is gone (stopped by its process id); its job is not
            assert first.poll() is not None and jobs.pid_alive(jobs._read_lock()["pid"])
            with running_app_process() as (url, _second):
                page = _train_page(browser, url)
                page.get_by_text(f"Training: {os.path.basename(run_dir)}").wait_for(timeout=60_000)
                state = jobs.run_info(run_dir).status.get("state")
                assert state in ("starting", "loading_data", "training")
                page.get_by_role("button", name="Cancel training").click(timeout=30_000)
                page.get_by_text("cancelled (partial)").wait_for(timeout=90_000)
            browser.close()
        info = jobs.run_info(run_dir)
        assert info.state == "cancelled" and not info.running and jobs.current_job() is None
    finally:
        lock = jobs._read_lock()
        if lock and jobs.pid_alive(lock.get("pid")):  # never leave a training process behind
            os.killpg(lock["pid"], signal.SIGKILL)
