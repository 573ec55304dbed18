"""An inference-only rewrite of a trained model: BatchNorm folded into the convolution before it.

At inference a BatchNormalization layer is a fixed per-channel scale and
shift, so it can be absorbed into the weights and bias of the Conv2D that
feeds it: kernel·s and (bias − mean)·s + beta, with s = gamma / sqrt(var + eps).
The rewritten model computes the same function (to float rounding) with one
pass less over every activation, and leaves TensorFlow's CPU graph optimiser
a plain Conv2D + BiasAdd + ReLU chain that it fuses into one oneDNN call.
bench/profile_predict.py measures the effect. The model on disk is never
changed; training always uses the original.
"""
from __future__ import annotations

import numpy as np


def _inbound_layer_names(model) -> dict[str, list[list[str]]]:
    """layer name -> for each call of the layer, the names of the layers whose outputs it took."""
    calls: dict[str, list[list[str]]] = {}
    for spec in model.get_config().get("layers", []):
        names = []
        for node in spec.get("inbound_nodes", []):
            srcs = []
            for arg in node.get("args", []):
                for t in arg if isinstance(arg, list) else [arg]:
                    if isinstance(t, dict) and t.get("class_name") == "__keras_tensor__":
                        srcs.append(t["config"]["keras_history"][0])
            names.append(srcs)
        calls[spec["config"]["name"]] = names
    return calls


def foldable_pairs(model) -> dict[str, str]:
    """{batch-norm layer name: conv layer name} for each BatchNormalization that can be folded.

    Folding needs a channels-last BN called once on the output of a linear
    Conv2D or DepthwiseConv2D that is itself called once and feeds nothing else.
    """
    from keras import activations, layers

    if not hasattr(model, "get_config") or not isinstance(model.get_config(), dict):
        return {}
    try:
        calls = _inbound_layer_names(model)
    except (KeyError, TypeError, IndexError, NotImplementedError):
        return {}  # not a functional model with a readable graph: leave it as it is
    consumers: dict[str, int] = {}
    for srcs_per_call in calls.values():
        for srcs in srcs_per_call:
            for s in srcs:
                consumers[s] = consumers.get(s, 0) + 1
    pairs = {}
    for layer in model.layers:
        if type(layer) is not layers.BatchNormalization or layer.axis not in (-1, 3):
            continue
        srcs = calls.get(layer.name, [])
        if len(srcs) != 1 or len(srcs[0]) != 1:
            continue
        try:
            conv = model.get_layer(srcs[0][0])
        except ValueError:
            continue
        if (type(conv) in (layers.Conv2D, layers.DepthwiseConv2D) and conv.data_format == "channels_last"
                and conv.activation is activations.linear and len(calls.get(conv.name, [])) == 1
                and consumers.get(conv.name) == 1):
            pairs[layer.name] = conv.name
    return pairs


def fold_batch_norm(model):
    """A new model computing the same outputs with every foldable BatchNormalization folded away.

    Returns the model itself when nothing can be folded (a classic U-Net
    without BatchNorm, say).
    """
    import keras
    from keras import layers

    pairs = foldable_pairs(model)
    if not pairs:
        return model
    conv_to_bn = {c: b for b, c in pairs.items()}

    class _PassThrough(layers.Layer):
        """Takes the folded BN's place in the graph, so every other layer keeps its name and wiring."""

        def call(self, inputs, training=None, mask=None):
            return inputs

    def clone(layer):
        if layer.name in pairs:
            return _PassThrough(name=layer.name)
        config = layer.get_config()
        if layer.name in conv_to_bn:
            config["use_bias"] = True
        return layer.__class__.from_config(config)

    folded = keras.models.clone_model(model, clone_function=clone)
    for layer in model.layers:
        if layer.name in pairs or not layer.weights:  # input layers may be renamed by the clone
            continue
        target = folded.get_layer(layer.name)
        if layer.name in conv_to_bn:
            bn = model.get_layer(conv_to_bn[layer.name])
            bn_weights = dict(zip(("gamma", "beta", "mean", "var"), _bn_weights(bn)))
            kernel = np.asarray(layer.kernel, np.float64)
            scale = bn_weights["gamma"] / np.sqrt(bn_weights["var"] + bn.epsilon)
            bias = np.asarray(layer.bias, np.float64) if layer.use_bias else np.zeros(scale.shape[0])
            if isinstance(layer, layers.DepthwiseConv2D):
                # kernel (kh, kw, C, multiplier): output channel c * multiplier + m is scaled by scale[that channel]
                kernel_scaled = kernel * scale.reshape(1, 1, kernel.shape[2], kernel.shape[3])
            else:
                kernel_scaled = kernel * scale
            target.set_weights([kernel_scaled.astype(np.float32),
                                ((bias - bn_weights["mean"]) * scale + bn_weights["beta"]).astype(np.float32)])
        else:
            target.set_weights(layer.get_weights())
    return folded


def _bn_weights(bn) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """gamma, beta, moving mean, moving variance as float64, with gamma 1 / beta 0 when the BN has none."""
    n = int(bn.moving_mean.shape[0])
    gamma = np.asarray(bn.gamma, np.float64) if bn.scale else np.ones(n)
    beta = np.asarray(bn.beta, np.float64) if bn.center else np.zeros(n)
    return gamma, beta, np.asarray(bn.moving_mean, np.float64), np.asarray(bn.moving_variance, np.float64)
