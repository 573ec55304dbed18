"""Metrics in plain numpy (Dice, IoU, HD95, AUC) and their 95 % intervals."""
