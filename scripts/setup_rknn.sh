#!/usr/bin/env bash
# Optional: .venv-rknn/ with Rockchip's rknn-toolkit2 (PyPI, x86-64 Linux wheels, Python 3.8–3.12),
# for converting exported SubTransformers to RKNN and running them in its simulator
# (measurers/rknn/README.md, benchmarks/rknn_parity.sh). Several GB (it pulls a CUDA build of
# PyTorch); not part of scripts/setup.sh, and the hat binary never needs it.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.venv-rknn
if [ ! -f "$venv/.hat-rknn-v1" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip >/dev/null
  # rknn-toolkit2 2.3.2 calls onnx.mapping, which onnx 1.17 removed.
  "$venv/bin/pip" install -q "rknn-toolkit2==2.3.2" "onnx==1.16.1" sentencepiece
  touch "$venv/.hat-rknn-v1"
fi
"$venv/bin/python" -c "from rknn.api import RKNN" && echo "setup_rknn: $venv ready"
