"""Rank-correlation oracle for the latency metrics: reads JSON {"x": [...], "y": [...]} pairs from
argv files and prints scipy's Spearman rho (average ranks for ties) and Kendall tau-b, one line
per file. Test-time only (Tests/LatencyTests/MetricsTests.swift)."""
import json
import sys

from scipy.stats import kendalltau, spearmanr

for path in sys.argv[1:]:
    with open(path) as f:
        case = json.load(f)
    rho = spearmanr(case["x"], case["y"])[0]
    tau = kendalltau(case["x"], case["y"], variant="b")[0]
    print(json.dumps({"spearman": float(rho), "kendall": float(tau)}))
