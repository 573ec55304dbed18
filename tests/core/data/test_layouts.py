"""core.data.layouts: BUS-BRA's published layout beside BUSI's, layout detection, and several folders at once."""
import os

import pytest

from core.data.dataset_audit import group_cases
from core.data.layouts import DatasetError, dataset_roots, detect_layout, load_cases, scan_busbra, scan_datasets
from core.data.split import check_no_group_leak, extend_split, make_split, stratum
from tests.helpers import write_busbra_folder, write_busi_folder


def test_busbra_cases_carry_patient_class_and_metadata(busbra_folder):
    ds = scan_busbra(busbra_folder)
    # 6 patients: 3 with one image (odd), 3 with two (even) -> 9 images
    assert len(ds.cases) == 9 and ds.layout == "busbra" and not ds.problems
    case = next(c for c in ds.cases if c.key == "busbra/bus_0002-l")
    assert (case.label, case.dataset, case.patient) == ("malignant", "busbra", "busbra:2")
    assert case.meta == {"device": "GE Logiq 7", "birads": "5", "histology": "fibroadenoma", "side": "left"}
    assert case.device == "GE Logiq 7" and case.mask_paths[0].endswith("mask_0002-l.png")
    assert ds.counts() == {"benign": 3, "malignant": 6, "normal": 0}


def test_busbra_reports_missing_masks_and_unlisted_images(busbra_folder):
    os.remove(os.path.join(busbra_folder, "Masks", "mask_0001-s.png"))
    open(os.path.join(busbra_folder, "Images", "bus_9999-s.png"), "wb").write(b"")
    ds = scan_busbra(busbra_folder)
    assert len(ds.cases) == 8
    assert any("busbra/bus_0001-s: no mask" in p for p in ds.problems)
    assert any("bus_9999-s.png: not listed in bus_data.csv" in p for p in ds.problems)


def test_layouts_are_detected_and_a_mixed_folder_gives_both(tmp_path):
    busi = write_busi_folder(tmp_path / "mix" / "Dataset_BUSI_with_GT", n_per_class=2)
    busbra = write_busbra_folder(tmp_path / "mix" / "BUSBRA", patients=2)
    assert detect_layout(busi) == "busi" and detect_layout(busbra) == "busbra"
    assert dataset_roots(str(tmp_path / "mix")) == [(busbra, "busbra"), (busi, "busi")]
    both = scan_datasets([str(tmp_path / "mix")])
    assert both.counts_by_dataset() == {"busbra": {"benign": 1, "malignant": 2, "normal": 0},
                                        "busi": {"benign": 2, "malignant": 2, "normal": 2}}
    # one BUSI class folder given: its parent is the dataset
    assert dataset_roots(os.path.join(busi, "benign")) == [(busi, "busi")]


def test_an_unknown_layout_names_the_layouts_understood(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "a.png").write_bytes(b"x")
    with pytest.raises(DatasetError, match="Understood layouts: BUSI .*; BUS-BRA"):
        scan_datasets([str(tmp_path / "photos")])
    with pytest.raises(DatasetError, match="not a folder"):
        scan_datasets([str(tmp_path / "nowhere")])


def test_a_patients_images_are_one_group_and_splits_keep_them_whole(busbra_folder):
    loaded = load_cases(scan_busbra(busbra_folder).cases)
    grouping = group_cases(loaded)
    g = grouping.group_of
    assert g["busbra/bus_0002-l"] == g["busbra/bus_0002-r"] and g["busbra/bus_0004-l"] == g["busbra/bus_0004-r"]
    keys = [lc.case.key for lc in loaded]
    split = make_split(keys, [stratum(lc.case) for lc in loaded], [g[k] for k in keys], seed=0,
                       val_fraction=0.2, test_fraction=0.2)
    check_no_group_leak(split, g)
    assert sorted(sum(split.values(), [])) == sorted(keys)


def test_extend_split_keeps_the_old_sides_and_splits_the_new_images(tmp_path):
    keys = ["benign/a", "benign/b", "benign/c", "busbra/x", "busbra/y", "busbra/z", "busbra/w"]
    strata = ["busi/benign"] * 3 + ["busbra/benign"] * 4
    groups = [0, 1, 2, 3, 3, 4, 1]  # busbra/w is a near-duplicate of benign/b, so it follows b to test
    fixed = {"train": ["benign/a"], "val": ["benign/c"], "test": ["benign/b"]}
    split = extend_split(fixed, keys, strata, groups, seed=0, val_fraction=0.25, test_fraction=0.25)
    assert "benign/a" in split["train"] and "benign/c" in split["val"] and {"benign/b", "busbra/w"} <= set(split["test"])
    side = {k: s for s, v in split.items() for k in v}
    assert side["busbra/x"] == side["busbra/y"]  # one group, one side
    check_no_group_leak(split, dict(zip(keys, groups)))
