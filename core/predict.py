"""Batch prediction: segment many images from the command line.

    python -m core.predict INPUT... --out DIR [--weights PATH] [--threshold T] [--pixel-spacing MM] [--report]
        [--engine plain|ray] [--address ADDR] [--workers N] [--boxes BOXES.csv | --refine [--refine-largest]]
    python -m core.predict --dicomweb URL --study UID [--study UID ...] --out DIR [--store] [--dicomweb-user U]

INPUT is image files or folders (walked recursively; files with ``_mask`` in
their name are skipped). For each image it writes ``DIR/<stem>_pred.png``
(uint8 0/255, the input's width and height) and a row in
``DIR/predictions.csv`` (a cine loop: one row per frame, ``frame`` 1-based); for a
DICOM input also ``DIR/<stem>_seg.dcm`` (a DICOM Segmentation over it) and
``DIR/<stem>_sr.dcm`` (its TID 1500 measurement report); with --report also ``DIR/<stem>_report.pdf``
and ``DIR/report.pdf`` for the batch. A bad file gets a row with ``error``
filled in and the others carry on.

``--boxes BOXES.csv`` (columns ``file,x0,y0,x1,y1``, pixels of the original image; core.batch.boxes) segments
each image inside its box(es) with LiteMedSAM (core.inference.boxprompt) instead of the U-Net's mask: the CSV's
``mask_from`` says ``box`` and a DICOM SEG is SEMIAUTOMATIC. ``--refine`` prompts LiteMedSAM with the tight box of
each connected lesion of the U-Net's own mask (``--refine-largest``: the largest lesion's only) and keeps its
outline (``mask_from`` ``refine``). An option only, not the default: at the centres and scanners a network never
saw it moved lesion Dice by about 0.01 either way and lost at two of four (docs/model.md, bench/README.md), and its
encoder adds about 0.9 s an image on a CPU. The U-Net still runs for the malignancy estimate in both.

``--dicomweb URL --study UID`` takes the ultrasound images of each study from a PACS (QIDO-RS, WADO-RS),
segments them the same way and, with ``--store``, sends every SEG and SR of the study back in one STOW-RS
request; each pull and store is audited by study UID. A server that is down or refuses gets one plain sentence.

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
    ap.add_argument("inputs", nargs="*", help="image files or folders (or, with --dicomweb, none)")
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
    ap.add_argument("--boxes", metavar="BOXES.csv", help="segment each image inside its box(es) with LiteMedSAM: "
                                                        "columns file,x0,y0,x1,y1 in pixels of the original image")
    ap.add_argument("--refine", action="store_true", help="redraw the U-Net's mask with LiteMedSAM from the tight "
                                                           "box of each of its lesions (about 0.9 s more an image on a "
                                                           "CPU; it did not help at left-out centres: docs/model.md)")
    ap.add_argument("--refine-largest", action="store_true", help="with --refine: prompt with the largest lesion's "
                                                                  "box only")
    ap.add_argument("--dicomweb", metavar="URL", help="a DICOMweb server (e.g. http://pacs:8042/dicom-web): "
                                                      "segment the ultrasound images of each --study there")
    ap.add_argument("--study", action="append", default=[], metavar="UID", help="with --dicomweb: a Study Instance "
                                                                               "UID (repeat for several)")
    ap.add_argument("--store", action="store_true", help="with --dicomweb: send each image's SEG and SR back into "
                                                        "its study (STOW-RS)")
    ap.add_argument("--dicomweb-user", help="with --dicomweb: HTTP user (the password from $DICOMWEB_PASSWORD)")
    a = ap.parse_args(argv)
    if a.dicomweb:
        if a.inputs or not a.study:
            ap.error("--dicomweb takes --study UID (one or more) and no input files")
        if a.engine != "plain":
            ap.error("--dicomweb runs on the plain engine")
        return _dicomweb(a)
    if a.study or a.store or a.dicomweb_user:
        ap.error("--study, --store and --dicomweb-user go with --dicomweb")
    if not a.inputs:
        ap.error("give image files or folders, or --dicomweb URL --study UID")
    if a.engine == "plain" and (a.address or a.workers is not None or a.cpus_per_worker is not None):
        ap.error("--address, --workers and --cpus-per-worker apply to --engine ray only")
    if a.engine == "ray" and a.report:
        # a batch report holds every image's analysis in one process: for an archive, use the per-image CSV
        ap.error("--report is written by the plain engine; for an archive on Ray, use predictions.csv")
    a.workers = 2 if a.workers is None else a.workers
    a.cpus_per_worker = 1 if a.cpus_per_worker is None else a.cpus_per_worker
    if a.workers < 1 or a.cpus_per_worker <= 0:
        ap.error("--workers must be at least 1 and --cpus-per-worker above 0")
    if (a.boxes or a.refine) and (a.engine != "plain"):
        ap.error("--boxes and --refine run on the plain engine")
    if a.boxes and a.refine:
        ap.error("give --boxes or --refine, not both")
    if a.refine_largest and not a.refine:
        ap.error("--refine-largest goes with --refine")
    refine = ("largest" if a.refine_largest else "each") if a.refine else None
    files = collect_inputs(a.inputs)
    if not files:
        print("no images found in the inputs", file=sys.stderr)
        return 2
    boxes = None
    if a.boxes or a.refine:
        from core.batch.boxes import BoxesFileError, boxes_for_inputs, read_boxes
        from core.inference.boxprompt import BoxSegmenter

        if not BoxSegmenter.available():
            print("LiteMedSAM's files (weights/litemedsam_*.onnx) are missing: restore them with "
                  "`git checkout weights/`", file=sys.stderr)
            return 2
        if a.boxes:
            try:
                boxes, notes = boxes_for_inputs(read_boxes(a.boxes), files)
            except BoxesFileError as exc:
                print(exc, file=sys.stderr)
                return 2
            for n in notes:
                print(n, file=sys.stderr)
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
                             progress=lambda i, n: bar.update(1), report=a.report, boxes=boxes, refine=refine)
        where = predictor.device + (" with LiteMedSAM" if boxes is not None or a.refine else "")
    bar.close()
    bad = [r for r in rows if r["error"]]
    print(f"{len(rows) - len(bad)} of {len(rows)} images segmented on {where}; "
          f"results in {os.path.join(a.out, 'predictions.csv')}")
    for r in bad:
        print(f"error: {r['error']}", file=sys.stderr)
    return 0 if len(bad) < len(rows) else 1


def _dicomweb(a) -> int:
    """Each study's ultrasound images from the server, segmented like files; with --store, every SEG and SR of a
    study sent back in one request (all of them or none). Audited by study UID under the local user."""
    from core.access import pacs_actions
    from core.access.roles import access_config, identify
    from core.pacs.dicomweb import Pacs, PacsConfig, PacsError

    password = os.environ.get("DICOMWEB_PASSWORD") if a.dicomweb_user else None
    if a.dicomweb_user and password is None:
        print("--dicomweb-user needs the password in the environment variable DICOMWEB_PASSWORD", file=sys.stderr)
        return 2
    pacs = Pacs(PacsConfig(a.dicomweb.rstrip("/"), a.dicomweb_user, password))
    config = access_config({})  # the command line runs as the person at this machine (core.access.roles)
    who = identify({}, config)
    try:
        predictor = Predictor.load(a.weights or active_model_path())
    except ModelLoadError as exc:
        print(exc, file=sys.stderr)
        return 2
    failures = 0
    for study in a.study:
        out_dir = os.path.join(a.out, study) if len(a.study) > 1 else a.out
        try:
            images = pacs_actions.pull(who, config, pacs, study)
        except PacsError as exc:
            print(exc, file=sys.stderr)
            return 2
        if not images:
            print(f"study {study}: no ultrasound images on the server", file=sys.stderr)
            failures += 1
            continue
        objects: list = []
        rows = predict_files(predictor, [name for name, _ in images], out_dir, a.threshold, a.pixel_spacing,
                             contents=[data for _, data in images], dicom_objects=objects)
        bad = [r for r in rows if r["error"]]
        print(f"study {study}: {len(images)} images ({len(rows)} rows) segmented; results in {out_dir}")
        for r in bad:
            print(f"error: {r['error']}", file=sys.stderr)
        failures += bool(bad)
        if a.store and objects:
            try:
                sent = pacs_actions.store(who, config, pacs, study, [b for pair in objects for b in pair])
            except PacsError as exc:
                print(f"study {study}: {exc}", file=sys.stderr)
                return 2
            print(f"study {study}: stored {len(sent) // 2} SEG and {len(sent) // 2} SR objects on {a.dicomweb}")
    return 0 if not failures else 1


if __name__ == "__main__":
    raise SystemExit(main())
