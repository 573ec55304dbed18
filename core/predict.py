"""Batch prediction: segment many images from the command line.

    python -m core.predict INPUT... --out DIR [--weights PATH] [--threshold T] [--pixel-spacing MM] [--report]
        [--engine plain|ray] [--address ADDR] [--workers N]

INPUT is image files or folders (walked recursively; files with ``_mask`` in
their name are skipped). For each image it writes ``DIR/<stem>_pred.png``
(uint8 0/255, the input's width and height) and a row in
``DIR/predictions.csv``; for a DICOM input also ``DIR/<stem>_seg.dcm`` (a
DICOM Segmentation over it); with --report also ``DIR/<stem>_report.pdf``
and ``DIR/report.pdf`` for the batch. A bad file gets a row with ``error``
filled in and the others carry on.

``--engine ray`` runs the same per-image work on Ray Data (core.batch.ray_engine):
on a local Ray started for the run, or on the cluster at ``--address``. It needs
``pip install -r requirements-scale.txt``; the default plain engine needs no Ray.
"""
from __future__ import annotations

import argparse
import os
import sys

from core import runtime  # noqa: F401  (quiets TensorFlow before import)
from core.batch.engine import collect_inputs, predict_files
from core.cards.registry import active_model_path
from core.inference.predictor import ModelLoadError, Predictor


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Segment breast-ultrasound images with the U-Net.")
    ap.add_argument("inputs", nargs="+", help="image files or folders")
    ap.add_argument("--out", required=True, help="folder for <stem>_pred.png and predictions.csv")
    ap.add_argument("--weights", help="model file (.keras or .h5); default: the active model")
    ap.add_argument("--threshold", type=float, help="probability threshold; default: the model card's")
    ap.add_argument("--pixel-spacing", type=float, help="mm per pixel, for lesion_area_mm2 (DICOM spacing wins)")
    ap.add_argument("--report", action="store_true", help="also write a one-page PDF per image and one for the batch "
                                                          "(plain engine)")
    ap.add_argument("--engine", choices=["plain", "ray"], default="plain",
                    help="plain: this process (default); ray: Ray Data workers (pip install -r requirements-scale.txt)")
    ap.add_argument("--address", help="with --engine ray: the Ray cluster to join (auto: the one this node belongs "
                                      "to); default: start a local Ray on this machine")
    ap.add_argument("--workers", type=int, help="with --engine ray: model replicas (default 2)")
    ap.add_argument("--cpus-per-worker", type=float, help="with --engine ray: CPUs Ray reserves per replica (default 1)")
    a = ap.parse_args(argv)
    if a.engine == "plain" and (a.address or a.workers is not None or a.cpus_per_worker is not None):
        ap.error("--address, --workers and --cpus-per-worker apply to --engine ray only")
    if a.engine == "ray" and a.report:
        # a batch report holds every image's analysis in one process: for an archive, use the per-image CSV
        ap.error("--report is written by the plain engine; for an archive on Ray, use predictions.csv")
    a.workers = 2 if a.workers is None else a.workers
    a.cpus_per_worker = 1 if a.cpus_per_worker is None else a.cpus_per_worker
    if a.workers < 1 or a.cpus_per_worker <= 0:
        ap.error("--workers must be at least 1 and --cpus-per-worker above 0")
    files = collect_inputs(a.inputs)
    if not files:
        print("no images found in the inputs", file=sys.stderr)
        return 2
    weights = a.weights or active_model_path()
    from tqdm import tqdm

    bar = tqdm(total=len(files), unit="img", file=sys.stderr)
    if a.engine == "ray":
        from core.batch.ray_engine import RayMissingError, predict_files_ray

        if not os.path.isfile(weights):  # say so before starting a cluster job
            print(f"No model file at {weights}.", file=sys.stderr)
            return 2
        try:
            rows = predict_files_ray(weights, files, a.out, a.threshold, a.pixel_spacing, workers=a.workers,
                                     address=a.address, cpus_per_worker=a.cpus_per_worker,
                                     progress=lambda i, n: bar.update(1))
        except RayMissingError as exc:
            print(exc, file=sys.stderr)
            return 2
        except ConnectionError as exc:
            print(f"could not join the Ray cluster at {a.address}: {exc}. On a node of the cluster, "
                  "--address auto finds it", file=sys.stderr)
            return 2
        where = f"Ray ({a.workers} workers{', ' + a.address if a.address else ', local'})"
    else:
        try:
            predictor = Predictor.load(weights)
        except ModelLoadError as exc:
            print(exc, file=sys.stderr)
            return 2
        rows = predict_files(predictor, files, a.out, a.threshold, a.pixel_spacing,
                             progress=lambda i, n: bar.update(1), report=a.report)
        where = predictor.device
    bar.close()
    bad = [r for r in rows if r["error"]]
    print(f"{len(rows) - len(bad)} of {len(rows)} images segmented on {where}; "
          f"results in {os.path.join(a.out, 'predictions.csv')}")
    for r in bad:
        print(f"error: {r['error']}", file=sys.stderr)
    return 0 if len(bad) < len(rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
