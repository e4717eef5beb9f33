#!/bin/sh
# HAT's latency method in onnxruntime, as a measurer for `hat latency measure|dataset --command`:
#   hat latency dataset --space S.yml --vocab 8000 --count 300 --out ort.csv --command-output encoder-decoder \
#     --command "EP=cpu THREADS=1 SPACE=S.yml VOCAB=8000 measurers/onnxruntime_measure.sh {}"
# Exports the SubTransformer YAML it is given with random weights (`hat export --space`), times
# the graphs with measurers/onnxruntime_latency.py and prints "ENCODER_MS DECODER_MS", or with
# `--command-output encoder-decoder-memory` (HAT_COMMAND_OUTPUT) or MEMORY=1 also the model's and the
# peak memory in MB ("ENCODER_MS DECODER_MS MODEL_MB PEAK_MB": onnxruntime_latency.py --memory). Settings
# written into the --command string are recorded in the dataset's provenance file with it.
# Environment:
#   EP          execution provider: cpu (default), cuda, coreml, openvino, qnn; one that this
#               onnxruntime lacks is an error (exit 2), never a run on the CPU instead
#   EP_OPTIONS  the provider's options, "KEY=VALUE KEY=VALUE" (openvino: device_type=GPU)
#   THREADS     onnxruntime's intra-op threads (1)
#   SPACE       the search space the SubTransformers come from (configs/multi30k_cpu_space.yml)
#   VOCAB       joint vocabulary size (8000); or SRC_VOCAB and TGT_VOCAB
#   LENGTH, BEAM, ITERATIONS, WARMUP   HAT's method: 30, 5, 20 timed runs after 5 untimed ones
# Unset settings follow the options of the `hat latency` command that runs this one, which it
# passes as HAT_LENGTH, HAT_BEAM, HAT_ITERATIONS, HAT_WARMUP, HAT_THREADS, HAT_SPACE, HAT_SRC_VOCAB
# and HAT_TGT_VOCAB (so a dataset's provenance file tells the truth); the defaults above apply
# when the measurer runs on its own.
#   HAT         the hat binary (this repository's .build/release/hat, else hat on PATH)
#   PYTHON      a Python with onnxruntime and numpy (and onnx for the memory) (this repository's .venv-oracle/bin/python, else python3)
set -eu
[ "$#" -eq 1 ] || { echo "usage: $0 SUBTRANSFORMER.yml (settings in the environment)" >&2; exit 64; }
yaml=$1
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-}
if [ -z "$python" ]; then
  if [ -x "$root/.venv-oracle/bin/python" ]; then python=$root/.venv-oracle/bin/python; else python=python3; fi
fi
. "$root/measurers/export_random.sh"
# Provider options become one --ep-option each (split on spaces, never globbed).
set -f
set --
for option in ${EP_OPTIONS:-}; do set -- "$@" --ep-option "$option"; done
set +f
# Memory when hat asks for it, or MEMORY=1 when run on its own: four numbers where hat reads one
# or two would be taken for milliseconds.
case "${HAT_COMMAND_OUTPUT:-}:${MEMORY:-}" in
  encoder-decoder-memory:* | :1) set -- "$@" --memory ;;
  *:1) echo "onnxruntime_measure: MEMORY=1 but hat reads --command-output ${HAT_COMMAND_OUTPUT}; use encoder-decoder-memory" >&2; exit 2 ;;
esac
"$python" "$root/measurers/onnxruntime_latency.py" "$dir/onnx" --ep "${EP:-cpu}" --threads "${THREADS:-${HAT_THREADS:-1}}" \
  --length "${LENGTH:-${HAT_LENGTH:-30}}" --beam "${BEAM:-${HAT_BEAM:-5}}" --iterations "${ITERATIONS:-${HAT_ITERATIONS:-20}}" --warmup "${WARMUP:-${HAT_WARMUP:-5}}" --plain "$@"
