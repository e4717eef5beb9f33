"""Independent oracle for the Adam optimizer: torch.optim.AdamW (decoupled weight decay, the
update fairseq's `adam` applies). IN holds `param` and gradients `grad.0`, `grad.1`, ...;
metadata gives lr, beta1, beta2, eps, weight_decay. OUT holds `param.after.K` after each step.

usage: adam_oracle.py IN.safetensors OUT.safetensors"""
import os, sys, json
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

src, dst = sys.argv[1], sys.argv[2]
tensors = load_file(src)
with safe_open(src, "pt") as f:
    meta = f.metadata()
p = tensors["param"].clone().requires_grad_()
opt = torch.optim.AdamW([p], lr=float(meta["lr"]), betas=(float(meta["beta1"]), float(meta["beta2"])),
                        eps=float(meta["eps"]), weight_decay=float(meta["weight_decay"]))
out = {}
k = 0
while f"grad.{k}" in tensors:
    p.grad = tensors[f"grad.{k}"].clone()
    opt.step()
    out[f"param.after.{k}"] = p.detach().clone()
    k += 1
save_file(out, dst + ".tmp")
os.replace(dst + ".tmp", dst)
print(f"{k} steps")
