#!/bin/sh
# HAT's latency method on three of HAT's published SubTransformers with float32 weights and with
# their weight matrices K-means-quantized to 8 and 4 bits (hat latency measure --bits), the three
# interleaved per model, PyTorch's float32 beside them at 1 and 2 threads (docs/PERFORMANCE.md,
# "Quantized models").
#   benchmarks/latency_quantized.sh [HAT_BINARY] [extra hat latency measure options]
# NO_TORCH=1 skips the PyTorch side; ROUNDS=N repeats the interleaved rounds (default 2).
set -e
cd "$(dirname "$0")/.."
HAT=${1:-.build/release/hat}
[ $# -gt 0 ] && shift
C=../shared/data/hat-configs
[ -d "$C" ] || C=/work/shared/data/hat-configs
PY=.venv-oracle/bin/python
echo "# $(date -u '+%Y-%m-%d %H:%M UTC')  load: $(cut -d' ' -f1-3 /proc/loadavg)  OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
m() { y=$1; hv=$2; tv=$3; len=$4; shift 4
  r=0
  while [ $r -lt "${ROUNDS:-2}" ]; do
    for bits in "" 8 4; do "$HAT" latency measure "$y" $hv --length "$len" ${bits:+--bits $bits} "$@"; done
    r=$((r + 1))
  done
  if [ "${NO_TORCH:-0}" != 1 ]; then
    for t in 1 2; do "$PY" benchmarks/latency_torch.py "$y" $tv --length "$len" --threads $t; done
  fi
}
m "$C/iwslt14.de-en__HAT_iwslt14deen_titanxp@45.6ms_bleu@33.4.yml" "--src-vocab 8848 --tgt-vocab 6632" "--src-vocab 8848 --tgt-vocab 6632" 23 "$@"
m "$C/wmt14.en-de__HAT_wmt14ende_xeon@137.9ms_bleu@25.8.yml" "--vocab 32768" "--src-vocab 32768 --tgt-vocab 32768" 30 "$@"
m "benchmarks/latency-configs/HAT_wmt14ende_xeon@450.9ms_bleu@28.5.yml" "--vocab 32768" "--src-vocab 32768 --tgt-vocab 32768" 30 "$@"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
