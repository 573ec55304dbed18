"""Sign-in end to end: real headless Chromium, the app's own st.login, a local OpenID Connect provider.

The provider is oidc-provider-mock, served on 127.0.0.1 by this test; signing in
there means typing the e-mail address into its form. The app runs with secrets
written to a temporary folder (``--secrets.files``), a temporary copy of the
weights and a temporary runs folder, so nothing in the repository is read as
secrets or changed. Chromium missing: skipped outside CI, failed in CI.
"""
import os
import re
import secrets
import shutil
import threading

import pytest

from tests.e2e.appserver import ROOT, drop_file, launch, open_segment_page, require_chromium, running_app
from tests.helpers import SAMPLES

ADMIN, CLINICIAN = "alice@hospital.org", "carol@hospital.org"


@pytest.fixture(scope="module")
def provider():
    """oidc-provider-mock on 127.0.0.1, in a thread of this process; yields its base URL."""
    import oidc_provider_mock
    import werkzeug.serving

    server = werkzeug.serving.make_server("127.0.0.1", 0, oidc_provider_mock.app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(5)


@pytest.fixture(scope="module")
def shared_app(provider, tmp_path_factory):
    """The app with sign-in, roles and one data root; yields (url, data root, audit log path)."""
    require_chromium()
    d = tmp_path_factory.mktemp("shared")
    root, weights, log = d / "data", d / "weights", d / "audit.jsonl"
    shutil.copytree(os.path.join(SAMPLES), root / "busi")
    shutil.copytree(os.path.join(ROOT, "weights"), weights)
    secrets_toml = d / "secrets.toml"
    secrets_toml.write_text(f'''
[auth]
redirect_uri = "http://127.0.0.1:{{port}}/oauth2callback"
cookie_secret = "{secrets.token_hex(32)}"
client_id = "busseg-test"
client_secret = "{secrets.token_hex(16)}"
server_metadata_url = "{provider}/.well-known/openid-configuration"

[access]
admins = ["{ADMIN}"]
clinicians = ["*@hospital.org"]
data_roots = ["{root}"]
audit_log = "{log}"
''')
    env = {"BUSI_WEIGHTS_DIR": str(weights), "BUSI_RUNS_DIR": str(d / "runs")}
    with running_app(env=env, args=("--secrets.files", str(secrets_toml))) as url:
        yield url, str(root), str(log)


@pytest.fixture
def page(shared_app):
    """A fresh browser (no cookies: nobody signed in)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        yield browser.new_page(viewport={"width": 1400, "height": 1000})
        browser.close()


def sign_in(page, url: str, email: str) -> None:
    """Through the provider's own form: the e-mail as the subject, which the mock also gives as the email claim."""
    page.goto(url)
    page.get_by_role("button", name="Sign in").click()
    page.locator('input[name="sub"]').fill(email)
    page.get_by_role("button", name="Authorize").click()
    page.get_by_text(f"({email})").wait_for(timeout=60_000)  # the sidebar's "Signed in as NAME (EMAIL) · ROLE"
    # Let the home page's run finish (it imports TensorFlow) before the test opens another page in a new
    # session: two sessions importing TensorFlow at once can leave one with a half-initialised module.
    page.get_by_text("Segment images").wait_for(timeout=120_000)


def buttons(page) -> list[str]:
    page.wait_for_timeout(1500)  # let the run finish drawing
    return [b.strip() for b in page.locator('[data-testid="stButton"] button, [data-testid="stBaseButton-secondary"], '
                                            '[data-testid="stBaseButton-primary"]').all_inner_texts()]


def test_an_anonymous_visitor_gets_only_the_sign_in(shared_app, page):
    url, _, _ = shared_app
    for path in ("", "/segment", "/train", "/evaluate"):
        page.goto(url + path)
        page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
        assert set(buttons(page)) == {"Sign in"}, path
        for testid in ("stFileUploader", "stTextArea", "stTextInput", "stSelectbox", "stSidebarNav"):
            assert page.locator(f'[data-testid="{testid}"]').count() == 0, (path, testid)


def test_a_clinician_segments_but_gets_no_train_activate_or_delete(shared_app, page):
    url, _, _ = shared_app
    sign_in(page, url, CLINICIAN)
    assert page.get_by_text("clinician").first.is_visible()
    nav = page.locator('[data-testid="stSidebarNav"]').inner_text()
    assert "Segment" in nav and "Evaluate" in nav and "Train" not in nav
    open_segment_page(page, url)
    with open(os.path.join(SAMPLES, "malignant", "malignant (20).png"), "rb") as fh:
        drop_file(page, fh.read(), "malignant (20).png")
    page.locator('[data-testid="stMetric"]').filter(has_text="Lesion area").first.wait_for(timeout=90_000)
    page.goto(url + "/train")  # not in this user's navigation: the app falls back to its home page
    page.get_by_text("Active model").first.wait_for(timeout=60_000)
    labels = buttons(page)
    assert not [b for b in labels if re.search(r"Make active|Make this the active|Delete|Start training|Cancel", b)]
    assert page.locator('[data-testid="stTextArea"]').count() == 0


def test_an_admin_trains_activates_and_deletes_and_it_is_audited(shared_app, page):
    from core.access import audit_log

    url, root, log = shared_app
    sign_in(page, url, ADMIN)
    open_segment_page(page, url)
    with open(os.path.join(SAMPLES, "benign", "benign (2).png"), "rb") as fh:
        drop_file(page, fh.read(), "benign (2).png")
    page.locator('[data-testid="stMetric"]').filter(has_text="Lesion area").first.wait_for(timeout=90_000)
    page.goto(url + "/train")
    page.get_by_role("heading", name="Models").wait_for(timeout=60_000)
    # the model list renders after its heading: on a loaded machine, reading the buttons at once can miss it
    page.get_by_role("button", name="Make active").first.wait_for(timeout=60_000)
    labels = buttons(page)
    assert "Make active" in labels and "Delete" in labels
    area = page.locator('[data-testid="stTextArea"] textarea')
    area.fill(f"{root}/busi")
    area.press("Control+Enter")
    page.get_by_role("button", name="Start training").wait_for(timeout=120_000)  # audited, ready to train
    page.get_by_role("button", name="Make active").first.click()
    page.get_by_text("⭐ f12_128").wait_for(timeout=60_000)
    (record,) = audit_log.read(log)
    assert record["who"] == ADMIN and record["action"] == "activate_model" and record["model"].endswith("f12_128.keras")


def test_a_folder_outside_the_data_roots_is_refused(shared_app, page):
    url, root, _ = shared_app
    sign_in(page, url, CLINICIAN)
    page.goto(url + "/evaluate")
    area = page.locator('[data-testid="stTextArea"] textarea')
    area.wait_for(timeout=60_000)
    for outside in ("/etc", f"{root}/../"):
        area.fill(outside)
        area.press("Control+Enter")
        page.get_by_text(f"Refused: {outside} is outside the data folders").wait_for(timeout=60_000)
    assert page.get_by_role("button", name="Run evaluation").count() == 0


def test_sign_out_ends_the_session(shared_app, page):
    url, _, _ = shared_app
    sign_in(page, url, CLINICIAN)
    page.get_by_role("button", name="Sign out").click()
    # st.logout ends the provider's session too; the mock asks to confirm that, then sends the browser back
    end, again = page.get_by_role("button", name="End session"), page.get_by_role("button", name="Sign in")
    end.or_(again).first.wait_for(timeout=60_000)
    if end.count():
        end.click()
    again.wait_for(timeout=60_000)
    page.goto(url + "/segment")  # and the identity cookie is gone: a new session is anonymous too
    page.get_by_role("button", name="Sign in").wait_for(timeout=60_000)
    assert page.locator('[data-testid="stFileUploader"]').count() == 0
