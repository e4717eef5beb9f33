"""HAT's latency method in PyTorch on a SubTransformer YAML, for `hat latency measure|dataset --command`.

Builds the SubTransformer of a HAT YAML with random weights (latency does not depend on their
values) as contiguous fairseq-style weights (torch_subtransformer.SubModel), then times, with
torch.no_grad():
  - encoder: one forward of one sentence of LENGTH tokens (batch 1);
  - decoder: the cross-attention K/V projection and LENGTH incremental steps over BEAM rows,
    each step ending in the log-softmax over the target vocabulary, an argmax per row and a
    fairseq-style reorder of the self-attention caches (index_select by the surviving rows);
WARMUP untimed runs, ITERATIONS timed ones, the fastest and slowest 10 % dropped, mean in ms.

--device cuda is HAT's --latgpu: the model and every tensor on the GPU, torch.cuda.synchronize()
before each clock reading, so a time covers the GPU's work and not only its launch. Without a
usable GPU it stops with one line on stderr and exit status 2; it never measures on the CPU
instead.

usage: torch_latency.py SUB.yml [--space SPACE.yml | --qkv 512] --src-vocab N --tgt-vocab M
       [--length 30] [--beam 5] [--iterations 20] [--warmup 5] [--threads 1] [--device cpu|cuda] [--plain]
Prints one JSON line, or with --plain "ENCODER_MS DECODER_MS" (what `hat latency ...
--command-output encoder-decoder` reads); measurers/torch_measure.sh wraps it.
"""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from torch_subtransformer import EOS, SubModel, parse_hat_yaml, random_weights, sub_config  # noqa: E402

DEVICES = ("cpu", "cuda")


class DeviceUnavailable(Exception):
    pass


def trimmed_mean(xs):
    xs = sorted(xs)
    k = len(xs) // 10
    xs = xs[k:len(xs) - k] if len(xs) > 2 * k else xs
    return sum(xs) / len(xs)


def check_device(device):
    """Raises DeviceUnavailable with the reason when `device` cannot run here."""
    if device not in DEVICES:
        raise DeviceUnavailable(f"device '{device}' is not one of: {', '.join(DEVICES)}")
    if device == "cuda" and not torch.cuda.is_available():
        reason = ("this PyTorch is built without CUDA" if torch.version.cuda is None
                  else f"PyTorch (CUDA {torch.version.cuda}) finds no usable GPU")
        raise DeviceUnavailable(f"device 'cuda' (HAT's --latgpu) is not available: {reason} "
                                f"(torch {torch.__version__}); use a machine with an NVIDIA GPU and a CUDA build of "
                                f"PyTorch, or device 'cpu'")


def measure(cfg, qkv, src_vocab, tgt_vocab, length, beam, iterations, warmup, device="cpu"):
    """(encoder ms, decoder ms): trimmed means of HAT's method on `cfg` (sub_config) with random weights."""
    check_device(device)
    P, state = random_weights(cfg, qkv, src_vocab, tgt_vocab)
    model = SubModel.from_weights(P, state, cfg, device=device)
    del P
    dev = torch.device(device)
    # On a GPU the clock is read only after the GPU has finished the work queued before it.
    sync = torch.cuda.synchronize if dev.type == "cuda" else (lambda: None)
    g = torch.Generator().manual_seed(1)
    src = torch.randint(4, src_vocab, (1, length), generator=g)
    src[0, -1] = EOS
    src = src.to(dev)
    rows = torch.arange(beam, device=dev)
    enc_t, dec_t = [], []
    with torch.no_grad():
        for it in range(warmup + iterations):
            sync()
            t0 = time.perf_counter()
            outs, pad = model.encode(src)
            sync()
            t1 = time.perf_counter()
            outs = [o.expand(beam, -1, -1) for o in outs]
            cross = model.cross_states(outs, pad.expand(beam, -1))
            cache = [None] * len(model.dec_layers)
            tokens = torch.full((beam,), EOS, dtype=torch.long, device=dev)
            for step in range(length):
                lp = model.decode_step(tokens, step, cache, cross)
                tokens = lp.argmax(dim=-1)
                cache = [(k.index_select(0, rows), v.index_select(0, rows)) for k, v in cache]
            sync()
            t2 = time.perf_counter()
            if it >= warmup:
                enc_t.append((t1 - t0) * 1e3)
                dec_t.append((t2 - t1) * 1e3)
    return trimmed_mean(enc_t), trimmed_mean(dec_t)


def space_qkv(path):
    """The qkv-dim of a HAT search space YAML (HAT: 512 when the file has none)."""
    return int(parse_hat_yaml(path).get("qkv-dim", 512))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("subtransformer")
    ap.add_argument("--space", help="search space YAML: its qkv-dim (overrides --qkv)")
    ap.add_argument("--qkv", type=int, default=512, help="qkv-dim of the space (HAT: 512)")
    ap.add_argument("--src-vocab", type=int, required=True)
    ap.add_argument("--tgt-vocab", type=int, required=True)
    ap.add_argument("--length", type=int, default=30)
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--iterations", type=int, default=20)
    ap.add_argument("--warmup", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="cpu", help="cpu, or cuda (HAT's --latgpu)")
    ap.add_argument("--plain", action="store_true", help="print 'ENCODER_MS DECODER_MS' (hat latency --command-output encoder-decoder)")
    a = ap.parse_args(argv)
    if a.iterations < 1 or a.warmup < 0 or a.length < 1 or a.beam < 1 or a.threads < 1:
        ap.error("--iterations, --length, --beam and --threads must be at least 1, --warmup at least 0")
    if min(a.src_vocab, a.tgt_vocab) < 5:
        ap.error("a vocabulary holds the 4 special tokens and at least one more")
    try:
        check_device(a.device)
    except DeviceUnavailable as e:
        print(f"torch_latency: {e}", file=sys.stderr)
        return 2
    torch.set_num_threads(a.threads)
    qkv = space_qkv(a.space) if a.space else a.qkv
    cfg = sub_config(parse_hat_yaml(a.subtransformer))
    e, d = measure(cfg, qkv, a.src_vocab, a.tgt_vocab, a.length, a.beam, a.iterations, a.warmup, a.device)
    if a.plain:
        print(f"{e:.4f} {d:.4f}")
        return 0
    print(json.dumps({"impl": "torch", "subtransformer": os.path.basename(a.subtransformer), "encoder_ms": round(e, 3),
                      "decoder_ms": round(d, 3), "total_ms": round(e + d, 3), "threads": a.threads,
                      "device": a.device, "runtime": f"torch {torch.__version__}"}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
