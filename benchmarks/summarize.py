"""Turns the JSON lines of a benchmark run (stdin) into the Markdown tables of docs/PERFORMANCE.md."""
import json, sys

rows = [json.loads(l) for l in sys.stdin if l.startswith("{")]
gemm = {}
for r in rows:
    if r["bench"] == "gemm":
        gemm.setdefault((r["shape"], r.get("precision", "float32")), {})[r["impl"]] = r
if gemm:
    print("| GEMM M×N×K | products | Swift (hat) GFLOP/s | PyTorch GFLOP/s | Swift / PyTorch |")
    print("| --- | --- | ---: | ---: | ---: |")
    for (shape, precision), d in gemm.items():
        s, t = d.get("swift"), d.get("torch")
        ratio = f"{s['gflops'] / t['gflops']:.2f}×" if s and t else "–"
        cell = lambda r: f"{r['gflops']:.0f}" if r else "–"
        print(f"| {shape} | {precision} | {cell(s)} | {cell(t)} | {ratio} |")
    print()
layer = {r["impl"]: r for r in rows if r["bench"] == "encoder_layer"}
if layer:
    s, t = layer.get("swift"), layer.get("torch")
    print("| encoder layer d512 FFN2048 8 heads, 4,096 tokens | Swift (hat) ms | PyTorch ms | PyTorch / Swift (speed-up) |")
    print("| --- | ---: | ---: | ---: |")
    for key, label in [("forward_ms", "forward (no grad)"), ("forward_backward_ms", "forward + backward")]:
        print(f"| {label} | {s[key]:.1f} | {t[key]:.1f} | {t[key] / s[key]:.2f}× |")
