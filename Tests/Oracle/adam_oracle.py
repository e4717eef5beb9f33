"""Independent oracle for the Adam optimizer: torch.optim.AdamW (decoupled weight decay, the
update fairseq's `adam` applies). IN holds parameters `param.NAME` and their gradients
`grad.NAME.K` for steps K = 0 ..< metadata `steps`; a missing gradient means the parameter had
none that step (p.grad = None, as after fairseq's zero_grad): AdamW skips it, its own step count
included. Metadata also gives lr, beta1, beta2, eps, weight_decay. OUT holds
`param.NAME.after.K` after each step.

usage: adam_oracle.py IN.safetensors OUT.safetensors"""
import os, sys
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

src, dst = sys.argv[1], sys.argv[2]
tensors = load_file(src)
with safe_open(src, "pt") as f:
    meta = f.metadata()
names = sorted(k[len("param."):] for k in tensors if k.startswith("param."))
params = {n: tensors[f"param.{n}"].clone().requires_grad_() for n in names}
opt = torch.optim.AdamW([params[n] for n in names], lr=float(meta["lr"]),
                        betas=(float(meta["beta1"]), float(meta["beta2"])),
                        eps=float(meta["eps"]), weight_decay=float(meta["weight_decay"]))
out = {}
steps = int(meta["steps"])
for k in range(steps):
    opt.zero_grad(set_to_none=True)
    for n in names:
        g = tensors.get(f"grad.{n}.{k}")
        params[n].grad = None if g is None else g.clone()
    opt.step()
    for n in names:
        out[f"param.{n}.after.{k}"] = params[n].detach().clone()
save_file(out, dst + ".tmp")
os.replace(dst + ".tmp", dst)
print(f"{steps} steps, {len(names)} parameters")
