"""Sign-in and roles through AppTest: a simulated signed-in user (AppTest.user) and [auth]/[access] secrets."""
import os
import shutil

import pytest
from streamlit.testing.v1 import AppTest

from core.access import audit_log
from core.cards.registry import active_model_path
from tests.helpers import ROOT, SAMPLES, copy_default_model, png_bytes, synthetic_case

APP = os.path.join(ROOT, "streamlit_app.py")
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "a-test-secret-of-32-characters!!",
        "client_id": "app", "client_secret": "secret",
        "server_metadata_url": "http://127.0.0.1:9/.well-known/openid-configuration"}
ACCESS = {"admins": ["alice@hospital.org"], "clinicians": ["*@hospital.org"]}
ANONYMOUS = {"is_logged_in": False}
ALICE = {"is_logged_in": True, "email": "Alice@Hospital.org", "name": "Alice Admin"}
CAROL = {"is_logged_in": True, "email": "carol@hospital.org", "name": "Carol Clinician"}
EVE = {"is_logged_in": True, "email": "eve@elsewhere.com", "name": "Eve"}


def app(user, access=None, page=None, script=APP):
    at = AppTest.from_file(script, default_timeout=120)
    at.secrets = {"auth": AUTH, "access": access or ACCESS}
    at.user = user
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def controls(at):
    """Everything a visitor could act on, by kind."""
    return {"buttons": [b.label for b in at.button], "uploaders": len(at.file_uploader),
            "text_areas": len(at.text_area), "text_inputs": len(at.text_input), "selectboxes": len(at.selectbox)}


def test_local_mode_has_no_sign_in_and_every_page(isolated_dirs):
    at = AppTest.from_file(APP, default_timeout=120).run()
    assert not at.exception and not [b for b in at.button if b.label in ("Sign in", "Sign out")]
    for page in ("pages/segment.py", "pages/train.py", "pages/evaluate.py"):
        at.switch_page(page).run()
        assert not at.exception


def test_an_anonymous_visitor_gets_the_sign_in_and_nothing_else(isolated_dirs):
    at = app(ANONYMOUS)
    assert controls(at) == {"buttons": ["Sign in"], "uploaders": 0, "text_areas": 0, "text_inputs": 0, "selectboxes": 0}
    with pytest.raises(ValueError, match="Known pages: \\['Sign in'\\]"):
        at.switch_page("pages/segment.py")  # the navigation holds no other page


@pytest.mark.parametrize("script", ["pages/segment.py", "pages/train.py", "pages/evaluate.py"])
def test_each_page_opened_on_its_own_still_asks_for_sign_in(isolated_dirs, script):
    at = app(ANONYMOUS, script=os.path.join(ROOT, script))
    assert controls(at) == {"buttons": ["Sign in"], "uploaders": 0, "text_areas": 0, "text_inputs": 0, "selectboxes": 0}


def test_a_signed_in_user_outside_both_lists_is_told_and_sees_nothing_else(isolated_dirs):
    at = app(EVE)
    assert any("eve@elsewhere.com" in e.value and "has not given you access" in e.value for e in at.error)
    assert controls(at) == {"buttons": ["Sign out"], "uploaders": 0, "text_areas": 0, "text_inputs": 0, "selectboxes": 0}
    at = app(EVE, script=os.path.join(ROOT, "pages/segment.py"))
    assert controls(at)["uploaders"] == 0 and any("has not given you access" in e.value for e in at.error)


def test_a_clinician_segments_sees_who_is_signed_in_but_no_train_page(isolated_dirs):
    at = app(CAROL)
    assert any("Signed in as **Carol Clinician** (carol@hospital.org) · clinician" in c.value for c in at.sidebar.caption)
    assert "Sign out" in [b.label for b in at.sidebar.button]
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page("pages/train.py")
    at.switch_page("pages/segment.py").run()
    at.file_uploader(key="uploads").set_value([("x.png", png_bytes(synthetic_case(60, 80)[0]), "image/png")]).run()
    assert not at.exception and any(m.label == "Lesion area" for m in at.metric)
    at.switch_page("pages/evaluate.py").run()
    assert at.text_area(key="data") and not at.exception


def test_the_train_page_opened_directly_by_a_clinician_shows_no_controls(isolated_dirs):
    at = app(CAROL, script=os.path.join(ROOT, "pages/train.py"))
    assert any("for this app's admins" in i.value for i in at.info)
    assert controls(at) == {"buttons": [], "uploaders": 0, "text_areas": 0, "text_inputs": 0, "selectboxes": 0}


def test_an_admin_gets_the_train_page_its_controls_and_the_audit_log(isolated_dirs):
    weights, _ = isolated_dirs
    twin = copy_default_model(weights)
    at = app(ALICE, page="pages/train.py")
    assert any("· admin" in c.value for c in at.sidebar.caption)
    assert at.text_area(key="data_path") and at.button(key=f"act_{twin}") and at.button(key=f"del_{twin}")
    at.button(key=f"act_{twin}").click().run()
    assert not at.exception and active_model_path() == twin
    (log_box,) = [e for e in at.expander if e.label.startswith("Audit log")]
    (record,) = audit_log.read(audit_log.log_path())
    assert record["who"] == "alice@hospital.org" and record["action"] == "activate_model" and record["model"] == twin
    assert list(log_box.dataframe[0].value["who"]) == ["alice@hospital.org"]


def test_folders_outside_the_data_roots_are_refused_on_evaluate_and_train(isolated_dirs, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(SAMPLES, root / "busi")
    os.symlink("/etc", root / "busi" / "etc")
    access = {**ACCESS, "data_roots": [str(root)]}
    at = app(CAROL, access=access, page="pages/evaluate.py")
    for bad in ("/etc", f"{root}/../", f"{root}/busi/etc"):
        at.text_area(key="data").input(bad).run()
        assert any(e.value.startswith("Refused:") and "outside the data folders" in e.value for e in at.error), bad
        assert not at.button  # nothing to run
    at.text_area(key="data").input(f"{root}/busi").run()
    assert not at.error and at.button(key="run")
    at = app(ALICE, access=access, page="pages/train.py")
    at.text_area(key="data_path").input(f"{root}/busi\n/etc").run()
    assert any("/etc is outside the data folders" in e.value for e in at.error)
    assert not at.code and not [b for b in at.button if b.key == "start"]  # no audit, no start


def test_only_those_who_may_train_get_the_site_gate_fit_on_evaluate(isolated_dirs, tmp_path):
    root = tmp_path / "data"
    shutil.copytree(SAMPLES, root / "busi")
    access = {**ACCESS, "data_roots": [str(root)]}
    for user, offered in ((CAROL, False), (ALICE, True)):
        at = app(user, access=access, page="pages/evaluate.py")
        at.text_area(key="data").input(f"{root}/busi").run()
        at.button(key="run").click().run()
        assert not at.exception
        assert any(e.label.startswith("Fit the no-lesion gate") for e in at.expander) == offered, user["email"]


def test_with_sign_in_and_no_roots_no_server_folder_is_read(isolated_dirs, tmp_path):
    at = app(ALICE, page="pages/train.py")
    at.text_area(key="data_path").input(str(tmp_path)).run()
    assert any("reads no server folders" in e.value and "data_roots" in e.value for e in at.error)


def test_a_session_picks_its_own_model_without_changing_the_active_one(isolated_dirs):
    weights, _ = isolated_dirs
    twin = copy_default_model(weights)
    at = app(CAROL, page="pages/segment.py")
    choice = at.selectbox(key="session_model")
    assert choice.value is None and "The active model (default)" in choice.options
    choice.set_value(twin).run()
    at.file_uploader(key="uploads").set_value([("x.png", png_bytes(synthetic_case(60, 80)[0]), "image/png")]).run()
    assert not at.exception
    assert any("model `twin.keras`" in c.value for c in at.caption)
    assert active_model_path() == str(weights / "default.keras")  # everyone else still gets the active model
    other = app(CAROL, page="pages/segment.py")
    assert other.selectbox(key="session_model").value is None


def test_a_session_whose_chosen_model_was_deleted_falls_back_to_the_active_one(isolated_dirs):
    weights, _ = isolated_dirs
    copy_default_model(weights)
    at = app(CAROL, page="pages/segment.py")
    at.selectbox(key="session_model").set_value(str(weights / "twin.keras")).run()
    os.remove(weights / "twin.keras")  # an admin deleted it meanwhile
    at.file_uploader(key="uploads").set_value([("x.png", png_bytes(synthetic_case(60, 80)[0]), "image/png")]).run()
    assert not at.exception and at.selectbox(key="session_model").value is None
    assert any("model `default.keras`" in c.value for c in at.caption)
