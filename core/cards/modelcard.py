"""Model cards: what a model was trained on, how well it does, and what it is for.

A card lives beside its model: ``name.keras`` -> ``name.card.json`` and a
human-readable ``name.card.md``. The JSON is what the app reads (threshold,
input size, metrics); the Markdown is what a person reads.
"""
from __future__ import annotations

import os

from core.files import read_json, write_json_atomic, write_text_atomic
from core.metrics.intervals import difference_caption, format_bounds, format_interval

CITATION = (
    "Al-Dhabyani W, Gomaa M, Khaled H, Fahmy A. Dataset of breast ultrasound images. "
    "Data in Brief. 2020;28:104863. doi:10.1016/j.dib.2019.104863"
)
BUSBRA_CITATION = (
    "Gómez-Flores W, Gregorio-Calas MJ, Coelho de Albuquerque Pereira W. BUS-BRA: A Breast Ultrasound Dataset for "
    "Assessing Computer-aided Diagnosis Systems. Medical Physics"
)
INTENDED_USE = (
    "Research decision support for segmenting breast lesions in B-mode ultrasound images, "
    "reviewed by a clinician. Not a diagnosis, and not a medical device."
)
# Measured on 2026-11-25 (experiments/LOG.md, "Axillary lymph nodes"): true of every model trained here so far.
_AXILLARY_WORDING_2026_11 = (
    "Benign axillary lymph nodes are missed. BUSI files some scans of normal-looking axillary nodes (frames "
    "labelled 'AXILLA') as benign lesions. Of the 7 in the validation split, five models trained without them "
    "found none, and a sixth trained to emphasise such frames found one, partly. The test split holds no such "
    "frame, so its figures do not show this.")
AXILLARY_LIMITATION = _AXILLARY_WORDING_2026_11  # today's wording; reword freely, code looks for AXILLARY_NODES

# Known limitations that code acts on, by a stable key written on the card ("limitation_keys"), so rewording a
# sentence never changes what the app does. Cards written before the keys carry only the sentences: each wording
# they were written with stays in LEGACY_WORDINGS, frozen, so those cards still read.
AXILLARY_NODES = "axillary_nodes"
LIMITATION_TEXT = {AXILLARY_NODES: AXILLARY_LIMITATION}
LEGACY_WORDINGS = {_AXILLARY_WORDING_2026_11: AXILLARY_NODES}
LIMITATIONS = [
    "Trained on BUSI only: one centre (Baheya Hospital, Cairo), one acquisition period, women aged 25-75.",
    "Images with lesions only from BUSI classes; other pathologies and devices are untested.",
    "The malignancy probability comes from a small head trained on a few hundred lesions; it is not calibrated for clinical use.",
    "Figures on the card come from a held-out split of the same dataset; expect lower figures on other scanners.",
    AXILLARY_LIMITATION,
]


# What a model trained on several centres must say about itself (limitations_for).
MULTI_CENTRE_LIMITATIONS = [
    "Trained on two centres only: BUSI (Baheya Hospital, Cairo) and BUS-BRA (Brazil; GE Logiq 5 and 7, Toshiba "
    "Aplio 300, U-Systems). Other scanners, centres and populations are untested beyond the leave-one-dataset-out "
    "figures above, which are the better guide for a new hospital.",
    "BUS-BRA holds no normal scans, so every false-alarm figure comes from BUSI's normal scans.",
    "The no-lesion gate was chosen on the validation split's normal scans, all from BUSI, which the starting model had "
    "trained on: on another centre's normal scans it may let more false alarms through.",
    "On BUS-BRA's rarer scanners it does markedly worse than on the GE scanners most of its BUS-BRA images come from "
    "(see 'By scanner'): few training images come from them.",
    "The malignancy estimate is calibrated on validation lesions of both datasets and worded in bands. On images from "
    "a hospital it never trained on it separates benign from malignant far less well (see the AUC above): it is a "
    "research estimate, not a diagnosis.",
]


def limitations_for(datasets: list[str]) -> list[str]:
    """The card's stated limits for a model trained on these datasets ("busi", "busbra")."""
    if set(datasets) == {"busi"}:
        return list(LIMITATIONS)
    if set(datasets) == {"busi", "busbra"}:
        return [*MULTI_CENTRE_LIMITATIONS, AXILLARY_LIMITATION]
    return [f"Trained on {' and '.join(sorted(datasets))} only: other centres, scanners and populations are untested "
            "beyond any cross-centre figures on this card.",
            "Without normal scans in training, its false-alarm rate on normal scans is unknown.",
            MULTI_CENTRE_LIMITATIONS[-1]]


def limitation_keys(limitations: list[str]) -> list[str]:
    """The stable keys of the known limitations among these sentences (LIMITATION_TEXT), for the card."""
    key_of = {text: key for key, text in LIMITATION_TEXT.items()}
    return [key_of[t] for t in limitations if t in key_of]


def has_limitation(card: dict | None, key: str) -> bool:
    """Whether the card states the known limitation with this key: by its limitation_keys, or on a card written
    before them, by a wording it was written with."""
    card = card or {}
    if "limitation_keys" in card:
        return key in card["limitation_keys"]
    return any(LEGACY_WORDINGS.get(text) == key for text in card.get("limitations", []))


def bundle_metadata(image_size: int, version: str = "1.0.0") -> dict:
    """The MONAI-bundle-style metadata every card carries: version, authors, licence, task, and the network's
    input and output as a MONAI bundle's ``network_data_format`` spells them."""
    return {
        "version": version,
        "authors": ["the busseg team"],
        "license": ("Code MIT. Weights trained on BUSI (CC BY 4.0) and BUS-BRA (see its LICENSE.txt): cite both, "
                    "research use only"),
        "task": "Breast lesion segmentation and malignancy estimate in B-mode ultrasound",
        "network_data_format": {
            "inputs": {"image": {"type": "image", "format": "magnitude", "modality": "US", "num_channels": 1,
                                 "spatial_shape": [image_size, image_size], "dtype": "float32", "value_range": [0, 1],
                                 "is_patch_data": False,
                                 "preprocessing": "grayscale (ITU-R 601 luma), resize (area), divide by 255"}},
            "outputs": {"mask": {"type": "probabilities", "format": "segmentation", "num_channels": 1,
                                 "spatial_shape": [image_size, image_size], "dtype": "float32", "value_range": [0, 1],
                                 "channel_def": {"0": "lesion"}},
                        "malignancy": {"type": "probabilities", "format": "classification", "num_channels": 1,
                                       "dtype": "float32", "value_range": [0, 1],
                                       "channel_def": {"0": "malignant (raw; see malignancy_calibration)"}}},
        },
    }


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


def _table(header: list[str], rows: list[list]) -> list[str]:
    """A Markdown table; None cells print as a dash."""
    cell = lambda v: "—" if v is None else str(v)  # noqa: E731
    return (["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            + ["| " + " | ".join(cell(v) for v in r) + " |" for r in rows])


def _with_bounds(value: str, ci, percent: bool = False) -> str:
    bounds = format_bounds(ci, percent=percent)
    return f"{value} ({bounds})" if bounds else value


def _figure_row(name: str, t: dict) -> list:
    """One row of FIGURE_HEADER from a summarise() dict."""
    fa, dice, auc = t.get("false_alarm_rate"), t.get("dice_mean"), t.get("malignancy_auc")
    alarms = None if fa is None else _with_bounds(f"{round(fa * t['n_normal'])} of {t['n_normal']}, {fa:.0%}",
                                                  t.get("false_alarm_rate_ci"), percent=True)
    presence = t.get("presence_auc")
    return [name, t.get("n_images"), t.get("n_lesion"),
            None if dice is None else _with_bounds(_fmt(dice), t.get("dice_mean_ci")), _fmt(t.get("dice_median")),
            _small_lesions(t), alarms,
            None if presence is None else _with_bounds(_fmt(presence), t.get("presence_auc_ci")),
            None if auc is None else _with_bounds(_fmt(auc), t.get("malignancy_auc_ci"))]


def _small_lesions(t: dict) -> str | None:
    """Mean Dice of the lesions under 2 % of the frame, with their count: where models fail first elsewhere."""
    band = next((b for b in t.get("by_size") or [] if b["band"] == "under 2 %"), None)
    return None if band is None else f"{_fmt(band['dice_mean'])} (n={band['n']})"


FIGURE_HEADER = ["images", "n", "lesion images", "mean lesion Dice (95 % interval)", "median Dice",
                 "lesions under 2 % of the frame", "false alarms on normal scans (95 % interval)",
                 "lesion-presence AUC (95 % interval)", "malignancy AUC (95 % interval)"]


def _counts_text(counts: dict) -> str:
    return ", ".join(f"{v} {k}" for k, v in counts.items() if v)


def new_hospital_entries(card: dict, kind: str = "centre") -> list[dict]:
    """The card's figures on data its networks never saw: left-out centres (kind "centre") or left-out scanners
    ("scanner"). Entries written before scanners were left out carry no kind: they are centres."""
    return [c for c in card.get("cross_centre") or [] if c.get("left_out", "centre") == kind]


def headline_rows(card: dict) -> list[dict]:
    """The card's headline figures as rows for the Home page and the README: first what a hospital it never saw
    gets (each left-out centre, then each left-out scanner), then its own test split per dataset, each figure with
    its 95 % interval."""
    by_ds = card.get("test_metrics_by_dataset") or {"test split": card.get("test_metrics", {})}
    rows = [(f"never saw (trained on {c['trained_on']} only)", c["scored_on"], c["metrics"])
            for c in new_hospital_entries(card)]
    rows += [(f"never saw this scanner (trained on {c['trained_on']})", c["scored_on"], c["metrics"])
             for c in new_hospital_entries(card, "scanner")]
    rows += [("own test split", name, t) for name, t in by_ds.items()]
    return [dict(zip(["figures", "images", "n", "lesion images", "mean lesion Dice", "median Dice",
                      "lesions under 2 %", "false alarms", "lesion-presence AUC", "malignancy AUC"],
                     [kind, *_figure_row(name, t)])) for kind, name, t in rows]


def new_hospital_section(card: dict) -> list[str]:
    """The card's first section: what a hospital it never saw gets, from leave-one-centre-out and
    leave-one-scanner-out networks of the same recipe, each scored on every image of what it left out."""
    centres, scanners = new_hospital_entries(card), new_hospital_entries(card, "scanner")
    if not centres and not scanners:
        return []
    lines = ["## What a hospital it never saw gets", "",
             "Networks of this recipe trained without one centre (or one scanner), each scored on every image of what "
             "it left out, with its own threshold and no-lesion gate. This, not the own-test figures below, is the "
             "guide to how the model does on your hospital's scanner. Lesion-presence AUC: how well the image-level "
             "lesion score (`lesion_score`, which the gate uses) tells lesion images from normal scans.", ""]
    lines += _table(["trained on", "scored on", *FIGURE_HEADER[1:]],
                    [[c["trained_on"], *_figure_row(c["scored_on"], c["metrics"])] for c in centres + scanners]) + [""]
    per_device = [(c, dev, t) for c in centres for dev, t in (c.get("by_device") or {}).items()]
    if per_device:
        lines += ["By scanner, inside each left-out centre:", ""]
        lines += _table(["left-out centre", "scanner", *FIGURE_HEADER[1:]],
                        [[c["scored_on"], *_figure_row(dev, t)] for c, dev, t in per_device]) + [""]
    lines += [f"- {c['trained_on']} → {c['scored_on']}: {c['note']}" for c in centres + scanners if c.get("note")]
    return lines + [""]


def render_markdown(card: dict) -> str:
    """The card as a person reads it: prose and tables, every figure with where it comes from, section by section."""
    lines = _title_section(card)
    for section in (new_hospital_section, _test_split_section, _model_section, _data_section, _training_section,
                    _validation_section, _detail_section, _speed_section, _closing_section):
        lines += section(card)
    return "\n".join(lines)


def _refit(card: dict) -> bool:
    """A train+val refit: its validation figures are on images it trained on."""
    return bool(card.get("val_metrics_on_trained_images"))


def _title_section(card: dict) -> list[str]:
    return [f"# Model card: {card.get('name', 'model')}" + (f" (version {card['version']})" if card.get("version") else ""),
            "", f"**Intended use.** {card.get('intended_use', INTENDED_USE)}", ""]


def _test_split_section(card: dict) -> list[str]:
    t = card.get("test_metrics", {})
    by_ds = card.get("test_metrics_by_dataset") or {}
    lines = ["## On its own test split", "",
             "On images it never trained on or was tuned on (its own test split, patients and near-duplicate frames kept "
             "whole), at its default threshold"
             + (" and with its no-lesion gate" if card.get("lesion_gate") else "") + ". The intervals are 95 %: how far "
             "each figure could move on another sample of this size from the same population.", ""]
    rows = [_figure_row(name, v) for name, v in by_ds.items()] if len(by_ds) > 1 else []
    rows.append(_figure_row("all test images" if rows else "test split", t))
    lines += _table(FIGURE_HEADER, rows) + [""]
    by_device = {k: v for k, v in (card.get("test_metrics_by_device") or {}).items() if k != "unknown"}
    if by_device:
        lines += ["### By scanner", "", "The test images whose layout names the scanner (BUS-BRA's). Few images of the "
                  "rarer scanners: their intervals are wide, but a low figure there is a warning.", ""]
        lines += _table(FIGURE_HEADER, [_figure_row(name, v) for name, v in by_device.items()]) + [""]
    return lines


def _model_section(card: dict) -> list[str]:
    arch = card.get("architecture", {}).get("summary", "")
    inp = card.get("input", {})
    lines = ["## The model", "",
             f"A {arch}. It takes a grayscale image resized to {inp.get('size')}×{inp.get('size')} "
             f"({inp.get('preprocessing', '')}) and returns a lesion probability for every pixel, resized back to the "
             "original image, and a malignancy probability from a small head on the bottleneck. "
             f"A pixel is marked at probability {_fmt(card.get('threshold'), 2)} or more "
             + ("(fixed before training)." if _refit(card) else "(the threshold was chosen on the validation split).")]
    return lines + _gate_lines(card.get("lesion_gate")) + _calibration_lines(card.get("malignancy_calibration"))


def _gate_lines(gate: dict | None) -> list[str]:
    if not gate:
        return []
    lines = ["", f"**No-lesion gate.** A mask is shown only when the mean lesion probability inside the largest marked "
             f"region reaches {_fmt(gate.get('min_score'), 2)}; below it the image is reported as holding no lesion. "
             f"{gate.get('how_chosen', '')}"]
    per = gate.get("test_by_dataset") or {}
    if per:
        lines += ["", "What the gate did on the test split (measured after it was chosen):", ""]
        lines += _table(["images", "mean lesion Dice without → with", "false alarms without → with"],
                        [[k, f"{_fmt(v['dice_without'])} → {_fmt(v['dice_with'])}",
                          "—" if v["false_alarms_without"] is None else
                          f"{v['false_alarms_without']:.0%} → {v['false_alarms_with']:.0%}"] for k, v in per.items()])
    return lines


def _calibration_lines(cal: dict | None) -> list[str]:
    if not cal:
        return []
    lines = ["", f"**Malignancy calibration.** The head's probability is recalibrated by Platt scaling "
             f"(a = {_fmt(cal.get('a'))}, b = {_fmt(cal.get('b'))}) fitted on {cal.get('fitted_on', 'validation lesions')}, "
             "and the app words it in bands (low under 10 %, intermediate 10–50 %, high over 50 %), never as a bare "
             "percentage."]
    per = cal.get("test_by_dataset") or {}
    if per:
        lines += ["", "Calibration on the test split (Brier score and expected calibration error: lower is better; "
                  "mean predicted against the observed malignant share):", ""]
        lines += _table(["images", "lesions", "Brier raw", "Brier calibrated", "ECE raw", "ECE calibrated",
                         "mean predicted (calibrated)", "observed malignant"],
                        [[k, v["calibrated"]["n"], _fmt(v["raw"].get("brier")), _fmt(v["calibrated"].get("brier")),
                          _fmt(v["raw"].get("ece")), _fmt(v["calibrated"].get("ece")),
                          _fmt(v["calibrated"].get("mean_predicted")), _fmt(v["calibrated"].get("observed"))]
                         for k, v in per.items()])
    return lines


def _data_section(card: dict) -> list[str]:
    data = card.get("data", {})
    by_ds = card.get("test_metrics_by_dataset") or {}
    datasets = ", ".join(by_ds) if by_ds else "BUSI"
    lines = ["", "## Data and split", ""]
    by_dataset_counts = data.get("counts_by_dataset") or {}
    lines.append(f"Trained on {datasets}: " + ("; ".join(f"{k}: {_counts_text(v)}" for k, v in by_dataset_counts.items())
                                               if by_dataset_counts else _counts_text(data.get("counts", {}))) + ".")
    split_by = data.get("split_by_dataset") or {}
    if split_by:
        lines += ["", *_table(["split", *sorted({d for v in split_by.values() for d in v})],
                              [[side, *[v.get(d, 0) for d in sorted({d for vv in split_by.values() for d in vv})]]
                               for side, v in split_by.items()])]
    else:
        lines.append(f"Split: {_counts_text(data.get('split_counts', {}))}.")
    audit = data.get("audit", {})
    lines += ["", f"The split is deterministic (seed {card.get('settings', {}).get('seed')}), stratified by dataset and "
              f"class, and keeps near-duplicate frames and each patient's images on one side; manifest "
              f"`{data.get('manifest', '')}`. "
              f"The audit found {audit.get('near_duplicate_groups', '—')} near-duplicate groups, "
              f"{audit.get('label_conflicts', '—')} images filed under two classes (left out of AUC), "
              f"{audit.get('multi_mask_cases', '—')} images with several mask files (merged) and "
              f"{audit.get('colour_annotated', '—')} with colour annotations."]
    return lines


def _training_section(card: dict) -> list[str]:
    tr = card.get("training", {})
    lines = ["", "## Training", "",
             f"Trained on {tr.get('device', '—')} in {_fmt(tr.get('duration_s'), 0)} s, "
             f"{_fmt_epochs(tr.get('epochs_run'))} epochs; "
             + ("the last epoch ships (it also trained on the validation split)." if _refit(card)
                else f"the epoch with the best {tr.get('selected_by', 'validation Dice')} ships.")]
    if card.get("recipe"):
        lines += ["", f"Recipe: `{card['recipe']}`."]
    if card.get("selection_note"):
        lines += ["", card["selection_note"]]
    settings = card.get("settings", {})
    return lines + ["", *_table(["setting", "value"], [[k, v] for k, v in settings.items()
                                                        if k not in ("data", "out", "extra")])]


def _validation_section(card: dict) -> list[str]:
    v = card.get("val_metrics") or {}
    if not v:
        return []
    return ["", "## Validation split", "",
            ("Trained on in this refit: not a held-out figure. " if _refit(card) else
             "Used to pick the checkpoint, the threshold, the gate and the calibration, so not a test figure. ")
            + f"Mean lesion Dice {_fmt(v.get('dice_mean'))}, false alarms {_fmt(v.get('false_alarm_rate'))}, "
            f"malignancy AUC {_fmt(v.get('malignancy_auc'))}."]


def _detail_section(card: dict) -> list[str]:
    t = card.get("test_metrics", {})
    cmp = card.get("comparison") or {}
    lines = []
    per_class = t.get("per_class") or {}
    if per_class or t.get("by_size"):
        lines += ["", "## More detail on the test split", ""]
    if per_class:
        lines += _table(["class", "images", "mean Dice", "false alarms"],
                        [[c, v.get("n_images"), _fmt(v.get("dice_mean")), _fmt(v.get("false_alarm_rate"))]
                         for c, v in per_class.items()]) + [""]
    if t.get("n_missed") is not None:
        lines.append(f"Lesions missed or mostly missed (Dice < 0.3): {t['n_missed']} of {t.get('n_lesion')}, "
                     f"{t.get('n_unmarked')} of them with nothing marked. HD95 median {_fmt(t.get('hd95_median_px'), 1)} px.")
    if t.get("by_size"):
        lines += ["", f"By lesion size (share of the image): {format_size_summary(t['by_size'])}."]
    if cmp.get("dice_difference"):
        lines += ["", f"Against `{cmp.get('model')}` on the same images: "
                  + difference_caption(cmp["dice_difference"], "this model", "that one")]
    return lines


def _speed_section(card: dict) -> list[str]:
    speed = card.get("speed", {})
    lines = ["", "## Speed", "", *_table(["measure", "value"], [[k, v] for k, v in speed.items()])] if speed else []
    onnx = card.get("onnx")
    if onnx:
        lines += ["", f"CPU serving: `{onnx.get('file')}` on ONNX Runtime, exported with {onnx.get('exporter')} "
                      f"(opset {onnx.get('opset')}); largest difference from Keras "
                      f"{max((onnx.get('max_abs_difference') or {0: 0}).values()):.1e} on {onnx.get('check')}."]
    return lines


def _closing_section(card: dict) -> list[str]:
    return ["", "## Limitations", "", *[f"- {x}" for x in known_limits(card)],
            "", "## Citation", "", card.get("citation", CITATION),
            "", f"Reproduce: `{card.get('recipe') or card.get('command', '')}`", ""]


def write_card(model_path: str, card: dict) -> None:
    js, md = card_paths(model_path)
    write_json_atomic(js, card)
    write_text_atomic(md, render_markdown(card))
