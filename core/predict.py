"""Batch prediction: segment many images from the command line.

    python -m core.predict INPUT... --out DIR [--weights PATH] [--threshold T] [--pixel-spacing MM] [--report]

INPUT is image files or folders (walked recursively; files with ``_mask`` in
their name are skipped). For each image it writes ``DIR/<stem>_pred.png``
(uint8 0/255, the input's width and height) and a row in
``DIR/predictions.csv``; for a DICOM input also ``DIR/<stem>_seg.dcm`` (a
DICOM Segmentation over it); with --report also ``DIR/<stem>_report.pdf``
and ``DIR/report.pdf`` for the batch. A bad file gets a row with ``error``
filled in and the others carry on.
"""
from __future__ import annotations

import argparse
import os
import sys

from core import runtime  # noqa: F401  (quiets TensorFlow before import)
from core.cards.registry import active_model_path
from core.inference.batch import collect_inputs, predict_files
from core.inference.predictor import ModelLoadError, Predictor


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Segment breast-ultrasound images with the U-Net.")
    ap.add_argument("inputs", nargs="+", help="image files or folders")
    ap.add_argument("--out", required=True, help="folder for <stem>_pred.png and predictions.csv")
    ap.add_argument("--weights", help="model file (.keras or .h5); default: the active model")
    ap.add_argument("--threshold", type=float, help="probability threshold; default: the model card's")
    ap.add_argument("--pixel-spacing", type=float, help="mm per pixel, for lesion_area_mm2 (DICOM spacing wins)")
    ap.add_argument("--report", action="store_true", help="also write a one-page PDF per image and one for the batch")
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
                         progress=lambda i, n: bar.update(1), report=a.report)
    bar.close()
    bad = [r for r in rows if r["error"]]
    print(f"{len(rows) - len(bad)} of {len(rows)} images segmented on {predictor.device}; "
          f"results in {os.path.join(a.out, 'predictions.csv')}")
    for r in bad:
        print(f"error: {r['error']}", file=sys.stderr)
    return 0 if len(bad) < len(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
