"""Faults while the app runs, through AppTest (one process, its caches shared by every run, as a server's are):
each keeps the app answering, says what happened, and loses no result already shown.

The model file replaced or cut short under a running app; an audit log that cannot be written; a PACS that
refuses. (A PACS that is down: tests/pages/test_pacs_panel.py. A server restarted under a training job:
tests/e2e/test_faults_browser.py. A full disk and a killed worker: tests/core/training.)"""
import os
import threading
import time
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from streamlit.testing.v1 import AppTest

from core.cards import registry
from tests.helpers import ROOT, copy_default_model, png_bytes, synthetic_case

APP = os.path.join(ROOT, "streamlit_app.py")


def _page(page, secrets=None):
    at = AppTest.from_file(APP, default_timeout=120)
    if secrets is not None:
        at.secrets = secrets
    at.run()
    at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def _readout(at) -> str:
    return next(m.value for m in at.metric if m.label == "Lesion area")


def _segmented_one_image():
    """The Segment page with one image analysed: (AppTest, its area readout, the session's inference count)."""
    at = _page("pages/segment.py")
    at.file_uploader(key="uploads").set_value([("a.png", png_bytes(synthetic_case(60, 80, seed=3)[0]), "image/png")])
    at.run()
    return at, _readout(at), at.session_state["inference_count"]


def _touch_later(path, seconds=5):
    t = time.time() + seconds  # a new modification time whatever the filesystem's resolution
    os.utime(path, (t, t))


def test_a_model_file_cut_short_while_the_app_runs_keeps_the_loaded_model_and_the_results(isolated_dirs):
    weights, _ = isolated_dirs
    at, before, runs = _segmented_one_image()
    model = weights / "default.keras"
    model.write_bytes(model.read_bytes()[:2000])  # a copy cut short
    _touch_later(model)
    at.run()
    assert not at.exception and not at.error
    assert any("could not be loaded" in w.value and "keeps using the version loaded before" in w.value
               for w in at.warning)
    assert _readout(at) == before and at.session_state["inference_count"] == runs  # nothing lost, nothing redone
    fresh = _page("pages/segment.py")  # a session opened now gets the kept model too, not an error
    assert fresh.file_uploader(key="uploads") and any("keeps using" in w.value for w in fresh.warning)


def test_a_broken_model_file_is_tried_once_not_on_every_rerun(isolated_dirs, monkeypatch):
    weights, _ = isolated_dirs
    at = _page("pages/segment.py")
    model = weights / "default.keras"
    model.write_bytes(model.read_bytes()[:2000])
    _touch_later(model)
    at.run()  # the cut-short file is tried here, and fails
    assert any("could not be loaded" in w.value for w in at.warning)

    def no_second_try(*_a, **_k):
        raise AssertionError("the same broken file was loaded again")

    # loading it again would hash the file and import TensorFlow on every slider move
    monkeypatch.setattr("core.inference.predictor.Predictor.load", no_second_try)
    at.slider(key="threshold").set_value(0.3).run()
    assert not at.exception and any("could not be loaded" in w.value for w in at.warning)


def test_a_model_file_removed_while_the_app_runs_keeps_the_loaded_model_and_the_results(isolated_dirs):
    weights, _ = isolated_dirs
    at, before, runs = _segmented_one_image()
    os.remove(weights / "default.keras")
    at.run()
    assert not at.exception and not at.error
    assert any("no longer on the server" in w.value and "keeps using the version loaded before" in w.value
               for w in at.warning)
    assert _readout(at) == before and at.session_state["inference_count"] == runs


def test_a_model_file_replaced_by_another_model_is_used_at_once_and_results_are_made_again(isolated_dirs):
    weights, _ = isolated_dirs
    twin = copy_default_model(weights, "twin")
    at, _, runs = _segmented_one_image()
    os.replace(twin, weights / "default.keras")  # the same weights under a new file: a new version all the same
    _touch_later(weights / "default.keras")
    at.run()
    assert not at.exception and not at.warning
    assert at.session_state["inference_count"] == runs + 1  # the image went through the new file's model


def test_an_unwritable_audit_log_refuses_the_change_in_one_sentence(isolated_dirs, tmp_path):
    weights, _ = isolated_dirs
    other = copy_default_model(weights, "other")
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the log's folder should be")
    at = _page("pages/train.py", {"access": {"audit_log": str(blocker / "audit.jsonl")}})
    at.button(key=f"act_{other}").click().run()
    assert not at.exception
    assert any(e.value.startswith("Not done: the audit log") and "nothing was changed" in e.value for e in at.error)
    assert registry.active_model_path() == str(weights / "default.keras")


@contextmanager
def refusing_server():
    """A DICOMweb address on localhost that answers every request with 403 Forbidden."""
    class Refuse(BaseHTTPRequestHandler):
        def _refuse(self):
            self.send_response(403)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = _refuse

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Refuse)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/dicom-web"
    finally:
        server.shutdown()
        server.server_close()


def test_a_pacs_that_refuses_gets_one_sentence_and_the_images_already_analysed_stay(isolated_dirs):
    with refusing_server() as url:
        at = _page("pages/segment.py", {"pacs": {"url": url}})
        at.file_uploader(key="uploads").set_value([("a.png", png_bytes(synthetic_case(60, 80)[0]), "image/png")])
        at.run()
        before = _readout(at)
        at.text_input(key="pacs_patient").set_value("X").run()
        at.button(key="pacs_find").click().run()
    assert not at.exception
    assert any("refused us (403" in e.value for e in at.error)
    assert _readout(at) == before
