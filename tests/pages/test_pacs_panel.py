"""The Segment page's PACS panel through AppTest against a real Orthanc on localhost: find, open, segment, store."""
import json
import os

from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT, free_port, us_example_bytes, us_study_bytes
from tests.pages.test_access import ACCESS, AUTH, CAROL

APP = os.path.join(ROOT, "streamlit_app.py")


def _segment_page(secrets, user=None):
    at = AppTest.from_file(APP, default_timeout=120)
    at.secrets = secrets
    if user:
        at.user = user
    at.run()
    at.switch_page("pages/segment.py").run()
    assert not at.exception, at.exception
    return at


def test_a_clinician_opens_a_study_from_the_pacs_segments_and_stores_seg_and_sr(orthanc, isolated_dirs):
    _, runs = isolated_dirs
    data, uid = us_study_bytes(us_example_bytes("examples_palette.dcm"), "PANEL-1", "ACC-PANEL")
    orthanc.upload(data)
    log = runs / "audit.jsonl"
    at = _segment_page({"auth": AUTH, "access": {**ACCESS, "audit_log": str(log)}, "pacs": {"url": orthanc.url}},
                       CAROL)
    at.text_input(key="pacs_patient").set_value("PANEL-1").run()
    at.button(key="pacs_find").click().run()
    assert at.selectbox(key="pacs_study").value == uid
    at.button(key="pacs_open").click().run()
    assert not at.exception and not at.error
    (a,) = at.session_state["analyses"].values()
    assert a.dicom is not None and a.image.width == 800
    at.button(key="pacs_store").click().run()
    assert not at.error, [e.value for e in at.error]
    assert any("stored" in s.value for s in at.success)
    assert orthanc.series_modalities(uid) == ["SEG", "SR", "US"]
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [(r["action"], r["study"], r["who"]) for r in records] == [
        ("pacs_pull", uid, "carol@hospital.org"), ("pacs_store", uid, "carol@hospital.org")]
    assert "OB^" not in log.read_text()  # the patient's name never reaches the log


def test_a_pacs_that_is_down_gets_a_plain_message_on_the_page(isolated_dirs):
    at = _segment_page({"pacs": {"url": f"http://127.0.0.1:{free_port()}/dicom-web"}})
    at.text_input(key="pacs_patient").set_value("X").run()
    at.button(key="pacs_find").click().run()
    assert not at.exception
    assert any("is not answering" in e.value for e in at.error)


def test_without_pacs_settings_there_is_no_panel(isolated_dirs):
    at = _segment_page({})
    assert not [t for t in at.text_input if t.key == "pacs_patient"]
