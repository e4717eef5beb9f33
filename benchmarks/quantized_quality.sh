#!/bin/sh
# Quality and size of K-means quantization (hat quantize) on a trained SubTransformer: the float32
# checkpoint and its 8-, 6-, 4- and 3-bit versions (one codebook per matrix, and 4/3 bits with a
# codebook per 64 rows) translated with beam 5 on the dataset's test split, then 3 and 2 bits with
# their centroids fine-tuned (FINETUNE_UPDATES updates, 200 by default; 0 leaves them out)
# (docs/PERFORMANCE.md, "Quantized models").
#   benchmarks/quantized_quality.sh CHECKPOINT [OUT_DIR] [extra hat test options]
set -e
cd "$(dirname "$0")/.."
HAT=${HAT:-.build/release/hat}
CKPT=$1
OUT=${2:-/tmp/hat-quantized}
[ $# -gt 1 ] && shift 2 || shift 1
EXTRA="$*"  # extra hat test options, for every row
mkdir -p "$OUT"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC')  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)  checkpoint $CKPT"
row() { label=$1; file=$2; shift 2
  bleu=$("$HAT" test --checkpoint "$file" $EXTRA 2>&1 | grep -m1 '^BLEU' | cut -d' ' -f3)
  printf '%-22s %10s bytes  BLEU %s\n' "$label" "$(stat -c %s "$file")" "$bleu"
}
row float32 "$CKPT"
for setting in "8" "6" "4" "3" "2" "4 64" "3 64"; do
  set -- $setting
  bits=$1; group=${2:-}
  name="q$bits${group:+-g$group}"
  "$HAT" quantize --checkpoint "$CKPT" --bits "$bits" ${group:+--group-rows $group} --out "$OUT/$name.safetensors" > /dev/null
  row "$bits bits${group:+, codebook per $group rows}" "$OUT/$name.safetensors"
done
FT=${FINETUNE_UPDATES:-200}
if [ "$FT" -gt 0 ]; then
  for bits in 3 2; do
    "$HAT" quantize --checkpoint "$CKPT" --bits "$bits" --finetune-updates "$FT" --out "$OUT/q$bits-ft.safetensors" 2>&1 | grep 'validation loss'
    row "$bits bits, $FT updates fine-tuned" "$OUT/q$bits-ft.safetensors"
  done
fi
