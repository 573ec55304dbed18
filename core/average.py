"""Weight averaging of finished runs that fine-tuned the same start, into a new run folder with its card.

    python -m core.average RUN_DIR RUN_DIR [...] --out RUN_DIR [--name NAME] [--compare-with MODEL]

Two fine-tuning runs from the same weights, differing only in seed, stay in one
basin of the loss, so the mean of their weights is itself a good network (a
"model soup", Wortsman et al., ICML 2022). It costs nothing at inference: one
network, the same graph, the same speed. The runs must share architecture,
image size, split and what they fitted on; anything else is refused, because
the average of unrelated networks is noise.

The new run folder is finished the way core.train finishes a run: a run on the
train split gets its threshold chosen on validation, a train+val refit keeps
its fixed threshold; the test split is scored once and written on the card.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from dataclasses import asdict

import numpy as np

from core import runtime  # imported first: it quiets TensorFlow before Keras loads
from core.files import read_json, save_model_atomic, write_json_atomic

# Settings that must agree between runs for their weights to be averaged meaningfully.
MUST_AGREE = ("image_size", "base_filters", "depth", "encoder", "fit_on", "fixed_threshold")


def starting_point(settings: dict):
    """What a run's network started from: the model it was initialised from, else the seed of its initial weights."""
    if settings.get("init_weights"):
        return ("weights", settings["init_weights"])
    init_seed = settings.get("init_seed")
    return ("seed", settings.get("seed", 0) if init_seed is None else init_seed)


def average_weight_lists(weight_lists: list[list[np.ndarray]]) -> list[np.ndarray]:
    """Element-wise mean of several models' weight lists (same order and shapes), in float32."""
    if len(weight_lists) < 2:
        raise ValueError("averaging needs at least two models")
    first = weight_lists[0]
    for i, other in enumerate(weight_lists[1:], start=2):
        if len(other) != len(first) or any(a.shape != b.shape for a, b in zip(first, other)):
            raise ValueError(f"model {i} does not have the architecture of model 1: its weights cannot be averaged")
    return [np.mean(np.stack([w[j] for w in weight_lists]), axis=0).astype(np.float32)
            for j in range(len(first))]


def check_runs_agree(run_dirs: list[str]) -> list[dict]:
    """The runs' saved settings, after checking each finished and that they may be averaged."""
    from core.split import read_manifest

    settings, splits = [], []
    for d in run_dirs:
        s = read_json(os.path.join(d, "settings.json"), None)
        if not s or not os.path.isfile(os.path.join(d, "model.keras")):
            raise ValueError(f"{d} is not a finished run folder (no settings.json or model.keras)")
        settings.append(s)
        splits.append(read_manifest(os.path.join(d, "split.json")))
    for d, s, sp in zip(run_dirs[1:], settings[1:], splits[1:]):
        differ = [k for k in MUST_AGREE if s.get(k) != settings[0].get(k)]
        if starting_point(s) != starting_point(settings[0]):
            # two networks grown from different random starts are not in one basin: their mean is noise
            differ.append("starting weights (--init-weights, or --init-seed for runs trained from scratch)")
        if sp != splits[0]:
            differ.append("split")
        if differ:
            raise ValueError(f"{d} differs from {run_dirs[0]} in {', '.join(differ)}: its weights cannot be averaged")
    return settings


def worse_than_its_runs(card: dict, sources: list[dict]) -> str | None:
    """A warning when the average scores below every run it was made from on held-out validation images, else None.

    Same-start runs can still drift into different basins (a decoder trained
    from a random draw does, early on); their mean is then worse than either.
    A train+val refit's validation figures are in-sample, so they are not judged.
    """
    own = card.get("val_metrics", {}).get("dice_mean")
    theirs = [s.get("val_dice") for s in sources]
    if card.get("settings", {}).get("fit_on", "train") != "train" or own is None or None in theirs:
        return None
    if own >= min(theirs):
        return None
    return (f"the averaged weights score a validation Dice of {own:.3f}, below every run they were made from "
            f"({', '.join(f'{d:.3f}' for d in theirs)}): the runs did not stay in one basin, so ship one of "
            f"them instead, or average runs fine-tuned from one trained network (--init-weights)")


def average_runs(run_dirs: list[str], out: str, name: str = "averaged", compare_with: str | None = None,
                 data: str | None = None, log=print) -> dict:
    """Average the runs' shipped weights into the run folder OUT, score it as core.train would, return the card."""
    import keras

    from core import modelcard
    from core.train import RunFolder, TrainSettings, finalize, prepare_data

    started = time.time()
    saved = check_runs_agree(run_dirs)
    settings = TrainSettings.from_saved(saved[0])
    settings.out, settings.name, settings.compare_with = out, name, compare_with
    settings.data = data or settings.data
    settings.split_from = os.path.join(run_dirs[0], "split.json")
    settings.extra = {"argv": [], "averaged_from": list(run_dirs)}
    run = RunFolder(out)
    write_json_atomic(run.settings, asdict(settings))
    run.update_status(state="loading_data", epoch=0, epochs=0, started_at=started, message="averaging weights")
    models = [keras.models.load_model(os.path.join(d, "model.keras"), compile=False) for d in run_dirs]
    averaged = models[0]
    averaged.set_weights(average_weight_lists([m.get_weights() for m in models]))
    # finalize() reads the run's last checkpoint: the average is that checkpoint
    save_model_atomic(averaged, run.last)
    _, loaded_split, report = prepare_data(settings, run, log)
    device = runtime.training_setup()[2]
    card = finalize(run, settings, loaded_split, report, device, started, log)
    sources = []
    for d in run_dirs:
        c = modelcard.read_card(os.path.join(d, "model.keras")) or {}
        tr = c.get("training", {})
        sources.append({"run": d, "seed": c.get("settings", {}).get("seed"), "command": c.get("command"),
                        "epochs_run": tr.get("epochs_run"), "duration_s": tr.get("duration_s"),
                        "val_dice": c.get("val_metrics", {}).get("dice_mean"),
                        "test_metrics": {k: v for k, v in c.get("test_metrics", {}).items() if k != "per_class"}})
    card["training"].update(
        averaged_from=sources, epochs_run=[s["epochs_run"] for s in sources],
        duration_s=round(sum(s["duration_s"] or 0 for s in sources), 1),
        selected_by=f"mean of the weights of {len(sources)} runs' shipped models; " + card["training"]["selected_by"])
    warning = worse_than_its_runs(card, sources)
    if warning:
        log(f"warning: {warning}")
        card["limitations"] = [warning, *card.get("limitations", [])]
    card["command"] = "python -m core.average " + " ".join(run_dirs) + f" --out {out} --name {name}" + (
        f" --compare-with {compare_with}" if compare_with else "")
    modelcard.write_card(run.model, card)
    run.update_status(state="done", message="finished", test_metrics={k: v for k, v in card["test_metrics"].items()
                                                                      if k != "per_class"})
    return card


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Average the weights of finished runs that fine-tuned the same start.")
    ap.add_argument("runs", nargs="+", help="finished run folders (two or more)")
    ap.add_argument("--out", required=True, help="run folder to write")
    ap.add_argument("--name", default="averaged", help="name written on the model card")
    ap.add_argument("--compare-with", help="also score this model on the test split, for the card's comparison")
    ap.add_argument("--data", help="BUSI folder, if it moved since the runs trained")
    a = ap.parse_args(argv)
    try:
        average_runs(a.runs, a.out, a.name, a.compare_with, a.data)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
