#!/usr/bin/env bash
# The SubTransformers of the proxy-validity experiment (docs/RESULTS.md): the space's largest and
# smallest, the hand-designed baseline (benchmarks/baseline_transformer.yml), and COUNT random ones
# spread over the latency range: SAMPLES random SubTransformers are drawn (seeds 1000…), their
# latency predicted, and the one nearest each of COUNT evenly spaced quantiles kept, so the set
# covers fast and slow models alike instead of clustering where random draws fall.
# Usage: benchmarks/claims/pick_subtransformers.sh PREDICTOR   COUNT=10 SAMPLES=200
#   SPACE=configs/multi30k_cpu_space.yml OUT=benchmarks/claims/subtransformers
# Writes OUT/NAME.yml and OUT/picked.txt (name, seed, predicted ms); existing files are kept.
set -euo pipefail
cd "$(dirname "$0")/../.."
predictor=${1:?give a latency predictor of the space}
hat=.build/release/hat
space=${SPACE:-configs/multi30k_cpu_space.yml}
out=${OUT:-benchmarks/claims/subtransformers}
count=${COUNT:-10}; samples=${SAMPLES:-200}
mkdir -p "$out"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
[ -f "$out/largest.yml" ] || $hat sample --space "$space" --which largest --out "$out/largest.yml"
[ -f "$out/smallest.yml" ] || $hat sample --space "$space" --which smallest --out "$out/smallest.yml"
[ -f "$out/baseline.yml" ] || cp benchmarks/baseline_transformer.yml "$out/baseline.yml"
for i in $(seq 1000 $((1000 + samples - 1))); do $hat sample --space "$space" --which random --seed "$i" --out "$tmp/$i.yml"; done
$hat latency predict --predictor "$predictor" --space "$space" "$tmp"/*.yml --json 2>/dev/null > "$tmp/predicted.json"
python3 - "$tmp" "$out" "$count" <<'PY'
import json, os, shutil, sys
tmp, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
rows = sorted((p["predicted_ms"], os.path.basename(p["subtransformer"])[:-4]) for p in json.load(open(f"{tmp}/predicted.json")))
picked, used = [], set()
for q in range(count):
    target = (q + 0.5) / count * (len(rows) - 1)
    # The nearest sample to the quantile not taken yet (two quantiles may share a nearest one).
    i = min((i for i in range(len(rows)) if i not in used), key=lambda i: abs(i - target))
    used.add(i)
    ms, seed = rows[i]
    name = f"q{round(100 * (q + 0.5) / count):02d}"
    if not os.path.exists(f"{out}/{name}.yml"):
        shutil.copy(f"{tmp}/{seed}.yml", f"{out}/{name}.yml")
    picked.append(f"{name} seed {seed} predicted {ms:.2f} ms")
with open(f"{out}/picked.txt", "w") as f:
    f.write("\n".join(picked) + "\n")
print("\n".join(picked))
PY
