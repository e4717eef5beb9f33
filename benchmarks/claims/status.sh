#!/usr/bin/env bash
# Where the claims' training queue stands: each job of benchmarks/claims/jobs.txt as done (its
# result JSON exists, with valid loss, BLEU and seconds), started (a log but no result: the
# update it reached) or waiting, and the CPU-hours done and left (left estimated from the done
# runs' seconds per update, per mode). Usage: benchmarks/claims/status.sh [JOBS_FILE]
set -euo pipefail
cd "$(dirname "$0")/../.."
python3 - "${1:-benchmarks/claims/jobs.txt}" "${RESULTS:-benchmarks/claims/results}" "${OUT:-runs/claims/train}" <<'PY'
import json, os, re, sys
jobs_file, results, out = sys.argv[1:]
jobs = [l.strip() for l in open(jobs_file) if l.strip() and not l.startswith("#")]
done, rate = {}, {}
for job in jobs:
    name, mode, seed, updates = job.split(":")
    path = f"{results}/{name}-{mode}-s{seed}-u{updates}.json"
    if os.path.exists(path):
        r = json.load(open(path))
        done[job] = r
        trained = r["updates"] - r.get("start_update", 0)  # a continued or resumed run's own updates
        if trained > 0:
            rate.setdefault(mode, []).append(r["train_seconds"] * r["threads"] / trained)
seconds_per_update = {m: sum(v) / len(v) for m, v in rate.items()}
fallback = sum(sum(v) for v in rate.values()) / max(1, sum(len(v) for v in rate.values())) or 2.2
left = 0.0
for job in jobs:
    name, mode, seed, updates = job.split(":")
    if job in done:
        r = done[job]
        print(f"done     {job:32} valid {r['valid_loss']:.3f}  BLEU {r['bleu']:5.2f}  {r['train_seconds']:5d} s")
        continue
    log = f"{out}/{name}-{mode}-s{seed}-u{updates}.log"
    reached = 0
    if os.path.exists(log):
        steps = re.findall(r"update (\d+)/", open(log, errors="replace").read())
        reached = int(steps[-1]) if steps else 0
    # A longer budget continues its shorter run, done or listed before it: only the updates beyond
    # that are left.
    earlier = [int(j.split(":")[3]) for j in jobs[:jobs.index(job)] if j.split(":")[:3] == [name, mode, seed]]
    start = max([reached] + earlier)
    left += (int(updates) - start) * seconds_per_update.get(mode, fallback)
    print(f"{'started' if reached else 'waiting':8} {job:32} {f'at update {reached}' if reached else ''}")
total = sum(r["train_seconds"] * r["threads"] for r in done.values())
print(f"\n{len(done)} of {len(jobs)} done ({total / 3600:.1f} CPU-hours); about {left / 3600:.1f} CPU-hours left "
      f"(seconds per update so far: " + ", ".join(f"{m} {v:.2f}" for m, v in seconds_per_update.items()) + ")")
PY
