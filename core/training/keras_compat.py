"""Keras internals that multi-worker training patches, each kept here, behind a check of the Keras version.

Both work around Keras 3.15 under tf.distribute.MultiWorkerMirroredStrategy (core.training.distributed) and reach
into Keras' private modules (``keras.src``, ``Model._symbolic_build``). Those change without notice between
releases, so each patch first checks that Keras is a version they were tested on (tests/core/training/
test_distributed.py trains on two workers with them) and refuses to run on any other: on a new Keras, rerun that
test, see whether the patch is still needed, and add the version to TESTED_KERAS.
"""
from __future__ import annotations

from core.versions import require_tested

# major.minor versions of Keras these patches were tested on (requirements.txt pins 3.15.1)
TESTED_KERAS = ("3.15",)


def check_keras(version: str | None = None) -> None:
    """Raise UntestedVersionError unless Keras (or the version given) is one TESTED_KERAS names."""
    if version is None:
        import keras

        version = keras.__version__
    require_tested("Keras", version, TESTED_KERAS, "run tests/core/training/test_distributed.py on it")


def build_before_multi_worker_fit(model, batch) -> None:
    """Build the model's metrics, loss and optimizer state from one local batch, before ``fit``.

    Keras 3.15's ``fit`` otherwise builds them from its first distributed batch by calling
    ``strategy.reduce`` on the whole (image, targets, weights) structure, which
    MultiWorkerMirroredStrategy's reduce refuses ("Attempt to convert a value (PerReplica ...)
    to a Tensor"). Built here, on every worker alike, there is nothing left for that step to do,
    so it is skipped for this model.
    """
    check_keras()
    with model.distribute_strategy.scope():
        model._symbolic_build(data_batch=batch)
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None


def patch_multi_worker_mean() -> None:
    """Let Keras 3.15 average per-replica scalars under MultiWorkerMirroredStrategy.

    Its ``reduce_per_replica`` reduces each training figure with ``strategy.reduce("MEAN", v, axis=0)``
    when several workers run, and a loss or metric value is a scalar, so every multi-worker ``fit``
    fails at its first step ("Invalid reduction dimension 0 for input with 0 dimensions"). Scalars are
    averaged across replicas here instead (axis None); everything else takes Keras' own path.
    Called only in a worker process, whose whole life is one multi-worker run.
    """
    check_keras()
    from keras.src import tree
    from keras.src.backend.tensorflow import trainer as tf_trainer

    original = tf_trainer.reduce_per_replica
    if getattr(original, "busseg_patched", False):
        return

    def reduce_per_replica(values, strategy, reduction):
        if reduction in ("auto", "mean") and tf_trainer._collective_all_reduce_multi_worker(strategy):
            def mean(v):
                if v.shape.rank == 0:
                    return strategy.reduce("MEAN", v, axis=None)
                return original(v, strategy, reduction)
            return tree.map_structure(mean, values)
        return original(values, strategy, reduction)

    reduce_per_replica.busseg_patched = True
    tf_trainer.reduce_per_replica = reduce_per_replica
