#!/bin/sh
# HAT's latency method in PyTorch, as a measurer for `hat latency measure|dataset --command`:
#   hat latency dataset --space S.yml --vocab 8000 --count 300 --out torch.csv --command-output encoder-decoder \
#     --command "DEVICE=cpu THREADS=1 SPACE=S.yml VOCAB=8000 measurers/torch_measure.sh {}"
# Builds the SubTransformer YAML it is given with random weights in PyTorch (fairseq-style
# incremental decoding), times it with measurers/torch_latency.py and prints "ENCODER_MS DECODER_MS".
# Settings written into the --command string are recorded in the dataset's provenance file with it.
# Environment:
#   DEVICE      cpu (default) or cuda (HAT's --latgpu: torch.cuda.synchronize() around every
#               clock reading); cuda without a usable GPU is an error (exit 2), never a CPU run
#   THREADS     torch.set_num_threads (1)
#   SPACE       the search space: its qkv-dim (configs/multi30k_cpu_space.yml)
#   VOCAB       joint vocabulary size (8000); or SRC_VOCAB and TGT_VOCAB
#   LENGTH, BEAM, ITERATIONS, WARMUP   HAT's method: 30, 5, 20 timed runs after 5 untimed ones
# Unset settings follow the options of the `hat latency` command that runs this one, which it
# passes as HAT_LENGTH, HAT_BEAM, HAT_ITERATIONS, HAT_WARMUP, HAT_THREADS, HAT_SPACE, HAT_SRC_VOCAB
# and HAT_TGT_VOCAB (so a dataset's provenance file tells the truth); the defaults above apply
# when the measurer runs on its own.
#   PYTHON      a Python with PyTorch (this repository's .venv-oracle/bin/python, else python3)
set -eu
[ "$#" -eq 1 ] || { echo "usage: $0 SUBTRANSFORMER.yml (settings in the environment)" >&2; exit 64; }
root=$(cd "$(dirname "$0")/.." && pwd)
python=${PYTHON:-}
if [ -z "$python" ]; then
  if [ -x "$root/.venv-oracle/bin/python" ]; then python=$root/.venv-oracle/bin/python; else python=python3; fi
fi
if [ -n "${SRC_VOCAB:-}${TGT_VOCAB:-}" ]; then
  src=${SRC_VOCAB:?SRC_VOCAB and TGT_VOCAB go together}
  tgt=${TGT_VOCAB:?SRC_VOCAB and TGT_VOCAB go together}
elif [ -z "${VOCAB:-}" ] && [ -n "${HAT_SRC_VOCAB:-}" ] && [ -n "${HAT_TGT_VOCAB:-}" ]; then
  src=$HAT_SRC_VOCAB
  tgt=$HAT_TGT_VOCAB
else
  src=${VOCAB:-8000}
  tgt=$src
fi
exec "$python" "$root/measurers/torch_latency.py" "$1" --space "${SPACE:-${HAT_SPACE:-$root/configs/multi30k_cpu_space.yml}}" \
  --src-vocab "$src" --tgt-vocab "$tgt" --device "${DEVICE:-cpu}" --threads "${THREADS:-${HAT_THREADS:-1}}" \
  --length "${LENGTH:-${HAT_LENGTH:-30}}" --beam "${BEAM:-${HAT_BEAM:-5}}" --iterations "${ITERATIONS:-${HAT_ITERATIONS:-20}}" --warmup "${WARMUP:-${HAT_WARMUP:-5}}" --plain
