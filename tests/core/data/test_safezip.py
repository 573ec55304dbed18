"""core.data.safezip: malicious archives write nothing outside their folder."""
import io
import os
import stat
import zipfile

import pytest

from core.data.safezip import UnsafeZipError, extract_zip, extraction_root, remove_extraction, remove_stale_extractions


def _zip(entries):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data, attr in entries:
            info = zipfile.ZipInfo(name)
            if attr:
                info.external_attr = attr << 16
            zf.writestr(info, data)
    buf.seek(0)
    return buf


@pytest.mark.parametrize("name", ["../evil.png", "a/../../evil.png", "/tmp/evil.png", "C:/evil.png"])
def test_escaping_paths_are_refused_and_nothing_is_written(tmp_path, name):
    dest = tmp_path / "dest"
    dest.mkdir()
    with pytest.raises(UnsafeZipError, match="outside"):
        extract_zip(_zip([("ok/a.png", b"1", 0), (name, b"x", 0)]), str(dest))
    assert not (tmp_path / "evil.png").exists()
    assert not os.path.exists("/tmp/evil.png") or os.path.getsize("/tmp/evil.png") != 1
    assert list(dest.iterdir()) == []  # vetted before anything was written


def test_links_are_refused(tmp_path):
    with pytest.raises(UnsafeZipError, match="link"):
        extract_zip(_zip([("link", b"/etc/passwd", stat.S_IFLNK | 0o777)]), str(tmp_path))


def test_caps_on_count_and_size(tmp_path):
    with pytest.raises(UnsafeZipError, match="entries"):
        extract_zip(_zip([(f"{i}.png", b"x", 0) for i in range(5)]), str(tmp_path), max_files=4)
    with pytest.raises(UnsafeZipError, match="GB"):
        extract_zip(_zip([("big.png", b"x" * 1000, 0)]), str(tmp_path), max_bytes=100)


def test_a_good_zip_extracts_into_a_temp_folder():
    out = extract_zip(_zip([("Dataset_BUSI_with_GT/benign/a.png", b"abc", 0)]))
    try:
        assert os.path.basename(out).startswith("busi_upload_")
        with open(os.path.join(out, "Dataset_BUSI_with_GT", "benign", "a.png"), "rb") as fh:
            assert fh.read() == b"abc"
    finally:
        import shutil
        shutil.rmtree(out)


def test_not_a_zip(tmp_path):
    with pytest.raises(UnsafeZipError, match="not a readable zip"):
        extract_zip(io.BytesIO(b"nope"), str(tmp_path))


def test_remove_extraction_deletes_only_our_temporary_folders(tmp_path):
    made = extract_zip(_zip([("Dataset_BUSI_with_GT/benign/a.png", b"1", 0)]))
    inner = os.path.join(made, "Dataset_BUSI_with_GT")
    assert extraction_root(inner) == made
    # a folder outside the temp dir, or without our prefix, is never touched
    other = tmp_path / "Dataset_BUSI_with_GT"
    other.mkdir()
    assert extraction_root(str(other)) is None and remove_extraction(str(other)) is None
    assert other.is_dir()
    assert remove_extraction(inner) == made and not os.path.exists(made)


def test_stale_extractions_are_swept_fresh_ones_kept():
    old = extract_zip(_zip([("a.png", b"1", 0)]))
    fresh = extract_zip(_zip([("b.png", b"1", 0)]))
    long_ago = os.path.getmtime(old) - 13 * 3600
    os.utime(old, (long_ago, long_ago))
    try:
        removed = remove_stale_extractions()
        assert old in removed and not os.path.exists(old)
        assert os.path.isdir(fresh)
    finally:
        remove_extraction(fresh)
