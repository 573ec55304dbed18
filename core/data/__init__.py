"""Datasets: the layouts we read, image decoding, the audit of their traps, splits, and safe zip extraction."""
