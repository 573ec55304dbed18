"""core.model and core.inference: build, save, reload without safe_mode=False, classic .h5, predict path."""
import numpy as np
import pytest

from core.inference.decision import lesion_mask
from core.inference.predictor import ModelLoadError, Predictor
from core.model.unet import build_classic_unet, build_unet


def test_two_outputs_with_stable_names():
    m = build_unet((32, 32, 1), base_filters=4, depth=2)
    assert set(m.output_names) == {"mask", "malignancy"}
    assert m.get_layer("enc0_conv1") and m.get_layer("dec1_up") and m.get_layer("bottleneck_conv2")
    out = m.predict(np.zeros((2, 32, 32, 1), np.float32), verbose=0)
    assert out["mask"].shape == (2, 32, 32, 1) and out["malignancy"].shape == (2, 1)
    assert 0 <= out["mask"].min() and out["mask"].max() <= 1


def test_group_normalisation_replaces_every_batch_norm_and_survives_the_inference_rewrite():
    from keras import layers

    from core.inference.fastpath import fold_batch_norm

    m = build_unet((32, 32, 1), base_filters=4, depth=2, norm="group", dropout=0.0)
    kinds = [type(layer) for layer in m.layers]
    # two per block: encoder 0 and 1, the bottleneck, decoder 1 and 0
    assert kinds.count(layers.GroupNormalization) == 10 and layers.BatchNormalization not in kinds
    assert m.get_layer("enc0_gn1").groups == 4
    x = np.random.default_rng(0).random((2, 32, 32, 1)).astype(np.float32)
    # each image is normalised by its own statistics, in training as at inference: its output does not depend on
    # the rest of the batch (a batch-normalised network's does, in training)
    alone = np.asarray(m(x[:1], training=False)["mask"])
    np.testing.assert_allclose(np.asarray(m(x, training=True)["mask"])[:1], alone, atol=1e-5)
    bn = build_unet((32, 32, 1), base_filters=4, depth=2, dropout=0.0)
    assert not np.allclose(np.asarray(bn(x, training=True)["mask"])[:1], np.asarray(bn(x[:1], training=True)["mask"]),
                           atol=1e-5)
    np.testing.assert_allclose(np.asarray(fold_batch_norm(m)(x[:1])["mask"]), alone, atol=1e-6)
    with pytest.raises(ValueError, match="normalisation"):
        build_unet((32, 32, 1), base_filters=4, depth=2, norm="layer")


def test_top_filters_narrow_the_full_resolution_level_alone():
    m = build_unet((32, 32, 1), base_filters=4, depth=2, top_filters=2)
    widths = {name: m.get_layer(name).get_weights()[0].shape[-1]
              for name in ("enc0_conv1", "enc1_conv1", "bottleneck_conv1", "dec1_conv2", "dec0_up", "dec0_conv2")}
    # Conv2DTranspose kernels are (h, w, out, in): dec0_up's last axis is what it reads from dec1
    assert widths == {"enc0_conv1": 2, "enc1_conv1": 8, "bottleneck_conv1": 16, "dec1_conv2": 8, "dec0_up": 8,
                      "dec0_conv2": 2}
    assert m.get_layer("dec0_up").get_weights()[0].shape[2] == 2
    assert m.name == "unet_f4_d2_t2"
    with pytest.raises(ValueError, match="at least 1"):
        build_unet((32, 32, 1), base_filters=4, depth=2, top_filters=0)


def test_size_must_divide_by_two_to_the_depth():
    with pytest.raises(ValueError, match="divisible"):
        build_unet((36, 36, 1), base_filters=4, depth=3)


def test_compiled_model_saves_and_reloads_with_safe_mode(tmp_path):
    import keras

    from core.model.unet import compile_model

    m = compile_model(build_unet((32, 32, 1), 4, 2), "bce_dice", jit_compile=False)
    x = np.random.default_rng(0).random((2, 32, 32, 1)).astype(np.float32)
    m.train_on_batch(x, {"mask": (x > 0.5).astype(np.float32), "malignancy": np.ones((2, 1), np.float32)})
    path = str(tmp_path / "m.keras")
    m.save(path)
    again = keras.models.load_model(path)  # safe_mode stays True: custom objects are registered
    np.testing.assert_allclose(again.predict(x, verbose=0)["mask"], m.predict(x, verbose=0)["mask"], atol=1e-5)


def test_predictor_returns_probability_at_original_size(tiny_model_path):
    p = Predictor.load(tiny_model_path)
    assert p.image_size == 32 and p.threshold == 0.5
    gray = np.random.default_rng(1).integers(0, 255, (45, 71), dtype=np.uint8)
    out = p.predict(gray)
    assert out.probability.shape == (45, 71) and out.probability.dtype == np.float32
    assert 0 <= out.malignancy <= 1 and out.inference_ms > 0
    assert lesion_mask(out.probability, 0.0).all() and not lesion_mask(out.probability, 1.01).any()


def test_classic_single_output_h5_model_is_accepted(tmp_path):
    import keras

    m = build_classic_unet((32, 32, 3), base_filters=2)
    m.compile(optimizer="adam", loss=lambda y, p: keras.ops.mean(p))  # an unregistered loss
    path = str(tmp_path / "classic.h5")
    m.save(path)
    p = Predictor.load(path)
    out = p.predict(np.zeros((40, 50), np.uint8))
    assert out.probability.shape == (40, 50) and out.malignancy is None


def test_missing_and_broken_model_files_say_what_to_do(tmp_path):
    with pytest.raises(ModelLoadError, match="No model file"):
        Predictor.load(str(tmp_path / "nope.keras"))
    bad = tmp_path / "bad.keras"
    bad.write_bytes(b"not a model")
    with pytest.raises(ModelLoadError, match="could not be loaded"):
        Predictor.load(str(bad))


def test_lesion_image_dice_loss_averages_lesion_images_and_ignores_empty_ones():
    from core.model.unet import lesion_image_dice_loss

    # image 0: 2 lesion pixels, prediction 1.0 on one of them and on one background pixel
    #   soft Dice = (2*1 + 1) / (2 + 2 + 1) = 0.6
    # image 1: 1 lesion pixel, predicted exactly -> Dice (2 + 1) / (1 + 1 + 1) = 1
    # image 2: empty mask with a false alarm -> left to BCE, not counted here
    t = np.zeros((3, 2, 2, 1), np.float32)
    p = np.zeros((3, 2, 2, 1), np.float32)
    t[0, 0, 0] = t[0, 0, 1] = 1
    p[0, 0, 0] = p[0, 1, 1] = 1
    t[1, 1, 0] = p[1, 1, 0] = 1
    p[2] = 1
    loss = float(lesion_image_dice_loss(t, p))
    assert loss == pytest.approx(((1 - 0.6) + (1 - 1)) / 2, abs=1e-6)
    # a batch with no lesion image contributes nothing
    assert float(lesion_image_dice_loss(np.zeros_like(t), p)) == 0.0


def test_train_command_and_page_offer_exactly_the_losses_the_model_defines():
    from core.model.unet import LOSSES
    from core.training.settings import LOSS_LABELS

    assert set(LOSS_LABELS) == set(LOSSES)


def shift_model(size=16):
    """A model whose answer is known by hand: the mask output at column j is the input at column j-1
    (a 1×3 convolution with weights [1, 0, 0]), and the malignancy output is the top-left input pixel."""
    import keras

    inp = keras.Input((size, size, 1))
    conv = keras.layers.Conv2D(1, (1, 3), padding="same", use_bias=False, name="mask")
    mask = conv(inp)
    conv.set_weights([np.array([1.0, 0.0, 0.0], np.float32).reshape(1, 3, 1, 1)])
    corner = keras.layers.Flatten()(keras.layers.Cropping2D(((0, size - 1), (0, size - 1)))(inp))
    return keras.Model(inp, [mask, corner])


def test_predict_returns_the_networks_answer_at_the_original_size():
    p = Predictor(shift_model(), "shift.keras", {"threshold": 0.5})
    gray = np.random.default_rng(3).integers(0, 255, (16, 16), dtype=np.uint8)
    x = p.model_input(gray)[..., 0]
    left = np.pad(x, ((0, 0), (1, 0)))[:, :16]   # x at column j-1, zero beyond the edge
    plain = p.predict(gray)
    np.testing.assert_allclose(plain.probability, np.clip(left, 0, 1), atol=1e-6)
    assert plain.malignancy == pytest.approx(x[0, 0], abs=1e-6)


def test_a_single_output_model_at_another_size_predicts_at_the_original_size(tmp_path):
    p = Predictor(build_classic_unet((32, 32, 1), base_filters=2), "classic.h5", None)
    out = p.predict(np.full((40, 50), 90, np.uint8))
    assert out.probability.shape == (40, 50) and out.malignancy is None
