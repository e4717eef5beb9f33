"""PyTorch side of the SubTransformer training-step benchmark (benchmarks/subtransformer.sh).

A fairseq-style implementation of the same weight-shared SubTransformer as the Swift
SuperTransformer (post-norm, packed in-projection corners, arbitrary encoder-decoder
attention, tied output projection, label-smoothed CE), written for speed: F.linear on corner
views, F.layer_norm, fused dropout. One step = forward + backward + Adam update.

usage: subtransformer_torch.py SPACE_JSON [bf16]  (SPACE_JSON: what the Swift benchmark prints as
"setup"; bf16: the forward pass under torch.autocast("cpu", bfloat16), PyTorch's mixed precision,
the counterpart of `hat train --bf16`)
"""
import json, math, sys, time
import torch
import torch.nn.functional as F

torch.set_num_threads(2)
torch.manual_seed(0)
setup = json.loads(sys.argv[1])
autocast = len(sys.argv) > 2 and sys.argv[2] == "bf16"
space, sub = setup["space"], setup["config"]
B, S, T = setup["batch"], setup["source_length"], setup["target_length"]
Vs, Vt, qkv = setup["source_vocab"], setup["target_vocab"], space["qkvDim"]
De, Dd, Fe, Fd = space["encoderEmbedDim"], space["decoderEmbedDim"], space["encoderFFNDim"], space["decoderFFNDim"]
drop, attn_drop = setup["dropout"], setup["attention_dropout"]

def param(*shape, std=0.05):
    return (torch.randn(*shape) * std).requires_grad_()

P = {"enc_emb": param(Vs, De), "dec_emb": param(Vt, Dd)}
def layer(prefix, d, f, cross):
    P[prefix + "in_w"], P[prefix + "in_b"] = param(3 * qkv, d), param(3 * qkv)
    P[prefix + "out_w"], P[prefix + "out_b"] = param(d, qkv), param(d)
    P[prefix + "ln1_w"], P[prefix + "ln1_b"] = param(d), param(d)
    if cross:
        P[prefix + "x_in_w"], P[prefix + "x_in_b"] = param(3 * qkv, max(De, Dd)), param(3 * qkv)
        P[prefix + "x_out_w"], P[prefix + "x_out_b"] = param(d, qkv), param(d)
        P[prefix + "ln3_w"], P[prefix + "ln3_b"] = param(d), param(d)
    P[prefix + "fc1_w"], P[prefix + "fc1_b"] = param(f, d), param(f)
    P[prefix + "fc2_w"], P[prefix + "fc2_b"] = param(d, f), param(d)
    P[prefix + "ln2_w"], P[prefix + "ln2_b"] = param(d), param(d)
for i in range(space["encoderLayers"]):
    layer(f"e{i}.", De, Fe, False)
for i in range(space["decoderLayers"]):
    layer(f"d{i}.", Dd, Fd, True)

def sinusoid(n, dim):
    half = dim // 2
    freq = torch.exp(torch.arange(half) * -(math.log(10000.0) / (half - 1)))
    ang = torch.arange(n).unsqueeze(1) * freq
    return torch.cat([torch.sin(ang), torch.cos(ang)], 1)

pos_e, pos_d = sinusoid(S + 2, De)[2:S + 2], sinusoid(T + 2, Dd)[2:T + 2]

def mha(xq, xkv, w, b, ow, ob, heads, dq, dkv, dout, mask):
    hd = qkv // heads
    q = F.linear(xq, w[:qkv, :dq], b[:qkv]) * hd ** -0.5
    kv = F.linear(xkv, w[qkv:, :dkv], b[qkv:])
    k, v = kv.split(qkv, -1)
    Bq, Tq, Sk = xq.shape[0], xq.shape[1], xkv.shape[1]
    q = q.view(Bq, Tq, heads, hd).transpose(1, 2)
    k = k.view(Bq, Sk, heads, hd).transpose(1, 2)
    v = v.view(Bq, Sk, heads, hd).transpose(1, 2)
    p = torch.softmax(q @ k.transpose(-1, -2) + mask, -1)
    p = F.dropout(p, attn_drop, True)
    o = (p @ v).transpose(1, 2).reshape(Bq, Tq, qkv)
    return F.linear(o, ow[:dout, :], ob[:dout])

opt = torch.optim.Adam(list(P.values()), lr=1e-4, betas=(0.9, 0.98))

def forward_loss(src, prev, tgt):
    de, dd = sub["encoderEmbedDim"], sub["decoderEmbedDim"]
    x = F.dropout(P["enc_emb"][:, :de][src] * math.sqrt(de) + pos_e[:, :de], drop, True)
    causal = torch.triu(torch.full((T, T), float("-inf")), 1)
    zero_mask = torch.zeros(1, 1, 1, S)
    outs = []
    for i in range(sub["encoderLayerNum"]):
        p, f = f"e{i}.", sub["encoderFFNDims"][i]
        a = mha(x, x, P[p + "in_w"], P[p + "in_b"], P[p + "out_w"], P[p + "out_b"], sub["encoderSelfAttentionHeads"][i], de, de, de, zero_mask)
        x = F.layer_norm(x + F.dropout(a, drop, True), (de,), P[p + "ln1_w"][:de], P[p + "ln1_b"][:de])
        h = F.linear(F.relu(F.linear(x, P[p + "fc1_w"][:f, :de], P[p + "fc1_b"][:f])), P[p + "fc2_w"][:de, :f], P[p + "fc2_b"][:de])
        x = F.layer_norm(x + F.dropout(h, drop, True), (de,), P[p + "ln2_w"][:de], P[p + "ln2_b"][:de])
        outs.append(x)
    y = F.dropout(P["dec_emb"][:, :dd][prev] * math.sqrt(dd) + pos_d[:, :dd], drop, True)
    for i in range(sub["decoderLayerNum"]):
        p, f = f"d{i}.", sub["decoderFFNDims"][i]
        n = {-1: 1, 1: 2, 2: 3}[sub["decoderArbitraryAttention"][i]]
        mem = torch.cat([outs[-1 - j] for j in range(n)], 1)
        a = mha(y, y, P[p + "in_w"], P[p + "in_b"], P[p + "out_w"], P[p + "out_b"], sub["decoderSelfAttentionHeads"][i], dd, dd, dd, causal)
        y = F.layer_norm(y + F.dropout(a, drop, True), (dd,), P[p + "ln1_w"][:dd], P[p + "ln1_b"][:dd])
        c = mha(y, mem, P[p + "x_in_w"], P[p + "x_in_b"], P[p + "x_out_w"], P[p + "x_out_b"], sub["decoderCrossAttentionHeads"][i], dd, de, dd,
                torch.zeros(1, 1, 1, S * n))
        y = F.layer_norm(y + F.dropout(c, drop, True), (dd,), P[p + "ln3_w"][:dd], P[p + "ln3_b"][:dd])
        h = F.linear(F.relu(F.linear(y, P[p + "fc1_w"][:f, :dd], P[p + "fc1_b"][:f])), P[p + "fc2_w"][:dd, :f], P[p + "fc2_b"][:dd])
        y = F.layer_norm(y + F.dropout(h, drop, True), (dd,), P[p + "ln2_w"][:dd], P[p + "ln2_b"][:dd])
    logits = F.linear(y, P["dec_emb"][:, :dd])
    return F.cross_entropy(logits.view(-1, Vt).float(), tgt.view(-1), label_smoothing=0.1, reduction="sum")

def step(src, prev, tgt):
    with torch.autocast("cpu", dtype=torch.bfloat16, enabled=autocast):
        loss = forward_loss(src, prev, tgt)
    (loss / (B * T)).backward()
    opt.step()
    opt.zero_grad(set_to_none=True)
    return loss

src = torch.randint(4, Vs, (B, S)); prev = torch.randint(4, Vt, (B, T)); tgt = torch.randint(4, Vt, (B, T))
for _ in range(setup.get("warmup", 2)):
    step(src, prev, tgt)
times = []
for _ in range(setup["repeats"]):
    t0 = time.perf_counter(); step(src, prev, tgt); times.append((time.perf_counter() - t0) * 1e3)
ms = sorted(times)[len(times) // 2]
print(json.dumps({"bench": "subtransformer_step", "impl": "torch", "which": setup["which"], "ms": ms,
                  "precision": "bfloat16 (autocast)" if autocast else "float32", "target_tokens_per_s": B * T / ms * 1e3}))
