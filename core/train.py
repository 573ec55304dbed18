"""Training the U-Net on a BUSI-shaped folder, into a self-describing run folder.

    python -m core.train --data DIR --out RUN_DIR [--epochs N] [--image-size S]
        [--base-filters F] [--batch-size B] [--seed K] [--resume] ...

RUN_DIR receives, as training goes:
  status.json    state, epoch, progress, latest metrics, pid (replaced atomically)
  metrics.csv    one row per epoch
  settings.json  the settings used;  split.json  the train/val/test manifest
  last.keras     the latest checkpoint (for --resume);  best.keras  best by val Dice
and at the end model.keras with model.card.json / model.card.md, evaluated on
its own test split at the original image resolution.

SIGTERM or Ctrl-C stops the run after the current batch and marks it
"cancelled"; nothing outside RUN_DIR is ever written.
"""
from __future__ import annotations

import argparse
import csv
import os
import signal
import sys
import time
import traceback
from dataclasses import asdict, dataclass, field

import numpy as np

from core import runtime  # noqa: F401  (quiets TensorFlow before import)
from core.files import read_json, save_model_atomic, write_json_atomic

DONE, FAILED, CANCELLED = "done", "failed", "cancelled"
FINAL_STATES = (DONE, FAILED, CANCELLED)

# The segmentation losses core.model.LOSSES offers, with the names the Train page shows.
# Kept here rather than read from core.model so that `--help` and the page need no Keras import;
# tests/core/test_model_inference.py checks the two lists agree.
LOSS_LABELS = {"bce_dice": "BCE + Dice", "bce_image_dice": "BCE + Dice per lesion image", "bce": "BCE"}


@dataclass
class TrainSettings:
    # one dataset folder, or several (any understood layout, core.data.detect_layout), trained on together
    data: list[str] | str
    out: str
    epochs: int = 40
    image_size: int = 256
    base_filters: int = 16
    depth: int = 4
    batch_size: int = 8
    learning_rate: float = 1e-3
    loss: str = "bce_dice"
    augment: bool = True
    # "basic" is what the first default model trained with; saved settings
    # without this field resume with it.
    augment_strength: str = "basic"
    seed: int = 0
    # The seed that draws the fresh network's initial weights; None: the same as seed. Two runs that share it
    # start from the same network and differ only in data order and augmentation, so core.average may
    # average them. Saved settings without it resume as None.
    init_seed: int | None = None
    malignancy_weight: float = 0.3
    val_fraction: float = 0.15
    test_fraction: float = 0.15
    init_weights: str | None = None
    split_from: str | None = None
    max_cases: int | None = None
    compare_with: str | None = None
    select_by: str = "image_dice"
    lr_schedule: str = "plateau"
    # "train+val": the final refit of a recipe already chosen on validation. The network also
    # trains on the validation images, so nothing is selected on them: the last epoch ships,
    # at fixed_threshold. Saved settings without these fields resume as "train".
    fit_on: str = "train"
    fixed_threshold: float = 0.5
    # None: the residual U-Net trained from scratch. A key of core.encoders.ENCODERS: core.encoders'
    # U-Net with that pretrained encoder, read from encoder_weights. Saved settings without it resume as None.
    encoder: str | None = None
    encoder_weights: str | None = None
    # Distillation: the masks the network fits become teacher_weight x the teachers' mean lesion probability
    # (each teacher also run on the mirror image) + (1 - teacher_weight) x the ground truth. Validation and
    # test still score against the ground truth. Saved settings without these fields resume without teachers.
    teachers: list[str] | None = None
    teacher_weight: float = 0.5
    # Emphasis: these case keys appear `emphasis` times in every epoch of the fitted images instead of once
    # (a hard, rare kind of image the network otherwise gives up on, e.g. bench/axillary_keys.txt). The keys
    # are stored, not the file's name, so a run can be repeated. Saved settings without them resume without.
    emphasised: list[str] | None = None
    emphasis: int = 1
    cleanup_data: bool = False
    # How often each dataset's images are drawn, relative to the others, per image: {"busi": 1.5} draws a BUSI
    # image 1.5 times as often as one of a dataset not named (weight 1). An epoch still draws as many images
    # as are fitted. None: every image once per epoch. Saved settings without it resume as None.
    dataset_weights: dict[str, float] | None = None
    name: str = "model"
    extra: dict = field(default_factory=dict)

    def __post_init__(self):
        if isinstance(self.data, str):
            self.data = [self.data]

    @classmethod
    def from_saved(cls, saved: dict) -> "TrainSettings":
        """Settings read back from a run's settings.json; fields this version no longer knows are dropped."""
        return cls(**{k: v for k, v in saved.items() if k in cls.__dataclass_fields__})


class RunFolder:
    """Paths of a run folder, and the atomic status writer."""

    def __init__(self, path: str):
        self.path = os.path.abspath(path)
        os.makedirs(self.path, exist_ok=True)
        p = lambda n: os.path.join(self.path, n)  # noqa: E731
        self.status, self.metrics, self.settings = p("status.json"), p("metrics.csv"), p("settings.json")
        self.split, self.last, self.best, self.model = p("split.json"), p("last.keras"), p("best.keras"), p("model.keras")
        self.log = p("train.log")

    def read_status(self) -> dict:
        return read_json(self.status, {}) or {}

    def update_status(self, **fields) -> dict:
        status = self.read_status()
        status.update(fields, pid=os.getpid(), updated_at=time.time())
        write_json_atomic(self.status, status)
        return status

    def epochs_done(self) -> int:
        try:
            with open(self.metrics) as fh:
                return max(0, sum(1 for _ in fh) - 1)
        except OSError:
            return 0


# ---------------------------------------------------------------- data

@dataclass
class Arrays:
    """Cached, resized training arrays. x: (N, S, S) uint8; y: (N, S, S) bool, or float32 in [0, 1] for
    distillation targets; malignant: (N,) 0/1; cls_weight: (N,) weight of the malignancy loss (0 = no label)."""

    keys: list[str]
    x: np.ndarray
    y: np.ndarray
    malignant: np.ndarray
    cls_weight: np.ndarray
    # (N,) relative chance of each image being drawn (dataset weights); None: each image once per epoch
    draw_weight: np.ndarray | None = None


def _count(items) -> dict:
    out: dict = {}
    for i in items:
        out[i] = out.get(i, 0) + 1
    return out


def prepare_data(settings: TrainSettings, run: RunFolder, log=print):
    """Scan, decode, audit and split the data; return (arrays per split, loaded per split, audit report)."""
    from core.audit import NEAR_DUPLICATE_BITS, audit_loaded, group_cases
    from core.data import load_cases, scan_datasets
    from core.preprocess import resize_image, resize_mask
    from core.split import check_no_group_leak, extend_split, make_split, read_manifest, stratum, write_manifest

    dataset = scan_datasets(settings.data)
    cases = dataset.cases
    if settings.max_cases:
        # a deterministic, class-balanced subset for quick runs and tests
        by_class: dict[str, list] = {}
        for c in sorted(cases, key=lambda c: c.key):
            by_class.setdefault(stratum(c), []).append(c)
        per = max(1, settings.max_cases // max(1, len(by_class)))
        cases = [c for lst in by_class.values() for c in lst[:per]]
    unreadable: list[str] = []
    log(f"decoding {len(cases)} images from {dataset.root}")
    loaded = load_cases(cases, unreadable)
    for msg in dataset.problems + unreadable:
        log(f"warning: {msg}")
    if dataset.problems or unreadable:
        log(f"warning: {len(dataset.problems) + len(unreadable)} files skipped (see above)")
    grouping = group_cases(loaded)
    report = audit_loaded(dataset, loaded, grouping, unreadable)
    keys = [lc.case.key for lc in loaded]
    strata = [stratum(lc.case) for lc in loaded]
    group_ids = [grouping.group_of[k] for k in keys]
    if os.path.exists(run.split):
        split = read_manifest(run.split)
    elif settings.split_from:
        # the manifest's images keep their sides; images it does not name (a dataset added) are split afresh
        split = extend_split(read_manifest(settings.split_from), keys, strata, group_ids, seed=settings.seed,
                             val_fraction=settings.val_fraction, test_fraction=settings.test_fraction)
    else:
        split = make_split(keys, strata, group_ids, seed=settings.seed, val_fraction=settings.val_fraction,
                           test_fraction=settings.test_fraction)
    known = set(keys)
    split = {k: [x for x in v if x in known] for k, v in split.items()}
    check_no_group_leak(split, grouping.group_of)
    dataset_of = {lc.case.key: lc.case.dataset for lc in loaded}
    write_manifest(run.split, split, {"dataset_root": os.path.basename(dataset.root), "seed": settings.seed,
                                      "near_duplicate_bits": NEAR_DUPLICATE_BITS,
                                      "by_dataset": {side: dict(sorted(_count(dataset_of[k] for k in members).items()))
                                                     for side, members in split.items()}})
    by_key = {lc.case.key: lc for lc in loaded}
    conflicted = grouping.conflicted_keys
    S = settings.image_size

    def arrays(names: list[str]) -> Arrays:
        lcs = [by_key[k] for k in names]
        mal = np.array([max(0, lc.case.malignant) for lc in lcs], np.float32)
        has_label = np.array([lc.case.malignant >= 0 and lc.case.key not in conflicted for lc in lcs], bool)
        # balance benign/malignant in the head's loss
        pos = max(1, int((mal[has_label] == 1).sum()))
        neg = max(1, int((mal[has_label] == 0).sum()))
        w = np.where(mal == 1, (pos + neg) / (2 * pos), (pos + neg) / (2 * neg)).astype(np.float32) * has_label
        return Arrays(names,
                      np.stack([resize_image(lc.gray, S) for lc in lcs]) if lcs else np.zeros((0, S, S), np.uint8),
                      np.stack([resize_mask(lc.mask, S) for lc in lcs]) if lcs else np.zeros((0, S, S), bool),
                      mal, w)

    out = {name: arrays(v) for name, v in split.items()}
    # what the network fits: the train split, or train and val together for a final refit
    out["fit"] = arrays(split["train"] + split["val"]) if settings.fit_on == "train+val" else out["train"]
    if settings.teachers:
        fit = out["fit"]
        soft = teacher_probabilities(settings.teachers, fit.x, log)
        w = settings.teacher_weight
        out["fit"] = Arrays(fit.keys, fit.x, (w * soft + (1 - w) * fit.y).astype(np.float32), fit.malignant,
                            fit.cls_weight)
    if settings.emphasised and settings.emphasis > 1:
        out["fit"] = repeat_emphasised(out["fit"], set(settings.emphasised), settings.emphasis, log)
    if settings.dataset_weights:
        fit = out["fit"]
        fit.draw_weight = np.array([settings.dataset_weights.get(dataset_of[k], 1.0) for k in fit.keys], np.float64)
        shares = {d: float(fit.draw_weight[[dataset_of[k] == d for k in fit.keys]].sum() / fit.draw_weight.sum())
                  for d in sorted(set(dataset_of[k] for k in fit.keys))}
        log("dataset weights " + ", ".join(f"{d} {settings.dataset_weights.get(d, 1.0):g}" for d in shares)
            + ": share of each epoch's draws " + ", ".join(f"{d} {v:.0%}" for d, v in shares.items()))
    loaded_split = {name: [by_key[k] for k in v] for name, v in split.items()}
    return out, loaded_split, report


def repeat_emphasised(fit: Arrays, keys: set[str], times: int, log=print) -> Arrays:
    """The fitted arrays with each image named in keys present `times` times; the others once.
    The repeats are copies of the same decoded image, each augmented afresh when it is drawn."""
    index = np.concatenate([np.full(times if k in keys else 1, i) for i, k in enumerate(fit.keys)]).astype(int)
    n = sum(k in keys for k in fit.keys)
    log(f"emphasis: {n} of the {len(fit.keys)} fitted images appear {times} times per epoch "
        f"({len(index)} draws per epoch)")
    return Arrays([fit.keys[i] for i in index], fit.x[index], fit.y[index], fit.malignant[index], fit.cls_weight[index])


def teacher_probabilities(teachers: list[str], x: np.ndarray, log=print, batch_size: int = 8) -> np.ndarray:
    """The teachers' mean lesion probability for each (S, S) uint8 image, each teacher also run on the mirror
    image (flipped back), at the images' own size: (N, S, S) float32."""
    from core.inference import Predictor
    from core.preprocess import normalise

    total = np.zeros(x.shape, np.float32)
    for path in teachers:
        p = Predictor.load(path)
        if p.image_size != x.shape[1]:
            raise ValueError(f"teacher {path} takes {p.image_size}² images, this run {x.shape[1]}²: "
                             "distil at the teacher's image size")
        for i in range(0, len(x), batch_size):
            batch = np.stack([normalise(im) for im in x[i:i + batch_size]])
            if p.channels != 1:
                batch = np.repeat(batch, p.channels, axis=-1)
            total[i:i + batch_size] += p.forward_batch(batch, mirror=True)
        log(f"teacher {path}: lesion probabilities for {len(x)} training images (with their mirror images)")
    return total / len(teachers)


AUGMENT_RANGES = {
    # rotation (deg), scale, anisotropy, shift (fraction), gamma (log), gain, offset, noise sd, blur probability
    "basic": dict(rot=10, scale=(0.9, 1.15), aniso=0.0, shift=0.06, gamma=0.25, gain=0.15, offset=0.06,
                  noise=0.0, blur=0.0),
    # Wider geometry and speckle-like noise: the from-scratch net overfits
    # BUSI's few hundred lesions after ~20 epochs with the basic ranges.
    "strong": dict(rot=15, scale=(0.8, 1.25), aniso=0.1, shift=0.1, gamma=0.35, gain=0.2, offset=0.08,
                   noise=0.03, blur=0.2),
}


def _augment(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, strength: str = "basic"):
    """Same random geometry for image and mask, intensity for the image only. A boolean mask is warped by
    nearest neighbour and stays boolean; a soft (distillation) mask is warped linearly and stays in [0, 1]."""
    import cv2

    r = AUGMENT_RANGES[strength]
    S = x.shape[0]
    if rng.random() < 0.5:
        x, y = x[:, ::-1], y[:, ::-1]
    angle = rng.uniform(-r["rot"], r["rot"])
    scale = rng.uniform(*r["scale"])
    tx, ty = rng.uniform(-r["shift"], r["shift"], size=2) * S
    m = cv2.getRotationMatrix2D((S / 2, S / 2), angle, scale)
    if r["aniso"]:
        # stretch one axis about the centre: probes differ in aspect and depth scale
        k = np.exp(rng.uniform(-r["aniso"], r["aniso"]))
        stretch = np.array([[k, 0, S / 2 * (1 - k)], [0, 1 / k, S / 2 * (1 - 1 / k)], [0, 0, 1]])
        m = (stretch @ np.vstack([m, [0, 0, 1]]))[:2]
    m[:, 2] += (tx, ty)
    x = cv2.warpAffine(np.ascontiguousarray(x), m, (S, S), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    if y.dtype == bool:
        y = cv2.warpAffine(np.ascontiguousarray(y).astype(np.uint8), m, (S, S), flags=cv2.INTER_NEAREST,
                           borderMode=cv2.BORDER_CONSTANT).astype(bool)
    else:
        y = np.clip(cv2.warpAffine(np.ascontiguousarray(y, dtype=np.float32), m, (S, S), flags=cv2.INTER_LINEAR,
                                   borderMode=cv2.BORDER_CONSTANT), 0, 1)
    xf = x.astype(np.float32) / 255.0
    if r["blur"] and rng.random() < r["blur"]:
        xf = cv2.GaussianBlur(xf, (0, 0), rng.uniform(0.5, 1.2))
    gamma = np.exp(rng.uniform(-r["gamma"], r["gamma"]))
    xf = np.clip(xf, 0, 1) ** gamma
    xf = xf * rng.uniform(1 - r["gain"], 1 + r["gain"]) + rng.uniform(-r["offset"], r["offset"])
    if r["noise"] and rng.random() < 0.5:
        # multiplicative, like ultrasound speckle
        xf = xf * (1 + rng.normal(0, rng.uniform(0, r["noise"]) * 3, xf.shape).astype(np.float32))
    return np.clip(xf, 0, 1), y


def make_batches(arrays: Arrays, batch_size: int, augment: bool, shuffle: bool, seed: int,
                 strength: str = "basic"):
    """Indexable batches of (image, {mask, malignancy}, {mask, malignancy} sample weights), reshuffled and
    re-augmented by ``on_epoch_end`` (the PyDataset protocol, fed by ``fit_epochs``)."""
    from core.preprocess import normalise

    class Batches:
        def __init__(self):
            self.batch_size = batch_size
            self.epoch = 0
            self.order = np.arange(len(arrays.keys))
            self.on_epoch_end()

        def __len__(self):
            n = len(arrays.keys)
            # Training drops the last partial batch: a new batch shape would
            # trigger another XLA compilation (seconds on this CPU) every epoch.
            return max(1, n // batch_size if shuffle and n >= batch_size else int(np.ceil(n / batch_size)))

        def on_epoch_end(self):
            self.epoch += 1
            if shuffle and arrays.draw_weight is not None:
                # weighted draws: as many as there are images, with replacement, each image by its weight
                p = arrays.draw_weight / arrays.draw_weight.sum()
                self.order = np.random.default_rng(seed + self.epoch).choice(len(p), size=len(p), replace=True, p=p)
            elif shuffle:
                np.random.default_rng(seed + self.epoch).shuffle(self.order)

        def __getitem__(self, i):
            idx = self.order[i * batch_size:(i + 1) * batch_size]
            rng = np.random.default_rng((seed, self.epoch, int(i)))
            xs, ys = [], []
            for j in idx:
                if augment:
                    x, y = _augment(arrays.x[j], arrays.y[j], rng, strength)
                    xs.append(x[..., None].astype(np.float32))
                else:
                    xs.append(normalise(arrays.x[j]))
                    y = arrays.y[j]
                ys.append(np.asarray(y, np.float32)[..., None])
            n = len(idx)
            return (np.stack(xs),
                    {"mask": np.stack(ys), "malignancy": arrays.malignant[idx].reshape(n, 1)},
                    {"mask": np.ones(n, np.float32), "malignancy": arrays.cls_weight[idx]})

    return Batches()


def as_keras_dataset(batches):
    """``make_batches`` batches as a Keras PyDataset, for ``model.fit`` (used with several GPUs, see ``train``)."""
    import keras

    class KerasBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=1, use_multiprocessing=False)

        def __len__(self):
            return len(batches)

        def __getitem__(self, i):
            return batches[i]

        def on_epoch_end(self):
            batches.on_epoch_end()

    return KerasBatches()


def fit_epochs(model, train_batches, val_batches, epochs: int, initial_epoch: int, callbacks) -> None:
    """Keras' fit loop over ``make_batches`` batches, fed to ``train_on_batch`` one at a time.

    Why not ``model.fit(train_batches)``: Keras feeds a PyDataset (or any Python generator) through
    tf.data's ``from_generator``, and on the 2-core CPU each step of the plain (non-XLA) graph then took
    about 1.8x as long as when fed here (``python3 bench/bench_train_feed.py``). Everything else is
    fit's: the same batches in the same order (``on_epoch_end`` reshuffles), training figures as the
    running mean over the epoch's batches, ``val_``-prefixed validation figures, the callbacks' hooks,
    and ``model.stop_training`` honoured after every batch. (``train_on_batch`` resets the metrics each
    call, so the loop averages them; every training batch has the same size, so for the loss and the
    mean-type metrics that is fit's figure exactly. The malignancy AUC becomes a mean of per-batch AUCs.)
    """
    import keras

    steps = len(train_batches)
    hooks = keras.callbacks.CallbackList(callbacks, add_history=True, model=model, epochs=epochs, steps=steps,
                                         verbose=0)
    # validation batches are not augmented, so they are built once and concatenated for evaluate()
    parts = [val_batches[i] for i in range(len(val_batches))]
    val_x = np.concatenate([p[0] for p in parts])
    val_y = {k: np.concatenate([p[1][k] for p in parts]) for k in parts[0][1]}
    val_w = {k: np.concatenate([p[2][k] for p in parts]) for k in parts[0][2]}
    model.stop_training = False
    hooks.on_train_begin()
    logs = {}
    for epoch in range(initial_epoch, epochs):
        hooks.on_epoch_begin(epoch)
        totals = {}
        for step in range(steps):
            # augmented here, between steps: it costs about 2 % of a step, too little to be worth a thread
            x, y, w = train_batches[step]
            hooks.on_train_batch_begin(step)
            for k, v in model.train_on_batch(x, y, sample_weight=w, return_dict=True).items():
                totals[k] = totals.get(k, 0.0) + float(v)
            logs = {k: v / (step + 1) for k, v in totals.items()}
            hooks.on_train_batch_end(step, logs)
            if model.stop_training:
                break
        train_batches.on_epoch_end()
        epoch_logs = dict(logs)
        if not model.stop_training:
            val = model.evaluate(val_x, val_y, sample_weight=val_w, batch_size=val_batches.batch_size, verbose=0,
                                 return_dict=True)
            epoch_logs.update({f"val_{k}": v for k, v in val.items()})
        hooks.on_epoch_end(epoch, epoch_logs)
        logs = epoch_logs
        if model.stop_training:
            break
    hooks.on_train_end(logs)


# ---------------------------------------------------------------- callbacks

class _Cancel:
    requested = False


def _install_signal_handlers():
    def handler(signum, frame):
        _Cancel.requested = True

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


SELECTION_METRIC = {"image_dice": "val_image_dice", "batch_dice": "val_mask_dice_coef"}


def image_dice_mean(probabilities: np.ndarray, targets: np.ndarray, threshold: float = 0.5) -> float:
    """Mean per-image Dice at the model's resolution; an empty image scores 1 only when left empty.

    Unlike Keras' batch-averaged Dice, one lesion-free batch cannot swing it,
    so it is a steadier signal for choosing the best checkpoint.
    """
    from core.inference import mask_at
    from core.metrics import dice

    probabilities = probabilities.reshape(len(probabilities), -1)
    targets = targets.reshape(len(targets), -1).astype(bool)
    return float(np.mean([dice(gt, mask_at(prob, threshold)) for prob, gt in zip(probabilities, targets)]))


def make_progress_callback(run: RunFolder, total_epochs: int, best_so_far: float, log=print,
                           val: "Arrays | None" = None, monitor: str = "val_image_dice"):
    import keras

    from core.preprocess import normalise

    # normalised once: the same validation images are scored after every epoch
    val_x = np.stack([normalise(im) for im in val.x]) if val is not None and len(val.keys) else None

    class Progress(keras.callbacks.Callback):
        """Writes status.json and metrics.csv, saves last/best checkpoints, honours cancel.

        With ``val`` given it also adds ``val_image_dice`` to the epoch logs (in
        place, so later callbacks such as the LR scheduler can monitor it).
        """

        def __init__(self):
            super().__init__()
            self.best = best_so_far
            self.last_write = 0.0
            self.epoch_start = time.time()
            self.bar = None

        def on_epoch_begin(self, epoch, logs=None):
            from tqdm import tqdm

            self.epoch_start = time.time()
            self.bar = tqdm(total=self.params.get("steps"), desc=f"epoch {epoch + 1}/{total_epochs}",
                            unit="batch", file=sys.stdout, leave=True, mininterval=2.0)

        def on_train_batch_end(self, batch, logs=None):
            if self.bar:
                self.bar.update(1)
            if _Cancel.requested:
                self.model.stop_training = True
            now = time.time()
            if now - self.last_write > 2.0:
                self.last_write = now
                run.update_status(state="training", step=batch + 1, steps=self.params.get("steps"))

        def on_epoch_end(self, epoch, logs=None):
            if self.bar:
                self.bar.close()
            if _Cancel.requested:
                return  # a cancelled epoch is incomplete: do not record or checkpoint it
            if val_x is not None and logs is not None:
                out = self.model.predict(val_x, batch_size=8, verbose=0)
                logs["val_image_dice"] = image_dice_mean(out["mask"] if isinstance(out, dict) else out, val.y)
            logs = {k: float(v) for k, v in (logs or {}).items()}
            logs["epoch"] = epoch + 1
            logs["seconds"] = time.time() - self.epoch_start
            new = not os.path.exists(run.metrics)
            fields = ["epoch"] + sorted(k for k in logs if k != "epoch")
            with open(run.metrics, "a", newline="") as fh:
                w = csv.DictWriter(fh, fieldnames=fields, extrasaction="ignore")
                if new:
                    w.writeheader()
                w.writerow(logs)
            val_dice = logs.get(monitor, float("nan"))
            if val_dice > self.best:
                self.best = val_dice
                save_model_atomic(self.model, run.best)
            save_model_atomic(self.model, run.last)
            log(f"epoch {epoch + 1}: loss {logs.get('loss', float('nan')):.4f} val Dice {val_dice:.4f} (best {self.best:.4f})")
            run.update_status(state="training", epoch=epoch + 1, epochs=total_epochs, metrics=logs,
                              best_val_dice=self.best, epoch_seconds=logs["seconds"])

    return Progress()


def _best_val_dice(run: RunFolder, monitor: str = "val_image_dice") -> float:
    try:
        with open(run.metrics) as fh:
            rows = list(csv.DictReader(fh))
        vals = [float(r.get(monitor) or "nan") for r in rows]
        vals = [v for v in vals if v == v]
        return max(vals) if vals else -1.0
    except OSError:
        return -1.0


# ---------------------------------------------------------------- finishing

def finalize(run: RunFolder, settings: TrainSettings, loaded_split, report, device: str, started: float,
             log=print) -> dict:
    """Reload the best checkpoint, pick the threshold on val, score the test split, write model + card.

    A train+val refit has no unseen validation images: it keeps its last epoch and its fixed threshold,
    and its card marks the validation figures as figures on images it trained on.
    """
    import keras

    from core import modelcard
    from core.evaluate import (choose_threshold, dice_difference, predict_cases, score_predictions, seen_in_training,
                               summarise, summarise_by)
    from core.inference import Predictor

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
    val_summary = summarise(score_predictions(val, threshold), conflicted) if val else {}
    test = predict_cases(predictor, loaded_split["test"])
    test_rows = score_predictions(test, threshold)
    test_summary = summarise(test_rows, conflicted)
    test_by_dataset = summarise_by(test_rows, "dataset", conflicted)
    comparison = None
    if settings.compare_with and os.path.isfile(settings.compare_with):
        # the model this run may replace, scored on exactly the same test images
        try:
            other = Predictor.load(settings.compare_with)
            other_rows = score_predictions(predict_cases(other, loaded_split["test"]), other.threshold)
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
    card = {
        "name": settings.name,
        "format_version": 1,
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "modality": "US",
        "input": {"size": settings.image_size, "channels": 1, "dtype": "float32", "range": [0.0, 1.0],
                  "preprocessing": "grayscale (ITU-R 601 luma), resize (area), /255"},
        "outputs": {"mask": "per-pixel lesion probability (sigmoid), resized back to the original image",
                    "malignancy": "probability the lesion is malignant (sigmoid), meaningful only when a lesion is present"},
        "architecture": {"summary": (f"U-Net with the {_encoder_title(settings.encoder)} encoder pretrained on ImageNet (core/encoders.py), "
                                     f"decoder {settings.base_filters} base filters" if settings.encoder else
                                     f"residual U-Net, {settings.base_filters} base filters, depth {settings.depth}")
                         + f", {params / 1e6:.2f} M parameters, malignancy head on the bottleneck",
                         "base_filters": settings.base_filters, "depth": settings.depth, "params": params,
                         "encoder": settings.encoder},
        "threshold": threshold,
        "settings": {k: v for k, v in asdict(settings).items() if k not in ("extra",)},
        "data": {"counts": report.counts,
                 "split_counts": {k: len(v) for k, v in loaded_split.items()},
                 "manifest": "split.json",
                 "audit": {"near_duplicate_groups": len(report.near_duplicate_groups),
                           "label_conflicts": len(report.label_conflicts),
                           "multi_mask_cases": len(report.multi_mask_cases),
                           "colour_annotated": len(report.colour_annotated),
                           "skipped": len(report.problems)}},
        "training": {"device": device, "duration_s": round(time.time() - started, 1),
                     "epochs_run": run.epochs_done(),
                     "fit_on": settings.fit_on,
                     "selected_by": ("last epoch, fixed threshold (validation images were trained on)" if refit
                                     else SELECTION_METRIC[settings.select_by]),
                     "best_selection_value": None if refit else _best_val_dice(run, SELECTION_METRIC[settings.select_by]),
                     "history": {**settings.extra.get("history", {})}},
        "val_metrics": {k: v for k, v in val_summary.items() if k != "per_class"},
        "val_metrics_on_trained_images": refit,
        "test_metrics": test_summary,
        "test_metrics_by_dataset": test_by_dataset,
        "val_metrics_by_dataset": summarise_by(score_predictions(val, threshold), "dataset", conflicted) if val else {},
        "comparison": comparison,
        "speed": {"predict_path_ms_median": float(np.median(lat)) if lat else None,
                  "measured_on": predictor.device,
                  "note": "whole predict path (resize, forward, resize back), one image at a time"},
        "intended_use": modelcard.INTENDED_USE,
        "limitations": modelcard.LIMITATIONS,
        "citation": modelcard.CITATION,
        "command": "python -m core.train " + " ".join(settings.extra.get("argv", [])),
    }
    os.replace(tmp_path, run.model)
    modelcard.write_card(run.model, card)
    # The terminal shows validation figures only. A recipe search reads this line to choose between runs;
    # printing test figures here would let the test split steer that choice. They stay on the card.
    log(f"val split{' (trained on: not a held-out figure)' if refit else ''}: lesion Dice {val_summary.get('dice_mean')}, false alarms {val_summary.get('false_alarm_rate')}, "
        f"malignancy AUC {val_summary.get('malignancy_auc')}, threshold {threshold}; "
        f"test-split figures are on the model card")
    return card


# ---------------------------------------------------------------- main

def remove_extracted_upload(folder: str, log=print) -> None:
    """Delete a dataset zip's temporary extraction once its images are in memory.

    Only folders made by core.safezip (temp dir, its prefix) are removed.
    """
    from core.safezip import remove_extraction

    removed = remove_extraction(folder)
    if removed:
        log(f"removed the temporary upload folder {removed}")


def _encoder_title(encoder: str | None) -> str:
    from core.encoders import ENCODERS

    return ENCODERS[encoder][0] if encoder in ENCODERS else str(encoder)


def build_model(settings: TrainSettings, log=print):
    """A fresh network for these settings: the residual U-Net, or the pretrained-encoder U-Net."""
    from core.model import build_unet

    shape = (settings.image_size, settings.image_size, 1)
    if not settings.encoder:
        return build_unet(shape, settings.base_filters, settings.depth)
    from core.encoders import ENCODERS, load_encoder_weights

    if settings.encoder not in ENCODERS:
        raise ValueError(f"unknown encoder {settings.encoder!r}; available: {', '.join(ENCODERS)}")
    title, build, fetch = ENCODERS[settings.encoder]
    if not settings.encoder_weights or not os.path.isfile(settings.encoder_weights):
        raise ValueError(f"no pretrained encoder weights at {settings.encoder_weights}: run "
                         f"bash {fetch}, or train without --encoder")
    model = build(shape, settings.base_filters)
    n = load_encoder_weights(model, settings.encoder_weights)
    log(f"encoder: {title}, {n} layers initialised from {settings.encoder_weights}")
    return model


def fresh_model(settings: TrainSettings, log=print):
    """build_model with its initial weights drawn from init_seed (else seed); the global seed is then seed again."""
    import keras

    keras.utils.set_random_seed(settings.seed if settings.init_seed is None else settings.init_seed)
    model = build_model(settings, log)
    if settings.init_seed is not None and settings.init_seed != settings.seed:
        keras.utils.set_random_seed(settings.seed)  # what happens during training follows --seed
        log(f"initial weights drawn with seed {settings.init_seed}, training with seed {settings.seed}")
    return model


def training_setup(settings: TrainSettings):
    """runtime.training_setup() for this network: (strategy, jit_compile, device description)."""
    strategy, jit, device = runtime.training_setup()
    if settings.encoder and jit is True:
        # measured on the 2-core CPU at 256²: XLA trains the depthwise encoder at 1.3 images/s, plain graph at 5.3
        jit, device = False, device.replace(", XLA", "")
    return strategy, jit, device


def train(settings: TrainSettings, resume: bool = False, log=print) -> dict:
    """Run (or resume) training into settings.out. Returns the model card."""
    import keras

    from core.model import compile_model

    run = RunFolder(settings.out)
    started = time.time()
    if resume and os.path.exists(run.settings):
        saved = read_json(run.settings, {})
        saved.update(epochs=settings.epochs, out=settings.out)
        extra = settings.extra
        settings = TrainSettings.from_saved(saved)
        settings.extra = {**saved.get("extra", {}), **extra}
    write_json_atomic(run.settings, asdict(settings))
    run.update_status(state="loading_data", epoch=run.epochs_done() if resume else 0, epochs=settings.epochs,
                      started_at=started, message="decoding and auditing the dataset")
    keras.utils.set_random_seed(settings.seed)
    try:
        arrays, loaded_split, report = prepare_data(settings, run, log)
    finally:
        if settings.cleanup_data:
            for folder in settings.data:
                remove_extracted_upload(folder, log)
    if _Cancel.requested:
        raise KeyboardInterrupt
    if len(arrays["train"].keys) == 0 or len(arrays["val"].keys) == 0:
        raise ValueError("the split left no training or validation images; add more data")
    strategy, jit, device = training_setup(settings)
    log(f"training on {device}: train {len(arrays['train'].keys)}, val {len(arrays['val'].keys)}, "
        f"test {len(arrays['test'].keys)} images; fitting on {settings.fit_on} ({len(arrays['fit'].keys)} images)")
    initial_epoch = 0
    with strategy.scope():
        if resume and os.path.exists(run.last) and run.epochs_done() > 0:
            model = keras.models.load_model(run.last)
            initial_epoch = run.epochs_done()
            log(f"resuming after epoch {initial_epoch}")
        else:
            if not resume:
                for stale in (run.metrics, run.last, run.best, run.model):
                    if os.path.exists(stale):
                        os.remove(stale)
            model = fresh_model(settings, log)
            if settings.init_weights:
                source = keras.models.load_model(settings.init_weights, compile=False)
                model.set_weights(source.get_weights())
                log(f"initialised from {settings.init_weights}")
            lr = settings.learning_rate
            if settings.lr_schedule == "cosine":
                steps = len(make_batches(arrays["fit"], settings.batch_size, False, True, settings.seed))
                lr = keras.optimizers.schedules.CosineDecay(lr, decay_steps=settings.epochs * steps, alpha=0.02)
            compile_model(model, settings.loss, lr, jit_compile=jit, malignancy_weight=settings.malignancy_weight)
    train_batches = make_batches(arrays["fit"], settings.batch_size, settings.augment, True, settings.seed,
                                 settings.augment_strength)
    val_batches = make_batches(arrays["val"], settings.batch_size, False, False, settings.seed)
    monitor = SELECTION_METRIC[settings.select_by]
    cb = make_progress_callback(run, settings.epochs, _best_val_dice(run, monitor), log,
                                val=arrays["val"] if settings.select_by == "image_dice" else None, monitor=monitor)
    callbacks = [cb]
    if settings.lr_schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor=monitor, mode="max", factor=0.5, patience=5,
                                                           min_lr=1e-5, verbose=0))
    run.update_status(state="training", epoch=initial_epoch, epochs=settings.epochs, device=device, message="")
    if initial_epoch < settings.epochs:
        if strategy.num_replicas_in_sync > 1:
            # Several GPUs: fit's distributed tf.data pipeline splits each batch across them, which
            # train_on_batch would not (every GPU would run the whole batch).
            model.fit(as_keras_dataset(train_batches), validation_data=as_keras_dataset(val_batches),
                      epochs=settings.epochs, initial_epoch=initial_epoch, callbacks=callbacks, verbose=0)
        else:
            fit_epochs(model, train_batches, val_batches, settings.epochs, initial_epoch, callbacks)
    if _Cancel.requested:
        run.update_status(state=CANCELLED, message=f"cancelled after epoch {run.epochs_done()}")
        raise KeyboardInterrupt
    card = finalize(run, settings, loaded_split, report, device, started, log)
    run.update_status(state=DONE, message="finished", test_metrics={k: v for k, v in card["test_metrics"].items()
                                                                    if k != "per_class"})
    return card


def parse_args(argv=None) -> tuple[TrainSettings, bool]:
    from core.encoders import ENCODERS

    ap = argparse.ArgumentParser(description="Train the BUSI U-Net into a run folder.")
    ap.add_argument("--data", required=True, action="append",
                    help="dataset folder in BUSI's or BUS-BRA's layout; repeat to train on several together")
    ap.add_argument("--dataset-weight", action="append", default=[], metavar="NAME=W",
                    help="draw each image of dataset NAME (busi, busbra) W times as often as an image of a dataset "
                         "not named; e.g. busi=1.5 so BUS-BRA's size does not drown BUSI's normal scans")
    ap.add_argument("--out", required=True, help="run folder to write")
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--image-size", type=int, default=256)
    ap.add_argument("--base-filters", type=int, default=16)
    ap.add_argument("--depth", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--learning-rate", type=float, default=1e-3)
    ap.add_argument("--loss", choices=sorted(LOSS_LABELS), default="bce_dice",
                    help="bce_image_dice: BCE plus Dice averaged over lesion images, the way it is reported")
    ap.add_argument("--no-augment", action="store_true", help="turn augmentation off")
    ap.add_argument("--augment", choices=sorted(AUGMENT_RANGES), default="strong",
                    help="augmentation ranges (basic: those of the first default model)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--init-seed", type=int,
                    help="draw the initial weights with this seed instead of --seed (runs that share it may be "
                         "averaged by core.average)")
    ap.add_argument("--encoder", choices=sorted(ENCODERS),
                    help="use a pretrained encoder (see core/encoders.py) instead of the residual one")
    ap.add_argument("--encoder-weights",
                    help="the converted pretrained encoder; default weights/encoders/ENCODER.npz (made by "
                         + ", ".join(f"bash {fetch}" for _title, _build, fetch in ENCODERS.values()) + ")")
    ap.add_argument("--teacher", action="append", dest="teachers",
                    help="distil: fit a blend of the ground truth and this model's lesion probabilities (with its "
                         "mirror image's); repeat for several teachers, whose outputs are averaged")
    ap.add_argument("--teacher-weight", type=float, default=0.5,
                    help="share of the teachers' probabilities in the fitted masks (default 0.5)")
    ap.add_argument("--emphasise", metavar="KEYS_FILE",
                    help="case keys (one per line, e.g. bench/axillary_keys.txt) to draw --emphasis times per epoch")
    ap.add_argument("--emphasis", type=int, default=4, help="how many times each --emphasise image is drawn (default 4)")
    ap.add_argument("--init-weights", help="start from this model's weights (same width and depth)")
    ap.add_argument("--split-from", help="reuse this split manifest (split.json) instead of making one")
    ap.add_argument("--max-cases", type=int, help="use a class-balanced subset of this many images")
    ap.add_argument("--name", default="model", help="name written on the model card")
    ap.add_argument("--select-by", choices=sorted(SELECTION_METRIC), default="image_dice",
                    help="validation figure that picks the best checkpoint (default: mean per-image Dice)")
    ap.add_argument("--lr-schedule", choices=["plateau", "cosine"],
                    help="plateau (default): halve on a flat validation curve; cosine (default for a train+val refit)")
    ap.add_argument("--fit-on", choices=["train", "train+val"], default="train",
                    help="train+val: final refit of a recipe chosen on validation; keeps the last epoch")
    ap.add_argument("--fixed-threshold", type=float, default=0.5,
                    help="the mask threshold a train+val refit ships with (it has no held-out images to choose one)")
    ap.add_argument("--compare-with", help="also score this model on the test split, for the card's comparison")
    ap.add_argument("--cleanup-data", action="store_true",
                    help="delete DATA after decoding (only a temporary folder made from an uploaded zip)")
    ap.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last.keras")
    a = ap.parse_args(argv)
    if a.fit_on == "train+val" and a.lr_schedule == "plateau":
        # a refit trains on the validation images, so a plateau schedule would follow an in-sample curve
        ap.error("--lr-schedule plateau follows the validation curve, and a train+val refit trains on the "
                 "validation images: use --lr-schedule cosine (the refit's default)")
    if not 0 < a.teacher_weight <= 1:
        ap.error("--teacher-weight must be above 0 and at most 1")
    emphasised = None
    if a.emphasise:
        if a.emphasis < 1:
            ap.error("--emphasis must be at least 1")
        try:
            from core.data import read_key_list

            emphasised = read_key_list(a.emphasise)
        except OSError as exc:
            ap.error(f"--emphasise: cannot read {a.emphasise}: {exc.strerror}")
        if not emphasised:
            ap.error(f"--emphasise: {a.emphasise} names no case keys")
    dataset_weights = {}
    for item in a.dataset_weight:
        name, _, value = item.partition("=")
        try:
            dataset_weights[name.strip()] = float(value)
        except ValueError:
            ap.error(f"--dataset-weight {item!r}: write NAME=W, e.g. busi=1.5")
        if dataset_weights[name.strip()] <= 0:
            ap.error(f"--dataset-weight {item!r}: the weight must be above 0")
    lr_schedule = a.lr_schedule or ("cosine" if a.fit_on == "train+val" else "plateau")
    s = TrainSettings(data=a.data, out=a.out, epochs=a.epochs, image_size=a.image_size, base_filters=a.base_filters,
                      depth=a.depth, batch_size=a.batch_size, learning_rate=a.learning_rate, loss=a.loss,
                      augment=not a.no_augment, augment_strength=a.augment, seed=a.seed, init_seed=a.init_seed, teachers=a.teachers, teacher_weight=a.teacher_weight,
                      emphasised=emphasised, emphasis=a.emphasis if emphasised else 1,
                      dataset_weights=dataset_weights or None,
                      init_weights=a.init_weights, split_from=a.split_from,
                      max_cases=a.max_cases, name=a.name, compare_with=a.compare_with, cleanup_data=a.cleanup_data,
                      select_by=a.select_by, lr_schedule=lr_schedule, fit_on=a.fit_on,
                      fixed_threshold=a.fixed_threshold, encoder=a.encoder,
                      encoder_weights=(a.encoder_weights or f"weights/encoders/{a.encoder}.npz") if a.encoder else None, extra={"argv": list(argv if argv is not None else sys.argv[1:])})
    return s, a.resume


def main(argv=None) -> int:
    settings, resume = parse_args(argv)
    _install_signal_handlers()
    run = RunFolder(settings.out)
    try:
        train(settings, resume)
        return 0
    except KeyboardInterrupt:
        run.update_status(state=CANCELLED, message=f"cancelled after epoch {run.epochs_done()}")
        print("cancelled", file=sys.stderr)
        return 130
    except Exception as exc:
        run.update_status(state=FAILED, message=f"{type(exc).__name__}: {exc}",
                          traceback=traceback.format_exc()[-4000:])
        traceback.print_exc()
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
