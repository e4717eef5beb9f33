"""Best admitted supernet loss against the number of SubTransformers scored, per search strategy,
latency limit and seed, from the history.jsonl files benchmarks/claims/search_curves.sh wrote.

Usage: search_curves.py OUT   (OUT holds STRATEGY-sSEED/history.jsonl and limits.txt)
Prints a Markdown table (final and equal-budget best loss, mean ± sd over seeds, Welch's 95 %
interval of each strategy's difference to HAT's evolution) and writes OUT/curves-LIMIT.csv
(strategy, evaluations, mean, low, high) for `hat plot`.

"Scored" counts distinct SubTransformers a search admitted and scored under that limit, whether the
fitness came from a new evaluation or from the cache a job shares between its limits: what the
search would have cost alone.
"""
import json
import os
import re
import statistics as st
import sys

from scipy import stats

out = sys.argv[1]
limits = open(os.path.join(out, "limits.txt")).read().strip().split(",")
names = {limit: name for limit, name in zip(limits, ["tight", "middle", "loose"] + [f"limit{i}" for i in range(4, 20)])}

runs = {}  # (strategy, seed) -> {limit: [(scored, best)]}
for entry in sorted(os.listdir(out)):
    m = re.fullmatch(r"(\w+)-s(\d+)", entry)
    path = os.path.join(out, entry, "history.jsonl")
    if not m or not os.path.exists(path):
        continue
    curves, seen = {}, {}
    for line in open(path):
        r = json.loads(line)
        if r.get("type") != "candidate" or not r.get("admitted") or r.get("loss") is None:
            continue
        limit = r["constraint"]
        genes = seen.setdefault(limit, set())
        gene = tuple(r["gene"])
        if gene in genes:
            continue
        genes.add(gene)
        curve = curves.setdefault(limit, [])
        best = min(r["loss"], curve[-1][1]) if curve else r["loss"]
        curve.append((len(genes), best))
    runs[(m.group(1), int(m.group(2)))] = curves

strategies = [s for s in ("evolution", "random", "repair") if any(k[0] == s for k in runs)]
labels = {"evolution": "HAT's evolution", "random": "random search", "repair": "evolution + repair"}


def best_at(curve, n):
    """Best loss after n SubTransformers scored (the last point at or before n)."""
    value = None
    for scored, best in curve:
        if scored > n:
            break
        value = best
    return value


def ms(values):
    return f"{st.mean(values):.4f} ± {st.stdev(values) if len(values) > 1 else 0:.4f}"


print("| limit | strategy | seeds | SubTransformers scored | best loss at the end, per seed | mean ± sd | at equal budget N: mean ± sd | difference to evolution at N, Welch 95 % |")
print("| --- | --- | ---: | --- | --- | --- | --- | --- |")
for limit in limits:
    per = {s: [runs[k][limit] for k in sorted(runs) if k[0] == s and limit in runs[k]] for s in strategies}
    n = min(c[-1][0] for curves in per.values() for c in curves)
    rows = []
    for s in strategies:
        curves = per[s]
        if not curves:
            continue
        final = [c[-1][1] for c in curves]
        at_n = [best_at(c, n) for c in curves]
        diff = ""
        if s != "evolution" and per.get("evolution"):
            base = [best_at(c, n) for c in per["evolution"]]
            d = st.mean(at_n) - st.mean(base)
            t = stats.ttest_ind(at_n, base, equal_var=False)
            ci = t.confidence_interval(0.95)
            diff = f"{d:+.4f} [{ci.low:+.4f}, {ci.high:+.4f}]"
        scored = "–".join(sorted({str(min(c[-1][0] for c in curves)), str(max(c[-1][0] for c in curves))}))
        print(f"| {names[limit]} {limit} | {labels[s]} | {len(curves)} | {scored} | {' / '.join(f'{v:.4f}' for v in final)} | {ms(final)} | N = {n}: {ms(at_n)} | {diff} |")
        # The curve, mean ± sd over seeds at every count up to the shortest run's.
        for k in range(1, n + 1):
            values = [best_at(c, k) for c in curves]
            if any(v is None for v in values):
                continue
            mean, sd = st.mean(values), st.stdev(values) if len(values) > 1 else 0.0
            rows.append((labels[s], k, mean, mean - sd, mean + sd))
    with open(os.path.join(out, f"curves-{names[limit]}.csv"), "w") as f:
        f.write("strategy,evaluations,mean,low,high\n")
        for r in rows:
            f.write(f"{r[0]},{r[1]},{r[2]:.6f},{r[3]:.6f},{r[4]:.6f}\n")
