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


def test_left_out_rows_that_share_a_note_say_it_once():
    from core.cards.modelcard import new_hospital_section
    from core.cards.schema import ModelCard

    scanner = {"trained_on": "BUSI + BUS-BRA without X", "left_out": "scanner", "metrics": {}, "note": "same recipe"}
    card = ModelCard.from_dict({"name": "m", "cross_centre": [
        {"trained_on": "BUSI", "scored_on": "BUS-BRA", "metrics": {}, "note": "one network"},
        {**scanner, "scored_on": "U-Systems"}, {**scanner, "scored_on": "Toshiba"}]})
    notes = [line for line in new_hospital_section(card) if line.startswith("- ")]
    # scanners by name, whatever order their networks finished in
    assert notes == ["- BUSI → BUS-BRA: one network", "- Toshiba; U-Systems: same recipe"]


def test_a_left_out_scanners_network_is_compared_with_itself_on_the_scanners_it_saw():
    from core.cards.modelcard import new_hospital_section
    from core.cards.schema import ModelCard

    card = ModelCard.from_dict({"name": "m", "cross_centre": [
        {"trained_on": "BUSI + BUS-BRA without T", "scored_on": "T", "left_out": "scanner", "metrics": {},
         "seen_scanners": {"dice_mean": 0.8125, "n_lesion": 95, "scanners": ["G5", "G7"]}}]})
    assert ("For comparison, the same networks on their own test images of the other scanners, which they trained "
            "on (mean lesion Dice): without T, 0.812 (n=95).") in new_hospital_section(card)


def test_a_left_out_row_says_what_its_gate_cost_there():
    from core.cards.modelcard import new_hospital_section
    from core.cards.schema import ModelCard

    card = ModelCard.from_dict({"name": "m", "cross_centre": [
        {"trained_on": "A", "scored_on": "T", "left_out": "scanner", "metrics": {"dice_mean": 0.6, "n_unmarked": 9},
         "without_gate": {"gate": 0.9, "dice_mean": 0.7, "n_unmarked": 2}}]})
    text = "\n".join(new_hospital_section(card))
    assert "T, 0.700 and 2 against 0.600 and 9 with gate 0.9" in text


@pytest.mark.parametrize("gate, shown", [(0.825, "reaches 0.825;"), (0.85, "reaches 0.85;")])
def test_the_gate_is_shown_as_fitted_not_rounded(gate, shown):
    # the gate's grid steps by 0.025: two decimals printed a site's 0.825 as 0.82
    card = {"name": "m", "lesion_gate": {"min_score": gate, "how_chosen": "Fitted."}}
    assert shown in render_markdown(card)


def test_a_site_fit_without_a_gate_says_so():
    card = {"name": "m", "lesion_gate": {"min_score": None, "how_chosen": "Fitted at X: no gate beat none."}}
    assert "**No no-lesion gate.** Fitted at X: no gate beat none." in render_markdown(card)
