#!/bin/sh
# Measured memory of one inference (hat latency measure --memory: resident bytes, Linux) against
# hat profile's estimate, for random SubTransformers of two spaces (docs/PERFORMANCE.md, "Memory").
#   benchmarks/memory_vs_profiler.sh [COUNT] [OUT_DIR]
# ORT=1: also each SubTransformer in onnxruntime (measurers/onnxruntime_measure.sh with
# --command-output encoder-decoder-memory: its graphs' weights and its resident peak).
set -e
cd "$(dirname "$0")/.."
HAT=${HAT:-.build/release/hat}
COUNT=${1:-10}
OUT=${2:-/tmp/hat-memory}
mkdir -p "$OUT"
echo "# $(date -u '+%Y-%m-%d %H:%M UTC')  $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)  $COUNT SubTransformers per space, length 30, beam 5"
: > "$OUT/rows.jsonl"
# The Multi30k space (joint vocabulary of 8,000) and HAT's IWSLT'14 space (separate vocabularies of 8,848 and 6,632).
for entry in "configs/multi30k_cpu_space.yml|--vocab 8000" "../shared/data/hat-configs/iwslt14.de-en__space1.yml|--src-vocab 8848 --tgt-vocab 6632"; do
  space=${entry%%|*}; vocab=${entry#*|}
  name=$(basename "$space" .yml)
  for seed in $(seq 1 "$COUNT"); do
    yml="$OUT/$name-$seed.yml"
    "$HAT" sample --space "$space" --which random --seed "$seed" --out "$yml" > /dev/null
    "$HAT" latency measure "$yml" $vocab --space "$space" --memory --iterations 2 --warmup 1 --threads 1 --json 2>/dev/null |
      python3 -c "import json,sys; r=json.load(sys.stdin)['memory']; r['space']='$name'; r['seed']=$seed; print(json.dumps(r))" > "$OUT/row.json"
    if [ "${ORT:-0}" = 1 ]; then
      # shellcheck disable=SC2086  # $vocab is two or four words
      "$HAT" latency measure "$yml" $vocab --space "$space" --iterations 2 --warmup 1 --threads 1 --json \
        --command "EP=cpu measurers/onnxruntime_measure.sh {}" --command-output encoder-decoder-memory 2>/dev/null > "$OUT/ort.json"
      python3 -c "import json,sys; r=json.load(open(sys.argv[1])); o=json.load(open(sys.argv[2]))['memory']; r['ort_model_mb']=o['model_mb']; r['ort_peak_mb']=o['peak_mb']; print(json.dumps(r))" "$OUT/row.json" "$OUT/ort.json" >> "$OUT/rows.jsonl"
    else
      cat "$OUT/row.json" >> "$OUT/rows.jsonl"
    fi
  done
done
python3 - "$OUT/rows.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
print("| space | seed | model tensors MB | resident MB | profiler weights MB | inference tensors above weights MB | resident above MB | profiler MB | error |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for r in rows:
    m, e = r["tensor_above_weights_mb"], r["estimated_above_weights_mb"]
    print(f"| {r['space']} | {r['seed']} | {r['tensor_weights_mb']:.2f} | {r['resident_weights_mb']:.2f} | {r['estimated_weights_mb']:.2f} | {m:.2f} | {r['resident_above_weights_mb']:.2f} | {e:.2f} | {100 * (e - m) / m:+.0f} % |")
for space in sorted({r["space"] for r in rows}):
    errs = [(r["estimated_above_weights_mb"] - r["tensor_above_weights_mb"]) / r["tensor_above_weights_mb"] for r in rows if r["space"] == space]
    print(f"{space}: the profiler's inference estimate against the engine's count: mean {100 * sum(errs) / len(errs):+.0f} %, from {100 * min(errs):+.0f} % to {100 * max(errs):+.0f} %")
if all("ort_peak_mb" in r for r in rows):
    print()
    print("| space | seed | profiler: weights MB | profiler: peak MB | onnxruntime: graphs' weights MB | onnxruntime: resident peak MB | onnxruntime peak ÷ profiler peak |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['space']} | {r['seed']} | {r['estimated_weights_mb']:.2f} | {r['estimated_peak_mb']:.2f} | {r['ort_model_mb']:.2f} | {r['ort_peak_mb']:.2f} | {r['ort_peak_mb'] / r['estimated_peak_mb']:.2f} |")
    for space in sorted({r["space"] for r in rows}):
        ratios = [r["ort_peak_mb"] / r["estimated_peak_mb"] for r in rows if r["space"] == space]
        above = [r["ort_peak_mb"] - r["estimated_peak_mb"] for r in rows if r["space"] == space]
        print(f"{space}: onnxruntime's resident peak ÷ the profiler's peak: mean {sum(ratios) / len(ratios):.2f}, from {min(ratios):.2f} to {max(ratios):.2f}; "
              f"above it by {min(above):.1f} to {max(above):.1f} MB")
PY
