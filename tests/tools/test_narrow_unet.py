"""tools/narrow_unet.py: a U-Net whose surplus channels carry nothing narrows to the same function."""
import numpy as np
import pytest

from core.model.unet import build_unet
from tools.narrow_unet import narrow, source_shape

SIZE, BASE, DEPTH, KEEP = 32, 4, 2, 2


def _silence(model, rng, blocks=("enc", "dec", "bottleneck")):
    """Random weights, then zero every channel outside a random half of each layer of the named blocks (name
    prefixes): those channels output 0 and weigh 0, so the network computes the same function as its narrow twin.
    Returns the kept channels per layer."""
    kept = {}
    for layer in model.layers:
        weights = layer.get_weights()
        if not weights:
            continue
        weights = [rng.normal(0, 0.3, w.shape).astype(np.float32) for w in weights]
        if layer.name.endswith(("_bn1", "_bn2")):
            weights[3] = rng.uniform(0.5, 2.0, weights[3].shape).astype(np.float32)  # variances stay positive
        layer.set_weights(weights)
    for layer in model.layers:
        name = layer.name
        if not name.startswith(blocks):
            continue
        if name.endswith("_conv1") or name.endswith("_up"):
            width = layer.get_weights()[0].shape[-2 if name.endswith("_up") else -1]
            kept[name] = np.sort(rng.choice(width, width // 2, replace=False))
    for name in [n for n in kept if n.endswith("_conv1")]:
        block = name[: -len("_conv1")]
        width = model.get_layer(name).get_weights()[0].shape[-1]
        outputs = np.sort(rng.choice(width, width // 2, replace=False))
        kept[f"{block}_out"] = outputs
        _zero_outputs(model, f"{block}_conv1", np.setdiff1d(np.arange(width), kept[name]))
        _zero_bn(model, f"{block}_bn1", np.setdiff1d(np.arange(width), kept[name]))
        dropped = np.setdiff1d(np.arange(width), outputs)
        _zero_outputs(model, f"{block}_conv2", dropped)
        _zero_outputs(model, f"{block}_proj", dropped)
        _zero_bn(model, f"{block}_bn2", dropped)
    for name in [n for n in kept if n.endswith("_up")]:
        kernel, bias = model.get_layer(name).get_weights()
        dropped = np.setdiff1d(np.arange(kernel.shape[2]), kept[name])
        kernel[:, :, dropped, :] = 0
        bias[dropped] = 0
        model.get_layer(name).set_weights([kernel, bias])
    return kept


def _zero_outputs(model, name, channels):
    (kernel,) = model.get_layer(name).get_weights()
    kernel[..., channels] = 0
    model.get_layer(name).set_weights([kernel])


def _zero_bn(model, name, channels):
    gamma, beta, mean, var = model.get_layer(name).get_weights()
    gamma[channels] = 0
    beta[channels] = 0
    model.get_layer(name).set_weights([gamma, beta, mean, var])


def test_narrowing_keeps_the_live_channels_and_the_function():
    rng = np.random.default_rng(0)
    source = build_unet((SIZE, SIZE, 1), base_filters=BASE, depth=DEPTH)
    kept = _silence(source, rng)
    target = narrow(source, KEEP)
    assert source_shape(target) == (SIZE, KEEP, DEPTH)
    np.testing.assert_array_equal(target.get_layer("enc0_conv1").get_weights()[0],
                                  source.get_layer("enc0_conv1").get_weights()[0][..., kept["enc0_conv1"]])
    x = rng.random((2, SIZE, SIZE, 1)).astype(np.float32)
    want, got = source(x, training=False), target(x, training=False)
    np.testing.assert_allclose(got["mask"], want["mask"], atol=1e-5)
    np.testing.assert_allclose(got["malignancy"], want["malignancy"], atol=1e-5)
    assert target.count_params() < source.count_params() / 3


def test_narrowing_the_full_resolution_level_alone_keeps_the_rest_and_the_function():
    rng = np.random.default_rng(1)
    source = build_unet((SIZE, SIZE, 1), base_filters=BASE, depth=DEPTH)
    kept = _silence(source, rng, blocks=("enc0_", "dec0_"))
    target = narrow(source, top_filters=KEEP)
    assert source_shape(target) == (SIZE, BASE, DEPTH)
    assert target.get_layer("enc0_conv1").get_weights()[0].shape[-1] == KEEP
    assert target.get_layer("dec0_conv2").get_weights()[0].shape[-1] == KEEP
    # the deeper levels are copied whole, channel for channel
    np.testing.assert_array_equal(target.get_layer("enc1_conv2").get_weights()[0],
                                  source.get_layer("enc1_conv2").get_weights()[0])
    np.testing.assert_array_equal(target.get_layer("bottleneck_conv1").get_weights()[0],
                                  source.get_layer("bottleneck_conv1").get_weights()[0])
    np.testing.assert_array_equal(target.get_layer("enc1_conv1").get_weights()[0],
                                  source.get_layer("enc1_conv1").get_weights()[0][:, :, kept["enc0_out"], :])
    x = rng.random((2, SIZE, SIZE, 1)).astype(np.float32)
    want, got = source(x, training=False), target(x, training=False)
    np.testing.assert_allclose(got["mask"], want["mask"], atol=1e-5)
    np.testing.assert_allclose(got["malignancy"], want["malignancy"], atol=1e-5)


def test_narrowing_refuses_a_width_it_cannot_make():
    source = build_unet((SIZE, SIZE, 1), base_filters=BASE, depth=DEPTH)
    with pytest.raises(ValueError, match="nothing to narrow"):
        narrow(source, BASE)
    with pytest.raises(ValueError, match="between 1 and 4"):
        narrow(source, BASE + 1)
    with pytest.raises(ValueError, match="between 1 and 2"):
        narrow(source, KEEP, top_filters=KEEP + 1)
    with pytest.raises(ValueError, match="already narrowed"):
        narrow(narrow(source, top_filters=KEEP), top_filters=1)


def test_a_network_of_another_shape_is_refused_by_name():
    import keras

    inputs = keras.Input((SIZE, SIZE, 1))
    other = keras.Model(inputs, keras.layers.Conv2D(1, 1, name="mask")(inputs), name="plain")
    with pytest.raises(ValueError, match="plain is not a core.model.unet.build_unet network"):
        narrow(other, KEEP)
