"""Inference: the one preprocessing path, the predictor built once and called per image, its fast path, batch prediction."""
