#!/bin/sh
# Token-level knowledge distillation (hat train --distill-from, HAT §4) against the same student
# trained without a teacher: the same SubTransformer, recipe and number of updates, several seeds,
# test BLEU with beam 5 (docs/PERFORMANCE.md, "Knowledge distillation"). The two runs of a seed
# train side by side on one thread each; the teacher's targets are computed once and shared.
#   benchmarks/distillation.sh TEACHER STUDENT.yml [UPDATES] [SEEDS] [OUT] [extra hat train options]
set -e
cd "$(dirname "$0")/.."
HAT=${HAT:-.build/release/hat}
CONFIG=${CONFIG:-configs/multi30k_cpu_space.yml}
DATA=${DATA:-runs/data/multi30k-en-de}
TEACHER=$1
STUDENT=$2
UPDATES=${3:-800}
SEEDS=${4:-"1 2 3"}
OUT=${5:-/tmp/hat-distillation}
[ $# -gt 5 ] && shift 5 || shift $#
mkdir -p "$OUT"
: > "$OUT/results.txt"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC')  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)  OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
echo "# teacher $TEACHER, student $STUDENT, $UPDATES updates, seeds $SEEDS, $* $KD_OPTIONS"
train() { # DIR SEED [options]
  dir=$1 seed=$2; shift 2
  "$HAT" train --config "$CONFIG" --data "$DATA" --subtransformer "$STUDENT" --save-dir "$dir" --seed "$seed" \
    --max-update "$UPDATES" --threads 1 "$@" > "$dir.log" 2>&1
}
# The teacher's targets, once (a run of one update writes them into its save folder).
if [ ! -f "$OUT/teacher/teacher-targets.safetensors" ]; then
  train "$OUT/teacher" 1 --max-update 1 --distill-from "$TEACHER" $KD_OPTIONS "$@"
fi
for seed in $SEEDS; do
  mkdir -p "$OUT/kd-s$seed"
  cp "$OUT/teacher/teacher-targets.safetensors" "$OUT/kd-s$seed/"
  start=$(date +%s)
  train "$OUT/plain-s$seed" "$seed" "$@" &
  train "$OUT/kd-s$seed" "$seed" --distill-from "$TEACHER" $KD_OPTIONS "$@" &
  wait
  echo "# seed $seed trained in $(( $(date +%s) - start )) s"
  for mode in plain kd; do
    dir="$OUT/$mode-s$seed"
    bleu=$("$HAT" test --checkpoint "$dir/checkpoint_last.safetensors" 2>&1 | grep -m1 '^BLEU' | cut -d' ' -f3)
    valid=$(grep '"split":"valid"' "$dir/metrics.jsonl" | tail -1 | sed 's/.*"nll_loss":\([0-9.]*\).*/\1/')
    echo "$mode seed $seed  valid nll $valid  test BLEU $bleu" | tee -a "$OUT/results.txt"
  done
done
awk '{ n[$1]++; s[$1] += $NF; q[$1] += $NF * $NF }
  END { for (m in n) printf "%s: mean BLEU %.2f ± %.2f over %d seeds\n", m, s[m] / n[m], sqrt((q[m] - s[m] * s[m] / n[m]) / (n[m] > 1 ? n[m] - 1 : 1)), n[m] }' "$OUT/results.txt"
