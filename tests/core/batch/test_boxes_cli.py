"""core.batch.boxes and ``python -m core.predict --boxes / --refine``: the boxes file, its errors, and LiteMedSAM's
mask in the outputs."""
import csv
import os

import numpy as np
import pytest
from PIL import Image

from core.batch.boxes import BoxesFileError, boxes_for_inputs, read_boxes
from core.predict import main
from tests.helpers import synthetic_case


def _csv(tmp_path, text, name="boxes.csv"):
    p = tmp_path / name
    p.write_text(text)
    return str(p)


def test_read_boxes_groups_rows_per_file(tmp_path):
    p = _csv(tmp_path, "file,x0,y0,x1,y1,comment\na.png,1,2,30,40,x\nsub/b.png, 5 ,6,7.5,8,\na.png,50,50,60,60,\n")
    assert read_boxes(p) == {"a.png": [(1, 2, 30, 40), (50, 50, 60, 60)], "sub/b.png": [(5, 6, 7.5, 8)]}


@pytest.mark.parametrize("text, words", [
    ("file,x0,y0,x1\na.png,1,2,3\n", "missing y1"),
    ("file,x0,y0,x1,y1\na.png,1,2,three,4\n", "line 2: x0, y0, x1, y1 must be numbers"),
    ("file,x0,y0,x1,y1\n,1,2,3,4\n", "line 2: the file column is empty"),
    ("file,x0,y0,x1,y1\na.png,1,2,1,4\n", "no width or height"),
    ("file,x0,y0,x1,y1\na.png,1,2,inf,4\n", "not finite"),
    ("file,x0,y0,x1,y1\n", "no boxes"),
])
def test_bad_boxes_files_say_what_is_wrong(tmp_path, text, words):
    with pytest.raises(BoxesFileError, match=words):
        read_boxes(_csv(tmp_path, text))
    with pytest.raises(BoxesFileError, match="cannot be read"):
        read_boxes(str(tmp_path / "nope.csv"))


def test_boxes_match_inputs_by_path_or_unique_name():
    boxes = {"in/a.png": [(1, 1, 5, 5)], "b.png": [(2, 2, 6, 6)], "zzz.png": [(0, 0, 1, 1)]}
    got, notes = boxes_for_inputs(boxes, ["in/a.png", "other/b.png"])
    assert got == [[(1, 1, 5, 5)], [(2, 2, 6, 6)]] and notes == ["boxes for zzz.png ignored: not among the inputs"]
    with pytest.raises(BoxesFileError, match="1 input file\\(s\\) have no box.*c.png"):
        boxes_for_inputs(boxes, ["in/a.png", "c.png"])
    with pytest.raises(BoxesFileError, match="several inputs are named b.png"):
        boxes_for_inputs(boxes, ["x/b.png", "y/b.png"])


def test_predict_with_boxes_writes_litemedsams_mask_and_reports_a_box_outside(tmp_path, tiny_model_path, capsys):
    from core.inference.boxprompt import BoxSegmenter

    src = tmp_path / "in"
    src.mkdir()
    g1, _ = synthetic_case(60, 80, seed=1, centre=(30, 40), axes=(10, 14))
    g2, _ = synthetic_case(60, 80, seed=2)
    Image.fromarray(g1).save(src / "a.png")
    Image.fromarray(g2).save(src / "b.png")
    boxes = _csv(tmp_path, "file,x0,y0,x1,y1\na.png,24,18,56,42\nb.png,100,70,120,90\n")
    out = tmp_path / "out"
    rc = main([str(src / "a.png"), str(src / "b.png"), "--out", str(out), "--weights", tiny_model_path,
               "--boxes", boxes])
    assert rc == 0
    with open(out / "predictions.csv") as fh:
        rows = {os.path.basename(r["file"]): r for r in csv.DictReader(fh)}
    expected = BoxSegmenter().segment(g1, (24, 18, 56, 42)).mask
    pred = np.array(Image.open(out / "a_pred.png")) == 255
    assert expected.any() and (pred == expected).all()
    assert rows["a.png"]["mask_from"] == "box" and int(rows["a.png"]["lesion_area_px"]) == int(expected.sum())
    assert "outside the 80×60 image" in rows["b.png"]["error"] and not (out / "b_pred.png").exists()
    # an input with no row: nothing is segmented, and the message names it
    rc = main([str(src / "a.png"), str(src / "b.png"), "--out", str(tmp_path / "o2"), "--weights", tiny_model_path,
               "--boxes", _csv(tmp_path, "file,x0,y0,x1,y1\na.png,24,18,56,42\n", "one.csv")])
    assert rc == 2 and "have no box in the boxes file" in capsys.readouterr().err
    assert not (tmp_path / "o2").exists()


def test_refine_is_an_option_and_redraws_the_unets_lesions(tmp_path, tiny_model_path):
    src = tmp_path / "in"
    src.mkdir()
    Image.fromarray(synthetic_case(60, 80, seed=1)[0]).save(src / "a.png")
    plain, refined = tmp_path / "plain", tmp_path / "refined"
    assert main([str(src), "--out", str(plain), "--weights", tiny_model_path, "--threshold", "0.3"]) == 0
    assert main([str(src), "--out", str(refined), "--weights", tiny_model_path, "--threshold", "0.3",
                 "--refine"]) == 0
    with open(plain / "predictions.csv") as fh:
        unet = next(csv.DictReader(fh))
    assert unet["mask_from"] == "unet"  # the default is the U-Net alone
    with open(refined / "predictions.csv") as fh:
        row = next(csv.DictReader(fh))
    assert row["mask_from"] == "refine" and row["edited"] == "False" and row["error"] == ""
    # the untrained model marks a region; LiteMedSAM redraws it from that region's box
    assert int(unet["lesion_area_px"]) > 0 and row["lesion_area_px"] != unet["lesion_area_px"]
    with pytest.raises(SystemExit):
        main([str(src), "--out", str(refined), "--refine-largest"])
