"""Benchmark the Segment page in a real headless Chromium, as a clinician would use it.

    python bench/bench_ui.py [--repeats 8]

Prints the median time from dropping an image to the overlay and area readout (timed in the page:
from the drop event to the moment both the readout and the loaded overlay image are in it),
from one threshold step (a key press on the slider) to the redrawn area, from
releasing the mouse at the end of a brush stroke on the editing canvas to the
area readout that includes it, and from releasing a box drawn around the lesion (its ground truth's box, padded
5 %) with the Box tool to the area readout of LiteMedSAM's mask: the first box, drawn at once after choosing the
tool (the page encodes the image in the background from the moment editing is switched on, here for the brush
strokes before), and the same box undone and drawn again --box-wait s later (the decoder alone).
Uses the shipped default model and the sample images (never trained on).
"""
from __future__ import annotations

import argparse
import glob
import json
import os
import time

import numpy as np

from tests.e2e.appserver import (
    ROOT,
    WAIT_AREA_CHANGE,
    area_px,
    drag_box,
    drop_and_time_first_overlay,
    launch,
    lesion_box_fractions,
    open_segment_page,
    paint,
    running_app,
    switch_editing_on,
)


def time_box(page, corners, into: list[float]) -> None:
    """Drag a box and append the seconds until the area readout changes to ``into``; nothing when it does not change
    (LiteMedSAM's mask can have the previous mask's area to the pixel: nothing to time)."""
    a0 = area_px(page)
    t = drag_box(page, *corners)
    try:
        page.wait_for_function(WAIT_AREA_CHANGE, arg=a0, timeout=20_000, polling="raf")
        into.append(time.perf_counter() - t)
    except Exception:
        pass


def main(argv=None) -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=8)
    ap.add_argument("--box-wait", type=float, default=1.5, help="seconds between choosing the Box tool and the box")
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    images = sorted(p for p in glob.glob(os.path.join(ROOT, "samples", "busi", "*", "*.png")) if "_mask" not in p)
    drop_s, step_s, stroke_s, box_s, first_box_s = [], [], [], [], []
    with running_app() as url, sync_playwright() as p:
        browser = launch(p)
        for path in images[: a.repeats]:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            open_segment_page(page, url)
            with open(path, "rb") as fh:
                data = fh.read()
            drop_s.append(drop_and_time_first_overlay(page, data, os.path.basename(path)))
            slider = page.locator('[data-testid="stSlider"] input[type="range"]').first
            for key in ("ArrowLeft", "ArrowLeft", "ArrowRight"):
                a0 = area_px(page)
                slider.focus()
                t = time.perf_counter()
                slider.press(key)
                try:
                    page.wait_for_function(WAIT_AREA_CHANGE, arg=a0, timeout=10_000)
                    step_s.append(time.perf_counter() - t)
                except Exception:
                    pass  # the area did not change at this step (flat probability); not a redraw to time
                page.wait_for_timeout(300)
            switch_editing_on(page, "Brush (add)")
            for row in (0.04, 0.10, 0.16):  # short strokes near the top, away from most lesions
                a0 = area_px(page)
                t = paint(page, [(0.1, row), (0.3, row)])
                try:
                    page.wait_for_function(WAIT_AREA_CHANGE, arg=a0, timeout=10_000, polling="raf")
                    stroke_s.append(time.perf_counter() - t)
                except Exception:
                    pass  # the stroke fell wholly inside the mask: no change to time
                page.wait_for_timeout(500)  # let the canvas remount before the next stroke
            corners = lesion_box_fractions(path.replace(".png", "_mask.png"))
            # the first box, at once after choosing the tool
            switch_editing_on(page, "Box (LiteMedSAM)")
            time_box(page, corners, first_box_s)
            page.wait_for_timeout(500)
            a1 = area_px(page)
            page.get_by_role("button", name="Undo").click()  # take the box back, then draw it again, warm
            page.wait_for_function(WAIT_AREA_CHANGE, arg=a1, timeout=20_000)
            page.wait_for_timeout(int(a.box_wait * 1000))  # the clinician aims; the embedding is cached
            time_box(page, corners, box_s)
            page.close()
        browser.close()
    out = {"drop_to_overlay_s_median": float(np.median(drop_s)), "drop_to_overlay_s_max": float(np.max(drop_s)),
           "threshold_step_to_area_ms_median": float(np.median(step_s) * 1000) if step_s else None,
           "threshold_step_to_area_ms_max": float(np.max(step_s) * 1000) if step_s else None,
           "stroke_to_area_ms_median": float(np.median(stroke_s) * 1000) if stroke_s else None,
           "stroke_to_area_ms_max": float(np.max(stroke_s) * 1000) if stroke_s else None,
           "box_to_area_ms_median": float(np.median(box_s) * 1000) if box_s else None,
           "box_to_area_ms_max": float(np.max(box_s) * 1000) if box_s else None,
           "first_box_to_area_ms_median": float(np.median(first_box_s) * 1000) if first_box_s else None,
           "first_box_to_area_ms_max": float(np.max(first_box_s) * 1000) if first_box_s else None,
           "n_drops": len(drop_s), "n_steps": len(step_s), "n_strokes": len(stroke_s), "n_boxes": len(box_s),
           "n_first_boxes": len(first_box_s),
           # every sample, in seconds, so runs can be pooled (experiments/LOG.md compares pooled medians)
           "samples_s": {"drop": drop_s, "threshold_step": step_s, "stroke": stroke_s, "box": box_s,
                         "first_box": first_box_s}}
    print(f"drop -> overlay and area shown: median {out['drop_to_overlay_s_median']:.2f} s, "
          f"max {out['drop_to_overlay_s_max']:.2f} s over {len(drop_s)} images")
    if step_s:
        print(f"threshold step -> new area shown: median {out['threshold_step_to_area_ms_median']:.0f} ms, "
              f"max {out['threshold_step_to_area_ms_max']:.0f} ms over {len(step_s)} steps")
    if stroke_s:
        print(f"brush stroke released -> new area shown: median {out['stroke_to_area_ms_median']:.0f} ms, "
              f"max {out['stroke_to_area_ms_max']:.0f} ms over {len(stroke_s)} strokes")
    if box_s:
        print(f"box undone and drawn again -> LiteMedSAM's area shown: median "
              f"{out['box_to_area_ms_median']:.0f} ms, max {out['box_to_area_ms_max']:.0f} ms over {len(box_s)} boxes")
    if first_box_s:
        print(f"first box released at once after choosing the tool -> area shown: median "
              f"{out['first_box_to_area_ms_median']:.0f} ms, max {out['first_box_to_area_ms_max']:.0f} ms over "
              f"{len(first_box_s)} boxes")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
