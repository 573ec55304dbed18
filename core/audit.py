"""Auditing a dataset folder from the command line (the library is core.data.dataset_audit).

    python -m core.audit --data DIR [--json]
"""
from __future__ import annotations

import argparse
import json

from core.data.dataset_audit import audit_dataset


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Audit a dataset folder (BUSI or BUS-BRA layout).")
    ap.add_argument("--data", required=True, action="append", help="dataset folder (BUSI or BUS-BRA layout); repeat for several")
    ap.add_argument("--json", action="store_true", help="print the full report as JSON")
    args = ap.parse_args(argv)
    report = audit_dataset(args.data)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
    else:
        print("\n".join(report.summary_lines()))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
