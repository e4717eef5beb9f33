"""Rank agreement between the supernet's validation loss and trained SubTransformers.

Usage: proxy_validity.py RESULTS UPDATES LONG FT_UPDATES OUT
  RESULTS     supernet-valid.json (hat validate --json on the supernet) and NAME-MODE-sSEED-uN.json
              files (benchmarks/claims/train_models.sh)
  UPDATES     the from-scratch budget compared; LONG the longer budget of the stability check;
  FT_UPDATES  the fine-tuning budget (HAT: fine-tuning inherited weights costs about 4× less)
Prints Markdown tables; writes OUT/proxy-{scratch,finetune}-{loss,bleu}.csv for `hat plot`.

The intervals are percentile bootstraps over SubTransformers (10,000 resamples of the models,
seeded): how much the coefficient depends on which SubTransformers happened to be picked. Each
model is trained once per seed; with several seeds the per-model mean is used.
"""
import glob
import json
import os
import statistics as st
import sys

import numpy as np
from scipy import stats

results, budget, long_budget, ft_budget, out = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
supernet = {os.path.basename(r["subtransformer"])[:-4]: r["loss"] for r in json.load(open(f"{results}/supernet-valid.json"))}
trained = [json.load(open(p)) for p in sorted(glob.glob(f"{results}/*-s*-u*.json"))]


def per_model(mode, updates, key):
    """Model name -> the mean of `key` over seeds, for runs of `mode` at `updates`."""
    values = {}
    for r in trained:
        if r["mode"] == mode and r["updates"] == updates:
            values.setdefault(r["name"], []).append(r[key])
    return {k: st.mean(v) for k, v in values.items()}


def coefficients(x, y, rng):
    tau, tau_p = stats.kendalltau(x, y)
    rho, rho_p = stats.spearmanr(x, y)
    x, y = np.asarray(x), np.asarray(y)
    boot_tau, boot_rho = [], []
    for _ in range(10000):
        i = rng.integers(0, len(x), len(x))
        if len(set(x[i])) < 3:
            continue
        boot_tau.append(stats.kendalltau(x[i], y[i])[0])
        boot_rho.append(stats.spearmanr(x[i], y[i])[0])
    ci = lambda b: f"[{np.nanpercentile(b, 2.5):.2f}, {np.nanpercentile(b, 97.5):.2f}]"
    return f"{tau:.3f} {ci(boot_tau)} (p {tau_p:.2g})", f"{rho:.3f} {ci(boot_rho)} (p {rho_p:.2g})"


rng = np.random.default_rng(0)
budgets = {"scratch": budget, "finetune": ft_budget}
print("| trained | compared with the supernet's loss | models | Kendall τ [95 % bootstrap] | Spearman ρ [95 % bootstrap] |")
print("| --- | --- | ---: | --- | --- |")
for mode in ("scratch", "finetune"):
    for key, what, sign in (("valid_loss", "validation loss", 1), ("bleu", "test BLEU (higher is better: compared as −BLEU)", -1)):
        values = per_model(mode, budgets[mode], key)
        names = sorted(n for n in values if n in supernet)
        if len(names) < 4:
            continue
        x = [supernet[n] for n in names]
        y = [sign * values[n] for n in names]
        tau, rho = coefficients(x, y, rng)
        print(f"| {mode}, {budgets[mode]} updates | {what} | {len(names)} | {tau} | {rho} |")
        with open(f"{out}/proxy-{mode}-{'loss' if key == 'valid_loss' else 'bleu'}.csv", "w") as f:
            f.write("name,supernet_loss,value\n")
            for n in names:
                f.write(f"{n},{supernet[n]:.6f},{values[n]:.6f}\n")

print()
print(f"| model | supernet loss | scratch {budget}: valid loss / BLEU | fine-tuned {ft_budget}: valid loss / BLEU | scratch {long_budget}: valid loss / BLEU |")
print("| --- | ---: | ---: | ---: | ---: |")
tables = {(m, b, k): per_model(m, b, k) for m in ("scratch", "finetune") for b in (budget, long_budget, ft_budget) for k in ("valid_loss", "bleu")}
for n in sorted(supernet, key=supernet.get):
    cell = lambda m, b: (f"{tables[(m, b, 'valid_loss')][n]:.3f} / {tables[(m, b, 'bleu')][n]:.2f}" if n in tables[(m, b, "valid_loss")] else "–")
    print(f"| {n} | {supernet[n]:.4f} | {cell('scratch', budget)} | {cell('finetune', ft_budget)} | {cell('scratch', long_budget)} |")

# Stability: do the models trained longer keep the order they had at the shorter budget?
short, long_ = tables[("scratch", budget, "valid_loss")], tables[("scratch", long_budget, "valid_loss")]
both = sorted(n for n in long_ if n in short)
if len(both) >= 2:
    order = lambda t: " < ".join(sorted(both, key=t.get))
    tau = stats.kendalltau([short[n] for n in both], [long_[n] for n in both])[0]
    print()
    print(f"Order by from-scratch validation loss, {len(both)} models: at {budget} updates {order(short)}; "
          f"at {long_budget} {order(long_)} (Kendall τ {tau:.2f}).")
