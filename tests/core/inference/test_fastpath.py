"""core.inference.fastpath: BatchNorm folded into the convolution before it, and the Predictor's use of it."""
import numpy as np
import pytest

from core.inference.fastpath import fold_batch_norm, foldable_pairs
from core.model.unet import build_classic_unet, build_unet


def _conv_bn(consumers: int = 1):
    import keras
    from keras import layers

    x = keras.Input((2, 2, 1))
    c = layers.Conv2D(1, 1, use_bias=False, name="conv")(x)
    y = layers.BatchNormalization(epsilon=1e-3, name="bn")(c)
    if consumers == 2:
        y = layers.Add(name="add")([y, c])
    m = keras.Model(x, y)
    m.get_layer("conv").set_weights([np.full((1, 1, 1, 1), 2.0, np.float32)])
    # gamma 3, beta 1, moving mean 0.5, moving variance 4 - eps, so sqrt(var + eps) = 2
    m.get_layer("bn").set_weights([np.array([3.0]), np.array([1.0]), np.array([0.5]), np.array([4.0 - 1e-3])])
    return m


def test_folded_weights_match_the_hand_computed_values():
    m = _conv_bn()
    assert foldable_pairs(m) == {"bn": "conv"}
    f = fold_batch_norm(m)
    kernel, bias = f.get_layer("conv").get_weights()
    # scale s = 3 / 2 = 1.5: kernel 2 * 1.5 = 3, bias (0 - 0.5) * 1.5 + 1 = 0.25
    assert kernel.ravel()[0] == pytest.approx(3.0) and bias[0] == pytest.approx(0.25)
    # x = 1: BN(conv) = 3 * (2 - 0.5) / 2 + 1 = 3.25
    out = np.asarray(f(np.ones((1, 2, 2, 1), np.float32), training=False))
    assert out == pytest.approx(np.full((1, 2, 2, 1), 3.25))
    assert np.asarray(m(np.ones((1, 2, 2, 1), np.float32), training=False)) == pytest.approx(out, abs=1e-6)


def test_a_convolution_that_feeds_another_layer_too_is_left_alone():
    m = _conv_bn(consumers=2)
    assert foldable_pairs(m) == {}
    assert fold_batch_norm(m) is m


def test_folded_unet_computes_the_same_outputs():
    m = build_unet((32, 32, 1), base_filters=4, depth=2)
    rng = np.random.default_rng(1)
    for layer in m.layers:  # trained-looking statistics, so the fold is not a no-op
        if layer.__class__.__name__ == "BatchNormalization":
            n = layer.moving_mean.shape[0]
            layer.set_weights([rng.uniform(0.5, 2, n), rng.normal(0, 1, n), rng.normal(0, 1, n), rng.uniform(0.5, 3, n)])
    # two BNs in each of the 2 encoder blocks, the bottleneck and the 2 decoder blocks
    assert len(foldable_pairs(m)) == 10
    f = fold_batch_norm(m)
    assert not any(layer.__class__.__name__ == "BatchNormalization" for layer in f.layers)
    x = rng.random((2, 32, 32, 1)).astype(np.float32)
    a, b = m(x, training=False), f(x, training=False)
    for k in ("mask", "malignancy"):
        np.testing.assert_allclose(np.asarray(a[k]), np.asarray(b[k]), atol=1e-5)


def test_classic_unet_without_batch_norm_is_returned_unchanged():
    m = build_classic_unet((32, 32, 1), 4)
    assert fold_batch_norm(m) is m


def test_predictor_runs_the_folded_graph_and_keeps_the_trained_model():
    from core.inference.predictor import Predictor

    m = build_unet((32, 32, 1), base_filters=4, depth=2)
    p = Predictor(m, "mem.keras", None)
    assert p.model is m and p.inference_model is not m
    gray = np.random.default_rng(2).integers(0, 256, (40, 50), dtype=np.uint8)
    direct = np.asarray(m(p.model_input(gray)[None], training=False)["mask"])[0, ..., 0]
    prob, _ = p._run(p.model_input(gray)[None])
    np.testing.assert_allclose(prob[0], direct, atol=1e-5)


def test_depthwise_convolutions_fold_by_hand():
    import keras

    # one depthwise 1×1 conv over 2 channels, kernel (2, 3); BN scales 3/2 and 4/2
    inp = keras.Input((2, 2, 2))
    x = keras.layers.DepthwiseConv2D(1, use_bias=False, name="dw")(inp)
    x = keras.layers.BatchNormalization(epsilon=0.0, name="bn")(x)
    m = keras.Model(inp, x)
    m.get_layer("dw").set_weights([np.array([2.0, 3.0]).reshape(1, 1, 2, 1)])
    m.get_layer("bn").set_weights([np.array([3.0, 4.0]), np.array([1.0, 0.0]), np.array([0.5, 1.0]), np.array([4.0, 4.0])])
    f = fold_batch_norm(m)
    kernel, bias = f.get_layer("dw").get_weights()
    # channel 0: 2 * 1.5 = 3, bias -0.5 * 1.5 + 1 = 0.25; channel 1: 3 * 2 = 6, bias -1 * 2 + 0 = -2
    assert kernel.ravel() == pytest.approx([3.0, 6.0]) and bias == pytest.approx([0.25, -2.0])
