"""Every page through streamlit.testing.v1.AppTest, on a tiny model in temporary folders."""
import io
import os
import time

import numpy as np
import pytest
from PIL import Image
from streamlit.testing.v1 import AppTest

from tests.helpers import ROOT, SAMPLES, copy_default_model, png_bytes, synthetic_case

APP = os.path.join(ROOT, "streamlit_app.py")


def app(page=None):
    at = AppTest.from_file(APP, default_timeout=120)
    at.run()
    if page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


def sample_bytes(rel):
    with open(os.path.join(SAMPLES, rel), "rb") as fh:
        return fh.read()


def test_home_shows_model_device_and_disclaimer(isolated_dirs):
    at = app()
    text = " ".join(str(m.value) for m in at.markdown) + " ".join(w.value for w in at.warning)
    assert "not a diagnosis" in text
    assert "CPU" in text or "GPU" in text


def test_home_shows_figures_per_dataset_and_on_a_hospital_it_never_saw(isolated_dirs):
    import json

    weights, _ = isolated_dirs
    card = json.load(open(weights / "default.card.json"))
    t = card["test_metrics"]
    card["test_metrics_by_dataset"] = {"busi": t, "busbra": {**t, "n_images": 177, "n_normal": 0,
                                                             "false_alarm_rate": None}}
    card["cross_centre"] = [{"trained_on": "BUSI", "scored_on": "BUS-BRA", "metrics": {**t, "dice_mean": 0.61}}]
    json.dump(card, open(weights / "default.card.json", "w"))
    at = app()
    table = at.dataframe[0].value
    # what a hospital it never saw gets comes first, then the own test split per dataset
    assert list(table["images"]) == ["BUS-BRA", "busi", "busbra"]
    assert list(table["figures"])[0] == "never saw (trained on BUSI only)"
    assert table["mean lesion Dice"].iloc[0].startswith("0.610") and list(table["n"])[2] == 177


def test_home_lists_the_shipped_cards_known_limits(isolated_dirs):
    import json

    weights, _ = isolated_dirs
    shipped = json.load(open(os.path.join(ROOT, "weights", "default.card.json")))
    card = json.load(open(weights / "default.card.json"))
    card["test_metrics"]["by_size"] = shipped["test_metrics"]["by_size"]
    json.dump({**card, "limitations": shipped["limitations"]}, open(weights / "default.card.json", "w"))
    at = app()
    (limits,) = [e for e in at.expander if e.label == "Known limits of this model"]
    text = " ".join(str(m.value) for m in limits.markdown)
    assert "Benign axillary lymph nodes are missed" in text and "Trained on two centres only" in text
    # the size breakdown is written from the card's own figures, so it shows the shipped model's large-lesion band
    large = shipped["test_metrics"]["by_size"][-1]
    assert f"{large['dice_mean']:.3f}" in text and "for lesions covering 10 % or more of the image" in text


def test_segment_page_says_plainly_when_there_is_no_model(isolated_dirs):
    weights, _ = isolated_dirs
    os.remove(weights / "default.keras")
    at = app("pages/segment.py")
    assert any("No model is loaded" in e.value for e in at.error)
    assert not at.get("plotly_chart")  # nothing made up


def test_the_empty_segment_page_loads_the_result_elements_code_hidden_and_drops_it_with_the_first_image(
        isolated_dirs):
    from pages._segment_ui import PRELOAD_KEY

    at = app("pages/segment.py")
    # one of each kind the first result shows, inside the keyed container its CSS rule hides
    assert [m.label for m in at.metric] == ["preload"]
    assert len(at.image) == 1 and len(at.dataframe) == 1 and len(at.get("download_button")) == 1
    assert any(f".st-key-{PRELOAD_KEY} {{display: none}}" in h.proto.body for h in at.get("html"))
    at.file_uploader(key="uploads").set_value([("x.png", png_bytes(synthetic_case(60, 80)[0]), "image/png")]).run()
    assert not at.exception
    assert "preload" not in {m.label for m in at.metric} and "Lesion area" in {m.label for m in at.metric}
    assert not any(PRELOAD_KEY in h.proto.body for h in at.get("html"))


def test_upload_with_mask_and_a_bad_file(isolated_dirs):
    at = app("pages/segment.py")
    gray, mask = synthetic_case(60, 80, seed=3)
    at.file_uploader(key="uploads").set_value([
        ("scan (1).png", png_bytes(gray), "image/png"),
        ("scan (1)_mask.png", png_bytes(mask.astype(np.uint8) * 255), "image/png"),
        ("broken.png", b"\x89PNG truncated", "image/png"),
    ]).run()
    assert not at.exception
    assert any("broken.png" in e.value and "other images are unaffected" in e.value for e in at.error)
    labels = {m.label: m.value for m in at.metric}
    assert labels["Lesion area"].endswith("px")
    assert "Dice / IoU vs ground truth" in labels
    assert len(at.image) == 4  # image | ground truth | prediction, then agreement
    at.toggle(key="zoomable").set_value(True).run()
    assert len(at.get("plotly_chart")) == 4 and not at.exception


def test_threshold_change_updates_the_area_without_another_inference(isolated_dirs):
    at = app("pages/segment.py")
    at.file_uploader(key="uploads").set_value([("x.png", png_bytes(synthetic_case(60, 80)[0]), "image/png")]).run()
    assert at.session_state["inference_count"] == 1
    areas = []
    for t in (0.05, 0.5, 0.95):
        at.slider(key="threshold").set_value(t).run()
        areas.append(next(m.value for m in at.metric if m.label == "Lesion area"))
    assert at.session_state["inference_count"] == 1
    assert len(set(areas)) > 1, areas
    at.radio(key="view").set_value("Probability heatmap").run()
    assert at.session_state["inference_count"] == 1 and not at.exception


def test_nothing_marked_says_why_and_how_often_the_model_misses(isolated_dirs):
    at = app("pages/segment.py")
    at.file_uploader(key="uploads").set_value([("x.png", png_bytes(synthetic_case(60, 80)[0]), "image/png")]).run()
    at.slider(key="threshold").set_value(0.95).run()
    assert next(m.value for m in at.metric if m.label == "Lesion area") == "0 px"
    text = " ".join(i.value for i in at.info)
    assert "No lesion is marked at threshold 0.95" in text and "highest lesion probability anywhere" in text


@pytest.mark.parametrize("name, make", [
    ("sixteen.png", lambda g: Image.fromarray(g.astype(np.uint16) * 200)),
    ("cmyk.jpg", lambda g: Image.fromarray(g).convert("CMYK")),
    ("palette.png", lambda g: Image.fromarray(g).convert("P")),
    ("alpha.png", lambda g: Image.fromarray(g).convert("RGBA")),
])
def test_odd_modes_are_segmented(isolated_dirs, name, make):
    gray = synthetic_case(50, 70)[0]
    buf = io.BytesIO()
    make(gray).save(buf, format="JPEG" if name.endswith("jpg") else "PNG")
    at = app("pages/segment.py")
    at.file_uploader(key="uploads").set_value([(name, buf.getvalue(), "image/png")]).run()
    assert not at.exception and not at.error
    assert any(m.label == "Lesion area" for m in at.metric)


def test_wrong_size_mask_gets_a_message(isolated_dirs):
    at = app("pages/segment.py")
    at.file_uploader(key="uploads").set_value([
        ("a.png", png_bytes(synthetic_case(60, 80)[0]), "image/png"),
        ("a_mask.png", png_bytes(np.zeros((10, 10), np.uint8)), "image/png")]).run()
    assert not at.exception
    assert any("10×10" in w.value for w in at.warning)
    assert any(m.label == "Lesion area" for m in at.metric)


def test_sample_gallery_and_spacing(isolated_dirs):
    at = app("pages/segment.py")
    at.multiselect(key="samples").set_value(["benign (2).png", "malignant (20).png"]).run()
    at.number_input(key="mm_per_px").set_value(0.1).run()
    assert not at.exception
    assert at.selectbox(key="current").options == ["benign (2).png", "malignant (20).png"]
    assert next(m.value for m in at.metric if m.label == "Area").endswith("mm²")
    assert len(at.dataframe) == 1


def test_train_page_idle_then_audit(isolated_dirs):
    at = app("pages/train.py")
    assert not at.get("progress")
    at.text_area(key="data_path").input(SAMPLES).run()
    assert not at.exception
    assert any("near-duplicate groups" in c.value for c in at.code)
    assert at.button(key="start")
    at.text_area(key="data_path").input("/no/such/folder").run()
    assert any("not a folder" in e.value for e in at.error)


def _zip_of(folder):
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for dirpath, _, files in os.walk(folder):
            for f in files:
                full = os.path.join(dirpath, f)
                zf.write(full, os.path.relpath(full, os.path.dirname(folder)))
    return buf.getvalue()


def test_train_page_takes_a_zip_holding_busi_and_busbra_and_offers_dataset_weights(isolated_dirs, tmp_path):
    from tests.helpers import write_busbra_folder, write_busi_folder

    write_busi_folder(tmp_path / "mix" / "Dataset_BUSI_with_GT", n_per_class=3)
    write_busbra_folder(tmp_path / "mix" / "BUSBRA", patients=6)
    at = app("pages/train.py")
    at.radio(key="source").set_value("Upload a zip (BUSI, BUS-BRA or both)").run()
    at.file_uploader(key="data_zip").set_value(("mix.zip", _zip_of(str(tmp_path / "mix")), "application/zip")).run()
    assert not at.exception
    audit = next(c.value for c in at.code if "near-duplicate groups" in c.value)
    assert "busi: benign 3, malignant 3, normal 3" in audit and "busbra: benign 3, malignant 6" in audit
    # the split preview counts each dataset's classes; a weight input per dataset
    assert {"busbra/benign", "busi/normal"} <= set(at.dataframe[0].value.columns)
    assert at.number_input(key="weight_busi").value == 1.0 and at.number_input(key="weight_busbra").value == 1.0
    assert at.button(key="start")


def test_train_page_deletes_a_zip_extraction_once_replaced_or_abandoned(isolated_dirs, busi_folder):
    at = app("pages/train.py")
    at.radio(key="source").set_value("Upload a zip (BUSI, BUS-BRA or both)").run()
    data = _zip_of(busi_folder)
    at.file_uploader(key="data_zip").set_value(("a.zip", data, "application/zip")).run()
    assert not at.exception and any("near-duplicate groups" in c.value for c in at.code)
    first = next(iter(at.session_state["extracted"].values()))
    assert os.path.isdir(first)
    at.file_uploader(key="data_zip").set_value(("b.zip", data, "application/zip")).run()
    second = next(iter(at.session_state["extracted"].values()))
    assert second != first and os.path.isdir(second) and not os.path.exists(first)
    at.radio(key="source").set_value("Folders on the server").run()
    assert not os.path.exists(second) and not at.session_state["extracted"]


def test_train_page_running_then_done(isolated_dirs, busi_folder):
    from core.training import jobs
    from core.training.settings import TrainSettings

    run_dir = jobs.start_job(TrainSettings(data=busi_folder, epochs=1, image_size=32, base_filters=4, batch_size=4,
                                           name="pagetest"))
    at = app("pages/train.py")
    assert at.get("progress"), "running job not shown"
    assert any("One training job runs at a time" in i.value for i in at.info)
    end = time.time() + 240
    while jobs.current_job() and time.time() < end:
        time.sleep(1)
    assert jobs.run_info(run_dir).state == "done"
    at = app("pages/train.py")
    assert any("finished" in e.label for e in at.expander)
    key = f"activate_{os.path.basename(run_dir)}"
    at.button(key=key).click().run()
    from core.cards.registry import active_model_path
    assert active_model_path() == os.path.join(run_dir, "model.keras")


def test_evaluate_page_on_the_samples(isolated_dirs):
    at = app("pages/evaluate.py")
    at.text_area(key="data").input(SAMPLES).run()
    at.button(key="run").click().run()
    assert not at.exception
    labels = {m.label for m in at.metric}
    assert {"Mean Dice (lesions)", "False alarms (normal)", "Malignancy AUC"} <= labels
    assert len(at.get("plotly_chart")) == 3
    # each headline figure comes with its 95 % interval
    assert any(c.value.startswith("95 % intervals: mean Dice ") for c in at.caption)
    # and the lesions are broken down by size, in bands that hold every sample lesion once
    assert any(c.value.startswith("By lesion size") for c in at.caption)
    per_class, per_dataset, by_size = at.dataframe
    # the samples are all BUSI: one dataset row holding all twelve, with its Dice interval
    assert list(per_dataset.value["dataset"]) == ["busi"] and list(per_dataset.value["images"]) == [12]
    assert per_dataset.value["Dice 95 % interval"][0] != "—"
    lesions = sum(n for c, n in zip(per_class.value["class"], per_class.value["images"]) if c != "normal")
    assert list(by_size.value["lesions"]) and sum(by_size.value["lesions"]) == lesions


def test_evaluate_page_warns_when_the_model_trained_on_some_of_the_images(isolated_dirs):
    import json

    weights, _ = isolated_dirs
    # a manifest that puts two of the sample cases on the model's training side
    with open(weights / "default.split.json", "w") as fh:
        json.dump({"split": {"train": ["benign/benign (2)", "normal/normal (21)"], "val": [], "test": []}}, fh)
    at = app("pages/evaluate.py")
    at.text_area(key="data").input(SAMPLES).run()
    at.button(key="run").click().run()
    assert not at.exception
    assert any(w.value.startswith("2 of these 12 images were in default.keras's training or validation split")
               for w in at.warning)


def test_evaluate_page_compares_two_models_image_by_image(isolated_dirs):

    weights, _ = isolated_dirs
    copy_default_model(weights)
    at = app("pages/evaluate.py")
    at.text_area(key="data").input(SAMPLES).run()
    twin = next(o for o in at.selectbox(key="model_b").options if "twin" in o)
    at.selectbox(key="model_b").select(twin).run()
    at.button(key="run").click().run()
    assert not at.exception
    # the same weights on the same images: a paired difference of exactly zero, which cannot separate them
    text = " ".join(i.value for i in at.info)
    assert "twin.keras − default.keras: +0.000 (95 % interval +0.000 to +0.000" in text
    assert "cannot tell the two apart" in text


def test_evaluate_page_fits_the_gate_to_a_sites_images_as_a_new_version(isolated_dirs, tmp_path):
    from tests.helpers import write_busi_folder

    _, runs = isolated_dirs
    site = write_busi_folder(tmp_path / "site", n_per_class=20, size=(48, 56))  # 40 lesion images, 20 normals
    at = app("pages/evaluate.py")
    at.text_area(key="data").input(site).run()
    at.button(key="run").click().run()
    assert at.button(key="site_fit").disabled  # no site named yet
    at.text_input(key="site_name").input("St Elsewhere").run()
    at.button(key="site_fit").click().run()
    assert not at.exception and not at.error
    assert any(s.value.startswith("Wrote site-st-elsewhere-") for s in at.success)
    written = [d for d in os.listdir(runs) if d.startswith("site-")]
    assert len(written) == 1 and os.path.isfile(runs / written[0] / "model.keras")
    assert "fit_site_gate" in (runs / "audit.jsonl").read_text()


def test_evaluate_page_refuses_to_fit_the_gate_on_too_few_normal_scans(isolated_dirs):
    _, runs = isolated_dirs
    at = app("pages/evaluate.py")
    at.text_area(key="data").input(SAMPLES).run()
    at.button(key="run").click().run()
    at.text_input(key="site_name").input("Samples").run()
    at.button(key="site_fit").click().run()
    assert any(e.value.startswith("Nothing was written: found 10 lesion images with masks and 2 normal scans")
               for e in at.error)
    assert not os.path.isdir(runs) or not [d for d in os.listdir(runs) if d.startswith("site-")]


def test_dicom_upload_uses_its_pixel_spacing(isolated_dirs):
    from tests.core.data.test_imageio import _dicom_bytes

    at = app("pages/segment.py")
    at.file_uploader(key="uploads").set_value([("scan.dcm", _dicom_bytes(spacing=(0.1, 0.1)), "application/dicom")]).run()
    assert not at.exception and not at.error
    area = next(m.value for m in at.metric if m.label == "Area")
    px_area = int(next(m.value for m in at.metric if m.label == "Lesion area").split()[0].replace(",", ""))
    assert area == f"{px_area * 0.01:,.1f} mm²"
    # this one has no study, series or instance UIDs, so the page says why it offers no DICOM Segmentation
    assert any("No DICOM Segmentation: the DICOM has no StudyInstanceUID" in c.value for c in at.caption)


def test_an_ultrasound_dicom_keeps_its_bytes_for_the_segmentation_and_gives_mm2(isolated_dirs):
    from tests.helpers import us_dicom_bytes

    data = us_dicom_bytes(synthetic_case(60, 80, seed=6)[0], spacing=(0.2, 0.2))
    at = app("pages/segment.py")
    at.file_uploader(key="uploads").set_value([("us.dcm", data, "application/dicom")]).run()
    assert not at.exception and not at.error
    (a,) = at.session_state["analyses"].values()
    assert a.dicom == data  # in memory, for the SEG; never written to disk
    assert not any(c.value.startswith("No DICOM Segmentation") for c in at.caption)
    row = at.dataframe[0].value
    assert row["lesion_area_mm2"][0] == pytest.approx(row["lesion_area_px"][0] * 0.04, abs=0.01)


def _stroke(image_key, tool, points, width_px, scale=9.0):
    """The record the brush canvas's callback leaves in the inbox: points and width in canvas pixels."""
    return {"image": image_key, "tool": tool, "points": [[x * scale, y * scale] for x, y in points],
            "width": width_px * scale, "scale": (scale, scale)}


def _area(at):
    return int(next(m.value for m in at.metric if m.label == "Lesion area").split()[0].replace(",", ""))


def test_edits_are_kept_per_image_survive_the_threshold_undo_reset_and_reach_the_exports(isolated_dirs):
    from core.analysis import editing as ed
    from core.analysis import segment as an

    at = app("pages/segment.py")
    g1, g2 = synthetic_case(60, 80, seed=1)[0], synthetic_case(60, 80, seed=2)[0]
    at.file_uploader(key="uploads").set_value([("a.png", png_bytes(g1), "image/png"),
                                               ("b.png", png_bytes(g2), "image/png")]).run()
    at.toggle(key="editing").set_value(True).run()
    assert not at.exception
    (a,) = [x for x in at.session_state["analyses"].values() if x.name == "a.png"]
    # the stroke as drawn, in image pixels: the canvas's 720 px over 80 give 9 canvas px per image px
    stroke = ed.stroke_mask((60, 80), np.array([[5, 5], [35, 5]]), 5)
    at.session_state["edit_inbox"] = [_stroke("a.png|80x60", "add", [(5, 5), (35, 5)], 5)]
    at.run()
    for t in (0.95, 0.5, 0.05, 0.95):  # the threshold moves the model's mask only: the stroke stays marked
        at.slider(key="threshold").set_value(t).run()
        model = an.view_at(a, t).mask
        assert _area(at) == int((model | stroke).sum())
        # 'edited' in the table (and so in every export) says whether the edits change the mask at this threshold
        assert list(at.dataframe[0].value["edited"]) == [bool((stroke & ~model).any()), False]
    edited = _area(at)
    base = int(an.view_at(a, 0.95).mask.sum())
    assert edited > base
    # the other image has its own edits: a stroke there leaves a.png alone
    at.selectbox(key="current").set_value("b.png").run()
    at.session_state["edit_inbox"] = [_stroke("b.png|80x60", "add", [(0, 59), (79, 59)], 3)]
    at.run()
    at.selectbox(key="current").set_value("a.png").run()
    assert _area(at) == edited and list(at.dataframe[0].value["edited"]) == [True, True]
    # an eraser stroke over half the added line, then undo, then reset to the model's mask
    at.session_state["edit_inbox"] = [_stroke("a.png|80x60", "remove", [(5, 5), (20, 5)], 7)]
    at.run()
    assert _area(at) < edited
    at.button(key="edit_undo").click().run()
    assert _area(at) == edited
    at.button(key="edit_reset").click().run()
    assert _area(at) == base and list(at.dataframe[0].value["edited"]) == [False, True]
    assert not at.exception


def test_a_click_proposes_a_missed_lesion_that_can_be_kept_or_discarded(isolated_dirs):
    at = app("pages/segment.py")
    gray, lesion = synthetic_case(60, 80, seed=3, centre=(30, 40), axes=(10, 14))
    at.file_uploader(key="uploads").set_value([("c.png", png_bytes(gray), "image/png")]).run()
    at.toggle(key="editing").set_value(True).run()
    at.slider(key="threshold").set_value(0.95).run()
    base = _area(at)
    click = _stroke("c.png|80x60", "recover", [(40, 30)], 1)
    at.session_state["edit_inbox"] = [click]
    at.run()
    assert any("Proposed region" in i.value for i in at.info)
    at.button(key="proposal_discard").click().run()
    assert _area(at) == base and not any("Proposed region" in i.value for i in at.info)
    at.session_state["edit_inbox"] = [click]
    at.run()
    at.button(key="proposal_keep").click().run()
    grown = _area(at)
    assert grown - base > 0.5 * lesion.sum(), (base, grown, lesion.sum())
    assert list(at.dataframe[0].value["edited"]) == [True] and not at.exception


def test_a_cine_loop_gets_a_frame_slider_at_its_largest_lesion_and_the_readout_follows_the_frame(isolated_dirs):
    from core.analysis import segment as an
    from core.inference.cine import largest_frame
    from tests.helpers import us_example_bytes

    at = app("pages/segment.py")
    at.file_uploader(key="uploads").set_value(
        [("loop.dcm", us_example_bytes("examples_ybr_color.dcm"), "application/dicom")]).run()
    assert not at.exception and not at.error
    (a,) = at.session_state["analyses"].values()
    assert a.frame_count == 30 and a.cine.probability.dtype == np.uint8
    threshold = at.slider(key="threshold").value
    areas = an.frame_areas(a, threshold)
    best = largest_frame(areas)
    slider = at.slider(key="frame|loop.dcm")
    assert slider.value == best + 1 and slider.max == 30
    assert any(f"frame {best + 1}" in c.value for c in at.caption)
    assert _area(at) == areas[best]
    other = (best + 10) % 30
    slider.set_value(other + 1).run()
    assert not at.exception
    assert _area(at) == areas[other]
    assert at.dataframe[0].value["frame"][0] == other + 1
    assert at.session_state["inference_count"] == 1  # moving through the loop never re-runs the network


def test_the_uploaders_state_the_servers_upload_limit_from_its_config(isolated_dirs):
    import tomllib

    with open(os.path.join(ROOT, ".streamlit", "config.toml"), "rb") as fh:
        limit = tomllib.load(fh)["server"]["maxUploadSize"]
    assert limit == 1024  # a deliberate size, not Streamlit's default of 200: change both together
    at = app("pages/segment.py")
    assert at.file_uploader(key="uploads").help.startswith(f"Up to {limit} MB a file (the server's maxUploadSize)")
    at = app("pages/train.py")
    at.radio(key="source").set_value("Upload a zip (BUSI, BUS-BRA or both)").run()
    assert at.file_uploader(key="data_zip").help.startswith(f"Up to {limit} MB (the server's maxUploadSize)")


def test_a_box_on_the_canvas_brings_litemedsams_mask_undoably(isolated_dirs):
    from core.inference.boxprompt import BoxSegmenter

    at = app("pages/segment.py")
    gray, _ = synthetic_case(60, 80, seed=5, centre=(30, 40), axes=(10, 14))
    at.file_uploader(key="uploads").set_value([("d.png", png_bytes(gray), "image/png")]).run()
    at.toggle(key="editing").set_value(True).run()
    at.radio(key="edit_tool").set_value("Box (LiteMedSAM)").run()
    assert not at.exception and any("LiteMedSAM outlines it" in c.value for c in at.caption)
    base = _area(at)
    box = _stroke("d.png|80x60", "box", [(24, 18), (56, 42)], 1)  # the drag's two corners, in canvas pixels
    at.session_state["edit_inbox"] = [box]
    at.run()
    expected = BoxSegmenter().segment(gray, (24, 18, 56, 42)).mask
    assert expected.any() and _area(at) == int(expected.sum())
    e = at.session_state["edits"]["d.png|80x60"]
    assert e.prompts == 1 and list(at.dataframe[0].value["edited"]) == [True]
    at.button(key="edit_undo").click().run()
    assert _area(at) == base and at.session_state["edits"]["d.png|80x60"].prompts == 0
    # a box outside the image says so, and changes nothing
    at.session_state["edit_inbox"] = [_stroke("d.png|80x60", "box", [(90, 70), (120, 90)], 1)]
    at.run()
    assert _area(at) == base and any("outside" in w.value for w in at.warning) and not at.exception
