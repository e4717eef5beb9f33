"""PyTorch baseline for the translation-speed benchmark (`hat test` vs. fairseq-style inference).

Loads a `hat` checkpoint (safetensors, tensors `model.<name>`, metadata `state`), builds the
SubTransformer given by a HAT YAML file as contiguous corner weights (what a fairseq export of
the subnet would hold), and translates a dataset split with fairseq-style incremental beam
search: cached cross-attention K/V per decoder layer (computed once per batch), self-attention
K/V caches appended each step and reordered with index_select, finished sentences removed from
the batch. Semantics follow Tests/Oracle/subtransformer_oracle.py and hat-reference.md §1-3;
the search follows fairseq's SequenceGenerator (and `hat`'s BeamSearch.swift):
  - candidates: top 2*beam (hypothesis, token) pairs by cumulative log-probability;
    at step 0 only the first beam of each sentence is expanded;
  - an eos among the top `beam` candidates finishes a hypothesis with score
    cum_logprob / (tokens incl. eos) ** lenpen; the best `beam` non-eos candidates continue;
  - pad and bos are never generated; eos not before step min_len (1);
  - a sentence is done with `beam` finished hypotheses or at its max length
    int(max_len_a * src_len) + max_len_b (src_len counts eos; per sentence), where only eos is
    allowed.
Cumulative scores are kept in float64 (as the Swift search does); log-probs are float32.

usage: translate_torch.py --checkpoint CKPT.safetensors --subtransformer SUB.yml --data DIR
       [--split test] [--beam 5] [--lenpen 0.6] [--max-len-a 1.2] [--max-len-b 10]
       [--batch-sentences 32] [--limit N] [--threads 2] [--out HYP.txt]
Prints one JSON line: {"impl": "torch", "sentences", "seconds", "sentences_per_s", "bleu"}.
Timed like `hat test` (Translator.translate): SentencePiece encoding, sorting, batched beam
search and decoding to text; model loading, file reading and BLEU are not timed.
"""
import argparse
import ast
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F
from safetensors import safe_open

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

    def __init__(self, ckpt_path, cfg):
        with safe_open(ckpt_path, framework="pt") as f:
            meta = f.metadata() or {}
            state = json.loads(meta["state"])
            P = {k[len("model."):]: f.get_tensor(k).float() for k in f.keys() if k.startswith("model.")}
        space = state["space"]
        self.state = state
        self.cfg = cfg
        self.qkv = qkv = int(space["qkvDim"])
        de, dd, Le, Ld = cfg["de"], cfg["dd"], cfg["Le"], cfg["Ld"]
        if de > space["encoderEmbedDim"] or dd > space["decoderEmbedDim"]:
            raise ValueError("sub embed dim larger than super")
        if Le > space["encoderLayers"] or Ld > space["decoderLayers"]:
            raise ValueError("sub layer count larger than super")
        for i, a in enumerate(cfg["arb"]):
            if {-1: 1, 1: 2, 2: 3}[a] > Le:
                raise ValueError(f"decoder layer {i}: arbitrary attention {a} needs more encoder layers")
        c = lambda t: t.contiguous().clone()
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
        add_mask = torch.zeros(B, 1, 1, S).masked_fill(pad_mask.view(B, 1, 1, S), float("-inf"))
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
            m = torch.zeros(B, 1, 1, S2).masked_fill(mpad.view(B, 1, 1, S2), float("-inf"))
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


# ----------------------------------------------------------------------------- search

def beam_search(model, sources, beam, lenpen, max_len_a, max_len_b, min_len=1):
    """sources: list of id lists (ending in eos). Returns the best hypothesis (ids, no eos) of each."""
    k = beam
    B = len(sources)
    S = max(len(s) for s in sources)
    src = torch.full((B, S), PAD, dtype=torch.long)
    for b, s in enumerate(sources):
        src[b, :len(s)] = torch.tensor(s, dtype=torch.long)
    max_lens = torch.tensor([min(int(max_len_a * len(s)) + max_len_b, MAX_POSITIONS - 1) for s in sources])

    enc_outs, pad_mask = model.encode(src)
    cross = model.cross_states(enc_outs, pad_mask)
    # expand to B*k rows (row r belongs to sentence r // k)
    expand = torch.arange(B).repeat_interleave(k)
    for st in cross:
        for j in range(3):
            st[j] = st[j].index_select(0, expand)
    self_cache = [None] * len(model.dec_layers)

    active = torch.arange(B)  # original sentence index of each active slot
    scores = torch.zeros(B, k, dtype=torch.float64)
    scores[:, 1:] = float("-inf")  # step 0: only the first beam of each sentence
    tokens = torch.full((B * k,), EOS, dtype=torch.long)
    history = torch.zeros(B * k, 0, dtype=torch.long)
    finished = [[] for _ in range(B)]  # (score, token list)
    nfin = torch.zeros(B, dtype=torch.long)
    ranks = torch.arange(2 * k)
    step = 0
    while True:
        Ba = active.numel()
        lprobs = model.decode_step(tokens, step, self_cache, cross)  # [Ba*k, V] float32
        V = lprobs.shape[1]
        lprobs[:, PAD] = float("-inf")
        lprobs[:, BOS] = float("-inf")
        if step < min_len:
            lprobs[:, EOS] = float("-inf")
        force = max_lens[active] <= step  # [Ba]
        if bool(force.any()):
            rows = force.repeat_interleave(k)
            eos_col = lprobs[rows, EOS].clone()
            lprobs[rows] = float("-inf")
            lprobs[rows, EOS] = eos_col
        cand = scores.unsqueeze(2) + lprobs.view(Ba, k, V).to(torch.float64)
        top_scores, top_idx = torch.topk(cand.view(Ba, k * V), 2 * k, dim=1)
        top_beam = torch.div(top_idx, V, rounding_mode="floor")
        top_tok = top_idx % V
        valid = top_scores > float("-inf")
        is_eos = top_tok.eq(EOS) & valid

        # finalize: eos among the top k, while the sentence has fewer than k finished
        fin_mask = is_eos & (ranks[:k + k] < k)
        if bool(fin_mask.any()):
            room = (k - nfin[active]).unsqueeze(1)
            fin_mask &= torch.cumsum(fin_mask.long(), dim=1) <= room
            for slot, r in fin_mask.nonzero().tolist():
                sent = int(active[slot])
                bsrc = int(top_beam[slot, r])
                sc = float(top_scores[slot, r])
                hyp = history[slot * k + bsrc].tolist()
                finished[sent].append((sc / (len(hyp) + 1) ** lenpen, hyp))
            nfin.index_add_(0, active, fin_mask.long().sum(1))

        # continuing: the best k valid non-eos candidates
        cont = valid & ~is_eos
        n_cont = cont.long().sum(1)
        order = torch.where(cont, ranks, ranks + 2 * k)
        sel = torch.topk(order, k, dim=1, largest=False).values  # rank positions, ascending
        sel = sel.clamp(max=2 * k - 1)
        sel_ok = torch.arange(k).unsqueeze(0) < n_cont.unsqueeze(1)
        # fewer than k continuations: repeat the best one with score -inf
        sel = torch.where(sel_ok, sel, sel[:, :1])
        new_scores = top_scores.gather(1, sel).masked_fill(~sel_ok, float("-inf"))
        new_beam = top_beam.gather(1, sel)
        new_tok = top_tok.gather(1, sel)

        done = (nfin[active] >= k) | force | (n_cont == 0)
        keep = (~done).nonzero().squeeze(1)
        if keep.numel() == 0:
            break
        rows = (keep.unsqueeze(1) * k + new_beam[keep]).reshape(-1)  # old global rows
        for i, (ck, cv) in enumerate(self_cache):
            self_cache[i] = (ck.index_select(0, rows), cv.index_select(0, rows))
        if keep.numel() != Ba:  # cross K/V only change when sentences leave the batch
            krows = (keep.unsqueeze(1) * k + torch.arange(k)).reshape(-1)
            for st in cross:
                for j in range(3):
                    st[j] = st[j].index_select(0, krows)
        history = torch.cat([history.index_select(0, rows), new_tok[keep].reshape(-1, 1)], dim=1)
        tokens = new_tok[keep].reshape(-1)
        scores = new_scores[keep]
        active = active[keep]
        step += 1

    best = []
    for f in finished:
        if not f:
            best.append([])
        else:
            best.append(max(f, key=lambda t: t[0])[1])  # max keeps the first of equal scores
    return best


# ----------------------------------------------------------------------------- main

def load_vocab(data_dir, lang):
    import sentencepiece as spm
    for name in (f"spm.{lang}.model", "spm.model"):
        p = os.path.join(data_dir, name)
        if os.path.exists(p):
            return spm.SentencePieceProcessor(model_file=p)
    raise FileNotFoundError(f"no spm.model or spm.{lang}.model in {data_dir}")


def read_lines(path):
    with open(path, encoding="utf-8") as f:
        return [line.rstrip("\n") for line in f]


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--checkpoint", required=True)
    ap.add_argument("--subtransformer", required=True)
    ap.add_argument("--data", default=None, help="dataset dir (default: the checkpoint's)")
    ap.add_argument("--split", default="test")
    ap.add_argument("--beam", type=int, default=5)
    ap.add_argument("--lenpen", type=float, default=0.6)
    ap.add_argument("--max-len-a", type=float, default=1.2)
    ap.add_argument("--max-len-b", type=int, default=10)
    ap.add_argument("--batch-sentences", type=int, default=32)
    ap.add_argument("--limit", type=int, default=None)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)

    cfg = sub_config(parse_hat_yaml(args.subtransformer))
    model = SubModel(args.checkpoint, cfg)
    data_dir = args.data or model.state.get("data")
    with open(os.path.join(data_dir, "manifest.json")) as f:
        manifest = json.load(f)
    sl, tl = manifest["sourceLanguage"], manifest["targetLanguage"]
    src_vocab, tgt_vocab = load_vocab(data_dir, sl), load_vocab(data_dir, tl)
    sources = read_lines(os.path.join(data_dir, f"{args.split}.{sl}.txt"))
    refs = read_lines(os.path.join(data_dir, f"{args.split}.{tl}.txt"))
    if args.limit is not None:
        sources, refs = sources[:args.limit], refs[:args.limit]

    # Timed: SentencePiece encoding, batching, search, decoding to text (as `hat test` times
    # Translator.translate); model loading and BLEU are not timed.
    with torch.inference_mode():
        start = time.perf_counter()
        encoded = [src_vocab.encode(s, out_type=int) + [EOS] for s in sources]
        order = sorted(range(len(encoded)), key=lambda i: len(encoded[i]))  # stable, as Swift's sort
        hyps = [""] * len(encoded)
        for b0 in range(0, len(order), args.batch_sentences):
            chunk = order[b0:b0 + args.batch_sentences]
            best = beam_search(model, [encoded[i] for i in chunk], args.beam, args.lenpen,
                               args.max_len_a, args.max_len_b)
            for i, ids in zip(chunk, best):
                hyps[i] = tgt_vocab.decode(ids)
        seconds = time.perf_counter() - start

    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write("\n".join(hyps) + "\n")
        os.replace(tmp, args.out)
    import sacrebleu
    bleu = sacrebleu.corpus_bleu(hyps, [refs]).score
    print(json.dumps({"impl": "torch", "sentences": len(hyps), "seconds": round(seconds, 4),
                      "sentences_per_s": round(len(hyps) / seconds, 3), "bleu": round(bleu, 2)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
