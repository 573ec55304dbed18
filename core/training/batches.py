"""Augmentation and batching: the same random geometry for image and mask, intensity for the image only."""
from __future__ import annotations

import numpy as np

from core.training.dataprep import Arrays
from core.training.settings import AUGMENT_RANGES


def _augment(x: np.ndarray, y: np.ndarray, rng: np.random.Generator, strength: str = "basic"):
    """Same random geometry for image and mask, intensity for the image only. The (boolean) mask is warped by
    nearest neighbour, so it never holds a made-up boundary."""
    import cv2

    r = AUGMENT_RANGES[strength]
    S = x.shape[0]
    if rng.random() < 0.5:
        x, y = x[:, ::-1], y[:, ::-1]
    angle = rng.uniform(-r["rot"], r["rot"])
    scale = rng.uniform(*r["scale"])
    tx, ty = rng.uniform(-r["shift"], r["shift"], size=2) * S
    m = cv2.getRotationMatrix2D((S / 2, S / 2), angle, scale)
    if r["aniso"]:
        # stretch one axis about the centre: probes differ in aspect and depth scale
        k = np.exp(rng.uniform(-r["aniso"], r["aniso"]))
        stretch = np.array([[k, 0, S / 2 * (1 - k)], [0, 1 / k, S / 2 * (1 - 1 / k)], [0, 0, 1]])
        m = (stretch @ np.vstack([m, [0, 0, 1]]))[:2]
    m[:, 2] += (tx, ty)
    x = cv2.warpAffine(np.ascontiguousarray(x), m, (S, S), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    y = cv2.warpAffine(np.ascontiguousarray(y).astype(np.uint8), m, (S, S), flags=cv2.INTER_NEAREST,
                       borderMode=cv2.BORDER_CONSTANT).astype(bool)
    xf = x.astype(np.float32) / 255.0
    if r["blur"] and rng.random() < r["blur"]:
        xf = cv2.GaussianBlur(xf, (0, 0), rng.uniform(0.5, 1.2))
    gamma = np.exp(rng.uniform(-r["gamma"], r["gamma"]))
    xf = np.clip(xf, 0, 1) ** gamma
    xf = xf * rng.uniform(1 - r["gain"], 1 + r["gain"]) + rng.uniform(-r["offset"], r["offset"])
    if r["noise"] and rng.random() < 0.5:
        # multiplicative, like ultrasound speckle
        xf = xf * (1 + rng.normal(0, rng.uniform(0, r["noise"]) * 3, xf.shape).astype(np.float32))
    if r.get("artefacts"):
        xf = ultrasound_artefacts(np.clip(xf, 0, 1), rng, r["artefacts"])
    return np.clip(xf, 0, 1), y


def ultrasound_artefacts(xf: np.ndarray, rng: np.random.Generator, p: float) -> np.ndarray:
    """usaugment's depth attenuation, acoustic shadow, haze and speckle reduction, each with probability p.

    xf: (S, S) float32 in [0, 1]. usaugment draws from numpy's and Python's global generators, so both are seeded
    from ``rng`` first: a batch stays reproducible from (seed, epoch, batch)."""
    import random

    from usaugment.albumentations import DepthAttenuation, GaussianShadow, HazeArtifact, SpeckleReduction

    chosen = [t for t, on in zip((DepthAttenuation, GaussianShadow, HazeArtifact, SpeckleReduction),
                                 rng.random(4) < p) if on]
    if not chosen:
        return xf
    seed = int(rng.integers(2**31))
    random.seed(seed)
    np.random.seed(seed)
    scan = np.ones(xf.shape, np.float32)
    for t in chosen:
        out = t(**ARTEFACT_SETTINGS.get(t.__name__, {}), p=1.0).apply(xf.astype(np.float32), scan_mask=scan)
        # one NaN pixel turns the whole run's loss into NaN: an artefact that yields one is skipped
        xf = out if np.isfinite(out).all() else xf
    return np.asarray(xf, np.float32)


# usaugment's default ranges reach widths where its filters divide by (nearly) zero: the bilateral filter of
# speckle reduction returns NaN pixels when both its sigmas are small (measured: colour < 0.06 with spatial
# < 0.21, in float32), and haze's profile divides by its sigma. The lower ends are moved off those corners
# (a spatial sigma under 0.5 px barely filters anyway); the upper ends are usaugment's.
ARTEFACT_SETTINGS = {"SpeckleReduction": {"sigma_spatial": (0.5, 2.0), "sigma_color": (0.05, 1.0)},
                     "HazeArtifact": {"sigma": (0.01, 0.1)}}


def make_batches(arrays: Arrays, batch_size: int, augment: bool, shuffle: bool, seed: int,
                 strength: str = "basic"):
    """Indexable batches of (image, {mask, malignancy}, {mask, malignancy} sample weights), reshuffled and
    re-augmented by ``on_epoch_end`` (the PyDataset protocol, fed by ``fit_epochs``)."""
    from core.inference.preprocess import normalise

    class Batches:
        def __init__(self):
            self.batch_size = batch_size
            self.epoch = 0
            self.order = np.arange(len(arrays.keys))
            self.on_epoch_end()

        def __len__(self):
            n = len(arrays.keys)
            # Training drops the last partial batch: a new batch shape would
            # trigger another XLA compilation (seconds on this CPU) every epoch.
            return max(1, n // batch_size if shuffle and n >= batch_size else int(np.ceil(n / batch_size)))

        def on_epoch_end(self):
            self.epoch += 1
            if shuffle and arrays.draw_weight is not None:
                # weighted draws: as many as there are images, with replacement, each image by its weight
                p = arrays.draw_weight / arrays.draw_weight.sum()
                self.order = np.random.default_rng(seed + self.epoch).choice(len(p), size=len(p), replace=True, p=p)
            elif shuffle:
                np.random.default_rng(seed + self.epoch).shuffle(self.order)

        def __getitem__(self, i):
            idx = self.order[i * batch_size:(i + 1) * batch_size]
            rng = np.random.default_rng((seed, self.epoch, int(i)))
            xs, ys = [], []
            for j in idx:
                if augment:
                    x, y = _augment(arrays.x[j], arrays.y[j], rng, strength)
                    xs.append(x[..., None].astype(np.float32))
                else:
                    xs.append(normalise(arrays.x[j]))
                    y = arrays.y[j]
                ys.append(np.asarray(y, np.float32)[..., None])
            n = len(idx)
            return (np.stack(xs),
                    {"mask": np.stack(ys), "malignancy": arrays.malignant[idx].reshape(n, 1)},
                    {"mask": np.ones(n, np.float32), "malignancy": arrays.cls_weight[idx]})

    return Batches()


def as_keras_dataset(batches):
    """``make_batches`` batches as a Keras PyDataset, for ``model.fit`` (used with several GPUs, see ``train``)."""
    import keras

    class KerasBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(workers=1, use_multiprocessing=False)

        def __len__(self):
            return len(batches)

        def __getitem__(self, i):
            return batches[i]

        def on_epoch_end(self):
            batches.on_epoch_end()

    return KerasBatches()

