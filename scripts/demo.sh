#!/usr/bin/env bash
# Sets up everything and runs the main job on the built-in default: HAT's whole pipeline on the
# built-in English → Synthetic task with a tiny search space (about 10 minutes on 2 cores):
#   data → SuperTransformer training → latency dataset measured on this machine → latency
#   predictor → evolutionary search under two latency constraints → the found SubTransformer
#   trained from scratch → test BLEU; then the HTML report.
# Outputs go to runs/pipeline (or $1). Rerunning resumes or skips finished stages.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-runs/pipeline}"
HAT_SKIP_ORACLE=1 scripts/setup.sh
swift build -c release --product hat
.build/release/hat pipeline --config configs/pipeline_builtin.yml --out "$out"
echo "== done: outputs in $out; open $out/report.html"
