"""core.evaluation.folder: the Evaluate page's pictures show the mask each row was scored on."""
import numpy as np

from core.data.layouts import Case, LoadedCase
from core.evaluation.folder import Evaluation
from core.evaluation.scoring import Scored, score_predictions
from core.inference.decision import Decision


def _faint_false_alarm():
    """A normal scan whose 2x2 region reaches the threshold 0.5 with mean lesion score 0.55."""
    prob = np.zeros((6, 6), np.float32)
    prob[1:3, 1:3] = 0.55
    case = LoadedCase(Case("normal/n", "normal", "", []), np.zeros((6, 6), np.uint8), np.zeros((6, 6), bool), False)
    return Scored(case, prob, None, 1.0)


def test_scored_mask_is_the_gated_mask_dice_was_scored_on():
    s = _faint_false_alarm()
    rows = score_predictions([s], 0.5, Decision(0.5, 0.6))
    ev = Evaluation("m.keras", 0.5, rows, {}, [s], [], gate=0.6)
    # the gate (0.6) is above the region's score (0.55): the scored mask is empty, a normal left empty scores 1
    assert rows[0]["dice"] == 1.0
    assert ev.scored_mask(0).sum() == 0
    # with no gate the same region is 4 pixels, and that is what an ungated evaluation shows and scores
    assert Evaluation("m.keras", 0.5, score_predictions([s], 0.5), {}, [s], []).scored_mask(0).sum() == 4
