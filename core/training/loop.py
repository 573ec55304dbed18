"""The fit loop and its progress callback: one epoch after another, checkpoints and status into the run folder."""
from __future__ import annotations

import csv
import os
import signal
import sys
import time

import numpy as np

from core.files import save_model_atomic
from core.training.dataprep import Arrays
from core.training.run import RunFolder


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
            if not np.isfinite(logs.get("loss", 0.0)):
                # a NaN never recovers (every weight it touches becomes NaN): stop before this epoch's
                # checkpoint, so best.keras and last.keras keep the last finite network
                raise FloatingPointError(
                    f"the training loss became {logs['loss']} at epoch {epoch + 1}, batch {step + 1}; the run "
                    "stopped and its checkpoints hold the last finite network. Lower the learning rate or check "
                    "the data for blank or corrupt images, then resume")
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


class _Cancel:
    requested = False


def _install_signal_handlers():
    def handler(signum, frame):
        _Cancel.requested = True

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


# the validation figure that picks the best checkpoint: mean per-image Dice (image_dice_mean)
MONITOR = "val_image_dice"


def image_dice_mean(probabilities: np.ndarray, targets: np.ndarray, threshold: float = 0.5) -> float:
    """Mean per-image Dice at the model's resolution; an empty image scores 1 only when left empty.

    Unlike Keras' batch-averaged Dice, one lesion-free batch cannot swing it,
    so it is a steadier signal for choosing the best checkpoint.
    """
    from core.inference.decision import lesion_mask
    from core.metrics.scores import dice

    probabilities = probabilities.reshape(len(probabilities), -1)
    targets = targets.reshape(len(targets), -1).astype(bool)
    return float(np.mean([dice(gt, lesion_mask(prob, threshold)) for prob, gt in zip(probabilities, targets)]))


def make_progress_callback(run: RunFolder, total_epochs: int, best_so_far: float, log=print,
                           val: "Arrays | None" = None, monitor: str = MONITOR):
    import keras

    from core.inference.preprocess import normalise

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

