"""Interleaved A/B: the shipped default.onnx against the same graph after core.inference.onnx_rewrite (concat
split, first shortcut in the padding); 3 rounds of 45 real inputs, one image at a time, the product's session
options; then the largest probability difference and whether the product's masks agree, on those 45 inputs and on
the shipped samples. Rule and outcome: experiments/LOG.md, "Exact rewrites of the ONNX graph".

Run on the commit before the shipped export was rewritten (afterwards A is rewritten already):

    PYTHONPATH=. python3 experiments/scripts/onnx_rewrite_ab.py
"""
import glob
import shutil

import numpy as np

from core.data.imageio import read_image_file
from core.inference.decision import lesion_mask
from core.inference.onnx_export import _write_shapes
from core.inference.predictor import Predictor
from core.inference.preprocess import probability_to_original
from core.locations import SAMPLES_DIR
from experiments.scripts.interleaved import ab_files, interleaved_round, product_session
from experiments.scripts.onnx_rewrite import rewrite_for_blocked_layout

REWRITTEN = "/tmp/rewritten.onnx"



def main() -> None:
    shutil.copy("weights/default.onnx", REWRITTEN)
    print("rewrites:", rewrite_for_blocked_layout(REWRITTEN), "shapes written:", _write_shapes(REWRITTEN))
    p = Predictor.load("weights/default.keras")
    grays = [read_image_file(f).gray for f in ab_files()]
    xs = [p.model_input(g)[None].astype(np.float32) for g in grays]
    sessions = {"shipped": product_session("weights/default.onnx"), "rewritten": product_session(REWRITTEN)}
    runners = {k: (lambda x, s=s: s.run(None, {"image": x})) for k, s in sessions.items()}
    for run in runners.values():
        run(xs[0])
    for rnd in range(3):
        a, b = interleaved_round(runners, xs, rnd).values()
        print(f"round {rnd + 1} ({len(xs)} inputs): shipped {a:.1f} ms, rewritten {b:.1f} ms ({(b - a) / a:+.1%})",
              flush=True)
    samples = sorted(f for f in glob.glob(f"{SAMPLES_DIR}/**/*.png", recursive=True) if "_mask" not in f)
    grays += [read_image_file(f).gray for f in samples]
    diff, masks_differ = 0.0, 0
    for g in grays:
        x = p.model_input(g)[None].astype(np.float32)
        outs = [sessions[k].run(None, {"image": x}) for k in sessions]
        diff = max(diff, max(float(np.abs(u - v).max()) for u, v in zip(*outs)))
        m = [lesion_mask(probability_to_original(dict(zip([o.name for o in s.get_outputs()], out))["mask"][0, ..., 0],
                                                 *g.shape), p.threshold, p.decision.gate)
             for s, out in zip(sessions.values(), outs)]
        masks_differ += int(not np.array_equal(*m))
    print(f"{len(grays)} images ({len(samples)} samples): largest probability difference {diff:.2e}, "
          f"masks differing {masks_differ}")


if __name__ == "__main__":
    main()
