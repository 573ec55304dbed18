"""core.files: atomic writes replace whole files and leave readable modes."""
import os
import stat

from core.files import read_json, write_json_atomic, write_text_atomic


def test_a_new_file_is_readable_by_others(tmp_path):
    p = tmp_path / "card.md"
    write_text_atomic(str(p), "hello")
    assert p.read_text() == "hello"
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o644
    assert [f.name for f in tmp_path.iterdir()] == ["card.md"]  # no temporary file left behind


def test_an_existing_files_mode_is_kept(tmp_path):
    p = tmp_path / "status.json"
    p.write_text("{}")
    os.chmod(p, 0o600)
    write_json_atomic(str(p), {"epoch": 3})
    assert read_json(str(p)) == {"epoch": 3}
    assert stat.S_IMODE(os.stat(p).st_mode) == 0o600


def test_read_json_falls_back_on_a_broken_file(tmp_path):
    p = tmp_path / "broken.json"
    p.write_text("{not json")
    assert read_json(str(p), {"x": 1}) == {"x": 1}
    assert read_json(str(tmp_path / "missing.json")) is None
