"""fairseq Dictionary oracle for the data tests.

fairseq itself is not installed in the oracle environment (its wheel pins hydra/omegaconf and a
torch of its own, which would change the shared environment), so this script implements, from
fairseq's documented dictionary format and behaviour, the few operations `hat` ports:

  - a dict.LANG.txt as `fairseq-preprocess` writes it: the special symbols <s>=0, <pad>=1,
    </s>=2, <unk>=3 are not in the file; then the other symbols by count, highest first, ties in
    code-point order, counts below the threshold dropped, padded to a multiple of 8 with
    madeupword0000, madeupword0001, ... (count 0); one "symbol count" line each;
  - loading such a file: each line is "<token> <count>" split at its last space, optionally
    followed by " #fairseq:overwrite" (the token then gets a new id even if present);
  - encode_line(add_if_not_exist=False, append_eos=True): whitespace-split tokens to ids,
    unknown -> 3, then 2;
  - string(ids, bpe_symbol, escape_unk, include_eos): drop </s> (unless include_eos) and <s>,
    <unk> as "<unk>" ("<<unk>>" escaped), join with spaces; bpe "@@ " removed as
    (s + " ").replace("@@ ", "").rstrip().

Usage: fairseq_dict_oracle.py INPUT.txt WORKDIR
  INPUT.txt: Moses-tokenized lines. Words longer than 6 characters are split after their third
  character with subword-nmt's "@@ " (a stand-in for BPE, so bpe removal has work to do). The
  dictionary is built from the first 4,000 such lines (threshold 2), then four lines are
  appended: an overwrite of an existing token, an overwrite of a new token, a token with a space
  in it, and "é" and "e\u0301" (different code points, canonically equal).
  WORKDIR/dict.txt and WORKDIR/result.json: {"dict", "symbols", "lines", "ids", "plain",
  "no_bpe", "escaped_unk", "with_eos"}. Written atomically.
"""
import json
import os
import sys

SPECIALS = ["<s>", "<pad>", "</s>", "<unk>"]


def stand_in_bpe(line):
    out = []
    for w in line.split():
        out.extend([w[:3] + "@@", w[3:]] if len(w) > 6 else [w])
    return " ".join(out)


def build(lines, threshold=2, padding=8):
    counts = {}
    for line in lines:
        for tok in line.split():
            counts[tok] = counts.get(tok, 0) + 1
    entries = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    entries = [(s, c) for s, c in entries if c >= threshold and s not in SPECIALS]
    n = len(SPECIALS) + len(entries)
    i = 0
    while n % padding:
        entries.append(("madeupword%04d" % i, 0))
        i += 1
        n += 1
    return entries


class Dictionary:
    def __init__(self, path):
        self.symbols = list(SPECIALS)
        self.index_of = {s: i for i, s in enumerate(SPECIALS)}
        with open(path, encoding="utf-8") as f:
            for line in f.readlines():
                word, field = line.rstrip().rsplit(" ", 1)
                overwrite = field == "#fairseq:overwrite"
                if overwrite:
                    word, field = word.rsplit(" ", 1)
                int(field)
                assert overwrite or word not in self.index_of, word
                self.index_of[word] = len(self.symbols)
                self.symbols.append(word)

    def encode(self, line):
        return [self.index_of.get(t, 3) for t in line.split()] + [2]

    def string(self, ids, bpe=False, escape_unk=False, include_eos=False):
        skip = {0} | (set() if include_eos else {2})
        words = []
        for i in ids:
            if i in skip:
                continue
            if i == 3:
                words.append("<<unk>>" if escape_unk else "<unk>")
            else:
                words.append(self.symbols[i] if i < len(self.symbols) else "<unk>")
        s = " ".join(words)
        return (s + " ").replace("@@ ", "").rstrip() if bpe else s


def main():
    source, workdir = sys.argv[1:3]
    with open(source, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    bpe_lines = [stand_in_bpe(l) for l in lines]
    entries = build(bpe_lines[:4000])
    existing = entries[5][0]
    path = os.path.join(workdir, "dict.txt")
    with open(path, "w", encoding="utf-8") as f:
        for s, c in entries:
            f.write("%s %d\n" % (s, c))
        f.write("%s 99 #fairseq:overwrite\n" % existing)
        f.write("brand-new 5 #fairseq:overwrite\n")
        f.write("two words 3\n")
        f.write("\u00e9 2\ne\u0301 2\n")
    d = Dictionary(path)
    ids = [d.encode(l) for l in bpe_lines]
    ids[0] = ids[0][:-1] + [0, 1, 3, len(d.symbols) + 5, 2]  # bos, pad, unk, past the end
    result = {
        "dict": path,
        "symbols": d.symbols,
        "lines": bpe_lines,
        "ids": ids,
        "plain": [d.string(i) for i in ids],
        "no_bpe": [d.string(i, bpe=True) for i in ids],
        "escaped_unk": [d.string(i, escape_unk=True) for i in ids],
        "with_eos": [d.string(i, include_eos=True) for i in ids],
    }
    out = os.path.join(workdir, "result.json")
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
