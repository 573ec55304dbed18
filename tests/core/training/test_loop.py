"""core.training.loop.fit_epochs: fit's loop, fed one batch at a time (batches, epochs, logs, stopping)."""
import keras
import numpy as np
import pytest

from core.model.unet import build_unet, compile_model
from core.training.batches import make_batches
from core.training.dataprep import Arrays
from core.training.loop import fit_epochs


def tiny_arrays(n: int) -> Arrays:
    rng = np.random.default_rng(0)
    y = np.zeros((n, 32, 32), bool)
    for i in range(n):  # a lesion that moves from image to image, so that every image scores differently
        y[i, 4 + i % 12:16 + i % 12, 10:22] = True
    x = np.where(y, 60, 150).astype(np.uint8) + rng.integers(0, 20, (n, 32, 32), dtype=np.uint8)
    return Arrays(keys=[f"benign/{i}" for i in range(n)], x=x, y=y, malignant=np.zeros(n, np.float32),
                  cls_weight=np.ones(n, np.float32))


class Recorder(keras.callbacks.Callback):
    """Counts the hooks fit would call and keeps each epoch's logs; stops after stop_after batches if set."""

    def __init__(self, stop_after=None):
        super().__init__()
        self.stop_after, self.batches, self.epochs, self.began, self.ended = stop_after, 0, [], 0, 0

    def on_train_begin(self, logs=None):
        self.began += 1

    def on_train_batch_end(self, batch, logs=None):
        self.batches += 1
        if self.stop_after is not None and self.batches >= self.stop_after:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        self.epochs.append((epoch, dict(logs)))

    def on_train_end(self, logs=None):
        self.ended += 1


@pytest.fixture
def model():
    keras.utils.set_random_seed(0)
    return compile_model(build_unet((32, 32, 1), 4, 2), "bce_dice", 1e-3, jit_compile=False)


def test_runs_every_batch_of_each_remaining_epoch_and_reports_validation(model):
    train = make_batches(tiny_arrays(12), 4, True, True, 0, "strong")  # 3 batches an epoch
    val = make_batches(tiny_arrays(5), 4, False, False, 0)  # 4 + 1: the partial batch is scored too
    rec = Recorder()
    fit_epochs(model, train, val, epochs=3, initial_epoch=1, callbacks=[rec])
    assert rec.batches == 6 and [e for e, _ in rec.epochs] == [1, 2]
    assert rec.began == rec.ended == 1
    logs = rec.epochs[-1][1]
    for key in ("loss", "mask_dice_coef", "val_loss", "val_mask_dice_coef", "val_malignancy_auc"):
        assert np.isfinite(logs[key]), key
    assert train.epoch == 3  # reshuffled after each of the two epochs (constructed at 1)
    # the validation figures are evaluate()'s over all 5 images, the partial batch included
    both = [val[0], val[1]]
    direct = model.evaluate(np.concatenate([b[0] for b in both]),
                            {k: np.concatenate([b[1][k] for b in both]) for k in both[0][1]},
                            batch_size=4, verbose=0, return_dict=True)
    first4 = model.evaluate(val[0][0], val[0][1], verbose=0, return_dict=True)
    assert logs["val_loss"] == pytest.approx(direct["loss"], rel=1e-5)
    assert logs["val_loss"] != pytest.approx(first4["loss"], rel=1e-5)


def test_figures_are_those_model_fit_reports_on_the_same_batches():
    arrays, val_arrays = tiny_arrays(12), tiny_arrays(5)
    train, val = make_batches(arrays, 4, False, False, 0), make_batches(val_arrays, 4, False, False, 0)
    stack = lambda b: (np.concatenate([b[i][0] for i in range(len(b))]),  # noqa: E731
                       {k: np.concatenate([b[i][1][k] for i in range(len(b))]) for k in b[0][1]})
    ours, theirs = Recorder(), Recorder()
    keras.utils.set_random_seed(0)
    a = compile_model(build_unet((32, 32, 1), 4, 2), "bce_dice", 1e-3, jit_compile=False)
    keras.utils.set_random_seed(0)
    b = compile_model(build_unet((32, 32, 1), 4, 2), "bce_dice", 1e-3, jit_compile=False)
    fit_epochs(a, train, val, epochs=2, initial_epoch=0, callbacks=[ours])
    b.fit(*stack(train), batch_size=4, epochs=2, shuffle=False, validation_data=stack(val), callbacks=[theirs],
          verbose=0)
    for (_, mine), (_, fits) in zip(ours.epochs, theirs.epochs):
        for key in ("loss", "mask_loss", "mask_dice_coef", "val_loss", "val_mask_dice_coef"):
            assert mine[key] == pytest.approx(fits[key], rel=1e-4, abs=1e-6), key
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_allclose(wa, wb, rtol=1e-4, atol=1e-6)


def test_stop_training_ends_after_the_current_batch_without_validation(model):
    train = make_batches(tiny_arrays(16), 4, False, True, 0)
    val = make_batches(tiny_arrays(4), 4, False, False, 0)
    rec = Recorder(stop_after=2)
    fit_epochs(model, train, val, epochs=5, initial_epoch=0, callbacks=[rec])
    assert rec.batches == 2 and len(rec.epochs) == 1
    assert not any(k.startswith("val_") for k in rec.epochs[0][1])
    assert rec.ended == 1


def test_nothing_runs_when_already_past_the_last_epoch(model):
    rec = Recorder()
    fit_epochs(model, make_batches(tiny_arrays(8), 4, False, True, 0), make_batches(tiny_arrays(4), 4, False, False, 0),
               epochs=2, initial_epoch=2, callbacks=[rec])
    assert rec.batches == 0 and rec.epochs == [] and rec.ended == 1


def test_a_nan_loss_stops_the_run_before_any_epoch_ends(model):
    arrays = tiny_arrays(8)
    train = make_batches(arrays, 4, False, True, 0)
    val = make_batches(tiny_arrays(4), 4, False, False, 0)
    first = train[0]
    train.__class__.__getitem__ = lambda self, i: (np.full_like(first[0], np.nan), first[1], first[2])
    rec = Recorder()
    with pytest.raises(FloatingPointError, match="became nan at epoch 1, batch 1"):
        fit_epochs(model, train, val, epochs=3, initial_epoch=0, callbacks=[rec])
    assert rec.epochs == []  # no epoch ended, so no checkpoint was written from the NaN network
