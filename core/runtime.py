"""Which device TensorFlow computes on, and the training strategy that follows from it.

GPU when TensorFlow sees one (mixed precision there, MirroredStrategy across
several), the CPU otherwise (XLA compilation for training, which measurably
helps here; inference on the CPU runs without XLA, see core.inference.predictor.XLA_FOR_INFERENCE).
"""
from __future__ import annotations

import os

# Quiet TensorFlow's C++ start-up chatter before it is first imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def gpu_names() -> list[str]:
    import tensorflow as tf

    names = []
    for dev in tf.config.list_physical_devices("GPU"):
        try:
            names.append(tf.config.experimental.get_device_details(dev).get("device_name", dev.name))
        except Exception:
            names.append(dev.name)
    return names


def describe_device() -> str:
    """A short human-readable name of where inference runs: 'GPU: NVIDIA H100' or 'CPU (2 cores)'."""
    gpus = gpu_names()
    if gpus:
        return "GPU: " + ", ".join(gpus)
    return f"CPU ({os.cpu_count()} cores)"


def training_setup():
    """Return (strategy, jit_compile, description) for the machine we are on."""
    import keras
    import tensorflow as tf

    gpus = gpu_names()
    if gpus:
        keras.mixed_precision.set_global_policy("mixed_float16")
        if len(gpus) > 1:
            return tf.distribute.MirroredStrategy(), "auto", f"{len(gpus)} GPUs (MirroredStrategy, mixed precision)"
        return tf.distribute.get_strategy(), "auto", f"GPU {gpus[0]} (mixed precision)"
    return tf.distribute.get_strategy(), True, f"CPU ({os.cpu_count()} cores, XLA)"
