"""tools/check_ship_guard.py: the ship rule's broken-run guard, on hand-written cards."""
import json
import os
import subprocess
import sys

import pytest

from tests.helpers import ROOT

SCRIPT = os.path.join(ROOT, "tools", "check_ship_guard.py")
ENV = {**os.environ, "PYTHONPATH": ROOT}  # the script reads the card through this checkout's core, not an installed one


def run_guard(tmp_path, dice, fa, auc, *extra):
    card = tmp_path / "model.card.json"
    card.write_text(json.dumps({"test_metrics": {"dice_mean": dice, "false_alarm_rate": fa, "malignancy_auc": auc}}))
    return subprocess.run([sys.executable, SCRIPT, str(card), "--min-dice", "0.707", *extra],
                          capture_output=True, text=True, env=ENV)


@pytest.mark.parametrize("dice, fa, auc, code", [
    (0.707, 0.25, 0.85, 0),   # every figure exactly on its limit passes
    (0.706, 0.10, 0.90, 3),   # Dice just under
    (0.80, 0.26, 0.90, 3),    # too many false alarms
    (0.80, 0.10, 0.849, 3),   # AUC just under
])
def test_guard_limits(tmp_path, dice, fa, auc, code):
    r = run_guard(tmp_path, dice, fa, auc)
    assert r.returncode == code, r.stdout + r.stderr
    assert ("does not ship" in r.stdout) == (code == 3)


def test_val_rule_reads_the_validation_figures_only(tmp_path):
    card = tmp_path / "model.card.json"
    card.write_text(json.dumps({"test_metrics": {"dice_mean": 0.90, "false_alarm_rate": 0.0, "malignancy_auc": 0.99},
                                "val_metrics": {"dice_mean": 0.738, "false_alarm_rate": 0.25, "malignancy_auc": 0.88}}))
    r = subprocess.run([sys.executable, SCRIPT, str(card), "--min-dice", "0.739", "--on", "val"],
                       capture_output=True, text=True, env=ENV)
    assert r.returncode == 3 and "on val: Dice 0.738" in r.stdout and "0.990" not in r.stdout
