"""core.data and core.audit: pairing by name, merged masks, skipped files, duplicates and conflicts."""
import os
import shutil

import numpy as np
import pytest
from PIL import Image

from core.data.dataset_audit import audit_dataset, group_by_distance, hash_distances
from core.data.layouts import DatasetError, find_busi_root, load_case, scan_busi


def test_pairs_by_name_and_merges_every_mask(busi_folder):
    ds = scan_busi(busi_folder)
    assert ds.counts() == {"benign": 4, "malignant": 4, "normal": 4}
    case = next(c for c in ds.cases if c.key == "benign/benign (1)")
    assert [os.path.basename(p) for p in case.mask_paths] == ["benign (1)_mask.png", "benign (1)_mask_1.png"]
    lc = load_case(case)
    assert lc.mask[2:8, 2:8].all()  # the region only the _mask_1 file marks
    normal = load_case(next(c for c in ds.cases if c.label == "normal"))
    assert not normal.mask.any()


def test_finds_the_dataset_one_level_up_or_down(busi_folder, tmp_path):
    assert find_busi_root(os.path.dirname(busi_folder)) == busi_folder
    assert find_busi_root(os.path.join(busi_folder, "benign")) == busi_folder


def test_not_busi_shaped_is_a_clear_error(tmp_path):
    (tmp_path / "photos").mkdir()
    with pytest.raises(DatasetError, match="does not look like BUSI"):
        scan_busi(str(tmp_path))


def test_missing_mask_extra_mask_and_junk_are_skipped_and_named(busi_folder):
    os.remove(os.path.join(busi_folder, "malignant", "malignant (2)_mask.png"))
    shutil.copy(os.path.join(busi_folder, "normal", "normal (1)_mask.png"),
                os.path.join(busi_folder, "normal", "orphan_mask.png"))
    with open(os.path.join(busi_folder, "benign", "notes.txt"), "w") as fh:
        fh.write("x")
    with open(os.path.join(busi_folder, "benign", "benign (3).png"), "wb") as fh:
        fh.write(b"corrupt")
    report = audit_dataset(busi_folder)
    assert report.counts == {"benign": 3, "malignant": 3, "normal": 4}
    assert report.missing_masks == ["malignant/malignant (2).png"]
    assert report.extra_masks == ["normal/orphan_mask.png"]
    assert any("benign (3)" in u for u in report.unreadable)
    assert any("notes.txt" in p for p in report.problems)
    assert report.multi_mask_cases == ["benign/benign (1)"]


def test_same_image_under_two_classes_is_a_conflict_and_a_group(busi_folder):
    src = os.path.join(busi_folder, "benign", "benign (2)")
    dst = os.path.join(busi_folder, "malignant", "malignant (9)")
    shutil.copy(src + ".png", dst + ".png")
    shutil.copy(src + "_mask.png", dst + "_mask.png")
    report = audit_dataset(busi_folder)
    assert report.label_conflicts == [["benign/benign (2)", "malignant/malignant (9)"]]
    assert ["benign/benign (2)", "malignant/malignant (9)"] in report.near_duplicate_groups


def test_colour_annotations_are_listed(busi_folder):
    p = os.path.join(busi_folder, "benign", "benign (4).png")
    rgb = np.array(Image.open(p).convert("RGB"))
    rgb[10:14, 10:30] = (255, 255, 0)
    Image.fromarray(rgb).save(p)
    assert "benign/benign (4)" in audit_dataset(busi_folder).colour_annotated


def test_hamming_distances_and_grouping_by_hand():
    h = np.array([[1, 1, 0, 0], [1, 1, 0, 1], [0, 0, 1, 1]], bool)
    d = hash_distances(h)
    assert d.tolist() == [[0, 1, 4], [1, 0, 3], [4, 3, 0]]
    g = group_by_distance(d, 1)
    assert g[0] == g[1] != g[2]
