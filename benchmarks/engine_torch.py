"""PyTorch side of the engine benchmark (benchmarks/engine.sh): the same shapes and the same
encoder layer math as Sources/HATBenchmarks/main.swift, printed as JSON lines."""
import json, sys, time
import torch
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)

def median_ms(fn, repeats, warmup=2):
    for _ in range(warmup):
        fn()
    xs = []
    for _ in range(repeats):
        t = time.perf_counter(); fn(); xs.append((time.perf_counter() - t) * 1e3)
    return sorted(xs)[len(xs) // 2]

def gemm():
    # The shapes and layouts of Sources/HATBenchmarks/main.swift: nn a·b, nt a·bᵀ (x·Wᵀ), tn aᵀ·b (gᵀ·x).
    shapes = [(4096, 3072, 640, "nn"), (4096, 2048, 512, "nt"), (4096, 512, 2048, "nn"), (2048, 512, 4096, "tn"),
              (160, 2048, 512, "nt"), (5, 512, 512, "nn"), (5, 2048, 512, "nn")]
    for m, n, k, layout in shapes:
        a = torch.randn(k, m).t() if layout == "tn" else torch.randn(m, k)
        b = torch.randn(n, k).t() if layout == "nt" else torch.randn(k, n)
        reps = 10 if m * n * k > 100_000_000 else 200
        ms = median_ms(lambda: a @ b, reps)
        print(json.dumps({"bench": "gemm", "shape": f"{m}x{n}x{k}", "layout": layout, "impl": "torch", "ms": ms,
                          "precision": "float32", "gflops": 2 * m * n * k / (ms * 1e6)}))
        if m > 5:
            # As hat's bf16 rows: float32 operands, products in bfloat16 under autocast (conversion included).
            def autocast_product():
                with torch.autocast("cpu", dtype=torch.bfloat16):
                    return a @ b
            ms = median_ms(autocast_product, reps)
            print(json.dumps({"bench": "gemm", "shape": f"{m}x{n}x{k}", "layout": layout, "impl": "torch", "ms": ms,
                              "precision": "bfloat16", "gflops": 2 * m * n * k / (ms * 1e6)}))

def encoder_layer():
    d, ffn, H = 512, 2048, 8
    hd = d // H
    p = {
        "wIn": torch.randn(3 * d, d) * 0.02, "bIn": torch.zeros(3 * d),
        "wOut": torch.randn(d, d) * 0.02, "bOut": torch.zeros(d),
        "ln1w": torch.ones(d), "ln1b": torch.zeros(d),
        "w1": torch.randn(ffn, d) * 0.02, "b1": torch.zeros(ffn),
        "w2": torch.randn(d, ffn) * 0.02, "b2": torch.zeros(d),
        "ln2w": torch.ones(d), "ln2b": torch.zeros(d),
    }
    for t in p.values():
        t.requires_grad_(True)
    x = torch.randn(128, 32, d, requires_grad=True)
    dy = torch.randn(128, 32, d)

    def layer(x):
        B, T, _ = x.shape
        qkv = F.linear(x, p["wIn"], p["bIn"])
        q, k, v = (t.reshape(B, T, H, hd).permute(0, 2, 1, 3) for t in qkv.split(d, -1))
        attn = torch.softmax((q * hd ** -0.5) @ k.transpose(-1, -2), -1)
        ctx = (attn @ v).permute(0, 2, 1, 3).reshape(B, T, d)
        h = F.layer_norm(x + F.linear(ctx, p["wOut"], p["bOut"]), (d,), p["ln1w"], p["ln1b"])
        f = F.linear(torch.relu(F.linear(h, p["w1"], p["b1"])), p["w2"], p["b2"])
        return F.layer_norm(h + f, (d,), p["ln2w"], p["ln2b"])

    def fwd():
        with torch.no_grad():
            layer(x)

    def step():
        (layer(x) * dy).sum().backward()
        for t in list(p.values()) + [x]:
            t.grad = None

    print(json.dumps({"bench": "encoder_layer", "shape": "d512_ffn2048_h8_4096tok", "impl": "torch",
                      "forward_ms": median_ms(fwd, 10), "forward_backward_ms": median_ms(step, 10)}))

which = sys.argv[1] if len(sys.argv) > 1 else "all"
if which in ("gemm", "all"):
    gemm()
if which in ("encoder-layer", "all"):
    encoder_layer()
