"""The U-Net factory, its losses and training metrics as registered Keras objects.

``build_unet`` returns a two-output model:

  input  "image"        (S, S, 1) float32 in [0, 1]
  output "mask"         (S, S, 1) sigmoid lesion probability per pixel
  output "malignancy"   (1,)      sigmoid probability that the lesion is malignant,
                                  from a head on the bottleneck

Layers carry stable names (``enc{i}_conv1``, ``dec{i}_up``, ...), and every
custom function is registered with ``keras.saving.register_keras_serializable``
so ``keras.models.load_model`` works without ``safe_mode=False``.
"""
from __future__ import annotations

import keras
from keras import layers, ops

PACKAGE = "busi_unet"
SMOOTH = 1.0


# channels per group under group normalisation: every width the network uses (12·2^k) divides into 4 groups
NORM_GROUPS = 4


def norm_layer(norm: str, name: str):
    """The normalisation after each convolution. 'batch': statistics of the training batches, frozen at
    inference (folded into the convolution, core.inference.fastpath). 'group': each image's own statistics over
    groups of channels, at inference as in training, so a scanner with another gain or contrast is normalised
    by its own image rather than by the training centre's running means."""
    if norm == "batch":
        return layers.BatchNormalization(name=name)
    if norm == "group":
        return layers.GroupNormalization(groups=NORM_GROUPS, name=name.replace("_bn", "_gn"))
    raise ValueError(f"unknown normalisation {norm!r} (batch or group)")


def conv_block(x, filters: int, name: str, dropout: float = 0.0, norm: str = "batch"):
    """Two 3×3 conv-norm-ReLU layers with a residual 1×1 projection.

    The residual path eases optimisation of a narrow network trained from
    scratch on a few hundred images.
    """
    shortcut = layers.Conv2D(filters, 1, padding="same", use_bias=False, name=f"{name}_proj")(x)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal", name=f"{name}_conv1")(x)
    y = norm_layer(norm, f"{name}_bn1")(y)
    y = layers.Activation("relu", name=f"{name}_relu1")(y)
    if dropout:
        y = layers.SpatialDropout2D(dropout, name=f"{name}_drop")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal", name=f"{name}_conv2")(y)
    y = norm_layer(norm, f"{name}_bn2")(y)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.Activation("relu", name=f"{name}_out")(y)


def level_filters(level: int, base_filters: int, top_filters: int | None = None) -> int:
    """The width of a build_unet level: base_filters doubled per level, or top_filters at full resolution (level 0)
    where given."""
    return top_filters if level == 0 and top_filters else base_filters * 2 ** level


def build_unet(input_shape=(256, 256, 1), base_filters: int = 16, depth: int = 4,
               dropout: float = 0.1, with_malignancy: bool = True, norm: str = "batch",
               top_filters: int | None = None) -> keras.Model:
    """Encoder, bottleneck and decoder with skip connections.

    base_filters doubles at each of ``depth`` levels; the input side must be
    divisible by 2**depth. ``top_filters`` replaces the width of the
    full-resolution level alone (its encoder and decoder blocks): that level
    costs about a third of the forward pass on a CPU, the same arithmetic as
    any other level but on the most pixels.
    """
    size = input_shape[0]
    if size % (2 ** depth):
        raise ValueError(f"image size {size} must be divisible by {2 ** depth} for depth {depth}")
    if top_filters is not None and top_filters < 1:
        raise ValueError(f"top_filters must be at least 1, not {top_filters}")
    inputs = keras.Input(shape=input_shape, name="image")
    x = inputs
    skips = []
    for i in range(depth):
        x = conv_block(x, level_filters(i, base_filters, top_filters), name=f"enc{i}", norm=norm)
        skips.append(x)
        x = layers.MaxPooling2D(2, name=f"enc{i}_pool")(x)
    x = conv_block(x, base_filters * 2 ** depth, name="bottleneck", dropout=dropout, norm=norm)
    bottleneck = x
    for i in reversed(range(depth)):
        width = level_filters(i, base_filters, top_filters)
        x = layers.Conv2DTranspose(width, 2, strides=2, padding="same", name=f"dec{i}_up")(x)
        x = layers.Concatenate(name=f"dec{i}_concat")([x, skips[i]])
        x = conv_block(x, width, name=f"dec{i}", norm=norm)
    # float32 outputs keep sigmoid and loss numerically safe under mixed precision
    mask = layers.Conv2D(1, 1, activation="sigmoid", dtype="float32", name="mask")(x)
    name = f"unet_f{base_filters}_d{depth}" + (f"_t{top_filters}" if top_filters else "")
    if not with_malignancy:
        return keras.Model(inputs, mask, name=name)
    malignancy = malignancy_head(bottleneck)
    return keras.Model(inputs, {"mask": mask, "malignancy": malignancy}, name=name)


def malignancy_head(bottleneck):
    """The malignancy probability from bottleneck features (shared by every U-Net variant)."""
    # Average and max pooling together: the max keeps a small lesion's
    # features from being washed out by the surrounding tissue.
    pooled_avg = layers.GlobalAveragePooling2D(name="cls_gap")(bottleneck)
    pooled_max = layers.GlobalMaxPooling2D(name="cls_gmp")(bottleneck)
    h = layers.Concatenate(name="cls_concat")([pooled_avg, pooled_max])
    h = layers.Dropout(0.3, name="cls_drop")(h)
    h = layers.Dense(64, activation="relu", name="cls_dense")(h)
    return layers.Dense(1, activation="sigmoid", dtype="float32", name="malignancy")(h)


def build_classic_unet(input_shape=(256, 256, 1), base_filters: int = 64) -> keras.Model:
    """The classic Ronneberger-style U-Net (64 filters, depth 4, no BN): the speed baseline."""
    inputs = keras.Input(shape=input_shape, name="image")
    x, skips = inputs, []

    def double_conv(t, f, name):
        t = layers.Conv2D(f, 3, padding="same", activation="relu", name=f"{name}_conv1")(t)
        return layers.Conv2D(f, 3, padding="same", activation="relu", name=f"{name}_conv2")(t)

    for i in range(4):
        x = double_conv(x, base_filters * 2 ** i, f"enc{i}")
        skips.append(x)
        x = layers.MaxPooling2D(2)(x)
    x = double_conv(x, base_filters * 16, "bottleneck")
    for i in reversed(range(4)):
        x = layers.Conv2DTranspose(base_filters * 2 ** i, 2, strides=2, padding="same")(x)
        x = double_conv(layers.Concatenate()([x, skips[i]]), base_filters * 2 ** i, f"dec{i}")
    out = layers.Conv2D(1, 1, activation="sigmoid", name="mask")(x)
    return keras.Model(inputs, out, name="classic_unet")


# ---- losses and metrics (registered so saved models reload cleanly) -----

def _flat(y_true, y_pred):
    y_true = ops.cast(ops.reshape(y_true, (-1,)), "float32")
    y_pred = ops.cast(ops.reshape(y_pred, (-1,)), "float32")
    return y_true, y_pred


@keras.saving.register_keras_serializable(package=PACKAGE)
def soft_dice_loss(y_true, y_pred):
    """1 - soft Dice over the whole batch (stable when some images are lesion-free)."""
    t, p = _flat(y_true, y_pred)
    inter = ops.sum(t * p)
    return 1.0 - (2.0 * inter + SMOOTH) / (ops.sum(t) + ops.sum(p) + SMOOTH)


@keras.saving.register_keras_serializable(package=PACKAGE)
def bce_loss(y_true, y_pred):
    t, p = _flat(y_true, y_pred)
    return ops.mean(keras.losses.binary_crossentropy(t[:, None], p[:, None]))


@keras.saving.register_keras_serializable(package=PACKAGE)
def bce_dice_loss(y_true, y_pred):
    return bce_loss(y_true, y_pred) + soft_dice_loss(y_true, y_pred)


@keras.saving.register_keras_serializable(package=PACKAGE)
def lesion_image_dice_loss(y_true, y_pred):
    """1 - mean soft Dice per lesion image; images with an empty mask are left to BCE.

    The reported figure is the mean of per-image Dice, where a missed small lesion
    counts as much as a missed large one. Batch-level Dice lets large lesions
    dominate; this loss weights every lesion image equally, as the figure does.
    """
    batch = ops.shape(y_true)[0]
    t = ops.cast(ops.reshape(y_true, (batch, -1)), "float32")
    p = ops.cast(ops.reshape(y_pred, (batch, -1)), "float32")
    inter = ops.sum(t * p, axis=1)
    dice = (2.0 * inter + SMOOTH) / (ops.sum(t, axis=1) + ops.sum(p, axis=1) + SMOOTH)
    has_lesion = ops.cast(ops.sum(t, axis=1) > 0, "float32")
    n = ops.sum(has_lesion)
    return ops.sum((1.0 - dice) * has_lesion) / ops.maximum(n, 1.0)


@keras.saving.register_keras_serializable(package=PACKAGE)
def bce_image_dice_loss(y_true, y_pred):
    return bce_loss(y_true, y_pred) + lesion_image_dice_loss(y_true, y_pred)


def _hard_counts(y_true, y_pred):
    t, p = _flat(y_true, y_pred)
    t = ops.cast(t > 0.5, "float32")
    p = ops.cast(p > 0.5, "float32")
    tp = ops.sum(t * p)
    fp = ops.sum((1 - t) * p)
    fn = ops.sum(t * (1 - p))
    tn = ops.sum((1 - t) * (1 - p))
    return tp, fp, fn, tn


@keras.saving.register_keras_serializable(package=PACKAGE)
def dice_coef(y_true, y_pred):
    tp, fp, fn, _ = _hard_counts(y_true, y_pred)
    return (2 * tp + SMOOTH) / (2 * tp + fp + fn + SMOOTH)


@keras.saving.register_keras_serializable(package=PACKAGE)
def iou_coef(y_true, y_pred):
    tp, fp, fn, _ = _hard_counts(y_true, y_pred)
    return (tp + SMOOTH) / (tp + fp + fn + SMOOTH)


@keras.saving.register_keras_serializable(package=PACKAGE)
def pixel_accuracy(y_true, y_pred):
    tp, fp, fn, tn = _hard_counts(y_true, y_pred)
    return (tp + tn) / (tp + fp + fn + tn)


@keras.saving.register_keras_serializable(package=PACKAGE)
def sensitivity(y_true, y_pred):
    tp, _, fn, _ = _hard_counts(y_true, y_pred)
    return (tp + SMOOTH) / (tp + fn + SMOOTH)


@keras.saving.register_keras_serializable(package=PACKAGE)
def specificity(y_true, y_pred):
    _, fp, _, tn = _hard_counts(y_true, y_pred)
    return (tn + SMOOTH) / (tn + fp + SMOOTH)


LOSSES = {"bce": bce_loss, "bce_dice": bce_dice_loss, "bce_image_dice": bce_image_dice_loss}
SEGMENTATION_METRICS = [dice_coef, iou_coef, pixel_accuracy, sensitivity, specificity]
CUSTOM_OBJECTS = {f.__name__: f for f in [soft_dice_loss, bce_loss, bce_dice_loss, lesion_image_dice_loss,
                                           bce_image_dice_loss, *SEGMENTATION_METRICS]}


def compile_model(model: keras.Model, loss: str = "bce_dice", learning_rate=1e-3,
                  jit_compile="auto", malignancy_weight: float = 0.3) -> keras.Model:
    """Adam (learning_rate: a float or a Keras schedule), the chosen segmentation loss, BCE on the malignancy head."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; choose one of {sorted(LOSSES)}")
    multi = isinstance(model.output, dict)
    seg_loss = LOSSES[loss]
    if multi:
        losses = {"mask": seg_loss, "malignancy": "binary_crossentropy"}
        metrics = {"mask": SEGMENTATION_METRICS, "malignancy": [keras.metrics.AUC(name="auc")]}
        weights = {"mask": 1.0, "malignancy": malignancy_weight}
    else:
        losses, metrics, weights = seg_loss, SEGMENTATION_METRICS, None
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=losses, metrics=metrics,
                  loss_weights=weights, jit_compile=jit_compile)
    return model
