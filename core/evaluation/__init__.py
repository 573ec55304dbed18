"""Evaluation: scoring predictions, summaries per class, size, dataset and device, and their tables."""
