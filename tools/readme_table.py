"""Print the README's table of the shipped model's figures, straight from its card (so the two always agree).

    python tools/readme_table.py [MODEL]   (default: weights/default.keras)

tests/test_shipped_model.py checks that the README holds every figure of this table.
"""
from __future__ import annotations

import sys

from core.cards.modelcard import headline_rows
from core.cards.schema import ModelCard, read_card


def table(model: str) -> str:
    rows = headline_rows(read_card(model) or ModelCard())
    head = list(rows[0])
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join("—" if r[k] is None else str(r[k]) for k in head) + " |" for r in rows]
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(sys.argv[1] if len(sys.argv) > 1 else "weights/default.keras"))
