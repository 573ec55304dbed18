"""Finishing a run: reload the chosen checkpoint, pick the threshold, score the test split, write model, card and
the ONNX export."""
from __future__ import annotations

import os
import time
from collections import Counter
from dataclasses import asdict, replace

import numpy as np

from core.cards.schema import ModelCard, build_card
from core.files import save_model_atomic
from core.training.loop import MONITOR
from core.training.run import RunFolder, _best_val_dice
from core.training.settings import TrainSettings


def finalize(run: RunFolder, settings: TrainSettings, loaded_split, report, device: str, started: float,
             log=print) -> ModelCard:
    """Reload the best checkpoint, pick the threshold on val, score the test split, write model + card.

    A train+val refit has no unseen validation images: it keeps its last epoch and its fixed threshold,
    and its card marks the validation figures as figures on images it trained on.
    """
    import keras

    from core.cards import modelcard
    from core.evaluation.decision_fit import calibration_by_dataset, fit_decision
    from core.evaluation.folder import seen_in_training
    from core.evaluation.scoring import (
        choose_threshold,
        dice_difference,
        predict_cases,
        score_predictions,
        summarise,
        summarise_by,
    )
    from core.inference.decision import Decision
    from core.inference.predictor import Predictor

    run.update_status(state="finalizing", message="choosing the threshold and scoring the test split")
    refit = settings.fit_on == "train+val"
    source = run.best if os.path.exists(run.best) and not refit else run.last
    model = keras.models.load_model(source, compile=False)
    tmp_path = os.path.join(run.path, "candidate.keras")
    save_model_atomic(model, tmp_path)
    predictor = Predictor(model, tmp_path, None)
    # an image BUSI files under both classes has no true class: left out of AUC on both splits, as core.evaluate does
    conflicted = {k for g in report.label_conflicts for k in g}
    val = predict_cases(predictor, loaded_split["val"])
    threshold = settings.fixed_threshold if refit else (choose_threshold(val) if val else 0.5)
    # the no-lesion gate and the malignancy calibration are fitted on held-out validation images only: a refit
    # trained on them, so it ships without either (and its page then shows no calibrated estimate)
    decision, gate, calibration = (fit_decision(val, threshold, conflicted) if val and not refit
                                   else (Decision(threshold), {}, {}))
    val_summary = summarise(score_predictions(val, threshold, decision), conflicted) if val else {}
    test = predict_cases(predictor, loaded_split["test"])
    test_rows = score_predictions(test, threshold, decision)
    if calibration:
        calibration["test_by_dataset"] = calibration_by_dataset(test, decision.platt, conflicted)
    if gate:
        # what the gate did on the test split, measured after it was chosen (nothing is chosen from this)
        ungated = summarise_by(score_predictions(test, threshold, Decision(threshold, None, decision.platt)), "dataset",
                               conflicted)
        gated = summarise_by(test_rows, "dataset", conflicted)
        gate["test_by_dataset"] = {name: {"dice_without": ungated[name].get("dice_mean"),
                                          "dice_with": gated[name].get("dice_mean"),
                                          "false_alarms_without": ungated[name].get("false_alarm_rate"),
                                          "false_alarms_with": gated[name].get("false_alarm_rate")}
                                   for name in gated}
    test_summary = summarise(test_rows, conflicted)
    test_by_dataset = summarise_by(test_rows, "dataset", conflicted)
    comparison = None
    if settings.compare_with and os.path.isfile(settings.compare_with):
        # the model this run may replace, scored on exactly the same test images
        try:
            other = Predictor.load(settings.compare_with)
            other_rows = score_predictions(predict_cases(other, loaded_split["test"]), other.threshold, other.decision)
            comparison = {"model": settings.compare_with, "threshold": other.threshold,
                          "test_metrics": summarise(other_rows, conflicted),
                          "test_metrics_by_dataset": summarise_by(other_rows, "dataset", conflicted),
                          "dice_difference": dice_difference(other_rows, test_rows),
                          "test_images_it_trained_on": seen_in_training(
                              settings.compare_with, [lc.case.key for lc in loaded_split["test"]])}
        except Exception as exc:  # a broken comparison model must not fail the run
            comparison = {"model": settings.compare_with, "error": str(exc)}
    lat = sorted(s.inference_ms for s in test + val)
    params = int(model.count_params())
    limits = modelcard.limitations_for(sorted(report.counts_by_dataset))
    card = build_card(
        name=settings.name,
        format_version=1,
        created=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        modality="US",
        **modelcard.bundle_metadata(settings.image_size),
        input={"size": settings.image_size, "channels": 1, "dtype": "float32", "range": [0.0, 1.0],
               "preprocessing": "grayscale (ITU-R 601 luma), resize (area), /255"},
        outputs={"mask": "per-pixel lesion probability (sigmoid), resized back to the original image",
                 "malignancy": "probability the lesion is malignant (sigmoid), meaningful only when a lesion is present"},
        architecture={"summary": f"residual U-Net, {settings.base_filters} base filters, depth {settings.depth}, "
                                 + (f"{settings.top_filters} at full resolution, " if settings.top_filters else "")
                                 + ("group normalisation, " if settings.norm == "group" else "")
                                 + f"{params / 1e6:.2f} M parameters, malignancy head on the bottleneck",
                      "base_filters": settings.base_filters, "depth": settings.depth, "params": params,
                      **({"top_filters": settings.top_filters} if settings.top_filters else {})},
        threshold=threshold,
        lesion_gate=gate or None,
        malignancy_calibration=calibration or None,
        settings={k: v for k, v in asdict(settings).items() if k not in ("extra",)},
        data={"counts": report.counts,
              "counts_by_dataset": report.counts_by_dataset,
              "split_counts": {k: len(v) for k, v in loaded_split.items()},
              "split_by_dataset": {side: dict(sorted(Counter(lc.case.dataset for lc in lcs).items())) for side, lcs in loaded_split.items()},
              "manifest": "split.json",
              "audit": {"near_duplicate_groups": len(report.near_duplicate_groups),
                        "label_conflicts": len(report.label_conflicts),
                        "multi_mask_cases": len(report.multi_mask_cases),
                        "colour_annotated": len(report.colour_annotated),
                        "skipped": len(report.problems)}},
        training={"device": device, "duration_s": round(time.time() - started, 1),
                  "epochs_run": run.epochs_done(),
                  "fit_on": settings.fit_on,
                  "selected_by": ("last epoch, fixed threshold (validation images were trained on)" if refit
                                  else MONITOR),
                  "best_selection_value": None if refit else _best_val_dice(run, MONITOR),
                  "history": {**settings.extra.get("history", {})}},
        val_metrics={k: v for k, v in val_summary.items() if k != "per_class"},
        val_metrics_on_trained_images=refit,
        test_metrics=test_summary,
        test_metrics_by_dataset=test_by_dataset,
        test_metrics_by_device=summarise_by(test_rows, "device", conflicted),
        val_metrics_by_dataset=summarise_by(score_predictions(val, threshold, decision), "dataset", conflicted) if val else {},
        comparison=comparison,
        speed={"predict_path_ms_median": float(np.median(lat)) if lat else None,
               "measured_on": predictor.device,
               "note": "whole predict path (resize, forward, resize back), one image at a time"},
        intended_use=modelcard.INTENDED_USE,
        limitations=limits,
        limitation_keys=modelcard.limitation_keys(limits),
        citation=modelcard.CITATION + ("; " + modelcard.BUSBRA_CITATION if "busbra" in report.counts_by_dataset else ""),
        command="python -m core.train " + " ".join(settings.extra.get("argv", [])),
    )
    os.replace(tmp_path, run.model)
    modelcard.write_card(run.model, card)
    # the ONNX file CPU serving runs (core.inference.predictor), beside model.keras and recorded on its card;
    # a failed export is logged and the model serves through Keras
    from core.inference.onnx_export import export_and_record

    record = export_and_record(run.model, model, log=log)
    if record:
        card = replace(card, onnx=record)
    # The terminal shows validation figures only. A recipe search reads this line to choose between runs;
    # printing test figures here would let the test split steer that choice. They stay on the card.
    log(f"val split{' (trained on: not a held-out figure)' if refit else ''}: lesion Dice {val_summary.get('dice_mean')}, false alarms {val_summary.get('false_alarm_rate')}, "
        f"malignancy AUC {val_summary.get('malignancy_auc')}, threshold {threshold}; "
        f"test-split figures are on the model card")
    return card


def remove_extracted_upload(folder: str, log=print) -> None:
    """Delete a dataset zip's temporary extraction once its images are in memory.

    Only folders made by core.data.safezip (temp dir, its prefix) are removed.
    """
    from core.data.safezip import remove_extraction

    removed = remove_extraction(folder)
    if removed:
        log(f"removed the temporary upload folder {removed}")

