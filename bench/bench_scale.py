"""Benchmark: images per second of batch prediction, plain against local Ray with 1 and 2 workers, in one run.

    python bench/bench_scale.py [--copies 200] [--weights PATH] [--json FILE]

Every engine segments the same list: the shipped samples/busi images repeated until there are --copies
images. For each it prints the wall time of the whole command's work (model load included), the
fixed start-up cost and the steady rate once started.
It then states, from these figures, what a cluster of K machines like this one would reach, and the
model and assumptions behind that estimate.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import tempfile
import time

from core import runtime


def sample_files(copies: int) -> list[str]:
    from core.batch.engine import collect_inputs
    from core.locations import SAMPLES_DIR

    files = collect_inputs([os.path.join(SAMPLES_DIR, "busi")])
    return (files * (copies // len(files) + 1))[:copies]


def bench_plain(weights: str, files: list[str], out: str) -> dict:
    from core.batch.engine import predict_files
    from core.inference.predictor import Predictor

    t0 = time.perf_counter()
    predictor = Predictor.load(weights)
    loaded = time.perf_counter()
    predict_files(predictor, files, out)
    end = time.perf_counter()
    return {"engine": "plain", "workers": 1, "n": len(files), "wall_s": end - t0, "startup_s": loaded - t0,
            "steady_images_per_s": len(files) / (end - loaded), "images_per_s": len(files) / (end - t0)}


def bench_ray(weights: str, files: list[str], out: str, workers: int) -> dict:
    """One run on the already started local Ray, timed from the workers' own clocks (one machine).

    Start-up: from the call until every worker has started its first image (Ray starts the actors, each
    imports TensorFlow, loads the model and warms it up). Steady rate: the images started after that,
    over the time from then to the last image's end, Ray's scheduling between batches included. Busy
    rate: one worker's images per second inside segment_file alone; the gap to the steady rate per
    worker is what Ray costs per image.
    """
    from core.batch.ray_engine import predict_files_ray

    stats: dict = {}
    predict_files_ray(weights, files, out, workers=workers, stats=stats)
    images = stats["images"]
    first_by_worker: dict[int, float] = {}
    for start, _, worker in images:
        first_by_worker[worker] = min(start, first_by_worker.get(worker, start))
    ready = max(first_by_worker.values())
    after = [(start, sec) for start, sec, _ in images if start >= ready]
    span = max(start + sec for start, sec in after) - ready
    busy = sum(sec for _, sec in after)
    steady = len(after) / span
    return {"engine": "ray", "workers": workers, "workers_seen": len(first_by_worker), "n": len(files),
            "wall_s": stats["wall_s"], "startup_s": ready, "steady_images_per_s": steady,
            "images_per_s": len(files) / stats["wall_s"], "busy_images_per_s_per_worker": len(after) / busy,
            "ray_ms_per_image_per_worker": 1000 * (span * workers - busy) / len(after)}


def bench_driver_writes(files: list[str], out: str) -> float:
    """Images per second the driver alone can take in (read a row, write a mask as predict_files_ray does):
    the ceiling of one driver, whatever the cluster behind it."""
    import numpy as np

    from core.batch.ray_engine import MaskWriter
    from core.data.imageio import encode_png

    png = encode_png((np.random.default_rng(0).random((450, 500)) > 0.9).astype("uint8") * 255)
    row = json.dumps({"file": files[0], "width": 500, "height": 450, "error": ""})
    n = max(len(files), 1000)
    t0 = time.perf_counter()
    with MaskWriter(out) as writer:
        for i in range(n):
            json.loads(row)
            writer.write(f"w{i}", png)
    return n / (time.perf_counter() - t0)


def cluster_model(plain: dict, ray1: dict, ray2: dict, driver_rate: float) -> tuple[list[str], dict]:
    """Lines that state the estimate and its assumptions, and the figures behind them."""
    if not all(r["steady_images_per_s"] > 0 for r in (plain, ray1, ray2)):  # nan: the long run was not longer
        return ["cluster estimate: not measurable in this run (a full run took no longer than a one-batch run: "
                "the machine was busy); rerun, with more --copies"], {}
    per_worker = ray1["steady_images_per_s"]
    machine = ray2["steady_images_per_s"]
    cores = os.cpu_count() or 2
    startup = max(ray1["startup_s"], ray2["startup_s"])
    # the same cores with and without Ray: what Ray adds (or saves) per image once running
    overhead_ms = 1000 * (1 / machine - 1 / plain["steady_images_per_s"])
    efficiency = machine / (2 * per_worker)
    lines = [
        f"cluster estimate: K machines like this one ({cores} cores), 2 Ray workers of 1 CPU each per machine, "
        "one driver",
        f"  measured here: plain engine {plain['steady_images_per_s']:.1f} img/s; one Ray worker (1 CPU) "
        f"{per_worker:.1f} img/s; two workers {machine:.1f} img/s ({efficiency:.0%} of twice one); Ray against plain on "
        f"the same cores {overhead_ms:+.1f} ms per image; start-up (actors, TensorFlow import, model load) "
        f"{startup:.1f} s; one driver takes in at most {driver_rate:.0f} img/s",
        "  model: time(N images, K machines) = start-up + N / min(K x two-worker rate, driver ceiling)",
        "  assumes: machines add up linearly (workers share nothing; each result is a few kB); the shared storage "
        "serves the inputs that fast (BUSI PNGs are about 0.2 MB: 1,000 img/s is about 200 MB/s);",
        "           start-up is paid once per run, on all machines at once; a machine with C cores runs C workers "
        f"at about C x {per_worker:.1f} x {efficiency:.2f} img/s",
    ]
    estimates = {}
    for k in (1, 2, 4, 8, 16, 32, 64):
        rate = min(k * machine, driver_rate)
        estimates[k] = rate
        hours = (startup + 1_000_000 / rate) / 3600
        lines.append(f"  K={k:>2}: {rate:7.1f} img/s, a 1,000,000-image archive in {hours:6.1f} h"
                     + ("  (driver-bound)" if k * machine > driver_rate else ""))
    return lines, {"per_worker_images_per_s": per_worker, "machine_images_per_s": machine, "startup_s": startup,
                   "ray_overhead_ms_per_image": overhead_ms, "driver_images_per_s": driver_rate,
                   "cluster_images_per_s": estimates}


def main(argv=None) -> int:
    from core.batch.ray_engine import import_ray, local_runtime_env, predict_files_ray
    from core.cards.registry import default_model_path

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=200, help="images per engine (the samples, repeated)")
    ap.add_argument("--weights", default=default_model_path())
    ap.add_argument("--json", help="also write the figures here")
    a = ap.parse_args(argv)
    files = sample_files(a.copies)
    ray = import_ray()
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        results.append(bench_plain(a.weights, files, os.path.join(tmp, "plain")))
        # one local Ray for both Ray runs, as a cluster would be: started once, not timed
        ray.init(address="local", num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False,
                 runtime_env=local_runtime_env())
        try:
            # Ray's first dataset in a session pays one-off costs (its worker pool, Ray Data's set-up) that a
            # long-lived cluster has already paid: spent here, untimed
            predict_files_ray(a.weights, files[:2], os.path.join(tmp, "warm-up"), workers=2)
            for workers in (1, 2):
                results.append(bench_ray(a.weights, files, os.path.join(tmp, f"ray{workers}"), workers))
        finally:
            ray.shutdown()
        driver_rate = bench_driver_writes(files, os.path.join(tmp, "driver"))
    print(f"device: {runtime.describe_device()}, {platform.processor() or platform.machine()}; "
          f"{len(files)} images ({os.path.basename(a.weights)}), the samples repeated")
    for r in results:
        name = "plain" if r["engine"] == "plain" else f"Ray, {r['workers']} worker{'s' if r['workers'] > 1 else ''}"
        busy = (f" (each worker {r['busy_images_per_s_per_worker']:.1f} img/s while busy; Ray between "
                f"batches {r['ray_ms_per_image_per_worker']:.1f} ms per image)" if r["engine"] == "ray" else "")
        print(f"{name:<16} wall {r['wall_s']:6.1f} s = {r['images_per_s']:5.1f} img/s overall; "
              f"start-up {r['startup_s']:5.1f} s, then {r['steady_images_per_s']:5.1f} img/s{busy}")
        if r.get("workers_seen", r["workers"]) < r["workers"]:
            print(f"  only {r['workers_seen']} of {r['workers']} workers got images before the work ran out: "
                  "too few --copies for this figure")
    lines, model = cluster_model(*results, driver_rate)
    print("\n".join(lines))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"runs": results, "cluster_model": model}, fh, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
