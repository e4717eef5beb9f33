#!/usr/bin/env bash
# Translation speed (docs/PERFORMANCE.md, "Translation speed"): `hat test` against a fairseq-style
# incremental beam search in PyTorch (benchmarks/translate_torch.py) for the same checkpoint,
# SubTransformer, split, beam and CPU, one after the other in one run; each side also reports
# its BLEU, so the two are checked to do the same work.
# Usage: benchmarks/translate.sh CHECKPOINT SUB.yml DATA_DIR [SPLIT] [BEAM]
#   THREADS="1 2" (both sides use the same thread count per row)
set -euo pipefail
cd "$(dirname "$0")/.."
ckpt=${1:?checkpoint}; sub=${2:?SubTransformer yml}; data=${3:?dataset dir}; split=${4:-test}; beam=${5:-5}
swift build -c release --product hat >/dev/null
py=.venv-oracle/bin/python
out=runs/translate-bench; mkdir -p $out
echo "# $(date -u +%FT%TZ) $(lscpu | grep 'Model name' | sed 's/ \+/ /g') load: $(cut -d' ' -f1-3 /proc/loadavg)"
for t in ${THREADS:-1 2}; do
  line=$(.build/release/hat test --checkpoint "$ckpt" --subtransformer "$sub" --data "$data" --split $split --beam $beam \
         --threads $t --out $out/hat.$t.hyp.txt 2>&1 | tr '\r' '\n' | grep -E "translated [0-9]+ sentences in|^BLEU" | tr '\n' ' ')
  echo "hat   threads $t: $line"
  OMP_NUM_THREADS=$t $py benchmarks/translate_torch.py --checkpoint "$ckpt" --subtransformer "$sub" --data "$data" \
    --split $split --beam $beam --threads $t --out $out/torch.$t.hyp.txt | sed "s/^/torch threads $t: /"
done
