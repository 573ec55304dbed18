"""core.training.distil: the teacher's probabilities blended into the mask targets, nothing else changed."""
import numpy as np
import pytest

from core.training.distil import DistilledBatches, blend_targets, load_teacher


def test_blended_targets_weigh_truth_and_teacher_as_asked():
    truth = np.array([1.0, 0.0, 1.0, 0.0])
    taught = np.array([0.8, 0.6, 0.0, 0.0])
    # (1 - 0.25)·truth + 0.25·taught, by hand
    assert np.allclose(blend_targets(truth, taught, 0.25), [0.95, 0.15, 0.75, 0.0])
    assert np.allclose(blend_targets(truth, taught, 0.0), truth)
    assert np.allclose(blend_targets(truth, taught, 1.0), taught)
    with pytest.raises(ValueError, match="between|lie in"):
        blend_targets(truth, taught, 1.5)


class _Batches:
    batch_size = 2

    def __init__(self):
        self.epochs = 0

    def __len__(self):
        return 3

    def on_epoch_end(self):
        self.epochs += 1

    def __getitem__(self, i):
        x = np.full((2, 8, 8, 1), 0.5, np.float32)
        mask = np.zeros((2, 8, 8, 1), np.float32)
        mask[0, 2:4, 2:4] = 1.0
        return x, {"mask": mask, "malignancy": np.array([[1.0], [0.0]], np.float32)}, {"mask": np.ones(2)}


def _constant_teacher(value: float, size: int = 8):
    """A real Keras network whose lesion probability is ``value`` everywhere: sigmoid of a constant bias."""
    import keras

    inp = keras.Input((size, size, 1))
    out = keras.layers.Conv2D(1, 1, activation="sigmoid", kernel_initializer="zeros",
                              bias_initializer=keras.initializers.Constant(np.log(value / (1 - value))))(inp)
    return keras.Model(inp, {"mask": out, "malignancy": keras.layers.GlobalAveragePooling2D()(out)})


def test_distilled_batches_change_only_the_mask_targets():
    base = _Batches()
    batches = DistilledBatches(base, _constant_teacher(0.2), 0.5)
    x, y, w = batches[0]
    x0, y0, w0 = base[0]
    assert np.array_equal(x, x0) and np.array_equal(y["malignancy"], y0["malignancy"]) and np.array_equal(w["mask"], w0["mask"])
    # lesion pixels: 0.5·1 + 0.5·0.2 = 0.6; background: 0.5·0 + 0.5·0.2 = 0.1
    assert np.allclose(y["mask"][0, 2:4, 2:4], 0.6, atol=1e-6)
    assert np.allclose(y["mask"][0, 0, 0], 0.1, atol=1e-6) and np.allclose(y["mask"][1], 0.1, atol=1e-6)
    assert len(batches) == 3 and batches.batch_size == 2
    batches.on_epoch_end()
    assert base.epochs == 1


def test_a_teacher_of_another_image_size_is_refused(tmp_path):
    path = str(tmp_path / "t.keras")
    _constant_teacher(0.2, size=16).save(path)
    with pytest.raises(ValueError, match="16x16"):
        load_teacher(path, 8)
    assert load_teacher(path, 16).input_shape[1] == 16
    with pytest.raises(ValueError):
        DistilledBatches(_Batches(), None, -0.1)
