"""Does a presence head on a segmentation network's own bottleneck features tell a lesion image from a lesion-free
one at a centre the network never saw better than the map's lesion_score does? (experiments/LOG.md, "A presence
head on frozen features".)

The segmentation network is frozen (its masks are exactly the left-out baseline's); only a small head is trained,
on its bottleneck features, with lesion images as positives and the training centre's normals and lesion-free crops
(core.training.negatives) as negatives. Both scores are then read on the same 128² maps: for the left-out centre's
every image, and for the training centre's validation lesion images, which set each score's operating point (the
score that keeps 95 % of them) out of sample.

    PYTHONPATH=. python3 experiments/scripts/presence_head.py --base MODEL --data TRAIN_DIR --left-out DIR --out DIR
"""
import argparse
import json
import os

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--base", required=True)
    ap.add_argument("--data", required=True)
    ap.add_argument("--left-out", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    ap.add_argument("--epochs", type=int, default=6)
    a = ap.parse_args()

    import keras
    from keras import layers

    from core.cards.schema import read_card
    from core.data.layouts import load_cases, scan_datasets
    from core.inference.decision import Decision, lesion_score
    from core.inference.preprocess import normalise, to_model_input
    from core.metrics.scores import roc_auc
    from core.training.batches import make_batches
    from core.training.dataprep import prepare_data
    from core.training.run import RunFolder
    from core.training.settings import TrainSettings

    os.makedirs(a.out, exist_ok=True)
    base = keras.models.load_model(a.base, compile=False)
    base.trainable = False
    size = base.input_shape[1]
    threshold = Decision.from_card(read_card(a.base)).threshold
    settings = TrainSettings(data=[a.data], out=a.out, image_size=size, negative_crops=True,
                             split_from="weights/default.split.json", seed=0, batch_size=16)
    arrays, _, _ = prepare_data(settings, RunFolder(a.out), print)
    val = arrays["val"]
    val_x = np.stack([normalise(im) for im in val.x])
    val_lesion = np.array([bool(m.any()) for m in val.y])

    left = load_cases(scan_datasets([a.left_out]).cases)
    left_x = np.stack([to_model_input(lc.gray, size) for lc in left])
    left_lesion = np.array([bool(lc.mask.any()) for lc in left])
    print(f"validation: {val_lesion.sum()} lesion images, {(~val_lesion).sum()} lesion-free; left out: "
          f"{left_lesion.sum()} lesion images, {(~left_lesion).sum()} normal scans", flush=True)

    def map_scores(x):
        out = base.predict(x, batch_size=16, verbose=0)
        return np.array([lesion_score(p[..., 0], threshold) for p in out["mask"]])

    results = {"threshold": threshold, "lesion_score": None, "heads": []}

    def read_out(name, v, lo):
        cut = float(np.quantile(v[val_lesion], 0.05))  # keeps 95 % of validation lesion images
        r = {"score": name, "val_auc": roc_auc(val_lesion, v),
             "left_out_auc": roc_auc(left_lesion, lo),  # NaN: no normals "cut": cut,
             "left_out_normals_flagged": int((lo[~left_lesion] >= cut).sum()), "left_out_normals": int((~left_lesion).sum()),
             "left_out_lesions_emptied": int((lo[left_lesion] < cut).sum()), "left_out_lesions": int(left_lesion.sum())}
        print(json.dumps(r), flush=True)
        return r

    results["lesion_score"] = read_out("lesion_score", map_scores(val_x), map_scores(left_x))

    feats = base.get_layer("cls_gap").input  # the bottleneck, which the malignancy head reads too
    for seed in a.seeds:
        keras.utils.set_random_seed(seed)
        h = layers.Concatenate()([layers.GlobalAveragePooling2D()(feats), layers.GlobalMaxPooling2D()(feats)])
        h = layers.Dense(64, activation="relu")(layers.Dropout(0.3)(h))
        presence = layers.Dense(1, activation="sigmoid", dtype="float32", name="presence")(h)
        head = keras.Model(base.input, presence)
        head.compile(optimizer=keras.optimizers.Adam(1e-3), loss="binary_crossentropy")
        batches = make_batches(arrays["fit"], 16, True, True, seed, "strong")
        for epoch in range(a.epochs):
            losses = []
            for i in range(len(batches)):
                x, y, _ = batches[i]
                target = y["mask"].reshape(len(x), -1).max(axis=1, keepdims=True)
                losses.append(float(head.train_on_batch(x, target)))
            batches.on_epoch_end()
            v = head.predict(val_x, batch_size=32, verbose=0)[:, 0]
            print(f"seed {seed} epoch {epoch + 1}: loss {np.mean(losses):.4f}, validation AUC "
                  f"{roc_auc(val_lesion, v):.3f}", flush=True)
        r = read_out(f"head seed {seed}", v, head.predict(left_x, batch_size=32, verbose=0)[:, 0])
        results["heads"].append(r)
    with open(os.path.join(a.out, "presence.json"), "w") as fh:
        json.dump(results, fh, indent=1)


if __name__ == "__main__":
    main()
