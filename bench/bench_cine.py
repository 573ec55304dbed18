"""Cine loops: time and peak memory to segment a long loop (frame by frame in batches, probabilities as uint8).

    python -m bench.bench_cine [--frames 300] [--size 600x800]

Builds a synthetic MONOCHROME2 multi-frame ultrasound DICOM of N frames (speckle with a moving dark lesion),
segments it with the shipped model through core.analysis.segment.analyse (what the Segment page and core.predict
call), and prints seconds per frame, the peak resident memory it added, and what float32 probabilities would
have needed. Compares with the classic 64-filter U-Net's single forward pass in the same run.
"""
from __future__ import annotations

import argparse
import io
import resource
import time

import numpy as np

from tests.helpers import US_MULTIFRAME_STORAGE, new_dicom_file


def loop_bytes(frames: int, h: int, w: int) -> bytes:
    import cv2
    from pydicom.uid import generate_uid

    rng = np.random.default_rng(0)
    stack = np.empty((frames, h, w), np.uint8)
    for i in range(frames):
        img = rng.gamma(2.0, 40.0, size=(h, w)).clip(0, 255).astype(np.uint8)
        cv2.ellipse(img, (w // 3 + i % (w // 3), h // 2), (w // 10, h // 12), 0, 0, 360, 20, -1)
        stack[i] = img
    ds = new_dicom_file(US_MULTIFRAME_STORAGE, "loop.dcm")
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.Modality = generate_uid(), generate_uid(), "US"
    ds.Rows, ds.Columns, ds.NumberOfFrames = h, w, frames
    ds.SamplesPerPixel, ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 1, 8, 8, 7, 0
    ds.PhotometricInterpretation = "MONOCHROME2"
    ds.PixelData = stack.tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--frames", type=int, default=300)
    ap.add_argument("--size", default="600x800", help="HxW")
    a = ap.parse_args(argv)
    h, w = (int(x) for x in a.size.split("x"))
    from core.analysis.segment import Upload, analyse, frame_areas
    from core.cards.registry import active_model_path
    from core.inference.predictor import Predictor
    from core.model.unet import build_unet

    predictor = Predictor.load(active_model_path())
    data = loop_bytes(a.frames, h, w)
    before = peak_mb()
    t0 = time.perf_counter()
    result = analyse(predictor, Upload("loop.dcm", data))
    seconds = time.perf_counter() - t0
    t1 = time.perf_counter()
    areas = frame_areas(result, predictor.threshold)
    area_s = time.perf_counter() - t1
    added = peak_mb() - before
    classic = build_unet((256, 256, 1), base_filters=64, depth=4)
    x = np.zeros((1, 256, 256, 1), np.float32)
    classic.predict_on_batch(x)
    t2 = time.perf_counter()
    classic.predict_on_batch(x)
    classic_s = time.perf_counter() - t2
    print(f"{a.frames} frames of {w}x{h}: analyse {seconds:.1f} s ({1000 * seconds / a.frames:.1f} ms/frame, "
          f"{seconds / a.frames / classic_s:.3f}x the classic 64-filter U-Net's forward pass of {classic_s * 1000:.0f} ms); "
          f"area per frame for the plot {area_s:.1f} s")
    print(f"peak memory added: {added:.0f} MB (file {len(data) / 2**20:.0f} MB, gray frames "
          f"{result.image.frames.nbytes / 2**20:.0f} MB, uint8 probabilities {result.cine.probability.nbytes / 2**20:.0f} MB;"
          f" float32 probabilities would be {4 * result.cine.probability.nbytes / 2**20:.0f} MB)")
    print(f"largest lesion in frame {int(np.argmax(areas)) + 1} of {a.frames}")


if __name__ == "__main__":
    main()
