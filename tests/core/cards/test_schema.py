"""core.cards.schema: one typed card schema, built with build_card, read back whole with read_card."""
import glob
import json
import os
from dataclasses import replace

import pytest

from core.cards import limits
from core.cards.modelcard import AXILLARY_LIMITATION, AXILLARY_NODES, has_limitation, limitation_keys, write_card
from core.cards.schema import CrossCentreEntry, LesionGate, ModelCard, OnnxRecord, build_card, read_card
from tests.helpers import ROOT, card_json

SHIPPED = sorted(glob.glob(os.path.join(ROOT, "weights", "*.card.json")))
# the cards tests write by hand (tests/conftest.py's tiny card, tests/tools/test_leave_one_out.py's, an older one)
HAND_WRITTEN = [
    {"name": "tiny", "threshold": 0.5, "input": {"size": 32}, "test_metrics": {}},
    {"name": "d", "threshold": 0.5, "input": {"size": 32}, "test_metrics": {},
     "cross_centre": [{"trained_on": "BUSI", "scored_on": "BUS-BRA", "metrics": {}}]},
    {"name": "old", "threshold": 0.5, "limitations": [AXILLARY_LIMITATION], "someday": {"a": 1}},
    {},
]


def test_a_misspelled_field_fails_loudly():
    with pytest.raises(TypeError, match="treshold"):
        build_card(name="m", treshold=0.4)
    with pytest.raises(TypeError, match="extra"):
        build_card(name="m", extra={"x": 1})


def test_a_built_card_holds_every_field_but_the_ones_tools_add_later():
    card = build_card(name="m", threshold=0.4, limitations=[AXILLARY_LIMITATION],
                      limitation_keys=[AXILLARY_NODES]).to_dict()
    assert card["name"] == "m" and card["threshold"] == 0.4 and card["lesion_gate"] is None
    assert not {"recipe", "selection_note", "cross_centre", "cross_centre_auc", "onnx"} & set(card)
    assert has_limitation(card, AXILLARY_NODES)


@pytest.mark.parametrize("path", SHIPPED, ids=[os.path.basename(p) for p in SHIPPED])
def test_the_shipped_cards_read_back_whole(path):
    card = json.load(open(path))
    back = read_card(path).to_dict()
    # the same JSON, key for key and in the same order
    assert back == card and json.dumps(back) == json.dumps(card)


@pytest.mark.parametrize("card", HAND_WRITTEN, ids=lambda c: c.get("name", "empty"))
def test_the_cards_tests_write_read_back_whole(card):
    assert json.dumps(read_card(card).to_dict()) == json.dumps(card)


def test_the_tiny_models_card_reads_back_whole(tiny_model_path):
    card = card_json(tiny_model_path)
    assert read_card(tiny_model_path).to_dict() == card and read_card(tiny_model_path).input.size == 32


def test_the_parts_code_acts_on_are_typed():
    card = read_card(os.path.join(ROOT, "weights", "default.keras"))
    assert isinstance(card.lesion_gate, LesionGate) and card.lesion_gate.min_score > card.threshold
    assert card.malignancy_calibration.method == "platt" and card.input.size == 256
    assert isinstance(card.onnx, OnnxRecord) and card.onnx.file == "default.onnx"
    assert all(isinstance(c, CrossCentreEntry) for c in card.cross_centre)
    kinds = [c.kind for c in card.cross_centre]
    assert kinds.count("centre") == 2 and set(kinds) <= {"centre", "scanner"}
    assert read_card(None) is None and read_card(card) is card
    assert read_card(os.path.join(ROOT, "weights", "no_such_model.keras")) is None


def test_an_older_card_keeps_its_shape_and_unknown_keys():
    older = {"name": "old", "threshold": 0.5, "limitations": [AXILLARY_LIMITATION], "someday": {"a": 1}}
    read = read_card(older)
    # the reader maps its wording to the stable key, once, without writing the key onto the card
    assert read.threshold == 0.5 and read.extra == {"someday": {"a": 1}} and read.limitation_keys == [AXILLARY_NODES]
    back = read.to_dict()
    assert back == older  # no field it lacked is added
    assert has_limitation(back, AXILLARY_NODES)


def test_a_field_set_on_a_card_read_back_is_written_after_what_it_held(tmp_path):
    older = {"name": "old", "threshold": 0.5, "someday": {"a": 1}}
    card = replace(read_card(older), recipe="bash r.sh", cross_centre=[{"trained_on": "A", "scored_on": "B"}])
    assert isinstance(card.cross_centre[0], CrossCentreEntry)
    assert list(card.to_dict().items()) == [*older.items(), ("cross_centre", [{"trained_on": "A", "scored_on": "B"}]),
                                            ("recipe", "bash r.sh")]
    model = str(tmp_path / "m.keras")
    write_card(model, card)
    assert card_json(model) == card.to_dict() and "Reproduce: `bash r.sh`" in open(tmp_path / "m.card.md").read()


def test_rewording_a_limitation_never_changes_an_older_card(monkeypatch):
    reworded = "Axillary lymph nodes: reworded."
    monkeypatch.setattr(limits, "LIMITATION_TEXT", {AXILLARY_NODES: reworded})
    # a new card written with the new wording carries the key
    assert limitation_keys(["Trained on BUSI only.", reworded]) == [AXILLARY_NODES]
    # a card written before the keys, with the 2026-11 wording, still states the limitation, and so do the shipped
    # cards, whichever way they record it
    older = {"limitations": ["Trained on BUSI only.", limits.AXILLARY_WORDING_2026_11]}
    assert has_limitation(older, AXILLARY_NODES)
    for path in SHIPPED:
        assert has_limitation(json.load(open(path)), AXILLARY_NODES), path
    # the keys a card carries win over its sentences
    assert not has_limitation({"limitations": [AXILLARY_LIMITATION], "limitation_keys": []}, AXILLARY_NODES)
    assert has_limitation({"limitations": [reworded], "limitation_keys": [AXILLARY_NODES]}, AXILLARY_NODES)


def test_an_empty_card_reads_as_the_schemas_defaults():
    card = read_card({})
    assert card.name == "model" and card.threshold is None and card.limitations is None and card.to_dict() == {}
    assert ModelCard().limitation_keys is None and not has_limitation(ModelCard(), AXILLARY_NODES)
