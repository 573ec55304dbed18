"""Fitting the no-lesion gate at a hospital, on its own labelled images, and writing the result as a new model version.

A network's gate was fitted at the centres it trained on. At a centre it never saw, the gate empties real lesions
and still passes normal scans (docs/model.md; the card's left-out rows). ``fit_site_gate`` fits the same rule
(``decision_fit.choose_gate``) on a labelled folder of the hospital's own images, lesions with masks and normal
scans, and estimates what the fitted gate gives on images it was not fitted on: the folder cut in two halves
(near-duplicate groups and patients whole), a gate fitted on each half scored on the other, three seeds.
``write_site_model`` writes the same network with that gate as a new model version in the runs folder; its card says
where the gate came from. Making it the model everyone uses stays an administrator's step (core.access.actions).
"""
from __future__ import annotations

import os
import re
import shutil
import time
from dataclasses import dataclass, replace

import numpy as np

from core.cards.schema import LesionGate, read_card
from core.data.dataset_audit import group_cases
from core.data.split import make_split
from core.evaluation.decision_fit import choose_gate, gate_objective
from core.evaluation.folder import Evaluation, evaluate_folder
from core.locations import runs_dir

# Below these the fit follows a handful of images: on left-out BUSI, a gate fitted on 20 lesion images and 20
# normals scored within 0.03 of one fitted on 260 and 53 (experiments/LOG.md, "Fitting the gate at the hospital").
MIN_LESIONS = 20
MIN_NORMALS = 20
SEEDS = (0, 1, 2)


class SiteFitError(ValueError):
    """The folder cannot support a fit (too few lesion images or normal scans); the message says what to add."""


@dataclass
class SiteFit:
    """gate: the gate chosen on all the site's images (None: no gate beat none). chosen: choose_gate's record.
    held_out: mean lesion Dice, share of normal scans flagged and objective on the half not fitted on, for the card's
    gate ("card") and the site-fitted one ("site")."""

    model: str
    threshold: float
    card_gate: float | None
    gate: float | None
    chosen: dict | None
    lesion_images: int
    normal_images: int
    held_out: dict
    problems: list[str]


def fit_site_gate(predictor, folders: list[str], progress=None, min_lesions: int = MIN_LESIONS,
                  min_normals: int = MIN_NORMALS) -> SiteFit:
    """Fit the gate on a hospital's labelled folder(s) and estimate it on images it was not fitted on."""
    return fit_from_evaluation(evaluate_folder(predictor, folders, progress=progress), min_lesions, min_normals)


def fit_from_evaluation(ev: Evaluation, min_lesions: int = MIN_LESIONS, min_normals: int = MIN_NORMALS) -> SiteFit:
    """The same fit from an evaluation already run (the Evaluate page's, on every image of the folders, at the
    model's own threshold), so the images are not scored twice."""
    scored, threshold = ev.scored, ev.threshold
    lesions = sum(1 for s in scored if s.case.mask.any())
    normals = len(scored) - lesions
    if lesions < min_lesions or normals < min_normals:
        raise SiteFitError(f"found {lesions} lesion images with masks and {normals} normal scans; fitting the gate "
                           f"needs at least {min_lesions} and {min_normals} from this hospital's own scanners. Add "
                           "normal scans (an empty or all-black mask, or BUSI's normal folder) and lesion images, "
                           "then fit again.")
    chosen = choose_gate(scored, threshold)
    return SiteFit(ev.model, threshold, ev.gate, (chosen or {}).get("min_score"), chosen, lesions, normals,
                   _held_out(scored, threshold, ev.gate), ev.problems)


def _held_out(scored, threshold: float, card_gate: float | None) -> dict:
    keys = [s.case.case.key for s in scored]
    labels = [s.case.case.label for s in scored]
    group_of = group_cases([s.case for s in scored]).group_of
    by_key = dict(zip(keys, scored))
    figures: dict[str, list[tuple[float, float, float]]] = {"card": [], "site": []}
    for seed in SEEDS:
        halves = make_split(keys, labels, [group_of[k] for k in keys], seed, val_fraction=0.0, test_fraction=0.5)
        halves["train"] += halves.pop("val")  # make_split keeps one group aside for validation; not wanted here
        for fit_side, score_side in (("train", "test"), ("test", "train")):
            fit = [by_key[k] for k in halves[fit_side]]
            score = [by_key[k] for k in halves[score_side]]
            site = (choose_gate(fit, threshold) or {}).get("min_score")
            figures["card"].append(gate_objective(score, threshold, card_gate))
            figures["site"].append(gate_objective(score, threshold, site))
    return {k: dict(zip(("objective", "dice", "false_alarm_rate"), np.mean(v, axis=0).round(4).tolist()))
            for k, v in figures.items()}


def write_site_model(fit: SiteFit, site: str, folders: list[str]) -> str:
    """The fitted network's copy, with the site's gate on its card, as ``runs/site-<site>-<time>/model.keras``;
    returns its path. Written in a hidden folder and renamed into place, so a failure leaves no half a model."""
    slug = re.sub(r"[^a-z0-9]+", "-", site.lower()).strip("-") or "site"
    name = f"site-{slug}-{time.strftime('%Y%m%d-%H%M%S')}"
    final = os.path.join(runs_dir(), name)
    if os.path.exists(final):
        raise FileExistsError(f"{final} exists already")
    tmp = os.path.join(runs_dir(), f".{name}.partial")
    os.makedirs(tmp)
    try:
        _write_copy(fit, site, folders, tmp)
        os.rename(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return os.path.join(final, "model.keras")


def _write_copy(fit: SiteFit, site: str, folders: list[str], folder: str) -> None:
    from core.cards.modelcard import write_card
    from core.inference.onnx_export import onnx_path_for

    source = fit.model
    card = read_card(source)
    if card is None:
        raise SiteFitError(f"{os.path.basename(source)} has no model card to carry the site's gate")
    target = os.path.join(folder, "model.keras")
    shutil.copyfile(source, target)
    onnx = card.onnx
    if onnx and os.path.isfile(onnx_path_for(source)):
        shutil.copyfile(onnx_path_for(source), onnx_path_for(target))
        onnx = replace(onnx, file=os.path.basename(onnx_path_for(target)))
    h = fit.held_out
    names = [os.path.basename(os.path.normpath(f)) for f in folders]
    before = "none" if fit.card_gate is None else f"{fit.card_gate:.3f}"
    how = (f"Fitted at {site} on {fit.lesion_images} lesion images and {fit.normal_images} normal scans of its own "
           f"({', '.join(names)}, {time.strftime('%Y-%m-%d')}), by "
           f"the rule the network's own gate was chosen by, replacing {before}. On halves of those images it was not "
           f"fitted on: mean lesion Dice {h['card']['dice']:.3f} → {h['site']['dice']:.3f}, normal scans flagged "
           f"{h['card']['false_alarm_rate']:.0%} → {h['site']['false_alarm_rate']:.0%}. This card's other figures "
           "were measured with the gate it replaces.")
    gate = LesionGate(score="mean probability of the largest marked region", min_score=fit.gate,
                      validation=(fit.chosen or {}).get("validation"), how_chosen=how,
                      site={"site": site, "folders": names,
                            "lesion_images": fit.lesion_images, "normal_images": fit.normal_images,
                            "replaced_gate": fit.card_gate, "held_out_halves": h, "source_model": source,
                            "fitted": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())})
    write_card(target, replace(card, name=f"{card.name} (gate fitted at {site})", lesion_gate=gate, onnx=onnx))
