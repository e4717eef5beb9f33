#!/usr/bin/env bash
# What each device charges for depth and for width, from HAT's own measurements (docs/RESULTS.md,
# "Different hardware, different architectures"): HAT's latency datasets of its WMT'14 space0 on a
# Raspberry Pi (ARM Cortex-A72), an Intel Xeon and an NVIDIA TITAN Xp (../shared/data/hat-latency),
# one predictor each (HAT's MLP, `hat latency train-predictor --kind hat-mlp`), then the predicted
# latency of controlled SubTransformers: the same encoder with decoders that differ only in depth or
# only in width, and HAT's published SubTransformers for the Raspberry Pi and the Xeon on every device.
# Usage: benchmarks/claims/device_costs.sh   LATENCY=../shared/data/hat-latency OUT=runs/claims/wmt-devices
set -euo pipefail
cd "$(dirname "$0")/../.."
hat=.build/release/hat
lat=${LATENCY:-../shared/data/hat-latency}
configs=${CONFIGS:-../shared/data/hat-configs}
space=$configs/wmt14.en-de__space0.yml
out=${OUT:-runs/claims/wmt-devices}
mkdir -p "$out"
devices="raspberrypi:wmt14ende_cpu_raspberrypi_all.csv xeon:wmt14ende_cpu_xeon_all.csv titanxp:wmt14ende_gpu_titanxp_all.csv"
for d in $devices; do
  name=${d%%:*}
  [ -f "$out/$name.predictor.safetensors" ] || $hat latency train-predictor --data "$lat/${d#*:}" --kind hat-mlp \
    --out "$out/$name.predictor.safetensors" > "$out/$name.predictor.log" 2>&1
  grep '^test' "$out/$name.predictor.log" | sed "s/^/$name /"
done

# Controlled decoders behind one encoder (512 d × 6, FFN 2048, 8 heads), attending the last encoder layer.
python3 - "$out" <<'PY'
import sys
out = sys.argv[1]
def write(name, dec_dim, layers, ffn, heads):
    pad = lambda v: "[" + ", ".join([str(v)] * 6) + "]"
    open(f"{out}/{name}.yml", "w").write(f"""# {name}: decoder {dec_dim} d x {layers}, FFN {ffn}, {heads} heads; encoder 512 d x 6, FFN 2048, 8 heads
encoder-embed-dim-subtransformer: 512
decoder-embed-dim-subtransformer: {dec_dim}
encoder-ffn-embed-dim-all-subtransformer: {pad(2048)}
decoder-ffn-embed-dim-all-subtransformer: {pad(ffn)}
encoder-layer-num-subtransformer: 6
decoder-layer-num-subtransformer: {layers}
encoder-self-attention-heads-all-subtransformer: {pad(8)}
decoder-self-attention-heads-all-subtransformer: {pad(heads)}
decoder-ende-attention-heads-all-subtransformer: {pad(heads)}
decoder-arbitrary-ende-attn-all-subtransformer: {pad(-1)}
""")
for layers in (1, 2, 3, 4, 5, 6):
    write(f"dec512x{layers}-ffn2048", 512, layers, 2048, 8)
for ffn in (1024, 2048, 3072):
    write(f"dec512x3-ffn{ffn}", 512, 3, ffn, 8)
write("dec640x3-ffn2048", 640, 3, 2048, 8)
write("deep-thin", 512, 6, 1024, 4)
write("shallow-wide", 640, 2, 3072, 8)
PY
cp "$configs/wmt14.en-de__HAT_wmt14ende_raspberrypi@3.5s_bleu@25.8.yml" "$out/HAT-raspberrypi@3.5s.yml"
cp "$configs/wmt14.en-de__HAT_wmt14ende_xeon@137.9ms_bleu@25.8.yml" "$out/HAT-xeon@137.9ms.yml"
for d in $devices; do
  name=${d%%:*}
  $hat latency predict --predictor "$out/$name.predictor.safetensors" --space "$space" "$out"/*.yml --json 2>/dev/null > "$out/$name.predicted.json"
done
python3 - "$out" raspberrypi xeon titanxp <<'PY'
import json, os, sys
out, devices = sys.argv[1], sys.argv[2:]
ms = {d: {os.path.basename(p["subtransformer"])[:-4]: p["predicted_ms"] for p in json.load(open(f"{out}/{d}.predicted.json"))} for d in devices}
print("| SubTransformer (encoder 512 d × 6, FFN 2048) | " + " | ".join(f"{d}: ms (× the 3-layer decoder)" for d in devices) + " |")
print("| --- | " + " | ".join("---:" for _ in devices) + " |")
base = "dec512x3-ffn2048"
rows = [f"dec512x{l}-ffn2048" for l in range(1, 7)] + ["dec512x3-ffn1024", "dec512x3-ffn3072", "dec640x3-ffn2048", "deep-thin", "shallow-wide",
        "HAT-raspberrypi@3.5s", "HAT-xeon@137.9ms"]
for r in rows:
    print(f"| {r} | " + " | ".join(f"{ms[d][r]:.1f} ({ms[d][r] / ms[d][base]:.2f})" for d in devices) + " |")
print()
for d in devices:
    layer = (ms[d]["dec512x6-ffn2048"] - ms[d]["dec512x1-ffn2048"]) / 5
    width = ms[d]["dec512x3-ffn3072"] - ms[d]["dec512x3-ffn1024"]
    print(f"{d}: one more decoder layer (512 d, FFN 2048) costs {layer:.1f} ms = {100 * layer / ms[d][base]:.0f} % of the 3-layer model; "
          f"FFN 1024 → 3072 in 3 decoder layers {width:.1f} ms = {100 * width / ms[d][base]:.0f} %; "
          f"deep-thin / shallow-wide = {ms[d]['deep-thin'] / ms[d]['shallow-wide']:.2f}")
PY
