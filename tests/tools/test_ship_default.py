"""tools/ship_default.py: carrying the replaced model's new-hospital rows onto the new card."""
import pytest

from core.cards.schema import CrossCentreEntry, ModelCard
from tools.ship_default import carry_cross_centre


def test_rows_carry_over_with_a_note_saying_whose_they_are():
    old = ModelCard(cross_centre=[CrossCentreEntry(trained_on="BUS-BRA", scored_on="BUSI", note="at 128x128."),
                                  CrossCentreEntry(trained_on="BUSI", scored_on="BUS-BRA")],
                    cross_centre_auc={"BUSI": {"auc": 0.85}})
    new = carry_cross_centre(ModelCard(name="default"), old, "rows of the 12-filter network")
    assert [r.note for r in new.cross_centre] == ["at 128x128; rows of the 12-filter network",
                                                  "rows of the 12-filter network"]
    assert new.cross_centre_auc == {"BUSI": {"auc": 0.85}}
    assert new.name == "default" and old.cross_centre[0].note == "at 128x128."


def test_nothing_to_carry_is_refused():
    with pytest.raises(SystemExit, match="no new-hospital rows"):
        carry_cross_centre(ModelCard(), ModelCard(), "text")
