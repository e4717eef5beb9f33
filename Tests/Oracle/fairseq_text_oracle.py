"""HAT's text pipeline in Python, for FairseqTextCodec: sacremoses + subword-nmt + a fairseq dictionary.

Usage: fairseq_text_oracle.py WORKDIR SHARED_DATA_DIR

On Multi30k (de-en): Moses-tokenizes the first 5,000 training lines per language (sacremoses,
aggressive dash splits, escaping, as HAT's prepare scripts), learns 2,000 joint BPE merges
(subword-nmt learn_bpe), segments the training lines and writes fairseq dictionaries from them
(dict.LANG.txt: "symbol count", most frequent first; id = 4 + line number). Then for every
validation line: the ids fairseq's encode_line gives (whitespace split, unknown -> 3, eos 2
appended) and the text of those ids decoded the fairseq way (symbols joined, "@@ " removed,
Moses-detokenized). Writes WORKDIR/codes, WORKDIR/dict.{de,en}.txt and WORKDIR/result.json:
{"LANG": {"lines": [...], "ids": [[...]], "decoded": [...]}}.
"""
import collections, gzip, io, json, os, sys

from sacremoses import MosesDetokenizer, MosesTokenizer
from subword_nmt import apply_bpe, learn_bpe

work, shared = sys.argv[1:3]
os.makedirs(work, exist_ok=True)
langs = ["de", "en"]
def read(split, lang, n=None):
    with gzip.open(os.path.join(shared, "multi30k", f"{split}.{lang}.gz"), "rt", encoding="utf-8") as f:
        lines = [l.rstrip("\n") for l in f]
    return lines[:n] if n else lines
tok = {l: MosesTokenizer(lang=l) for l in langs}
detok = {l: MosesDetokenizer(lang=l) for l in langs}
train = {l: [tok[l].tokenize(x, aggressive_dash_splits=True, return_str=True, escape=True) for x in read("train", l, 5000)] for l in langs}
codes_io = io.StringIO()
learn_bpe.learn_bpe(io.StringIO("\n".join(train["de"] + train["en"]) + "\n"), codes_io, 2000)
with open(os.path.join(work, "codes"), "w", encoding="utf-8") as f:
    f.write(codes_io.getvalue())
bpe = apply_bpe.BPE(io.StringIO(codes_io.getvalue()))
result = {}
for l in langs:
    counts = collections.Counter(w for line in train[l] for w in bpe.process_line(line).split())
    symbols = [w for w, _ in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
    with open(os.path.join(work, f"dict.{l}.txt"), "w", encoding="utf-8") as f:
        for w in symbols:
            f.write(f"{w} {counts[w]}\n")
    index = {w: 4 + i for i, w in enumerate(symbols)}
    table = ["<s>", "<pad>", "</s>", "<unk>"] + symbols
    lines = read("val", l)
    ids, decoded = [], []
    for line in lines:
        segmented = bpe.process_line(tok[l].tokenize(line, aggressive_dash_splits=True, return_str=True, escape=True))
        row = [index.get(w, 3) for w in segmented.split()] + [2]
        ids.append(row)
        text = " ".join(table[i] for i in row if i not in (0, 1, 2))
        text = (text + " ").replace("@@ ", "").rstrip()
        decoded.append(detok[l].detokenize(text.split()))
    result[l] = {"lines": lines, "ids": ids, "decoded": decoded}
with open(os.path.join(work, "result.json.tmp"), "w", encoding="utf-8") as f:
    json.dump(result, f, ensure_ascii=False)
os.replace(os.path.join(work, "result.json.tmp"), os.path.join(work, "result.json"))
print(json.dumps({l: len(result[l]["ids"]) for l in langs}))
