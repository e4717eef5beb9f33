"""HAT's latency method (hat-reference.md §6) in PyTorch, for `hat latency measure` side by side.

Builds the SubTransformer of a HAT YAML with random weights (latency does not depend on their
values) as contiguous fairseq-style weights (translate_torch.SubModel: packed QKV, F.linear,
F.layer_norm, cached self-attention K/V appended per step, cross-attention K/V computed once),
then times, with torch.no_grad():
  - encoder: one forward of one sentence of LENGTH tokens (batch 1);
  - decoder: the cross-attention K/V projection and LENGTH incremental steps over BEAM rows,
    each step ending in the log-softmax over the target vocabulary and a fairseq-style reorder of
    the self-attention caches (index_select by the surviving rows);
WARMUP untimed runs, ITERATIONS timed ones, the fastest and slowest 10 % dropped, mean in ms.
usage: latency_torch.py SUB.yml --src-vocab N --tgt-vocab M [--length 23] [--beam 5]
       [--iterations 20] [--warmup 5] [--threads 1] [--qkv 512]
Prints one JSON line: {"impl": "torch", "encoder_ms", "decoder_ms", "total_ms", "threads"}.
"""
import argparse, json, os, sys, tempfile, time
import torch
from safetensors.torch import save_file

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from translate_torch import SubModel, parse_hat_yaml, sub_config, PAD, EOS  # noqa: E402


def random_checkpoint(cfg, qkv, vs, vt, path):
    g = torch.Generator().manual_seed(0)
    r = lambda *shape: torch.randn(*shape, generator=g) * 0.02
    de, dd = cfg["de"], cfg["dd"]
    P = {"encoder.embed_tokens.weight": r(vs, de), "decoder.embed_tokens.weight": r(vt, dd)}
    for i in range(cfg["Le"]):
        p, f = f"encoder.layers.{i}.", cfg["enc_ffn"][i]
        P.update({p + "self_attn.in_proj_weight": r(3 * qkv, de), p + "self_attn.in_proj_bias": r(3 * qkv),
                  p + "self_attn.out_proj.weight": r(de, qkv), p + "self_attn.out_proj.bias": r(de),
                  p + "self_attn_layer_norm.weight": 1 + r(de), p + "self_attn_layer_norm.bias": r(de),
                  p + "fc1.weight": r(f, de), p + "fc1.bias": r(f), p + "fc2.weight": r(de, f), p + "fc2.bias": r(de),
                  p + "final_layer_norm.weight": 1 + r(de), p + "final_layer_norm.bias": r(de)})
    for i in range(cfg["Ld"]):
        p, f = f"decoder.layers.{i}.", cfg["dec_ffn"][i]
        P.update({p + "self_attn.in_proj_weight": r(3 * qkv, dd), p + "self_attn.in_proj_bias": r(3 * qkv),
                  p + "self_attn.out_proj.weight": r(dd, qkv), p + "self_attn.out_proj.bias": r(dd),
                  p + "self_attn_layer_norm.weight": 1 + r(dd), p + "self_attn_layer_norm.bias": r(dd),
                  p + "encoder_attn.in_proj_weight": r(3 * qkv, max(dd, de)), p + "encoder_attn.in_proj_bias": r(3 * qkv),
                  p + "encoder_attn.out_proj.weight": r(dd, qkv), p + "encoder_attn.out_proj.bias": r(dd),
                  p + "encoder_attn_layer_norm.weight": 1 + r(dd), p + "encoder_attn_layer_norm.bias": r(dd),
                  p + "fc1.weight": r(f, dd), p + "fc1.bias": r(f), p + "fc2.weight": r(dd, f), p + "fc2.bias": r(dd),
                  p + "final_layer_norm.weight": 1 + r(dd), p + "final_layer_norm.bias": r(dd)})
    space = {"qkvDim": qkv, "encoderEmbedDim": de, "decoderEmbedDim": dd, "encoderLayers": cfg["Le"],
             "decoderLayers": cfg["Ld"], "shareAllEmbeddings": False}
    save_file({"model." + k: v.contiguous() for k, v in P.items()}, path, metadata={"state": json.dumps({"space": space})})


def trimmed_mean(xs):
    xs = sorted(xs)
    k = len(xs) // 10
    xs = xs[k:len(xs) - k] if len(xs) > 2 * k else xs
    return sum(xs) / len(xs)


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
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "random.safetensors")
        random_checkpoint(cfg, a.qkv, a.src_vocab, a.tgt_vocab, path)
        model = SubModel(path, cfg)
    g = torch.Generator().manual_seed(1)
    src = torch.randint(4, a.src_vocab, (1, a.length), generator=g)
    src[0, -1] = EOS
    rows = torch.arange(a.beam)
    enc_t, dec_t = [], []
    with torch.no_grad():
        for it in range(a.warmup + a.iterations):
            t0 = time.perf_counter()
            outs, pad = model.encode(src)
            t1 = time.perf_counter()
            outs = [o.expand(a.beam, -1, -1) for o in outs]
            cross = model.cross_states(outs, pad.expand(a.beam, -1))
            cache = [None] * len(model.dec_layers)
            tokens = torch.full((a.beam,), EOS, dtype=torch.long)
            for step in range(a.length):
                lp = model.decode_step(tokens, step, cache, cross)
                tokens = lp.argmax(dim=-1)
                cache = [(k.index_select(0, rows), v.index_select(0, rows)) for k, v in cache]
            t2 = time.perf_counter()
            if it >= a.warmup:
                enc_t.append((t1 - t0) * 1e3)
                dec_t.append((t2 - t1) * 1e3)
    e, dms = trimmed_mean(enc_t), trimmed_mean(dec_t)
    print(json.dumps({"impl": "torch", "subtransformer": os.path.basename(a.subtransformer), "encoder_ms": round(e, 3),
                      "decoder_ms": round(dms, 3), "total_ms": round(e + dms, 3), "threads": a.threads}))


if __name__ == "__main__":
    main()
