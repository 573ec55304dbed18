"""bench/subset_split.py: nested, group-whole training subsets for the learning curve, on hand-made keys."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

from bench.subset_split import nested_subsets  # noqa: E402

# 8 benign images in 6 groups (b1+b2 and b3+b4 are near-duplicate pairs), 4 malignant in 4 groups
LABEL = {**{f"b{i}": "benign" for i in range(1, 9)}, **{f"m{i}": "malignant" for i in range(1, 5)}}
GROUP = {"b1": 0, "b2": 0, "b3": 1, "b4": 1, "b5": 2, "b6": 3, "b7": 4, "b8": 5,
         "m1": 6, "m2": 7, "m3": 8, "m4": 9}


def test_subsets_are_nested_group_whole_and_keep_class_shares():
    subsets = nested_subsets(sorted(LABEL), LABEL, GROUP, [0.25, 0.5, 1.0], seed=0)
    assert subsets[1.0] == sorted(LABEL)
    assert set(subsets[0.25]) <= set(subsets[0.5]) <= set(subsets[1.0])
    for keys in subsets.values():
        chosen = set(keys)
        for pair in (("b1", "b2"), ("b3", "b4")):
            assert (pair[0] in chosen) == (pair[1] in chosen), "a near-duplicate pair was split"
    half = subsets[0.5]
    # half of 4 malignant groups of one image each is exactly 2; benign reaches 4 images or just over
    assert sum(LABEL[k] == "malignant" for k in half) == 2
    assert 4 <= sum(LABEL[k] == "benign" for k in half) <= 5
    assert sum(LABEL[k] == "malignant" for k in subsets[0.25]) == 1


def test_the_same_seed_gives_the_same_subset_and_another_seed_may_not():
    a = nested_subsets(sorted(LABEL), LABEL, GROUP, [0.5], seed=0)[0.5]
    assert a == nested_subsets(sorted(LABEL, reverse=True), LABEL, GROUP, [0.5], seed=0)[0.5]
    others = {tuple(nested_subsets(sorted(LABEL), LABEL, GROUP, [0.5], seed=s)[0.5]) for s in range(1, 6)}
    assert len(others | {tuple(a)}) > 1
