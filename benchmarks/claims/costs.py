"""HAT's fifth question (docs/RESULTS.md, "Cost"): what each step of the experiments cost here, in
CPU-hours (wall seconds × compute threads), next to the cost ratios HAT publishes: a search that
trains no candidate (HAT's abstract: 12,041× less search cost than the Evolved Transformer, which
trains each candidate it scores) and fine-tuning with inherited weights (HAT §4: about 4× less
training cost than from scratch).

Usage: python3 benchmarks/claims/costs.py [RESULTS] [RUNS]   (benchmarks/claims/results, runs)
Reads: RUNS/pipeline-m30k/pipeline.json (the supernet, trained on all cores), RUNS/claims/search/
*.log (the searches of "Evolution against random search", 1 thread each), RUNS/claims/devices/
cpu1.csv and its provenance (the latency dataset), RESULTS/*-u*.json (the trainings).
"""

import csv
import glob
import json
import os
import re
import statistics as st
import sys

results = sys.argv[1] if len(sys.argv) > 1 else "benchmarks/claims/results"
runs = sys.argv[2] if len(sys.argv) > 2 else "runs"
SUPERNET_THREADS = 2  # `hat pipeline` trains on the cores available: 2 on the machines of docs/RESULTS.md


def hours(seconds, threads):
    return seconds * threads / 3600


rows = []  # (step, CPU-hours, how it was counted)

pipeline = json.load(open(f"{runs}/pipeline-m30k/pipeline.json"))
supernet_s = pipeline["stages"]["supernet"]["seconds"]
supernet_h = hours(supernet_s, SUPERNET_THREADS)
rows.append(("SuperTransformer training (once per space and data)", supernet_h,
             f"{supernet_s / 60:.0f} min × {SUPERNET_THREADS} threads, {pipeline['stages']['supernet']['summary']['updates']} updates"))

# The latency dataset: HAT's method runs warm-up + timed iterations of each sampled SubTransformer;
# the dataset records the timed mean, so the measuring time is estimated from it.
dataset = f"{runs}/claims/devices/cpu1.csv"
if os.path.exists(dataset):
    prov = json.load(open(dataset + ".provenance.json"))
    warmup = 2  # `hat latency dataset ... --warmup 2` (docs/RESULTS.md, "Searches for the devices at hand")
    ms = [float(r["latency_mean_encoder"]) + float(r["latency_mean_decoder"]) for r in csv.DictReader(open(dataset))]
    seconds = sum(ms) / 1000 * (prov["iterations"] + warmup)
    rows.append((f"latency dataset ({len(ms)} SubTransformers, this CPU)", hours(seconds, prov["threads"]),
                 f"≈ {seconds:.0f} s of measuring ({prov['iterations']} + {warmup} runs each, {prov['threads']} thread), from the measured means"))

# Searches: 10 iterations × population 40 on 120 validation pairs, three limits per search.
searches, scored = [], []
for log in sorted(glob.glob(f"{runs}/claims/search/evolution-s*.log")):
    text = open(log, errors="replace").read()
    took = re.findall(r"search took ([0-9.]+) s", text)
    if took:
        searches.append(float(took[-1]))
        scored.append(sum(int(n) for n in re.findall(r"; (\d+) evaluated,", text)))
if searches:
    rows.append(("evolutionary search (3 limits, 10 × 40, 120 pairs)", hours(st.mean(searches), 1),
                 f"mean of {len(searches)} seeds: {st.mean(searches):.0f} s at 1 thread, {st.mean(scored):.0f} SubTransformers scored"))

trained = [json.load(open(p)) for p in glob.glob(f"{results}/*-u*.json") if "supernet" not in p]
by_mode = {}
for r in trained:
    by_mode.setdefault((r["mode"], r["updates"]), []).append(r)
def run_hours(r):
    """CPU-hours of a whole run: a continued or resumed run records only its own updates' seconds
    (after start_update), so the rate of those, times all its updates."""
    own = r["updates"] - r.get("start_update", 0)
    return hours(r["train_seconds"], r["threads"]) * r["updates"] / own if own > 0 else float("nan")


def how(mode):
    if mode == "scratch":
        return "from scratch"
    if mode == "finetune":
        return "fine-tuned from the supernet"
    return f"distilled from a teacher ({mode})"


for (mode, updates), rs in sorted(by_mode.items()):
    h = [run_hours(r) for r in rs]
    rows.append((f"one SubTransformer {how(mode)}, {updates} updates",
                 st.mean(h), f"mean of {len(rs)} runs ({min(h):.2f}–{max(h):.2f}), BLEU {st.mean(r['bleu'] for r in rs):.2f} mean"))

print("| step | CPU-hours | counted as |")
print("| --- | ---: | --- |")
for step, h, how in rows:
    print(f"| {step} | {h:.2f} | {how} |")

# HAT's ratios, measured here.
scratch = by_mode.get(("scratch", 1000))
finetune = by_mode.get(("finetune", 250))
print()
if searches and scratch:
    per_model = st.mean(run_hours(r) for r in scratch)
    ours = supernet_h + hours(st.mean(searches), 1)
    et_style = st.mean(scored) * per_model
    print(f"- A search that trains every SubTransformer it scores (the Evolved Transformer's way): "
          f"{st.mean(scored):.0f} × {per_model:.2f} = {et_style:.0f} CPU-hours, against {ours:.2f} for the supernet and one search: "
          f"{et_style / ours:.0f}× (HAT: 12,041× on WMT'14, where ET trains far more and far larger candidates). "
          f"Each further search on the same supernet costs {hours(st.mean(searches), 1):.2f}.")
if scratch and finetune:
    s = st.mean(run_hours(r) for r in scratch)
    f = st.mean(run_hours(r) for r in finetune)
    pairs = [(a, b) for a in scratch for b in finetune if a["name"] == b["name"] and a["seed"] == b["seed"]]
    gap = st.mean(b["bleu"] - a["bleu"] for a, b in pairs) if pairs else float("nan")
    print(f"- Fine-tuning with inherited weights (250 updates) against training from scratch (1,000): {s / f:.1f}× less "
          f"training (HAT: about 4×); BLEU fine-tuned − from scratch over {len(pairs)} SubTransformers: {gap:+.2f}.")
