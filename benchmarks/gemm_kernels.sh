#!/usr/bin/env bash
# GEMM on the shapes of a training step and of batched decoding: the engine's own float32 kernel
# (CKernels/sgemm.c) against OpenBLAS with every core choice that matters on x86-64 (whatever it
# picks itself, Prescott = an unrecognized CPU, Haswell, SkylakeX) and against PyTorch, in
# interleaved rounds on one machine; prints the medians as the table in docs/PERFORMANCE.md.
#   benchmarks/gemm_kernels.sh [ROUNDS]      (default 3; nothing else should be running)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
swift build -c release --product HATBenchmarks >/dev/null
rounds=${1:-3}
echo "# $(date -u +%FT%TZ) $(lscpu | grep 'Model name' | sed 's/ \+/ /g'); OPENBLAS_CORETYPE in the environment: ${OPENBLAS_CORETYPE:-unset}"
out=$(mktemp)
for r in $(seq "$rounds"); do
  env -u OPENBLAS_CORETYPE HAT_GEMM=engine .build/release/HATBenchmarks gemm | sed 's/"impl":"swift"/"impl":"hat engine"/' >>"$out"
  for core in unset Prescott Haswell SkylakeX; do
    if [ $core = unset ]; then e=(env -u OPENBLAS_CORETYPE); else e=(env OPENBLAS_CORETYPE=$core); fi
    "${e[@]}" HAT_GEMM=blas .build/release/HATBenchmarks gemm | sed "s/\"impl\":\"swift\"/\"impl\":\"OpenBLAS $core\"/" >>"$out"
  done
  env -u OPENBLAS_CORETYPE .venv-oracle/bin/python benchmarks/engine_torch.py gemm >>"$out"
done
.venv-oracle/bin/python - "$out" <<'PY'
import json, sys, statistics
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
impls = ["hat engine", "OpenBLAS unset", "OpenBLAS Prescott", "OpenBLAS Haswell", "OpenBLAS SkylakeX", "torch"]
cells = {}
for r in rows:
    if r["precision"] != "float32": continue
    cells.setdefault((r["shape"], r.get("layout", "nn")), {}).setdefault(r["impl"], []).append(r["gflops"])
print("| M×N×K | layout | " + " | ".join(impls) + " | hat / best OpenBLAS |")
print("| --- | --- | " + " | ".join("---:" for _ in impls) + " | ---: |")
for (shape, layout), d in cells.items():
    med = {i: statistics.median(d[i]) for i in impls if i in d}
    best = max(v for i, v in med.items() if i.startswith("OpenBLAS"))
    print(f"| {shape} | {layout} | " + " | ".join(f"{med[i]:.0f}" if i in med else "–" for i in impls)
          + f" | {med['hat engine'] / best:.2f}× |")
print(f"\nGFLOP/s, median of {len(next(iter(cells.values()))['hat engine'])} interleaved rounds (float32; "
      "rows with 5 rows run on the small-M kernels in every column but torch's).")
PY
rm -f "$out"
