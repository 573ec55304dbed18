"""Narrow a trained U-Net (core.model.unet.build_unet) to fewer filters per level, as a starting point for training.

Every layer keeps the channels of largest weight magnitude (for a convolution followed by BatchNorm: the BatchNorm
scale times the kernel's L1 norm per output channel; for a block's output, that plus its residual projection's) and
their weights are copied into a network of the same depth built with fewer base filters. The result is not meant
to be served as it is: fine-tune it (``python -m core.train --init-weights OUT --base-filters N ...``), which
recovers what the dropped channels carried in a fraction of the epochs training from scratch would need.

    python -m tools.narrow_unet weights/default.keras /tmp/narrow8.keras --filters 8
    python -m tools.narrow_unet weights/default.keras /tmp/top8.keras --top-filters 8   # full-resolution level only
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

BN_EPS = 1e-3  # Keras BatchNormalization's default epsilon


def _weights(model, name: str) -> list[np.ndarray]:
    return [np.asarray(w) for w in model.get_layer(name).get_weights()]


def _bn_scale(model, name: str) -> np.ndarray:
    gamma, _beta, _mean, var = _weights(model, name)
    return np.abs(gamma) / np.sqrt(var + BN_EPS)


def _strongest(importance: np.ndarray, keep: int) -> np.ndarray:
    """The indices of the ``keep`` largest entries, in their original order (a stable choice on ties)."""
    order = np.argsort(-importance, kind="stable")[:keep]
    return np.sort(order)


def _block_choice(model, name: str, inputs: np.ndarray, width: int) -> dict:
    """Which channels a conv block keeps: inside (conv1's outputs) and at its output (conv2 plus projection)."""
    w1 = _weights(model, f"{name}_conv1")[0][:, :, inputs, :]
    w2 = _weights(model, f"{name}_conv2")[0]
    proj = _weights(model, f"{name}_proj")[0][:, :, inputs, :]
    # a conv1 channel matters by how strongly it is made (scaled by its BatchNorm) and how strongly conv2 reads it
    inner = _bn_scale(model, f"{name}_bn1") * np.abs(w1).sum(axis=(0, 1, 2)) * np.abs(w2).sum(axis=(0, 1, 3))
    inner_keep = _strongest(inner, width)
    outer = (_bn_scale(model, f"{name}_bn2") * np.abs(w2[:, :, inner_keep, :]).sum(axis=(0, 1, 2))
             + np.abs(proj).sum(axis=(0, 1, 2)))
    return {"inputs": inputs, "inner": inner_keep, "outputs": _strongest(outer, width)}


def _copy_bn(source, target, name: str, keep: np.ndarray) -> None:
    target.get_layer(name).set_weights([w[keep] for w in _weights(source, name)])


def _copy_block(source, target, name: str, choice: dict) -> None:
    i, m, o = choice["inputs"], choice["inner"], choice["outputs"]
    target.get_layer(f"{name}_proj").set_weights([_weights(source, f"{name}_proj")[0][:, :, i, :][..., o]])
    target.get_layer(f"{name}_conv1").set_weights([_weights(source, f"{name}_conv1")[0][:, :, i, :][..., m]])
    _copy_bn(source, target, f"{name}_bn1", m)
    target.get_layer(f"{name}_conv2").set_weights([_weights(source, f"{name}_conv2")[0][:, :, m, :][..., o]])
    _copy_bn(source, target, f"{name}_bn2", o)


def _width(model, name: str) -> int:
    return int(model.get_layer(name).get_weights()[0].shape[-1])


def source_shape(model) -> tuple[int, int, int]:
    """(image size, base filters, depth) of a build_unet model, read from its layers; the base is read at the
    second level, so a network whose full-resolution level was narrowed on its own still reports its base."""
    depth = sum(1 for layer in model.layers if layer.name.startswith("enc") and layer.name.endswith("_conv1"))
    if not depth:
        raise ValueError(f"{model.name} is not a core.model.unet.build_unet network (no enc0_conv1 layer)")
    base = _width(model, "enc1_conv1") // 2 if depth > 1 else _width(model, "enc0_conv1")
    return int(model.input_shape[1]), base, depth


def narrow(source, filters: int | None = None, top_filters: int | None = None):
    """A build_unet network with ``filters`` base filters (default: the source's) and ``top_filters`` at the
    full-resolution level (default: ``filters``), holding the source's strongest channels' weights."""
    from core.model.unet import build_unet, level_filters

    size, base, depth = source_shape(source)
    top = _width(source, "enc0_conv1")
    if top != base:
        raise ValueError(f"this network's full-resolution level is already narrowed ({top} filters, base {base})")
    filters = base if filters is None else filters
    if not 0 < filters <= base:
        raise ValueError(f"--filters must be between 1 and {base} (the source has {base})")
    if top_filters is not None and not 0 < top_filters <= filters:
        raise ValueError(f"--top-filters must be between 1 and {filters} (the base filters)")
    if filters == base and top_filters in (None, base):
        raise ValueError(f"nothing to narrow: ask for fewer than {base} filters (--filters or --top-filters)")
    if any(layer.name.endswith("_gn1") for layer in source.layers):
        raise ValueError("only BatchNorm U-Nets can be narrowed (this one uses group normalisation)")
    with_malignancy = any(layer.name == "malignancy" for layer in source.layers)
    top_filters = None if top_filters == filters else top_filters
    target = build_unet((size, size, 1), base_filters=filters, depth=depth, with_malignancy=with_malignancy,
                        top_filters=top_filters)

    previous = np.arange(1)  # the one grey-level input channel
    encoders = []
    for level in range(depth):
        choice = _block_choice(source, f"enc{level}", previous, level_filters(level, filters, top_filters))
        _copy_block(source, target, f"enc{level}", choice)
        encoders.append(choice["outputs"])
        previous = choice["outputs"]
    bottleneck = _block_choice(source, "bottleneck", previous, filters * 2 ** depth)
    _copy_block(source, target, "bottleneck", bottleneck)
    previous = bottleneck["outputs"]
    for level in reversed(range(depth)):
        kernel, bias = _weights(source, f"dec{level}_up")  # Conv2DTranspose: kernel (h, w, out, in)
        kernel = kernel[:, :, :, previous]
        up = _strongest(np.abs(kernel).sum(axis=(0, 1, 3)) + np.abs(bias), level_filters(level, filters, top_filters))
        target.get_layer(f"dec{level}_up").set_weights([kernel[:, :, up, :], bias[up]])
        # the block reads the upsampled channels first, then the skip connection's
        inputs = np.concatenate([up, base * 2 ** level + encoders[level]])
        choice = _block_choice(source, f"dec{level}", inputs, level_filters(level, filters, top_filters))
        _copy_block(source, target, f"dec{level}", choice)
        previous = choice["outputs"]
    kernel, bias = _weights(source, "mask")
    target.get_layer("mask").set_weights([kernel[:, :, previous, :], bias])
    if with_malignancy:
        kept = bottleneck["outputs"]
        kernel, bias = _weights(source, "cls_dense")  # rows: average-pooled channels, then max-pooled
        rows = np.concatenate([kept, base * 2 ** depth + kept])
        target.get_layer("cls_dense").set_weights([kernel[rows], bias])
        target.get_layer("malignancy").set_weights(_weights(source, "malignancy"))
    return target


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("source", help="a trained build_unet .keras file")
    ap.add_argument("out", help="where the narrowed .keras goes (not over the source)")
    ap.add_argument("--filters", type=int, help="base filters of the narrowed network (default: the source's)")
    ap.add_argument("--top-filters", type=int,
                    help="filters at the full-resolution level alone (default: the base filters)")
    a = ap.parse_args(argv)
    import keras

    from core.model import unet as _registered  # noqa: F401  (registers custom objects)

    if os.path.abspath(a.source) == os.path.abspath(a.out):
        print("refusing to write over the source model", file=sys.stderr)
        return 2
    source = keras.models.load_model(a.source, compile=False)
    try:
        target = narrow(source, a.filters, a.top_filters)
    except ValueError as e:
        print(f"cannot narrow {a.source}: {e}", file=sys.stderr)
        return 2
    target.save(a.out)
    print(f"{a.out}: {target.count_params():,} parameters (source {source.count_params():,}), "
          f"base filters {source_shape(target)[1]}, full-resolution level {_width(target, 'enc0_conv1')} "
          f"(source {source_shape(source)[1]})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
