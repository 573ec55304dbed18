"""Does --init-seed rebuild a finished run's starting network? Correlation of its trained weights with two draws.

    python bench/check_same_start.py RUN_DIR [--other-seed 5]

A weight soup needs both runs to start from one network. A run trained before
--init-seed existed drew its initial weights from its --seed; this rebuilds
that draw with core.train.fresh_model, and one with another seed, and prints
how each randomly initialised tensor of the trained model correlates with the
two draws. Fine-tuning at a small learning rate leaves the weights close to
where they started, so the right draw correlates highly and the wrong one near 0.
Pretrained (encoder) tensors are the same in both draws and are skipped.
"""
from __future__ import annotations

import argparse
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from core import runtime  # noqa: E402,F401  (quiets TensorFlow before Keras loads)
from core.files import read_json  # noqa: E402


def main(argv=None) -> int:
    import keras

    from core import train

    ap = argparse.ArgumentParser()
    ap.add_argument("run")
    ap.add_argument("--other-seed", type=int, default=5)
    a = ap.parse_args(argv)
    saved = read_json(os.path.join(a.run, "settings.json"), {})
    s = train.TrainSettings.from_saved(saved)
    own_seed = s.seed if s.init_seed is None else s.init_seed
    trained = {w.path: w.numpy() for w in keras.models.load_model(os.path.join(a.run, "model.keras"),
                                                                  compile=False).weights}
    quiet = lambda *_: None  # noqa: E731
    s.seed, s.init_seed = own_seed, None
    own = train.fresh_model(s, quiet).weights
    s.seed = a.other_seed
    other = train.fresh_model(s, quiet).weights
    rows = []
    for w_own, w_other in zip(own, other):
        x, y, t = w_own.numpy(), w_other.numpy(), trained.get(w_own.path)
        if t is None or x.size < 500 or np.array_equal(x, y):
            continue
        rows.append((w_own.path, np.corrcoef(x.ravel(), t.ravel())[0, 1], np.corrcoef(y.ravel(), t.ravel())[0, 1]))
    for path, c_own, c_other in rows:
        print(f"{path:45s} seed {own_seed}: {c_own:6.3f}   seed {a.other_seed}: {c_other:6.3f}")
    print(f"{len(rows)} randomly initialised tensors; median correlation of the trained weights with the seed-"
          f"{own_seed} draw {np.median([r[1] for r in rows]):.3f}, with the seed-{a.other_seed} draw "
          f"{np.median([r[2] for r in rows]):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
