"""HAT's latency method (hat-reference.md §6) in PyTorch, for `hat latency measure` side by side.

The measurement is measurers/torch_latency.py's (the `--command` measurer shipped with hat):
the SubTransformer of a HAT YAML with random weights as contiguous fairseq-style weights
(measurers/torch_subtransformer.py), timed with torch.no_grad():
  - encoder: one forward of one sentence of LENGTH tokens (batch 1);
  - decoder: the cross-attention K/V projection and LENGTH incremental steps over BEAM rows,
    each step ending in the log-softmax over the target vocabulary and a fairseq-style reorder of
    the self-attention caches (index_select by the surviving rows);
WARMUP untimed runs, ITERATIONS timed ones, the fastest and slowest 10 % dropped, mean in ms.
usage: latency_torch.py SUB.yml --src-vocab N --tgt-vocab M [--length 23] [--beam 5]
       [--iterations 20] [--warmup 5] [--threads 1] [--qkv 512]
Prints one JSON line: {"impl": "torch", "encoder_ms", "decoder_ms", "total_ms", "threads"}.
"""
import argparse, json, os, sys
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "measurers"))
from torch_latency import measure  # noqa: E402
from torch_subtransformer import parse_hat_yaml, sub_config  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("subtransformer")
    ap.add_argument("--src-vocab", type=int, required=True)
    ap.add_argument("--tgt-vocab", type=int, required=True)
    ap.add_argument("--length", type=int, default=23)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--qkv", type=int, default=512, help="qkv-dim of the space (HAT: 512)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = sub_config(parse_hat_yaml(a.subtransformer))
    e, dms = measure(cfg, a.qkv, a.src_vocab, a.tgt_vocab, a.length, a.beam, a.iterations, a.warmup)
    print(json.dumps({"impl": "torch", "subtransformer": os.path.basename(a.subtransformer), "encoder_ms": round(e, 3),
                      "decoder_ms": round(dms, 3), "total_ms": round(e + dms, 3), "threads": a.threads}))


if __name__ == "__main__":
    main()
