"""One model per process for every session: a worker thread that batches concurrent requests.

``BatchingPredictor(inner)`` wraps any Predictor-like object (Keras or ONNX Runtime; it needs ``model_input`` and
``forward_batch_with_malignancy``). Sessions call ``predict`` or ``forward_batch_with_malignancy`` from their own
threads; each request goes into a ``queue.Queue``; one worker takes what is waiting (up to ``max_batch`` images,
waiting at most ``wait_s`` for company after the first), runs one forward pass on the stacked inputs and hands
each caller its rows. Four clinicians dropping at once thus share passes instead of queueing four single ones.
Every other attribute (path, card, threshold, decision, device, ...) is the inner predictor's.
"""
from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future

import numpy as np

from core.inference.predictor import Prediction
from core.inference.preprocess import probability_to_original

MAX_BATCH = 8  # images per forward pass
WAIT_S = 0.01  # how long the first request waits for others: small beside a 45 ms forward pass


class BatchingPredictor:
    def __init__(self, inner, max_batch: int = MAX_BATCH, wait_s: float = WAIT_S):
        self.inner = inner
        self.max_batch = max_batch
        self.wait_s = wait_s
        self.passes = 0  # forward passes run, and the batch sizes, for tests and benchmarks
        self.batch_sizes: list[int] = []
        self._queue: queue.Queue = queue.Queue()
        self._worker = threading.Thread(target=self._serve, name="shared-inference", daemon=True)
        self._worker.start()

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def forward_batch_with_malignancy(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """(N, S, S, C) model inputs -> ((N, S, S), (N,) or None), through the shared worker."""
        fut: Future = Future()
        self._queue.put((np.asarray(batch), fut))
        return fut.result()

    def forward_batch(self, batch: np.ndarray) -> np.ndarray:
        return self.forward_batch_with_malignancy(batch)[0]

    def predict(self, gray: np.ndarray) -> Prediction:
        """(H, W) uint8 gray -> Prediction, as the inner predictor's predict, sharing the forward pass."""
        t0 = time.perf_counter()
        prob, mal = self.forward_batch_with_malignancy(self.inner.model_input(gray)[None])
        full = probability_to_original(prob[0], gray.shape[0], gray.shape[1])
        return Prediction(full, None if mal is None else float(mal[0]), (time.perf_counter() - t0) * 1000.0)

    def _serve(self) -> None:
        while True:
            jobs = [self._queue.get()]
            count = len(jobs[0][0])
            deadline = time.perf_counter() + self.wait_s
            while count < self.max_batch:
                try:
                    job = self._queue.get(timeout=max(0.0, deadline - time.perf_counter()))
                except queue.Empty:
                    break
                jobs.append(job)
                count += len(job[0])
            self._run(jobs)

    def _run(self, jobs) -> None:
        try:
            probs, mal = self.inner.forward_batch_with_malignancy(np.concatenate([b for b, _ in jobs]))
        except BaseException as exc:  # every waiting caller gets the error, and the worker carries on
            for _, fut in jobs:
                fut.set_exception(exc)
            return
        self.passes += 1
        self.batch_sizes.append(len(probs))
        start = 0
        for b, fut in jobs:
            n = len(b)
            fut.set_result((probs[start:start + n], None if mal is None else mal[start:start + n]))
            start += n
