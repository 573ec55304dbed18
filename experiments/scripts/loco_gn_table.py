"""Issue 30, third candidate: the leave-one-centre-out table of group normalisation against the baseline, two runs
per recipe, and the verdict of the rule in experiments/LOG.md ("Generalisation, third candidate").

    python3 experiments/scripts/loco_gn_table.py [--runs RUNS]

Reads RUNS/loco_scores/<network>/summary.json as experiments/scripts/loco_queue_gn.sh writes them; a network not
scored yet is shown as missing and the verdict waits for it.
"""
from __future__ import annotations

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))

from tools.leave_one_out import HEADER, table_row  # noqa: E402

# runs whose folders are gone: the figure logged for them (experiments/LOG.md, 2026-12-02)
LOGGED = {("baseline", "busi"): 0.678, ("baseline", "busbra"): 0.263}
# (recipe, left-out centre) -> the score folders of its runs, relative to RUNS/loco_scores
RUNS_OF = {
    ("baseline", "busbra"): ["baseline/without_busbra"],
    ("baseline", "busi"): ["baseline_s1_without_busi"],
    ("gn", "busbra"): ["gn_s0_without_busbra", "gn_s1_without_busbra"],
    ("gn", "busi"): ["gn_s0_without_busi", "gn_s1_without_busi"],
}


def summaries(runs: str, folders: list[str]) -> list[dict | None]:
    out = []
    for f in folders:
        path = os.path.join(runs, "loco_scores", f, "summary.json")
        out.append(json.load(open(path))["overall"] if os.path.isfile(path) else None)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", default="runs")
    a = ap.parse_args(argv)
    print("| " + " | ".join(HEADER) + " |")
    print("|" + "---|" * len(HEADER))
    means = {}
    for (recipe, left), folders in RUNS_OF.items():
        dice = [LOGGED[(recipe, left)]] if (recipe, left) in LOGGED else []
        for folder, s in zip(folders, summaries(a.runs, folders)):
            if s is None:
                print(f"| {recipe} ({folder}) | {left} | not scored yet |")
                continue
            dice.append(s["dice_mean"])
            print("| " + " | ".join(table_row(f"{recipe} ({folder})", left, s)) + " |")
        means[(recipe, left)] = sum(dice) / len(dice) if len(dice) == 2 else None
        print(f"two-run mean, {recipe}, left-out {left}: "
              + ("waiting" if means[(recipe, left)] is None else f"{means[(recipe, left)]:.3f} ({', '.join(f'{d:.3f}' for d in dice)})"))
    if any(v is None for v in means.values()):
        print("verdict: waiting for runs")
        return 0
    diffs = {left: means[("gn", left)] - means[("baseline", left)] for left in ("busi", "busbra")}
    a_ok = all(d >= -0.02 for d in diffs.values())
    b_ok = any(d >= 0.05 for d in diffs.values())
    print(f"gn - baseline, two-run means: left-out BUSI {diffs['busi']:+.3f}, left-out BUS-BRA {diffs['busbra']:+.3f}; "
          f"(a) none below -0.02: {'holds' if a_ok else 'fails'}; (b) one at +0.05 or more: {'holds' if b_ok else 'fails'}"
          f" -> {'gn beats the baseline' if a_ok and b_ok else 'gn fails'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
