"""A fairseq data-bin folder shaped like HAT's WMT'14 En-De one (joint dictionary of 32,768 symbols,
mmap index, uint16 ids), made the way HAT's preparation makes it, for the WMT-scale README path:
Moses tokenization with aggressive hyphen splitting (sacremoses), subword-nmt BPE learned on
Multi30k's training text (both languages together), a joint fairseq dictionary of the BPE pieces
sorted by count (fairseq's order), padded to 32,768 with fairseq's "madeupword" fillers, and the
first N validation pairs binarized as fairseq-preprocess writes them (ids + eos).

Usage: make_wmt_databin.py MULTI30K_DIR OUT_DIR [N=1000]
"""
import collections, gzip, io, os, struct, sys

import numpy as np
from sacremoses import MosesTokenizer
from subword_nmt.learn_bpe import learn_bpe
from subword_nmt.apply_bpe import BPE

src_dir, out = sys.argv[1], sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 1000
os.makedirs(out, exist_ok=True)
def lines(name):
    with gzip.open(os.path.join(src_dir, name), "rt", encoding="utf-8") as f:
        return [l.rstrip("\n") for l in f]
tok = {lang: MosesTokenizer(lang=lang) for lang in ("en", "de")}
def moses(lang, text):
    return [tok[lang].tokenize(l, aggressive_dash_splits=True, return_str=True, escape=True) for l in text]

train = {lang: moses(lang, lines(f"train.{lang}.gz")) for lang in ("en", "de")}
valid = {lang: moses(lang, lines(f"val.{lang}.gz"))[:n] for lang in ("en", "de")}
codes = io.StringIO()
learn_bpe(io.StringIO("\n".join(train["en"] + train["de"]) + "\n"), codes, num_symbols=10000, min_frequency=2)
codes_text = codes.getvalue()
with open(os.path.join(out, "code"), "w", encoding="utf-8") as f:
    f.write(codes_text)
bpe = BPE(io.StringIO(codes_text))
segment = lambda text: [bpe.process_line(l) for l in text]
train_bpe = {lang: segment(t) for lang, t in train.items()}
valid_bpe = {lang: segment(t) for lang, t in valid.items()}

# fairseq's Dictionary: <s> <pad> </s> <unk>, then symbols by count (descending), ties alphabetical;
# fairseq pads the table to a multiple of 8 with madeupwordNNNN; HAT's WMT table has 32,768 rows.
counts = collections.Counter(w for t in train_bpe.values() for l in t for w in l.split())
symbols = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
size = 32768
fill = [(f"madeupword{i:04d}", 0) for i in range(size - 4 - len(symbols))]
table = symbols + fill
for lang in ("en", "de"):
    with open(os.path.join(out, f"dict.{lang}.txt"), "w", encoding="utf-8") as f:
        f.writelines(f"{w} {c}\n" for w, c in table)
index = {w: i + 4 for i, (w, _) in enumerate(table)}

def write_mmap(prefix, sentences):
    with open(prefix + ".bin", "wb") as f:
        for x in sentences: f.write(np.array(x, dtype=np.uint16).tobytes())
    pointers = np.cumsum([0] + [2 * len(x) for x in sentences[:-1]]).astype(np.int64)
    with open(prefix + ".idx", "wb") as f:
        f.write(b"MMIDIDX\x00\x00" + struct.pack("<Q", 1) + struct.pack("<B", 8) + struct.pack("<Q", len(sentences)))
        f.write(np.array([len(x) for x in sentences], dtype=np.int32).tobytes() + pointers.tobytes())
for lang in ("en", "de"):
    ids = [[index.get(w, 3) for w in l.split()] + [2] for l in valid_bpe[lang]]
    write_mmap(os.path.join(out, f"valid.en-de.{lang}"), ids)
tokens = sum(len(l.split()) + 1 for l in valid_bpe["de"])
print(f"{out}: {len(symbols)} BPE symbols + {len(fill)} fillers, valid {n} pairs, {tokens} target tokens")
