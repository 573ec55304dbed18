"""Batch prediction: segment many images from the command line.

    python -m core.predict INPUT... --out DIR [--weights PATH] [--threshold T] [--pixel-spacing MM]

INPUT is image files or folders (walked recursively; files with ``_mask`` in
their name are skipped). For each image it writes ``DIR/<stem>_pred.png``
(uint8 0/255, the input's width and height) and a row in
``DIR/predictions.csv``. A bad file gets a row with ``error`` filled in and
the others carry on.
"""
from __future__ import annotations

import argparse
import csv
import os
import sys

from core import runtime  # noqa: F401
from core.imageio import IMAGE_EXTENSIONS, ImageReadError, encode_png, read_image_file
from core.inference import ModelLoadError, Predictor, mask_at
from core.measure import measure
from core.registry import active_model_path

CSV_FIELDS = ["file", "width", "height", "lesion_area_px", "lesion_area_mm2", "lesion_count",
              "longest_diameter_px", "malignancy_probability", "threshold", "inference_ms", "error"]


def collect_inputs(inputs: list[str]) -> list[str]:
    """Image files named directly, plus images found recursively in folders (masks skipped)."""
    files = []
    for item in inputs:
        if os.path.isdir(item):
            for dirpath, dirnames, names in os.walk(item):
                dirnames.sort()
                for n in sorted(names):
                    if n.lower().endswith(IMAGE_EXTENSIONS) and "_mask" not in n.lower():
                        files.append(os.path.join(dirpath, n))
        else:
            files.append(item)
    return files


def unique_stem(path: str, used: set[str]) -> str:
    """Output stem for a file; folders of BUSI reuse names, so clashes get a suffix."""
    stem = os.path.splitext(os.path.basename(path))[0]
    out, i = stem, 1
    while out in used:
        i += 1
        out = f"{stem}_{i}"
    used.add(out)
    return out


def predict_files(predictor: Predictor, files: list[str], out_dir: str, threshold: float | None = None,
                  pixel_spacing_mm: float | None = None, progress=None) -> list[dict]:
    """Segment each file; write masks and predictions.csv into out_dir. Returns the CSV rows."""
    from core.files import write_bytes_atomic

    os.makedirs(out_dir, exist_ok=True)
    threshold = predictor.threshold if threshold is None else threshold
    rows, used = [], set()
    for i, path in enumerate(files):
        row = {"file": path, "threshold": threshold, "error": ""}
        try:
            img = read_image_file(path)
            pred = predictor.predict(img.gray)
            mask = mask_at(pred.probability, threshold)
            spacing = img.pixel_spacing_mm or ((pixel_spacing_mm, pixel_spacing_mm) if pixel_spacing_mm else None)
            m = measure(mask, spacing)
            write_bytes_atomic(os.path.join(out_dir, f"{unique_stem(path, used)}_pred.png"),
                               encode_png(mask.astype("uint8") * 255))
            row.update(width=img.width, height=img.height, lesion_area_px=m.area_px,
                       lesion_area_mm2="" if m.area_mm2 is None else round(m.area_mm2, 3),
                       lesion_count=m.lesion_count,
                       longest_diameter_px="" if m.longest_diameter_px is None else round(m.longest_diameter_px, 2),
                       malignancy_probability="" if pred.malignancy is None else round(pred.malignancy, 4),
                       inference_ms=round(pred.inference_ms, 2))
        except ImageReadError as exc:
            row["error"] = str(exc)
        except Exception as exc:  # one bad file must not stop the batch
            row["error"] = f"{os.path.basename(path)}: {type(exc).__name__}: {exc}"
        rows.append(row)
        if progress:
            progress(i + 1, len(files))
    with open(os.path.join(out_dir, "predictions.csv"), "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=CSV_FIELDS, extrasaction="ignore")
        w.writeheader()
        w.writerows(rows)
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Segment breast-ultrasound images with the U-Net.")
    ap.add_argument("inputs", nargs="+", help="image files or folders")
    ap.add_argument("--out", required=True, help="folder for <stem>_pred.png and predictions.csv")
    ap.add_argument("--weights", help="model file (.keras or .h5); default: the active model")
    ap.add_argument("--threshold", type=float, help="probability threshold; default: the model card's")
    ap.add_argument("--pixel-spacing", type=float, help="mm per pixel, for lesion_area_mm2 (DICOM spacing wins)")
    a = ap.parse_args(argv)
    files = collect_inputs(a.inputs)
    if not files:
        print("no images found in the inputs", file=sys.stderr)
        return 2
    try:
        predictor = Predictor.load(a.weights or active_model_path())
    except ModelLoadError as exc:
        print(exc, file=sys.stderr)
        return 2
    from tqdm import tqdm

    bar = tqdm(total=len(files), unit="img", file=sys.stderr)
    rows = predict_files(predictor, files, a.out, a.threshold, a.pixel_spacing,
                         progress=lambda i, n: bar.update(1))
    bar.close()
    bad = [r for r in rows if r["error"]]
    print(f"{len(rows) - len(bad)} of {len(rows)} images segmented on {predictor.device}; "
          f"results in {os.path.join(a.out, 'predictions.csv')}")
    for r in bad:
        print(f"error: {r['error']}", file=sys.stderr)
    return 0 if len(bad) < len(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
