#!/bin/sh
# HAT's latency method on a Rockchip NPU, as a measurer for `hat latency measure|dataset --command`
# run on the x86-64 host that has rknn-toolkit2 (scripts/setup_rknn.sh):
#   hat latency dataset --space S.yml --vocab 8000 --count 300 --out rk3588.csv --command-output encoder-decoder \
#     --command "TARGET=rk3588 measurers/rknn/rknn_measure.sh {}"
# Exports the SubTransformer YAML it is given with random weights (`hat export --space`), converts
# it for PLATFORM and times it on the board TARGET (connected through adb; without TARGET, in the
# toolkit's simulator: a dry run whose times are not the NPU's) with measurers/rknn/rknn_latency.py;
# prints "ENCODER_MS DECODER_MS" (with memory: "ENCODER_MS DECODER_MS MODEL_MB PEAK_MB"). Environment: PLATFORM (rk3588), TARGET (none: simulator), DTYPE
# (fp16, or int8: the attention core stays float16 unless FLOAT16_ATTENTION=0, README "int8"),
# MEMORY=1 or `--command-output encoder-decoder-memory` (HAT_COMMAND_OUTPUT): also the model's and
# the peak memory on the board (with TARGET only; four numbers), and as
# the other measurers LENGTH, BEAM, ITERATIONS, WARMUP, SPACE, VOCAB (or SRC_VOCAB and TGT_VOCAB),
# HAT, PYTHON (.venv-rknn/bin/python); unset ones follow the HAT_* settings `hat` passes.
set -eu
[ "$#" -eq 1 ] || { echo "usage: $0 SUBTRANSFORMER.yml (settings in the environment)" >&2; exit 64; }
yaml=$1
root=$(cd "$(dirname "$0")/../.." && pwd)
python=${PYTHON:-$root/.venv-rknn/bin/python}
[ -x "$python" ] || { echo "rknn_measure: no rknn-toolkit2 Python at $python (run scripts/setup_rknn.sh, or set PYTHON)" >&2; exit 2; }
dtype=${DTYPE:-fp16}; hybrid=
case $dtype in
  fp16) ;;
  int8) [ "${FLOAT16_ATTENTION:-1}" = 0 ] || hybrid=--float16-attention ;;
  *) echo "rknn_measure: DTYPE must be fp16 or int8, not '$dtype'" >&2; exit 2 ;;
esac
# Memory when hat asks for it, or MEMORY=1 when run on its own: four numbers where hat reads one
# or two would be taken for milliseconds.
memory=
case "${HAT_COMMAND_OUTPUT:-}:${MEMORY:-}" in
  encoder-decoder-memory:* | :1) memory=--memory ;;
  *:1) echo "rknn_measure: MEMORY=1 but hat reads --command-output ${HAT_COMMAND_OUTPUT}; use encoder-decoder-memory" >&2; exit 2 ;;
esac
. "$root/measurers/export_random.sh"
# rknn_latency.py sends the toolkit's progress to stderr: stdout holds only the numbers.
# shellcheck disable=SC2086  # $hybrid and $memory are one option or none
"$python" "$root/measurers/rknn/rknn_latency.py" "$dir/onnx" --platform "${PLATFORM:-rk3588}" ${TARGET:+--target "$TARGET"} \
  --length "${LENGTH:-${HAT_LENGTH:-30}}" --beam "${BEAM:-${HAT_BEAM:-5}}" --iterations "${ITERATIONS:-${HAT_ITERATIONS:-20}}" \
  --warmup "${WARMUP:-${HAT_WARMUP:-5}}" --dtype "$dtype" $hybrid $memory --plain
