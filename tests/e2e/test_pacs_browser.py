"""End to end in a real headless Chromium against a real Orthanc: open a study from the PACS panel, segment it,
store the SEG and SR, and find them in Orthanc. Chromium or Orthanc missing: skipped outside CI, failed in CI."""

import pytest

from tests.e2e.appserver import launch, require_chromium, running_app
from tests.helpers import us_example_bytes, us_study_bytes


@pytest.fixture(scope="module")
def browser_ready():
    require_chromium()


def test_open_a_study_from_the_pacs_panel_segment_store_and_find_the_seg_in_orthanc(browser_ready, orthanc,
                                                                                    tmp_path):
    from playwright.sync_api import sync_playwright

    data, uid = us_study_bytes(us_example_bytes("examples_rgb_color.dcm"), "E2E-PACS-1", "ACC-E2E")
    orthanc.upload(data)
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(f'[pacs]\nurl = "{orthanc.url}"\n')
    with running_app(args=("--secrets.files", str(secrets))) as url, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(url + "/segment")
        patient = page.get_by_label("Patient ID")
        patient.wait_for(timeout=120_000)
        patient.fill("E2E-PACS-1")
        patient.press("Enter")
        page.get_by_role("button", name="Find").click()
        page.get_by_role("button", name="Open its ultrasound images").click(timeout=60_000)
        page.get_by_text("Image (1 analysed)").wait_for(timeout=120_000)
        page.locator('[data-testid="stMetric"]').filter(has_text="Lesion area").first.wait_for(timeout=60_000)
        page.get_by_role("button", name="Send the SEG and SR to the PACS").click(timeout=60_000)
        page.get_by_text("The SEG and SR are stored in the study on the PACS").wait_for(timeout=60_000)
        browser.close()
    assert orthanc.series_modalities(uid) == ["SEG", "SR", "US"]
