#!/usr/bin/env bash
# Sets up everything and runs the main job on the built-in default: the pipeline stages that
# exist so far, on the built-in English → Synthetic task with a tiny search space (a few
# minutes on 2 cores):
#   data → SuperTransformer training → largest and smallest SubTransformers: profile,
#   latency on this machine, translation of the test split with BLEU and chrF.
# (Latency predictors and the evolutionary search join as their issues land.)
# Outputs go to runs/demo (or $1). Rerunning resumes or skips finished work.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-runs/demo}"
HAT_SKIP_ORACLE=1 scripts/setup.sh
swift build -c release --product hat
hat=.build/release/hat
space=configs/builtin_tiny_space.yml

echo "== data: the built-in task"
$hat data builtin --out "$out/data"
echo "== SuperTransformer training (one random SubTransformer per update)"
$hat train --config "$space" --data "$out/data" --save-dir "$out/supernet" --max-update 2500 --save-interval-updates 500
vocab=$(grep -o '"targetSize" *: *[0-9]*' "$out/data/manifest.json" | grep -o '[0-9]*$')
for which in largest smallest; do
  $hat sample --space "$space" --which $which --out "$out/$which.yml"
  echo "== $which SubTransformer"
  $hat profile "$out/$which.yml" --space "$space" --vocab "$vocab" --length 12
  $hat latency measure "$out/$which.yml" --space "$space" --data "$out/data" --length 12 --iterations 20
  $hat test --checkpoint "$out/supernet/checkpoint_last.safetensors" --subtransformer "$out/$which.yml" --data "$out/data" \
    --split test --out "$out/$which.test.hyp.txt"
done
echo "== done: outputs in $out"
