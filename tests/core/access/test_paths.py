"""core.access.paths: folders inside the data roots only, whatever the `..` or symlinks."""
import os

from core.access.paths import SHIPPED_SAMPLES, inside, refusal, refusals


def tree(tmp_path):
    root = tmp_path / "data"
    (root / "busi" / "benign").mkdir(parents=True)
    (tmp_path / "secret").mkdir()
    os.symlink(tmp_path / "secret", root / "escape")          # a symlink inside the root that leads out
    os.symlink(root / "busi", tmp_path / "shortcut")          # a symlink outside that leads in
    (tmp_path / "data2").mkdir()                              # a sibling whose name starts like the root
    return str(root), tmp_path


def test_inside(tmp_path):
    root, t = tree(tmp_path)
    assert inside(root, root)                                 # the root itself
    assert inside(f"{root}/busi/benign", root)
    assert inside(f"{root}/busi/../busi", root)
    assert not inside(f"{root}/busi/../../secret", root)      # `..` out of the root
    assert not inside(f"{root}/escape", root)                 # a symlink out of the root
    # the symlink is followed before `..` applies: escape/.. is the secret folder's parent, and /data is the root
    assert inside(f"{root}/escape/../data", root) and not inside(f"{root}/escape/../secret", root)
    assert inside(str(t / "shortcut"), root)                  # resolves into the root: the same files
    assert not inside(str(t / "data2"), root)                 # a prefix of the name is not a parent
    assert not inside("/", root)


def test_refusal_policy(tmp_path):
    root, t = tree(tmp_path)
    outside = str(t / "secret")
    # local, no roots: anything goes, as before
    assert refusal(outside, None, sign_in=False) is None
    # sign-in, no roots: nothing on the server but the shipped samples
    assert "data_roots" in refusal(outside, None, sign_in=True)
    assert "data_roots" in refusal(root, (), sign_in=True)
    assert refusal(os.path.join(SHIPPED_SAMPLES, "busi"), None, sign_in=True) is None
    # roots set: enforced with or without sign-in
    for sign_in in (False, True):
        assert refusal(root, [root], sign_in) is None
        assert "outside the data folders" in refusal(outside, [root], sign_in)
        assert "outside the data folders" in refusal(f"{root}/escape", [root], sign_in)
        assert "outside the data folders" in refusal(f"{root}/../secret", [root], sign_in)
    assert "full path" in refusal("data/busi", [root], True)  # relative: would depend on the server's folder


def test_refusals_lists_each_refused_path_in_order(tmp_path):
    root, t = tree(tmp_path)
    out = refusals([f"{root}/busi", "/etc", f"{root}/escape"], [root], True)
    assert len(out) == 2 and out[0].startswith("/etc") and out[1].startswith(f"{root}/escape")
