#!/usr/bin/env bash
# Trains the SubTransformers of HAT's claim experiments (docs/RESULTS.md) with one recipe and
# records each result as a small JSON file, so the experiments can span several sessions: a job
# whose result exists is skipped, an interrupted one resumes (hat train resumes by itself).
# Usage: benchmarks/claims/train_models.sh JOBS...   each job NAME:MODE:SEED:UPDATES, e.g. q05:scratch:1:1000
#   NAME      benchmarks/claims/subtransformers/NAME.yml
#   MODE      scratch (random initialization), finetune (weights inherited from SUPERNET) or distill
#             (random initialization, HAT §4's knowledge distillation from TEACHER: top-5, α 0.5;
#             distill-aALPHA, distill-kK or distill-aALPHA-kK for another weight or top-k)
#   PARALLEL=2 jobs at once, THREADS=1 compute threads each. A longer budget of a NAME:MODE:SEED
#   continues the shorter one's folder: listed after it in the same call it waits for that run's
#   result (and fails if that run failed); a folder already trained past a job's budget is an error.
#   WARMUP=250 (scratch) / FT_WARMUP=100 (finetune) warm-up updates, SAVE=100 (update checkpoints,
#   the last 3 averaged), BEAM=5, DATA=runs/pipeline-m30k/data,
#   SUPERNET=runs/pipeline-m30k/supernet/checkpoint_last.safetensors,
#   TEACHER=runs/claims/train/hand-large-scratch-s1/average3-u1000.safetensors, OUT=runs/claims/train,
#   RESULTS=benchmarks/claims/results
# The recipe is otherwise the space's (configs/multi30k_cpu_space.yml: Adam, inverse-sqrt lr 1e-3,
# dropout 0.3, label smoothing 0.1, 4,096-token batches). The inverse-sqrt schedule does not depend
# on --max-update, so a job with more UPDATES for the same NAME:MODE:SEED continues the shorter
# run's folder: its first updates are the shorter run's.
# Each result: validation loss of the last-3 average (all 1,014 pairs, `hat validate`) and of the
# last checkpoint, the per-epoch validation curve, test_2016 BLEU/chrF2 of the average (beam 5),
# training seconds, CPU and threads.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -gt 0 ] || { echo "usage: $0 NAME:MODE:SEED:UPDATES..." >&2; exit 2; }
export HAT=${HAT:-.build/release/hat} SPACE=configs/multi30k_cpu_space.yml
export DATA=${DATA:-runs/pipeline-m30k/data} SUPERNET=${SUPERNET:-runs/pipeline-m30k/supernet/checkpoint_last.safetensors}
export TEACHER=${TEACHER:-runs/claims/train/hand-large-scratch-s1/average3-u1000.safetensors}
export OUT=${OUT:-runs/claims/train} RESULTS=${RESULTS:-benchmarks/claims/results}
export THREADS=${THREADS:-1} WARMUP=${WARMUP:-250} FT_WARMUP=${FT_WARMUP:-100} SAVE=${SAVE:-100} BEAM=${BEAM:-5}
mkdir -p "$OUT" "$RESULTS"
export JOBS="$*" QUEUE_START=$(date +%s)
for job in "$@"; do
  IFS=: read -r name mode seed updates <<< "$job"
  [ -f "benchmarks/claims/subtransformers/$name.yml" ] || { echo "error: $job: no benchmarks/claims/subtransformers/$name.yml" >&2; exit 2; }
  [[ $mode =~ ^(scratch|finetune|distill(-a[0-9.]+)?(-k[0-9]+)?)$ ]] ||
    { echo "error: $job: MODE must be scratch, finetune or distill[-aALPHA][-kK]" >&2; exit 2; }
  [[ $seed =~ ^[0-9]+$ && $updates =~ ^[0-9]+$ ]] || { echo "error: $job: SEED and UPDATES must be numbers" >&2; exit 2; }
done

one() {
  set -euo pipefail
  IFS=: read -r name mode seed updates <<< "$1"
  yml=benchmarks/claims/subtransformers/$name.yml
  id=$name-$mode-s$seed-u$updates
  result=$RESULTS/$id.json
  [ -f "$result" ] && return 0
  dir=$OUT/$name-$mode-s$seed   # longer budgets continue the same folder
  log=$OUT/$id.log
  failed=$OUT/$id.failed   # written when this job fails, so a longer one listed after it stops waiting
  set -E
  trap 'touch "$failed"' ERR
  # A shorter budget of this folder listed earlier in this call (xargs has started it already): wait
  # for its result, so that this run continues its folder rather than racing it.
  for other in $JOBS; do
    [ "$other" = "$1" ] && break
    IFS=: read -r oname omode oseed oupdates <<< "$other"
    [ "$oname:$omode:$oseed" = "$name:$mode:$seed" ] && [ "$oupdates" -lt "$updates" ] || continue
    shorter=$oname-$omode-s$oseed-u$oupdates
    until [ -f "$RESULTS/$shorter.json" ]; do
      if [ -f "$OUT/$shorter.failed" ] && [ "$(stat -c %Y "$OUT/$shorter.failed")" -ge "$QUEUE_START" ]; then
        echo "$id: not started, its shorter run $shorter failed" >&2
        touch "$failed"
        return 1
      fi
      sleep 20
    done
  done
  exec 9> "$dir.lock"
  flock 9
  # The update the folder holds (its last training record), so that a longer budget counts only
  # its own updates and seconds, and a folder past this budget is not mistaken for this run.
  reached=0
  if [ -f "$dir/metrics.jsonl" ]; then
    reached=$(grep -o '"update":[0-9]*' "$dir/metrics.jsonl" | tail -1 | cut -d: -f2 || true)
    reached=${reached:-0}
  fi
  if [ "$reached" -gt "$updates" ]; then
    echo "$id: $dir is already trained to update $reached, past this job's $updates (a longer budget ran first)" >&2
    touch "$failed"
    return 1
  fi
  args=(--warmup-updates "$WARMUP")
  if [ "$mode" = finetune ]; then args=(--warmup-updates "$FT_WARMUP" --init-from "$SUPERNET"); fi
  if [[ $mode == distill* ]]; then
    [ -f "$TEACHER" ] || { echo "$id: no teacher $TEACHER yet (train it first, or set TEACHER)" >&2; touch "$failed"; return 1; }
    args+=(--distill-from "$TEACHER")
    [[ $mode =~ -a([0-9.]+) ]] && args+=(--distill-weight "${BASH_REMATCH[1]}")
    [[ $mode =~ -k([0-9]+) ]] && args+=(--distill-topk "${BASH_REMATCH[1]}")
  fi
  start=$(date +%s)
  $HAT train --config $SPACE --subtransformer "$yml" --data "$DATA" --save-dir "$dir" --seed "$seed" --threads "$THREADS" \
    --max-update "$updates" --save-interval-updates "$SAVE" --keep-last-updates 3 --keep-last-epochs 1 "${args[@]}" > "$log" 2>&1 ||
    { echo "$id: training failed, see $log" >&2; touch "$failed"; return 1; }
  seconds=$(($(date +%s) - start))
  # The three newest update checkpoints (checkpoint_EPOCH_UPDATE), by the number after the last "_".
  ckpts=$(ls "$dir"/checkpoint_*_*.safetensors | awk -F_ '{print $NF + 0, $0}' | sort -n | tail -3 | cut -d' ' -f2-)
  $HAT average --out "$dir/average3-u$updates.safetensors" $ckpts > /dev/null
  $HAT validate --checkpoint "$dir/average3-u$updates.safetensors" --threads "$THREADS" --json 2> /dev/null > "$dir/valid-average-u$updates.json"
  $HAT validate --checkpoint "$dir/checkpoint_last.safetensors" --threads "$THREADS" --json 2> /dev/null > "$dir/valid-last-u$updates.json"
  $HAT test --checkpoint "$dir/average3-u$updates.safetensors" --beam "$BEAM" --threads "$THREADS" \
    --out "$dir/test-u$updates.hyp.txt" --json 2>> "$log" > "$dir/test-u$updates.json"
  python3 - "$result" "$name" "$mode" "$seed" "$updates" "$seconds" "$dir" "$yml" "$reached" <<'PY'
import json, os, subprocess, sys, time
result, name, mode, seed, updates, seconds, d, yml, reached = sys.argv[1:]
u = int(updates)
avg = json.load(open(f"{d}/valid-average-u{u}.json"))[0]
last = json.load(open(f"{d}/valid-last-u{u}.json"))[0]
test = json.load(open(f"{d}/test-u{u}.json"))
scores = {s["name"]: s["score"] for s in test["scores"]}
curve = [{"update": r["update"], "loss": r["loss"], "nll_loss": r["nll_loss"]}
         for r in map(json.loads, open(f"{d}/metrics.jsonl")) if r.get("split") == "valid" and r["update"] <= u]
cpu = next((l.split(":", 1)[1].strip() for l in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
            if l.startswith("Model name")), "?")
rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
out = {
    "name": name, "mode": mode, "seed": int(seed), "updates": u, "subtransformer": open(yml).read(),
    "warmup_updates": int(os.environ["FT_WARMUP" if mode == "finetune" else "WARMUP"]),
    "init_from": os.environ["SUPERNET"] if mode == "finetune" else None,
    "teacher": os.environ["TEACHER"] if mode.startswith("distill") else None,
    "valid_loss": avg["loss"], "valid_nll_loss": avg["nll_loss"], "valid_loss_last": last["loss"],
    "valid_nll_loss_last": last["nll_loss"], "valid_curve": curve,
    "bleu": scores["BLEU"], "chrf2": scores["chrF2"], "beam": int(os.environ["BEAM"]),
    # This call's seconds for its updates after start_update (the shorter run's, or where an
    # interrupted run resumed).
    "train_seconds": int(seconds), "start_update": int(reached), "threads": int(os.environ["THREADS"]), "cpu": cpu,
    "openblas_coretype": os.environ.get("OPENBLAS_CORETYPE", "unset"), "hat_commit": rev,
    "finished": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
}
tmp = result + ".tmp"
json.dump(out, open(tmp, "w"), indent=1)
os.replace(tmp, result)
PY
  echo "$id: valid loss $(python3 -c "import json; r=json.load(open('$result')); print('%.4f  BLEU %.2f  %d s' % (r['valid_loss'], r['bleu'], r['train_seconds']))")"
}
export -f one
printf '%s\n' "$@" | xargs -P "${PARALLEL:-2}" -I{} bash -c 'one "$@"' _ {}
