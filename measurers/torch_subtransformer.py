"""A HAT SubTransformer in PyTorch, fairseq-style: what the PyTorch measurer and benchmarks run.

The SubTransformer of a HAT YAML as contiguous corner weights (what a fairseq export of the
subnet would hold): packed QKV, F.linear, F.layer_norm, post-norm layers, arbitrary
encoder-decoder attention (the last encoder layers concatenated, last first), tied output
projection, self-attention K/V appended per incremental step and cross-attention K/V computed
once. Semantics follow Tests/Oracle/subtransformer_oracle.py and hat-reference.md sections 1-3.

Used by measurers/torch_latency.py (HAT's latency method) and by benchmarks/translate_torch.py
(beam search), benchmarks/latency_torch.py (the latency benchmark).
"""
import ast
import json
import math

import torch
import torch.nn.functional as F

PAD, BOS, EOS, UNK = 1, 0, 2, 3
LN_EPS = 1e-5
MAX_POSITIONS = 1024  # as hat's SinusoidalPositions; max length is capped at MAX_POSITIONS - 1


# ----------------------------------------------------------------------------- config

def parse_hat_yaml(path):
    """Tiny parser for HAT YAML files: `key: value` lines, values int/float/bool/[list]/(tuple)."""
    out = {}
    with open(path) as f:
        for raw in f:
            line = raw.split("#", 1)[0].strip()
            if not line or ":" not in line:
                continue
            key, val = line.split(":", 1)
            key, val = key.strip(), val.strip()
            if val.lower() in ("true", "false"):
                out[key] = val.lower() == "true"
                continue
            try:
                out[key] = ast.literal_eval(val)
            except (ValueError, SyntaxError):
                out[key] = val
    return out


def sub_config(yml):
    def ints(key):
        v = yml[key]
        return [int(x) for x in (v if isinstance(v, (list, tuple)) else [v])]
    c = {
        "de": int(yml["encoder-embed-dim-subtransformer"]),
        "dd": int(yml["decoder-embed-dim-subtransformer"]),
        "Le": int(yml["encoder-layer-num-subtransformer"]),
        "Ld": int(yml["decoder-layer-num-subtransformer"]),
        "enc_ffn": ints("encoder-ffn-embed-dim-all-subtransformer"),
        "dec_ffn": ints("decoder-ffn-embed-dim-all-subtransformer"),
        "enc_heads": ints("encoder-self-attention-heads-all-subtransformer"),
        "dec_heads": ints("decoder-self-attention-heads-all-subtransformer"),
        "ende_heads": ints("decoder-ende-attention-heads-all-subtransformer"),
        "arb": ints("decoder-arbitrary-ende-attn-all-subtransformer"),
    }
    # HAT files may list values for all super layers; only the first n are used.
    for k, n in (("enc_ffn", "Le"), ("enc_heads", "Le"), ("dec_ffn", "Ld"), ("dec_heads", "Ld"),
                 ("ende_heads", "Ld"), ("arb", "Ld")):
        if len(c[k]) < c[n]:
            raise ValueError(f"{k}: {len(c[k])} entries for {c[n]} layers")
        c[k] = c[k][:c[n]]
    return c


# ----------------------------------------------------------------------------- model

def random_weights(cfg, qkv, src_vocab, tgt_vocab, seed=0):
    """Random weights of exactly the SubTransformer's size (latency does not depend on their
    values): (tensors for SubModel.from_weights, state). Two embedding tables, as without
    shared embeddings; the decoder's is also the output projection either way."""
    g = torch.Generator().manual_seed(seed)
    r = lambda *shape: torch.randn(*shape, generator=g) * 0.02
    de, dd = cfg["de"], cfg["dd"]
    P = {"encoder.embed_tokens.weight": r(src_vocab, de), "decoder.embed_tokens.weight": r(tgt_vocab, dd)}
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
    return P, {"space": space}


def sinusoid(num_positions, dim_super):
    """fairseq sinusoid of the SUPER width (all sin, then all cos); row PAD is zero."""
    half = dim_super // 2
    step = math.log(10000.0) / (half - 1)
    freq = torch.exp(torch.arange(half, dtype=torch.float32) * -step)
    ang = torch.arange(num_positions, dtype=torch.float32).unsqueeze(1) * freq.unsqueeze(0)
    t = torch.cat([torch.sin(ang), torch.cos(ang)], dim=1)
    if dim_super % 2 == 1:
        t = torch.cat([t, torch.zeros(num_positions, 1)], dim=1)
    t[PAD] = 0.0
    return t


class SubModel:
    """Contiguous corner weights of one SubTransformer."""

    def __init__(self, ckpt_path, cfg, device="cpu"):
        """From a `hat` checkpoint (safetensors, tensors `model.<name>`, metadata `state`)."""
        from safetensors import safe_open  # only checkpoints need it; random weights do not

        with safe_open(ckpt_path, framework="pt") as f:
            meta = f.metadata() or {}
            state = json.loads(meta["state"])
            P = {k[len("model."):]: f.get_tensor(k).float() for k in f.keys() if k.startswith("model.")}
        self._build(P, state, cfg, device)

    @classmethod
    def from_weights(cls, P, state, cfg, device="cpu"):
        """From a dict of SuperTransformer-named tensors (no `model.` prefix) and a `state` with its `space`."""
        model = cls.__new__(cls)
        model._build(P, state, cfg, device)
        return model

    def _build(self, P, state, cfg, device):
        space = state["space"]
        self.state = state
        self.cfg = cfg
        self.device = torch.device(device)
        self.qkv = qkv = int(space["qkvDim"])
        de, dd, Le, Ld = cfg["de"], cfg["dd"], cfg["Le"], cfg["Ld"]
        if de > space["encoderEmbedDim"] or dd > space["decoderEmbedDim"]:
            raise ValueError("sub embed dim larger than super")
        if Le > space["encoderLayers"] or Ld > space["decoderLayers"]:
            raise ValueError("sub layer count larger than super")
        for i, a in enumerate(cfg["arb"]):
            if {-1: 1, 1: 2, 2: 3}[a] > Le:
                raise ValueError(f"decoder layer {i}: arbitrary attention {a} needs more encoder layers")
        c = lambda t: t.to(self.device).contiguous().clone()
        if space.get("shareAllEmbeddings"):
            enc_table = dec_table = P["embed_tokens.weight"]
        else:
            enc_table, dec_table = P["encoder.embed_tokens.weight"], P["decoder.embed_tokens.weight"]
        self.enc_embed = c(enc_table[:, :de])
        self.dec_embed = c(dec_table[:, :dd])  # also the tied output projection
        self.enc_pos = c(sinusoid(MAX_POSITIONS + PAD + 1, int(space["encoderEmbedDim"]))[:, :de])
        self.dec_pos = c(sinusoid(MAX_POSITIONS + PAD + 1, int(space["decoderEmbedDim"]))[:, :dd])
        self.enc_scale, self.dec_scale = math.sqrt(de), math.sqrt(dd)

        def lin(p, out_dim, in_dim):
            return c(P[p + ".weight"][:out_dim, :in_dim]), c(P[p + ".bias"][:out_dim])

        def ln(p, d):
            return c(P[p + ".weight"][:d]), c(P[p + ".bias"][:d])

        self.enc_layers = []
        for i in range(Le):
            p = f"encoder.layers.{i}."
            f = cfg["enc_ffn"][i]
            L = {"heads": cfg["enc_heads"][i]}
            L["in_w"] = c(P[p + "self_attn.in_proj_weight"][:, :de])
            L["in_b"] = c(P[p + "self_attn.in_proj_bias"])
            L["out_w"], L["out_b"] = lin(p + "self_attn.out_proj", de, qkv)
            L["ln1"] = ln(p + "self_attn_layer_norm", de)
            L["fc1"] = lin(p + "fc1", f, de)
            L["fc2"] = lin(p + "fc2", de, f)
            L["ln2"] = ln(p + "final_layer_norm", de)
            self.enc_layers.append(L)
        self.dec_layers = []
        for i in range(Ld):
            p = f"decoder.layers.{i}."
            f = cfg["dec_ffn"][i]
            L = {"heads": cfg["dec_heads"][i], "xheads": cfg["ende_heads"][i],
                 "blocks": {-1: 1, 1: 2, 2: 3}[cfg["arb"][i]]}
            L["in_w"] = c(P[p + "self_attn.in_proj_weight"][:, :dd])
            L["in_b"] = c(P[p + "self_attn.in_proj_bias"])
            L["out_w"], L["out_b"] = lin(p + "self_attn.out_proj", dd, qkv)
            L["ln1"] = ln(p + "self_attn_layer_norm", dd)
            xw, xb = P[p + "encoder_attn.in_proj_weight"], P[p + "encoder_attn.in_proj_bias"]
            L["xq_w"], L["xq_b"] = c(xw[:qkv, :dd]), c(xb[:qkv])
            L["xkv_w"], L["xkv_b"] = c(xw[qkv:, :de]), c(xb[qkv:])
            L["xout_w"], L["xout_b"] = lin(p + "encoder_attn.out_proj", dd, qkv)
            L["ln3"] = ln(p + "encoder_attn_layer_norm", dd)
            L["fc1"] = lin(p + "fc1", f, dd)
            L["fc2"] = lin(p + "fc2", dd, f)
            L["ln2"] = ln(p + "final_layer_norm", dd)
            self.dec_layers.append(L)
        del P

    # --- encoder: src [B,S] right-padded -> list of layer outputs [B,S,de], pad mask [B,S]
    def encode(self, src):
        de, qkv = self.cfg["de"], self.qkv
        B, S = src.shape
        pad_mask = src.eq(PAD)
        nonpad = (~pad_mask).long()
        positions = torch.cumsum(nonpad, dim=1) * nonpad + PAD
        x = self.enc_scale * F.embedding(src, self.enc_embed) + F.embedding(positions, self.enc_pos)
        add_mask = torch.zeros(B, 1, 1, S, device=src.device).masked_fill(pad_mask.view(B, 1, 1, S), float("-inf"))
        outs = []
        for L in self.enc_layers:
            h = L["heads"]
            hs = qkv // h
            proj = F.linear(x, L["in_w"], L["in_b"])
            q, k, v = proj.split(qkv, dim=-1)
            q = (q * hs ** -0.5).view(B, S, h, hs).transpose(1, 2)
            k = k.view(B, S, h, hs).transpose(1, 2)
            v = v.view(B, S, h, hs).transpose(1, 2)
            p = torch.softmax(torch.matmul(q, k.transpose(-1, -2)) + add_mask, dim=-1)
            a = torch.matmul(p, v).transpose(1, 2).reshape(B, S, qkv)
            a = F.linear(a, L["out_w"], L["out_b"])
            x = F.layer_norm(x + a, (de,), *L["ln1"], eps=LN_EPS)
            y = F.linear(F.relu(F.linear(x, *L["fc1"])), *L["fc2"])
            x = F.layer_norm(x + y, (de,), *L["ln2"], eps=LN_EPS)
            outs.append(x)
        return outs, pad_mask

    # --- cross-attention K/V per decoder layer, [B, h, S', hs], plus additive mask [B,1,1,S']
    def cross_states(self, enc_outs, pad_mask):
        qkv, Le = self.qkv, self.cfg["Le"]
        states = []
        for L in self.dec_layers:
            n = L["blocks"]
            mem = torch.cat([enc_outs[Le - 1 - j] for j in range(n)], dim=1) if n > 1 else enc_outs[Le - 1]
            mpad = torch.cat([pad_mask] * n, dim=1) if n > 1 else pad_mask
            B, S2, _ = mem.shape
            h = L["xheads"]
            hs = qkv // h
            k, v = F.linear(mem, L["xkv_w"], L["xkv_b"]).split(qkv, dim=-1)
            k = k.reshape(B, S2, h, hs).transpose(1, 2).contiguous()
            v = v.reshape(B, S2, h, hs).transpose(1, 2).contiguous()
            m = torch.zeros(B, 1, 1, S2, device=mem.device).masked_fill(mpad.view(B, 1, 1, S2), float("-inf"))
            states.append([k, v, m])
        return states

    # --- one decoder step: tokens [R], caches updated in place; returns log-probs [R,V] float32
    def decode_step(self, tokens, step, self_cache, cross):
        dd, qkv = self.cfg["dd"], self.qkv
        R = tokens.shape[0]
        x = self.dec_scale * F.embedding(tokens, self.dec_embed) + self.dec_pos[PAD + 1 + step]
        for i, L in enumerate(self.dec_layers):
            h = L["heads"]
            hs = qkv // h
            q, k, v = F.linear(x, L["in_w"], L["in_b"]).split(qkv, dim=-1)
            q = (q * hs ** -0.5).view(R, h, 1, hs)
            k = k.reshape(R, h, 1, hs)
            v = v.reshape(R, h, 1, hs)
            if self_cache[i] is not None:
                k = torch.cat([self_cache[i][0], k], dim=2)
                v = torch.cat([self_cache[i][1], v], dim=2)
            self_cache[i] = (k, v)
            p = torch.softmax(torch.matmul(q, k.transpose(-1, -2)), dim=-1)
            a = F.linear(torch.matmul(p, v).reshape(R, qkv), L["out_w"], L["out_b"])
            x = F.layer_norm(x + a, (dd,), *L["ln1"], eps=LN_EPS)

            h = L["xheads"]
            hs = qkv // h
            ck, cv, cm = cross[i]
            q = (F.linear(x, L["xq_w"], L["xq_b"]) * hs ** -0.5).view(R, h, 1, hs)
            p = torch.softmax(torch.matmul(q, ck.transpose(-1, -2)) + cm, dim=-1)
            a = F.linear(torch.matmul(p, cv).reshape(R, qkv), L["xout_w"], L["xout_b"])
            x = F.layer_norm(x + a, (dd,), *L["ln3"], eps=LN_EPS)

            y = F.linear(F.relu(F.linear(x, *L["fc1"])), *L["fc2"])
            x = F.layer_norm(x + y, (dd,), *L["ln2"], eps=LN_EPS)
        return F.log_softmax(F.linear(x, self.dec_embed), dim=-1)
