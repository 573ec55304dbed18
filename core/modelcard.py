"""Model cards: what a model was trained on, how well it does, and what it is for.

A card lives beside its model: ``name.keras`` -> ``name.card.json`` and a
human-readable ``name.card.md``. The JSON is what the app reads (threshold,
input size, metrics); the Markdown is what a person reads.
"""
from __future__ import annotations

import os

from core.files import read_json, write_text_atomic, write_json_atomic
from core.intervals import difference_caption, format_interval

CITATION = (
    "Al-Dhabyani W, Gomaa M, Khaled H, Fahmy A. Dataset of breast ultrasound images. "
    "Data in Brief. 2020;28:104863. doi:10.1016/j.dib.2019.104863"
)
INTENDED_USE = (
    "Research decision support for segmenting breast lesions in B-mode ultrasound images, "
    "reviewed by a clinician. Not a diagnosis, and not a medical device."
)
# Measured on 2026-11-25 (bench/RESULTS.md, "Axillary lymph nodes"): true of every model trained here so far.
AXILLARY_LIMITATION = (
    "Benign axillary lymph nodes are missed. BUSI files some scans of normal-looking axillary nodes (frames "
    "labelled 'AXILLA') as benign lesions. Of the 7 in the validation split, five models trained without them "
    "found none, and a sixth trained to emphasise such frames found one, partly. The test split holds no such "
    "frame, so its figures do not show this.")
LIMITATIONS = [
    "Trained on BUSI only: one centre (Baheya Hospital, Cairo), one acquisition period, women aged 25-75.",
    "Images with lesions only from BUSI classes; other pathologies and devices are untested.",
    "The malignancy probability comes from a small head trained on a few hundred lesions; it is not calibrated for clinical use.",
    "Figures on the card come from a held-out split of the same dataset; expect lower figures on other scanners.",
    AXILLARY_LIMITATION,
]


def format_size_summary(by_size: list[dict]) -> str:
    """'under 2 %: n=19, mean Dice 0.748 (95 % CI …), 3 missed (0 unmarked); …' from
    core.evaluate.size_summary; '' without bands."""
    return "; ".join(f"{b['band']}: n={b['n']}, mean Dice {b['dice_mean']:.3f}{_ci(b.get('dice_mean_ci'))}, "
                     f"{b['n_missed']} missed ({b['n_unmarked']} unmarked)" for b in by_size)


def size_limitation(test_metrics: dict) -> str | None:
    """The card's size breakdown in words, for its known limits; None when the card has fewer than two bands.

    Written from the figures each time rather than stored, so it can never disagree with them."""
    bands = (test_metrics or {}).get("by_size") or []
    if len(bands) < 2:
        return None
    parts = [f"{b['dice_mean']:.3f}{_ci(b.get('dice_mean_ci'))} for lesions covering {b['band']} of the image "
             f"(n={b['n']})" for b in bands]
    unmarked = ", ".join(str(b["n_unmarked"]) for b in bands)
    return ("Mean Dice by lesion size on its test split: " + ", ".join(parts[:-1]) + f" and {parts[-1]}. "
            "Few lesions fall in each band: where the intervals overlap, this split cannot tell the bands apart. "
            f"Lesions it left wholly unmarked, in the same order: {unmarked}.")


def known_limits(card: dict) -> list[str]:
    """What a clinician should know before trusting this model: the card's stated limits, then its size breakdown."""
    sized = size_limitation(card.get("test_metrics", {}))
    return [*card.get("limitations", LIMITATIONS), *([sized] if sized else [])]


def card_paths(model_path: str) -> tuple[str, str]:
    stem = os.path.splitext(model_path)[0]
    return f"{stem}.card.json", f"{stem}.card.md"


def read_card(model_path: str) -> dict | None:
    return read_json(card_paths(model_path)[0])


def _fmt(v, digits=3):
    if v is None:
        return "—"
    if isinstance(v, float):
        return f"{v:.{digits}f}"
    return str(v)


def _ci(ci) -> str:
    text = format_interval(ci)
    return f" ({text})" if text else ""


def _fmt_epochs(epochs) -> str:
    """An averaged model lists each run's epochs: show them as a sum, "24 + 24"."""
    return " + ".join(map(str, epochs)) if isinstance(epochs, list) else str(epochs)


def render_markdown(card: dict) -> str:
    t = card.get("test_metrics", {})
    cmp = card.get("comparison") or {}
    s = card.get("settings", {})
    refit = bool(card.get("val_metrics_on_trained_images"))
    averaged = card.get("training", {}).get("averaged_from") or []
    lines = [
        f"# Model card: {card.get('name', 'model')}",
        "",
        f"**Intended use.** {card.get('intended_use', INTENDED_USE)}",
        "",
        "## Model",
        f"- Architecture: {card.get('architecture', {}).get('summary', '')}",
        f"- Input: {card.get('input', {})}",
        f"- Outputs: {card.get('outputs', {})}",
        f"- Default threshold: {_fmt(card.get('threshold'), 2)} "
        + ("(fixed before training: a train+val refit has no held-out images to choose it on)" if refit
           else "(chosen on the validation split)"),
        "",
        "## Data and split",
        f"- Dataset: BUSI, {card.get('data', {}).get('counts', {})}",
        f"- Split (near-duplicate groups kept whole, stratified by class, seed {s.get('seed')}): "
        f"{card.get('data', {}).get('split_counts', {})}; manifest `{card.get('data', {}).get('manifest', '')}`",
        f"- Audit: {card.get('data', {}).get('audit', {})}",
        "",
        "## Training settings",
        *[f"- {k}: {v}" for k, v in s.items() if k not in ("data", "out")],
        f"- Trained on: {card.get('training', {}).get('device', '')}, "
        f"{_fmt(card.get('training', {}).get('duration_s'), 0)} s, epochs run {_fmt_epochs(card.get('training', {}).get('epochs_run'))}",
        "",
        *([f"- Recipe: `{card['recipe']}`"] if card.get("recipe") else []),
        *([f"- Why this checkpoint ships: {card['selection_note']}"] if card.get("selection_note") else []),
        *[f"- Earlier phase {i + 1}: {ph.get('epochs_run')} epochs at {ph.get('image_size')}² "
          f"({_fmt(ph.get('duration_s'), 0)} s; validation Dice {_fmt(ph.get('val_dice_mean'))}, "
          f"test Dice {_fmt(ph.get('test_metrics_at_its_own_threshold', {}).get('dice_mean'))}): `{ph.get('command')}`"
          for i, ph in enumerate(card.get("training", {}).get("previous_phases", []))],
        *([f"- Weights: the mean of {len(averaged)} runs' weights, each fine-tuned from the same start"] if averaged else []),
        *[f"  - run {i + 1}: seed {src.get('seed')}, {src.get('epochs_run')} epochs, {_fmt(src.get('duration_s'), 0)} s, "
          f"test Dice alone {_fmt(src.get('test_metrics', {}).get('dice_mean'))}: `{src.get('command')}`"
          for i, src in enumerate(averaged)],
        "",
        ("## Validation split (trained on in this refit: not a held-out figure)" if refit
         else "## Validation split (used to pick the checkpoint and the threshold)"),
        f"- Lesion images: mean Dice {_fmt(card.get('val_metrics', {}).get('dice_mean'))}; normal images: false-alarm rate "
        f"{_fmt(card.get('val_metrics', {}).get('false_alarm_rate'))}; malignancy AUC {_fmt(card.get('val_metrics', {}).get('malignancy_auc'))}",
        "",
        "## Results on its own test split (images never used for training or threshold choice)",
        *([f"- Trained on the train and validation splits together; "
           f"{'the mean of the runs’ last-epoch weights' if averaged else 'its last epoch'} ships"] if refit else []),
        f"- Lesion images: n={t.get('n_lesion')}, mean Dice {_fmt(t.get('dice_mean'))}{_ci(t.get('dice_mean_ci'))}, "
        f"median Dice {_fmt(t.get('dice_median'))}, mean IoU {_fmt(t.get('iou_mean'))}, HD95 {_fmt(t.get('hd95_median_px'), 1)} px (median)"
        + (f"; missed or mostly missed (Dice < 0.3): {t['n_missed']} of {t.get('n_lesion')}" if t.get("n_missed") is not None else "")
        + (f", {t['n_unmarked']} of them with nothing marked" if t.get("n_unmarked") is not None else ""),
        f"- Normal images (a false alarm is a predicted lesion covering ≥ 0.5% of the image): n={t.get('n_normal')}, "
        f"false-alarm rate {_fmt(t.get('false_alarm_rate'))}{_ci(t.get('false_alarm_rate_ci'))}",
        f"- Malignancy AUC (benign vs malignant): {_fmt(t.get('malignancy_auc'))}{_ci(t.get('malignancy_auc_ci'))} "
        f"(n={t.get('n_auc')}; images filed under both classes are left out)",
        *([f"- Against `{cmp.get('model')}` on the same images: "
           + difference_caption(cmp["dice_difference"], "this model", "that one")] if cmp.get("dice_difference") else []),
        *(["- The intervals are 95 % (core.intervals): how far each figure could move on another sample of "
           "this size from the same population"] if t.get("dice_mean_ci") else []),
        *[f"- {c}: n={v.get('n_images')}, mean Dice {_fmt(v.get('dice_mean'))}"
          + (f", false alarms {_fmt(v.get('false_alarm_rate'))}" if v.get("false_alarm_rate") is not None else "")
          for c, v in t.get("per_class", {}).items()],
        *([f"- By lesion size (share of the image covered by the ground-truth lesion; 'unmarked': nothing marked "
           f"anywhere): {format_size_summary(t['by_size'])}"] if t.get("by_size") else []),
        "",
        "## Speed",
        *[f"- {k}: {v}" for k, v in card.get("speed", {}).items()],
        "",
        "## Limitations",
        *[f"- {x}" for x in known_limits(card)],
        "",
        "## Citation",
        f"{card.get('citation', CITATION)}",
        "",
        f"Reproduce: `{card.get('command', '')}`",
        "",
    ]
    return "\n".join(lines)


def write_card(model_path: str, card: dict) -> None:
    js, md = card_paths(model_path)
    write_json_atomic(js, card)
    write_text_atomic(md, render_markdown(card))
