"""How fast a training step runs when the batches are fed by Keras' fit (PyDataset) or by core.training.loop.fit_epochs.

    python bench/bench_train_feed.py [--steps 12] [--image-size 256]

Builds the network core.train would (the shipped default's: residual U-Net, 12 base filters, depth 5, XLA
on the CPU as core.runtime.training_setup says), on synthetic images with the strong augmentation,
and times the second epoch of each feeding path in the same run, from the first batch to the last
(the first epoch pays for graph building and compilation). Prints seconds per batch and images/s
for both, and their ratio.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import time

import numpy as np


def synthetic_arrays(n: int, size: int):
    from core.training.dataprep import Arrays

    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:size, :size]
    masks = np.stack([(yy - c[0]) ** 2 + (xx - c[1]) ** 2 < r ** 2 for c, r in
                      zip(rng.integers(size // 4, 3 * size // 4, (n, 2)), rng.integers(size // 12, size // 5, n))])
    images = np.clip(rng.normal(120, 30, (n, size, size)) - 60 * masks, 0, 255).astype(np.uint8)
    return Arrays(keys=[f"synthetic/{i}" for i in range(n)], x=images, y=masks,
                  malignant=(np.arange(n) % 2).astype(np.float32), cls_weight=np.ones(n, np.float32))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=12, help="batches per timed epoch")
    ap.add_argument("--batch-size", type=int, default=8)
    ap.add_argument("--image-size", type=int, default=256)
    ap.add_argument("--path", choices=["fit", "fit_epochs"], help=argparse.SUPPRESS)  # one timing, in this process
    a = ap.parse_args(argv)

    import keras

    from core import runtime
    from core.model.unet import compile_model
    from core.training.batches import as_keras_dataset, make_batches
    from core.training.loop import fit_epochs
    from core.training.settings import TrainSettings
    from core.training.trainer import fresh_model

    settings = TrainSettings(data="", out="", image_size=a.image_size, base_filters=12, depth=5, batch_size=a.batch_size)
    _strategy, jit, device = runtime.training_setup()
    train = synthetic_arrays(a.steps * a.batch_size, a.image_size)
    val = synthetic_arrays(a.batch_size, a.image_size)

    class Clock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.end = time.perf_counter()

    def timed(feed) -> float:
        keras.utils.set_random_seed(0)
        model = fresh_model(settings)
        compile_model(model, settings.loss, 3e-4, jit_compile=jit)
        clock = Clock()
        feed(model, make_batches(train, a.batch_size, True, True, 0, "strong"),
             make_batches(val, a.batch_size, False, False, 0), clock)
        return (clock.end - clock.start) / a.steps

    def by_fit(model, batches, val_batches, clock):
        # what core.train handed to model.fit before fit_epochs (and still does with several GPUs)
        model.fit(as_keras_dataset(batches), validation_data=as_keras_dataset(val_batches), epochs=2,
                  callbacks=[clock], verbose=0)

    def by_fit_epochs(model, batches, val_batches, clock):
        fit_epochs(model, batches, val_batches, 2, 0, [clock])

    if a.path:
        print(f"{timed({'fit': by_fit, 'fit_epochs': by_fit_epochs}[a.path]):.4f}")
        return 0
    print(f"residual U-Net, 12 filters, depth 5 at {a.image_size}², batch {a.batch_size}, "
          f"on {device}; second epoch of {a.steps} batches, each path in a fresh process", flush=True)
    results = {}
    for path, name in (("fit", "model.fit(PyDataset)"), ("fit_epochs", "core.training.loop.fit_epochs")):
        # A fresh process each: threads that one path's tf.data pipeline leaves behind would slow the other.
        out = subprocess.run([sys.executable, __file__, "--path", path, *(argv if argv is not None else sys.argv[1:])],
                             check=True, capture_output=True, text=True).stdout
        results[name] = float(out.strip().splitlines()[-1])
        print(f"  {name:24s} {results[name]:.2f} s/batch  {a.batch_size / results[name]:.2f} images/s", flush=True)
    old, new = results.values()
    print(f"  fit_epochs takes {new / old:.2f}x the time per batch of model.fit(PyDataset)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
