#!/bin/sh
# Latency of one SubTransformer in onnxruntime, for `hat latency measure|dataset --command`:
#   hat latency dataset --space S.yml --count N --out ort.csv \
#     --command "benchmarks/onnx_measure.sh {}" --command-output encoder-decoder
# The measurer shipped with hat (measurers/onnxruntime_measure.sh: `hat export --space` with
# random weights, then HAT's method in onnxruntime; its header lists the settings) with this
# benchmark's shorter runs, as docs/PERFORMANCE.md ("Latency in onnxruntime") measured:
# ITERATIONS 10 and WARMUP 2 unless set.
set -eu
ITERATIONS=${ITERATIONS:-10}
WARMUP=${WARMUP:-2}
export ITERATIONS WARMUP
exec "$(dirname "$0")/../measurers/onnxruntime_measure.sh" "$@"
