"""Batch prediction on Ray Data: the same per-image work as ``core.batch.engine``, spread over a cluster.

    python -m core.predict INPUT... --out DIR --engine ray [--address ADDR] [--workers N]

The driver (this process) walks the inputs and decides every output stem, then hands
Ray Data a table of (index, path). ``map_batches`` runs ``SegmentImages``, a callable
class: Ray builds one per worker, which loads the model once and reuses it for every
batch it is given. Each worker reads its files and calls ``core.batch.engine.segment_file``,
the function the plain engine calls, so masks and rows are the same by construction.
Rows and mask PNGs (a few kB each) stream back to the driver, which alone writes
``DIR``: the output folder need not be shared with the workers, and the CSV keeps the
inputs' order whatever order the cluster finishes in. The inputs must be readable at the
same paths on every node (a shared mount), and every node needs this project installed.
The model travels with the job (its bytes and card go through Ray's object store).

Ray is an optional dependency (``requirements-scale.txt``); it is imported only here,
only when this engine is chosen.
"""
from __future__ import annotations

import json
import logging
import os
import tempfile
import time

import numpy as np

from core.batch.engine import (
    MASK_SUFFIX,
    SEG_SUFFIX,
    output_stems,
    segment_file,
    write_output,
    write_predictions_csv,
)

INSTALL_HINT = "the Ray engine needs Ray: pip install -r requirements-scale.txt"
# images per map_batches call: large enough to amortise Ray's per-batch cost, small enough that
# a few hundred images still spread over every worker
BATCH_SIZE = 8


class RayMissingError(RuntimeError):
    """Ray is not installed; the message says how to install it."""


def import_ray():
    try:
        import ray
    except ImportError as exc:
        raise RayMissingError(INSTALL_HINT) from exc
    return ray


def model_files(weights: str) -> dict[str, bytes]:
    """The model file, its card and its ONNX export (when it has them), by file name: what a worker needs to rebuild
    the predictor as the driver would, on ONNX Runtime on a CPU node (without the export it would run Keras)."""
    from core.cards.modelcard import card_paths
    from core.inference.onnx_export import onnx_path_for

    files = {os.path.basename(weights): open(weights, "rb").read()}
    for extra in (card_paths(weights)[0], onnx_path_for(weights)):
        if extra != weights and os.path.isfile(extra):
            files[os.path.basename(extra)] = open(extra, "rb").read()
    return files


def local_model_copy(files: dict[str, bytes]) -> str:
    """The model's files written once per node, in a folder named by their content, and its path there.

    Every worker on the node loads the same copy; a worker stopped while loading (Ray ends idle actors
    when the work runs out) leaves nothing half-written, as each file is moved into place whole.
    """
    import hashlib

    digest = hashlib.sha256(b"".join(name.encode() + data for name, data in sorted(files.items()))).hexdigest()
    folder = os.path.join(tempfile.gettempdir(), f"busseg-model-{digest[:16]}")
    os.makedirs(folder, exist_ok=True)
    for name, data in files.items():
        path = os.path.join(folder, name)
        if not os.path.isfile(path):
            fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
            with os.fdopen(fd, "wb") as fh:
                fh.write(data)
            os.replace(tmp, path)
    return os.path.join(folder, next(iter(files)))  # the model file comes first (model_files)


class SegmentImages:
    """One per Ray worker: builds the predictor once, then segments batch after batch.

    Batch in: ``{"index": (B,) int, "path": (B,) str}``. Batch out: ``{"index": (B,) int,
    "row": (B,) JSON of the CSV row, "png": (B,) mask PNG bytes, empty when the file failed}``.
    """

    def __init__(self, model_ref: list, threshold: float | None, pixel_spacing_mm: float | None,
                 threads: int | None = None):
        import ray

        from core.inference.predictor import Predictor

        if threads:
            # TensorFlow would otherwise size its pool to the whole node: with one worker per core, a
            # 16-core node would run 256 threads. Set before the first TensorFlow operation of this process.
            import tensorflow as tf

            tf.config.threading.set_intra_op_parallelism_threads(threads)

        # the model arrives as bytes through the object store: a cluster node need not hold the driver's
        # weights folder. (The reference is wrapped in a list so Ray hands it over unresolved and the
        # actor's constructor arguments stay small enough to restart it from.)
        self.predictor = Predictor.load(local_model_copy(ray.get(model_ref[0])))
        self.threshold = threshold
        self.pixel_spacing_mm = pixel_spacing_mm

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        rows, pngs, segs, started, seconds = [], [], [], [], []
        for path in batch["path"]:
            started.append(time.time())  # wall clock: comparable with the driver's on one machine (the benchmark)
            t0 = time.perf_counter()
            result = segment_file(self.predictor, str(path), self.threshold, self.pixel_spacing_mm)
            seconds.append(time.perf_counter() - t0)
            rows.append(json.dumps(result.row))
            pngs.append(result.files.get(MASK_SUFFIX, b""))
            segs.append(result.files.get(SEG_SUFFIX, b""))
        return {"index": np.asarray(batch["index"]), "row": np.array(rows, dtype=object),
                "png": np.array(pngs, dtype=object), "seg": np.array(segs, dtype=object), "started": np.array(started), "seconds": np.array(seconds),
                "worker": np.full(len(rows), os.getpid())}


class MaskWriter:
    """Writes mask PNGs from a few threads: each write is atomic and fsynced (core.files), and one fsync at
    a time would cap a whole cluster's rate at what the driver's disk syncs per second."""

    def __init__(self, out_dir: str, threads: int = 8):
        self.out_dir, self.threads = out_dir, threads

    def __enter__(self) -> MaskWriter:
        from concurrent.futures import ThreadPoolExecutor

        self.pool = ThreadPoolExecutor(self.threads, thread_name_prefix="mask-writer")
        self.pending = []
        return self

    def write(self, stem: str, data: bytes, suffix: str = MASK_SUFFIX) -> None:
        self.pending.append(self.pool.submit(write_output, self.out_dir, stem, suffix, data))
        if len(self.pending) > 4 * self.threads:  # keep memory flat on a long run, and surface errors early
            still = []
            for f in self.pending:
                if f.done():
                    f.result()
                else:
                    still.append(f)
            self.pending = still

    def __exit__(self, *exc) -> None:
        self.pool.shutdown(wait=True)
        for f in self.pending:
            f.result()  # a failed write (disk full) fails the run rather than leave a mask missing silently


def block_count(n_files: int, workers: int) -> int:
    """How many pieces the table of paths is cut into: about one batch each, so every worker gets work and
    results stream back as they finish, but at most 16 per worker (a piece costs Ray a task to schedule)."""
    return max(1, min(-(-n_files // BATCH_SIZE), 16 * workers))


def start_ray(address: str | None, num_cpus: int | None = None) -> bool:
    """Join the cluster at ``address``, or start a local Ray on this machine. True if this call started it
    (and so should shut it down); an already running Ray in this process (a test's) is reused."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    quiet = dict(include_dashboard=False, log_to_driver=False, logging_level=logging.WARNING)
    if address:
        ray.init(address=address, **quiet)
    else:
        # "local": a Ray of its own, even where `ray start` left a cluster (or its address file) on this machine
        ray.init(address="local", num_cpus=num_cpus, runtime_env=local_runtime_env(), **quiet)
    logging.getLogger("ray.data").setLevel(logging.ERROR)
    return True


def local_runtime_env() -> dict:
    """Workers of a local Ray import ``core`` from this checkout, as the driver does: an installed copy
    elsewhere on the machine (another checkout's editable install) would otherwise be used."""
    from core.locations import PROJECT_ROOT

    paths = [PROJECT_ROOT] + [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    return {"env_vars": {"PYTHONPATH": os.pathsep.join(paths)}}


def predict_files_ray(weights: str, files: list[str], out_dir: str, threshold: float | None = None,
                      pixel_spacing_mm: float | None = None, workers: int = 2, address: str | None = None,
                      cpus_per_worker: float = 1, progress=None, stats: dict | None = None) -> list[dict]:
    """Segment ``files`` on Ray with ``workers`` model replicas; write masks and predictions.csv into out_dir.

    Returns the CSV rows in input order, as ``core.batch.engine.predict_files`` does. ``stats``, when
    given, receives where the time went (bench/bench_scale.py): ``images``, one (start, seconds, worker)
    per image, start in seconds from the call, seconds inside segment_file, worker a process id; and
    ``wall_s``.
    """
    t_start = time.perf_counter()
    t_start_wall = time.time()
    ray = import_ray()
    os.makedirs(out_dir, exist_ok=True)
    stems = output_stems(files)
    started = start_ray(address)
    try:
        ctx = ray.data.DataContext.get_current()
        ctx.enable_progress_bars = False  # the command draws its own bar; Ray's would interleave with it
        logging.getLogger("ray.data").setLevel(logging.ERROR)
        # absolute paths: a worker's working folder is not the driver's (the CSV keeps the paths as given)
        table = ray.data.from_items([{"index": i, "path": os.path.abspath(p)} for i, p in enumerate(files)],
                                    override_num_blocks=block_count(len(files), workers))
        model_ref = ray.put(model_files(weights))
        results = table.map_batches(SegmentImages, fn_constructor_args=([model_ref], threshold, pixel_spacing_mm,
                                                                          max(1, round(cpus_per_worker))),
                                    compute=ray.data.ActorPoolStrategy(size=workers), num_cpus=cpus_per_worker,
                                    batch_size=BATCH_SIZE, batch_format="numpy")
        rows: list[dict | None] = [None] * len(files)
        timings = []
        with MaskWriter(out_dir) as writer:
            for done, out in enumerate(results.iter_rows(), start=1):
                if stats is not None:
                    timings.append((float(out["started"]) - t_start_wall, float(out["seconds"]), int(out["worker"])))
                i = int(out["index"])
                rows[i] = {**json.loads(out["row"]), "file": files[i]}
                if out["png"]:
                    writer.write(stems[i], bytes(out["png"]))
                if out["seg"]:  # a DICOM input's Segmentation, made on the worker that held its bytes
                    writer.write(stems[i], bytes(out["seg"]), SEG_SUFFIX)
                    rows[i]["dicom_seg"] = f"{stems[i]}{SEG_SUFFIX}"
                if progress:
                    progress(done, len(files))
    finally:
        if started:
            ray.shutdown()
    missing = [files[i] for i, r in enumerate(rows) if r is None]
    if missing:  # Ray retries failed tasks itself; a row still missing here is a bug, not a bad image
        raise RuntimeError(f"Ray returned no result for {len(missing)} files, e.g. {missing[0]}")
    write_predictions_csv(out_dir, rows)
    if stats is not None:
        stats.update(images=timings, wall_s=time.perf_counter() - t_start)
    return rows
