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
import json
import os
import sys
import time

import torch

# The SubTransformer itself is the one the PyTorch latency measurer runs.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "measurers"))
from torch_subtransformer import BOS, EOS, MAX_POSITIONS, PAD, SubModel, parse_hat_yaml, sub_config  # noqa: E402,F401


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
