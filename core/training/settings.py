"""The training settings: one schema, one set of defaults (the shipped recipe's), and the command line that fills it.

``TrainSettings`` is what the Train page builds, what the job runner (core.training.jobs) is given and what
``core.train`` parses; ``command_line`` writes it back as core.train's arguments, so a page's settings reach the
training process whole. A misspelled field fails loudly (TypeError from the dataclass), never silently dropped.
"""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field

# The segmentation losses core.model.unet.LOSSES offers, with the names the Train page shows.
# Kept here rather than read from core.model.unet so that `--help` and the page need no Keras import;
# tests/core/test_model_inference.py checks the two lists agree.
LOSS_LABELS = {"bce_dice": "BCE + Dice", "bce_image_dice": "BCE + Dice per lesion image", "bce": "BCE"}


AUGMENT_RANGES = {
    # rotation (deg), scale, anisotropy, shift (fraction), gamma (log), gain, offset, noise sd, blur probability
    "basic": dict(rot=10, scale=(0.9, 1.15), aniso=0.0, shift=0.06, gamma=0.25, gain=0.15, offset=0.06,
                  noise=0.0, blur=0.0),
    # Wider geometry and speckle-like noise: the from-scratch net overfits
    # BUSI's few hundred lesions after ~20 epochs with the basic ranges.
    "strong": dict(rot=15, scale=(0.8, 1.25), aniso=0.1, shift=0.1, gamma=0.35, gain=0.2, offset=0.08,
                   noise=0.03, blur=0.2),
    # For other centres' scanners: zoom out to 0.55x so BUS-BRA's tight crops also appear as small lesions in a
    # wide field of view like BUSI's, wider gain and gamma, and ultrasound artefacts from usaugment (depth
    # attenuation, acoustic shadows, haze, speckle reduction), each applied with probability `artefacts`.
    "multicentre": dict(rot=15, scale=(0.55, 1.3), aniso=0.15, shift=0.12, gamma=0.45, gain=0.3, offset=0.1,
                        noise=0.04, blur=0.3, artefacts=0.25),
}


@dataclass
class TrainSettings:
    """Everything a training run needs. These defaults are the one set: the command line's and the Train page's
    come from here. They are the from-scratch recipe of the shipped network (12 filters, depth 5, 256x256,
    strong augmentation, cosine learning rate); the shipped weights fine-tune it further (recipes/)."""

    # one dataset folder, or several (any understood layout, core.data.layouts.detect_layout), trained on together
    data: list[str] | str
    # the run folder; empty when the job runner is to make a new one in the runs folder (core.training.jobs)
    out: str = ""
    epochs: int = 40
    image_size: int = 256
    base_filters: int = 12
    depth: int = 5
    # the full-resolution level's width when it differs from base_filters (core.model.unet.build_unet); None: the same
    top_filters: int | None = None
    # normalisation after each convolution: "batch", or "group" (core.model.unet.norm_layer)
    norm: str = "batch"
    batch_size: int = 8
    learning_rate: float = 1e-3
    loss: str = "bce_dice"
    augment: bool = True
    augment_strength: str = "strong"
    seed: int = 0
    malignancy_weight: float = 0.3
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    init_weights: str | None = None
    # a teacher network whose lesion probabilities are blended into the mask targets (core.training.distil),
    # with this weight on the teacher; None trains on the ground truth alone
    distil_from: str | None = None
    distil_weight: float = 0.5
    split_from: str | None = None
    max_cases: int | None = None
    compare_with: str | None = None
    lr_schedule: str = "cosine"
    # "train+val": the final refit of a recipe already chosen on validation. The network also
    # trains on the validation images, so nothing is selected on them: the last epoch ships,
    # at fixed_threshold.
    fit_on: str = "train"
    fixed_threshold: float = 0.5
    cleanup_data: bool = False
    # add lesion-free crops of train and validation lesion images as normal examples (core.training.negatives)
    negative_crops: bool = False
    # how often a crop is drawn relative to a real image (with negative_crops): 0.5 makes crops about a third of
    # each epoch's draws when there is one crop per lesion image, so lesion images are not crowded out
    negative_crop_weight: float = 1.0
    # leave these scanners out altogether (Case.device), for leave-one-scanner-out figures (tools.leave_one_out)
    exclude_devices: list[str] = field(default_factory=list)
    # How often each dataset's images are drawn, relative to the others, per image: {"busi": 1.5} draws a BUSI
    # image 1.5 times as often as one of a dataset not named (weight 1). An epoch still draws as many images
    # as are fitted. None: every image once per epoch.
    dataset_weights: dict[str, float] | None = None
    name: str = "model"
    # training processes, each with its own copy of the network, synchronised after every batch
    # (core.training.distributed); 1 is the ordinary single-process run
    workers: int = 1
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if isinstance(self.data, str):
            self.data = [self.data]

    @classmethod
    def from_saved(cls, saved: dict) -> TrainSettings:
        """Settings read back from a run's settings.json; fields this version no longer knows are dropped."""
        return cls(**{k: v for k, v in saved.items() if k in cls.__dataclass_fields__})


# settings with a flag of their own that takes a value: field -> core.train's flag
VALUE_FLAGS = {"out": "--out", "epochs": "--epochs", "image_size": "--image-size", "base_filters": "--base-filters",
               "top_filters": "--top-filters",
               "depth": "--depth", "norm": "--norm", "batch_size": "--batch-size", "learning_rate": "--learning-rate", "loss": "--loss",
               "augment_strength": "--augment", "seed": "--seed", "init_weights": "--init-weights",
               "distil_from": "--distil-from", "distil_weight": "--distil-weight",
               "split_from": "--split-from", "max_cases": "--max-cases", "name": "--name",
               "lr_schedule": "--lr-schedule", "fit_on": "--fit-on", "fixed_threshold": "--fixed-threshold",
               "compare_with": "--compare-with", "workers": "--workers",
               "negative_crop_weight": "--negative-crop-weight"}
# on/off settings: field -> (flag, the value the flag sets)
SWITCH_FLAGS = {"augment": ("--no-augment", False), "cleanup_data": ("--cleanup-data", True),
                "negative_crops": ("--negative-crops", True)}


def command_line(settings: TrainSettings, resume: bool = False) -> list[str]:
    """core.train's arguments for these settings: every setting that differs from its default, so that
    ``parse_args(command_line(s))`` gives s back. ValueError for a changed setting the command line cannot carry."""
    args = [a for d in settings.data for a in ("--data", d)]
    for name, weight in sorted((settings.dataset_weights or {}).items()):
        args += ["--dataset-weight", f"{name}={weight!r}"]
    for d in settings.exclude_devices:
        args += ["--exclude-device", d]
    for name, flag in VALUE_FLAGS.items():
        value = getattr(settings, name)
        if value != default(name) or name == "out":
            args += [flag, str(value)]
    for name, (flag, value) in SWITCH_FLAGS.items():
        if getattr(settings, name) == value:
            args.append(flag)
    carried = {"data", "dataset_weights", "exclude_devices", "extra", *VALUE_FLAGS, *SWITCH_FLAGS}
    lost = [f for f in TrainSettings.__dataclass_fields__ if f not in carried and getattr(settings, f) != default(f)]
    if lost:
        raise ValueError(f"core.train has no option for {', '.join(lost)}: set it in a recipe instead")
    return args + (["--resume"] if resume else [])


def default(name: str):
    """The default of one setting, for the command line and the Train page."""
    return TrainSettings.__dataclass_fields__[name].default


def parse_dataset_weights(items: list[str]) -> dict[str, float]:
    """["busi=1.5", ...] -> {"busi": 1.5}; ValueError with a plain message for anything else."""
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        try:
            weight = float(value)
        except ValueError:
            raise ValueError(f"dataset weight {item!r}: write NAME=W, e.g. busi=1.5") from None
        if not name.strip() or weight <= 0:
            raise ValueError(f"dataset weight {item!r}: name a dataset and give a weight above 0")
        out[name.strip()] = weight
    return out


def parse_args(argv=None) -> tuple[TrainSettings, bool]:
    ap = argparse.ArgumentParser(description="Train the lesion U-Net on one or more dataset folders into a run folder.")
    ap.add_argument("--data", required=True, action="append",
                    help="dataset folder in BUSI's or BUS-BRA's layout; repeat to train on several together")
    ap.add_argument("--dataset-weight", action="append", default=[], metavar="NAME=W",
                    help="draw each image of dataset NAME (busi, busbra) W times as often as an image of a dataset "
                         "not named; e.g. busi=1.5 so BUS-BRA's size does not drown BUSI's normal scans")
    ap.add_argument("--out", required=True, help="run folder to write")
    ap.add_argument("--epochs", type=int, default=default("epochs"))
    ap.add_argument("--image-size", type=int, default=default("image_size"))
    ap.add_argument("--base-filters", type=int, default=default("base_filters"))
    ap.add_argument("--depth", type=int, default=default("depth"))
    ap.add_argument("--top-filters", type=int, default=default("top_filters"),
                    help="width of the full-resolution level alone (default: the base filters)")
    ap.add_argument("--norm", choices=["batch", "group"], default=default("norm"),
                    help="normalisation after each convolution: batch, or group (each image's own statistics)")
    ap.add_argument("--batch-size", type=int, default=default("batch_size"))
    ap.add_argument("--learning-rate", type=float, default=default("learning_rate"))
    ap.add_argument("--loss", choices=sorted(LOSS_LABELS), default=default("loss"),
                    help="bce_image_dice: BCE plus Dice averaged over lesion images, the way it is reported")
    ap.add_argument("--no-augment", action="store_true", help="turn augmentation off")
    ap.add_argument("--augment", choices=sorted(AUGMENT_RANGES), default=default("augment_strength"),
                    help="augmentation ranges (basic: those of the first default model)")
    ap.add_argument("--seed", type=int, default=default("seed"))
    ap.add_argument("--init-weights", help="start from this model's weights (same width and depth)")
    ap.add_argument("--distil-from", metavar="TEACHER",
                    help="blend this network's lesion probabilities into the mask targets (same image size)")
    ap.add_argument("--distil-weight", type=float, default=default("distil_weight"),
                    help="the teacher's share of each mask target, 0 to 1 (with --distil-from)")
    ap.add_argument("--split-from", help="reuse this split manifest (split.json); images it does not name are split afresh")
    ap.add_argument("--max-cases", type=int, help="use a subset of this many images, balanced by dataset and class")
    ap.add_argument("--name", default=default("name"), help="name written on the model card")
    ap.add_argument("--lr-schedule", choices=["plateau", "cosine"], default=default("lr_schedule"),
                    help="cosine (default), or plateau: halve on a flat validation curve")
    ap.add_argument("--fit-on", choices=["train", "train+val"], default=default("fit_on"),
                    help="train+val: final refit of a recipe chosen on validation; keeps the last epoch")
    ap.add_argument("--fixed-threshold", type=float, default=default("fixed_threshold"),
                    help="the mask threshold a train+val refit ships with (it has no held-out images to choose one)")
    ap.add_argument("--compare-with", help="also score this model on the test split, for the card's comparison")
    ap.add_argument("--cleanup-data", action="store_true",
                    help="delete DATA after decoding (only a temporary folder made from an uploaded zip)")
    ap.add_argument("--negative-crops", action="store_true",
                    help="add lesion-free crops of train and validation lesion images as normal examples")
    ap.add_argument("--negative-crop-weight", type=float, default=default("negative_crop_weight"),
                    help="how often a crop is drawn relative to a real image (with --negative-crops)")
    ap.add_argument("--exclude-device", action="append", default=[], metavar="DEVICE",
                    help="leave out every image of this scanner (as the layout names it, e.g. 'Toshiba Aplio 300')")
    ap.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last.keras")
    ap.add_argument("--workers", type=int, default=default("workers"),
                    help="train on N workers (MultiWorkerMirroredStrategy): N local processes, or one per host "
                         "when TF_CONFIG is set (docs/scale.md)")
    a = ap.parse_args(argv)
    if a.workers < 1:
        ap.error("--workers must be at least 1")
    if not 0.0 <= a.distil_weight <= 1.0:
        ap.error("--distil-weight must lie between 0 and 1")
    if a.fit_on == "train+val" and a.lr_schedule == "plateau":
        # a refit trains on the validation images, so a plateau schedule would follow an in-sample curve
        ap.error("--lr-schedule plateau follows the validation curve, and a train+val refit trains on the "
                 "validation images: use --lr-schedule cosine")
    try:
        dataset_weights = parse_dataset_weights(a.dataset_weight)
    except ValueError as exc:
        ap.error(str(exc))
    s = TrainSettings(data=a.data, out=a.out, epochs=a.epochs, image_size=a.image_size, base_filters=a.base_filters,
                      top_filters=a.top_filters, depth=a.depth, norm=a.norm, batch_size=a.batch_size,
                      learning_rate=a.learning_rate, loss=a.loss,
                      augment=not a.no_augment, augment_strength=a.augment, seed=a.seed,
                      dataset_weights=dataset_weights or None, init_weights=a.init_weights,
                      distil_from=a.distil_from, distil_weight=a.distil_weight, split_from=a.split_from,
                      max_cases=a.max_cases, name=a.name, compare_with=a.compare_with, cleanup_data=a.cleanup_data,
                      negative_crops=a.negative_crops, negative_crop_weight=a.negative_crop_weight,
                      exclude_devices=a.exclude_device,
                      lr_schedule=a.lr_schedule, fit_on=a.fit_on, fixed_threshold=a.fixed_threshold,
                      workers=a.workers, extra={"argv": list(argv if argv is not None else sys.argv[1:])})
    return s, a.resume
