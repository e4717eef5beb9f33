#!/usr/bin/env bash
# HAT's fourth claim (docs/RESULTS.md, "Different hardware, different architectures"): searches on
# one supernet with the latency predictors of different devices pick different SubTransformers,
# and each device's pick is the better choice on its own device. For every device: one search
# (HAT's evolution) under limits at SHARES of the way from the smallest to the largest
# SubTransformer's latency on that device's predictor; then every pick is measured on every device
# (ROUNDS interleaved rounds, the median), and its shape is printed.
# Usage: benchmarks/claims/device_picks.sh SUPERNET
#   DEVICES: lines NAME|PREDICTOR|MEASURE-OPTIONS (options of `hat latency measure` that measure on
#   that device), default: this CPU at 1 and 2 threads and onnxruntime's CPU provider at 1 thread,
#   with predictors under runs/claims/devices/.
#   SHARES="30 60" SEED=1 ITER=10 POP=40 VALID=120 ROUNDS=3 OUT=runs/claims/devices
set -euo pipefail
cd "$(dirname "$0")/../.."
supernet=${1:?give the supernet checkpoint}
hat=.build/release/hat
space=configs/multi30k_cpu_space.yml
out=${OUT:-runs/claims/devices}
shares=${SHARES:-30 60}; seed=${SEED:-1}; iter=${ITER:-10}; pop=${POP:-40}; valid=${VALID:-120}; rounds=${ROUNDS:-3}
ort="EP=cpu THREADS=1 SPACE=$space VOCAB=8000 measurers/onnxruntime_measure.sh {}"
devices=${DEVICES:-"cpu-1-thread|$out/cpu1.predictor.json|--threads 1
cpu-2-threads|$out/cpu2.predictor.json|--threads 2
onnxruntime-1-thread|$out/ort1.predictor.json|--command-output encoder-decoder --command '$ort'"}
mkdir -p "$out"
echo "# $(date -u +%FT%TZ) $(lscpu | grep 'Model name' | sed 's/ \+/ /g') OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} load: $(cut -d' ' -f1-3 /proc/loadavg)"
source benchmarks/claims/limits.sh
parents=$((pop / 4)); half=$(((pop - parents) / 2))

picks=()
while IFS='|' read -r name predictor options; do
  [ -n "$name" ] || continue
  predicted_limits "$predictor" "$shares" "$out"
  echo "$name: predicted smallest $low ms, largest $high ms; limits $limits"
  if [ ! -f "$out/$name/pareto.json" ]; then
    $hat search --supernet "$supernet" --predictor "$predictor" --latency-constraint "$limits" --evo-iter $iter \
      --population-size $pop --parent-size $parents --mutation-size $half --crossover-size $half --valid-subset $valid \
      --seed $seed --out "$out/$name" --no-measure > "$out/$name.log" 2>&1 || { tail -5 "$out/$name.log"; exit 1; }
  fi
  # pareto.json: one point per limit; the file name of a pick says its share.
  for pair in $(python3 - "$out/$name/pareto.json" "$limits" "$shares" <<'PY'
import json, sys
shares = dict(zip(sys.argv[2].split(","), sys.argv[3].split()))
points = json.load(open(sys.argv[1]))
print(" ".join(f"{p['subtransformer']}:{shares[p['constraint']]}" for p in points))
# The pick's supernet loss and limit, for the table below.
for p in points:
    json.dump({"limit": p["constraint"], "loss": p["loss"], "predicted_ms": p["predicted_latency_ms"]},
              open(sys.argv[1].replace("/pareto.json", f"-{shares[p['constraint']]}.pick.json"), "w"))
PY
  ); do
    cp "$out/$name/${pair%%:*}" "$out/pick-$name-${pair##*:}.yml"; picks+=("pick-$name-${pair##*:}")
  done
done <<< "$devices"

# Every pick on every device, interleaved rounds (kept when a rerun finds them complete).
ndevices=$(grep -c '|' <<< "$devices")
if [ -f "$out/measured.txt" ] && [ "$(wc -l < "$out/measured.txt")" -eq $((rounds * ndevices * ${#picks[@]})) ]; then rounds=0; else : > "$out/measured.txt"; fi
for round in $(seq "$rounds"); do
  while IFS='|' read -r name predictor options; do
    [ -n "$name" ] || continue
    for p in "${picks[@]}"; do
      ms=$(eval "$hat latency measure $out/$p.yml --space $space --vocab 8000 --iterations 20 --warmup 3 $options --json" 2>/dev/null |
        python3 -c "import json,sys; d=json.load(sys.stdin); print('%.3f' % (d['encoder_mean_ms'] + d['decoder_mean_ms']))")
      echo "$round $name $p $ms" >> "$out/measured.txt"
    done
  done <<< "$devices"
done
python3 - "$out" <<'PY'
import json, re, statistics as st, sys, collections
out = sys.argv[1]
ms = collections.defaultdict(list)
for line in open(f"{out}/measured.txt"):
    _, device, pick, value = line.split()
    ms[(device, pick)].append(float(value))
devices = list(dict.fromkeys(d for d, _ in ms))
picks = list(dict.fromkeys(p for _, p in ms))
def shape(p):
    t = open(f"{out}/{p}.yml").read()
    v = lambda k: re.search(rf"^{k}: (.*)$", t, re.M).group(1)
    el, dl = int(v("encoder-layer-num-subtransformer")), int(v("decoder-layer-num-subtransformer"))
    lists = lambda k, n: eval(v(k))[:n]
    return (f"enc {v('encoder-embed-dim-subtransformer')}d×{el} FFN {'/'.join(map(str, lists('encoder-ffn-embed-dim-all-subtransformer', el)))} · "
            f"dec {v('decoder-embed-dim-subtransformer')}d×{dl} FFN {'/'.join(map(str, lists('decoder-ffn-embed-dim-all-subtransformer', dl)))}, "
            f"cross heads {'/'.join(map(str, lists('decoder-ende-attention-heads-all-subtransformer', dl)))}, "
            f"attends {'/'.join(str(a + 1 if a > 0 else 1) for a in lists('decoder-arbitrary-ende-attn-all-subtransformer', dl))} enc layers")
print("| pick (device, limit: share, predicted) | supernet loss | architecture | " + " | ".join(f"{d} (ms, median)" for d in devices) + " |")
print("| --- | ---: | --- | " + " | ".join("---:" for _ in devices) + " |")
for p in picks:
    m = re.fullmatch(r"pick-(.+)-(\d+)", p)
    info = json.load(open(f"{out}/{m.group(1)}-{m.group(2)}.pick.json"))
    print(f"| {m.group(1)}, {m.group(2)} % = {info['limit']} | {info['loss']:.4f} | {shape(p)} | " + " | ".join(f"{st.median(ms[(d, p)]):.2f}" for d in devices) + " |")
PY
