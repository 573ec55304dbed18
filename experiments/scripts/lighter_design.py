"""The design rule of a lighter default (experiments/LOG.md: distil8, "A lighter default, second attempt"; top8, "A
lighter default, third attempt"): prints the left-out-centre and left-out-scanner tables of candidate NAME against
the 12-filter networks (and narrow8, for the record) and exits 1 if (a) or (b) fails. The candidate's scores are
read from RUNS/loco_scores/NAME_without_{busi,busbra} and RUNS/loso_scores/NAME/without_SCANNER.

    PYTHONPATH=. python3 experiments/scripts/lighter_design.py RUNS [NAME]   (NAME: distil8 by default)
"""
import json
import sys

from tools.leave_one_out import HEADER, paired, table_row

runs = sys.argv[1] if len(sys.argv) > 1 else "runs"
cand_name = sys.argv[2] if len(sys.argv) > 2 else "distil8"
s = f"{runs}/loco_scores"
ok = True
print("| " + " | ".join(HEADER) + f" | paired Dice vs 12 filters | paired Dice, {cand_name} − narrow8 |")
print("|" + "---|" * (len(HEADER) + 2))
for base, narrow, cand, centre in [("baseline/without_busbra", "narrow8_without_busbra", f"{cand_name}_without_busbra",
                                    "busbra"),
                                   ("baseline_s1_without_busi", "narrow8_without_busi", f"{cand_name}_without_busi", "busi")]:
    summaries = {}
    for name, folder in [("12 filters", base), ("narrow8", narrow), (cand_name, cand)]:
        o = summaries[name] = json.load(open(f"{s}/{folder}/summary.json"))["overall"]
        d = paired(f"{s}/{base}/per_image.csv", f"{s}/{folder}/per_image.csv") if name != "12 filters" else None
        e = paired(f"{s}/{narrow}/per_image.csv", f"{s}/{cand}/per_image.csv") if name == cand_name else None
        fmt = lambda p: f"{p['mean']:+.3f} ({p['ci'][0]:+.3f} to {p['ci'][1]:+.3f})" if p else ""
        print("| " + " | ".join(table_row(name, centre, o)) + f" | {fmt(d)} | {fmt(e)} |")
        if name == cand_name:
            ok &= d["mean"] >= -0.03
    if centre == "busi":
        b, c = summaries["12 filters"], summaries[cand_name]
        flagged = lambda o: round(o["false_alarm_rate"] * o["n_normal"])
        ok &= flagged(c) <= flagged(b) + 10 and c["presence_auc"] >= b["presence_auc"] - 0.03
        print(f"BUSI normals flagged: 12 filters {flagged(b)}, {cand_name} {flagged(c)}; presence AUC "
              f"{b['presence_auc']:.3f} against {c['presence_auc']:.3f}")
print()
print(f"| left out | images | without gates: 12 filters / narrow8 / {cand_name} | {cand_name} − 12, without gates | "
      f"with gates: 12 / {cand_name} | paired with gates, {cand_name} − 12 | nothing marked, 12 / {cand_name} |")
print("|---|---|---|---|---|---|---|")
for slug in ["ge_logiq_5__10_12mhz", "ge_logiq_7__10_14mhz"]:
    paths = {k: f"{runs}/loso_scores/{k}/without_{slug}" for k in ("default-design-128", "narrow8", cand_name)}
    b, n, c = (json.load(open(f"{p}/summary.json")) for p in paths.values())
    ungated = lambda x: (x.get("without_gate") or {}).get("dice_mean", x["overall"]["dice_mean"])
    diff = ungated(c) - ungated(b)
    ok &= diff >= -0.02
    d = paired(f"{paths['default-design-128']}/per_image.csv", f"{paths[cand_name]}/per_image.csv")
    print(f"| {slug} | {c['overall']['n_images']} | {ungated(b):.3f} / {ungated(n):.3f} / {ungated(c):.3f} | "
          f"{diff:+.3f} | {b['overall']['dice_mean']:.3f} / {c['overall']['dice_mean']:.3f} | {d['mean']:+.3f} "
          f"({d['ci'][0]:+.3f} to {d['ci'][1]:+.3f}) | {b['overall']['n_unmarked']} / {c['overall']['n_unmarked']} |")
print("design rule:", "PASSES" if ok else "FAILS")
sys.exit(0 if ok else 1)
