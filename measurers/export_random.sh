# Sourced by the measurers that time a `hat export` folder (onnxruntime_measure.sh,
# rknn/rknn_measure.sh), after they set `root` (this repository) and `yaml` (the SubTransformer):
# finds hat (HAT, else this repository's .build/release/hat, else hat on PATH) and exports the
# SubTransformer with random weights into "$dir/onnx", in SPACE with VOCAB (or SRC_VOCAB and
# TGT_VOCAB), unset ones following the HAT_* settings of the `hat latency` command that runs the
# measurer. "$dir" is removed when the measurer exits.
hat=${HAT:-}
if [ -z "$hat" ]; then
  if [ -x "$root/.build/release/hat" ]; then hat=$root/.build/release/hat; else hat=hat; fi
fi
if [ -n "${SRC_VOCAB:-}${TGT_VOCAB:-}" ]; then
  vocab="--src-vocab ${SRC_VOCAB:?SRC_VOCAB and TGT_VOCAB go together} --tgt-vocab ${TGT_VOCAB:?SRC_VOCAB and TGT_VOCAB go together}"
elif [ -z "${VOCAB:-}" ] && [ -n "${HAT_SRC_VOCAB:-}" ] && [ -n "${HAT_TGT_VOCAB:-}" ]; then
  vocab="--src-vocab $HAT_SRC_VOCAB --tgt-vocab $HAT_TGT_VOCAB"
else
  vocab="--vocab ${VOCAB:-8000}"
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
trap 'exit 143' TERM INT HUP
# shellcheck disable=SC2086  # $vocab is two or four words
"$hat" export --space "${SPACE:-${HAT_SPACE:-$root/configs/multi30k_cpu_space.yml}}" $vocab --subtransformer "$yaml" --out "$dir/onnx" >/dev/null
