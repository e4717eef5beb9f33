#!/usr/bin/env bash
# Times the data stage (docs/PERFORMANCE.md, "Data preparation"): `hat data multi30k --pair en-de`
# from the local Multi30k files (default ../shared/data/multi30k) and `hat data builtin`, three
# runs each with --force, then an up-to-date rerun. Run it with nothing else on the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
from=${1:-../shared/data/multi30k}
swift build -c release --product hat >/dev/null
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
TIMEFORMAT='%R s'
for run in 1 2 3; do
  echo -n "multi30k en-de, run $run: "
  { time .build/release/hat data multi30k --pair en-de --from "$from" --out "$out/m30k" --force > "$out/m30k.log"; } 2>&1
done
echo -n "multi30k en-de, up-to-date rerun: "
{ time .build/release/hat data multi30k --pair en-de --from "$from" --out "$out/m30k" > /dev/null; } 2>&1
tail -4 "$out/m30k.log"
for run in 1 2 3; do
  echo -n "builtin, run $run: "
  { time .build/release/hat data builtin --out "$out/builtin" --force > "$out/builtin.log"; } 2>&1
done
tail -4 "$out/builtin.log"
