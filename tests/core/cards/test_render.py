"""core.cards.modelcard.render_markdown: the shipped cards render to exactly the Markdown shipped beside them."""
import glob
import json
import os

import pytest

from core.cards.modelcard import render_markdown
from tests.helpers import ROOT

SHIPPED = sorted(glob.glob(os.path.join(ROOT, "weights", "*.card.json")))


@pytest.mark.parametrize("path", SHIPPED, ids=[os.path.basename(p) for p in SHIPPED])
def test_a_shipped_card_renders_to_its_markdown(path):
    card = json.load(open(path))
    assert render_markdown(card) == open(path.replace(".card.json", ".card.md")).read()


def test_there_are_shipped_cards_to_render():
    assert {os.path.basename(p) for p in SHIPPED} >= {"default.card.json", "f12_128.card.json"}
