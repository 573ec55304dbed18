"""core.split: deterministic, stratified, near-duplicate groups whole."""
import pytest

from core.data.split import check_no_group_leak, make_split


def _data():
    keys, labels, groups = [], [], []
    for i in range(60):
        label = ["benign", "malignant", "normal"][i % 3]
        keys.append(f"{label}/{label} ({i})")
        labels.append(label)
        groups.append(i // 3 * 3 + (i % 3) if i % 5 else 1000 + i // 10)  # some multi-image groups
    return keys, labels, groups


def test_split_is_deterministic_and_complete():
    keys, labels, groups = _data()
    a = make_split(keys, labels, groups, seed=3)
    b = make_split(list(reversed(keys)), list(reversed(labels)), list(reversed(groups)), seed=3)
    assert a == b
    assert sorted(a["train"] + a["val"] + a["test"]) == sorted(keys)
    assert make_split(keys, labels, groups, seed=4) != a


def test_groups_stay_on_one_side_and_classes_are_spread():
    keys, labels, groups = _data()
    split = make_split(keys, labels, groups, seed=0)
    check_no_group_leak(split, dict(zip(keys, groups)))
    for side in ("val", "test"):
        assert {k.split("/")[0] for k in split[side]} == {"benign", "malignant", "normal"}


def test_leak_is_detected():
    with pytest.raises(AssertionError, match="both"):
        check_no_group_leak({"train": ["a"], "test": ["b"]}, {"a": 1, "b": 1})
