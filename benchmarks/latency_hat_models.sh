#!/bin/sh
# Latency of three of HAT's published SubTransformers on this machine with HAT's method
# (`hat latency measure`: 5 warm-ups, 20 timed runs, trimmed mean of the encoder forward and of
# `length` incremental decoder steps over beam 5 rows). docs/PERFORMANCE.md, "Translation and latency".
#   benchmarks/latency_hat_models.sh [HAT_BINARY] [extra hat latency measure options, e.g. --threads 2]
# The coretype is the environment's (OPENBLAS_CORETYPE=Haswell here); prefix `env -u OPENBLAS_CORETYPE`
# for OpenBLAS's own choice.
set -e
cd "$(dirname "$0")/.."
HAT=${1:-.build/release/hat}
[ $# -gt 0 ] && shift
C=../shared/data/hat-configs
[ -d "$C" ] || C=/work/shared/data/hat-configs
echo "# $(date -u '+%Y-%m-%d %H:%M UTC')  load: $(cut -d' ' -f1-3 /proc/loadavg)  OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
"$HAT" latency measure "$C/iwslt14.de-en__HAT_iwslt14deen_titanxp@45.6ms_bleu@33.4.yml" --src-vocab 8848 --tgt-vocab 6632 --length 23 "$@"
"$HAT" latency measure "$C/wmt14.en-de__HAT_wmt14ende_xeon@137.9ms_bleu@25.8.yml" --vocab 32768 --length 30 "$@"
"$HAT" latency measure "benchmarks/latency-configs/HAT_wmt14ende_xeon@450.9ms_bleu@28.5.yml" --vocab 32768 --length 30 "$@"
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
