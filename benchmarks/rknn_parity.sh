#!/usr/bin/env bash
# THANOS's NPU path, checked without the board: a trained SubTransformer exported to ONNX
# (`hat export`), converted for a Rockchip NPU (rk3588) in float16 and int8 by rknn-toolkit2, and
# run in its simulator (measurers/rknn/rknn_translate.py), against `hat translate --beam 1` on the
# first N sentences of a split: identical hypotheses and BLEU (docs/PERFORMANCE.md, "RKNN").
#   benchmarks/rknn_parity.sh CHECKPOINT SUB.yml DATA_DIR OUT_DIR [N=200] [SRC_LEN=40]
#   RUNS="fp16 int8 int8-attention16": float16; int8 (min-max calibration on 50 training sentences);
#   int8 with the attention core kept in float16 (rknn_translate.py --float16-attention)
# Needs scripts/setup_rknn.sh (.venv-rknn) and scripts/setup.sh (.venv-oracle for sacreBLEU).
set -euo pipefail
cd "$(dirname "$0")/.."
ckpt=$1 sub=$2 data=$3 out=$4 n=${5:-200} len=${6:-40}
hat=.build/release/hat
mkdir -p "$out"
rm -rf "$out/export"
"$hat" export --checkpoint "$ckpt" --subtransformer "$sub" --data "$data" --out "$out/export" >/dev/null
head -n "$n" "$data/test.en.txt" >"$out/src.txt"
head -n "$n" "$data/test.de.txt" >"$out/ref.txt"
head -n 50 "$data/train.en.txt" >"$out/calibration.txt"
"$hat" translate --checkpoint "$ckpt" --subtransformer "$sub" --data "$data" --beam 1 <"$out/src.txt" >"$out/hat.txt" 2>/dev/null
runs=${RUNS:-fp16 int8 int8-attention16}
for run in $runs; do
  flags=(--dtype "${run%%-*}")
  [ "$run" = int8-attention16 ] && flags+=(--float16-attention)
  start=$(date +%s)
  .venv-rknn/bin/python measurers/rknn/rknn_translate.py "$out/export" --src-len "$len" "${flags[@]}" \
    --calibration "$out/calibration.txt" --out "$out/rknn-$run.txt" <"$out/src.txt" 2>&1 | grep '^rknn_translate' || true
  echo "rknn-$run: $(( $(date +%s) - start )) s in all"
done
.venv-oracle/bin/python - "$out" $runs <<'PY'
import sys, sacrebleu
out, runs = sys.argv[1], sys.argv[2:]
lines = lambda name: open(f"{out}/{name}").read().splitlines()
ref, hat = lines("ref.txt"), lines("hat.txt")
print(f"hat translate --beam 1: BLEU {sacrebleu.corpus_bleu(hat, [ref]).score:.2f}")
for run in runs:
    name = f"rknn-{run}"
    hyp = lines(f"{name}.txt")
    same = sum(a == b for a, b in zip(hat, hyp))
    print(f"{name}: {same} of {len(hat)} hypotheses identical to hat's, BLEU {sacrebleu.corpus_bleu(hyp, [ref]).score:.2f}")
PY
