#!/bin/sh
# Latency of one SubTransformer in onnxruntime, for `hat latency measure|dataset --command`:
#   hat latency dataset --space S.yml --count N --out ort.csv \
#     --command "benchmarks/onnx_measure.sh {}" --command-output encoder-decoder
# Exports the SubTransformer with random weights (`hat export --space`), then runs HAT's latency
# method on it in onnxruntime (benchmarks/onnx_latency.py) and prints "ENCODER_MS DECODER_MS".
# Environment: SPACE (default configs/multi30k_cpu_space.yml), VOCAB (8000), LENGTH (30), BEAM (5),
# ITERATIONS (10), WARMUP (2), HAT (.build/release/hat), PYTHON (.venv-oracle/bin/python).
set -eu
yaml=$(realpath "$1")
cd "$(dirname "$0")/.."
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
"${HAT:-.build/release/hat}" export --space "${SPACE:-configs/multi30k_cpu_space.yml}" --vocab "${VOCAB:-8000}" \
  --subtransformer "$yaml" --out "$dir" >/dev/null
"${PYTHON:-.venv-oracle/bin/python}" benchmarks/onnx_latency.py "$dir" --length "${LENGTH:-30}" --beam "${BEAM:-5}" \
  --iterations "${ITERATIONS:-10}" --warmup "${WARMUP:-2}" --plain
