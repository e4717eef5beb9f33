#!/usr/bin/env bash
# The README path "Using HAT's published models" at WMT scale, on a full-size WMT'14 En-De space0
# SuperTransformer with random weights (benchmarks/make_hat_checkpoint.py, HAT's legacy torch.save
# layout, 1.2 GB with its Adam state) and a fairseq data-bin folder with HAT's 32,768-symbol joint
# dictionary and 1,000 validation pairs (benchmarks/make_wmt_databin.py): import, a latency
# predictor from HAT's Xeon dataset, HAT's 30 x 125 evolutionary search, export. Every step timed
# (docs/PERFORMANCE.md, "HAT's WMT space0 SuperTransformer, end to end").
#
# Usage: benchmarks/wmt_space0_path.sh [WORK_DIR]
#   VALID=N      pairs the 30 x 125 search scores (HAT's valid-cnt-max; default 100; 1000 = all)
#   PROBE=N      candidates of the one-iteration probe that times a fitness evaluation on all 1,000 pairs (default 12)
#   CONSTRAINT   latency constraint for HAT's Xeon predictor (default 200ms)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=${1:-${TMPDIR:-/tmp}/hat-wmt-space0}
VALID=${VALID:-100} PROBE=${PROBE:-12} CONSTRAINT=${CONSTRAINT:-200ms}
swift build -c release --product hat >/dev/null
mkdir -p "$work"
cp .build/release/hat "$work/hat"   # later rebuilds do not swap the binary under a running step
hat="$work/hat"
py=.venv-oracle/bin/python
echo "# $(date -u +%FT%TZ) $(lscpu | grep 'Model name' | sed 's/ \+/ /g'), OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}, $(nproc) cores"
"$hat" --version | sed 's/^/# /'
step() { local name=$1; shift; /usr/bin/time -f "%e s, peak %M KB" -o "$work/time" "$@" > "$work/$name.log" 2>&1 \
           || { cat "$work/$name.log"; exit 1; }; echo "$name: $(tail -1 "$work/time")"; }
[ -f "$work/space0.pt" ] || $py benchmarks/make_hat_checkpoint.py space0 "$work/space0.pt" legacy >/dev/null
[ -d "$work/data-bin" ] || $py benchmarks/make_wmt_databin.py ../shared/data/multi30k "$work/data-bin" 1000 2>/dev/null
echo "checkpoint $(du -m "$work/space0.pt" | cut -f1) MB; data-bin: $(grep -c . "$work/data-bin/dict.de.txt") dictionary lines"
rm -rf "$work/wmt-super" "$work/probe" "$work/search" "$work/onnx"
step import "$hat" import "$work/space0.pt" --out "$work/wmt-super" --dictionaries "$work/data-bin" --bpe-codes "$work/data-bin/code"
step train-predictor "$hat" latency train-predictor --data ../shared/data/hat-latency/wmt14ende_cpu_xeon_all.csv --out "$work/xeon.predictor.json"
grep "^test" "$work/train-predictor.log"
# One iteration of PROBE candidates on all 1,000 pairs: the cost of one fitness evaluation.
step probe "$hat" search --supernet "$work/wmt-super/checkpoint.safetensors" --data "$work/data-bin" --predictor "$work/xeon.predictor.json" \
  --latency-constraint "$CONSTRAINT" --evo-iter 1 --population-size "$PROBE" --parent-size 2 --mutation-size 2 --crossover-size 2 \
  --no-measure --out "$work/probe"
grep "iteration 1/1" "$work/probe.log"
# HAT's budget: 30 iterations, population 125 (25 parents, 50 mutants, 50 crossovers), on VALID pairs.
step search "$hat" search --supernet "$work/wmt-super/checkpoint.safetensors" --data "$work/data-bin" --predictor "$work/xeon.predictor.json" \
  --latency-constraint "$CONSTRAINT" --valid-subset "$VALID" --out "$work/search"
grep -E "iteration (1|10|20|30)/30|fitness evaluations|measured|best:" "$work/search.log" || true
pick="$work/search/subtransformer@$CONSTRAINT.yml"
step export "$hat" export --checkpoint "$work/wmt-super/checkpoint.safetensors" --subtransformer "$pick" --out "$work/onnx"
tail -1 "$work/export.log"; ls "$work/onnx"
