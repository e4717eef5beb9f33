#!/usr/bin/env bash
# THANOS's NPU path, checked without the board: a trained SubTransformer exported to ONNX
# (`hat export`), converted for a Rockchip NPU (rk3588) in float16 and int8 by rknn-toolkit2, and
# run in its simulator (measurers/rknn/rknn_translate.py), against `hat translate --beam 1` on the
# first N sentences of a split: identical hypotheses and BLEU (docs/PERFORMANCE.md, "RKNN").
#   benchmarks/rknn_parity.sh CHECKPOINT SUB.yml DATA_DIR OUT_DIR [N=200] [SRC_LEN=40]
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
for run in "fp16 normal" "int8 normal" "int8 mmse"; do
  set -- $run
  .venv-rknn/bin/python measurers/rknn/rknn_translate.py "$out/export" --src-len "$len" --dtype "$1" --quantized-algorithm "$2" \
    --calibration "$out/calibration.txt" --out "$out/rknn-$1-$2.txt" <"$out/src.txt" 2>&1 | grep '^rknn_translate' || true
done
.venv-oracle/bin/python - "$out" <<'PY'
import sys, sacrebleu
out = sys.argv[1]
lines = lambda name: open(f"{out}/{name}").read().splitlines()
ref, hat = lines("ref.txt"), lines("hat.txt")
print(f"hat translate --beam 1: BLEU {sacrebleu.corpus_bleu(hat, [ref]).score:.2f}")
for name in ["rknn-fp16-normal", "rknn-int8-normal", "rknn-int8-mmse"]:
    hyp = lines(f"{name}.txt")
    same = sum(a == b for a, b in zip(hat, hyp))
    print(f"{name}: {same} of {len(hat)} hypotheses identical to hat's, BLEU {sacrebleu.corpus_bleu(hyp, [ref]).score:.2f}")
PY
