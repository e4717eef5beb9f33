"""Moses tokenizer/detokenizer oracle for the data tests: the reference sacremoses
(`pip install sacremoses`) on the same lines the Swift port reads.

Usage: moses_oracle.py LANG INPUT.txt OUTPUT.json [PLAIN_LINES]
  INPUT.txt: one sentence per line, "\n"-separated (read with newline="" so "\r" inside a line
  stays as it is).
  OUTPUT.json: {"version": sacremoses version,
                "tokenized": [tokenize(line, aggressive_dash_splits=True, escape=True, return_str=True)],
                "detokenized": [detokenize(tokenized.split())],
                "plain": [tokenize(line, aggressive_dash_splits=False, escape=False, return_str=True)]
                         for the first PLAIN_LINES lines (default 5000),
                "detokenized_escaped": [MosesDetokenizer(lang).detokenize(line.split(), unescape=False)]
                         for the first PLAIN_LINES tokenized lines}
  Written atomically.
"""
import json
import os
import sys

import sacremoses
from sacremoses import MosesDetokenizer, MosesTokenizer


def main():
    lang, source, output = sys.argv[1:4]
    plain_lines = int(sys.argv[4]) if len(sys.argv) > 4 else 5000
    with open(source, encoding="utf-8", newline="") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    tok = MosesTokenizer(lang=lang)
    detok = MosesDetokenizer(lang=lang)
    tokenized = [tok.tokenize(l, aggressive_dash_splits=True, escape=True, return_str=True) for l in lines]
    result = {
        "version": getattr(sacremoses, "__version__", "unknown"),
        "tokenized": tokenized,
        "detokenized": [detok.detokenize(t.split()) for t in tokenized],
        "plain": [tok.tokenize(l, aggressive_dash_splits=False, escape=False, return_str=True) for l in lines[:plain_lines]],
        "detokenized_escaped": [detok.detokenize(t.split(), unescape=False) for t in tokenized[:plain_lines]],
    }
    tmp = output + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False)
    os.replace(tmp, output)


if __name__ == "__main__":
    main()
