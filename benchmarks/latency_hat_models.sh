#!/bin/sh
# Latency of three of HAT's published SubTransformers on this machine with HAT's method
# (`hat latency measure` at its default thread count, all cores: 5 warm-ups, 20 timed runs, trimmed mean of the encoder forward and of
# `length` incremental decoder steps over beam 5 rows), each next to the same method in PyTorch
# (benchmarks/latency_torch.py, fairseq-style incremental decoding, 1 and 2 threads) in one run.
# docs/PERFORMANCE.md, "Translation and latency".
#   benchmarks/latency_hat_models.sh [HAT_BINARY] [extra hat latency measure options, e.g. --threads 2]
# NO_TORCH=1 skips the PyTorch side.
set -e
cd "$(dirname "$0")/.."
HAT=${1:-.build/release/hat}
[ $# -gt 0 ] && shift
C=../shared/data/hat-configs
[ -d "$C" ] || C=/work/shared/data/hat-configs
PY=.venv-oracle/bin/python
echo "# $(date -u '+%Y-%m-%d %H:%M UTC')  load: $(cut -d' ' -f1-3 /proc/loadavg)  OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
m() { y=$1; hv=$2; tv=$3; len=$4; shift 4
  "$HAT" latency measure "$y" $hv --length "$len" "$@"
  if [ "${NO_TORCH:-0}" != 1 ]; then
    for t in 1 2; do "$PY" benchmarks/latency_torch.py "$y" $tv --length "$len" --threads $t; done
  fi
}
m "$C/iwslt14.de-en__HAT_iwslt14deen_titanxp@45.6ms_bleu@33.4.yml" "--src-vocab 8848 --tgt-vocab 6632" "--src-vocab 8848 --tgt-vocab 6632" 23 "$@"
m "$C/wmt14.en-de__HAT_wmt14ende_xeon@137.9ms_bleu@25.8.yml" "--vocab 32768" "--src-vocab 32768 --tgt-vocab 32768" 30 "$@"
m "benchmarks/latency-configs/HAT_wmt14ende_xeon@450.9ms_bleu@28.5.yml" "--vocab 32768" "--src-vocab 32768 --tgt-vocab 32768" 30 "$@"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
