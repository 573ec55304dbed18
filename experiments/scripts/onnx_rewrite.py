"""Exact rewrites of an exported U-Net graph meant to let ONNX Runtime keep it in its blocked channel layout.

An experiment, not adopted: the rewritten graph was no faster (experiments/LOG.md, "Exact rewrites of the ONNX
graph"); kept as the record of what was timed.

ONNX Runtime's CPU provider runs convolutions in a blocked layout (NCHWc: channels in blocks of 8 or 16), but not
Concat or ConvTranspose. A U-Net decoder concatenates each upsampled tensor with the encoder's skip tensor, so
every level converted the skip tensor out of the blocked layout and the concatenation back in: about 7 ms of a
43 ms pass for the shipped default under ONNX Runtime's profiler, which inflates small ops (timed plainly, the
rewrite saved nothing). Two rewrites remove most of that without changing what the network computes:

- ``split_concat_convs``: a convolution reading ``Concat(a, b)`` on channels becomes ``Conv(a, W_a) + Conv(b, W_b)``
  (the weights split along their input channels). The skip tensor then stays blocked, and ONNX Runtime fuses the
  Add into the second convolution.
- ``shortcut_into_padding``: the first residual block's 1x1 shortcut from a 1- or 2-channel input wrote a whole
  padded tensor for one multiply per pixel. Its first 3x3 convolution has spare padded channels (12 filters are
  stored as 16), so it also writes ``x`` and ``-x`` there (a centre-tap identity); after its ReLU those hold
  ``relu(x)`` and ``relu(-x)``, and the block's second convolution reads them with the shortcut's weights, since
  ``w*x = w*relu(x) - w*relu(-x)``. Exact for any input.

Both only reorder sums, so outputs move by float rounding (about 1e-6); experiments/scripts/onnx_rewrite_ab.py
checks the rewritten graph against the shipped one.
"""
from __future__ import annotations

import numpy as np

# ONNX Runtime's blocked layout stores channels in blocks of 8 (AVX2) or 16 (AVX-512); padding within 8 is free
# on both
CHANNEL_BLOCK = 8


def _attrs(node) -> dict:
    import onnx

    return {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}


class _Graph:
    """Name lookups over a GraphProto: initializers, producers and consumers of each tensor."""

    def __init__(self, model):
        from onnx import numpy_helper

        self.model = model
        self.graph = model.graph
        self.init = {t.name: numpy_helper.to_array(t) for t in self.graph.initializer}
        self.producer = {o: n for n in self.graph.node for o in n.output}
        self.consumers: dict[str, list] = {}
        for n in self.graph.node:
            for i in n.input:
                self.consumers.setdefault(i, []).append(n)
        self.outputs = {o.name for o in self.graph.output}
        self._count = 0

    def fresh(self, stem: str) -> str:
        self._count += 1
        return f"{stem}__rw{self._count}"

    def add_init(self, stem: str, value: np.ndarray) -> str:
        from onnx import numpy_helper

        name = self.fresh(stem)
        self.graph.initializer.append(numpy_helper.from_array(np.ascontiguousarray(value, np.float32), name))
        self.init[name] = value
        return name

    def conv_weights(self, node) -> tuple[np.ndarray, np.ndarray | None] | None:
        """(W, B) of a plain Conv whose weights are initializers, or None."""
        if node.op_type != "Conv" or node.input[1] not in self.init:
            return None
        a = _attrs(node)
        if a.get("group", 1) != 1 or any(d != 1 for d in a.get("dilations", [1, 1])):
            return None
        bias = self.init.get(node.input[2]) if len(node.input) > 2 and node.input[2] else None
        if len(node.input) > 2 and node.input[2] and bias is None:
            return None
        return self.init[node.input[1]], bias

    def only_consumer(self, tensor: str):
        users = self.consumers.get(tensor, [])
        return users[0] if len(users) == 1 and tensor not in self.outputs else None


def _conv_node(g: _Graph, x: str, w: np.ndarray, b: np.ndarray | None, like, out: str):
    import onnx

    inputs = [x, g.add_init(like.name or "conv", w)]
    if b is not None:
        inputs.append(g.add_init(like.name or "conv", b))
    node = onnx.helper.make_node("Conv", inputs, [out], name=g.fresh(like.name or "conv"))
    node.attribute.extend(like.attribute)
    return node


def _channels(g: _Graph, tensor: str) -> int | None:
    """Channel count of a tensor, from the graph's written shapes or from the node that produces it."""
    for vi in list(g.graph.value_info) + list(g.graph.input) + list(g.graph.output):
        if vi.name == tensor:
            dims = vi.type.tensor_type.shape.dim
            if len(dims) == 4 and dims[1].HasField("dim_value"):
                return int(dims[1].dim_value)
    p = g.producer.get(tensor)
    if p is not None and p.op_type == "ConvTranspose" and p.input[1] in g.init:
        return int(g.init[p.input[1]].shape[1]) * int(_attrs(p).get("group", 1))
    if p is not None and p.op_type == "Conv" and p.input[1] in g.init:
        return int(g.init[p.input[1]].shape[0])
    if p is not None and p.op_type in ("Relu", "Add", "MaxPool"):
        return _channels(g, p.input[0])
    return None


def split_concat_convs(model) -> int:
    """Rewrite every Conv that reads a two-input channel Concat as the sum of two Convs; drop the Concats left
    unused. Returns how many Convs were rewritten."""
    import onnx

    g = _Graph(model)
    new_nodes, rewritten, dropped = [], 0, set()
    for node in g.graph.node:
        src = g.producer.get(node.input[0]) if node.op_type == "Conv" else None
        wb = g.conv_weights(node) if src is not None else None
        if src is None or src.op_type != "Concat" or len(src.input) != 2 or _attrs(src).get("axis") != 1 \
                or wb is None:
            new_nodes.append(node)
            continue
        a, b = src.input
        ca = _channels(g, a)
        w, bias = wb
        if ca is None or not 0 < ca < w.shape[1]:
            new_nodes.append(node)
            continue
        ya, yb = g.fresh(node.output[0] + "_a"), g.fresh(node.output[0] + "_b")
        new_nodes.append(_conv_node(g, a, w[:, :ca], bias, node, ya))
        new_nodes.append(_conv_node(g, b, w[:, ca:], None, node, yb))
        new_nodes.append(onnx.helper.make_node("Add", [ya, yb], [node.output[0]], name=g.fresh("concat_split_add")))
        rewritten += 1
        dropped.add(src.output[0])
    # a Concat whose every reader was rewritten is dead
    still_read = {i for n in new_nodes for i in n.input} | g.outputs
    new_nodes = [n for n in new_nodes if not (n.op_type == "Concat" and n.output[0] in dropped
                                              and n.output[0] not in still_read)]
    del g.graph.node[:]
    g.graph.node.extend(new_nodes)
    return rewritten


def _same_padded(node, k: int) -> bool:
    a = _attrs(node)
    pads = a.get("pads", [0, 0, 0, 0])
    return all(s == 1 for s in a.get("strides", [1, 1])) and a.get("auto_pad", b"NOTSET") in (b"NOTSET", "NOTSET") \
        and list(pads) == [k // 2] * 4


def shortcut_into_padding(model) -> int:
    """Fold a residual block's 1x1 shortcut from a narrow input into the block's two 3x3 convolutions, where the
    first one's channel padding has room for the input and its negation. Returns how many blocks were folded."""
    g = _Graph(model)
    folded = 0
    for proj in list(g.graph.node):
        pw = g.conv_weights(proj)
        if pw is None or pw[0].shape[2:] != (1, 1) or not _same_padded(proj, 1):
            continue
        wp, bp = pw
        cin = wp.shape[1]
        add = g.only_consumer(proj.output[0])
        if add is None or add.op_type != "Add":
            continue
        conv2 = g.producer.get(add.input[0] if add.input[1] == proj.output[0] else add.input[1])
        w2b = g.conv_weights(conv2) if conv2 is not None else None
        relu = g.producer.get(conv2.input[0]) if w2b is not None else None
        conv1 = g.producer.get(relu.input[0]) if relu is not None and relu.op_type == "Relu" else None
        w1b = g.conv_weights(conv1) if conv1 is not None else None
        if w1b is None or conv1.input[0] != proj.input[0] or g.only_consumer(conv2.output[0]) is not add \
                or g.only_consumer(conv1.output[0]) is not relu or g.only_consumer(relu.output[0]) is not conv2:
            continue
        w1, b1 = w1b
        w2, b2 = w2b
        k1, k2 = w1.shape[2], w2.shape[2]
        c1 = w1.shape[0]
        if not (w1.shape[2] == w1.shape[3] and w2.shape[2] == w2.shape[3] and k1 % 2 and k2 % 2
                and _same_padded(conv1, k1) and _same_padded(conv2, k2)):
            continue
        width = -(-c1 // CHANNEL_BLOCK) * CHANNEL_BLOCK
        if c1 + 2 * cin > width:
            continue  # no room in the padding: the rewrite would add work
        # first conv: also write x and -x (centre tap) into channels c1.. c1+2cin, and zeros up to the block's
        # width (ONNX Runtime keeps a convolution blocked only when its input width is a multiple of 4)
        w1n = np.zeros((width, cin, k1, k1), np.float32)
        w1n[:c1] = w1
        for i in range(cin):
            w1n[c1 + i, i, k1 // 2, k1 // 2] = 1.0
            w1n[c1 + cin + i, i, k1 // 2, k1 // 2] = -1.0
        b1n = np.zeros(width, np.float32)
        b1n[:c1] = b1 if b1 is not None else 0.0
        # second conv: read relu(x) and relu(-x) with the shortcut's weights at its centre tap
        w2n = np.zeros((w2.shape[0], width, k2, k2), np.float32)
        w2n[:, :c1] = w2
        w2n[:, c1:c1 + cin, k2 // 2, k2 // 2] = wp[:, :, 0, 0]
        w2n[:, c1 + cin:c1 + 2 * cin, k2 // 2, k2 // 2] = -wp[:, :, 0, 0]
        b2n = (b2 if b2 is not None else np.zeros(w2.shape[0], np.float32)) + \
            (bp if bp is not None else np.zeros(w2.shape[0], np.float32))
        conv1.input[1] = g.add_init(conv1.name or "conv", w1n)
        if len(conv1.input) > 2:
            conv1.input[2] = g.add_init(conv1.name or "conv", b1n)
        else:
            conv1.input.append(g.add_init(conv1.name or "conv", b1n))
        conv2.input[1] = g.add_init(conv2.name or "conv", w2n)
        if len(conv2.input) > 2:
            conv2.input[2] = g.add_init(conv2.name or "conv", b2n)
        else:
            conv2.input.append(g.add_init(conv2.name or "conv", b2n))
        conv2.output[0] = add.output[0]  # the block's sum is now conv2's own output
        g.graph.node.remove(add)
        g.graph.node.remove(proj)
        folded += 1
    return folded


def drop_unused_initializers(model) -> None:
    used = {i for n in model.graph.node for i in n.input}
    keep = [t for t in model.graph.initializer if t.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)


def stale_value_info(model) -> None:
    """Forget written shapes: rewritten tensors changed width, and the shapes are written again after."""
    del model.graph.value_info[:]


def rewrite_for_blocked_layout(path: str) -> dict[str, int]:
    """Apply both rewrites to the ONNX file at path, in place. Returns how many of each were made."""
    import onnx

    model = onnx.load(path)
    counts = {"concat_convs_split": split_concat_convs(model), "shortcuts_folded": shortcut_into_padding(model)}
    drop_unused_initializers(model)
    stale_value_info(model)
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return counts
