"""Model cards: what a model was trained on, how well it does, and what it is for.

A card lives beside its model: ``name.keras`` -> ``name.card.json`` and a
human-readable ``name.card.md``. The JSON is what the app reads (threshold,
input size, metrics); the Markdown is what a person reads.
"""
from __future__ import annotations

from core.cards.limits import (  # noqa: F401  (callers import the limitations from here)
    AXILLARY_LIMITATION,
    AXILLARY_NODES,
    LIMITATION_TEXT,
    LIMITATIONS,
    MULTI_CENTRE_LIMITATIONS,
    limitation_keys,
    limitations_for,
)
from core.cards.schema import (  # noqa: F401  (callers import the reader from here)
    CrossCentreEntry,
    LesionGate,
    MalignancyCalibration,
    ModelCard,
    card_paths,
    read_card,
)
from core.files import write_json_atomic, write_text_atomic
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


def has_limitation(card: ModelCard | dict | None, key: str) -> bool:
    """Whether the card states the known limitation with this key (core.cards.limits), by its limitation_keys
    (which the reader fills in from the wording on a card written before them): never by a sentence's text."""
    card = read_card(card)
    return card is not None and key in (card.limitation_keys or [])


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


def known_limits(card: ModelCard | dict) -> list[str]:
    """What a clinician should know before trusting this model: the card's stated limits, then its size breakdown."""
    card = read_card(card)
    sized = size_limitation(card.test_metrics)
    return [*(LIMITATIONS if card.limitations is None else card.limitations), *([sized] if sized else [])]


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


def new_hospital_entries(card: ModelCard | dict, kind: str = "centre") -> list[CrossCentreEntry]:
    """The card's figures on data its networks never saw: left-out centres (kind "centre") or left-out scanners
    ("scanner", by the scanner's name, whatever order their networks finished in). Entries written before scanners
    were left out carry no kind: they are centres."""
    entries = [c for c in read_card(card).cross_centre or [] if c.kind == kind]
    return sorted(entries, key=lambda c: c.scored_on) if kind == "scanner" else entries


def headline_rows(card: ModelCard | dict) -> list[dict]:
    """The card's headline figures as rows for the Home page and the README: first what a hospital it never saw
    gets (each left-out centre, then each left-out scanner), then its own test split per dataset, each figure with
    its 95 % interval."""
    card = read_card(card)
    by_ds = card.test_metrics_by_dataset or {"test split": card.test_metrics}
    rows = [(f"never saw (trained on {c.trained_on} only)", c.scored_on, c.metrics) for c in new_hospital_entries(card)]
    rows += [(f"never saw this scanner (trained on {c.trained_on})", c.scored_on, c.metrics)
             for c in new_hospital_entries(card, "scanner")]
    rows += [("own test split", name, t) for name, t in by_ds.items()]
    return [dict(zip(["figures", "images", "n", "lesion images", "mean lesion Dice", "median Dice",
                      "lesions under 2 %", "false alarms", "lesion-presence AUC", "malignancy AUC"],
                     [kind, *_figure_row(name, t)])) for kind, name, t in rows]


def render_markdown(card: ModelCard | dict) -> str:
    """The card as a person reads it: prose and tables, every figure with where it comes from, section by section."""
    card = read_card(card)
    lines = []
    for section in (_title_section, new_hospital_section, _test_split_section, _model_section, _data_section,
                    _training_section, _validation_section, _detail_section, _speed_section, _limitations_section,
                    _citation_section):
        lines += section(card)
    return "\n".join(lines)


def _refit(card: ModelCard) -> bool:
    """A train+val refit: its validation figures are on images it trained on."""
    return bool(card.val_metrics_on_trained_images)


def _title_section(card: ModelCard) -> list[str]:
    return [f"# Model card: {card.name}" + (f" (version {card.version})" if card.version else ""),
            "", f"**Intended use.** {INTENDED_USE if card.intended_use is None else card.intended_use}", ""]


def new_hospital_section(card: ModelCard) -> list[str]:
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
                    [[c.trained_on, *_figure_row(c.scored_on, c.metrics)] for c in centres + scanners]) + [""]
    per_device = [(c, dev, t) for c in centres for dev, t in (c.by_device or {}).items()]
    if per_device:
        lines += ["By scanner, inside each left-out centre:", ""]
        lines += _table(["left-out centre", "scanner", *FIGURE_HEADER[1:]],
                        [[c.scored_on, *_figure_row(dev, t)] for c, dev, t in per_device]) + [""]
    return lines + _new_hospital_notes(centres + scanners) + [""]


def _new_hospital_notes(entries: list[CrossCentreEntry]) -> list[str]:
    """Where each left-out figure comes from, and each left-out scanner's network on the scanners it did see."""
    # rows that share a note (each left-out scanner of one recipe) say it once
    notes: dict[str, list[str]] = {}
    for c in entries:
        if c.note:
            notes.setdefault(c.note, []).append(f"{c.trained_on} → {c.scored_on}" if c.kind == "centre"
                                                else c.scored_on)
    lines = [f"- {'; '.join(rows)}: {note}" for note, rows in notes.items()]
    seen = [c for c in entries if c.kind == "scanner" and (c.seen_scanners or {}).get("dice_mean") is not None]
    if seen:
        lines += ["", "For comparison, the same networks on their own test images of the other scanners, which they "
                  "trained on (mean lesion Dice): " + "; ".join(
                      f"without {c.scored_on}, {c.seen_scanners['dice_mean']:.3f} (n={c.seen_scanners['n_lesion']})"
                      for c in seen) + "."]
    gated = [c for c in entries if (c.without_gate or {}).get("dice_mean") is not None]
    if gated:
        lines += ["", "Without their no-lesion gates (fitted where they trained), the same networks would have scored "
                  "(mean lesion Dice, lesions with nothing marked): " + "; ".join(
                      f"{c.scored_on}, {c.without_gate['dice_mean']:.3f} and {c.without_gate['n_unmarked']} against "
                      f"{c.metrics.get('dice_mean', float('nan')):.3f} and {c.metrics.get('n_unmarked')} with gate "
                      f"{c.without_gate['gate']}" for c in gated)
                  + ". At a scanner a network never saw, its gate empties real lesions: see docs/model.md."]
    return lines


def _test_split_section(card: ModelCard) -> list[str]:
    by_ds = card.test_metrics_by_dataset or {}
    lines = ["## On its own test split", "",
             "On images it never trained on or was tuned on (its own test split, patients and near-duplicate frames kept "
             "whole), at its default threshold"
             + (" and with its no-lesion gate" if card.lesion_gate else "") + ". The intervals are 95 %: how far "
             "each figure could move on another sample of this size from the same population. The lesion-presence "
             "AUC ranks each dataset's lesion images against its own normal scans, so a dataset without normal "
             "scans has none and adds nothing to the pooled row.", ""]
    rows = [_figure_row(name, v) for name, v in by_ds.items()] if len(by_ds) > 1 else []
    rows.append(_figure_row("all test images" if rows else "test split", card.test_metrics))
    lines += _table(FIGURE_HEADER, rows) + [""]
    by_device = {k: v for k, v in (card.test_metrics_by_device or {}).items() if k != "unknown"}
    if by_device:
        lines += ["### By scanner", "", "The test images whose layout names the scanner (BUS-BRA's). Few images of the "
                  "rarer scanners: their intervals are wide, but a low figure there is a warning.", ""]
        lines += _table(FIGURE_HEADER, [_figure_row(name, v) for name, v in by_device.items()]) + [""]
    return lines


def _model_section(card: ModelCard) -> list[str]:
    inp = card.input
    lines = ["## The model", "",
             f"A {card.architecture.summary or ''}. It takes a grayscale image resized to {inp.size}×{inp.size} "
             f"({inp.preprocessing or ''}) and returns a lesion probability for every pixel, resized back to the "
             "original image, and a malignancy probability from a small head on the bottleneck. "
             f"A pixel is marked at probability {_fmt(card.threshold, 2)} or more "
             + ("(fixed before training)." if _refit(card) else "(the threshold was chosen on the validation split).")]
    return lines + _gate_lines(card.lesion_gate) + _calibration_lines(card.malignancy_calibration)


def _gate_lines(gate: LesionGate | None) -> list[str]:
    if not gate:
        return []
    if gate.min_score is None:  # a site fit where no gate beat none
        return ["", f"**No no-lesion gate.** {gate.how_chosen or ''}"]
    # the gate's grid steps by 0.025, so two decimals would misstate a gate of 0.825
    lines = ["", f"**No-lesion gate.** A mask is shown only when the mean lesion probability inside the largest marked "
             f"region reaches {gate.min_score:g}; below it the image is reported as holding no lesion. "
             f"{gate.how_chosen or ''}"]
    per = gate.test_by_dataset or {}
    if per:
        lines += ["", "What the gate did on the test split (measured after it was chosen):", ""]
        lines += _table(["images", "mean lesion Dice without → with", "false alarms without → with"],
                        [[k, f"{_fmt(v['dice_without'])} → {_fmt(v['dice_with'])}",
                          "—" if v["false_alarms_without"] is None else
                          f"{v['false_alarms_without']:.0%} → {v['false_alarms_with']:.0%}"] for k, v in per.items()])
    return lines


def _calibration_lines(cal: MalignancyCalibration | None) -> list[str]:
    if not cal:
        return []
    lines = ["", f"**Malignancy calibration.** The head's probability is recalibrated by Platt scaling "
             f"(a = {_fmt(cal.a)}, b = {_fmt(cal.b)}) fitted on {cal.fitted_on or 'validation lesions'}, "
             "and the app words it in bands (low under 10 %, intermediate 10–50 %, high over 50 %), never as a bare "
             "percentage."]
    per = cal.test_by_dataset or {}
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


def _data_section(card: ModelCard) -> list[str]:
    data = card.data
    by_ds = card.test_metrics_by_dataset or {}
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
    lines += ["", f"The split is deterministic (seed {card.settings.get('seed')}), stratified by dataset and "
              f"class, and keeps near-duplicate frames and each patient's images on one side; manifest "
              f"`{data.get('manifest', '')}`. "
              f"The audit found {audit.get('near_duplicate_groups', '—')} near-duplicate groups, "
              f"{audit.get('label_conflicts', '—')} images filed under two classes (left out of AUC), "
              f"{audit.get('multi_mask_cases', '—')} images with several mask files (merged) and "
              f"{audit.get('colour_annotated', '—')} with colour annotations."]
    return lines


def _training_section(card: ModelCard) -> list[str]:
    tr = card.training
    lines = ["", "## Training", "",
             f"Trained on {tr.get('device', '—')} in {_fmt(tr.get('duration_s'), 0)} s, "
             f"{_fmt_epochs(tr.get('epochs_run'))} epochs; "
             + ("the last epoch ships (it also trained on the validation split)." if _refit(card)
                else f"the epoch with the best {tr.get('selected_by', 'validation Dice')} ships.")]
    if card.recipe:
        lines += ["", f"Recipe: `{card.recipe}`."]
    if card.selection_note:
        lines += ["", card.selection_note]
    return lines + ["", *_table(["setting", "value"], [[k, v] for k, v in card.settings.items()
                                                        if k not in ("data", "out", "extra")])]


def _validation_section(card: ModelCard) -> list[str]:
    v = card.val_metrics or {}
    if not v:
        return []
    return ["", "## Validation split", "",
            ("Trained on in this refit: not a held-out figure. " if _refit(card) else
             "Used to pick the checkpoint, the threshold, the gate and the calibration, so not a test figure. ")
            + f"Mean lesion Dice {_fmt(v.get('dice_mean'))}, false alarms {_fmt(v.get('false_alarm_rate'))}, "
            f"malignancy AUC {_fmt(v.get('malignancy_auc'))}."]


def _detail_section(card: ModelCard) -> list[str]:
    t = card.test_metrics
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
    if card.comparison and card.comparison.dice_difference:
        lines += ["", f"Against `{card.comparison.model}` on the same images: "
                  + difference_caption(card.comparison.dice_difference, "this model", "that one")]
    return lines


def _speed_section(card: ModelCard) -> list[str]:
    speed = card.speed
    lines = ["", "## Speed", "", *_table(["measure", "value"], [[k, v] for k, v in speed.items()])] if speed else []
    onnx = card.onnx
    if onnx:
        lines += ["", f"CPU serving: `{onnx.file}` on ONNX Runtime, exported with {onnx.exporter} "
                      f"(opset {onnx.opset})"
                      + (", every tensor's shape written in (ONNX Runtime's symbolic shape inference)"
                         if onnx.shapes_written else "")
                      + f"; largest difference from Keras {max((onnx.max_abs_difference or {0: 0}).values()):.1e} "
                        f"on {onnx.check}."]
    return lines


def _limitations_section(card: ModelCard) -> list[str]:
    return ["", "## Limitations", "", *[f"- {x}" for x in known_limits(card)]]


def _citation_section(card: ModelCard) -> list[str]:
    return ["", "## Citation", "", CITATION if card.citation is None else card.citation,
            "", f"Reproduce: `{card.recipe or card.command or ''}`", ""]


def write_card(model_path: str, card: ModelCard | dict) -> None:
    """The one writer: the card's JSON and its Markdown beside the model (any card, or a card's JSON in hand)."""
    card = read_card(card)
    js, md = card_paths(model_path)
    write_json_atomic(js, card.to_dict())
    write_text_atomic(md, render_markdown(card))
