"""Independent oracle for the bfloat16 products (Sources/CKernels/bf16_gemm.c): PyTorch's own
float32 → bfloat16 conversion (round to nearest, ties to even) and a float64 product of the
operands PyTorch rounded.

IN holds `values` (any floats to round) and, per case N, `a.N` [M, K] and `b.N` [K, N] (already
laid out logically; the Swift test reads them through strided windows). OUT holds
`rounded` = bfloat16(values) as float32 and `product.N` = float64(bf16(a) @ bf16(b)) as float32.

usage: bf16_oracle.py IN.safetensors OUT.safetensors"""
import sys
import torch
from safetensors.torch import load_file, save_file

tensors = load_file(sys.argv[1])
out = {"rounded": tensors["values"].to(torch.bfloat16).to(torch.float32)}
for name in tensors:
    if name.startswith("a."):
        case = name[2:]
        a = tensors[name].to(torch.bfloat16).to(torch.float64)
        b = tensors["b." + case].to(torch.bfloat16).to(torch.float64)
        out["product." + case] = (a @ b).to(torch.float32)
save_file(out, sys.argv[2])
