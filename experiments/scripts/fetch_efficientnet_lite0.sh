#!/usr/bin/env bash
# EfficientNet-Lite0's encoder weights for core.encoders (see bench/fetch_efficientnet_lite.sh).
# Usage: bash bench/fetch_efficientnet_lite0.sh [OUT.npz]
exec bash "$(dirname "$0")/fetch_efficientnet_lite.sh" lite0 "$@"
