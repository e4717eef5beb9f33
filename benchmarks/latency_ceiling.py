"""How well can any predictor rank a HAT device's test split when it is trained on ALL of that
device's training rows? Few-shot adaptation aims at Spearman 0.95 per device and 0.97 on average
from 10 samples (docs/PERFORMANCE.md, few-shot adaptation); this measures the ceiling a full-data predictor reaches on random
HAT-style 8:1:1 splits (HAT shuffles without a seed, so every split is "HAT's split").
Analysis only, numpy (docs/PERFORMANCE.md, "Few-shot"):

    .venv-oracle/bin/python benchmarks/latency_ceiling.py [SPLITS]

Per WMT device and split (numpy permutation seeds 0..SPLITS-1): train on 1,600 rows, choose the
ridge penalty on the 200 validation rows, score Spearman of total latency (encoder + decoder) on
the 200 test rows. Two models: ridge on HAT's 10 features, and ridge on all their products up to
degree 2 (the better of the model families tried; gradient boosting and random forests did worse).
"""
import sys
from itertools import combinations_with_replacement

import numpy as np

DATA = "../shared/data/hat-latency/"
DEVICES = ["raspberrypi", "xeon", "titanxp"]


def spearman(a, b):
    ra, rb = np.argsort(np.argsort(a)), np.argsort(np.argsort(b))
    return np.corrcoef(ra, rb)[0, 1]


def quadratic(x):
    cols = [x] + [(x[:, i] * x[:, j])[:, None] for i, j in combinations_with_replacement(range(x.shape[1]), 2)]
    return np.hstack(cols)


def ridge_spearman(x, y, tr, va, te):
    mu, sd = x[tr].mean(0), x[tr].std(0) + 1e-12
    z = (x - mu) / sd
    z = np.hstack([z, np.ones((len(z), 1))])
    best = None
    for alpha in np.logspace(-4, 3, 15):
        reg = alpha * np.eye(z.shape[1])
        reg[-1, -1] = 0
        w = np.linalg.solve(z[tr].T @ z[tr] + reg, z[tr].T @ y[tr])
        err = np.mean((z[va] @ w - y[va]) ** 2)
        if best is None or err < best[0]:
            best = (err, w)
    return spearman(z[te] @ best[1], y[te])


def main():
    splits = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    means = {"ridge": [], "quadratic": []}
    for device in DEVICES:
        a = np.loadtxt(f"{DATA}wmt14ende_{'gpu' if device == 'titanxp' else 'cpu'}_{device}_all.csv", delimiter=",", skiprows=1)
        x, y = a[:, :10], a[:, 10] + a[:, 11]
        rows = {"ridge": [], "quadratic": []}
        for s in range(splits):
            p = np.random.RandomState(s).permutation(len(y))
            n = len(y)
            tr, va, te = p[: int(0.8 * n)], p[int(0.8 * n): int(0.9 * n)], p[int(0.9 * n):]
            rows["ridge"].append(ridge_spearman(x, y, tr, va, te))
            rows["quadratic"].append(ridge_spearman(quadratic(x), y, tr, va, te))
        for k, v in rows.items():
            v = np.array(v)
            means[k].append(v.mean())
            print(f"{device:12s} {k:9s} Spearman mean {v.mean():.4f}  min {v.min():.4f}  max {v.max():.4f}  "
                  f"splits >= 0.95: {int((v >= 0.95).sum())}/{splits}")
    for k, v in means.items():
        print(f"mean of the three devices, {k}: {np.mean(v):.4f}")


if __name__ == "__main__":
    main()
