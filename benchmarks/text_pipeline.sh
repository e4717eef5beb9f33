#!/usr/bin/env bash
# Text pipeline speed: our Moses tokenizer (-a, escaping), detokenizer and subword-nmt BPE against
# sacremoses and subword-nmt on the same lines (Multi30k train, 29,000 lines per language), one
# thread each, lines/s per stage (best of three runs on both sides) and the ratio; the output
# sizes of both sides are compared too. Codes: 10,000 joint merges learned by subword-nmt on
# sacremoses' tokenization (not timed). Run with nothing else busy.
#   benchmarks/text_pipeline.sh [MULTI30K_DIR]     (default ../shared/data/multi30k)
set -euo pipefail
cd "$(dirname "$0")/.."
from=${1:-../shared/data/multi30k}
scripts/setup.sh
swift build -c release --product HATBenchmarks >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=.venv-oracle/bin/python
echo "# $(date -u +%FT%TZ) $(lscpu | grep 'Model name' | sed 's/ \+/ /g')"
"$py" benchmarks/text_pipeline_python.py learn "$work/codes" 10000 "$from"/train.{en,de,fr}.gz 2>/dev/null
for lang in en de fr; do
  .build/release/HATBenchmarks text-pipeline "$lang" "$work/codes" "$from/train.$lang.gz"
  "$py" benchmarks/text_pipeline_python.py "$lang" "$work/codes" "$from/train.$lang.gz"
done | tee "$work/rows.jsonl"
"$py" - "$work/rows.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
speed = {(r["impl"], r["lang"], r["stage"]): r["lines_per_s"] for r in rows if r["bench"] == "text_pipeline"}
sizes = {(r["impl"], r["lang"]): (r["bpe_output_bytes"], r["detokenized_bytes"]) for r in rows if r["bench"] == "text_pipeline_output"}
print("\n| lang | stage | Swift lines/s | Python lines/s | ratio |\n| --- | --- | ---: | ---: | ---: |")
for (impl, lang, stage), v in speed.items():
    if impl == "swift":
        p = speed[("python", lang, stage)]
        print("| %s | %s | %.0f | %.0f | %.1fx |" % (lang, stage, v, p, v / p))
for lang in ["en", "de", "fr"]:
    s, p = sizes.get(("swift", lang)), sizes.get(("python", lang))
    print("%s: output bytes (tokenize+bpe, detokenize) Swift %s, Python %s: %s" % (lang, s, p, "same" if s == p else "DIFFERENT"))
PY
