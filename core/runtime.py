"""Which device TensorFlow computes on, and the training strategy that follows from it.

GPU when TensorFlow sees one (mixed precision there, MirroredStrategy across
several), the CPU otherwise (XLA compilation for training, which measurably
helps here; inference on the CPU runs without XLA, see core.inference.predictor.XLA_FOR_INFERENCE).
"""
from __future__ import annotations

import os

# Quiet TensorFlow's C++ start-up chatter before it is first imported.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def nvidia_gpu_present() -> bool:
    """Whether an NVIDIA GPU is visible, judged from its driver's files (without importing TensorFlow)."""
    if os.environ.get("CUDA_VISIBLE_DEVICES", None) in ("", "-1"):
        return False
    gpus = "/proc/driver/nvidia/gpus"
    return (os.path.isdir(gpus) and bool(os.listdir(gpus))) or os.path.exists("/dev/nvidia0")


def cpu_description() -> str:
    return f"CPU ({os.cpu_count()} cores)"


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
    return cpu_description()


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
