#!/usr/bin/env bash
# HAT's first claim (docs/RESULTS.md, "Does the supernet rank SubTransformers?"): the supernet's
# validation loss orders SubTransformers as training each of them would. Scores every
# benchmarks/claims/subtransformers/*.yml on the supernet (all validation pairs, `hat validate`),
# then compares with the trained models benchmarks/claims/train_models.sh recorded: Kendall τ and
# Spearman ρ with bootstrap 95 % intervals, the order at a longer budget, and scatter plots.
# Usage: benchmarks/claims/proxy_validity.sh [SUPERNET]   UPDATES=1000 (the from-scratch budget compared)
#   LONG=2000 (the longer budget of the stability check) FT_UPDATES=250 (the fine-tuning budget)
#   RESULTS=benchmarks/claims/results OUT=runs/claims
set -euo pipefail
cd "$(dirname "$0")/../.."
supernet=${1:-runs/pipeline-m30k/supernet/checkpoint_last.safetensors}
hat=.build/release/hat
results=${RESULTS:-benchmarks/claims/results}
out=${OUT:-runs/claims}
mkdir -p "$out" "$results"
scored=$results/supernet-valid.json
if [ ! -f "$scored" ]; then
  args=(); for f in benchmarks/claims/subtransformers/*.yml; do args+=(--subtransformer "$f"); done
  $hat validate --checkpoint "$supernet" "${args[@]}" --json 2> /dev/null > "$scored.tmp"
  mv "$scored.tmp" "$scored"
fi
.venv-oracle/bin/python benchmarks/claims/proxy_validity.py "$results" "${UPDATES:-1000}" "${LONG:-2000}" "${FT_UPDATES:-250}" "$out" | tee "$out/proxy_validity.md"
for what in scratch-loss scratch-bleu finetune-loss finetune-bleu; do
  csv=$out/proxy-$what.csv
  [ -f "$csv" ] || continue
  case $what in
    scratch-loss) y="from-scratch validation loss" ;;
    scratch-bleu) y="test BLEU, trained from scratch" ;;
    finetune-loss) y="fine-tuned validation loss" ;;
    finetune-bleu) y="test BLEU, fine-tuned" ;;
  esac
  $hat plot --csv "$csv" --x supernet_loss --y value --label name --style points \
    --title "supernet validation loss against ${what/-/ }" \
    --x-label "supernet validation loss (bits per token, inherited weights)" --y-label "$y" --out "$out/proxy-$what.svg" > /dev/null
done
