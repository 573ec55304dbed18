"""Benchmark the Segment page in a real headless Chromium, as a clinician would use it.

    python bench/bench_ui.py [--repeats 8]

Prints the median time from dropping an image to the overlay and area readout (timed in the page:
from the drop event to the moment both the readout and the loaded overlay image are in it),
from one threshold step (a key press on the slider) to the redrawn area, and from
releasing the mouse at the end of a brush stroke on the editing canvas to the
area readout that includes it.
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
    drop_and_time_first_overlay,
    launch,
    open_segment_page,
    paint,
    running_app,
    switch_editing_on,
)


def main(argv=None) -> int:
    from playwright.sync_api import sync_playwright

    ap = argparse.ArgumentParser()
    ap.add_argument("--repeats", type=int, default=8)
    ap.add_argument("--json")
    a = ap.parse_args(argv)
    images = sorted(p for p in glob.glob(os.path.join(ROOT, "samples", "busi", "*", "*.png")) if "_mask" not in p)
    drop_s, step_s, stroke_s = [], [], []
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
            page.close()
        browser.close()
    out = {"drop_to_overlay_s_median": float(np.median(drop_s)), "drop_to_overlay_s_max": float(np.max(drop_s)),
           "threshold_step_to_area_ms_median": float(np.median(step_s) * 1000) if step_s else None,
           "threshold_step_to_area_ms_max": float(np.max(step_s) * 1000) if step_s else None,
           "stroke_to_area_ms_median": float(np.median(stroke_s) * 1000) if stroke_s else None,
           "stroke_to_area_ms_max": float(np.max(stroke_s) * 1000) if stroke_s else None,
           "n_drops": len(drop_s), "n_steps": len(step_s), "n_strokes": len(stroke_s)}
    print(f"drop -> overlay and area shown: median {out['drop_to_overlay_s_median']:.2f} s, "
          f"max {out['drop_to_overlay_s_max']:.2f} s over {len(drop_s)} images")
    if step_s:
        print(f"threshold step -> new area shown: median {out['threshold_step_to_area_ms_median']:.0f} ms, "
              f"max {out['threshold_step_to_area_ms_max']:.0f} ms over {len(step_s)} steps")
    if stroke_s:
        print(f"brush stroke released -> new area shown: median {out['stroke_to_area_ms_median']:.0f} ms, "
              f"max {out['stroke_to_area_ms_max']:.0f} ms over {len(stroke_s)} strokes")
    if a.json:
        with open(a.json, "w") as fh:
            json.dump(out, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
