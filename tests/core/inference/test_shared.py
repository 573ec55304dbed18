"""core.inference.shared: concurrent requests batched into one pass, each caller given its own rows."""
import threading

import numpy as np
import pytest

from core.inference.shared import BatchingPredictor


class Doubling:
    """A predictor whose 'network' doubles its input and whose malignancy is each input's sum: hand-checkable."""

    path, threshold = "fake.keras", 0.5

    def __init__(self):
        self.calls = []
        self.gate = threading.Event()

    def model_input(self, gray):
        return (gray.astype(np.float32) / 255.0)[..., None]

    def forward_batch_with_malignancy(self, batch):
        self.gate.wait(5)
        self.calls.append(len(batch))
        if np.isnan(batch).any():
            raise ValueError("bad input")
        return batch[..., 0] * 2, batch.reshape(len(batch), -1).sum(axis=1)


def test_concurrent_requests_share_a_pass_and_get_their_own_rows():
    inner = Doubling()
    shared = BatchingPredictor(inner, max_batch=8, wait_s=0.5)
    inputs = [np.full((1, 2, 2, 1), k, np.float32) for k in range(4)]
    results = [None] * 4

    def ask(k):
        results[k] = shared.forward_batch_with_malignancy(inputs[k])

    threads = [threading.Thread(target=ask, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    inner.gate.set()
    for t in threads:
        t.join(10)
    assert sum(inner.calls) == 4 and len(inner.calls) < 4  # batched
    for k, (prob, mal) in enumerate(results):
        assert np.array_equal(prob, np.full((1, 2, 2), 2 * k, np.float32))  # k doubled
        assert mal.tolist() == [4 * k]  # four pixels of value k


def test_batched_equals_single_and_predict_matches_shape():
    inner = Doubling()
    inner.gate.set()
    shared = BatchingPredictor(inner)
    gray = np.array([[0, 255], [51, 102]], np.uint8)
    p = shared.predict(gray)
    assert p.probability.shape == (2, 2) and p.malignancy == pytest.approx((0 + 1 + 0.2 + 0.4))
    alone = inner.forward_batch_with_malignancy(inner.model_input(gray)[None])
    assert np.allclose(shared.forward_batch(inner.model_input(gray)[None]), alone[0])
    assert shared.path == "fake.keras" and shared.threshold == 0.5  # the inner predictor's attributes


def test_an_error_reaches_its_caller_and_the_worker_carries_on():
    inner = Doubling()
    inner.gate.set()
    shared = BatchingPredictor(inner, wait_s=0)
    with pytest.raises(ValueError, match="bad input"):
        shared.forward_batch(np.full((1, 2, 2, 1), np.nan, np.float32))
    assert shared.forward_batch(np.ones((1, 2, 2, 1), np.float32)).tolist() == [[[2, 2], [2, 2]]]
