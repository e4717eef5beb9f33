"""Independent PyTorch oracle: one HAT SubTransformer run on SuperTransformer weights.

Usage:
    python subtransformer_oracle.py IN.safetensors OUT.safetensors

Written from the project's specification (shared/docs/hat-reference.md sections
1-3 and the test brief), not from HAT's, fairseq's or the Swift code. CPU,
float32, deterministic, evaluation mode (no dropout).

INPUT (IN.safetensors)
----------------------
Metadata key "config" holds JSON:
    {"encoder_embed_dim_super": De_s, "decoder_embed_dim_super": Dd_s,
     "qkv_dim": qkv, "share_all_embeddings": bool, "padding_idx": 1,
     "label_smoothing": eps,
     "sub": {"encoder_embed_dim": de, "decoder_embed_dim": dd,
             "encoder_layer_num": Le, "decoder_layer_num": Ld,
             "encoder_ffn_embed_dim": [Le ints], "decoder_ffn_embed_dim": [Ld ints],
             "encoder_self_attention_heads": [Le ints],
             "decoder_self_attention_heads": [Ld ints],
             "decoder_ende_attention_heads": [Ld ints],
             "decoder_arbitrary_ende_attn": [Ld ints, each -1, 1 or 2]}}
Tensors: int64 `src_tokens` [B,S], `prev_output_tokens` [B,T], `target` [B,T]
(right-padded with padding_idx); every other tensor is a float32 super weight:
    embed_tokens.weight [V,D]                      (share_all_embeddings)
    encoder.embed_tokens.weight, decoder.embed_tokens.weight   (otherwise)
    encoder.layers.{i}.self_attn.{in_proj_weight [3qkv,De_s], in_proj_bias,
        out_proj.weight [De_s,qkv], out_proj.bias}, .self_attn_layer_norm.*,
        .fc1.* [Fe_s,De_s], .fc2.* [De_s,Fe_s], .final_layer_norm.*
    decoder.layers.{i}: the same with Dd_s, plus .encoder_attn.{in_proj_weight
        [3qkv, max(De_s,Dd_s)], in_proj_bias, out_proj.weight [Dd_s,qkv],
        out_proj.bias} and .encoder_attn_layer_norm.*
    decoder.embed_out [V_tgt,Dd_s]  (optional: a separate output projection;
        without it the projection is the decoder's table, tied)

SEMANTICS
---------
Weight sharing: every used tensor is the top-left corner of the super tensor.
  Linear [out_s,in_s] -> W[:out, :in], b[:out]. LayerNorm -> first d entries,
  normalised over d, eps 1e-5. Embedding table -> table[:, :d].
  Packed in-projection rows: Q [0,qkv), K [qkv,2qkv), V [2qkv,3qkv); qkv is the
  same for every subnet, so all 3*qkv rows are always used. Columns: self-
  attention the first d (own width); cross-attention Q the first dd, K and V
  the first de. out_proj -> W[:d, :qkv], b[:d]. fc1 -> W[:f,:d], fc2 -> W[:d,:f].
Attention with h heads: head size hs = qkv/h; head j uses the contiguous
  feature slice [j*hs, (j+1)*hs) of the projected Q/K/V; q = (x Wq^T + bq) *
  hs**-0.5; softmax over keys; heads concatenated back in the same order,
  then out_proj. Masks are additive -inf.
Embedding: x = sqrt(d) * table[tok, :d] + P[pos, :d], where P is the fairseq
  sinusoid of the SUPER width Dsup (De_s for the encoder, Dd_s for the decoder):
  half = Dsup//2, freq_i = exp(-ln(10000) * i / (half-1)), i < half,
  P[pos] = [sin(pos*freq), cos(pos*freq)] (all sin first, then all cos; a zero
  column is appended if Dsup is odd). pos = padding_idx + (number of non-pad
  tokens up to and including this one) for non-pad tokens, i.e. padding_idx+1,
  padding_idx+2, ... for a right-padded row; pad tokens get a zero vector.
  The token lookup is a plain row lookup (the pad row is NOT special-cased: its
  gradient is the true derivative, which is zero when pads are consistent
  with the masks, except through the tied output projection).
Encoder (layers 0..Le-1, post-norm):
  x = LN_sa(x + SelfAttn(x; key mask src_tokens==pad))
  x = LN_final(x + fc2(relu(fc1(x))))
  The output of every encoder layer is kept: E_0 .. E_{Le-1}.
Decoder (layers 0..Ld-1, post-norm), on prev_output_tokens with the decoder
  table (the shared one when shared) and width dd:
  x = LN_sa(x + SelfAttn(x; causal mask only, NO key padding mask))
  x = LN_ea(x + CrossAttn(x, M_i))
  x = LN_final(x + fc2(relu(fc1(x))))
  Arbitrary encoder-decoder attention, a = decoder_arbitrary_ende_attn[i]:
  CONVENTION (the Swift side must follow it):
      a = -1 -> M_i = E_{Le-1}
      a =  1 -> M_i = concat_S(E_{Le-1}, E_{Le-2})
      a =  2 -> M_i = concat_S(E_{Le-1}, E_{Le-2}, E_{Le-3})
  i.e. concatenated along the source-length axis, LAST encoder layer first,
  then second-to-last, then third-to-last; the source key-padding mask is
  repeated the same way ([mask, mask(, mask)]). Requires Le >= a+2 (checked).
  (Attention is invariant to the order of the key blocks, so a different
  block order on the Swift side gives the same numbers up to rounding, but use
  this one.)
No final LayerNorm on either side. No dropout.
Output projection, always tied to the decoder input table:
  logits = x_dec @ table[:, :dd]^T (no bias), V = table rows.
Loss (fairseq label-smoothed CE, summed, not averaged):
  lprobs = log_softmax(logits); nll = -lprobs[target]; smooth = -sum_v lprobs;
  both zeroed where target == padding_idx;
  loss = (1-eps) * sum(nll) + (eps/V) * sum(smooth); nll_loss = sum(nll).

OUTPUT (OUT.safetensors, written atomically via OUT + '.tmp' and os.replace)
------------------------------------------------------------------------------
  logits      [B,T,V] float32
  loss        0-dim float32
  nll_loss    0-dim float32
  grad/NAME   d loss / d NAME for EVERY float tensor NAME of IN, full super
              shape (exact zeros outside the used corner and for unused layers)
  debug/encoder_out.{i}  [B,S,de] output of used encoder layer i (debug aid)
  debug/decoder_out      [B,T,dd] final decoder hidden state (debug aid)
Prints one summary line to stdout.
"""

import json
import math
import os
import sys

import torch
import torch.nn.functional as F
from safetensors import safe_open
from safetensors.torch import save_file

torch.use_deterministic_algorithms(True)
torch.set_default_dtype(torch.float32)

LN_EPS = 1e-5
TOKEN_KEYS = ("src_tokens", "prev_output_tokens", "target")


# ----------------------------------------------------------------------------
# building blocks (all take the FULL super tensors and slice corners here)

def linear(x, W, b, out_dim, in_dim):
    """y = x @ W[:out, :in]^T + b[:out]."""
    return x @ W[:out_dim, :in_dim].t() + b[:out_dim]


def layer_norm(x, w, b, d):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)  # biased variance
    return (x - mean) / torch.sqrt(var + LN_EPS) * w[:d] + b[:d]


def sinusoid_table(num_positions, dim_super, padding_idx, dtype):
    """fairseq-style sinusoid of width dim_super; row padding_idx is zero."""
    half = dim_super // 2
    step = math.log(10000.0) / (half - 1)
    freq = torch.exp(torch.arange(half, dtype=torch.float32) * -step)
    ang = torch.arange(num_positions, dtype=torch.float32).unsqueeze(1) * freq.unsqueeze(0)
    table = torch.cat([torch.sin(ang), torch.cos(ang)], dim=1)
    if dim_super % 2 == 1:
        table = torch.cat([table, torch.zeros(num_positions, 1)], dim=1)
    table[padding_idx, :] = 0.0
    return table.to(dtype)


def embed(tokens, table, d, dim_super, padding_idx):
    """sqrt(d) * table[tok, :d] + sinusoid(pos)[:, :d]."""
    nonpad = tokens.ne(padding_idx).long()
    positions = torch.cumsum(nonpad, dim=1) * nonpad + padding_idx  # pad -> padding_idx
    num_pos = int(positions.max().item()) + 1
    pos_table = sinusoid_table(max(num_pos, padding_idx + 1), dim_super, padding_idx, table.dtype)
    tok = table[:, :d][tokens]  # plain row lookup
    return math.sqrt(d) * tok + pos_table[positions][..., :d]


def attention(q_in, kv_in, W_in, b_in, W_out, b_out, qkv, heads, d_q, d_kv, d_out,
              key_pad_mask=None, causal=False):
    """Multi-head attention on packed super in-projection corners.

    q_in [B,T,d_q], kv_in [B,S,d_kv]; key_pad_mask [B,S] bool (True = masked).
    """
    assert qkv % heads == 0, (qkv, heads)
    hs = qkv // heads
    B, T, _ = q_in.shape
    S = kv_in.shape[1]
    q = q_in @ W_in[0:qkv, :d_q].t() + b_in[0:qkv]
    k = kv_in @ W_in[qkv:2 * qkv, :d_kv].t() + b_in[qkv:2 * qkv]
    v = kv_in @ W_in[2 * qkv:3 * qkv, :d_kv].t() + b_in[2 * qkv:3 * qkv]
    q = q * (hs ** -0.5)
    q = q.view(B, T, heads, hs).transpose(1, 2)  # [B,h,T,hs]
    k = k.view(B, S, heads, hs).transpose(1, 2)  # [B,h,S,hs]
    v = v.view(B, S, heads, hs).transpose(1, 2)
    scores = q @ k.transpose(-1, -2)  # [B,h,T,S]
    mask = torch.zeros(B, 1, T, S, dtype=scores.dtype)
    if key_pad_mask is not None:
        mask = mask.masked_fill(key_pad_mask.view(B, 1, 1, S), float("-inf"))
    if causal:
        assert T == S
        fut = torch.triu(torch.ones(T, S, dtype=torch.bool), diagonal=1)
        mask = mask.masked_fill(fut.view(1, 1, T, S), float("-inf"))
    probs = torch.softmax(scores + mask, dim=-1)
    ctx = (probs @ v).transpose(1, 2).reshape(B, T, qkv)
    return linear(ctx, W_out, b_out, d_out, qkv)


# ----------------------------------------------------------------------------
# model

def forward(P, tokens, cfg):
    """P: dict name -> (leaf) super tensor. Returns logits, encoder outs, dec out."""
    sub = cfg["sub"]
    qkv = int(cfg["qkv_dim"])
    pad = int(cfg["padding_idx"])
    De_s = int(cfg["encoder_embed_dim_super"])
    Dd_s = int(cfg["decoder_embed_dim_super"])
    de = int(sub["encoder_embed_dim"])
    dd = int(sub["decoder_embed_dim"])
    Le = int(sub["encoder_layer_num"])
    Ld = int(sub["decoder_layer_num"])
    if cfg["share_all_embeddings"]:
        enc_table = dec_table = P["embed_tokens.weight"]
    else:
        enc_table = P["encoder.embed_tokens.weight"]
        dec_table = P["decoder.embed_tokens.weight"]

    src = tokens["src_tokens"]
    prev = tokens["prev_output_tokens"]
    src_pad = src.eq(pad)

    # encoder
    x = embed(src, enc_table, de, De_s, pad)
    enc_outs = []
    for i in range(Le):
        p = f"encoder.layers.{i}."
        f = int(sub["encoder_ffn_embed_dim"][i])
        h = int(sub["encoder_self_attention_heads"][i])
        a = attention(x, x, P[p + "self_attn.in_proj_weight"], P[p + "self_attn.in_proj_bias"],
                      P[p + "self_attn.out_proj.weight"], P[p + "self_attn.out_proj.bias"],
                      qkv, h, de, de, de, key_pad_mask=src_pad)
        x = layer_norm(x + a, P[p + "self_attn_layer_norm.weight"],
                       P[p + "self_attn_layer_norm.bias"], de)
        y = torch.relu(linear(x, P[p + "fc1.weight"], P[p + "fc1.bias"], f, de))
        y = linear(y, P[p + "fc2.weight"], P[p + "fc2.bias"], de, f)
        x = layer_norm(x + y, P[p + "final_layer_norm.weight"],
                       P[p + "final_layer_norm.bias"], de)
        enc_outs.append(x)

    # decoder
    x = embed(prev, dec_table, dd, Dd_s, pad)
    for i in range(Ld):
        p = f"decoder.layers.{i}."
        f = int(sub["decoder_ffn_embed_dim"][i])
        hs_ = int(sub["decoder_self_attention_heads"][i])
        he = int(sub["decoder_ende_attention_heads"][i])
        arb = int(sub["decoder_arbitrary_ende_attn"][i])
        n_blocks = {-1: 1, 1: 2, 2: 3}[arb]
        if n_blocks > Le:
            raise ValueError(f"decoder layer {i}: arbitrary attn {arb} needs {n_blocks} "
                             f"encoder layers, subnet has {Le}")
        # [last, second-to-last, third-to-last] along the source axis
        mem = torch.cat([enc_outs[Le - 1 - j] for j in range(n_blocks)], dim=1)
        mem_pad = torch.cat([src_pad] * n_blocks, dim=1)

        a = attention(x, x, P[p + "self_attn.in_proj_weight"], P[p + "self_attn.in_proj_bias"],
                      P[p + "self_attn.out_proj.weight"], P[p + "self_attn.out_proj.bias"],
                      qkv, hs_, dd, dd, dd, causal=True)
        x = layer_norm(x + a, P[p + "self_attn_layer_norm.weight"],
                       P[p + "self_attn_layer_norm.bias"], dd)
        c = attention(x, mem, P[p + "encoder_attn.in_proj_weight"],
                      P[p + "encoder_attn.in_proj_bias"],
                      P[p + "encoder_attn.out_proj.weight"], P[p + "encoder_attn.out_proj.bias"],
                      qkv, he, dd, de, dd, key_pad_mask=mem_pad)
        x = layer_norm(x + c, P[p + "encoder_attn_layer_norm.weight"],
                       P[p + "encoder_attn_layer_norm.bias"], dd)
        y = torch.relu(linear(x, P[p + "fc1.weight"], P[p + "fc1.bias"], f, dd))
        y = linear(y, P[p + "fc2.weight"], P[p + "fc2.bias"], dd, f)
        x = layer_norm(x + y, P[p + "final_layer_norm.weight"],
                       P[p + "final_layer_norm.bias"], dd)

    # The output projection: the decoder's table (tied), or fairseq's separate decoder.embed_out.
    out_table = P["decoder.embed_out"] if "decoder.embed_out" in P else dec_table
    logits = x @ out_table[:, :dd].t()
    return logits, enc_outs, x


def label_smoothed_loss(logits, target, eps, pad):
    lprobs = torch.log_softmax(logits, dim=-1)
    V = lprobs.shape[-1]
    nll = -lprobs.gather(-1, target.unsqueeze(-1)).squeeze(-1)
    smooth = -lprobs.sum(-1)
    is_pad = target.eq(pad)
    nll = nll.masked_fill(is_pad, 0.0)
    smooth = smooth.masked_fill(is_pad, 0.0)
    nll_loss = nll.sum()
    loss = (1.0 - eps) * nll_loss + (eps / V) * smooth.sum()
    return loss, nll_loss


def check_config(cfg, P):
    sub = cfg["sub"]
    for side, n in (("encoder", sub["encoder_layer_num"]), ("decoder", sub["decoder_layer_num"])):
        super_n = len({k.split(".")[2] for k in P if k.startswith(side + ".layers.")})
        if n > super_n:
            raise ValueError(f"{side}_layer_num {n} > super layers {super_n}")
    for key, n in (("encoder_ffn_embed_dim", sub["encoder_layer_num"]),
                   ("encoder_self_attention_heads", sub["encoder_layer_num"]),
                   ("decoder_ffn_embed_dim", sub["decoder_layer_num"]),
                   ("decoder_self_attention_heads", sub["decoder_layer_num"]),
                   ("decoder_ende_attention_heads", sub["decoder_layer_num"]),
                   ("decoder_arbitrary_ende_attn", sub["decoder_layer_num"])):
        if len(sub[key]) != n:
            raise ValueError(f"sub.{key} has {len(sub[key])} entries, expected {n}")
    if sub["encoder_embed_dim"] > cfg["encoder_embed_dim_super"] or \
            sub["decoder_embed_dim"] > cfg["decoder_embed_dim_super"]:
        raise ValueError("sub embed dim larger than super")


def run(tensors, cfg):
    """tensors: dict name -> tensor (as read from IN). Returns dict for OUT."""
    tokens = {k: tensors[k].long() for k in TOKEN_KEYS}
    params = {k: v.detach().clone().to(torch.float32).requires_grad_(True)
              for k, v in tensors.items() if k not in TOKEN_KEYS}
    check_config(cfg, params)
    logits, enc_outs, dec_out = forward(params, tokens, cfg)
    loss, nll_loss = label_smoothed_loss(logits, tokens["target"],
                                         float(cfg["label_smoothing"]), int(cfg["padding_idx"]))
    names = sorted(params)
    grads = torch.autograd.grad(loss, [params[n] for n in names], allow_unused=True)
    out = {
        "logits": logits.detach().contiguous(),
        "loss": loss.detach().reshape(()),
        "nll_loss": nll_loss.detach().reshape(()),
    }
    for n, g in zip(names, grads):
        out["grad/" + n] = (torch.zeros_like(params[n]) if g is None else g).detach().contiguous()
    for i, e in enumerate(enc_outs):
        out[f"debug/encoder_out.{i}"] = e.detach().contiguous()
    out["debug/decoder_out"] = dec_out.detach().contiguous()
    return out


def load(path):
    tensors = {}
    with safe_open(path, framework="pt") as f:
        meta = f.metadata() or {}
        for k in f.keys():
            tensors[k] = f.get_tensor(k)
    if "config" not in meta:
        raise ValueError(f"{path}: metadata key 'config' missing")
    return tensors, json.loads(meta["config"])


def main(argv):
    if len(argv) != 3:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    in_path, out_path = argv[1], argv[2]
    tensors, cfg = load(in_path)
    out = run(tensors, cfg)
    tmp = out_path + ".tmp"
    save_file(out, tmp)
    os.replace(tmp, out_path)
    sub = cfg["sub"]
    n_grad = sum(1 for k in out if k.startswith("grad/"))
    print(f"subtransformer_oracle: enc {sub['encoder_embed_dim']}x{sub['encoder_layer_num']} "
          f"dec {sub['decoder_embed_dim']}x{sub['decoder_layer_num']} "
          f"logits {list(out['logits'].shape)} loss {out['loss'].item():.6f} "
          f"nll {out['nll_loss'].item():.6f} grads {n_grad} -> {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
