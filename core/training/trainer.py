"""Training a run from its settings: data, network, fit loop and finish, resumable and cancellable."""
from __future__ import annotations

import os
import time
from dataclasses import asdict

from core import runtime
from core.cards.schema import ModelCard
from core.files import read_json, write_json_atomic
from core.training.batches import as_keras_dataset, make_batches
from core.training.dataprep import prepare_data
from core.training.finish import finalize, remove_extracted_upload
from core.training.loop import MONITOR, _Cancel, fit_epochs, make_progress_callback
from core.training.run import CANCELLED, DONE, RunFolder, _best_val_dice
from core.training.settings import TrainSettings


def fresh_model(settings: TrainSettings, log=print):
    """The residual U-Net for these settings, its initial weights drawn from the run's seed."""
    import keras

    from core.model.unet import build_unet

    keras.utils.set_random_seed(settings.seed)
    return build_unet((settings.image_size, settings.image_size, 1), settings.base_filters, settings.depth,
                      norm=settings.norm, top_filters=settings.top_filters)


def multi_worker(strategy) -> bool:
    import tensorflow as tf

    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


def train(settings: TrainSettings, resume: bool = False, log=print, setup=None, finish: bool = True) -> ModelCard | None:
    """Run (or resume) training into settings.out. Returns the model card.

    ``setup``: (strategy, jit_compile, device description) when the caller made the strategy itself (a
    multi-worker run, core.training.distributed); default ``runtime.training_setup()``. ``finish=False``
    stops after the fit and returns None: a non-chief worker neither scores nor writes a model.
    """
    import keras

    from core.model.unet import compile_model

    run = RunFolder(settings.out)
    started = time.time()
    if resume and os.path.exists(run.settings):
        saved = read_json(run.settings, {})
        saved.update(epochs=settings.epochs, out=settings.out, workers=settings.workers)
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
    strategy, jit, device = setup or runtime.training_setup()
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
    if settings.distil_from:
        from core.training.distil import DistilledBatches, load_teacher

        train_batches = DistilledBatches(train_batches, load_teacher(settings.distil_from, settings.image_size),
                                         settings.distil_weight)
        log(f"distilling from {settings.distil_from} (weight {settings.distil_weight} on the teacher)")
    val_batches = make_batches(arrays["val"], settings.batch_size, False, False, settings.seed)
    monitor = MONITOR
    cb = make_progress_callback(run, settings.epochs, _best_val_dice(run, monitor), log,
                                val=arrays["val"], monitor=monitor)
    callbacks = [cb]
    if settings.lr_schedule == "plateau":
        callbacks.append(keras.callbacks.ReduceLROnPlateau(monitor=monitor, mode="max", factor=0.5, patience=5,
                                                           min_lr=1e-5, verbose=0))
    run.update_status(state="training", epoch=initial_epoch, epochs=settings.epochs, device=device, message="")
    if initial_epoch < settings.epochs:
        if strategy.num_replicas_in_sync > 1:
            # Several GPUs or workers: fit's distributed tf.data pipeline splits each batch across them, which
            # train_on_batch would not (every replica would run the whole batch).
            if multi_worker(strategy):
                from core.training.keras_compat import build_before_multi_worker_fit

                build_before_multi_worker_fit(model, train_batches[0])
            model.fit(as_keras_dataset(train_batches), validation_data=as_keras_dataset(val_batches),
                      epochs=settings.epochs, initial_epoch=initial_epoch, callbacks=callbacks, verbose=0)
        else:
            fit_epochs(model, train_batches, val_batches, settings.epochs, initial_epoch, callbacks)
    if _Cancel.requested:
        run.update_status(state=CANCELLED, message=f"cancelled after epoch {run.epochs_done()}")
        raise KeyboardInterrupt
    if not finish:
        return None
    card = finalize(run, settings, loaded_split, report, device, started, log)
    run.update_status(state=DONE, message="finished", test_metrics={k: v for k, v in card.test_metrics.items()
                                                                    if k != "per_class"})
    return card

