"""Batch prediction (python -m core.predict): many files through the per-image pipeline, on this process or Ray."""
