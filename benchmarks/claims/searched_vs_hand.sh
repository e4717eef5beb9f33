#!/usr/bin/env bash
# HAT's headline claim as a curve (docs/RESULTS.md, "Searched against hand-designed"): BLEU against
# latency measured here for hand-designed Transformers of several sizes
# (benchmarks/claims/subtransformers/hand-*.yml and baseline.yml, the 3 + 3, d 256 one) and for
# the SubTransformers the search finds under each of their predicted latencies, all trained with
# benchmarks/claims/train_models.sh's recipe and budget, several seeds.
# Usage, in three steps:
#   benchmarks/claims/searched_vs_hand.sh search SUPERNET PREDICTOR   # writes subtransformers/searched-SIZE.yml
#   benchmarks/claims/train_models.sh $(benchmarks/claims/searched_vs_hand.sh jobs)
#   benchmarks/claims/searched_vs_hand.sh latency                      # on a quiet machine: measures each model's latency
#   benchmarks/claims/searched_vs_hand.sh report                       # prints the table, draws the curve (measures first if needed)
# Settings: SIZES="small base large" (the hand-designed models whose latency is a limit; base =
#   baseline.yml), SEEDS="1 2 3", UPDATES=1000, search ITER=10 POP=40 VALID=120 SEED=1 with
#   --repair-offspring; latency THREADS=1 ROUNDS=5 ITERATIONS=100 (interleaved rounds of separate processes, the median);
#   RESULTS=benchmarks/claims/results OUT=runs/claims/svh
set -euo pipefail
cd "$(dirname "$0")/../.."
hat=.build/release/hat
space=configs/multi30k_cpu_space.yml
models=benchmarks/claims/subtransformers
results=${RESULTS:-benchmarks/claims/results}
out=${OUT:-runs/claims/svh}
sizes=${SIZES:-small base large}; seeds=${SEEDS:-1 2 3}; updates=${UPDATES:-1000}
hand() { [ "$1" = base ] && echo baseline || echo "hand-$1"; }
mkdir -p "$out" "$results"

case ${1:-} in
search)
  supernet=${2:?give the supernet checkpoint}; predictor=${3:?give the latency predictor}
  iter=${ITER:-10}; pop=${POP:-40}; parents=$((${POP:-40} / 4)); half=$(((${POP:-40} - parents) / 2))
  limits=(); for s in $sizes; do
    ms=$($hat latency predict --predictor "$predictor" --space $space "$models/$(hand "$s").yml" --json 2>/dev/null |
      python3 -c "import json,sys; print(('%.3f' % json.load(sys.stdin)[0]['predicted_ms']).rstrip('0').rstrip('.') + 'ms')")
    echo "$(hand "$s"): predicted $ms"; limits+=("$ms")
  done
  joined=$(IFS=,; echo "${limits[*]}")
  $hat search --supernet "$supernet" --predictor "$predictor" --latency-constraint "$joined" --repair-offspring \
    --evo-iter $iter --population-size $pop --parent-size $parents --mutation-size $half --crossover-size $half \
    --valid-subset ${VALID:-120} --seed ${SEED:-1} --out "$out/search" --no-measure > "$out/search.log" 2>&1 || { tail -5 "$out/search.log"; exit 1; }
  i=0; for s in $sizes; do
    label=${limits[$i]}
    file=$(python3 -c "import json,sys; print(next(p['subtransformer'] for p in json.load(open(sys.argv[1])) if p['constraint'] == sys.argv[2]))" "$out/search/pareto.json" "$label")
    { echo "# Found by benchmarks/claims/searched_vs_hand.sh under the predicted latency of $(hand "$s").yml ($label)"; cat "$out/search/$file"; } > "$models/searched-$s.yml"
    echo "searched-$s.yml: $(grep -E 'loss|predicted' "$out/search/$file" | head -2 | tr '\n' ' ')"
    i=$((i + 1))
  done ;;
jobs)
  for seed in $seeds; do for s in $sizes; do echo "$(hand "$s"):scratch:$seed:$updates searched-$s:scratch:$seed:$updates"; done; done | tr ' ' '\n' ;;
latency | report)
  rounds=${ROUNDS:-5}; threads=${THREADS:-1}
  names=(); for s in $sizes; do names+=("$(hand "$s")" "searched-$s"); done
  if [ "$1" = latency ] || [ ! -f "$out/latency.txt" ]; then
    { echo "# $(date -u +%FT%TZ) $(lscpu | grep 'Model name' | sed 's/ \+/ /g') OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset} threads $threads load: $(cut -d' ' -f1-3 /proc/loadavg)"
      for round in $(seq "$rounds"); do
        for n in "${names[@]}"; do
          ms=$($hat latency measure "$models/$n.yml" --space $space --vocab 8000 --threads "$threads" --iterations "${ITERATIONS:-100}" --warmup 5 --json 2>/dev/null |
            python3 -c "import json,sys; d=json.load(sys.stdin); print('%.3f' % (d['encoder_mean_ms'] + d['decoder_mean_ms']))")
          echo "$n $ms"
        done
      done; } > "$out/latency.txt.tmp"
    mv "$out/latency.txt.tmp" "$out/latency.txt"
    cat "$out/latency.txt"
    [ "$1" = latency ] && exit 0
  fi
  .venv-oracle/bin/python - "$out" "$results" "$updates" "$threads" "${names[@]}" <<'PY'
import glob, json, statistics as st, subprocess, sys
out, results, updates, threads, names = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], sys.argv[5:]
ms = {}
header = ""
for line in open(f"{out}/latency.txt"):
    if line.startswith("#"):
        header = line[1:].strip()
        continue
    n, v = line.split()
    ms.setdefault(n, []).append(float(v))
cpu = next(l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines() if l.startswith("Model name"))
runs = [json.load(open(p)) for p in glob.glob(f"{results}/*-scratch-s*-u{updates}.json")]
print(f"Latency: HAT's method at {threads} thread(s), median of {len(ms[names[0]])} interleaved processes ({header or cpu}).")
print()
print("| model | latency (ms) | seeds | BLEU per seed | BLEU mean ± sd | valid loss mean ± sd |")
print("| --- | ---: | ---: | --- | --- | --- |")
rows = []
for n in names:
    r = [x for x in runs if x["name"] == n]
    if not r:
        continue
    b = [x["bleu"] for x in sorted(r, key=lambda x: x["seed"])]
    l = [x["valid_loss"] for x in r]
    sd = lambda v: st.stdev(v) if len(v) > 1 else 0.0
    lat = st.median(ms[n])
    print(f"| {n} | {lat:.2f} | {len(r)} | {' / '.join(f'{v:.2f}' for v in b)} | {st.mean(b):.2f} ± {sd(b):.2f} | {st.mean(l):.3f} ± {sd(l):.3f} |")
    rows.append(("searched" if n.startswith("searched") else "hand-designed", lat, st.mean(b), sd(b), n))
# HAT's shape of result: the searched model against the hand-designed curve (piecewise linear
# between the hand-designed points) at its latency, and the latency the hand-designed curve needs
# for the searched model's BLEU.
def interpolate(points, x):
    points = sorted(points)
    for (x0, y0), (x1, y1) in zip(points, points[1:]):
        if x0 <= x <= x1:
            return y0 + (y1 - y0) * (x - x0) / (x1 - x0) if x1 > x0 else max(y0, y1)
    return None
hand = [(lat, b) for k, lat, b, s, n in rows if k == "hand-designed"]
if len(hand) >= 2:
    print()
    print("| searched model | latency (ms) | BLEU | hand-designed BLEU at its latency | Δ BLEU | hand-designed latency at its BLEU | speed-up |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    hand_by_bleu = sorted((b, lat) for lat, b in hand)
    for k, lat, b, s, n in rows:
        if k != "searched":
            continue
        at = interpolate(hand, lat)
        need = interpolate(hand_by_bleu, b) if all(y1 >= y0 for (_, y0), (_, y1) in zip(sorted(hand), sorted(hand)[1:])) else None
        cell = lambda v, f: f % v if v is not None else "outside the curve"
        print(f"| {n} | {lat:.2f} | {b:.2f} | {cell(at, '%.2f')} | {cell(None if at is None else b - at, '%+.2f')} | "
              f"{cell(need, '%.2f')} | {cell(None if need is None else need / lat, '%.2f×')} |")
with open(f"{out}/curve.csv", "w") as f:
    f.write("kind,latency_ms,bleu,low,high,name\n")
    for k, lat, b, s, n in rows:
        f.write(f"{k},{lat:.3f},{b:.3f},{b - s:.3f},{b + s:.3f},{n}\n")
PY
  $hat plot --csv "$out/curve.csv" --x latency_ms --y bleu --low low --high high --series kind --label name --style line \
    --title "test BLEU against latency measured here ($updates updates, mean ± sd over seeds)" \
    --x-label "latency (ms, HAT's method, $threads thread(s))" --y-label "test_2016 BLEU (beam 5)" --out "$out/curve.svg" ;;
*)
  echo "usage: $0 search SUPERNET PREDICTOR | jobs | latency | report" >&2; exit 2 ;;
esac
