"""Fit the no-lesion gate to a hospital's own labelled images and write the result as a new model version.

    python -m tools.fit_to_site --site NAME --data FOLDER [--data FOLDER ...] [--model MODEL.keras]

FOLDER: any layout core.data.layouts reads (BUSI's, BUS-BRA's), with lesion images and their masks and at least 20
normal scans from the hospital's own scanners. Prints what the gate does on halves of the images it was not fitted
on, then writes ``runs/site-NAME-<time>/model.keras`` (the same network, its card naming the site and the figures).
It changes nothing anyone uses: an administrator makes the new version active on the Train page's model list.
"""
from __future__ import annotations

import argparse
import sys


def main(argv=None) -> int:
    from core.cards.registry import active_model_path
    from core.data.layouts import DatasetError
    from core.evaluation.site_fit import SiteFitError, fit_site_gate, write_site_model
    from core.inference.predictor import Predictor

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--site", required=True, help="the hospital or scanner the images come from, as the card will say")
    ap.add_argument("--data", action="append", required=True, help="a labelled folder of the site's images, repeatable")
    ap.add_argument("--model", help="the model to start from (default: the active one)")
    ap.add_argument("--dry-run", action="store_true", help="print the figures, write nothing")
    a = ap.parse_args(argv)
    model = a.model or active_model_path()
    try:
        fit = fit_site_gate(Predictor.load(model), a.data)
    except (SiteFitError, DatasetError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    h = fit.held_out
    gate = "no gate (none beat having none)" if fit.gate is None else f"{fit.gate:.3f}"
    print(f"{fit.lesion_images} lesion images and {fit.normal_images} normal scans; threshold {fit.threshold:.2f}")
    print(f"gate: the model's {fit.card_gate} -> fitted here {gate}")
    print("on halves of these images it was not fitted on (3 seeds, both ways round):")
    for k, label in (("card", "model's gate"), ("site", "site's gate")):
        print(f"  {label}: mean lesion Dice {h[k]['dice']:.3f}, normal scans flagged {h[k]['false_alarm_rate']:.0%}")
    for p in fit.problems:
        print(f"note: {p}")
    if a.dry_run:
        return 0
    path = write_site_model(fit, a.site, a.data)
    print(f"wrote {path}; an administrator makes it active on the Train page")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
