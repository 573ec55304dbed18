"""top8d's design check (experiments/LOG.md, "A lighter default, fourth attempt"): ungated lesion Dice of the four
distilled 128² students against the 12-filter left-out networks on the same sets, and left-out BUSI presence AUC;
exits 1 if the check fails. Reads RUNS/loco_scores and RUNS/loso_scores as top8d_design.sh writes them.

    PYTHONPATH=. python3 experiments/scripts/top8d_design_readout.py RUNS
"""
import json
import sys

runs = sys.argv[1] if len(sys.argv) > 1 else "runs"
SETS = [  # (left out, 12-filter scores, student scores, allowed drop)
    ("BUS-BRA (centre)", "loco_scores/baseline/without_busbra", "loco_scores/top8d_without_busbra", 0.03),
    ("BUSI (centre)", "loco_scores/baseline_s1_without_busi", "loco_scores/top8d_without_busi", 0.03),
    ("GE Logiq 5", "loso_scores/default-design-128/without_ge_logiq_5__10_12mhz",
     "loso_scores/top8d/without_ge_logiq_5__10_12mhz", 0.02),
    ("GE Logiq 7", "loso_scores/default-design-128/without_ge_logiq_7__10_14mhz",
     "loso_scores/top8d/without_ge_logiq_7__10_14mhz", 0.02),
]


def ungated(summary: dict) -> float:
    return (summary.get("without_gate") or {}).get("dice_mean", summary["overall"]["dice_mean"])


ok = True
print("| left out | 12 filters, ungated | top8d, ungated | difference | allowed | top8d with its gate |")
print("|---|---|---|---|---|---|")
for name, base, cand, allowed in SETS:
    b, c = (json.load(open(f"{runs}/{p}/summary.json")) for p in (base, cand))
    d = ungated(c) - ungated(b)
    ok &= d >= -allowed
    print(f"| {name} | {ungated(b):.3f} | {ungated(c):.3f} | {d:+.3f} | −{allowed} | {c['overall']['dice_mean']:.3f} |")
    if name.startswith("BUSI"):
        pb, pc = b["overall"]["presence_auc"], c["overall"]["presence_auc"]
        ok &= pc >= pb - 0.03
        print(f"left-out BUSI presence AUC: 12 filters {pb:.3f}, top8d {pc:.3f}")
print("design check:", "HOLDS" if ok else "FAILS")
sys.exit(0 if ok else 1)
