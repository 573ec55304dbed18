"""core.predict --engine ray: the same masks and rows as the plain engine, on Ray Data workers.

Needs Ray (requirements-scale.txt): skipped without it, failed without it in CI.
"""
import csv
import os
import shutil
import sys

import numpy as np
import pytest
from PIL import Image

from core.batch.engine import CSV_FIELDS, TIMING_FIELDS
from core.predict import main
from tests.helpers import ROOT, SAMPLES

WEIGHTS = os.path.join(ROOT, "weights", "default.keras")


def read_rows(out):
    with open(os.path.join(out, "predictions.csv"), newline="") as fh:
        reader = csv.DictReader(fh)
        assert reader.fieldnames == CSV_FIELDS
        return list(reader)


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """The shipped samples, plus a folder holding a copy of one (a stem clash) and a corrupt file."""
    extra = tmp_path_factory.mktemp("extra")
    shutil.copy(os.path.join(SAMPLES, "benign", "benign (2).png"), extra / "benign (2).png")
    (extra / "broken.png").write_bytes(b"\x89PNG not really")
    return [SAMPLES, str(extra)]


def test_ray_engine_gives_the_plain_engines_masks_and_rows(local_ray, inputs, tmp_path):
    plain, on_ray = str(tmp_path / "plain"), str(tmp_path / "ray")
    assert main([*inputs, "--out", plain, "--weights", WEIGHTS]) == 0
    assert main([*inputs, "--out", on_ray, "--weights", WEIGHTS, "--engine", "ray", "--workers", "2"]) == 0
    a, b = read_rows(plain), read_rows(on_ray)
    assert [r["file"] for r in b] == [r["file"] for r in a]  # the inputs' order
    for ra, rb in zip(a, b):
        assert {k: v for k, v in ra.items() if k not in TIMING_FIELDS} == \
               {k: v for k, v in rb.items() if k not in TIMING_FIELDS}
    # the corrupt file is an error row in both, and the run went on
    broken = [r for r in b if r["file"].endswith("broken.png")]
    assert len(broken) == 1 and "broken.png" in broken[0]["error"]
    assert sum(1 for r in b if r["error"]) == 1
    masks = sorted(os.listdir(plain))
    assert masks == sorted(os.listdir(on_ray))
    assert "benign (2)_2_pred.png" in masks and "broken_pred.png" not in masks  # the clash got a suffix
    assert len([m for m in masks if m.endswith("_pred.png")]) == 13
    for name in masks:
        if name.endswith("_pred.png"):
            pa, pb = np.array(Image.open(os.path.join(plain, name))), np.array(Image.open(os.path.join(on_ray, name)))
            assert pa.dtype == pb.dtype == np.uint8 and np.array_equal(pa, pb), name
    assert any(int(r["lesion_area_px"]) > 0 for r in b if not r["error"])  # not trivially empty masks


def test_ray_options_belong_to_the_ray_engine(tmp_path, capsys):
    with pytest.raises(SystemExit):
        main([SAMPLES, "--out", str(tmp_path), "--workers", "3"])
    assert "--engine ray only" in capsys.readouterr().err


def test_without_ray_the_ray_engine_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now raises ImportError
    assert main([SAMPLES, "--out", str(tmp_path), "--weights", WEIGHTS, "--engine", "ray"]) == 2
    assert "pip install -r requirements-scale.txt" in capsys.readouterr().err


def test_the_plain_engine_never_imports_ray():
    import subprocess

    code = "import sys, core.predict, core.batch.engine; print('ray' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_paths_are_cut_into_about_one_batch_per_piece_with_a_cap():
    from core.batch.ray_engine import BATCH_SIZE, block_count

    assert block_count(1, 2) == 1
    assert block_count(BATCH_SIZE * 5, 2) == 5
    assert block_count(1_000_000, 4) == 64  # 16 per worker: a piece costs Ray a task


def test_mask_writer_writes_every_mask_and_a_failed_write_fails_the_run(tmp_path):
    from core.batch.ray_engine import MaskWriter

    with MaskWriter(str(tmp_path)) as writer:
        for i in range(50):
            writer.write(f"m{i}", b"png")
    assert sorted(os.listdir(tmp_path)) == sorted(f"m{i}_pred.png" for i in range(50))
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("")
    with pytest.raises(OSError):
        with MaskWriter(str(blocked)) as writer:
            writer.write("x", b"png")
