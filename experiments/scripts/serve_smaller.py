"""Serving the shipped default at a smaller input with the same weights (experiments/LOG.md, "Serving the default
at a smaller input"): builds the copies, scores them on the default's test split and the 128² left-out networks at
96², and prints every figure the rule reads, with its verdict for serve224 and serve192. Resumable: copies and
scores already on disk are read back.

    PYTHONPATH=. python3 experiments/scripts/serve_smaller.py RUNS
"""
import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace

BUSI = "../shared/busi/Dataset_BUSI_with_GT"
BUSBRA = "../shared/busbra/BUSBRA"
SCANNERS = {"ge_logiq_5__10_12mhz": "GE Logiq 5 @10-12MHz", "ge_logiq_7__10_14mhz": "GE Logiq 7 @10-14MHz",
            "toshiba_aplio_300__12_14_mhz": "Toshiba Aplio 300 @12-14 MHz", "u_systems__10_14mhz": "U-Systems @10-14MHz"}


def resized_copy(src: str, dst: str, size: int) -> str:
    """The network of ``src`` built with a (size, size) input, the same weights; its card and split copied, the
    card's input size changed and its ONNX record dropped (the export beside ``src`` is for the old size)."""
    if os.path.isfile(dst):
        return dst
    import keras

    from core.cards.modelcard import write_card
    from core.cards.schema import read_card
    from core.model import unet as _registered  # noqa: F401

    model = keras.models.load_model(src, compile=False)
    config = model.get_config()
    for layer in config["layers"]:
        if layer["class_name"] == "InputLayer":
            shape = list(layer["config"]["batch_shape"])
            layer["config"]["batch_shape"] = [shape[0], size, size, *shape[3:]]
    copy = model.__class__.from_config(config)
    copy.set_weights(model.get_weights())
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    copy.save(dst)
    card = read_card(src)
    write_card(dst, replace(card, input=replace(card.input, size=size), onnx=None))
    stem = os.path.splitext(src)[0]
    for split in (f"{stem}.split.json", os.path.join(os.path.dirname(src), "split.json")):
        if os.path.isfile(split):
            shutil.copy(split, os.path.splitext(dst)[0] + ".split.json")
            break
    return dst


def test_split(model: str, out: str) -> dict:
    """core.evaluate on the model's test split of each dataset: {dataset: (summary, per_image.csv)}."""
    got = {}
    for data in (BUSI, BUSBRA):
        d = f"{out}/test_{os.path.basename(data)}"
        if not os.path.isfile(f"{d}/summary.json"):
            subprocess.run([sys.executable, "-m", "core.evaluate", "--data", data, "--weights", model, "--split",
                            "test", "--out", d], check=True)
        got[data] = (json.load(open(f"{d}/summary.json")), f"{d}/per_image.csv")
    return got


def small_dice(csvs: list[str], keys: set[str] | None = None) -> tuple[float, int, set[str]]:
    """Mean Dice of lesions under 2 % of the frame (by the ground truth), over the given per-image files."""
    import csv
    rows = [r for p in csvs for r in csv.DictReader(open(p)) if float(r["gt_area_px"]) > 0]
    small = {r["key"]: float(r["dice"]) for r in rows
             if float(r["gt_area_px"]) < 0.02 * float(r["width"]) * float(r["height"])}
    keys = set(small) if keys is None else keys
    vals = [small[k] for k in keys]
    return sum(vals) / len(vals), len(vals), keys


def main(runs: str) -> int:
    from tools.leave_one_out import paired, score_left_out

    out = f"{runs}/serve_smaller"
    ok = {"serve224": True, "serve192": True}
    fmt = lambda p: f"{p['mean']:+.3f} ({p['ci'][0]:+.3f} to {p['ci'][1]:+.3f})"
    base = test_split("weights/default.keras", f"{out}/default256")
    for name, size in (("serve224", 224), ("serve192", 192)):
        model = resized_copy("weights/default.keras", f"{out}/{name}/model.keras", size)
        cand = test_split(model, f"{out}/{name}")
        print(f"== {name} ({size}²) against the default at 256², test split")
        for data in (BUSI, BUSBRA):
            (b, bcsv), (c, ccsv) = base[data], cand[data]
            d = paired(bcsv, ccsv)
            ok[name] &= d["mean"] >= -0.01 and d["ci"][0] > -0.03
            print(f"  {os.path.basename(data)}: Dice {b['dice_mean']:.3f} → {c['dice_mean']:.3f}, paired {fmt(d)}; "
                  f"malignancy AUC {b['malignancy_auc']:.3f} → {c['malignancy_auc']:.3f}")
            ok[name] &= c["malignancy_auc"] >= b["malignancy_auc"] - 0.01
            if b.get("n_normal"):
                fb, fc = (round(s["false_alarm_rate"] * s["n_normal"]) for s in (b, c))
                ok[name] &= fc <= 2 and c["presence_auc"] >= b["presence_auc"] - 0.01
                print(f"  normals flagged {fb} → {fc} of {c['n_normal']}; presence AUC {b['presence_auc']:.3f} → "
                      f"{c['presence_auc']:.3f}")
        sb, n, keys = small_dice([base[x][1] for x in (BUSI, BUSBRA)])
        sc, _, _ = small_dice([cand[x][1] for x in (BUSI, BUSBRA)], keys)
        ok[name] &= sc >= sb - 0.02
        print(f"  lesions under 2 % of the frame (n={n}): Dice {sb:.3f} → {sc:.3f}")
    print("== left-out networks at 96² against their own 128² scores (threshold and gate unchanged)")
    sets = [("BUS-BRA (centre)", f"{runs}/loco/baseline_without_busbra/model.keras", BUSBRA, None,
             f"{runs}/loco_scores/baseline/without_busbra"),
            ("BUSI (centre)", f"{runs}/loco/baseline_s1_without_busi/model.keras", BUSI, None,
             f"{runs}/loco_scores/baseline_s1_without_busi")]
    sets += [(device, f"{runs}/loso/default-design-128_without_{slug}/model.keras", BUSBRA, device,
              f"{runs}/loso_scores/default-design-128/without_{slug}") for slug, device in SCANNERS.items()]
    for label, model, data, device, scores128 in sets:
        slug = os.path.basename(os.path.dirname(model))
        small = resized_copy(model, f"{out}/leftout96/{slug}/model.keras", 96)
        d96 = f"{out}/leftout96_scores/{slug}"
        if not os.path.isfile(f"{d96}/summary.json"):
            score_left_out(small, data, d96, device)
        s128, s96 = (json.load(open(f"{p}/summary.json")) for p in (scores128, d96))
        o128, o96 = s128["overall"], s96["overall"]
        d = paired(f"{scores128}/per_image.csv", f"{d96}/per_image.csv")
        ug = lambda s: (s.get("without_gate") or {}).get("dice_mean", s["overall"]["dice_mean"])
        line = (f"  {label}: {o96['n_lesion']} lesions, Dice {o128['dice_mean']:.3f} → {o96['dice_mean']:.3f}, "
                f"paired {fmt(d)}; without gates {ug(s128):.3f} → {ug(s96):.3f}; nothing marked "
                f"{o128['n_unmarked']} → {o96['n_unmarked']}")
        if o96["n_lesion"] >= 99:
            ok["serve192"] &= d["mean"] >= -0.02
            ok["serve224"] &= d["mean"] >= -0.04
        if o96.get("n_normal"):
            fb, fc = (round(o["false_alarm_rate"] * o["n_normal"]) for o in (o128, o96))
            ok["serve192"] &= fc <= fb + 5 and o96["presence_auc"] >= o128["presence_auc"] - 0.02
            ok["serve224"] &= fc <= fb + 5 and o96["presence_auc"] >= o128["presence_auc"] - 0.02
            line += (f"; normals flagged {fb} → {fc} of {o96['n_normal']}, presence AUC {o128['presence_auc']:.3f}"
                     f" → {o96['presence_auc']:.3f}")
        print(line, flush=True)
    for name, passed in ok.items():
        print(f"{name}: rule (i)-(iv) {'HOLDS' if passed else 'FAILS'}; (v) is bench.bench_predict's, run by hand")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1] if len(sys.argv) > 1 else "runs"))
