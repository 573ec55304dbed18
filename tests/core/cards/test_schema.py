"""core.cards.schema: one typed card schema, built with build_card, read back whole with ModelCard.from_dict."""
import json
import os

import pytest

from core.cards.modelcard import AXILLARY_LIMITATION, AXILLARY_NODES, has_limitation
from core.cards.schema import ModelCard, build_card
from tests.helpers import ROOT


def test_a_misspelled_field_fails_loudly():
    with pytest.raises(TypeError, match="treshold"):
        build_card(name="m", treshold=0.4)
    with pytest.raises(TypeError, match="extra"):
        build_card(name="m", extra={"x": 1})


def test_a_built_card_holds_every_field_but_the_ones_tools_add_later():
    card = build_card(name="m", threshold=0.4, limitations=[AXILLARY_LIMITATION], limitation_keys=[AXILLARY_NODES])
    assert card["name"] == "m" and card["threshold"] == 0.4 and card["lesion_gate"] is None
    assert not {"recipe", "selection_note", "cross_centre", "cross_centre_auc"} & set(card)
    assert has_limitation(card, AXILLARY_NODES)


@pytest.mark.parametrize("name", ["default", "f12_128"])
def test_the_shipped_cards_read_back_whole(name):
    card = json.load(open(os.path.join(ROOT, "weights", f"{name}.card.json")))
    assert ModelCard.from_dict(card).to_dict() == card


def test_an_older_card_keeps_its_shape_and_unknown_keys():
    older = {"name": "old", "threshold": 0.5, "limitations": [AXILLARY_LIMITATION], "someday": {"a": 1}}
    read = ModelCard.from_dict(older)
    assert read.threshold == 0.5 and read.extra == {"someday": {"a": 1}} and read.limitation_keys is None
    back = read.to_dict()
    assert back == older  # no field it lacked is added, so it still reads by its wording
    assert has_limitation(back, AXILLARY_NODES)
