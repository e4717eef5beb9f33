"""Logits of SubTransformers of a HAT/fairseq checkpoint, computed by PyTorch from the .pt file itself.

Usage: hat_checkpoint_logits_oracle.py CHECKPOINT.pt REQUEST.json OUT.safetensors

REQUEST.json: {"subs": [SUB, ...], "src_tokens": [[...]], "prev_output_tokens": [[...]]} with SUB as
subtransformer_oracle.py's "sub" object. The checkpoint is loaded with torch.load (the fairseq meter
classes are stand-ins of that name), its `model` state dict mapped to subtransformer_oracle.py's weight
names (a shared table once, as embed_tokens.weight; version and positional placeholders dropped) and
its `args` to the super sizes; every SUB is run in float32 (float16 files are converted), and OUT gets
`logits/I` [B, T, V] for SUB number I. Independent of the Swift import: only torch and the oracle model.
"""
import json, os, sys, types

import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import subtransformer_oracle as oracle  # noqa: E402

fairseq = types.ModuleType("fairseq"); meters = types.ModuleType("fairseq.meters")
for name in ("AverageMeter", "StopwatchMeter", "TimeMeter"):
    setattr(meters, name, type(name, (), {"__module__": "fairseq.meters"}))
fairseq.meters = meters
sys.modules["fairseq"] = fairseq; sys.modules["fairseq.meters"] = meters

ckpt_path, request_path, out_path = sys.argv[1:4]
ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
args = vars(ckpt["args"])
request = json.load(open(request_path))
P = {}
for k, v in ckpt["model"].items():
    if k.endswith(".version") or k.endswith("._float_tensor"):
        continue
    P[k] = v.float()
if args["share_all_embeddings"]:
    P["embed_tokens.weight"] = P.pop("encoder.embed_tokens.weight")
    P.pop("decoder.embed_tokens.weight", None)
tokens = {"src_tokens": torch.tensor(request["src_tokens"]), "prev_output_tokens": torch.tensor(request["prev_output_tokens"])}
tokens["target"] = tokens["prev_output_tokens"]
out = {}
for i, sub in enumerate(request["subs"]):
    cfg = {"encoder_embed_dim_super": args["encoder_embed_dim"], "decoder_embed_dim_super": args["decoder_embed_dim"],
           "qkv_dim": args["qkv_dim"], "share_all_embeddings": args["share_all_embeddings"], "padding_idx": 1,
           "label_smoothing": 0.0, "sub": sub}
    with torch.no_grad():
        logits, _, _ = oracle.forward({k: v.clone() for k, v in P.items()}, tokens, cfg)
    out[f"logits/{i}"] = logits.contiguous()
save_file(out, out_path + ".tmp")
os.replace(out_path + ".tmp", out_path)
print(json.dumps({"subs": len(request["subs"]), "logits": list(out["logits/0"].shape)}))
